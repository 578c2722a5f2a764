//! `satria load`: real clients over real sockets against a real `satria serve`.
//!
//! The tool starts `satria serve` as a child process on `127.0.0.1:0` with a
//! temporary data directory, the given road graph and a fleet of as many units
//! as crews are asked for, and creates one dispatcher account and one crew
//! account per unit. Then, over loopback only:
//!
//! - N dispatcher consoles hold a WebSocket each and note when every
//!   `unit_assigned` event arrives;
//! - M crews hold a WebSocket each, send positions at R Hz, acknowledge the
//!   assignments they get, drive to the incident (a straight line at
//!   `--speed-kmh`), report on scene, and come back into service;
//! - a call-taker creates K merah incidents per minute over HTTP at desa
//!   centroids that lie on the road graph (merah is assigned automatically).
//!
//! It reports: incident created → assignment delivered to the crew and to every
//! console (p50, p99, max), position updates acknowledged per second, resyncs,
//! errors, and the server's memory (resident set, now and peak). It stops by
//! itself after the warm-up and the measured window and stops the server.
//!
//! The parts: this module runs it (arguments, the run, the measured window);
//! `server.rs` is the server under test (its fleet, accounts and process);
//! `clients.rs` the simulated consoles, crews and call-taker; `report.rs` the figures
//! and how they are printed.

mod clients;
mod report;
mod server;
mod takeover;

pub use report::{NodeMemory, Report, Summary};

use anyhow::{Context, bail};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use satria_dispatch::{LatLon, Unit};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

use clients::{call_taker, connect, console, crew, login};
use report::print_report;
use server::{Spawned, create_accounts, crew_username, fleet_to_csv, load_fleet, rss_mb};

/// What `satria load` was asked for.
#[derive(Debug, Clone)]
pub struct LoadArgs {
    pub graph: PathBuf,
    pub consoles: usize,
    pub crews: usize,
    pub rate_hz: f64,
    pub incidents_per_min: f64,
    pub warmup_s: u64,
    pub duration_s: u64,
    pub speed_kmh: f64,
    pub seed: u64,
    pub json: bool,
    /// Nodes of a cluster on `database` (1: one node on a data directory).
    pub nodes: usize,
    /// Instead of starting nodes: the `http://host:port` of nodes already
    /// running, driven with the dispatcher account `user` (its password in
    /// `password`). No crews then (their accounts are bound to units).
    pub targets: Vec<String>,
    pub user: String,
    pub password: Option<String>,
    pub database: Option<String>,
    pub redis: Option<String>,
    /// Instead of the load: SIGKILL the leader this many times and time each
    /// takeover (a cluster of at least 2 nodes).
    pub takeovers: usize,
}

const PASSWORD: &str = "uji-beban-satria-119";

/// `satria load`.
pub fn run(args: LoadArgs) -> anyhow::Result<()> {
    if args.consoles == 0 && args.crews == 0 {
        bail!("nothing to do: ask for --consoles or --crews");
    }
    if !(args.rate_hz > 0.0 && args.rate_hz <= 1000.0) {
        bail!("--rate must be in (0, 1000] Hz");
    }
    if !(args.speed_kmh > 0.0 && args.speed_kmh <= 200.0) {
        bail!("--speed-kmh must be in (0, 200]: the server refuses faster jumps");
    }
    if args.incidents_per_min < 0.0 || args.incidents_per_min > 6000.0 {
        bail!("--incidents-per-min must be in [0, 6000]");
    }
    let net = satria_roads::RoadNetwork::load(&args.graph)
        .with_context(|| format!("{}: cannot load the road graph", args.graph.display()))?;
    // Incident places: desa centroids on the graph, at least 1 km apart so that no
    // call looks like a duplicate of another (a duplicate is not auto-assigned).
    let region = satria_region::Region::banyumas();
    let mut places: Vec<LatLon> = Vec::new();
    for d in &region.desa {
        let p = d.centroid;
        if net.snap(p.lat, p.lon, 300.0).is_ok()
            && places
                .iter()
                .all(|q| satria_region::approx_m(*q, p) > 1000.0)
        {
            places.push(p);
        }
    }
    if places.is_empty() && args.incidents_per_min > 0.0 {
        bail!("no desa of Banyumas lies on this road graph: give the demo region's graph");
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(args.seed);
    places.shuffle(&mut rng);
    let fleet = load_fleet(args.crews.max(1), &places, &net, &mut rng);
    drop(net);

    if !(1..=16).contains(&args.nodes) {
        bail!("--nodes must be between 1 and 16");
    }
    if args.takeovers > 0 && (args.nodes < 2 || args.database.is_none()) {
        bail!("--takeovers needs a cluster: --nodes 2 or more on --database");
    }
    if !args.targets.is_empty() {
        return run_against(&args, places);
    }
    if args.nodes > 1 && args.database.is_none() {
        bail!(
            "--nodes {} needs --database: the nodes of a cluster share it",
            args.nodes
        );
    }
    let dir = tempfile::tempdir().context("cannot make a temporary data directory")?;
    let fleet_csv = dir.path().join("fleet.csv");
    std::fs::write(&fleet_csv, fleet_to_csv(&fleet))?;
    let cluster = match &args.database {
        Some(url) => Some(server::Cluster::prepare(url, args.redis.clone())?),
        None => None,
    };
    let node_dir = |k: usize| dir.path().join(format!("node-{k}"));
    for k in 0..args.nodes {
        std::fs::create_dir_all(node_dir(k))?;
    }
    // One node keeps its accounts in its data directory, a cluster in its database.
    create_accounts(&node_dir(0), args.database.as_deref(), &fleet[..args.crews])?;
    let mut servers = Vec::new();
    for k in 0..args.nodes {
        let data = node_dir(k);
        servers.push(Spawned::start(
            &data,
            &args.graph,
            &fleet_csv,
            cluster.as_ref().map(|c| c.args(k)).unwrap_or_default(),
        )?);
    }
    if args.takeovers > 0 {
        return run_takeovers(&args, servers, &cluster, &fleet_csv, &node_dir, places);
    }
    let server = &servers[0];
    println!(
        "== satria load: {} node(s), leader pid {} on {}; {} consoles, {} crews at {} Hz, {} incidents/min, {} s warm-up + {} s measured",
        servers.len(),
        server.pid,
        server.addr,
        args.consoles,
        args.crews,
        args.rate_hz,
        args.incidents_per_min,
        args.warmup_s,
        args.duration_s
    );
    let rt = runtime()?;
    let addrs: Vec<String> = servers.iter().map(|s| s.addr.clone()).collect();
    let pids: Vec<u32> = servers.iter().map(|s| s.pid).collect();
    let result = rt.block_on(drive(
        &args,
        ("load-dispatcher", PASSWORD),
        &pids,
        &addrs,
        &fleet[..args.crews],
        places,
    ));
    for s in &mut servers {
        s.stop();
    }
    if let Some(c) = &cluster {
        c.clean();
    }
    let report = result?;
    print_report(&args, &report);
    Ok(())
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// A node's resident memory and its peak, MB, from its `/metrics`.
async fn metrics_rss_mb(http: &reqwest::Client, addr: &str) -> Option<(f64, f64)> {
    let text = http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let gauge = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
            .map(|b| b / (1024.0 * 1024.0))
    };
    Some((
        gauge("process_resident_memory_bytes")?,
        gauge("satria_process_peak_resident_memory_bytes")?,
    ))
}

/// The `host:port` of each `http://host:port` node, or why one is not that.
pub fn parse_targets(list: &str) -> anyhow::Result<Vec<String>> {
    list.split(',')
        .map(|u| {
            let u = u.trim();
            let rest = u.strip_prefix("http://").with_context(|| {
                format!(
                    "--nodes {u:?}: give a node count, or node addresses like http://10.0.0.5:8119"
                )
            })?;
            let host = rest.trim_end_matches('/');
            if host.is_empty() || host.contains('/') || !host.contains(':') {
                bail!("--nodes {u:?}: a node address is http://HOST:PORT, without a path");
            }
            Ok(host.to_string())
        })
        .collect()
}

/// `--nodes URL,…`: the consoles and the call-taker against nodes already
/// running, logged in as `--user`.
fn run_against(args: &LoadArgs, places: Vec<LatLon>) -> anyhow::Result<()> {
    if args.crews > 0 {
        bail!(
            "--nodes with addresses drives consoles and calls only: crews need accounts bound to units the tool makes itself; give --crews 0"
        );
    }
    if args.takeovers > 0 || args.database.is_some() {
        bail!("--takeovers and --database start nodes of their own: give --nodes a count");
    }
    let Some(password) = &args.password else {
        bail!(
            "--nodes with addresses logs in as --user: give its password in SATRIA_LOAD_PASSWORD"
        );
    };
    println!(
        "== satria load: {} running node(s) ({}), as {}; {} consoles, {} incidents/min, {} s warm-up + {} s measured",
        args.targets.len(),
        args.targets.join(", "),
        args.user,
        args.consoles,
        args.incidents_per_min,
        args.warmup_s,
        args.duration_s
    );
    let rt = runtime()?;
    let report = rt.block_on(drive(
        args,
        (&args.user, password),
        &[],
        &args.targets,
        &[],
        places,
    ))?;
    print_report(args, &report);
    Ok(())
}

/// `--takeovers`: the rounds of [`takeover::rounds`] on the nodes started.
fn run_takeovers(
    args: &LoadArgs,
    servers: Vec<Spawned>,
    cluster: &Option<server::Cluster>,
    fleet_csv: &std::path::Path,
    node_dir: &dyn Fn(usize) -> PathBuf,
    places: Vec<LatLon>,
) -> anyhow::Result<()> {
    if places.is_empty() {
        bail!("no desa of Banyumas lies on this road graph: give the demo region's graph");
    }
    println!(
        "== satria load: {} nodes, {} takeovers (SIGKILL of the leader → first call acknowledged)",
        servers.len(),
        args.takeovers
    );
    let nodes: Vec<takeover::Node> = servers
        .into_iter()
        .enumerate()
        .map(|(k, spawned)| {
            let (dir, graph, fleet) = (node_dir(k), args.graph.clone(), fleet_csv.to_path_buf());
            let extra = cluster.as_ref().map(|c| c.args(k)).unwrap_or_default();
            takeover::Node {
                spawned,
                restart: Box::new(move || Spawned::start(&dir, &graph, &fleet, extra.clone())),
            }
        })
        .collect();
    let rt = runtime()?;
    let (mut nodes, result) = rt.block_on(takeover::rounds(nodes, args.takeovers, &places));
    for n in &mut nodes {
        n.spawned.stop();
    }
    if let Some(c) = cluster {
        c.clean();
    }
    let t = result?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&t).unwrap_or_default());
    } else {
        let s = &t.kill_to_ack_ms;
        println!(
            "== {} takeovers: SIGKILL → call acknowledged by the new leader p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} calls refused meanwhile)",
            t.rounds, s.p50, s.p99, s.max, t.refused
        );
    }
    Ok(())
}

/// What every client task adds to.
#[derive(Default)]
struct Shared {
    positions_sent: AtomicU64,
    positions_acked: AtomicU64,
    resyncs: AtomicU64,
    disconnects: AtomicU64,
    errors: std::sync::Mutex<BTreeMap<String, u64>>,
    /// Incident id → when its call was sent.
    created: Mutex<HashMap<u64, (Instant, bool)>>,
    /// Call → HTTP answer, ms, for measured calls.
    http_ms: Mutex<Vec<f64>>,
    /// (incident, unit) of each assignment a crew received, and when.
    crew_got: Mutex<Vec<(u64, Instant)>>,
    stop: AtomicBool,
    /// Wakes every waiting task when the run ends.
    stop_tx: tokio::sync::watch::Sender<bool>,
}

impl Shared {
    /// Ends the run: every task stops at its next step or at once if waiting.
    fn halt(&self) {
        self.stop.store(true, Relaxed);
        self.stop_tx.send_replace(true);
    }

    /// Resolves when the run ends.
    async fn stopped(&self) {
        let mut rx = self.stop_tx.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    fn error(&self, code: &str) {
        let mut e = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        *e.entry(code.to_string()).or_default() += 1;
    }
}

async fn drive(
    args: &LoadArgs,
    (user, password): (&str, &str),
    pids: &[u32],
    addrs: &[String],
    crews: &[Unit],
    places: Vec<LatLon>,
) -> anyhow::Result<Report> {
    // Clients spread over the nodes; calls go to the last one (in a cluster a
    // follower, which forwards them to the leader).
    let node = |k: usize| &addrs[k % addrs.len()];
    let base = format!("http://{}", addrs[addrs.len() - 1]);
    let http = reqwest::Client::new();
    let shared = Arc::new(Shared::default());
    let dispatcher = login(&http, &base, user, password).await?;

    // Consoles, connected 50 at a time.
    let mut console_tasks = Vec::new();
    for chunk in (0..args.consoles).collect::<Vec<_>>().chunks(50) {
        let mut conns = Vec::new();
        for &k in chunk {
            conns.push(connect(format!("ws://{}/ws", node(k)), &dispatcher));
        }
        for ws in futures_util::future::join_all(conns).await {
            let ws = ws.context("a console could not connect")?;
            console_tasks.push(tokio::spawn(console(ws, Arc::clone(&shared))));
        }
    }
    // Crews.
    let mut crew_tasks = Vec::new();
    for (k, u) in crews.iter().enumerate() {
        let token = login(&http, &base, &crew_username(u), PASSWORD).await?;
        let ws = connect(format!("ws://{}/ws", node(k)), &token).await?;
        crew_tasks.push(tokio::spawn(crew(
            ws,
            u.clone(),
            args.rate_hz,
            args.speed_kmh,
            Arc::clone(&shared),
        )));
    }
    // Memory sampler (of the leader; nodes the tool did not start report their own).
    let pid = pids.first().copied();
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (peak, shared) = (Arc::clone(&peak), Arc::clone(&shared));
        tokio::spawn(async move {
            let Some(pid) = pid else { return };
            while !shared.stop.load(Relaxed) {
                let (now, _) = rss_mb(pid);
                peak.fetch_max((now * 1024.0) as u64, Relaxed);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    // The call-taker.
    let measuring = Arc::new(AtomicBool::new(false));
    let caller = call_taker(args, &shared, &measuring, &http, &base, &dispatcher, places);

    tokio::time::sleep(Duration::from_secs(args.warmup_s)).await;
    measuring.store(true, Relaxed);
    let sent0 = shared.positions_sent.load(Relaxed);
    let acked0 = shared.positions_acked.load(Relaxed);
    let t_start = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.duration_s)).await;
    let measured = t_start.elapsed().as_secs_f64();
    let sent = shared.positions_sent.load(Relaxed) - sent0;
    let acked = shared.positions_acked.load(Relaxed) - acked0;
    measuring.store(false, Relaxed);
    let mut node_rss_mb: Vec<NodeMemory> = Vec::new();
    for (k, a) in addrs.iter().enumerate() {
        let (rss_mb, peak_mb) = match pids.get(k) {
            Some(p) => rss_mb(*p),
            None => metrics_rss_mb(&http, a).await.unwrap_or((0.0, 0.0)),
        };
        node_rss_mb.push(NodeMemory {
            addr: a.clone(),
            rss_mb,
            peak_mb,
        });
    }
    let (rss, hwm) = (node_rss_mb[0].rss_mb, node_rss_mb[0].peak_mb);
    // Let the last deliveries land, then stop every client.
    tokio::time::sleep(Duration::from_secs(2)).await;
    shared.halt();
    let _ = caller.await;
    let _ = sampler.await;
    let mut console_got = Vec::new();
    for t in console_tasks {
        console_got.push(t.await.unwrap_or_default());
    }
    for t in crew_tasks {
        let _ = t.await;
    }

    // Join the receipts with the calls.
    let created = shared.created.lock().await;
    let measured_ids: HashMap<u64, Instant> = created
        .iter()
        .filter(|(_, (_, counted))| *counted)
        .map(|(id, (t0, _))| (*id, *t0))
        .collect();
    let crew_got = shared.crew_got.lock().await;
    let mut crew_ms = Vec::new();
    let mut assigned: std::collections::HashSet<u64> = Default::default();
    for (id, t) in crew_got.iter() {
        if let Some(t0) = measured_ids.get(id) {
            crew_ms.push(t.saturating_duration_since(*t0).as_secs_f64() * 1e3);
        }
    }
    let mut console_ms = Vec::new();
    let mut missed = 0;
    for got in &console_got {
        let mine: HashMap<u64, Instant> = got.iter().copied().collect();
        for (id, t0) in &measured_ids {
            match mine.get(id) {
                Some(t) => {
                    assigned.insert(*id);
                    console_ms.push(t.saturating_duration_since(*t0).as_secs_f64() * 1e3)
                }
                None => missed += 1,
            }
        }
    }
    if args.consoles == 0 {
        assigned = crew_got
            .iter()
            .filter(|(id, _)| measured_ids.contains_key(id))
            .map(|(id, _)| *id)
            .collect();
    }
    let peak_mb = (peak.load(Relaxed) as f64 / 1024.0).max(hwm);
    let errors = shared
        .errors
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    Ok(Report {
        consoles: args.consoles,
        crews: args.crews,
        rate_hz: args.rate_hz,
        incidents_per_min: args.incidents_per_min,
        measured_s: measured,
        incidents_created: measured_ids.len(),
        incidents_assigned: assigned.len(),
        http_create_ms: Summary::of(shared.http_ms.lock().await.clone()),
        crew_delivery_ms: Summary::of(crew_ms),
        console_delivery_ms: Summary::of(console_ms),
        console_missed: missed,
        positions_sent: sent,
        positions_acked: acked,
        positions_per_s: acked as f64 / measured,
        resyncs: shared.resyncs.load(Relaxed),
        errors,
        disconnects: shared.disconnects.load(Relaxed),
        server_rss_mb: rss,
        server_peak_rss_mb: peak_mb,
        node_rss_mb,
    })
}
