//! The store as a whole: opening, reopening, the schema version, and
//! sharing one handle across threads.

use std::sync::Arc;

use rusqlite::Connection;

use super::common::{MIN, T0, config, db, setup, user};
use crate::{AccessRecorder, AuthError, AuthStore, Role, SCHEMA_VERSION};

#[test]
fn store_is_send_sync_and_shareable() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<AuthStore>();
    let (_dir, store) = setup();
    let _recorder: Arc<dyn AccessRecorder> = Arc::new(store);
}

#[test]
fn everything_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let token = {
        let store = AuthStore::open_with(&path, config()).unwrap();
        store
            .add_user(user("rs.k", "rumah-sakit-2", Role::Hospital), T0)
            .unwrap();
        store
            .add_user(user("crew.k", "ambulans-dua", Role::Crew), T0)
            .unwrap();
        store.revoke_user("crew.k", T0).unwrap();
        for i in 0..5 {
            let _ = store.login("rs.k", "salah-sekali", "ip", T0 + i);
        }
        let s = {
            // The lockout also survives a restart.
            assert!(matches!(
                store.login("rs.k", "rumah-sakit-2", "ip2", T0 + 10),
                Err(AuthError::RateLimited { .. })
            ));
            store
                .login("rs.k", "rumah-sakit-2", "ip2", T0 + 10 * MIN)
                .unwrap()
        };
        s.token
    };
    let store = AuthStore::open_with(&path, config()).unwrap();
    let p = store.authenticate(&token, T0 + 11 * MIN).unwrap();
    assert_eq!(p.username, "rs.k");
    assert_eq!(p.hospital.as_deref(), Some("rsud-banyumas"));
    let users = store.list_users().unwrap();
    assert_eq!(users.len(), 2);
    assert!(
        users
            .iter()
            .any(|u| u.username == "crew.k" && u.disabled_at_ms.is_some())
    );
    // revoke, five failures, one login
    assert_eq!(store.verify_access_log(), Ok(7));
    let c = Connection::open(&path).unwrap();
    let v: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION);
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    drop(AuthStore::open_with(&path, config()).unwrap());
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let err = AuthStore::open_with(&path, config()).unwrap_err();
    assert_eq!(err.code(), "storage");
}
