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

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use satria_auth::{AuthConfig, AuthStore, HashParams, NewUser, Role};
use satria_dispatch::{LatLon, Unit};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

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
}

const PASSWORD: &str = "uji-beban-satria-119";

/// The figures of one run.
#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub consoles: usize,
    pub crews: usize,
    pub rate_hz: f64,
    pub incidents_per_min: f64,
    pub measured_s: f64,
    pub incidents_created: usize,
    pub incidents_assigned: usize,
    /// Call sent → HTTP answer (the incident durable, the assignment decided).
    pub http_create_ms: Summary,
    pub crew_delivery_ms: Summary,
    pub console_delivery_ms: Summary,
    /// Console deliveries expected but never seen.
    pub console_missed: usize,
    pub positions_sent: u64,
    pub positions_acked: u64,
    pub positions_per_s: f64,
    pub resyncs: u64,
    pub errors: BTreeMap<String, u64>,
    pub disconnects: u64,
    pub server_rss_mb: f64,
    pub server_peak_rss_mb: f64,
}

/// p50, p99 and max of a sample, in ms.
#[derive(Debug, Default, serde::Serialize)]
pub struct Summary {
    pub n: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Summary {
    fn of(mut v: Vec<f64>) -> Summary {
        if v.is_empty() {
            return Summary::default();
        }
        v.sort_by(f64::total_cmp);
        let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        Summary {
            n: v.len(),
            p50: q(0.50),
            p99: q(0.99),
            max: v[v.len() - 1],
        }
    }
}

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

    let dir = tempfile::tempdir().context("cannot make a temporary data directory")?;
    let fleet_csv = dir.path().join("fleet.csv");
    std::fs::write(&fleet_csv, fleet_to_csv(&fleet))?;
    create_accounts(dir.path(), &fleet[..args.crews])?;
    let mut server = Spawned::start(dir.path(), &args.graph, &fleet_csv)?;
    println!(
        "== satria load: server pid {} on {}; {} consoles, {} crews at {} Hz, {} incidents/min, {} s warm-up + {} s measured",
        server.pid,
        server.addr,
        args.consoles,
        args.crews,
        args.rate_hz,
        args.incidents_per_min,
        args.warmup_s,
        args.duration_s
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(drive(&args, &server, &fleet[..args.crews], places));
    server.stop();
    let report = result?;
    print_report(&args, &report);
    Ok(())
}

/// The demo fleet, then synthetic units at the incident places, up to `n`.
fn load_fleet(
    n: usize,
    places: &[LatLon],
    net: &satria_roads::RoadNetwork,
    rng: &mut impl Rng,
) -> Vec<Unit> {
    let mut fleet: Vec<Unit> = satria_dispatch::demo_fleet()
        .into_iter()
        .filter(|u| net.snap(u.base.lat, u.base.lon, 1000.0).is_ok())
        .collect();
    fleet.truncate(n);
    let mut k = 0;
    while fleet.len() < n {
        let base = places
            .get(k % places.len().max(1))
            .copied()
            .unwrap_or(LatLon {
                lat: -7.4245,
                lon: 109.2300,
            });
        let mut jitter = || rng.gen_range(-0.002..0.002);
        let base = LatLon {
            lat: base.lat + jitter(),
            lon: base.lon + jitter(),
        };
        k += 1;
        let id = format!("LOAD-{k:03}");
        let ty = if k % 3 == 0 {
            satria_dispatch::UnitType::Als
        } else {
            satria_dispatch::UnitType::Bls
        };
        fleet.push(Unit::new(
            &id,
            &format!("Uji {k:03}"),
            ty,
            satria_dispatch::Owner::Puskesmas,
            "Puskesmas (uji beban)",
            base,
            &[],
        ));
    }
    fleet
}

fn fleet_to_csv(fleet: &[Unit]) -> String {
    let mut s = String::from("id,call_sign,type,owner,base_name,lat,lon,capabilities\n");
    for u in fleet {
        let ty = serde_json::to_value(u.unit_type).unwrap_or_default();
        let owner = serde_json::to_value(u.owner).unwrap_or_default();
        s.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            u.id.0,
            u.call_sign,
            ty.as_str().unwrap_or("bls"),
            owner.as_str().unwrap_or("psc"),
            u.base_name.replace(',', " "),
            u.base.lat,
            u.base.lon,
            u.capabilities.join(";")
        ));
    }
    s
}

/// One dispatcher and one crew account per unit, in the throw-away data
/// directory. The cheap hash is for these accounts only: they live as long as
/// the run.
fn create_accounts(dir: &std::path::Path, crews: &[Unit]) -> anyhow::Result<()> {
    let auth = AuthStore::open_with(
        &dir.join("auth.sqlite"),
        AuthConfig {
            hash: HashParams::INSECURE_FAST,
            max_failures: 0,
            ..AuthConfig::default()
        },
    )?;
    let now = satria_server::now_ms();
    let add = |username: String, role, unit: Option<String>| {
        auth.add_user(
            NewUser {
                username,
                password: PASSWORD.into(),
                role,
                unit,
                hospital: None,
                subject: None,
            },
            now,
        )
    };
    add("load-dispatcher".into(), Role::Dispatcher, None)?;
    for u in crews {
        add(crew_username(u), Role::Crew, Some(u.id.0.clone()))?;
    }
    Ok(())
}

fn crew_username(u: &Unit) -> String {
    format!("crew-{}", u.id.0.to_ascii_lowercase())
}

/// `satria serve` as a child process.
struct Spawned {
    child: std::process::Child,
    pid: u32,
    addr: String,
}

impl Spawned {
    fn start(
        dir: &std::path::Path,
        graph: &std::path::Path,
        fleet: &std::path::Path,
    ) -> anyhow::Result<Spawned> {
        let exe = std::env::current_exe()?;
        let mut child = std::process::Command::new(exe)
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .arg("--graph")
            .arg(graph)
            .arg("--fleet")
            .arg(fleet)
            .env_remove("SATRIA_CONFIG")
            // The server's log level: warnings unless SATRIA_LOAD_LOG says otherwise.
            .env(
                "RUST_LOG",
                std::env::var("SATRIA_LOAD_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .context("cannot start satria serve")?;
        let pid = child.id();
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = std::io::BufReader::new(stdout).lines();
        let mut addr = None;
        for line in lines.by_ref() {
            let line = line?;
            if let Some(rest) = line.split("serving http://").nth(1) {
                addr = rest.split('/').next().map(String::from);
                break;
            }
        }
        // Keep draining so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let Some(addr) = addr else {
            let _ = child.kill();
            bail!("satria serve did not start (see its messages above)");
        };
        Ok(Spawned { child, pid, addr })
    }

    fn stop(&mut self) {
        // SIGTERM through kill(1) for a graceful stop; SIGKILL if it lingers.
        let _ = std::process::Command::new("kill")
            .arg(self.pid.to_string())
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident set size of a process, now and at its peak, in MB.
fn rss_mb(pid: u32) -> (f64, f64) {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return (0.0, 0.0);
    };
    let field = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
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

async fn login(http: &reqwest::Client, base: &str, username: &str) -> anyhow::Result<String> {
    let r = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await?;
    let status = r.status();
    let body: Value = r.json().await?;
    match body["token"].as_str() {
        Some(t) if status.is_success() => Ok(t.to_string()),
        _ => bail!("login of {username} refused: {status} {body}"),
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(ws_url: &str, token: &str) -> anyhow::Result<Ws> {
    // A small read buffer, as the server has: tungstenite zero-fills the free
    // buffer before each read, and the 128 KiB default would make the load
    // tool, not the server, the bottleneck. No Nagle, as browsers and the
    // server do.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(16 * 1024);
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(ws_url, Some(config), true).await?;
    ws.send(Message::Text(
        json!({"type": "hello", "token": token, "last_seq": 0})
            .to_string()
            .into(),
    ))
    .await?;
    Ok(ws)
}

async fn drive(
    args: &LoadArgs,
    server: &Spawned,
    crews: &[Unit],
    places: Vec<LatLon>,
) -> anyhow::Result<Report> {
    let base = format!("http://{}", server.addr);
    let ws_url = format!("ws://{}/ws", server.addr);
    let http = reqwest::Client::new();
    let shared = Arc::new(Shared::default());
    let dispatcher = login(&http, &base, "load-dispatcher").await?;

    // Consoles, connected 50 at a time.
    let mut console_tasks = Vec::new();
    for chunk in (0..args.consoles).collect::<Vec<_>>().chunks(50) {
        let mut conns = Vec::new();
        for _ in chunk {
            conns.push(connect(&ws_url, &dispatcher));
        }
        for ws in futures_util::future::join_all(conns).await {
            let ws = ws.context("a console could not connect")?;
            console_tasks.push(tokio::spawn(console(ws, Arc::clone(&shared))));
        }
    }
    // Crews.
    let mut crew_tasks = Vec::new();
    for u in crews {
        let token = login(&http, &base, &crew_username(u)).await?;
        let ws = connect(&ws_url, &token).await?;
        crew_tasks.push(tokio::spawn(crew(
            ws,
            u.clone(),
            args.rate_hz,
            args.speed_kmh,
            Arc::clone(&shared),
        )));
    }
    // Memory sampler.
    let pid = server.pid;
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (peak, shared) = (Arc::clone(&peak), Arc::clone(&shared));
        tokio::spawn(async move {
            while !shared.stop.load(Relaxed) {
                let (now, _) = rss_mb(pid);
                peak.fetch_max((now * 1024.0) as u64, Relaxed);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    // The call-taker.
    let measuring = Arc::new(AtomicBool::new(false));
    let caller = {
        let (shared, measuring, http, base, token) = (
            Arc::clone(&shared),
            Arc::clone(&measuring),
            http.clone(),
            base.clone(),
            dispatcher.clone(),
        );
        let per_min = args.incidents_per_min;
        let seed = args.seed;
        tokio::spawn(async move {
            if per_min <= 0.0 {
                return;
            }
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x119);
            let every = Duration::from_secs_f64(60.0 / per_min);
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut n = 0usize;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = shared.stopped() => break,
                }
                let p = places[n % places.len()];
                n += 1;
                let body = json!({
                    "caller_name": format!("Penelepon Uji {n}"),
                    "caller_phone": format!("0812{:08}", rng.gen_range(0..100_000_000u32)),
                    "lat": p.lat + rng.gen_range(-0.0005..0.0005),
                    "lon": p.lon + rng.gen_range(-0.0005..0.0005),
                    "address": format!("uji beban {n}"),
                    "triage": "merah",
                    "category": "medical",
                    "patients": 1,
                    "notes": "load test"
                });
                let counted = measuring.load(Relaxed);
                let t0 = Instant::now();
                let r = http
                    .post(format!("{base}/api/incidents"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        if counted {
                            shared
                                .http_ms
                                .lock()
                                .await
                                .push(t0.elapsed().as_secs_f64() * 1e3);
                        }
                        if let Ok(v) = r.json::<Value>().await
                            && let Some(id) = v["id"].as_u64()
                        {
                            shared.created.lock().await.insert(id, (t0, counted));
                        }
                    }
                    Ok(r) => shared.error(&format!("http_{}", r.status().as_u16())),
                    Err(_) => shared.error("http_transport"),
                }
            }
        })
    };

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
    let (rss, hwm) = rss_mb(pid);
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
    })
}

/// Parses a frame only when it may matter: most frames are positions.
fn frame_type(text: &str) -> Option<Value> {
    if text.contains("\"unit_assigned\"")
        || text.contains("\"type\":\"snapshot\"")
        || text.contains("\"type\":\"error\"")
        || text.contains("\"type\":\"incident\"")
        || text.contains("\"type\":\"goodbye\"")
    {
        serde_json::from_str(text).ok()
    } else {
        None
    }
}

/// A dispatcher console: notes when each assignment arrives.
async fn console(mut ws: Ws, shared: Arc<Shared>) -> Vec<(u64, Instant)> {
    let mut got = Vec::new();
    let mut snapshots = 0u32;
    let stopped = shared.stopped();
    tokio::pin!(stopped);
    loop {
        let msg = tokio::select! {
            m = ws.next() => m,
            _ = &mut stopped => break,
        };
        let now = Instant::now();
        match msg {
            Some(Ok(Message::Text(t))) => {
                let Some(v) = frame_type(&t) else { continue };
                match v["type"].as_str() {
                    Some("event") if v["event"]["type"] == "unit_assigned" => {
                        if let Some(id) = v["event"]["incident"].as_u64() {
                            got.push((id, now));
                        }
                    }
                    Some("snapshot") => {
                        snapshots += 1;
                        if snapshots > 1 {
                            shared.resyncs.fetch_add(1, Relaxed);
                        }
                    }
                    Some("error") => shared.error(v["code"].as_str().unwrap_or("error")),
                    Some("goodbye") => break,
                    _ => {}
                }
            }
            Some(Ok(_)) => {}
            _ => {
                if !shared.stop.load(Relaxed) {
                    shared.disconnects.fetch_add(1, Relaxed);
                }
                break;
            }
        }
        if shared.stop.load(Relaxed) {
            break;
        }
    }
    let _ = ws.close(None).await;
    got
}

fn step_towards(from: LatLon, to: LatLon, metres: f64) -> (LatLon, bool) {
    let d = satria_region::approx_m(from, to);
    if d <= metres || d < 1.0 {
        return (to, true);
    }
    let f = metres / d;
    (
        LatLon {
            lat: from.lat + (to.lat - from.lat) * f,
            lon: from.lon + (to.lon - from.lon) * f,
        },
        false,
    )
}

/// A crew's phone: positions at `rate_hz`, acknowledges its assignments, drives
/// to the incident, reports on scene, then back in service after 10 s.
async fn crew(mut ws: Ws, unit: Unit, rate_hz: f64, speed_kmh: f64, shared: Arc<Shared>) {
    enum Job {
        Idle,
        Driving { incident: u64, to: Option<LatLon> },
        OnScene { until: Instant },
    }
    let id = unit.id.0.clone();
    let mut at = unit.base;
    let mut job = Job::Idle;
    let mut n = 0u64;
    let period = Duration::from_secs_f64(1.0 / rate_hz);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_move = Instant::now();
    let mut snapshots = 0u32;
    let mut outbox: Vec<Value> = Vec::new();
    let stopped = shared.stopped();
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            _ = tick.tick() => {
                if shared.stop.load(Relaxed) { break; }
                let now = Instant::now();
                let dt = now.duration_since(last_move).as_secs_f64();
                last_move = now;
                match &mut job {
                    Job::Driving { incident, to: Some(to) } => {
                        let (p, arrived) = step_towards(at, *to, speed_kmh / 3.6 * dt);
                        at = p;
                        if arrived {
                            outbox.push(json!({"type": "report_status", "unit": id, "status": "on_scene", "device_at": satria_server::now_ms()}));
                            let _ = incident;
                            job = Job::OnScene { until: now + Duration::from_secs(10) };
                        }
                    }
                    Job::OnScene { until } if now >= *until => {
                        outbox.push(json!({"type": "report_status", "unit": id, "status": "available", "device_at": satria_server::now_ms()}));
                        job = Job::Idle;
                    }
                    _ => {}
                }
                n += 1;
                let pos = json!({"type": "command", "client_id": format!("p{n}"), "command": {
                    "type": "update_position", "unit": id,
                    "at": {"lat": at.lat, "lon": at.lon}, "device_at": satria_server::now_ms()}});
                if ws.send(Message::Text(pos.to_string().into())).await.is_err() { break; }
                shared.positions_sent.fetch_add(1, Relaxed);
                for cmd in outbox.drain(..) {
                    n += 1;
                    let f = json!({"type": "command", "client_id": format!("c{n}"), "command": cmd});
                    if ws.send(Message::Text(f.to_string().into())).await.is_err() { break; }
                }
            }
            msg = ws.next() => {
                let now = Instant::now();
                match msg {
                    Some(Ok(Message::Text(t))) => {
                        if t.starts_with("{\"type\":\"ack\"") || t.contains("\"type\":\"ack\"") {
                            if t.contains("\"client_id\":\"p") {
                                shared.positions_acked.fetch_add(1, Relaxed);
                            }
                            continue;
                        }
                        let Some(v) = frame_type(&t) else { continue };
                        match v["type"].as_str() {
                            Some("event") if v["event"]["type"] == "unit_assigned" && v["event"]["unit"] == id.as_str() => {
                                if let Some(incident) = v["event"]["incident"].as_u64() {
                                    shared.crew_got.lock().await.push((incident, now));
                                    outbox.push(json!({"type": "acknowledge_assignment", "incident": incident, "unit": id, "device_at": satria_server::now_ms()}));
                                    job = Job::Driving { incident, to: None };
                                }
                            }
                            Some("incident") => {
                                if let (Job::Driving { to, .. }, Some(lat), Some(lon)) = (&mut job, v["incident"]["location"]["lat"].as_f64(), v["incident"]["location"]["lon"].as_f64()) {
                                    *to = Some(LatLon { lat, lon });
                                }
                            }
                            Some("snapshot") => {
                                snapshots += 1;
                                if snapshots > 1 { shared.resyncs.fetch_add(1, Relaxed); }
                            }
                            Some("error") => shared.error(v["code"].as_str().unwrap_or("error")),
                            Some("goodbye") => break,
                            _ => {}
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => {
                        if !shared.stop.load(Relaxed) { shared.disconnects.fetch_add(1, Relaxed); }
                        break;
                    }
                }
            }
        }
    }
    let _ = ws.close(None).await;
}

fn print_report(args: &LoadArgs, r: &Report) {
    if args.json {
        println!("{}", serde_json::to_string_pretty(r).unwrap_or_default());
        return;
    }
    let s = |x: &Summary| {
        format!(
            "n={} p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            x.n, x.p50, x.p99, x.max
        )
    };
    println!(
        "== measured {:.1} s: {} incidents created, {} assigned",
        r.measured_s, r.incidents_created, r.incidents_assigned
    );
    println!(
        "   call → HTTP answer (durable):           {}",
        s(&r.http_create_ms)
    );
    println!(
        "   incident → assignment on the crew:      {}",
        s(&r.crew_delivery_ms)
    );
    println!(
        "   incident → assignment on every console: {} (missed {})",
        s(&r.console_delivery_ms),
        r.console_missed
    );
    println!(
        "   positions: {} sent, {} acknowledged = {:.0}/s",
        r.positions_sent, r.positions_acked, r.positions_per_s
    );
    println!(
        "   resyncs {}, disconnects {}, errors {:?}",
        r.resyncs, r.disconnects, r.errors
    );
    println!(
        "   server memory: {:.0} MB resident at the end, {:.0} MB peak",
        r.server_rss_mb, r.server_peak_rss_mb
    );
}
