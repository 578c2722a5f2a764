//! Criterion benchmarks of the dispatch engine on the demo region (seed 119, scale 1.0),
//! through the real [`Engine`]: journal in a temporary folder (SQLite WAL, fsync), drive
//! times over the demo road graph.
//!
//! - `engine/positions`: UpdatePosition commands applied by the single writer, 60 units
//!   moving by 10-40 m steps inside the regency, 1024 commands in flight.
//! - `engine/recommend_60_units`: `recommend_blocking` for an incident at a desa centroid
//!   with 60 available units with fresh positions, exact drive time for all of them.
//! - `engine/create_incident_ack`: `submit_blocking` of a CreateIncident until its
//!   durable acknowledgement (kuning: no automatic assignment; merah: one recommendation
//!   and an assignment in the same step).
//!
//! Criterion gives means; under `cargo bench` each group also prints p50/p99/max over
//! its own sample (criterion has no percentiles) and where the time goes: snapping and
//! the search of a recommendation on the road layer alone (with the nodes settled), the
//! acknowledgement with 0..1000 and with 10,000 incidents held (all open, and all
//! cancelled as history is), the cost of the state clone the actor publishes as the
//! snapshot, and one bare journal append (the fsync floor). A criterion filter also selects these passes, e.g. `-- recommend_60`.
//! `-- history_100000` fills a journal with 100,000 incidents and times the acknowledgement
//! on it and a start with and without snapshots; `-- history_100000_archived` the same with
//! the incidents archived out of the live state as they end.
//! `-- journal_start` prints what start-up verification of a 200,000-row journal
//! costs, the first time and the next.
//! `cargo test --benches` runs each benchmark once, without the extra passes.
//!
//! The demo graph is generated once into `target/bench-data/` (shared with
//! `benches/roads.rs`). Run: `cargo bench -p satria-engine --bench engine`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use satria_dispatch::{
    Address, Category, Command, Config, IncidentId, LatLon, Owner, Timestamp, Triage, Unit,
    UnitType, demo_fleet, demo_hospitals,
};
use satria_engine::{Clock, Engine, EngineOptions, RoadDriveTimes};
use satria_roads::{DriveTimeEngine, RoadNetwork, Stop};
use std::collections::VecDeque;
use std::hint::black_box;

#[path = "common/mod.rs"]
mod common;
use common::demo_files;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Regency bounding box used for random moves (lat, lon).
const LAT: (f64, f64) = (-7.65, -7.25);
const LON: (f64, f64) = (108.85, 109.45);
/// Position commands in flight at once.
const WINDOW: usize = 1024;
/// Position commands per criterion iteration.
const BATCH: u64 = 16_384;

/// Whether to print the percentiles of group `name`: only under `cargo bench` (which
/// passes `--bench`; `cargo test --benches` does not) and when the criterion filter, if
/// any, matches the group.
fn full_run(name: &str) -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    args.iter().any(|a| a == "--bench")
        && (filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
}

fn ll(p: satria_region::LatLon) -> LatLon {
    LatLon {
        lat: p.lat,
        lon: p.lon,
    }
}

/// The 21 units of the demo fleet and 39 more at seeded desa centroids: 60 units.
fn fleet_60() -> Vec<Unit> {
    let region = satria_region::Region::banyumas();
    let mut rng = ChaCha8Rng::seed_from_u64(60);
    let mut units = demo_fleet();
    for k in 0..39 {
        let d = &region.desa[rng.gen_range(0..region.desa.len())];
        let (t, owner) = match k % 3 {
            0 => (UnitType::Als, Owner::Hospital),
            1 => (UnitType::Bls, Owner::Puskesmas),
            _ => (UnitType::Bls, Owner::Volunteer),
        };
        units.push(Unit::new(
            &format!("BEN-{:02}", k + 1),
            &format!("Bench {:02}", k + 1),
            t,
            owner,
            &d.name,
            ll(d.centroid),
            &[],
        ));
    }
    units
}

fn incident(location: LatLon, triage: Triage) -> Command {
    Command::CreateIncident {
        caller_name: "Budi".into(),
        caller_phone: "081234567890".into(),
        location,
        address: Address {
            desa: "Sokanegara".into(),
            ..Address::default()
        },
        triage,
        category: Category::Medical,
        patients: 1,
        notes: "sesak napas".into(),
    }
}

/// Seeded desa centroids.
fn desa_points(seed: u64, n: usize) -> Vec<LatLon> {
    let region = satria_region::Region::banyumas();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| ll(region.desa[rng.gen_range(0..region.desa.len())].centroid))
        .collect()
}

fn engine(
    dir: &std::path::Path,
    net: &Arc<RoadNetwork>,
    units: Vec<Unit>,
    config: Config,
    clock: satria_engine::Clock,
) -> Engine {
    let mut o = EngineOptions::new(dir);
    o.initial_units = units;
    o.hospitals = demo_hospitals();
    o.config = config;
    o.tick_ms = 3_600_000; // no deadline work during a measurement
    Engine::start(o, Box::new(RoadDriveTimes::new(Arc::clone(net))), clock).expect("engine")
}

fn percentiles(name: &str, mut us: Vec<f64>) {
    us.sort_by(f64::total_cmp);
    let q = |p: f64| us[((us.len() as f64 * p).ceil() as usize).clamp(1, us.len()) - 1];
    let mean = us.iter().sum::<f64>() / us.len() as f64;
    println!(
        "{name}: n={} mean {:.3} ms, p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        us.len(),
        mean / 1000.0,
        q(0.50) / 1000.0,
        q(0.99) / 1000.0,
        us[us.len() - 1] / 1000.0
    );
}

/// 60 units driving around the regency by 10-40 m steps: an endless stream of
/// UpdatePosition commands.
struct Movers {
    rng: ChaCha8Rng,
    ids: Vec<satria_dispatch::UnitId>,
    at: Vec<(LatLon, f64)>,
    next: usize,
}

impl Movers {
    fn new(units: &[Unit]) -> Movers {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let at = units
            .iter()
            .map(|u| (u.base, rng.gen_range(0.0..std::f64::consts::TAU)))
            .collect();
        Movers {
            rng,
            ids: units.iter().map(|u| u.id.clone()).collect(),
            at,
            next: 0,
        }
    }

    fn command(&mut self) -> Command {
        let k = self.next;
        self.next = (self.next + 1) % self.ids.len();
        let (p, heading) = &mut self.at[k];
        *heading += self.rng.gen_range(-0.3..0.3);
        let step_m = self.rng.gen_range(10.0..40.0);
        let mut lat = p.lat + step_m * heading.cos() / 111_320.0;
        let mut lon = p.lon + step_m * heading.sin() / 110_400.0;
        if !(LAT.0..LAT.1).contains(&lat) || !(LON.0..LON.1).contains(&lon) {
            // Turn back at the edge of the regency.
            *heading += std::f64::consts::PI;
            lat = p.lat;
            lon = p.lon;
        }
        *p = LatLon { lat, lon };
        Command::UpdatePosition {
            unit: self.ids[k].clone(),
            at: *p,
            device_at: Some(Timestamp(1_790_000_000_000)),
        }
    }
}

/// The reply to a command submitted with `try_submit`.
type Reply = tokio::sync::oneshot::Receiver<
    Result<Vec<satria_engine::Published>, satria_engine::EngineError>,
>;

/// Sends `n` position commands keeping `WINDOW` in flight, and waits for all replies.
fn pump(engine: &Engine, movers: &mut Movers, n: u64) -> Duration {
    let mut inflight: VecDeque<Reply> = VecDeque::with_capacity(WINDOW);
    let t0 = Instant::now();
    for _ in 0..n {
        if inflight.len() >= WINDOW {
            let rx = inflight.pop_front().expect("window");
            rx.blocking_recv()
                .expect("reply")
                .expect("position accepted");
        }
        let mut cmd = movers.command();
        loop {
            match engine.try_submit(cmd) {
                Ok(rx) => {
                    inflight.push_back(rx);
                    break;
                }
                Err(satria_engine::EngineError::Busy) => {
                    // Never with WINDOW < inbox; kept for safety.
                    if let Some(rx) = inflight.pop_front() {
                        rx.blocking_recv()
                            .expect("reply")
                            .expect("position accepted");
                    }
                    cmd = movers.command();
                }
                Err(e) => panic!("{e}"),
            }
        }
    }
    for rx in inflight {
        rx.blocking_recv()
            .expect("reply")
            .expect("position accepted");
    }
    t0.elapsed()
}

fn positions(c: &mut Criterion, net: &Arc<RoadNetwork>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let units = fleet_60();
    let engine = engine(
        dir.path(),
        net,
        units.clone(),
        Config::default(),
        Clock::system(),
    );
    let mut movers = Movers::new(&units);
    pump(&engine, &mut movers, 50_000); // warm up

    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(BATCH));
    g.sample_size(20);
    g.bench_function("positions", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| pump(&engine, &mut movers, BATCH)).sum())
    });
    g.finish();

    if full_run("engine/positions") {
        let n = 2_000_000;
        let took = pump(&engine, &mut movers, n);
        println!(
            "engine/positions: {n} UpdatePosition in {:.3} s = {:.0}/s ({WINDOW} in flight)",
            took.as_secs_f64(),
            n as f64 / took.as_secs_f64()
        );
    }
    engine.shutdown();
}

fn recommend(c: &mut Criterion, net: &Arc<RoadNetwork>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let units = fleet_60();
    let clock = Clock::manual(0);
    let now = Timestamp(1_790_000_000_000);
    clock.set_ms(now.0);
    // Recommendation only: no automatic assignment, so every unit stays available.
    let config = Config {
        auto_assign_merah: false,
        ..Config::default()
    };
    let engine = engine(dir.path(), net, units.clone(), config, clock);
    // Fresh positions: each unit reports a point a few hundred metres from its base.
    let mut rng = ChaCha8Rng::seed_from_u64(61);
    for u in &units {
        let at = LatLon {
            lat: u.base.lat + rng.gen_range(-0.003..0.003),
            lon: u.base.lon + rng.gen_range(-0.003..0.003),
        };
        engine
            .submit_blocking(Command::UpdatePosition {
                unit: u.id.clone(),
                at,
                device_at: None,
            })
            .expect("position");
    }
    // Merah medical: ALS, BLS and motorbikes may all go, so all 60 are candidates.
    let ids: Vec<IncidentId> = desa_points(62, 64)
        .into_iter()
        .map(|p| {
            let out = engine
                .submit_blocking(incident(p, Triage::Merah))
                .expect("incident");
            match &out[0].event {
                satria_dispatch::Event::IncidentCreated { incident } => incident.id,
                e => panic!("unexpected {e:?}"),
            }
        })
        .collect();
    let first = engine.recommend_blocking(ids[0]).expect("recommend");
    assert_eq!(
        first.candidates.len() + first.excluded.len(),
        60,
        "60 units ranked or excluded"
    );
    assert!(
        first.candidates.iter().all(|c| !c.from_base),
        "positions are fresh"
    );

    let mut g = c.benchmark_group("engine");
    g.sample_size(50);
    let mut k = 0;
    g.bench_function("recommend_60_units", |b| {
        b.iter(|| {
            k = (k + 1) % ids.len();
            black_box(engine.recommend_blocking(ids[k]).expect("recommend"))
        })
    });
    g.finish();

    if full_run("engine/recommend_60_units") {
        let n = 500;
        let mut us = Vec::with_capacity(n);
        let mut candidates = 0;
        for k in 0..n {
            let t = Instant::now();
            let r = engine
                .recommend_blocking(ids[k % ids.len()])
                .expect("recommend");
            us.push(t.elapsed().as_secs_f64() * 1e6);
            candidates += r.candidates.len();
        }
        percentiles("engine/recommend_60_units (engine path)", us);
        println!(
            "  candidates ranked per recommendation: {:.1} of 60",
            candidates as f64 / n as f64
        );
        breakdown(net, &engine, &ids, n);
    }
    engine.shutdown();
}

/// Where a recommendation's time goes: the same queries, on the road layer directly.
fn breakdown(net: &Arc<RoadNetwork>, engine: &Engine, ids: &[IncidentId], n: usize) {
    let snap = engine.snapshot();
    let origins: Vec<LatLon> = snap
        .units()
        .map(|u| u.last_fix.map(|f| f.at).unwrap_or(u.base))
        .collect();
    let targets: Vec<LatLon> = ids
        .iter()
        .map(|i| snap.incident(*i).expect("incident").location)
        .collect();
    let mut router = net.router();
    let (mut snap_us, mut search_us, mut settled) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..n {
        let t = targets[k % targets.len()];
        let t0 = Instant::now();
        let target = net.snap(t.lat, t.lon, 1000.0).expect("snap target");
        let sources: Vec<_> = origins
            .iter()
            .filter_map(|o| net.snap(o.lat, o.lon, 1000.0).ok())
            .collect();
        let t1 = Instant::now();
        black_box(router.many_to_one(&sources, &target, Stop::default()));
        let t2 = Instant::now();
        snap_us.push((t1 - t0).as_secs_f64() * 1e6);
        search_us.push((t2 - t1).as_secs_f64() * 1e6);
        settled.push(router.last_settled() as f64);
    }
    percentiles("  of which snapping 61 points", snap_us);
    percentiles("  of which many_to_one search (all 60)", search_us);
    settled.sort_by(f64::total_cmp);
    println!(
        "  nodes settled: p50 {:.0}, max {:.0} of {} junctions",
        settled[settled.len() / 2],
        settled[settled.len() - 1],
        net.graph.node_count()
    );
}

/// One create, timed from submit to the durable acknowledgement; then the incident is
/// cancelled (untimed), which frees a merah incident's unit and keeps the duplicate
/// check from seeing the next call as a repeat. Cancelled incidents stay in the state.
fn create_once(engine: &Engine, at: LatLon, triage: Triage) -> Duration {
    let t = Instant::now();
    let out = engine
        .submit_blocking(incident(at, triage))
        .expect("incident");
    let took = t.elapsed();
    let id = match &out[0].event {
        satria_dispatch::Event::IncidentCreated { incident } => incident.id,
        e => panic!("unexpected {e:?}"),
    };
    if triage == Triage::Merah {
        assert_eq!(out.len(), 2, "merah: created and assigned");
    }
    engine
        .submit_blocking(Command::CancelIncident {
            incident: id,
            reason: "bench".into(),
        })
        .expect("cancel");
    took
}

fn create_incident(c: &mut Criterion, net: &Arc<RoadNetwork>) {
    let points = desa_points(63, 256);
    let fresh =
        |dir: &std::path::Path| engine(dir, net, fleet_60(), Config::default(), Clock::system());
    for (label, triage) in [("kuning", Triage::Kuning), ("merah", Triage::Merah)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let engine = fresh(dir.path());
        let mut k = 0;
        let mut g = c.benchmark_group("engine/create_incident_ack");
        g.sample_size(30);
        g.bench_function(label, |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        k = (k + 1) % points.len();
                        create_once(&engine, points[k], triage)
                    })
                    .sum()
            })
        });
        g.finish();
        engine.shutdown();

        let name = format!("engine/create_incident_ack/{label}");
        if full_run(&name) {
            // A fresh engine, so the sample covers 0..n incidents held in the state.
            let dir = tempfile::tempdir().expect("tempdir");
            let engine = fresh(dir.path());
            let n = 1000;
            let us: Vec<f64> = (0..n)
                .map(|k| create_once(&engine, points[k % points.len()], triage))
                .map(|d| d.as_secs_f64() * 1e6)
                .collect();
            percentiles(&format!("{name} (0..{n} incidents held)"), us.clone());
            percentiles("  the first 100", us[..100].to_vec());
            percentiles("  the last 100", us[n - 100..].to_vec());
            let snap = engine.snapshot();
            let t = Instant::now();
            black_box((*snap).clone());
            println!(
                "  the actor clones its state for the snapshot after each journaled batch: \
                 {:.3} ms with {} incidents held",
                t.elapsed().as_secs_f64() * 1000.0,
                snap.incidents().count()
            );
            engine.shutdown();
        }
    }
    // A long-running engine holds every incident it ever saw: the acknowledgement with
    // 10,000 incidents in the state (a few months of calls), filled by pipelined
    // submits (group commit), then 300 kuning creates one at a time. Twice: with
    // all of them still open (the worst case: the duplicate check's R-tree of open
    // incidents holds 10,000), and with them cancelled, as history is.
    for (name, close) in [
        ("engine/create_incident_ack/kuning_10000_held", false),
        ("engine/create_incident_ack/kuning_10000_closed_held", true),
    ] {
        if full_run(name) {
            let dir = tempfile::tempdir().expect("tempdir");
            let engine = fresh(dir.path());
            held_pass(name, close, &engine, &points);
            engine.shutdown();
        }
    }
}

/// Adds `n` hijau incidents to `engine` by pipelined submits (group commit),
/// cancelling each if `close`.
fn fill(engine: &Engine, points: &[LatLon], n: u64, close: bool) {
    let pump = |cmds: &mut dyn Iterator<Item = Command>| {
        let mut inflight: VecDeque<Reply> = VecDeque::new();
        for cmd in cmds {
            if inflight.len() >= WINDOW {
                let rx = inflight.pop_front().expect("window");
                rx.blocking_recv().expect("reply").expect("accepted");
            }
            inflight.push_back(engine.try_submit(cmd).expect("room in the inbox"));
        }
        for rx in inflight {
            rx.blocking_recv().expect("reply").expect("accepted");
        }
    };
    let first = engine.snapshot().incidents().count() as u64 + 1;
    pump(&mut (0..n).map(|k| incident(points[k as usize % points.len()], Triage::Hijau)));
    if close {
        pump(&mut (first..first + n).map(|id| Command::CancelIncident {
            incident: IncidentId(id),
            reason: "bench".into(),
        }));
    }
}

/// Fills an engine with 10,000 incidents (cancelling each if `close`), then
/// times 300 kuning acknowledgements and one clone of the published state.
fn held_pass(name: &str, close: bool, engine: &Engine, points: &[LatLon]) {
    fill(engine, points, 10_000, close);
    let us: Vec<f64> = (0..300)
        .map(|k| create_once(engine, points[k % points.len()], Triage::Kuning))
        .map(|d| d.as_secs_f64() * 1e6)
        .collect();
    percentiles(name, us);
    let snap = engine.snapshot();
    let open = snap.incidents().filter(|i| i.status.is_open()).count();
    let t = Instant::now();
    black_box((*snap).clone());
    println!(
        "  snapshot clone: {:.3} ms with {} incidents held, {open} of them open",
        t.elapsed().as_secs_f64() * 1000.0,
        snap.incidents().count()
    );
}

/// A year of a province (issue 17): 100,000 incidents in the journal, each
/// created and cancelled. Times 300 kuning acknowledgements on that engine,
/// then what a start costs: with the snapshots the leader stored (every
/// `snapshot_every` events, default 10,000) and, for comparison, replaying the
/// whole journal. `archived`: the incidents leave the live state a second after
/// they end (a year's history, where the default keeps a day live), so the
/// snapshots hold the index of archived ids instead of the incidents.
fn history_pass(net: &Arc<RoadNetwork>, archived: bool) {
    let name = if archived {
        "engine/history_100000_archived"
    } else {
        "engine/history_100000"
    };
    if !full_run(name) {
        return;
    }
    const N: u64 = 100_000;
    let points = desa_points(64, 256);
    let dir = tempfile::tempdir().expect("tempdir");
    let start = |snapshot_every: u64| {
        let mut o = EngineOptions::new(dir.path());
        o.initial_units = fleet_60();
        o.hospitals = demo_hospitals();
        o.tick_ms = 200;
        o.snapshot_every = snapshot_every;
        if archived {
            o.config.archive_after_s = 1;
        }
        let t = Instant::now();
        let e = Engine::start(
            o,
            Box::new(RoadDriveTimes::new(Arc::clone(net))),
            Clock::system(),
        )
        .expect("engine");
        (e, t.elapsed())
    };
    let (engine, _) = start(10_000);
    let t = Instant::now();
    fill(&engine, &points, N, true);
    println!(
        "{name}: {N} incidents created and cancelled in {:.1} s ({} events)",
        t.elapsed().as_secs_f64(),
        engine.last_seq()
    );
    if archived {
        // 200 leave per tick: wait for the last of them.
        let t = Instant::now();
        while (engine.snapshot().archived_count() as u64) < N {
            std::thread::sleep(Duration::from_millis(200));
        }
        println!(
            "  archived all {N} ({:.1} s after the fill), {} incidents live",
            t.elapsed().as_secs_f64(),
            engine.snapshot().incidents().count()
        );
    }
    let us: Vec<f64> = (0..300)
        .map(|k| create_once(&engine, points[k % points.len()], Triage::Kuning))
        .map(|d| d.as_secs_f64() * 1e6)
        .collect();
    percentiles(&format!("{name} kuning ack"), us);
    // Let the writer finish the snapshot due last.
    std::thread::sleep(Duration::from_secs(2));
    engine.shutdown();
    let mut j = satria_store::Journal::open(dir.path()).expect("journal");
    if let Some((seq, data)) = j.latest_snapshot("region:banyumas").expect("snapshot") {
        // What the actor pauses for when it stores one (the image is made on
        // another thread).
        let t = Instant::now();
        j.save_snapshot("region:banyumas", seq, &data)
            .expect("store");
        println!(
            "  newest snapshot: seq {seq}, {:.1} MB, stored in {:.0} ms",
            data.len() as f64 / 1e6,
            t.elapsed().as_secs_f64() * 1000.0
        );
    }
    drop(j);
    for (label, every) in [("with snapshots", 10_000), ("whole replay", 0)] {
        let (e, took) = start(every);
        println!(
            "  start {label}: {:.0} ms (snapshot seq {:?}, {} events replayed)",
            took.as_secs_f64() * 1000.0,
            e.restored().snapshot_seq,
            e.restored().replayed
        );
        e.shutdown();
    }
}

/// The floor under an acknowledgement: one journal append (one IncidentCreated-sized
/// entry, one transaction, fsync) straight on the store, without the engine.
fn journal_floor() {
    if !full_run("engine/create_incident_ack") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut j = satria_store::Journal::open(dir.path()).expect("journal");
    let entry = satria_store::NewEntry {
        kind: "incident_created".into(),
        payload: format!("{{\"notes\":\"{}\"}}", "x".repeat(900)),
        recorded_at_ms: 1_790_000_000_000,
    };
    let us = (0..1000)
        .map(|_| {
            let t = Instant::now();
            j.append("region:banyumas", std::slice::from_ref(&entry))
                .expect("append");
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    percentiles("  journal append alone (fsync floor)", us);
}

/// What a restart costs with a long journal (issue 14): `Journal::open_verified`
/// hash-checks the whole chain the first time (no verified point yet) and, on
/// the next start, only the rows added since the verified point it recorded.
/// 200,000 rows of about 1 KB, appended in batches of 1,000.
fn journal_start() {
    if !full_run("engine/journal_start") {
        return;
    }
    const ROWS: usize = 200_000;
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut j = satria_store::Journal::open(dir.path()).expect("journal");
        let entry = satria_store::NewEntry {
            kind: "incident_created".into(),
            payload: format!("{{\"notes\":\"{}\"}}", "x".repeat(900)),
            recorded_at_ms: 1_790_000_000_000,
        };
        let batch = vec![entry; 1000];
        for _ in 0..ROWS / batch.len() {
            j.append("region:banyumas", &batch).expect("append");
        }
    }
    for label in [
        "first start (the whole chain)",
        "next start (since the verified point)",
    ] {
        let t = Instant::now();
        let (j, report) = satria_store::Journal::open_verified(
            dir.path(),
            &satria_store::StartOptions::default(),
        )
        .expect("the chain verifies");
        println!(
            "engine/journal_start {ROWS} rows, {label}: {:.1} ms, {} rows hash-checked",
            t.elapsed().as_secs_f64() * 1000.0,
            report.rows_checked
        );
        drop(j);
    }
}

fn benches(c: &mut Criterion) {
    journal_start();
    let net = Arc::new(RoadNetwork::load(&demo_files().1).expect("load demo graph"));
    positions(c, &net);
    recommend(c, &net);
    create_incident(c, &net);
    journal_floor();
    history_pass(&net, false);
    history_pass(&net, true);
}

criterion_group!(engine_benches, benches);
criterion_main!(engine_benches);
