//! Crash test: a child process appends to a journal and acknowledges each
//! append on stdout; the parent SIGKILLs it at seeded random moments, reopens
//! the journal and checks that nothing acknowledged was lost or altered, that
//! nothing beyond the one in-flight batch appeared, and that the hash chain
//! still verifies. The child is this same test binary, re-invoked with
//! `SATRIA_STORE_CRASH_CHILD` set (so no separate binary has to be built).
//!
//! Both sides derive every batch from the same seeded RNG, so the parent knows
//! exactly which batch was in flight when the child died.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use satria_store::{Journal, NewEntry};

const CHILD_ENV: &str = "SATRIA_STORE_CRASH_CHILD";
const SEED_ENV: &str = "SATRIA_STORE_CRASH_SEED";
const MAIN: &str = "region:banyumas";
const SIDE: &str = "access";
const CYCLES: u64 = 40;

/// The payload of `stream`'s entry `seq`: derivable by the parent, and of
/// varying length so entries straddle WAL pages differently.
fn payload(stream: &str, seq: u64) -> String {
    let pad_char = (b'a' + (seq % 26) as u8) as char;
    let pad: String = std::iter::repeat_n(pad_char, (seq * 37 % 300) as usize).collect();
    format!("{{\"stream\":\"{stream}\",\"seq\":{seq},\"pad\":\"{pad}\"}}")
}

fn kind(seq: u64) -> String {
    ["IncidentCreated", "UnitAssigned", "UnitArrived"][(seq % 3) as usize].to_owned()
}

fn recorded_at(seq: u64) -> i64 {
    1_790_000_000_000 + seq as i64 * 7
}

fn entries(stream: &str, after: u64, n: u64) -> Vec<NewEntry> {
    (after + 1..=after + n)
        .map(|seq| NewEntry::new(kind(seq), payload(stream, seq), recorded_at(seq)))
        .collect()
}

/// One command's batch: `main` entries on the region stream and, for some
/// commands, `side` entries on the access stream in the same transaction.
fn draw(rng: &mut ChaCha8Rng) -> (u64, u64) {
    let main = rng.gen_range(1..=4);
    let side = if rng.gen_bool(0.25) {
        rng.gen_range(1..=2)
    } else {
        0
    };
    (main, side)
}

/// The child side: append forever (bounded in time, in case the parent dies),
/// printing `ACK <main seq> <side seq>` after each append has returned.
fn run_child(dir: &Path, seed: u64) {
    let mut journal = Journal::open(dir).expect("child opens the journal");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut main, mut side) = (journal.last_seq(MAIN), journal.last_seq(SIDE));
    let stdout = std::io::stdout();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let (n, m) = draw(&mut rng);
        if m == 0 {
            journal
                .append(MAIN, &entries(MAIN, main, n))
                .expect("append");
        } else {
            journal
                .append_batch(&[
                    (MAIN, entries(MAIN, main, n)),
                    (SIDE, entries(SIDE, side, m)),
                ])
                .expect("append_batch");
        }
        main += n;
        side += m;
        // One write of a whole line, flushed: the parent sees it as soon as
        // the append is durable, and never half a line from a live child.
        let mut out = stdout.lock();
        writeln!(out, "ACK {main} {side}").expect("stdout");
        out.flush().expect("stdout");
    }
}

/// Not a test of its own: the entry point of the child process. Does nothing
/// in a normal test run.
#[test]
fn crash_child_process() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        let seed = std::env::var(SEED_ENV).unwrap().parse().unwrap();
        run_child(Path::new(&dir), seed);
    }
}

/// Kills the child if the parent panics, so no appender outlives the test.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_child(dir: &Path, seed: u64) -> KillOnDrop {
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "crash_child_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir)
        .env(SEED_ENV, seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child");
    KillOnDrop(child)
}

/// Reads `ACK` lines from the child into a channel until its stdout closes.
fn read_acks(child: &mut Child) -> (mpsc::Receiver<(u64, u64)>, std::thread::JoinHandle<()>) {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut line = String::new();
        loop {
            line.clear();
            match r.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            // A line cut short by the kill has no newline: not an ACK. The
            // harness prints "test crash_child_process ... " without a newline
            // before the child's first line, so look for the marker anywhere.
            let Some(rest) = line
                .strip_suffix('\n')
                .and_then(|l| l.find("ACK ").map(|i| &l[i + 4..]))
            else {
                continue;
            };
            let mut it = rest.split(' ').map(|x| x.parse::<u64>().unwrap());
            let _ = tx.send((it.next().unwrap(), it.next().unwrap()));
        }
    });
    (rx, reader)
}

/// Checks that `stream` holds exactly seqs 1..=`last` with the derived contents.
fn check_stream(journal: &Journal, stream: &str, last: u64) {
    let all = journal.read_all(stream).unwrap();
    assert_eq!(all.len() as u64, last, "{stream}: entry count");
    for (i, e) in all.iter().enumerate() {
        let seq = i as u64 + 1;
        assert_eq!(e.seq, seq, "{stream}: seqs contiguous from 1");
        assert_eq!(
            e.payload,
            payload(stream, seq),
            "{stream} seq {seq}: payload"
        );
        assert_eq!(e.kind, kind(seq), "{stream} seq {seq}: kind");
        assert_eq!(
            e.recorded_at_ms,
            recorded_at(seq),
            "{stream} seq {seq}: time"
        );
    }
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    if std::env::var(CHILD_ENV).is_ok() {
        return; // we are a child: only crash_child_process runs there.
    }
    let dir = tempfile::tempdir().unwrap();
    let mut kills = ChaCha8Rng::seed_from_u64(0x5A7_1A119);
    let (mut main, mut side) = (0u64, 0u64);
    let mut torn = 0; // cycles where the in-flight batch made it to disk
    for cycle in 0..CYCLES {
        let seed = 1_000 + cycle;
        // Kill after a seeded number of ACKs (0 = while opening), plus a
        // seeded delay so the kill lands at varied points inside an append.
        let target_acks: usize = kills.gen_range(0..30);
        let delay = Duration::from_micros(kills.gen_range(0..3_000));

        let mut child = spawn_child(dir.path(), seed);
        let (acks, reader) = read_acks(&mut child.0);
        let mut seen = Vec::new();
        while seen.len() < target_acks {
            let ack = acks
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("cycle {cycle}: child stopped acknowledging"));
            seen.push(ack);
        }
        std::thread::sleep(delay);
        child.0.kill().unwrap(); // SIGKILL: no destructor, no flush, no checkpoint
        child.0.wait().unwrap();
        reader.join().unwrap();
        seen.extend(acks.try_iter());

        // Replay the child's RNG: each ACK must be the running total, and the
        // batch after the last ACK is the one that may have been in flight.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (mut m, mut s) = (main, side);
        for &ack in &seen {
            let (n, k) = draw(&mut rng);
            m += n;
            s += k;
            assert_eq!(ack, (m, s), "cycle {cycle}: ACK totals");
        }
        let (next_n, next_k) = draw(&mut rng);

        let journal = Journal::open(dir.path()).unwrap();
        let found = (journal.last_seq(MAIN), journal.last_seq(SIDE));
        assert!(
            found == (m, s) || found == (m + next_n, s + next_k),
            "cycle {cycle}: after {} ACKs expected {:?} or with the in-flight batch {:?}, found {found:?}",
            seen.len(),
            (m, s),
            (m + next_n, s + next_k)
        );
        if found != (m, s) {
            torn += 1;
        }
        (main, side) = found;
        check_stream(&journal, MAIN, main);
        check_stream(&journal, SIDE, side);
        let report = journal.verify().unwrap();
        assert!(report.is_ok(), "cycle {cycle}: {report:?}");
        assert_eq!(report.rows, main + side);
        drop(journal);
        assert!(Journal::verify_dir(dir.path()).unwrap().is_ok());
    }
    assert!(main > 0, "the children appended something");
    eprintln!(
        "crash test: {CYCLES} kills, {main} + {side} entries, {torn} in-flight batches found durable"
    );
}
