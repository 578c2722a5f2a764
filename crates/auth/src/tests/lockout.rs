//! Login lockout: failures per username and per client, the window, the
//! lockout's length, and parallel logins.

use std::sync::Arc;

use super::common::{MIN, T0, config, count, db, setup, user};
use crate::{AuthConfig, AuthError, AuthStore, Role};

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
