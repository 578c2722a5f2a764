//! The store on PostgreSQL, as the nodes of a cluster share it: two handles
//! on one database stand for two nodes. Each test has a database of its own;
//! without PostgreSQL they print `skipped: ...` (CI requires it).

use std::sync::Arc;

use satria_store::pg::testing::TestDatabase;

use super::common::{MIN, T0, config, user};
use crate::{AccessFilter, AuthError, AuthStore, Role, SessionEnd, SessionId};

fn node(db: &TestDatabase) -> AuthStore {
    AuthStore::open_postgres(&db.url, config()).unwrap()
}

#[test]
fn a_login_on_one_node_is_a_session_on_every_node() {
    let Some(db) = TestDatabase::create("auth_sessions") else {
        return;
    };
    let (a, b) = (node(&db), node(&db));
    let u = a
        .add_user(user("dispatch.a", "benar-sekali", Role::Dispatcher), T0)
        .unwrap();
    assert_eq!(u.id, 1);
    assert_eq!(
        b.add_user(user("dispatch.a", "lain-sekali", Role::Dispatcher), T0),
        Err(AuthError::DuplicateUsername)
    );
    assert_eq!(b.list_users().unwrap(), vec![u.clone()]);
    let s = a.login("dispatch.a", "benar-sekali", "ip1", T0).unwrap();
    // The other node knows the token.
    assert_eq!(b.authenticate(&s.token, T0 + 1).unwrap(), u.principal());
    let live = b.session(&s.token, T0 + 1).unwrap();
    assert_eq!(live.id, SessionId::of(&s.token));
    assert_eq!(
        b.ended_sessions(&[(live.id, u.id)], T0 + 1).unwrap(),
        [None]
    );
    // Expiry is judged by time, as on SQLite.
    assert_eq!(
        b.authenticate(&s.token, s.expires_at_ms),
        Err(AuthError::Unauthenticated)
    );
    // Logged out on `a`: ended on `b`, and `b`'s data version moved.
    let v = b.data_version().unwrap();
    assert!(a.logout(&s.token).unwrap());
    assert!(!a.logout(&s.token).unwrap());
    assert_ne!(b.data_version().unwrap(), v);
    assert_eq!(
        b.ended_sessions(&[(live.id, u.id)], T0 + 2).unwrap(),
        [Some(SessionEnd::LoggedOut)]
    );
    assert_eq!(
        b.authenticate(&s.token, T0 + 2),
        Err(AuthError::Unauthenticated)
    );
    // Revoked on `b`: refused on `a`, with the reason.
    let s = a
        .login("dispatch.a", "benar-sekali", "ip1", T0 + 3)
        .unwrap();
    let id = SessionId::of(&s.token);
    let v = a.data_version().unwrap();
    b.revoke_user("dispatch.a", T0 + 4).unwrap();
    assert_ne!(a.data_version().unwrap(), v);
    assert_eq!(
        a.ended_sessions(&[(id, u.id)], T0 + 5).unwrap(),
        [Some(SessionEnd::Revoked)]
    );
    assert_eq!(
        a.login("dispatch.a", "benar-sekali", "ip1", T0 + 6),
        Err(AuthError::InvalidCredentials)
    );
    // A password change on one node ends the sessions everywhere.
    b.add_user(user("crew.b", "benar-sekali", Role::Crew), T0)
        .unwrap();
    let s = a.login("crew.b", "benar-sekali", "ip2", T0 + 7).unwrap();
    b.set_password("crew.b", "baru-sekali-ini", T0 + 8).unwrap();
    assert_eq!(
        a.authenticate(&s.token, T0 + 9),
        Err(AuthError::Unauthenticated)
    );
    assert!(a.login("crew.b", "baru-sekali-ini", "ip2", T0 + 10).is_ok());
    assert_eq!(
        a.set_password("nobody", "baru-sekali-ini", T0),
        Err(AuthError::UnknownUser)
    );
}

#[test]
fn the_lockout_counts_failures_on_every_node() {
    let Some(db) = TestDatabase::create("auth_lockout") else {
        return;
    };
    let nodes = [node(&db), node(&db)];
    nodes[0]
        .add_user(user("dispatch.d", "benar-sekali", Role::Dispatcher), T0)
        .unwrap();
    // Five failures, alternating between the nodes and the clients.
    for i in 0..5 {
        assert_eq!(
            nodes[(i % 2) as usize].login(
                "dispatch.d",
                "salah-sekali",
                &format!("ip{i}"),
                T0 + i * 1000
            ),
            Err(AuthError::InvalidCredentials)
        );
    }
    let err = nodes[1]
        .login("dispatch.d", "benar-sekali", "fresh", T0 + 10_000)
        .unwrap_err();
    assert_eq!(
        err,
        AuthError::RateLimited {
            retry_after_ms: T0 + 4000 + 5 * MIN - (T0 + 10_000)
        }
    );
    assert!(
        nodes[0]
            .login("dispatch.d", "benar-sekali", "fresh", T0 + 4000 + 5 * MIN)
            .is_ok()
    );
}

#[test]
fn parallel_guesses_on_two_nodes_check_no_more_passwords_than_allowed() {
    let Some(db) = TestDatabase::create("auth_parallel") else {
        return;
    };
    let nodes = Arc::new([node(&db), node(&db)]);
    nodes[0]
        .add_user(user("dispatch.p", "benar-sekali", Role::Dispatcher), T0)
        .unwrap();
    let threads: Vec<_> = (0..12)
        .map(|i| {
            let nodes = Arc::clone(&nodes);
            std::thread::spawn(move || {
                nodes[i % 2].login("dispatch.p", "salah-sekali", &format!("ip{i}"), T0)
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let checked = results
        .iter()
        .filter(|r| **r == Err(AuthError::InvalidCredentials))
        .count();
    let limited = results
        .iter()
        .filter(|r| matches!(r, Err(AuthError::RateLimited { .. })))
        .count();
    assert_eq!((checked, limited), (5, 7), "{results:?}");
}

#[test]
fn the_access_log_is_one_chain_across_nodes_and_names_an_edited_row() {
    let Some(db) = TestDatabase::create("auth_access_log") else {
        return;
    };
    let nodes = Arc::new([node(&db), node(&db)]);
    let p = nodes[0]
        .add_user(user("dispatch.l", "benar-sekali", Role::Dispatcher), T0)
        .unwrap()
        .principal();
    // Both nodes record at once; the chain stays one.
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (nodes, p) = (Arc::clone(&nodes), p.clone());
            std::thread::spawn(move || {
                for k in 0..25 {
                    nodes[t % 2]
                        .record_at(&p, "read", &format!("incident:{t}{k}"), "board", T0 + k)
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(nodes[1].verify_access_log(), Ok(100));
    // Probing writes nothing.
    nodes[0].probe_access_log().unwrap();
    assert_eq!(nodes[0].verify_access_log(), Ok(100));
    let rows = nodes[1]
        .access_log(
            &AccessFilter {
                subject_prefix: Some("incident:1".into()),
                username: Some("dispatch.l".into()),
                since_ms: Some(T0 + 20),
            },
            100,
        )
        .unwrap();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r.subject.starts_with("incident:1") && r.at_ms >= T0 + 20)
    );
    assert!(rows.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    assert_eq!(
        nodes[0]
            .access_log(&AccessFilter::default(), 1000)
            .unwrap()
            .len(),
        100
    );
    // An edit behind the store's back is named by its row.
    db.client()
        .execute("UPDATE access_log SET purpose = 'lain' WHERE id = 42", &[])
        .unwrap();
    let err = nodes[0].verify_access_log().unwrap_err();
    assert!(err.contains("row 42") && err.contains("altered"), "{err}");
}

#[test]
fn a_newer_accounts_schema_is_refused_and_reopening_migrates_nothing() {
    let Some(db) = TestDatabase::create("auth_schema") else {
        return;
    };
    node(&db)
        .add_user(user("admin.s", "benar-sekali", Role::Admin), T0)
        .unwrap();
    // Reopened: nothing is created twice and nothing lost.
    assert_eq!(node(&db).list_users().unwrap().len(), 1);
    db.client()
        .execute("UPDATE auth_schema SET version = 99", &[])
        .unwrap();
    let err = AuthStore::open_postgres(&db.url, config()).unwrap_err();
    assert!(err.to_string().contains("newer"), "{err}");
}

#[test]
fn an_unreachable_database_is_named_without_its_password() {
    let url = "postgres://satria:geheim@127.0.0.1:1/none?connect_timeout=1";
    let err = AuthStore::open_postgres(url, config())
        .unwrap_err()
        .to_string();
    assert!(
        !err.contains("geheim") && err.contains("127.0.0.1:1"),
        "{err}"
    );
}

#[test]
fn a_centres_accounts_copy_into_the_cluster_with_their_sessions_and_access_log() {
    let Some(db) = TestDatabase::create("auth_copy") else {
        return;
    };
    let (_dir, local) = super::common::setup();
    let d = local
        .add_user(user("dispatch.c", "benar-sekali", Role::Dispatcher), T0)
        .unwrap();
    local
        .add_user(user("crew.c", "benar-sekali", Role::Crew), T0)
        .unwrap();
    local.revoke_user("crew.c", T0 + 1).unwrap();
    let s = local
        .login("dispatch.c", "benar-sekali", "ip", T0 + 2)
        .unwrap();
    local
        .record_at(&d.principal(), "read", "incident:1", "board", T0 + 3)
        .unwrap();
    let logged = local.verify_access_log().unwrap();

    let cluster = node(&db);
    let r = local.copy_into(&cluster, T0 + 4).unwrap();
    assert_eq!(
        (r.users, r.sessions, r.access_log, r.already),
        (2, 1, logged, false)
    );
    // The log is the same chain, row for row, hash for hash.
    assert_eq!(
        cluster.access_log(&AccessFilter::default(), 100).unwrap(),
        local.access_log(&AccessFilter::default(), 100).unwrap()
    );
    // A second run finds its own copy and writes nothing.
    assert!(local.copy_into(&cluster, T0 + 4).unwrap().already);
    // The console stays logged in; the revoked account stays revoked.
    assert_eq!(
        cluster.authenticate(&s.token, T0 + 5).unwrap(),
        d.principal()
    );
    assert_eq!(
        cluster.login("crew.c", "benar-sekali", "ip", T0 + 5),
        Err(AuthError::InvalidCredentials)
    );
    // New accounts get new ids after the copied ones.
    let n = cluster
        .add_user(user("admin.c", "benar-sekali", Role::Admin), T0 + 6)
        .unwrap();
    assert_eq!(n.id, 3);
    assert!(cluster.verify_access_log().unwrap() > logged);
    // Another centre's accounts are refused, and nothing changes.
    let (_dir2, other) = super::common::setup();
    other
        .add_user(user("lain.c", "benar-sekali", Role::Admin), T0)
        .unwrap();
    let err = other.copy_into(&cluster, T0 + 7).unwrap_err().to_string();
    assert!(err.contains("holds other accounts"), "{err}");
    assert_eq!(cluster.list_users().unwrap().len(), 3);
}

#[test]
fn after_the_database_cut_its_connections_the_next_calls_work_again() {
    let Some(db) = TestDatabase::create("auth_reconnect") else {
        return;
    };
    let store = node(&db);
    store
        .add_user(user("dispatch.r", "benar-sekali", Role::Dispatcher), T0)
        .unwrap();
    let s = store.login("dispatch.r", "benar-sekali", "ip", T0).unwrap();
    // As a PostgreSQL restart does: every session of the database ends.
    db.cut_connections();
    // The next call finds the connection dead and makes a new one, without
    // restarting the node (one failure is allowed for a cut that lands
    // between the check and the query).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut failures = 0;
    loop {
        match store.authenticate(&s.token, T0 + 1) {
            Ok(p) => {
                assert_eq!(p.username, "dispatch.r");
                break;
            }
            Err(e) => {
                failures += 1;
                assert!(matches!(e, AuthError::Storage(_)), "{e:?}");
                assert!(
                    std::time::Instant::now() < deadline,
                    "never reconnected: {e}"
                );
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }
    assert!(failures <= 1, "{failures} calls failed");
    store
        .record_at(
            &store.user("dispatch.r").unwrap().unwrap().principal(),
            "read",
            "incident:1",
            "board",
            T0 + 2,
        )
        .unwrap();
    assert_eq!(store.verify_access_log().unwrap(), 2);
}

#[test]
fn accounts_made_before_any_node_started_leave_room_for_the_journal() {
    let Some(db) = TestDatabase::create("auth_first") else {
        return;
    };
    node(&db)
        .add_user(user("admin.f", "benar-sekali", Role::Admin), T0)
        .unwrap();
    // The journal opens in the same database, and the accounts are still there.
    let j = satria_store::PgJournal::open(&db.url).unwrap();
    assert_eq!(j.last_row(), 0);
    assert_eq!(node(&db).list_users().unwrap().len(), 1);
}

/// While the database does not answer, a session the node saw live is
/// trusted until it expires; a token it never saw is not refused as
/// unauthenticated (nothing says it is invalid) but as a storage failure; and
/// once the database answers, a logout made meanwhile elsewhere counts again.
#[test]
fn sessions_seen_live_are_trusted_from_memory_while_the_database_is_away() {
    let Some(db) = TestDatabase::create("auth_outage") else {
        return;
    };
    let (a, b) = (node(&db), node(&db));
    let u = a
        .add_user(user("dispatch.a", "benar-sekali", Role::Dispatcher), T0)
        .unwrap();
    let seen = a.login("dispatch.a", "benar-sekali", "ip1", T0).unwrap();
    let unseen = a.login("dispatch.a", "benar-sekali", "ip1", T0).unwrap();
    assert_eq!(b.authenticate(&seen.token, T0 + 1).unwrap(), u.principal());

    let admin = satria_store::pg::testing::admin_url();
    let mut c = satria_store::pg::connect(&admin).unwrap();
    let allow = |c: &mut postgres::Client, yes: bool| {
        c.batch_execute(&format!(
            "ALTER DATABASE \"{}\" ALLOW_CONNECTIONS {yes}",
            db.name()
        ))
        .unwrap();
    };
    allow(&mut c, false);
    c.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
        &[&db.name()],
    )
    .unwrap();
    assert_eq!(b.authenticate(&seen.token, T0 + 2).unwrap(), u.principal());
    assert!(matches!(
        b.authenticate(&unseen.token, T0 + 2),
        Err(AuthError::Storage(_))
    ));
    // Not past its expiry, database or not.
    assert!(matches!(
        b.authenticate(&seen.token, seen.expires_at_ms),
        Err(AuthError::Storage(_))
    ));
    allow(&mut c, true);
    // The database answers again: a logout (on another node) is seen at once.
    assert!(a.logout(&seen.token).unwrap());
    assert_eq!(
        b.authenticate(&seen.token, T0 + 3),
        Err(AuthError::Unauthenticated)
    );
    allow(&mut c, false);
    c.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
        &[&db.name()],
    )
    .unwrap();
    assert!(
        matches!(
            b.authenticate(&seen.token, T0 + 4),
            Err(AuthError::Storage(_))
        ),
        "a session seen ended is no longer trusted"
    );
    allow(&mut c, true);
}
