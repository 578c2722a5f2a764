//! Accounts: creating them (and what is refused), revoking them, and how
//! their passwords are stored and changed.

use rusqlite::Connection;

use super::common::{MIN, T0, count, db, setup, user};
use crate::{AccessFilter, AuthError, AuthStore, HashParams, NewUser, Role};

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
