//! The simulated clients: dispatcher consoles and crews, each on its own WebSocket,
//! and the call-taker creating incidents over HTTP. Each adds what it sees to the
//! run's [`Shared`] tally.

use super::{LoadArgs, Shared};
use anyhow::bail;
use futures_util::{SinkExt, StreamExt};
use rand::{Rng, SeedableRng};
use satria_dispatch::{LatLon, Unit};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

pub(super) async fn login(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<String> {
    let r = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await?;
    let status = r.status();
    let body: Value = r.json().await?;
    match body["token"].as_str() {
        Some(t) if status.is_success() => Ok(t.to_string()),
        _ => bail!("login of {username} refused: {status} {body}"),
    }
}

/// The body of call `n` the load tool makes (`POST /api/incidents`).
pub(super) fn call_body(n: usize, at: LatLon, phone: &str, triage: &str) -> Value {
    json!({
        "caller_name": format!("Penelepon Uji {n}"),
        "caller_phone": phone,
        "lat": at.lat,
        "lon": at.lon,
        "address": format!("uji beban {n}"),
        "triage": triage,
        "category": "medical",
        "patients": 1,
        "notes": "load test"
    })
}

pub(super) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(super) async fn connect(ws_url: String, token: &str) -> anyhow::Result<Ws> {
    let ws_url = ws_url.as_str();
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

/// The call-taker: `incidents_per_min` merah calls a minute at the incident places in
/// turn, each timed from sending to the HTTP answer while `measuring` is set.
pub(super) fn call_taker(
    args: &LoadArgs,
    shared: &Arc<Shared>,
    measuring: &Arc<AtomicBool>,
    http: &reqwest::Client,
    base: &str,
    token: &str,
    places: Vec<LatLon>,
) -> tokio::task::JoinHandle<()> {
    let (shared, measuring, http, base, token) = (
        Arc::clone(shared),
        Arc::clone(measuring),
        http.clone(),
        base.to_string(),
        token.to_string(),
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
            let at = LatLon {
                lat: p.lat + rng.gen_range(-0.0005..0.0005),
                lon: p.lon + rng.gen_range(-0.0005..0.0005),
            };
            let phone = format!("0812{:08}", rng.gen_range(0..100_000_000u32));
            let body = call_body(n, at, &phone, "merah");
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
pub(super) async fn console(mut ws: Ws, shared: Arc<Shared>) -> Vec<(u64, Instant)> {
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
pub(super) async fn crew(
    mut ws: Ws,
    unit: Unit,
    rate_hz: f64,
    speed_kmh: f64,
    shared: Arc<Shared>,
) {
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
                            outbox.push(json!({"type": "report_status", "unit": id, "status": "on_scene", "device_at": satria_dispatch::Timestamp(satria_server::now_ms())}));
                            let _ = incident;
                            job = Job::OnScene { until: now + Duration::from_secs(10) };
                        }
                    }
                    Job::OnScene { until } if now >= *until => {
                        outbox.push(json!({"type": "report_status", "unit": id, "status": "available", "device_at": satria_dispatch::Timestamp(satria_server::now_ms())}));
                        job = Job::Idle;
                    }
                    _ => {}
                }
                n += 1;
                let pos = json!({"type": "command", "client_id": format!("p{n}"), "command": {
                    "type": "update_position", "unit": id,
                    "at": {"lat": at.lat, "lon": at.lon}, "device_at": satria_dispatch::Timestamp(satria_server::now_ms())}});
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
                                    outbox.push(json!({"type": "acknowledge_assignment", "incident": incident, "unit": id, "device_at": satria_dispatch::Timestamp(satria_server::now_ms())}));
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
