//! Crash test of the dispatch engine: `satria drill` submits a seeded stream of commands
//! and prints a line per durable acknowledgement; this test kills it with SIGKILL at
//! seeded random moments, 24 times, restarting it on the same data directory each time.
//! Afterwards every acknowledged command's events must be in the journal, in order, with
//! the sequence numbers the engine acknowledged; nothing may be there that was not
//! acknowledged, except the one command in flight at each kill; the hash chain must
//! verify; and the journal must replay into a state that keeps the dispatch invariants.
//! The same drill runs on a cluster's PostgreSQL journal (`drill --database`), where each
//! restart waits for the killed run's lease to expire and takes the region over.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use satria_store::Journal;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CYCLES: u64 = 24;
const STREAM: &str = "region:banyumas";

#[derive(Debug)]
struct Ack {
    first: u64,
    last: u64,
    kinds: Vec<String>,
}

/// One run of the drill, killed `after` once it is ready. Returns the journal's last
/// seq it started from and the acknowledgements it printed.
fn run_and_kill(
    journal: &[&str],
    key: &std::path::Path,
    seed: u64,
    after: Duration,
) -> (u64, Vec<Ack>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_satria"))
        .arg("drill")
        .args(journal)
        .args(["--seed", &seed.to_string(), "--commands", "1000000"])
        // Signed checkpoints on, every few rows, so kills land around them too.
        .arg("--audit-key")
        .arg(key)
        .args(["--checkpoint-every-rows", "7"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start satria drill");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let ready = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(line) => line,
        Err(_) => {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "the drill did not start: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        }
    };
    let start: u64 = ready
        .strip_prefix("ready ")
        .unwrap_or_else(|| panic!("expected ready, got {ready:?}"))
        .parse()
        .unwrap();
    let deadline = Instant::now() + after;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().expect("SIGKILL"); // std sends SIGKILL on Unix
    let status = child.wait().unwrap();
    assert!(!status.success(), "the drill ended before it was killed");
    reader.join().unwrap();
    let mut acks = Vec::new();
    for line in rx.try_iter() {
        if let Some(rest) = line.strip_prefix("ack ") {
            let mut parts = rest.splitn(3, ' ');
            let first = parts.next().unwrap().parse().unwrap();
            let last = parts.next().unwrap().parse().unwrap();
            let kinds = parts.next().unwrap().split(',').map(String::from).collect();
            acks.push(Ack { first, last, kinds });
        } else {
            assert!(
                line == "volatile" || line.starts_with("rejected "),
                "unexpected drill line {line:?}"
            );
        }
    }
    (start, acks)
}

/// A new audit key in `dir` and its public key.
fn keygen(dir: &std::path::Path) -> (std::path::PathBuf, String) {
    let key = dir.join("audit.key");
    let out = Command::new(env!("CARGO_BIN_EXE_satria"))
        .args(["audit", "keygen", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success());
    let public = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("public key: ").map(str::to_string))
        .expect("keygen prints the public key");
    (key, public)
}

/// `cycles` runs of the drill on `journal`, each killed at a seeded random moment.
fn drill_cycles(
    journal: &[&str],
    key: &std::path::Path,
    cycles: u64,
    min_acks: usize,
) -> Vec<(u64, Vec<Ack>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(119);
    let mut out = Vec::new();
    for cycle in 0..cycles {
        let after = Duration::from_millis(rng.gen_range(20..400));
        out.push(run_and_kill(journal, key, 1000 + cycle, after));
    }
    let total: usize = out.iter().map(|c| c.1.len()).sum();
    assert!(
        total >= min_acks,
        "only {total} commands acknowledged: the test proves little"
    );
    out
}

/// The chain verifies, from the CLI as an operator would run it, with every
/// checkpoint signed by our key.
fn verify_signed(journal: &[&str], public: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_satria"))
        .args(["audit", "verify"])
        .args(journal)
        .args(["--public-key", public])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("hash chain intact"), "{said}");
    assert!(!said.contains("; 0 signed checkpoints"), "{said}");
}

#[test]
fn every_acknowledged_command_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let (key, public) = keygen(keys.path());
    let at = ["--data-dir", dir.path().to_str().unwrap()];
    let cycles = drill_cycles(&at, &key, CYCLES, 100);
    verify_signed(&at, &public);
    let journal = Journal::open(dir.path()).unwrap();
    let rows = journal.read_all(STREAM).unwrap();
    check_journal(&rows, &cycles, 10);
    drop(journal);

    // Tampering is found and named: edit one row's payload behind the engine's back.
    let db = rusqlite::Connection::open(dir.path().join(satria_store::JOURNAL_FILE)).unwrap();
    let changed = db
        .execute(
            "UPDATE entries SET payload = payload || ' ' WHERE row = 30",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(db);
    let out = Command::new(env!("CARGO_BIN_EXE_satria"))
        .args(["audit", "verify", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("BROKEN at row 30"), "{err}");
}

/// The same on a cluster's journal: every restart of the drill waits out the
/// killed run's lease (its TTL) and takes the region over in the next term.
#[test]
fn every_acknowledged_command_survives_sigkill_on_postgres() {
    let Some(db) = satria_store::pg::testing::TestDatabase::create("crash") else {
        return;
    };
    let keys = tempfile::tempdir().unwrap();
    let (key, public) = keygen(keys.path());
    let data = tempfile::tempdir().unwrap();
    let at = [
        "--data-dir",
        data.path().to_str().unwrap(),
        "--database",
        &db.url,
    ];
    let cycles = drill_cycles(&at, &key, 4, 20);
    verify_signed(&["--database", &db.url], &public);
    let rows = satria_store::PgJournal::open_reader(&db.url)
        .unwrap()
        .read_all(STREAM)
        .unwrap();
    check_journal(&rows, &cycles, 1);
    let term: i64 = db
        .client()
        .query_one("SELECT term FROM leases WHERE region = $1", &[&STREAM])
        .unwrap()
        .get(0);
    assert_eq!(term, 4, "each run led in a term of its own");
    // The checkpoints, as an operator exports them.
    let out = Command::new(env!("CARGO_BIN_EXE_satria"))
        .args(["audit", "checkpoints", "--database", &db.url, "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let cps: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        cps.as_array()
            .is_some_and(|c| !c.is_empty() && c.iter().all(|c| c["public_key"] == public.as_str())),
        "{cps}"
    );
}

/// Every acknowledged command's events are in `rows`, in order, with the
/// acknowledged seqs; nothing else but the one command in flight at each kill;
/// and the journal replays into a state that keeps the dispatch invariants.
fn check_journal(rows: &[satria_store::Entry], cycles: &[(u64, Vec<Ack>)], min_incidents: usize) {
    let kind_at = |seq: u64| rows[(seq - 1) as usize].kind.as_str();
    for (i, w) in rows.iter().enumerate() {
        assert_eq!(w.seq, i as u64 + 1, "sequence numbers are contiguous");
    }

    // Every acknowledged command is there, with its events in order.
    for (start, acks) in cycles {
        for a in acks {
            assert!(
                a.first > *start,
                "an ack below the seq the run started from"
            );
            assert!(
                a.last as usize <= rows.len(),
                "acknowledged seq {} lost (journal ends at {})",
                a.last,
                rows.len()
            );
            let stored: Vec<&str> = (a.first..=a.last).map(kind_at).collect();
            assert_eq!(stored, a.kinds, "events of an acknowledged command differ");
        }
    }
    // Nothing else: between a run's last acknowledgement and the next run's start only
    // the one command in flight at the kill may have landed (at most a few events:
    // an incident and its automatic assignment).
    for (k, (start, acks)) in cycles.iter().enumerate() {
        let mut expected = *start + 1;
        if k == 0 {
            // The first run registered the demo fleet in one transaction.
            let fleet = rows
                .iter()
                .take_while(|r| r.kind == "unit_registered")
                .count() as u64;
            assert_eq!(fleet, 21, "the whole demo fleet, once");
            assert_eq!(*start, fleet);
        }
        for a in acks {
            assert_eq!(a.first, expected, "an unacknowledged gap inside a run");
            expected = a.last + 1;
        }
        let next_start = cycles.get(k + 1).map(|c| c.0).unwrap_or(rows.len() as u64);
        let in_flight = (next_start + 1).saturating_sub(expected);
        assert!(
            in_flight <= 3,
            "run {k}: {in_flight} events after its last acknowledgement"
        );
    }

    // The journal replays into a consistent state.
    let mut d = satria_dispatch::Dispatch::new(
        satria_dispatch::Config::default(),
        Vec::new(),
        satria_dispatch::demo_hospitals(),
    );
    for r in rows {
        let e: satria_dispatch::Event = serde_json::from_str(&r.payload).unwrap();
        d.apply(&e);
    }
    d.check_invariants().unwrap();
    assert!(d.incidents().count() > min_incidents);
}
