//! Unit tests of the journal: append/read/reopen, atomic batches, snapshots,
//! verification of good and tampered files, refusal of foreign files.

use rusqlite::Connection;

use crate::{Journal, NewEntry, Problem, StoreError};

fn e(i: u64) -> NewEntry {
    NewEntry::new(
        "test",
        format!("{{\"n\":{i}}}"),
        1_700_000_000_000 + i as i64,
    )
}

fn raw(dir: &tempfile::TempDir) -> Connection {
    Connection::open(dir.path().join(crate::JOURNAL_FILE)).unwrap()
}

#[test]
fn append_read_and_seq_continue_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path()).unwrap();
    assert_eq!(j.last_seq("region:banyumas"), 0);
    let a = j.append("region:banyumas", &[e(1), e(2)]).unwrap();
    assert_eq!((a[0].seq, a[1].seq, a[0].row, a[1].row), (1, 2, 1, 2));
    j.append("access", &[e(3)]).unwrap();
    let head = j.head_hash();
    drop(j);

    let mut j = Journal::open(dir.path()).unwrap();
    assert_eq!(j.last_seq("region:banyumas"), 2);
    assert_eq!(j.last_seq("access"), 1);
    assert_eq!(j.head_hash(), head);
    assert_eq!(j.streams(), ["access", "region:banyumas"]);
    let b = j.append("region:banyumas", &[e(4)]).unwrap();
    assert_eq!((b[0].seq, b[0].row), (3, 4));

    let all = j.read_all("region:banyumas").unwrap();
    let payloads: Vec<&str> = all.iter().map(|x| x.payload.as_str()).collect();
    assert_eq!(payloads, ["{\"n\":1}", "{\"n\":2}", "{\"n\":4}"]);
    assert_eq!(all[2], b[0], "what append returns is what is stored");
    let page = j.read_since("region:banyumas", 1, 1).unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].seq, 2);
    let rows: Vec<u64> = j.read_rows(1, 10).unwrap().iter().map(|x| x.row).collect();
    assert_eq!(rows, [2, 3, 4]);
    assert!(j.read_all("nobody").unwrap().is_empty());
    assert!(j.append("access", &[]).unwrap().is_empty());

    let report = j.verify().unwrap();
    assert_eq!(report.rows, 4);
    assert!(report.is_ok(), "{report:?}");
}

#[test]
fn batch_over_streams_counts_each_stream() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path()).unwrap();
    let out = j
        .append_batch(&[
            ("a", vec![e(1)]),
            ("b", vec![e(2), e(3)]),
            ("a", vec![e(4)]),
        ])
        .unwrap();
    let got: Vec<(&str, u64, u64)> = out
        .iter()
        .map(|x| (x.stream.as_str(), x.seq, x.row))
        .collect();
    assert_eq!(got, [("a", 1, 1), ("b", 1, 2), ("b", 2, 3), ("a", 2, 4)]);
    // Slices work too.
    j.append_batch(&[("b", &[e(5)][..])]).unwrap();
    assert_eq!(j.last_seq("b"), 3);
    assert!(j.verify().unwrap().is_ok());
}

#[test]
fn batch_is_atomic_when_a_write_fails_mid_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path()).unwrap();
    j.append("a", &[e(1)]).unwrap();
    // Make the database itself reject the third insert of the batch, after
    // two rows of it were already written inside the transaction.
    raw(&dir)
        .execute_batch(
            "CREATE TRIGGER boom BEFORE INSERT ON entries WHEN NEW.kind = 'boom'
             BEGIN SELECT RAISE(ABORT, 'boom'); END;",
        )
        .unwrap();
    let err = j
        .append_batch(&[
            ("a", vec![e(2)]),
            ("b", vec![e(3), NewEntry::new("boom", "{}", 0)]),
        ])
        .unwrap_err();
    assert!(matches!(err, StoreError::Backend { .. }), "{err}");
    assert!(err.to_string().contains("journal.sqlite"), "{err}");
    // Nothing of the batch is in the file, and memory was not advanced.
    assert_eq!(j.read_rows(0, 100).unwrap().len(), 1);
    assert_eq!((j.last_seq("a"), j.last_seq("b"), j.last_row()), (1, 0, 1));
    // The journal goes on where it was.
    let next = j.append("b", &[e(4)]).unwrap();
    assert_eq!((next[0].row, next[0].seq), (2, 1));
    assert!(j.verify().unwrap().is_ok());
    drop(j);
    let j = Journal::open(dir.path()).unwrap();
    assert_eq!((j.last_seq("a"), j.last_seq("b")), (1, 1));
}

#[test]
fn invalid_input_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path()).unwrap();
    let bad_json = j
        .append_batch(&[
            ("a", vec![e(1)]),
            ("a", vec![NewEntry::new("k", "{not json", 0)]),
        ])
        .unwrap_err();
    assert!(bad_json.to_string().contains("not JSON"), "{bad_json}");
    assert!(matches!(
        j.append("", &[e(1)]),
        Err(StoreError::InvalidInput { .. })
    ));
    assert!(matches!(
        j.append("a", &[NewEntry::new("", "{}", 0)]),
        Err(StoreError::InvalidInput { .. })
    ));
    assert_eq!(j.last_row(), 0);
    assert!(j.read_all("a").unwrap().is_empty());
}

#[test]
fn snapshots_round_trip_and_only_the_newest_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path()).unwrap();
    assert_eq!(j.latest_snapshot("s").unwrap(), None);
    // A snapshot can only describe entries that exist.
    assert!(matches!(
        j.save_snapshot("s", 1, b"x"),
        Err(StoreError::InvalidInput { .. })
    ));
    for i in 1..=9 {
        j.append("s", &[e(i)]).unwrap();
    }
    j.save_snapshot("s", 3, b"three").unwrap();
    j.save_snapshot("s", 5, &[0, 255, 7]).unwrap();
    j.save_snapshot("s", 9, b"nine").unwrap();
    assert_eq!(j.latest_snapshot("s").unwrap(), Some((9, b"nine".to_vec())));
    drop(j);
    let j = Journal::open(dir.path()).unwrap();
    assert_eq!(j.latest_snapshot("s").unwrap(), Some((9, b"nine".to_vec())));
    let kept: Vec<u64> = raw(&dir)
        .prepare("SELECT seq FROM snapshots ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(kept, [5, 9]);
    assert_eq!(j.latest_snapshot("other").unwrap(), None);
}

fn ten_rows(dir: &tempfile::TempDir) {
    let mut j = Journal::open(dir.path()).unwrap();
    for i in 1..=10 {
        let stream = if i % 3 == 0 {
            "access"
        } else {
            "region:banyumas"
        };
        j.append(stream, &[e(i)]).unwrap();
    }
}

#[test]
fn a_payload_edited_behind_the_journal_is_found_at_that_row() {
    let dir = tempfile::tempdir().unwrap();
    ten_rows(&dir);
    // Row 6 is the 2nd entry of "access" (rows 3, 6, 9).
    raw(&dir)
        .execute(
            "UPDATE entries SET payload = '{\"n\":99}' WHERE row = 6",
            [],
        )
        .unwrap();
    let report = Journal::open(dir.path()).unwrap().verify().unwrap();
    let b = report.first_broken.expect("tampering must be found");
    assert_eq!((b.row, b.stream.as_str(), b.seq), (6, "access", 2));
    assert!(matches!(b.problem, Problem::HashMismatch { .. }), "{b}");
    assert_eq!(report.rows, 6);
}

#[test]
fn a_recomputed_hash_does_not_hide_an_edit() {
    // Someone edits a row and fixes up its own hash: the next row's link breaks.
    let dir = tempfile::tempdir().unwrap();
    ten_rows(&dir);
    let prev = raw(&dir)
        .query_row("SELECT hash FROM entries WHERE row = 4", [], |r| {
            r.get::<_, String>(0)
        })
        .unwrap();
    let forged = crate::chain::row_hash(
        &crate::chain::from_hex(&prev).unwrap(),
        "region:banyumas",
        4,
        "test",
        1_700_000_000_005,
        "{\"n\":666}",
    );
    raw(&dir)
        .execute(
            "UPDATE entries SET payload = '{\"n\":666}', hash = ?1 WHERE row = 5",
            [crate::chain::to_hex(&forged)],
        )
        .unwrap();
    let b = Journal::open(dir.path())
        .unwrap()
        .verify()
        .unwrap()
        .first_broken
        .unwrap();
    assert_eq!(b.row, 6, "{b}");
    assert!(matches!(b.problem, Problem::HashMismatch { .. }), "{b}");
}

#[test]
fn a_deleted_row_is_reported_as_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    ten_rows(&dir);
    raw(&dir)
        .execute("DELETE FROM entries WHERE row = 4", [])
        .unwrap();
    let b = Journal::open(dir.path())
        .unwrap()
        .verify()
        .unwrap()
        .first_broken
        .unwrap();
    assert_eq!((b.row, b.stream.as_str(), b.seq), (5, "region:banyumas", 4));
    assert_eq!(b.problem, Problem::MissingPrevious { expected_row: 4 });
    assert!(b.to_string().contains("missing previous"), "{b}");

    // Renumbering the rows to hide the hole leaves a hole in the stream's seq.
    let dir = tempfile::tempdir().unwrap();
    ten_rows(&dir);
    let c = raw(&dir);
    c.execute("DELETE FROM entries WHERE row = 4", []).unwrap();
    c.execute("UPDATE entries SET row = row - 1 WHERE row > 4", [])
        .unwrap();
    c.execute("UPDATE chain_head SET row = row - 1", [])
        .unwrap();
    drop(c);
    let b = Journal::open(dir.path())
        .unwrap()
        .verify()
        .unwrap()
        .first_broken
        .unwrap();
    assert_eq!((b.row, b.seq), (4, 4));
    assert_eq!(b.problem, Problem::SeqGap { expected_seq: 3 });
}

#[test]
fn a_cut_off_tail_is_refused_at_open_and_named_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    ten_rows(&dir);
    raw(&dir)
        .execute("DELETE FROM entries WHERE row >= 9", [])
        .unwrap();
    let err = Journal::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("chain head"), "{err}");
    let b = Journal::verify_dir(dir.path())
        .unwrap()
        .first_broken
        .unwrap();
    assert_eq!(b.row, 10);
    assert_eq!(b.problem, Problem::TruncatedTail { last_present: 8 });
    assert_eq!((b.stream.as_str(), b.seq), ("region:banyumas", 6));
}

#[test]
fn verify_dir_reads_a_good_journal_and_refuses_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    ten_rows(&dir);
    let report = Journal::verify_dir(dir.path()).unwrap();
    assert_eq!((report.rows, report.is_ok()), (10, true));
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        Journal::verify_dir(empty.path()),
        Err(StoreError::Io { .. })
    ));
}

#[test]
fn a_second_handle_can_read_but_not_fork_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Journal::open(dir.path()).unwrap();
    a.append("s", &[e(1)]).unwrap();
    let mut b = Journal::open(dir.path()).unwrap();
    a.append("s", &[e(2)]).unwrap();
    // b reads and verifies what a wrote...
    assert_eq!(b.read_all("s").unwrap().len(), 2);
    assert!(b.verify().unwrap().is_ok());
    // ...but its in-memory head is stale, so it may not append.
    let err = b.append("s", &[e(3)]).unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    drop(b);
    let mut b = Journal::open(dir.path()).unwrap();
    assert_eq!(b.append("s", &[e(3)]).unwrap()[0].seq, 3);
    assert!(matches!(
        a.append("s", &[e(4)]),
        Err(StoreError::Conflict { .. })
    ));
    assert!(b.verify().unwrap().is_ok());
}

#[test]
fn refuses_files_that_are_not_journals() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(crate::JOURNAL_FILE),
        b"this is not a database at all, it is plain text, long enough to have a header.......",
    )
    .unwrap();
    let err = Journal::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err}");
    assert!(err.to_string().contains("journal.sqlite"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    raw(&dir)
        .execute_batch("CREATE TABLE other (x INTEGER)")
        .unwrap();
    let err = Journal::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::ForeignDatabase { .. }), "{err}");
    assert!(err.to_string().contains("not a Satria journal"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    drop(Journal::open(dir.path()).unwrap());
    raw(&dir).pragma_update(None, "user_version", 99).unwrap();
    let err = Journal::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { found: 99, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade Satria"), "{err}");
}

#[test]
fn a_new_journal_is_wal_full_and_marked_as_ours() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(&dir.path().join("nested/data")).unwrap();
    let c = j.conn_for_tests();
    let mode: String = c
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    let sync: i64 = c
        .pragma_query_value(None, "synchronous", |r| r.get(0))
        .unwrap();
    let app: i32 = c
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .unwrap();
    let ver: i64 = c
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(sync, 2, "synchronous=FULL");
    assert_eq!(app, crate::APPLICATION_ID);
    assert_eq!(ver, crate::LATEST_VERSION);
}

#[test]
fn a_reader_sees_what_the_writer_committed_and_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path()).unwrap();
    let r = crate::JournalReader::open(dir.path()).unwrap();
    assert!(r.read_since("s", 0, 10).unwrap().is_empty());
    let e: Vec<_> = (0..5)
        .map(|i| NewEntry::new("K", format!("{{\"i\":{i}}}"), i))
        .collect();
    j.append("s", &e).unwrap();
    let got = r.read_since("s", 2, 10).unwrap();
    assert_eq!(got.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 4, 5]);
    assert_eq!(got[0].payload, "{\"i\":2}");
    assert_eq!(r.read_since("s", 0, 2).unwrap().len(), 2);
    assert!(r.conn.execute("DELETE FROM entries", []).is_err());
}
