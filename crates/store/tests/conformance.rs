//! The backend conformance suite: the same checks against the SQLite journal
//! and the PostgreSQL journal, through [`EventStore`]. Each PostgreSQL test
//! gets a database of its own (dropped after); without a server those tests
//! print `skipped: ...`, unless `SATRIA_REQUIRE_SERVICES=1`.
//!
//! The PostgreSQL-only parts (leases and fencing, schema refusals, an
//! unreachable server) follow in `mod pg_only`.

use satria_store::pg::testing::TestDatabase;
use satria_store::{EventStore, Journal, NewEntry, PgJournal, Problem, StoreError, chain};

fn e(i: u64) -> NewEntry {
    NewEntry::new(
        "test",
        format!("{{\"n\":{i}}}"),
        1_700_000_000_000 + i as i64,
    )
}

enum Backend {
    Sqlite(tempfile::TempDir),
    Pg(TestDatabase),
}

impl Backend {
    fn sqlite() -> Backend {
        Backend::Sqlite(tempfile::tempdir().unwrap())
    }

    fn pg(test: &str) -> Option<Backend> {
        TestDatabase::create(test).map(Backend::Pg)
    }

    fn open(&self) -> Box<dyn EventStore> {
        self.try_open().expect("open the journal")
    }

    fn try_open(&self) -> Result<Box<dyn EventStore>, StoreError> {
        Ok(match self {
            Backend::Sqlite(dir) => Box::new(Journal::open(dir.path())?),
            Backend::Pg(db) => Box::new(PgJournal::open(&db.url)?),
        })
    }

    /// Runs SQL behind the journal's back (the same SQL on both backends).
    fn tamper(&self, sql: &str) {
        match self {
            Backend::Sqlite(dir) => {
                rusqlite::Connection::open(dir.path().join(satria_store::JOURNAL_FILE))
                    .unwrap()
                    .execute_batch(sql)
                    .unwrap();
            }
            Backend::Pg(db) => db.client().batch_execute(sql).unwrap(),
        }
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name(&super::Backend::sqlite()); } )*
        }
        mod postgres {
            $( #[test] fn $name() {
                if let Some(b) = super::Backend::pg(stringify!($name)) { super::$name(&b); }
            } )*
        }
    };
}

conformance!(
    append_read_and_seqs_survive_reopen,
    the_chain_is_the_documented_one,
    a_bad_entry_writes_nothing_of_its_batch,
    snapshots_keep_the_newest_two,
    verify_names_an_edited_row,
    verify_names_a_deleted_row,
    verify_names_a_cut_tail,
    a_second_writer_never_forks_the_chain,
);

fn append_read_and_seqs_survive_reopen(b: &Backend) {
    let mut j = b.open();
    assert_eq!(j.stream_seq("region:banyumas"), 0);
    assert_eq!((j.head_row(), j.head()), (0, "0".repeat(64)));
    let a = j.append_entries("region:banyumas", &[e(1), e(2)]).unwrap();
    assert_eq!((a[0].seq, a[1].seq, a[0].row, a[1].row), (1, 2, 1, 2));
    let mixed = j
        .append_groups(&[("access", &[e(3)][..]), ("region:banyumas", &[e(4)][..])])
        .unwrap();
    assert_eq!(
        mixed.iter().map(|x| (x.row, x.seq)).collect::<Vec<_>>(),
        [(3, 1), (4, 3)]
    );
    assert!(j.append_entries("access", &[]).unwrap().is_empty());
    let head = j.head();
    drop(j);

    let j = b.open();
    assert_eq!((j.head_row(), j.head()), (4, head));
    assert_eq!(j.stream_seq("region:banyumas"), 3);
    assert_eq!(j.stream_seq("access"), 1);
    let all = j.entries_since("region:banyumas", 0, usize::MAX).unwrap();
    assert_eq!(
        all.iter().map(|x| x.payload.as_str()).collect::<Vec<_>>(),
        ["{\"n\":1}", "{\"n\":2}", "{\"n\":4}"]
    );
    assert_eq!(all[2], mixed[1], "what append returns is what is stored");
    let page = j.entries_since("region:banyumas", 1, 1).unwrap();
    assert_eq!(page.iter().map(|x| x.seq).collect::<Vec<_>>(), [2]);
    let rows: Vec<u64> = j.rows_since(1, 2).unwrap().iter().map(|x| x.row).collect();
    assert_eq!(rows, [2, 3]);
    assert!(j.entries_since("nobody", 0, 10).unwrap().is_empty());
    let report = j.verify_chain().unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.rows, 4);
}

fn the_chain_is_the_documented_one(b: &Backend) {
    let mut j = b.open();
    let stored = j
        .append_entries(
            "region:banyumas",
            &[NewEntry::new(
                "IncidentCreated",
                "{\"id\":1}",
                1_700_000_000_000,
            )],
        )
        .unwrap();
    // The known vector of the chain format (chain.rs): both backends write it.
    assert_eq!(
        stored[0].hash,
        "e9e542f9908ceb23dd5b9e888f89b934ff29d3584a29b42f6398dd173ae12c54"
    );
    let second = j.append_entries("access", &[e(7)]).unwrap();
    let expected = chain::row_hash(
        &chain::from_hex(&stored[0].hash).unwrap(),
        "access",
        1,
        "test",
        1_700_000_000_007,
        "{\"n\":7}",
    );
    assert_eq!(second[0].hash, chain::to_hex(&expected));
    assert_eq!(j.head(), second[0].hash);
}

fn a_bad_entry_writes_nothing_of_its_batch(b: &Backend) {
    let mut j = b.open();
    j.append_entries("s", &[e(1)]).unwrap();
    let bad = NewEntry::new("test", "{not json", 1);
    let err = j
        .append_groups(&[("s", &[e(2)][..]), ("t", &[e(3), bad][..])])
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::InvalidInput { detail } if detail.contains("payload is not JSON")),
        "{err}"
    );
    let empty_kind = NewEntry::new("", "{}", 1);
    assert!(matches!(
        j.append_entries("s", &[empty_kind]),
        Err(StoreError::InvalidInput { .. })
    ));
    assert!(matches!(
        j.append_entries("", &[e(4)]),
        Err(StoreError::InvalidInput { .. })
    ));
    assert_eq!(
        (j.head_row(), j.stream_seq("s"), j.stream_seq("t")),
        (1, 1, 0)
    );
    drop(j);
    let mut j = b.open();
    assert_eq!(j.rows_since(0, 10).unwrap().len(), 1);
    assert_eq!(
        j.append_entries("s", &[e(5)]).unwrap()[0].seq,
        2,
        "no seq was used up"
    );
}

fn snapshots_keep_the_newest_two(b: &Backend) {
    let mut j = b.open();
    j.append_entries("s", &[e(1), e(2), e(3)]).unwrap();
    assert_eq!(j.newest_snapshot("s").unwrap(), None);
    for seq in 1..=3 {
        j.put_snapshot("s", seq, format!("state {seq}").as_bytes())
            .unwrap();
    }
    assert_eq!(
        j.newest_snapshot("s").unwrap(),
        Some((3, b"state 3".to_vec()))
    );
    // Replacing the newest keeps one row per seq.
    j.put_snapshot("s", 3, b"again").unwrap();
    assert_eq!(
        j.newest_snapshot("s").unwrap(),
        Some((3, b"again".to_vec()))
    );
    let err = j.put_snapshot("s", 4, b"x").unwrap_err();
    assert!(
        matches!(&err, StoreError::InvalidInput { detail } if detail.contains("1..=3")),
        "{err}"
    );
    assert!(matches!(
        j.put_snapshot("s", 0, b"x"),
        Err(StoreError::InvalidInput { .. })
    ));
    // Snapshots are not chained: the journal still verifies.
    assert!(j.verify_chain().unwrap().is_ok());
}

fn verify_names_an_edited_row(b: &Backend) {
    let mut j = b.open();
    j.append_entries("s", &[e(1), e(2), e(3)]).unwrap();
    b.tamper("UPDATE entries SET payload = '{\"n\":99}' WHERE row = 2");
    let report = j.verify_chain().unwrap();
    let broken = report.first_broken.expect("the edit is found");
    assert_eq!((broken.row, broken.seq), (2, 2));
    assert!(
        matches!(broken.problem, Problem::HashMismatch { .. }),
        "{broken}"
    );
}

fn verify_names_a_deleted_row(b: &Backend) {
    let mut j = b.open();
    j.append_entries("s", &[e(1), e(2), e(3)]).unwrap();
    b.tamper("DELETE FROM entries WHERE row = 2");
    let broken = j
        .verify_chain()
        .unwrap()
        .first_broken
        .expect("the gap is found");
    assert_eq!(broken.row, 3);
    assert_eq!(broken.problem, Problem::MissingPrevious { expected_row: 2 });
}

fn verify_names_a_cut_tail(b: &Backend) {
    let mut j = b.open();
    j.append_entries("s", &[e(1), e(2), e(3)]).unwrap();
    b.tamper("DELETE FROM entries WHERE row = 3");
    let broken = j
        .verify_chain()
        .unwrap()
        .first_broken
        .expect("the cut is found");
    assert_eq!(broken.row, 3);
    assert_eq!(broken.problem, Problem::TruncatedTail { last_present: 2 });
    drop(j);
    // And a journal whose head and rows disagree is not opened for writing.
    let err = b.try_open().map(|_| ()).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
}

fn a_second_writer_never_forks_the_chain(b: &Backend) {
    let mut first = b.open();
    let mut second = b.open();
    first.append_entries("region:a", &[e(1)]).unwrap();
    second
        .append_entries("region:a", &[e(2)])
        .unwrap_or_default();
    first
        .append_entries("region:b", &[e(3)])
        .unwrap_or_default();
    // SQLite refuses the stale handle (Conflict, nothing written); PostgreSQL
    // chains it after the other's rows. Either way: one chain, no gap, and
    // every append that returned Ok is there exactly once.
    let rows = b.open().rows_since(0, 100).unwrap();
    let numbers: Vec<u64> = rows.iter().map(|r| r.row).collect();
    assert_eq!(numbers, (1..=rows.len() as u64).collect::<Vec<_>>());
    assert_eq!(rows[0].payload, "{\"n\":1}");
    assert!(b.open().verify_chain().unwrap().is_ok());
    let a_seqs: Vec<u64> = rows
        .iter()
        .filter(|r| r.stream == "region:a")
        .map(|r| r.seq)
        .collect();
    assert_eq!(a_seqs, (1..=a_seqs.len() as u64).collect::<Vec<_>>());
}

#[test]
fn both_backends_store_the_same_rows_for_the_same_appends() {
    let Some(pg) = Backend::pg("same_rows") else {
        return;
    };
    let sqlite = Backend::sqlite();
    let (mut a, mut b) = (sqlite.open(), pg.open());
    for i in 0..50u64 {
        let stream = ["region:banyumas", "access", "integrity"][(i % 3) as usize];
        let batch = [
            e(i),
            NewEntry::new(
                "odd \"kind\"",
                format!("{{\"s\":\"ü{i}\\n\"}}"),
                -(i as i64),
            ),
        ];
        let x = a.append_entries(stream, &batch).unwrap();
        let y = b.append_entries(stream, &batch).unwrap();
        assert_eq!(x, y, "append {i}");
    }
    assert_eq!(
        a.rows_since(0, 1000).unwrap(),
        b.rows_since(0, 1000).unwrap()
    );
    assert_eq!(a.head(), b.head());
}

mod pg_only {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_paused_leader_that_lost_its_lease_writes_nothing() {
        let Some(db) = TestDatabase::create("fencing") else {
            return;
        };
        let mut old = PgJournal::open(&db.url).unwrap();
        let mut new = PgJournal::open(&db.url).unwrap();
        let ttl = Duration::from_millis(300);
        let lease = old
            .try_acquire_lease("banyumas", "node-a", ttl)
            .unwrap()
            .unwrap();
        assert_eq!(lease.term, 1);
        old.append("region:banyumas", &[e(1)]).unwrap();
        assert_eq!(
            new.try_acquire_lease("banyumas", "node-b", ttl).unwrap(),
            None,
            "held"
        );
        let holder = new.lease_holder("banyumas").unwrap().unwrap();
        assert_eq!((holder.holder.as_str(), holder.term), ("node-a", 1));

        // node-a "pauses" past its TTL; node-b takes over with the next term.
        std::thread::sleep(Duration::from_millis(400));
        let taken = new
            .try_acquire_lease("banyumas", "node-b", ttl)
            .unwrap()
            .unwrap();
        assert_eq!(taken.term, 2);
        new.load_state().unwrap();
        new.append("region:banyumas", &[e(2)]).unwrap();

        // node-a wakes up: its append and its renewal are refused.
        let err = old.append("region:banyumas", &[e(3)]).unwrap_err();
        assert!(
            matches!(&err, StoreError::Fenced { term: 1, detail, .. } if detail.contains("node-b")),
            "{err}"
        );
        assert!(matches!(old.renew_lease(), Err(StoreError::Fenced { .. })));
        let rows = new.read_rows(0, 10).unwrap();
        assert_eq!(
            rows.iter().map(|r| r.payload.as_str()).collect::<Vec<_>>(),
            ["{\"n\":1}", "{\"n\":2}"]
        );
        assert!(new.verify().unwrap().is_ok());
    }

    /// A node opens (or re-reads) the journal while the leader appends: the
    /// chain head and the last row are read in one snapshot, so the head is
    /// never seen past the last row (a corruption that is not there, which
    /// once kept a restarted node from starting).
    #[test]
    fn opening_while_another_node_appends_sees_one_consistent_head() {
        let Some(db) = TestDatabase::create("open_race") else {
            return;
        };
        let mut writer = PgJournal::open(&db.url).unwrap();
        writer.append("region:banyumas", &[e(0)]).unwrap();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let appending = {
            let done = std::sync::Arc::clone(&done);
            std::thread::spawn(move || {
                for i in 1..=400 {
                    writer.append("region:banyumas", &[e(i)]).unwrap();
                }
                done.store(true, std::sync::atomic::Ordering::SeqCst);
            })
        };
        let mut reader = PgJournal::open(&db.url).unwrap();
        let mut reads = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            reader.load_state().unwrap();
            PgJournal::open(&db.url).unwrap();
            reads += 1;
        }
        appending.join().unwrap();
        reader.load_state().unwrap();
        assert_eq!(reader.last_seq("region:banyumas"), 401);
        assert!(reads > 10, "only {reads} reads overlapped the appends");
    }

    #[test]
    fn a_released_lease_is_taken_at_once_and_a_held_one_renews() {
        let Some(db) = TestDatabase::create("release") else {
            return;
        };
        let mut a = PgJournal::open(&db.url).unwrap();
        let mut b = PgJournal::open(&db.url).unwrap();
        let ttl = Duration::from_secs(30);
        a.try_acquire_lease("banyumas", "node-a", ttl)
            .unwrap()
            .unwrap();
        a.renew_lease().unwrap();
        assert!(a.lease_holder("banyumas").unwrap().unwrap().expires_in_ms > 20_000);
        // A second region is independent.
        let other = b
            .try_acquire_lease("cilacap", "node-b", ttl)
            .unwrap()
            .unwrap();
        assert_eq!(other.term, 1);
        a.release_lease().unwrap();
        let mut c = PgJournal::open(&db.url).unwrap();
        let taken = c
            .try_acquire_lease("banyumas", "node-c", ttl)
            .unwrap()
            .unwrap();
        assert_eq!(taken.term, 2);
        assert!(matches!(
            a.append("region:banyumas", &[e(1)]),
            Err(StoreError::Fenced { .. })
        ));
        // Two regions' writers on different handles share one chain.
        b.append("region:cilacap", &[e(2)]).unwrap();
        c.append("region:banyumas", &[e(3)]).unwrap();
        b.append("region:cilacap", &[e(4)]).unwrap();
        let rows = c.read_rows(0, 10).unwrap();
        assert_eq!(
            rows.iter()
                .map(|r| (r.row, r.stream.as_str(), r.seq))
                .collect::<Vec<_>>(),
            [
                (1, "region:cilacap", 1),
                (2, "region:banyumas", 1),
                (3, "region:cilacap", 2)
            ]
        );
        assert!(c.verify().unwrap().is_ok());
    }

    #[test]
    fn a_newer_or_foreign_database_is_refused() {
        let Some(db) = TestDatabase::create("newer") else {
            return;
        };
        PgJournal::open(&db.url).unwrap();
        db.client()
            .batch_execute("UPDATE satria_schema SET version = 99")
            .unwrap();
        let err = PgJournal::open(&db.url).unwrap_err();
        assert!(
            matches!(err, StoreError::NewerSchema { found: 99, .. }),
            "{err}"
        );

        let Some(other) = TestDatabase::create("foreign") else {
            return;
        };
        other
            .client()
            .batch_execute("CREATE TABLE invoices (id int)")
            .unwrap();
        let err = PgJournal::open(&other.url).unwrap_err();
        assert!(err.to_string().contains("invoices"), "{err}");
        // Nothing was created in it.
        let n = other.table_count();
        assert_eq!(n, 1);
        // audit verify of an empty database says so instead of creating one.
        let Some(empty) = TestDatabase::create("empty") else {
            return;
        };
        let err = PgJournal::verify_url(&empty.url, None, &[]).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
    }

    #[test]
    fn an_unreachable_server_is_named_without_its_password() {
        let err = PgJournal::open("postgres://satria:s3cret@127.0.0.1:1/satria").unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, StoreError::Unreachable { .. }), "{text}");
        assert!(
            text.contains("postgres://satria:***@127.0.0.1:1/satria"),
            "{text}"
        );
        assert!(!text.contains("s3cret"), "{text}");
        assert!(err.is_unavailable());
        let err = PgJournal::open("not a url at all").unwrap_err();
        assert!(err.to_string().contains("not a PostgreSQL URL"), "{err}");
    }
}
