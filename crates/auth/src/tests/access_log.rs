//! The access log: recording, filtering, the hash chain and its tamper
//! detection, batches, and a log that cannot be written.

use std::sync::Arc;

use rusqlite::Connection;

use super::common::{T0, config, db, now, setup, user};
use crate::{AccessFilter, AccessRecorder, AuthStore, Role};

#[test]
fn access_log_filters_newest_first() {
    let (_dir, store) = setup();
    let d = store
        .add_user(user("dispatch.g", "panggilan-119", Role::Dispatcher), T0)
        .unwrap()
        .principal();
    let h = store
        .add_user(user("rs.g", "rumah-sakit-9", Role::Hospital), T0)
        .unwrap()
        .principal();
    store
        .record_at(&d, "read", "incident:42", "incident detail", T0 + 1)
        .unwrap();
    store
        .record_at(&h, "read", "incident:42", "referral", T0 + 2)
        .unwrap();
    store
        .record_at(&d, "list", "incident:420", "board", T0 + 3)
        .unwrap();
    store
        .record_at(&d, "read", "pattas_beneficiary:7", "case", T0 + 4)
        .unwrap();
    now(store.record(&h, "export", "incident:43", "report")).unwrap();

    let all = store.access_log(&AccessFilter::default(), 100).unwrap();
    assert_eq!(all.len(), 5);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id));
    assert_eq!(all[0].action, "export");
    assert_eq!(all[0].role, Some(Role::Hospital));

    let by_prefix = |p: &str| {
        store
            .access_log(
                &AccessFilter {
                    subject_prefix: Some(p.into()),
                    ..Default::default()
                },
                100,
            )
            .unwrap()
            .len()
    };
    assert_eq!(by_prefix("incident:"), 4);
    assert_eq!(by_prefix("incident:42"), 3);
    assert_eq!(by_prefix("incident:%"), 0);
    assert_eq!(by_prefix("pattas_"), 1);
    let d_since = store
        .access_log(
            &AccessFilter {
                username: Some("dispatch.g".into()),
                since_ms: Some(T0 + 3),
                ..Default::default()
            },
            100,
        )
        .unwrap();
    assert_eq!(
        d_since.iter().map(|e| e.at_ms).collect::<Vec<_>>(),
        vec![T0 + 4, T0 + 3]
    );
    assert_eq!(
        store.access_log(&AccessFilter::default(), 2).unwrap().len(),
        2
    );
    assert_eq!(store.verify_access_log(), Ok(5));
}

#[test]
fn access_log_chain_detects_tampering() {
    let (dir, store) = setup();
    let p = store
        .add_user(user("crew.h", "ambulans-enam", Role::Crew), T0)
        .unwrap()
        .principal();
    store.login("crew.h", "ambulans-enam", "ip", T0).unwrap();
    let _ = store.login("crew.h", "salah-sekali", "ip", T0 + 1);
    for i in 0..5 {
        store
            .record_at(
                &p,
                "read",
                &format!("incident:{i}"),
                "assignment",
                T0 + 10 + i,
            )
            .unwrap();
    }
    assert_eq!(store.verify_access_log(), Ok(7));

    let other = Connection::open(db(&dir)).unwrap();
    // Altering a row's contents names that row.
    other
        .execute(
            "UPDATE access_log SET subject = 'incident:999' WHERE id = 4",
            [],
        )
        .unwrap();
    let err = store.verify_access_log().unwrap_err();
    assert!(err.contains("row 4"), "{err}");
    assert!(err.contains("altered"), "{err}");
    other
        .execute(
            "UPDATE access_log SET subject = 'incident:1' WHERE id = 4",
            [],
        )
        .unwrap();
    assert_eq!(store.verify_access_log(), Ok(7));

    // Rewriting the row's hash as well moves the break to the next row.
    let bad: String = other
        .query_row("SELECT hash FROM access_log WHERE id = 3", [], |r| r.get(0))
        .unwrap();
    other
        .execute(
            "UPDATE access_log SET at_ms = at_ms + 1, hash = ?1 WHERE id = 3",
            [bad.replace('a', "b").replace('0', "1")],
        )
        .unwrap();
    let err = store.verify_access_log().unwrap_err();
    assert!(err.contains("row 3"), "{err}");

    // Deleting a row names the one after the gap.
    let fresh = tempfile::tempdir().unwrap();
    let store2 = AuthStore::open_with(&db(&fresh), config()).unwrap();
    for i in 0..4 {
        store2
            .record_at(&p, "read", &format!("incident:{i}"), "x", T0 + i)
            .unwrap();
    }
    let other2 = Connection::open(db(&fresh)).unwrap();
    other2
        .execute("DELETE FROM access_log WHERE id = 2", [])
        .unwrap();
    let err = store2.verify_access_log().unwrap_err();
    assert!(err.contains("row 3"), "{err}");
    // Deleting the first row is also caught.
    other2
        .execute("DELETE FROM access_log WHERE id = 1", [])
        .unwrap();
    let err = store2.verify_access_log().unwrap_err();
    assert!(err.contains("row 3") && err.contains("first"), "{err}");
}

#[test]
fn login_and_revoke_are_in_the_access_log() {
    let (_dir, store) = setup();
    store
        .add_user(user("crew.i", "ambulans-tujuh", Role::Crew), T0)
        .unwrap();
    store
        .login("crew.i", "ambulans-tujuh", "10.1.1.1", T0)
        .unwrap();
    let _ = store.login("crew.i", "keliru-sekali", "10.1.1.1", T0 + 1);
    store.revoke_user("crew.i", T0 + 2).unwrap();
    let actions = store
        .access_log(
            &AccessFilter {
                username: Some("crew.i".into()),
                ..Default::default()
            },
            10,
        )
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.subject, e.at_ms))
        .collect::<Vec<_>>();
    assert_eq!(
        actions,
        vec![
            ("revoke".into(), "user:crew.i".into(), T0 + 2),
            ("login_failed".into(), "user:crew.i".into(), T0 + 1),
            ("login".into(), "user:crew.i".into(), T0),
        ]
    );
    assert_eq!(store.verify_access_log(), Ok(3));
}

#[test]
fn concurrent_recording_keeps_the_chain() {
    let (_dir, store) = setup();
    let store = Arc::new(store);
    let p = store
        .add_user(user("dispatch.j", "panggilan-119", Role::Dispatcher), T0)
        .unwrap()
        .principal();
    let threads = (0..4)
        .map(|t| {
            let store = Arc::clone(&store);
            let p = p.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    now(store.record(&p, "read", &format!("incident:{t}-{i}"), "board")).unwrap();
                }
            })
        })
        .collect::<Vec<_>>();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(store.verify_access_log(), Ok(100));
}

#[test]
fn recording_never_panics_on_a_broken_database() {
    let (dir, store) = setup();
    let p = store
        .add_user(user("dispatch.l", "panggilan-119", Role::Dispatcher), T0)
        .unwrap()
        .principal();
    Connection::open(db(&dir))
        .unwrap()
        .execute_batch("DROP TABLE access_log")
        .unwrap();
    // A broken log is an error for the caller (who then fails closed), not a panic.
    let err = now(store.record(&p, "read", "incident:1", "board")).unwrap_err();
    assert!(err.to_string().contains("access log"), "{err}");
    assert!(store.probe_access_log().is_err());
    assert!(store.verify_access_log().is_err());
}

#[test]
fn a_batch_of_accesses_is_chained_in_order_in_one_write() {
    let (_dir, store) = setup();
    let u = store
        .add_user(
            user("dispatcher1", "kata-sandi-uji-119", Role::Dispatcher),
            1,
        )
        .unwrap();
    let who = u.principal();
    let batch: Vec<crate::AccessRecord> = (0..50)
        .map(|k| crate::AccessRecord {
            who: who.clone(),
            action: "receive".into(),
            subject: format!("incident:{k}"),
            purpose: "websocket event".into(),
            at_ms: 1_000 + k,
        })
        .collect();
    now(store.record(&who, "read", "incident:99", "GET /api/incidents/99")).unwrap();
    now(store.record_many(batch.clone())).unwrap();
    now(store.record_many(Vec::new())).unwrap();
    // The probe writes nothing.
    store.probe_access_log().unwrap();
    assert_eq!(store.verify_access_log(), Ok(51));
    let log = store.access_log(&AccessFilter::default(), 100).unwrap();
    let subjects: Vec<&str> = log.iter().map(|e| e.subject.as_str()).collect();
    for k in 0..50 {
        assert!(subjects.contains(&format!("incident:{k}").as_str()));
    }
}

#[test]
fn a_full_access_log_is_an_error_and_writes_again_once_there_is_room() {
    let (dir, store) = setup();
    let p = store
        .add_user(user("dispatch.f", "panggilan-119", Role::Dispatcher), T0)
        .unwrap()
        .principal();
    // A real "database or disk is full": cap the file at its current size.
    let c = Connection::open(db(&dir)).unwrap();
    let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    let big: Vec<crate::AccessRecord> = (0..200)
        .map(|k| crate::AccessRecord {
            who: p.clone(),
            action: "read".into(),
            subject: format!("incident:{k}"),
            purpose: "x".repeat(500),
            at_ms: T0 + k,
        })
        .collect();
    store
        .record_at(&p, "read", "incident:0", "board", T0)
        .unwrap();
    let before = store.verify_access_log().unwrap();
    store.sqlite_pragma(&format!("PRAGMA max_page_count = {pages}"));
    let err = store.write_access_batch(&big).unwrap_err();
    assert!(err.to_string().contains("full"), "{err}");
    // All or nothing: not one row of the failed batch is there.
    assert_eq!(store.verify_access_log(), Ok(before));
    store.sqlite_pragma("PRAGMA max_page_count = 1073741823");
    store.write_access_batch(&big).unwrap();
    assert_eq!(store.verify_access_log(), Ok(before + 200));
}
