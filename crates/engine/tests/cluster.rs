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
    c.advertise = Some(format!("http://{node}.test:8119"));
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
    // Where to forward commands: the address the leader gave with its lease.
    assert_eq!(role.leader_addr.as_deref(), Some("http://node-a.test:8119"));
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
    // Until it ticks, the follower is two events behind the journal.
    assert_eq!((a.lag().unwrap(), b.lag().unwrap()), (0, 2));
    // The follower publishes what the leader journaled, with the same seqs.
    for expected in &out {
        let p = next(&b, &mut sub);
        assert_eq!((p.seq, &p.event), (expected.seq, &expected.event));
    }
    assert_eq!(b.last_seq(), 23);
    assert_eq!(b.lag().unwrap(), 0);
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
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let tag = ClientTag {
        user: 1,
        client_id: "w-1".into(),
    };
    let out = rt.block_on(a.submit_tagged(merah(), tag.clone())).unwrap();
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
    // The client that sent its command to the old leader sends it again to
    // the new one: answered as the first time, applied once.
    assert_eq!(
        rt.block_on(b.submit_tagged(merah(), tag.clone())),
        Err(EngineError::Duplicate {
            stream: "region:banyumas".into(),
            seqs: vec![22, 23]
        })
    );
    assert_eq!(
        b.role().leader_addr.as_deref(),
        Some("http://node-b.test:8119")
    );

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

/// Redis for a test (`SATRIA_TEST_REDIS`, or the machine's local one) with a
/// key prefix of its own, its keys deleted on drop. `None` (after printing
/// `skipped: ...`) without Redis, unless CI requires it.
struct TestRedis {
    options: RedisOptions,
}

impl TestRedis {
    fn create(test: &str) -> Option<TestRedis> {
        let url = std::env::var("SATRIA_TEST_REDIS")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string());
        let ping = redis::Client::open(url.as_str())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(2)))
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
        if let Err(e) = ping {
            if std::env::var("SATRIA_REQUIRE_SERVICES").is_ok_and(|v| v == "1") {
                panic!("Redis is required (SATRIA_REQUIRE_SERVICES=1): {e}");
            }
            println!(
                "skipped: Redis is not available ({e}); set SATRIA_REQUIRE_SERVICES=1 to require it"
            );
            return None;
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let mut options = RedisOptions::new(url);
        options.prefix = format!("satria-test:{test}:{}:{nanos}:", std::process::id());
        Some(TestRedis { options })
    }

    fn con(&self) -> redis::Connection {
        redis::Client::open(self.options.url.as_str())
            .unwrap()
            .get_connection()
            .unwrap()
    }

    fn key(&self, what: &str) -> String {
        format!("{}region:banyumas:{what}", self.options.prefix)
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let mut c = self.con();
        for k in ["events", "positions", "last-positions"] {
            let _ = redis::cmd("DEL").arg(self.key(k)).query::<i64>(&mut c);
        }
    }
}

fn with_redis(mut o: EngineOptions, r: &TestRedis) -> EngineOptions {
    if let Some(c) = o.cluster.as_mut() {
        c.redis = Some(r.options.clone());
    }
    o
}

/// The next event on `sub` without ticking anyone: only Redis can bring it.
fn heard(sub: &mut broadcast::Receiver<Arc<Published>>) -> Arc<Published> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match sub.try_recv() {
            Ok(p) => return p,
            Err(broadcast::error::TryRecvError::Empty) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(e) => panic!("nothing heard: {e:?}"),
        }
    }
}

fn moved(unit: &UnitId) -> Command {
    Command::UpdatePosition {
        unit: unit.clone(),
        at: LatLon {
            lat: -7.43,
            lon: 109.25,
        },
        device_at: None,
    }
}

#[test]
fn through_redis_a_follower_hears_events_and_positions_without_polling() {
    let (Some(db), Some(r)) = (
        TestDatabase::create("cluster_redis"),
        TestRedis::create("fanout"),
    ) else {
        return;
    };
    let clock = Clock::system();
    let a = start(
        with_redis(options(&db.url, "node-a", 3000, 1000), &r),
        &clock,
    );
    let b = start(
        with_redis(options(&db.url, "node-b", 3000, 1000), &r),
        &clock,
    );
    let mut sub = b.subscribe();
    let mut pos = b.subscribe_positions();
    // Nobody ticks `b`: what it hears came through Redis.
    let out = a.submit_blocking(merah()).unwrap();
    for expected in &out {
        let p = heard(&mut sub);
        assert_eq!((p.seq, &p.event), (expected.seq, &expected.event));
    }
    // Positions are volatile: the channel carries them while `b` listens.
    let unit = a.snapshot().units().next().unwrap().id.clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    let p = loop {
        a.submit_blocking(moved(&unit)).unwrap();
        if let Ok(p) = pos.try_recv() {
            break p;
        }
        assert!(Instant::now() < deadline, "no position heard");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(matches!(&p.event, Event::UnitMoved { unit: u, .. } if *u == unit));
    b.shutdown();
    a.shutdown();
}

#[test]
fn events_redis_lost_are_read_from_the_journal_in_order_once() {
    let (Some(db), Some(r)) = (
        TestDatabase::create("cluster_redis_gap"),
        TestRedis::create("gap"),
    ) else {
        return;
    };
    let clock = Clock::system();
    let a = start(
        with_redis(options(&db.url, "node-a", 3000, 1000), &r),
        &clock,
    );
    let b = start(
        with_redis(options(&db.url, "node-b", 3000, 1000), &r),
        &clock,
    );
    let mut sub = b.subscribe();
    // The stream's key holds something else: the leader's publications fail.
    let mut c = r.con();
    redis::cmd("SET")
        .arg(r.key("events"))
        .arg("not a stream")
        .query::<()>(&mut c)
        .unwrap();
    let lost = a.submit_blocking(merah()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(sub.try_recv().is_err(), "nothing arrived through Redis");
    // Redis is back (empty); the next publication reveals the gap.
    redis::cmd("DEL")
        .arg(r.key("events"))
        .query::<()>(&mut c)
        .unwrap();
    std::thread::sleep(Duration::from_millis(1300));
    let next = a.submit_blocking(merah()).unwrap();
    let mut seqs = Vec::new();
    for _ in 0..lost.len() + next.len() {
        seqs.push(heard(&mut sub).seq);
    }
    let expected: Vec<u64> = lost.iter().chain(&next).map(|p| p.seq).collect();
    assert_eq!(seqs, expected, "every event, in order");
    std::thread::sleep(Duration::from_millis(300));
    assert!(sub.try_recv().is_err(), "and none twice");
    assert_eq!(b.snapshot().incidents().count(), 2);
    b.shutdown();
    a.shutdown();
}

#[test]
fn a_new_leader_starts_with_the_last_positions_kept_in_redis() {
    let (Some(db), Some(r)) = (
        TestDatabase::create("cluster_redis_pos"),
        TestRedis::create("positions"),
    ) else {
        return;
    };
    let clock = Clock::system();
    let a = start(
        with_redis(options(&db.url, "node-a", 60_000, 20), &r),
        &clock,
    );
    let b = start(
        with_redis(options(&db.url, "node-b", 60_000, 20), &r),
        &clock,
    );
    let unit = a.snapshot().units().next().unwrap().id.clone();
    a.submit_blocking(moved(&unit)).unwrap();
    let mut c = r.con();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !redis::cmd("HEXISTS")
        .arg(r.key("last-positions"))
        .arg(&unit.0)
        .query::<bool>(&mut c)
        .unwrap()
    {
        assert!(Instant::now() < deadline, "the position was not kept");
        std::thread::sleep(Duration::from_millis(20));
    }
    let ttl: i64 = redis::cmd("TTL")
        .arg(r.key("last-positions"))
        .query(&mut c)
        .unwrap();
    assert!(ttl > 0 && ttl <= 600, "kept with a TTL: {ttl}");
    a.shutdown();
    tick_until(&b, "node-b leads", |b| b.role().leader);
    let fix = b.snapshot().unit(&unit).unwrap().last_fix;
    let fix = fix.expect("the new leader knows where the unit was");
    assert!((fix.at.lat - -7.43).abs() < 1e-9 && (fix.at.lon - 109.25).abs() < 1e-9);
    b.shutdown();
}

#[test]
fn a_leader_that_loses_its_database_connections_refuses_then_leads_again() {
    let Some(db) = TestDatabase::create("cluster_pg_loss") else {
        return;
    };
    let clock = Clock::system();
    let a = start(options(&db.url, "node-a", 1000, 200), &clock);
    a.submit_blocking(merah()).unwrap();
    // Every connection to the database is cut, as by a PostgreSQL restart.
    db.cut_connections();
    // Nothing is acknowledged that is not journaled: the command is refused.
    let e = a.submit_blocking(merah()).unwrap_err();
    assert!(
        matches!(e, EngineError::Journal(_) | EngineError::NotLeader { .. }),
        "{e:?}"
    );
    // It reconnects by itself and, once its old lease has run out, leads in a new term.
    tick_until(&a, "node-a leads again", |a| a.role().leader);
    assert_eq!(a.role().term, 2);
    let out = a.submit_blocking(merah()).unwrap();
    assert_eq!(out[0].event.kind(), "incident_created");
    assert_eq!(
        count(&db, "incident_created"),
        2,
        "the refused one was not written"
    );
    let report = satria_store::PgJournal::verify_url(&db.url, None, &[]).unwrap();
    assert!(report.is_ok(), "{report:?}");
    a.shutdown();
}

#[test]
fn the_leader_signs_the_shared_chain_head_into_checkpoints() {
    let Some(db) = TestDatabase::create("cluster_checkpoints") else {
        return;
    };
    let clock = Clock::manual(T0);
    let key = satria_store::AuditKey::from_seed([5; 32]);
    let public = key.public_key();
    let mut signer = satria_store::CheckpointSigner::new(key);
    signer.every_rows = 10;
    let mut o = options(&db.url, "node-a", 3000, 1000);
    o.checkpoints = Some(signer);
    let a = start(o, &clock);
    for _ in 0..3 {
        a.submit_blocking(merah()).unwrap();
    }
    // Due on the tick: 27 rows since none was signed.
    a.tick();
    let signed = |db: &TestDatabase| -> Vec<i64> {
        db.client()
            .query("SELECT row FROM checkpoints ORDER BY row", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    tick_until(&a, "a checkpoint", |_| !signed(&db).is_empty());
    let head = a.last_seq() as i64;
    assert_eq!(signed(&db), [head]);
    // Not due again until ten more rows.
    a.submit_blocking(merah()).unwrap();
    a.tick();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(signed(&db), [head]);
    // Stopping signs what is left.
    a.shutdown();
    assert_eq!(signed(&db).len(), 2);
    let ok = satria_store::PgJournal::verify_url(&db.url, Some(&public), &[]).unwrap();
    assert!(ok.is_ok() && ok.checkpoints == 2, "{ok:?}");
    let other = satria_store::AuditKey::from_seed([6; 32]).public_key();
    let wrong = satria_store::PgJournal::verify_url(&db.url, Some(&other), &[]).unwrap();
    assert!(!wrong.is_ok(), "a checkpoint under another key is refused");
}

#[test]
fn a_node_starts_from_the_leaders_newest_snapshot_in_the_shared_journal() {
    let Some(db) = TestDatabase::create("cluster_snapshot") else {
        return;
    };
    let clock = Clock::manual(T0);
    let opts = |node: &str| {
        let mut o = options(&db.url, node, 3000, 1000);
        o.snapshot_every = 30;
        o
    };
    let a = start(opts("node-a"), &clock);
    for k in 1..=12u64 {
        clock.advance_ms(1000);
        a.submit_blocking(merah()).unwrap();
        a.submit_blocking(Command::CancelIncident {
            incident: IncidentId(k),
            reason: "uji".into(),
        })
        .unwrap();
    }
    let stored = |db: &TestDatabase| -> Option<i64> {
        db.client()
            .query_opt(
                "SELECT max(seq) FROM snapshots WHERE stream = 'region:banyumas'",
                &[],
            )
            .unwrap()
            .and_then(|r| r.get(0))
    };
    tick_until(&a, "a snapshot stored by the leader", |_| {
        stored(&db).is_some_and(|s| s >= 30)
    });
    let snap_seq = stored(&db).unwrap() as u64;
    let last = a.last_seq();
    // A node joining now starts from the snapshot and tails the rest.
    let b = start(opts("node-b"), &clock);
    assert!(!b.role().leader);
    assert_eq!(
        b.restored(),
        Restored {
            snapshot_seq: Some(snap_seq),
            replayed: last - snap_seq,
        }
    );
    assert!(
        *b.snapshot() == *a.snapshot(),
        "the follower's state differs"
    );
    b.shutdown();
    a.shutdown();
}
