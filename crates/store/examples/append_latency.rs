//! Measures how long a dispatch command waits for its journal write: appends
//! 2,000 single-entry commands (each its own transaction and fsync, as an
//! "incident created" is acknowledged only after that) and prints the p50,
//! p99 and max latency of `Journal::append`, against the p99 <= 20 ms target.
//! Then the same number of entries as group commits of 10, for comparison.
//!
//! Run: `cargo run --release -p satria-store --example append_latency [DIR]`
//! (DIR defaults to a fresh temporary directory; give a path on the disk the
//! journal will live on, since fsync cost is a property of that disk).

use std::time::{Duration, Instant};

use satria_store::{Journal, NewEntry};

const COMMANDS: usize = 2_000;
const GROUP: usize = 10;

fn incident(i: usize) -> NewEntry {
    // About the size of a real IncidentCreated event.
    let payload = format!(
        concat!(
            "{{\"incident_id\":\"INC-{:06}\",\"category\":\"merah\",",
            "\"caller\":\"+62 812-0000-{:04}\",\"lat\":-7.4{:04},\"lon\":109.2{:04},",
            "\"desa\":\"Karangwangkal\",\"kecamatan\":\"Purwokerto Utara\",",
            "\"complaint\":\"sesak napas, tidak sadar\",\"triage\":\"P1\"}}"
        ),
        i,
        i % 10_000,
        i % 9_973,
        i % 9_967
    );
    NewEntry::new("IncidentCreated", payload, 1_790_000_000_000 + i as i64)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

/// Prints p50/p99/max of `samples` and returns the p99.
fn report(label: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let p99 = percentile(&samples, 0.99);
    println!(
        "{label}: n={} p50={:.3} ms p99={:.3} ms max={:.3} ms",
        samples.len(),
        ms(percentile(&samples, 0.50)),
        ms(p99),
        ms(*samples.last().unwrap()),
    );
    p99
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tmp;
    let dir = match std::env::args_os().nth(1) {
        Some(d) => std::path::PathBuf::from(d),
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let mut journal = Journal::open(&dir)?;
    println!("journal: {}", journal.path().display());

    let mut single = Vec::with_capacity(COMMANDS);
    let start = Instant::now();
    for i in 0..COMMANDS {
        let e = [incident(i)];
        let t = Instant::now();
        journal.append("region:banyumas", &e)?;
        single.push(t.elapsed());
    }
    let total = start.elapsed();
    let p99 = report("single-entry append (1 fsync each)", single);
    println!(
        "  {:.0} commands/s sequentially; target p99 <= 20 ms: {}",
        COMMANDS as f64 / total.as_secs_f64(),
        if p99 <= Duration::from_millis(20) {
            "met"
        } else {
            "MISSED"
        }
    );

    let mut grouped = Vec::with_capacity(COMMANDS / GROUP);
    let start = Instant::now();
    for g in 0..COMMANDS / GROUP {
        let batch: Vec<(&str, Vec<NewEntry>)> = (0..GROUP)
            .map(|k| ("region:banyumas", vec![incident(COMMANDS + g * GROUP + k)]))
            .collect();
        let t = Instant::now();
        journal.append_batch(&batch)?;
        grouped.push(t.elapsed());
    }
    let total = start.elapsed();
    report(&format!("group commit of {GROUP} commands"), grouped);
    println!(
        "  {:.0} commands/s sequentially",
        COMMANDS as f64 / total.as_secs_f64()
    );

    let t = Instant::now();
    let v = journal.verify()?;
    println!(
        "verify: {} rows in {:.1} ms, ok={}",
        v.rows,
        t.elapsed().as_secs_f64() * 1e3,
        v.is_ok()
    );
    Ok(())
}
