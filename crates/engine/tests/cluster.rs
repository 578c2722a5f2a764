//! Several engines on one PostgreSQL journal: one leads the region by its
//! lease, the others follow the journal and refuse commands; a takeover
//! fences the old leader, and the new one resumes the journaled deadlines
//! (none lost, none fired twice). Each test has a database of its own; without
//! PostgreSQL they print `skipped: ...` (CI requires it).

use satria_dispatch::*;
use satria_engine::*;
use satria_store::pg::testing::TestDatabase;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

const T0: i64 = 1_790_000_000_000;

fn options(url: &str, node: &str, ttl_ms: u64, renew_ms: u64) -> EngineOptions {
    let mut o = EngineOptions::new("unused-in-a-cluster");
    o.initial_units = demo_fleet();
    o.hospitals = demo_hospitals();
    o.tick_ms = 3_600_000; // ticks are driven by hand
    let mut c = ClusterOptions::new(url, node);
    c.lease_ttl = Duration::from_millis(ttl_ms);
    c.renew_every = Duration::from_millis(renew_ms);
    o.cluster = Some(c);
    o
}

fn start(o: EngineOptions, clock: &Clock) -> Engine {
    Engine::start(o, Box::new(StraightLine::default()), clock.clone()).unwrap()
}

fn merah() -> Command {
    Command::CreateIncident {
        caller_name: "Ani".into(),
        caller_phone: "0812".into(),
        location: LatLon {
            lat: -7.4575,
            lon: 109.2870,
        },
        address: Address {
            desa: "Sokanegara".into(),
            ..Address::default()
        },
        triage: Triage::Merah,
        category: Category::Accident,
        patients: 1,
        notes: "tabrakan motor".into(),
    }
}

/// Ticks `engine` (every 20 ms) until `done` holds; fails after 10 s.
fn tick_until(engine: &Engine, what: &str, mut done: impl FnMut(&Engine) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(engine) {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        engine.tick();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The next published event, ticking the (following) engine meanwhile.
fn next(engine: &Engine, sub: &mut broadcast::Receiver<Arc<Published>>) -> Arc<Published> {
    let mut got = None;
    tick_until(engine, "the next event", |_| {
        got = sub.try_recv().ok();
        got.is_some()
    });
    got.unwrap()
}

/// How many journaled events of `kind` the database holds.
fn count(db: &TestDatabase, kind: &str) -> i64 {
    db.client()
        .query_one("SELECT count(*) FROM entries WHERE kind = $1", &[&kind])
        .unwrap()
        .get(0)
}

#[test]
fn one_node_leads_the_others_follow_the_journal_and_refuse_commands() {
    let Some(db) = TestDatabase::create("cluster_follow") else {
        return;
    };
    let clock = Clock::manual(T0);
    let a = start(options(&db.url, "node-a", 3000, 1000), &clock);
    let role = a.role();
    assert!(role.leader, "{role:?}");
    assert_eq!((role.term, role.node_id.as_str()), (1, "node-a"));
    assert_eq!(a.last_seq(), 21, "the first leader registers the fleet");

    let b = start(options(&db.url, "node-b", 3000, 1000), &clock);
    let role = b.role();
    assert!(!role.leader, "{role:?}");
    assert_eq!(role.leader_id.as_deref(), Some("node-a"));
    assert_eq!(
        b.snapshot().units().count(),
        21,
        "the fleet is not registered twice"
    );
    assert_eq!(count(&db, "unit_registered"), 21);

    let mut sub = b.subscribe();
    let out = a.submit_blocking(merah()).unwrap();
    let seqs: Vec<_> = out.iter().map(|p| (p.event.kind(), p.seq)).collect();
    assert_eq!(seqs, [("incident_created", 22), ("unit_assigned", 23)]);
    // The follower publishes what the leader journaled, with the same seqs.
    for expected in &out {
        let p = next(&b, &mut sub);
        assert_eq!((p.seq, &p.event), (expected.seq, &expected.event));
    }
    assert_eq!(b.last_seq(), 23);
    assert_eq!(b.snapshot().incidents().count(), 1);
    // It answers reads from its own state ...
    let rec = b.recommend_blocking(IncidentId(1)).unwrap();
    assert!(!rec.candidates.is_empty());
    // ... and refuses commands, naming the leader, with nothing written.
    let e = b.submit_blocking(merah()).unwrap_err();
    assert_eq!(
        e,
        EngineError::NotLeader {
            leader: Some("node-a".into())
        }
    );
    assert!(e.to_string().contains("node-a"), "{e}");
    assert_eq!(count(&db, "incident_created"), 1);
    b.shutdown();
    a.shutdown();
}

#[test]
fn a_takeover_fences_the_paused_leader_and_resumes_its_deadlines_once() {
    let Some(db) = TestDatabase::create("cluster_takeover") else {
        return;
    };
    let clock = Clock::manual(T0);
    // `a` would renew only after a minute: it behaves as a leader that was paused.
    let a = start(options(&db.url, "node-a", 120_000, 60_000), &clock);
    let b = start(options(&db.url, "node-b", 3000, 20), &clock);
    assert!(a.role().leader && !b.role().leader);
    let out = a.submit_blocking(merah()).unwrap();
    assert_eq!(out[1].event.kind(), "unit_assigned");

    // Its lease runs out while it is paused; `b` takes it in a new term.
    db.client()
        .execute(
            "UPDATE leases SET expires_at = clock_timestamp() - interval '1 millisecond'",
            &[],
        )
        .unwrap();
    tick_until(&b, "node-b leads", |b| b.role().leader);
    assert_eq!(b.role().term, 2);
    assert_eq!(b.last_seq(), 23, "it caught up before leading");

    // The old leader wakes and writes: fenced, nothing written, it steps down.
    let e = a.submit_blocking(merah()).unwrap_err();
    assert!(matches!(e, EngineError::NotLeader { .. }), "{e:?}");
    assert!(!a.role().leader);
    assert_eq!(count(&db, "incident_created"), 1);
    let e = a.submit_blocking(merah()).unwrap_err();
    assert!(matches!(e, EngineError::NotLeader { .. }), "{e:?}");

    // The acknowledgement deadline passes: only the leader fires it, once.
    let mut a_sub = a.subscribe();
    clock.set_ms(T0 + 61_000);
    a.tick();
    b.tick();
    tick_until(&b, "the timeout is journaled", |_| {
        count(&db, "assignment_timed_out") == 1
    });
    for _ in 0..5 {
        a.tick();
        b.tick();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(count(&db, "assignment_timed_out"), 1);
    // The old leader, following now, hears it like everyone else.
    let p = next(&a, &mut a_sub);
    assert_eq!((p.seq, p.event.kind()), (24, "assignment_timed_out"));
    // The new leader takes commands, and the one chain verifies.
    let out = b.submit_blocking(merah()).unwrap();
    assert_eq!(out[0].event.kind(), "incident_created");
    let report = satria_store::PgJournal::verify_url(&db.url, None, &[]).unwrap();
    assert!(report.is_ok(), "{report:?}");
    a.shutdown();
    b.shutdown();
}

#[test]
fn a_clean_shutdown_hands_the_region_over_without_waiting_for_the_lease() {
    let Some(db) = TestDatabase::create("cluster_handover") else {
        return;
    };
    let clock = Clock::manual(T0);
    // A minute-long lease: only its release lets `b` lead within the test.
    let a = start(options(&db.url, "node-a", 60_000, 20), &clock);
    let b = start(options(&db.url, "node-b", 60_000, 20), &clock);
    a.submit_blocking(merah()).unwrap();
    a.shutdown();
    tick_until(&b, "node-b leads", |b| b.role().leader);
    assert_eq!(b.role().term, 2);
    assert_eq!(b.snapshot().incidents().count(), 1);
    let out = b.submit_blocking(merah()).unwrap();
    assert_eq!(out[0].seq, 24);
    b.shutdown();
}
