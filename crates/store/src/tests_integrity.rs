//! Issue 14 items 4 and 5: the engine's start refuses a tampered chain (from the
//! last verified point), an operator may accept exactly the first broken row,
//! and signed checkpoints (stored and exported) expose a cut tail with a
//! rewritten head.

use rusqlite::Connection;

use crate::{
    AuditKey, Checkpoint, CheckpointSigner, INTEGRITY_STREAM, Journal, NewEntry, Problem,
    StartOptions, StoreError, acknowledge_breaks, integrity_status, read_checkpoints,
};

const STREAM: &str = "region:banyumas";
const T0: i64 = 1_790_000_000_000;

fn e(i: u64) -> NewEntry {
    NewEntry::new("test", format!("{{\"n\":{i}}}"), T0 + i as i64)
}

fn raw(dir: &tempfile::TempDir) -> Connection {
    Connection::open(dir.path().join(crate::JOURNAL_FILE)).unwrap()
}

fn start(dir: &tempfile::TempDir, accept: Option<u64>) -> Result<Journal, StoreError> {
    Journal::open_verified(
        dir.path(),
        &StartOptions {
            accept_broken_row: accept,
            operator: "operator-test".into(),
            now_ms: T0 + 1_000_000,
            signer: None,
        },
    )
    .map(|(j, _)| j)
}

/// `n` rows, one per append, on a journal opened like the engine does.
fn rows(dir: &tempfile::TempDir, n: u64) {
    let mut j = start(dir, None).unwrap();
    for i in 1..=n {
        j.append(STREAM, &[e(i)]).unwrap();
    }
}

fn broken_row(err: StoreError) -> u64 {
    match err {
        StoreError::ChainBroken { broken, .. } => broken.row,
        other => panic!("expected ChainBroken, got {other}"),
    }
}

#[test]
fn start_refuses_an_edited_payload_naming_the_row() {
    let dir = tempfile::tempdir().unwrap();
    rows(&dir, 10);
    raw(&dir)
        .execute(
            "UPDATE entries SET payload = '{\"n\":99}' WHERE row = 4",
            [],
        )
        .unwrap();
    let err = start(&dir, None).unwrap_err();
    assert!(err.to_string().contains("broken at row 4"), "{err}");
    assert_eq!(broken_row(err), 4);
    // Refused means untouched: nothing was appended or recorded.
    let n: i64 = raw(&dir)
        .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 10);
}

#[test]
fn start_refuses_two_swapped_rows() {
    let dir = tempfile::tempdir().unwrap();
    rows(&dir, 10);
    let db = raw(&dir);
    // Swap everything but the row numbers of rows 6 and 7.
    db.execute_batch(
        "UPDATE entries SET row = -6 WHERE row = 6;
         UPDATE entries SET row = 6 WHERE row = 7;
         UPDATE entries SET row = 7 WHERE row = -6;",
    )
    .unwrap();
    drop(db);
    assert_eq!(broken_row(start(&dir, None).unwrap_err()), 6);
}

#[test]
fn the_exact_first_broken_row_may_be_accepted_once_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    rows(&dir, 10);
    raw(&dir)
        .execute(
            "UPDATE entries SET payload = '{\"n\":99}' WHERE row = 4",
            [],
        )
        .unwrap();
    // Another row than the first broken one is refused, and changes nothing.
    match start(&dir, Some(5)).unwrap_err() {
        StoreError::WrongBreakAccepted { asked, broken, .. } => {
            assert_eq!((asked, broken.row), (5, 4))
        }
        other => panic!("{other}"),
    }
    assert!(integrity_status(dir.path()).unwrap().accepted.is_empty());

    let (mut j, report) = Journal::open_verified(
        dir.path(),
        &StartOptions {
            accept_broken_row: Some(4),
            operator: "operator-test".into(),
            now_ms: T0 + 5_000,
            signer: None,
        },
    )
    .unwrap();
    let a = report.accepted.clone().unwrap();
    assert_eq!((a.row, a.head_row), (4, 10));
    assert_eq!(a.accepted_by, "operator-test");
    assert_eq!(a.accepted_at_ms, T0 + 5_000);
    assert!(a.problem.contains("hash mismatch"), "{}", a.problem);
    // The acceptance is on the chain too.
    let audit = j.read_all(INTEGRITY_STREAM).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].kind, "chain_break_accepted");
    assert!(
        audit[0].payload.contains("\"row\":4"),
        "{}",
        audit[0].payload
    );
    j.append(STREAM, &[e(11)]).unwrap();
    drop(j);

    // The next start does not refuse again, with or without the flag left on.
    start(&dir, None).unwrap();
    start(&dir, Some(4)).unwrap();
    // Verification passes over the accepted rows and reports them.
    let v = Journal::verify_dir(dir.path()).unwrap();
    assert!(v.is_ok(), "{:?}", v.first_broken);
    assert_eq!(v.accepted.len(), 1);

    // Until an admin acknowledges it, it is unacknowledged.
    let s = integrity_status(dir.path()).unwrap();
    assert_eq!(s.accepted.len(), 1);
    assert_eq!(s.accepted[0].acknowledged_at_ms, None);
    assert_eq!(
        acknowledge_breaks(dir.path(), "admin", T0 + 9_000).unwrap(),
        1
    );
    let s = integrity_status(dir.path()).unwrap();
    assert_eq!(s.accepted[0].acknowledged_by.as_deref(), Some("admin"));
    assert_eq!(
        acknowledge_breaks(dir.path(), "admin", T0 + 9_500).unwrap(),
        0
    );

    // A later edit after the accepted head is found again by a full verify.
    raw(&dir)
        .execute(
            "UPDATE entries SET payload = '{\"n\":77}' WHERE row = 12",
            [],
        )
        .unwrap();
    let b = Journal::verify_dir(dir.path())
        .unwrap()
        .first_broken
        .unwrap();
    assert_eq!(b.row, 12);
}

#[test]
fn accepting_on_an_intact_chain_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    rows(&dir, 3);
    let err = start(&dir, Some(2)).unwrap_err();
    assert!(
        matches!(err, StoreError::NothingToAccept { row: 2, .. }),
        "{err}"
    );
}

#[test]
fn a_restart_verifies_only_the_rows_after_the_last_verified_point() {
    let dir = tempfile::tempdir().unwrap();
    rows(&dir, 50);
    let opts = StartOptions::default();
    let (mut j, r) = Journal::open_verified(dir.path(), &opts).unwrap();
    assert_eq!(
        (r.verified_from_row, r.rows_checked, r.head_row),
        (0, 50, 50)
    );
    for i in 51..=53 {
        j.append(STREAM, &[e(i)]).unwrap();
    }
    drop(j);
    let (j, r) = Journal::open_verified(dir.path(), &opts).unwrap();
    assert_eq!(
        (r.verified_from_row, r.rows_checked, r.head_row),
        (50, 3, 53)
    );
    drop(j);
    let (_, r) = Journal::open_verified(dir.path(), &opts).unwrap();
    assert_eq!((r.verified_from_row, r.rows_checked), (53, 0));

    // The recorded point itself is checked: rewriting the verified row is found
    // even though the rows before it are not re-read.
    raw(&dir)
        .execute(
            "UPDATE entries SET hash = ?1 WHERE row = 53",
            ["0".repeat(64)],
        )
        .unwrap();
    assert_eq!(broken_row(start(&dir, None).unwrap_err()), 53);
}

fn signer(seed: u8, every_rows: u64) -> CheckpointSigner {
    CheckpointSigner {
        key: AuditKey::from_seed([seed; 32]),
        every_rows,
        every_ms: 60_000,
    }
}

fn signed_rows(dir: &tempfile::TempDir, n: u64, every_rows: u64) {
    let (mut j, _) = Journal::open_verified(
        dir.path(),
        &StartOptions {
            signer: Some(signer(1, every_rows)),
            ..StartOptions::default()
        },
    )
    .unwrap();
    for i in 1..=n {
        j.append(STREAM, &[e(i)]).unwrap();
    }
}

/// Cuts rows after `keep` and moves the recorded head (and the verified point)
/// back onto row `keep`: a shorter chain that is perfectly consistent.
fn cut_tail(dir: &tempfile::TempDir, keep: u64, also_checkpoints: bool) {
    let db = raw(dir);
    db.execute("DELETE FROM entries WHERE row > ?1", [keep])
        .unwrap();
    db.execute(
        "UPDATE chain_head SET row = ?1, hash = (SELECT hash FROM entries WHERE row = ?1)",
        [keep],
    )
    .unwrap();
    db.execute(
        "UPDATE verified_point SET row = ?1, hash = (SELECT hash FROM entries WHERE row = ?1)",
        [keep],
    )
    .unwrap();
    if also_checkpoints {
        db.execute("DELETE FROM checkpoints WHERE row > ?1", [keep])
            .unwrap();
    }
}

#[test]
fn checkpoints_are_signed_every_n_rows_and_when_time_passes() {
    let dir = tempfile::tempdir().unwrap();
    signed_rows(&dir, 25, 10);
    let cps = read_checkpoints(dir.path()).unwrap();
    // The first append (no checkpoint yet), then every 10 rows.
    let at: Vec<u64> = cps.iter().map(|c| c.row).collect();
    assert_eq!(at, [1, 11, 21]);
    for c in &cps {
        c.check(Some(&AuditKey::from_seed([1; 32]).public_key()))
            .unwrap();
    }
    // Rows 22..25 wait; a minute later the tick signs them.
    let (mut j, _) = Journal::open_verified(
        dir.path(),
        &StartOptions {
            signer: Some(signer(1, 10)),
            ..StartOptions::default()
        },
    )
    .unwrap();
    assert!(!j.checkpoint_if_due(T0 + 21 + 59_000).unwrap());
    assert!(j.checkpoint_if_due(T0 + 21 + 60_000).unwrap());
    assert!(
        !j.checkpoint_if_due(T0 + 21 + 200_000).unwrap(),
        "nothing new to sign"
    );
    assert_eq!(
        read_checkpoints(dir.path()).unwrap().last().unwrap().row,
        25
    );
    // When the engine stops, the head is signed whatever the interval.
    j.append(STREAM, &[e(26)]).unwrap();
    assert!(j.checkpoint_head(T0 + 21 + 60_001).unwrap());
    assert!(!j.checkpoint_head(T0 + 21 + 60_002).unwrap());
    assert_eq!(
        read_checkpoints(dir.path()).unwrap().last().unwrap().row,
        26
    );
}

#[test]
fn a_cut_tail_with_the_head_moved_back_is_named_by_the_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    signed_rows(&dir, 30, 10);
    let exported: Vec<Checkpoint> = read_checkpoints(dir.path()).unwrap();
    assert_eq!(exported.last().unwrap().row, 21);
    let snapshot = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.path().join(crate::JOURNAL_FILE),
        snapshot.path().join(crate::JOURNAL_FILE),
    )
    .unwrap();

    // Cut rows 16..30: the table still holds the checkpoint at row 21.
    cut_tail(&dir, 15, false);
    let b = Journal::verify_dir(dir.path())
        .unwrap()
        .first_broken
        .unwrap();
    assert_eq!(b.row, 21);
    assert!(
        matches!(
            b.problem,
            Problem::AnchorBeyondEnd {
                last_present: 15,
                ..
            }
        ),
        "{b}"
    );
    // The engine refuses to start on it too.
    assert_eq!(broken_row(start(&dir, None).unwrap_err()), 21);

    // The attacker also cut the checkpoint table: the chain alone looks fine ...
    cut_tail(&dir, 15, true);
    assert!(Journal::verify_dir(dir.path()).unwrap().is_ok());
    // ... but the exported copy proves the rewrite.
    let b = Journal::verify_dir_with(dir.path(), None, &exported)
        .unwrap()
        .first_broken
        .unwrap();
    assert_eq!(b.row, 21);
    assert!(b.to_string().contains("exported checkpoint"), "{b}");

    // A head rewritten with new rows of the same length differs at a checkpoint.
    let db = Connection::open(snapshot.path().join(crate::JOURNAL_FILE)).unwrap();
    db.execute("DELETE FROM entries WHERE row > 10", [])
        .unwrap();
    db.execute("DELETE FROM checkpoints WHERE row > 10", [])
        .unwrap();
    db.execute(
        "UPDATE chain_head SET row = 10, hash = (SELECT hash FROM entries WHERE row = 10)",
        [],
    )
    .unwrap();
    drop(db);
    {
        let mut j = Journal::open(snapshot.path()).unwrap();
        for i in 11..=30 {
            j.append(STREAM, &[e(1000 + i)]).unwrap();
        }
    }
    let b = Journal::verify_dir_with(snapshot.path(), None, &exported)
        .unwrap()
        .first_broken
        .unwrap();
    assert_eq!(b.row, 11);
    assert!(matches!(b.problem, Problem::AnchorMismatch { .. }), "{b}");
}

#[test]
fn a_checkpoint_signed_by_another_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    signed_rows(&dir, 12, 10);
    let ours = AuditKey::from_seed([1; 32]).public_key();
    let theirs = AuditKey::from_seed([2; 32]).public_key();
    assert!(
        Journal::verify_dir_with(dir.path(), Some(&ours), &[])
            .unwrap()
            .is_ok()
    );
    let b = Journal::verify_dir_with(dir.path(), Some(&theirs), &[])
        .unwrap()
        .first_broken
        .unwrap();
    assert_eq!(b.row, 1);
    assert!(b.to_string().contains("not by the expected key"), "{b}");

    // An attacker re-signs the table with a key of their own: refused against ours.
    let forged = AuditKey::from_seed([3; 32]);
    let db = raw(&dir);
    for c in read_checkpoints(dir.path()).unwrap() {
        let hash = crate::chain::from_hex(&c.hash).unwrap();
        let f = forged.sign(c.row, &hash, c.at_ms);
        db.execute(
            "UPDATE checkpoints SET public_key = ?1, signature = ?2 WHERE row = ?3",
            rusqlite::params![f.public_key, f.signature, c.row],
        )
        .unwrap();
    }
    let b = Journal::verify_dir_with(dir.path(), Some(&ours), &[])
        .unwrap()
        .first_broken
        .unwrap();
    assert!(matches!(b.problem, Problem::BadCheckpoint { .. }), "{b}");
    // A tampered signature is refused even without naming a key.
    db.execute(
        "UPDATE checkpoints SET signature = ?1 WHERE row = 11",
        ["00".repeat(64)],
    )
    .unwrap();
    let b = Journal::verify_dir(dir.path())
        .unwrap()
        .first_broken
        .unwrap();
    assert_eq!(b.row, 11);
}
