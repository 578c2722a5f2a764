use std::path::Path;
use std::sync::Arc;

use rusqlite::Connection;
use tempfile::TempDir;

use crate::{
    AccessFilter, AccessRecorder, AuthConfig, AuthError, AuthStore, HashParams, NewUser, Role,
    SCHEMA_VERSION,
};

const T0: i64 = 1_764_000_000_000;
const MIN: i64 = 60_000;

fn config() -> AuthConfig {
    AuthConfig {
        hash: HashParams::INSECURE_FAST,
        ..AuthConfig::default()
    }
}

fn setup() -> (TempDir, AuthStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = AuthStore::open_with(&db(&dir), config()).unwrap();
    (dir, store)
}

fn db(dir: &TempDir) -> std::path::PathBuf {
    dir.path().join("auth.sqlite")
}

fn user(name: &str, password: &str, role: Role) -> NewUser {
    NewUser {
        username: name.into(),
        password: password.into(),
        role,
        unit: (role == Role::Crew).then(|| "AMB-01".to_string()),
        hospital: (role == Role::Hospital).then(|| "rsud-banyumas".to_string()),
        subject: None,
    }
}

/// The result of an [`AuthStore`] recording, which is ready at once.
fn now(f: crate::Recording) -> Result<(), crate::AccessLogError> {
    let mut f = f;
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(r) => r,
        std::task::Poll::Pending => panic!("AuthStore records synchronously"),
    }
}

fn count(path: &Path, table: &str) -> i64 {
    let c = Connection::open(path).unwrap();
    c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn store_is_send_sync_and_shareable() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<AuthStore>();
    let (_dir, store) = setup();
    let _recorder: Arc<dyn AccessRecorder> = Arc::new(store);
}

#[test]
fn password_is_stored_as_argon2id_phc() {
    let (dir, store) = setup();
    store
        .add_user(
            user("dispatch.one", "sangat-rahasia-1", Role::Dispatcher),
            T0,
        )
        .unwrap();
    let c = Connection::open(db(&dir)).unwrap();
    let phc: String = c
        .query_row(
            "SELECT password_hash FROM auth_users WHERE username = 'dispatch.one'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
}

#[test]
fn default_params_are_owasp_baseline() {
    assert_eq!(
        HashParams::default(),
        HashParams {
            m_cost_kib: 19456,
            t_cost: 2,
            p_cost: 1
        }
    );
    let dir = tempfile::tempdir().unwrap();
    let store = AuthStore::open(&db(&dir)).unwrap();
    store
        .add_user(user("admin", "sangat-rahasia-1", Role::Admin), T0)
        .unwrap();
    let c = Connection::open(db(&dir)).unwrap();
    let phc: String = c
        .query_row("SELECT password_hash FROM auth_users", [], |r| r.get(0))
        .unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    // Hashes made with other parameters still verify: they carry their own.
    assert!(store.login("admin", "sangat-rahasia-1", "ip", T0).is_ok());
}

#[test]
fn database_never_holds_plain_password_or_token() {
    let (dir, store) = setup();
    let password = "PlainPassword-Marker-123";
    store
        .add_user(user("crew.a", password, Role::Crew), T0)
        .unwrap();
    let session = store.login("crew.a", password, "10.0.0.1", T0).unwrap();
    // A failed login with a password-like username must not leak it either.
    let typo = "Wrong-Field-Secret-456";
    assert_eq!(
        store
            .login(typo, "whatever-else", "10.0.0.1", T0)
            .unwrap_err(),
        AuthError::InvalidCredentials
    );
    assert!(store.authenticate(&session.token, T0 + 1).is_ok());

    // Every text and blob cell, through SQL.
    let c = Connection::open(db(&dir)).unwrap();
    for table in [
        "auth_users",
        "auth_sessions",
        "auth_login_attempts",
        "access_log",
    ] {
        let mut stmt = c.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let ncols = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..ncols {
                let cell = match row.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => {
                        String::from_utf8_lossy(b).to_lowercase()
                    }
                    _ => continue,
                };
                for secret in [password, &session.token, typo] {
                    assert!(
                        !cell.contains(&secret.to_lowercase()),
                        "{table} holds a secret: {cell}"
                    );
                }
            }
        }
    }
    drop(c);
    drop(store);
    // And the raw bytes of every file of the database (main, WAL, SHM).
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for secret in [password, session.token.as_str(), typo] {
            assert!(
                !bytes
                    .windows(secret.len())
                    .any(|w| w.eq_ignore_ascii_case(secret.as_bytes())),
                "a database file holds {secret}"
            );
        }
    }
}

#[test]
fn login_authenticate_expire_logout() {
    let (_dir, store) = setup();
    let info = store
        .add_user(user("crew.b", "ambulans-satu", Role::Crew), T0)
        .unwrap();
    let s = store.login("crew.b", "ambulans-satu", "ip1", T0).unwrap();
    assert_eq!(s.token.len(), 43);
    assert!(
        s.token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(s.expires_at_ms, T0 + 12 * 60 * MIN);
    assert_eq!(s.principal, info.principal());
    assert_eq!(s.principal.unit.as_deref(), Some("AMB-01"));
    assert_eq!(store.authenticate(&s.token, T0 + 1).unwrap(), s.principal);
    assert_eq!(
        store.authenticate(&s.token, s.expires_at_ms - 1).unwrap(),
        s.principal
    );
    assert_eq!(
        store.authenticate(&s.token, s.expires_at_ms),
        Err(AuthError::Unauthenticated)
    );

    // A second session is independent of the first.
    let s2 = store.login("crew.b", "ambulans-satu", "ip1", T0).unwrap();
    assert_ne!(s.token, s2.token);
    assert!(store.logout(&s.token).unwrap());
    assert_eq!(
        store.authenticate(&s.token, T0 + 1),
        Err(AuthError::Unauthenticated)
    );
    assert!(!store.logout(&s.token).unwrap());
    assert!(store.authenticate(&s2.token, T0 + 1).is_ok());

    for junk in ["", "x", &"A".repeat(43), &s2.token[..42]] {
        assert_eq!(
            store.authenticate(junk, T0 + 1),
            Err(AuthError::Unauthenticated)
        );
    }
    // Usernames are matched case-insensitively at login.
    assert!(store.login(" CREW.B ", "ambulans-satu", "ip1", T0).is_ok());
}

#[test]
fn session_ttl_is_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let store = AuthStore::open_with(
        &db(&dir),
        AuthConfig {
            session_ttl_ms: 10 * MIN,
            ..config()
        },
    )
    .unwrap();
    store
        .add_user(user("dispatch.c", "panggilan-119", Role::Dispatcher), T0)
        .unwrap();
    let s = store
        .login("dispatch.c", "panggilan-119", "ip", T0)
        .unwrap();
    assert_eq!(s.expires_at_ms, T0 + 10 * MIN);
    assert!(store.authenticate(&s.token, T0 + 10 * MIN - 1).is_ok());
    assert!(store.authenticate(&s.token, T0 + 10 * MIN).is_err());
}

#[test]
fn unknown_user_and_wrong_password_look_the_same() {
    let (_dir, store) = setup();
    store
        .add_user(user("rs.one", "rumah-sakit-1", Role::Hospital), T0)
        .unwrap();
    let wrong = store.login("rs.one", "salah-sandi", "a", T0).unwrap_err();
    let unknown = store.login("nobody", "salah-sandi", "b", T0).unwrap_err();
    assert_eq!(wrong, AuthError::InvalidCredentials);
    assert_eq!(unknown, wrong);
    assert_eq!(unknown.to_string(), wrong.to_string());
    let log = store.access_log(&AccessFilter::default(), 10).unwrap();
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|e| e.action == "login_failed"));
    let unknown_entry = log.iter().find(|e| e.username == "<unknown>").unwrap();
    assert_eq!(unknown_entry.user_id, None);
    assert_eq!(unknown_entry.role, None);
    assert_eq!(unknown_entry.subject, "user:<unknown>");
}

#[test]
fn revoke_ends_sessions_and_blocks_login() {
    let (dir, store) = setup();
    store
        .add_user(user("crew.c", "ambulans-dua", Role::Crew), T0)
        .unwrap();
    let s = store.login("crew.c", "ambulans-dua", "ip", T0).unwrap();
    store.revoke_user("crew.c", T0 + MIN).unwrap();
    assert_eq!(
        store.authenticate(&s.token, T0 + MIN + 1),
        Err(AuthError::Unauthenticated)
    );
    assert_eq!(count(&db(&dir), "auth_sessions"), 0);
    assert_eq!(
        store.login("crew.c", "ambulans-dua", "ip", T0 + 2 * MIN),
        Err(AuthError::InvalidCredentials)
    );
    let users = store.list_users().unwrap();
    assert_eq!(users[0].disabled_at_ms, Some(T0 + MIN));
    // Idempotent, and only one "revoke" entry.
    store.revoke_user("crew.c", T0 + 3 * MIN).unwrap();
    let revokes = store
        .access_log(&AccessFilter::default(), 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "revoke")
        .collect::<Vec<_>>();
    assert_eq!(revokes.len(), 1);
    assert_eq!(revokes[0].subject, "user:crew.c");
    assert_eq!(store.revoke_user("ghost", T0), Err(AuthError::UnknownUser));
}

#[test]
fn set_password_replaces_the_old_one_and_ends_sessions() {
    let (_dir, store) = setup();
    store
        .add_user(user("admin.a", "lama-sekali-1", Role::Admin), T0)
        .unwrap();
    let s = store.login("admin.a", "lama-sekali-1", "ip", T0).unwrap();
    assert_eq!(
        store.set_password("admin.a", "pendek", T0),
        Err(AuthError::WeakPassword)
    );
    assert!(store.authenticate(&s.token, T0 + 1).is_ok());
    store
        .set_password("admin.a", "baru-sekali-2", T0 + 1)
        .unwrap();
    assert!(store.authenticate(&s.token, T0 + 2).is_err());
    assert_eq!(
        store.login("admin.a", "lama-sekali-1", "ip", T0 + 3),
        Err(AuthError::InvalidCredentials)
    );
    assert!(
        store
            .login("admin.a", "baru-sekali-2", "ip", T0 + 4)
            .is_ok()
    );
    assert_eq!(
        store.set_password("ghost", "baru-sekali-2", T0),
        Err(AuthError::UnknownUser)
    );
}

#[test]
fn rate_limit_per_username_and_its_lifting() {
    let (_dir, store) = setup();
    store
        .add_user(user("dispatch.d", "benar-sekali", Role::Dispatcher), T0)
        .unwrap();
    // Five failures from five different clients.
    for i in 0..5 {
        assert_eq!(
            store.login(
                "dispatch.d",
                "salah-sekali",
                &format!("ip{i}"),
                T0 + i * 1000
            ),
            Err(AuthError::InvalidCredentials)
        );
    }
    let last_failure = T0 + 4000;
    // Now even the right password, from a fresh client, is refused unchecked.
    let err = store
        .login("dispatch.d", "benar-sekali", "fresh", T0 + 10_000)
        .unwrap_err();
    assert_eq!(
        err,
        AuthError::RateLimited {
            retry_after_ms: last_failure + 5 * MIN - (T0 + 10_000)
        }
    );
    assert_eq!(err.code(), "rate_limited");
    // Knocking during the lockout does not extend it.
    for i in 0..10 {
        assert!(matches!(
            store.login("dispatch.d", "salah", "fresh", T0 + 20_000 + i),
            Err(AuthError::RateLimited { .. })
        ));
    }
    assert!(matches!(
        store.login(
            "dispatch.d",
            "benar-sekali",
            "fresh",
            last_failure + 5 * MIN - 1
        ),
        Err(AuthError::RateLimited { retry_after_ms: 1 })
    ));
    // Lifted after the lockout.
    assert!(
        store
            .login(
                "dispatch.d",
                "benar-sekali",
                "fresh",
                last_failure + 5 * MIN
            )
            .is_ok()
    );
    // The success clears the username's count: one more failure does not lock.
    let t = last_failure + 6 * MIN;
    assert_eq!(
        store.login("dispatch.d", "salah", "other", t),
        Err(AuthError::InvalidCredentials)
    );
    assert!(
        store
            .login("dispatch.d", "benar-sekali", "other", t + 1)
            .is_ok()
    );
}

#[test]
fn rate_limit_per_client_key() {
    let (_dir, store) = setup();
    store
        .add_user(user("crew.e", "ambulans-tiga", Role::Crew), T0)
        .unwrap();
    // One attacker tries five different usernames from one address.
    for i in 0..5 {
        assert_eq!(
            store.login(&format!("guess{i}"), "salah-sekali", "203.0.113.9", T0 + i),
            Err(AuthError::InvalidCredentials)
        );
    }
    assert!(matches!(
        store.login("crew.e", "ambulans-tiga", "203.0.113.9", T0 + 10),
        Err(AuthError::RateLimited { .. })
    ));
    // Other clients are unaffected.
    assert!(
        store
            .login("crew.e", "ambulans-tiga", "198.51.100.7", T0 + 10)
            .is_ok()
    );
    // And the address is free again after the lockout.
    assert!(
        store
            .login("crew.e", "ambulans-tiga", "203.0.113.9", T0 + 4 + 5 * MIN)
            .is_ok()
    );
}

#[test]
fn failures_spread_beyond_the_window_do_not_lock() {
    let (_dir, store) = setup();
    store
        .add_user(user("crew.f", "ambulans-empat", Role::Crew), T0)
        .unwrap();
    // Four quick failures, then a fifth long after the first.
    for i in 0..4 {
        let _ = store.login("crew.f", "salah", "ip", T0 + i);
    }
    let _ = store.login("crew.f", "salah", "ip", T0 + 5 * MIN + 10);
    assert!(
        store
            .login("crew.f", "ambulans-empat", "ip", T0 + 5 * MIN + 20)
            .is_ok()
    );
}

#[test]
fn max_failures_and_window_are_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let store = AuthStore::open_with(
        &db(&dir),
        AuthConfig {
            max_failures: 2,
            lockout_ms: 1000,
            ..config()
        },
    )
    .unwrap();
    store
        .add_user(user("crew.g", "ambulans-lima", Role::Crew), T0)
        .unwrap();
    let _ = store.login("crew.g", "salah", "ip", T0);
    let _ = store.login("crew.g", "salah", "ip", T0 + 1);
    assert_eq!(
        store.login("crew.g", "ambulans-lima", "ip", T0 + 2),
        Err(AuthError::RateLimited {
            retry_after_ms: 999
        })
    );
    assert!(
        store
            .login("crew.g", "ambulans-lima", "ip", T0 + 1001)
            .is_ok()
    );
}

#[test]
fn invalid_users_change_nothing() {
    let (dir, store) = setup();
    store
        .add_user(user("taken", "sandi-asli-1", Role::Dispatcher), T0)
        .unwrap();
    let path = db(&dir);
    let snapshot = |store: &AuthStore| {
        (
            store.list_users().unwrap(),
            count(&path, "auth_users"),
            count(&path, "auth_sessions"),
            count(&path, "auth_login_attempts"),
            count(&path, "access_log"),
        )
    };
    let before = snapshot(&store);
    let cases: Vec<(NewUser, &str)> = vec![
        (user("ab", "cukup-panjang", Role::Admin), "invalid_username"),
        (
            user(&"a".repeat(33), "cukup-panjang", Role::Admin),
            "invalid_username",
        ),
        (
            user("Budi", "cukup-panjang", Role::Admin),
            "invalid_username",
        ),
        (
            user("budi santoso", "cukup-panjang", Role::Admin),
            "invalid_username",
        ),
        (
            user("budi@psc", "cukup-panjang", Role::Admin),
            "invalid_username",
        ),
        (user("budi", "pendek7", Role::Admin), "weak_password"),
        (user("budi", &"x".repeat(257), Role::Admin), "weak_password"),
        (
            NewUser {
                unit: None,
                ..user("crew.x", "cukup-panjang", Role::Crew)
            },
            "binding_required",
        ),
        (
            NewUser {
                unit: Some("   ".into()),
                ..user("crew.x", "cukup-panjang", Role::Crew)
            },
            "binding_required",
        ),
        (
            NewUser {
                hospital: Some("rsud".into()),
                ..user("crew.x", "cukup-panjang", Role::Crew)
            },
            "binding_not_allowed",
        ),
        (
            NewUser {
                hospital: None,
                ..user("rs.x", "cukup-panjang", Role::Hospital)
            },
            "binding_required",
        ),
        (
            NewUser {
                unit: Some("AMB-02".into()),
                ..user("rs.x", "cukup-panjang", Role::Hospital)
            },
            "binding_not_allowed",
        ),
        (
            NewUser {
                unit: Some("AMB-02".into()),
                ..user("disp.x", "cukup-panjang", Role::Dispatcher)
            },
            "binding_not_allowed",
        ),
        (
            NewUser {
                hospital: Some("rsud".into()),
                ..user("mitra.x", "cukup-panjang", Role::PattasMitra)
            },
            "binding_not_allowed",
        ),
        (
            user("taken", "lain-sekali-2", Role::Admin),
            "duplicate_username",
        ),
    ];
    for (new_user, code) in cases {
        let shown = format!("{new_user:?}");
        assert!(!shown.contains(&new_user.password) || new_user.password.is_empty());
        let err = store.add_user(new_user, T0 + 1).unwrap_err();
        assert_eq!(err.code(), code, "{shown}: {err}");
        assert_eq!(snapshot(&store), before, "{shown} changed the store");
    }
    // The original account is untouched.
    assert!(store.login("taken", "sandi-asli-1", "ip", T0 + 2).is_ok());
    // Boundaries that are fine.
    store
        .add_user(user("a.b", "12345678", Role::SalinmasOfficer), T0)
        .unwrap();
    store
        .add_user(user(&"z".repeat(32), "12345678", Role::Admin), T0)
        .unwrap();
    let hh = store
        .add_user(
            NewUser {
                subject: Some(" rumah-17 ".into()),
                ..user("hh_17", "12345678", Role::SalinmasHousehold)
            },
            T0,
        )
        .unwrap();
    assert_eq!(hh.subject.as_deref(), Some("rumah-17"));
}

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
fn error_codes_and_messages() {
    let all = [
        AuthError::InvalidCredentials,
        AuthError::RateLimited {
            retry_after_ms: 61_001,
        },
        AuthError::Unauthenticated,
        AuthError::InvalidUsername,
        AuthError::WeakPassword,
        AuthError::DuplicateUsername,
        AuthError::BindingRequired {
            role: Role::Crew,
            field: "unit",
        },
        AuthError::BindingNotAllowed {
            role: Role::Admin,
            field: "hospital",
        },
        AuthError::UnknownUser,
        AuthError::Storage("disk full".into()),
        AuthError::Internal("x".into()),
    ];
    let mut codes = std::collections::HashSet::new();
    for e in &all {
        assert!(codes.insert(e.code()), "duplicate code {}", e.code());
        assert!(!e.to_string().is_empty());
        assert!(!e.message_id().is_empty());
        assert!(!e.message_id().contains("disk full"));
    }
    assert_eq!(
        all[1].message_id(),
        "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam 62 detik."
    );
    assert_eq!(
        all[1].to_string(),
        "too many failed login attempts; try again in 62 s"
    );
    assert_eq!(
        all[6].message_id(),
        "Akun kru wajib terikat pada satu unit ambulans."
    );
}

/// With the real parameters, an unknown user costs about what a wrong
/// password does. Timing-sensitive, so not in the default run:
/// `cargo test -p satria-auth -- --ignored`.
#[test]
#[ignore]
fn unknown_user_takes_as_long_as_a_wrong_password() {
    let dir = tempfile::tempdir().unwrap();
    let store = AuthStore::open(&db(&dir)).unwrap();
    store
        .add_user(user("dispatch.t", "panggilan-119", Role::Dispatcher), T0)
        .unwrap();
    let time = |name: &str, i: i64| {
        let start = std::time::Instant::now();
        let _ = store.login(name, "salah-sekali", &format!("ip{i}"), T0 + i * 10 * MIN);
        start.elapsed().as_secs_f64()
    };
    let (mut known, mut unknown) = (0.0, 0.0);
    for i in 0..6 {
        known += time("dispatch.t", 2 * i);
        unknown += time("nobody.t", 2 * i + 1);
    }
    eprintln!("wrong password {known:.3} s, unknown user {unknown:.3} s (6 each)");
    assert!(known / unknown < 2.0 && unknown / known < 2.0);
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
fn parallel_logins_never_check_more_than_the_allowed_guesses() {
    // 40 logins for one account at once, 39 wrong and 1 right, each from its
    // own client: the attempt is counted before the password is verified, so
    // at most `max_failures` of them reach the password check.
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(AuthStore::open_with(&db(&dir), config()).unwrap());
    store
        .add_user(user("dispatch.r", "benar-sekali", Role::Dispatcher), T0)
        .unwrap();
    let barrier = Arc::new(std::sync::Barrier::new(40));
    let handles: Vec<_> = (0..40)
        .map(|i| {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let password = if i == 39 {
                    "benar-sekali"
                } else {
                    "salah-sekali"
                };
                barrier.wait();
                store.login("dispatch.r", password, &format!("ip{i}"), T0 + 1)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let wrong = results
        .iter()
        .filter(|r| matches!(r, Err(AuthError::InvalidCredentials)))
        .count();
    let limited = results
        .iter()
        .filter(|r| matches!(r, Err(AuthError::RateLimited { .. })))
        .count();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    // A success clears the count (as it always did): if the right password
    // happened to be checked before some of the others were counted, at most
    // `max_failures` more may follow it.
    assert!(ok <= 1);
    assert!(
        wrong <= 5 * (1 + ok),
        "{wrong} wrong passwords were checked ({ok} success)"
    );
    assert_eq!(wrong + limited + ok, 40);
    assert!(
        limited >= 40 - 5 * (1 + ok) - ok,
        "{limited} were rate limited"
    );
    // Every checked attempt is in the table; the refused ones are not.
    assert_eq!(count(&db(&dir), "auth_login_attempts"), (wrong + ok) as i64);
}

#[test]
fn ended_sessions_are_seen_across_handles_with_their_reason() {
    let (dir, store) = setup();
    for name in ["crew.s", "crew.t", "crew.u"] {
        store
            .add_user(user(name, "ambulans-satu", Role::Crew), T0)
            .unwrap();
    }
    let ttl = config().session_ttl_ms;
    let s = store.login("crew.s", "ambulans-satu", "ip", T0).unwrap();
    let t = store.login("crew.t", "ambulans-satu", "ip", T0).unwrap();
    let u = store.login("crew.u", "ambulans-satu", "ip", T0).unwrap();
    let live = store.session(&s.token, T0 + 1).unwrap();
    assert_eq!(live.id, crate::SessionId::of(&s.token));
    assert_eq!(live.expires_at_ms, T0 + ttl);
    assert_eq!(live.principal.username, "crew.s");
    let ids: Vec<_> = [&s, &t, &u]
        .iter()
        .map(|x| (crate::SessionId::of(&x.token), x.principal.user_id))
        .collect();
    assert_eq!(
        store.ended_sessions(&ids, T0 + 1).unwrap(),
        vec![None, None, None]
    );

    // Another handle on the same file (as `satria user revoke` is another
    // process) revokes one account and logs another session out.
    let v0 = store.data_version().unwrap();
    let other = AuthStore::open_with(&db(&dir), config()).unwrap();
    other.revoke_user("crew.s", T0 + 2).unwrap();
    other.logout(&t.token).unwrap();
    assert_ne!(store.data_version().unwrap(), v0);
    assert_eq!(
        store.ended_sessions(&ids, T0 + 3).unwrap(),
        vec![
            Some(crate::SessionEnd::Revoked),
            Some(crate::SessionEnd::LoggedOut),
            None
        ]
    );
    // Expiry needs no write at all.
    assert_eq!(
        store.ended_sessions(&ids[2..], T0 + ttl).unwrap(),
        vec![Some(crate::SessionEnd::Expired)]
    );
    assert_eq!(
        store.session(&u.token, T0 + ttl),
        Err(AuthError::Unauthenticated)
    );
    // A handle's own writes do not move its data_version.
    let v1 = store.data_version().unwrap();
    store.logout(&u.token).unwrap();
    assert_eq!(store.data_version().unwrap(), v1);
    assert_eq!(crate::SessionEnd::Revoked.code(), "session_revoked");
    assert_eq!(crate::SessionEnd::Expired.code(), "session_expired");
    assert_eq!(crate::SessionEnd::LoggedOut.code(), "logged_out");
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
    {
        let conn = store.conn();
        conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))
            .unwrap();
    }
    let err = store.write_access_batch(&big).unwrap_err();
    assert!(err.to_string().contains("full"), "{err}");
    // All or nothing: not one row of the failed batch is there.
    assert_eq!(store.verify_access_log(), Ok(before));
    {
        let conn = store.conn();
        conn.query_row("PRAGMA max_page_count = 1073741823", [], |_| Ok(()))
            .unwrap();
    }
    store.write_access_batch(&big).unwrap();
    assert_eq!(store.verify_access_log(), Ok(before + 200));
}
