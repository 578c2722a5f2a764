//! Sessions: login, tokens, authentication, logout, expiry, and sessions
//! ended by another handle.

use super::common::{MIN, T0, config, db, setup, user};
use crate::{AccessFilter, AuthConfig, AuthError, AuthStore, Role};

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
