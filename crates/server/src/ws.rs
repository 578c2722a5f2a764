//! The one WebSocket protocol at `/ws` for consoles, crews and hospitals
//! (specified in `docs/protocol.md`).
//!
//! A connection: the client's `hello` (token, last seq seen) → `welcome`, then
//! either the missed events replayed from the journal or a fresh `snapshot`,
//! then live events, each with its `stream` and `seq`. Client `command`s carry a
//! `client_id`; one seen before is answered from memory and not applied again.
//!
//! A slow client never holds anyone up: the engine's broadcast ring does not
//! wait for receivers, so a client that falls behind it is told so
//! (`Lagged`) and gets a resync snapshot instead of the events it missed.

use crate::error::ApiError;
use crate::{AppState, now_ms, view};
use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use satria_auth::{Principal, Role};
use satria_dispatch::{Command, Event, LatLon, Timestamp, UnitId};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/ws", get(upgrade))
}

async fn upgrade(State(state): State<Arc<AppState>>, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(64 * 1024)
        .max_frame_size(64 * 1024)
        .on_upgrade(move |socket| async move {
            let _ = connection(socket, state).await;
        })
}

/// Answers already given to client messages, by (user, client id): a message
/// sent again after a reconnect is answered the same way and applied once.
type Answers = (HashMap<(i64, String), Value>, VecDeque<(i64, String)>);

pub struct Dedup {
    cap: usize,
    inner: Mutex<Answers>,
}

impl Dedup {
    pub fn new(cap: usize) -> Dedup {
        Dedup {
            cap,
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    fn get(&self, user: i64, id: &str) -> Option<Value> {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.0.get(&(user, id.to_string())).cloned()
    }

    fn put(&self, user: i64, id: &str, answer: Value) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let key = (user, id.to_string());
        if g.0.insert(key.clone(), answer).is_none() {
            g.1.push_back(key);
        }
        while g.1.len() > self.cap {
            if let Some(old) = g.1.pop_front() {
                g.0.remove(&old);
            }
        }
    }
}

impl std::fmt::Debug for Dedup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dedup").field("cap", &self.cap).finish()
    }
}

fn distance_m(a: LatLon, b: LatLon) -> f64 {
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

/// The last position accepted per unit, with its (device or server) time.
#[derive(Debug, Default)]
pub struct LastFixes(Mutex<HashMap<UnitId, (LatLon, i64)>>);

impl LastFixes {
    pub fn get(&self, unit: &UnitId) -> Option<(LatLon, i64)> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(unit)
            .copied()
    }

    pub fn set(&self, unit: &UnitId, at: LatLon, t: i64) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(unit.clone(), (at, t));
    }
}

/// Refuses a position that jumps further from the unit's last fix than a
/// vehicle could drive in the time between them.
pub fn check_plausible(
    state: &AppState,
    unit: &UnitId,
    at: LatLon,
    device_at: Option<Timestamp>,
) -> Result<(), ApiError> {
    // The last fix this server accepted (the snapshot may lag positions by up
    // to 200 ms), else the engine's.
    let prev = state.last_fixes.get(unit).or_else(|| {
        state
            .engine
            .snapshot()
            .unit(unit)
            .and_then(|u| u.last_fix)
            .map(|f| (f.at, f.device_at.unwrap_or(f.received).0))
    });
    let Some((prev_at, then)) = prev else {
        return Ok(());
    };
    let now = device_at.map(|t| t.0).unwrap_or_else(now_ms);
    let dt_s = ((now - then) as f64 / 1000.0).max(1.0);
    let d = distance_m(prev_at, at);
    // 200 m of slack for GPS noise.
    if d > 200.0 + state.opts.max_speed_kmh / 3.6 * dt_s {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "implausible_position",
            format!(
                "the unit would have moved {:.0} m in {:.0} s, faster than {} km/h",
                d, dt_s, state.opts.max_speed_kmh
            ),
            format!(
                "unit berpindah {:.0} m dalam {:.0} detik, lebih cepat dari {} km/jam",
                d, dt_s, state.opts.max_speed_kmh
            ),
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum ClientMessage {
    Hello {
        token: String,
        #[serde(default)]
        last_seq: u64,
    },
    Command {
        client_id: String,
        command: Box<Command>,
    },
}

/// What a role may send over the socket.
fn may_send(p: &Principal, state: &AppState, cmd: &Command) -> bool {
    let unit_is = |u: &UnitId| view::may_act_for_unit(p, u) && p.role == Role::Crew;
    match p.role {
        Role::Admin => true,
        Role::Dispatcher => !matches!(
            cmd,
            Command::AcceptReferral { .. }
                | Command::DeclineReferral { .. }
                | Command::UpdateHospitalCapacity { .. }
        ),
        Role::Crew => match cmd {
            Command::UpdatePosition { unit, .. }
            | Command::ReportStatus { unit, .. }
            | Command::SetOutOfService { unit, .. }
            | Command::ReturnToService { unit, .. }
            | Command::AcknowledgeAssignment { unit, .. }
            | Command::DeclineAssignment { unit, .. } => unit_is(unit),
            _ => false,
        },
        Role::Hospital => match cmd {
            Command::UpdateHospitalCapacity { hospital, .. } => {
                view::may_act_for_hospital(p, &hospital.0)
            }
            Command::AcceptReferral { referral, .. }
            | Command::DeclineReferral { referral, .. } => state
                .engine
                .snapshot()
                .referral(*referral)
                .is_some_and(|r| view::may_act_for_hospital(p, &r.to.0)),
            _ => false,
        },
        _ => false,
    }
}

/// Counts the open socket of one role while alive.
struct OpenGuard<'a>(&'a AppState, usize);

impl Drop for OpenGuard<'_> {
    fn drop(&mut self) {
        self.0.metrics.ws_open[self.1].fetch_sub(1, Relaxed);
    }
}

type Sink = futures_util::stream::SplitSink<WebSocket, Message>;

/// Sends one frame, giving up on a client that cannot take it within 10 s.
async fn send(tx: &mut Sink, v: &Value) -> Result<(), ()> {
    let text = serde_json::to_string(v).map_err(|_| ())?;
    match tokio::time::timeout(Duration::from_secs(10), tx.send(Message::Text(text.into()))).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

fn error_frame(client_id: Option<&str>, e: &ApiError) -> Value {
    json!({
        "type": "error",
        "client_id": client_id,
        "code": e.code,
        "message": e.message,
        "message_id": e.message_id,
    })
}

async fn connection(socket: WebSocket, state: Arc<AppState>) -> Result<(), ()> {
    let (mut tx, mut rx) = socket.split();
    // The hello comes first, within 10 s.
    let hello = match tokio::time::timeout(Duration::from_secs(10), rx.next()).await {
        Ok(Some(Ok(Message::Text(t)))) => serde_json::from_str::<ClientMessage>(&t).ok(),
        _ => None,
    };
    let Some(ClientMessage::Hello { token, last_seq }) = hello else {
        let e = ApiError::bad_request(
            "hello_expected",
            "the first message must be {\"type\":\"hello\",\"token\":..,\"last_seq\":..}",
        );
        let _ = send(&mut tx, &error_frame(None, &e)).await;
        return Err(());
    };
    let auth = Arc::clone(&state.auth);
    let who = tokio::task::spawn_blocking(move || auth.authenticate(&token, now_ms()))
        .await
        .map_err(|_| ())?;
    let Ok(who) = who else {
        let _ = send(&mut tx, &error_frame(None, &ApiError::unauthenticated())).await;
        return Err(());
    };
    let role_ix = Role::ALL.iter().position(|r| *r == who.role).unwrap_or(0);
    state.metrics.ws_open[role_ix].fetch_add(1, Relaxed);
    let _guard = OpenGuard(&state, role_ix);
    tracing::info!(user = %who.username, role = %who.role, last_seq, "websocket connected");

    // Subscribe before looking at the journal or the snapshot, so nothing falls
    // between them and the live stream.
    let mut live = state.engine.subscribe();
    // The fleet's positions come on their own channel, to the roles that
    // follow them; everyone else is never woken by them.
    let mut fixes = view::sees_positions(&who).then(|| state.engine.subscribe_positions());
    let stream = state.engine.stream().to_string();
    let head = state.engine.last_seq();
    let replay = last_seq <= head && head - last_seq <= state.opts.max_replay;
    send(
        &mut tx,
        &json!({
            "type": "welcome",
            "stream": stream,
            "last_seq": head,
            "user": who,
            "mode": if replay { "replay" } else { "snapshot" },
        }),
    )
    .await?;
    let mut seen = if replay {
        replay_since(&state, &mut tx, &who, &stream, last_seq).await?
    } else {
        resync(&state, &mut tx, &who).await?
    };

    let mut ping = tokio::time::interval(state.opts.ping_every);
    ping.tick().await;
    let mut unanswered = 0u32;
    // Region events are written and flushed at once. Position fixes are
    // collected every `POSITION_FLUSH` and written together (one frame each, one
    // flush), so a console watching a whole fleet wakes and writes ten times a
    // second instead of once per fix.
    // Each socket's ticks are offset so a thousand consoles do not all wake at
    // the same instant.
    static SOCKETS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let offset = Duration::from_millis(SOCKETS.fetch_add(37, Relaxed) % 100);
    let mut fix_tick =
        tokio::time::interval_at(tokio::time::Instant::now() + offset, POSITION_FLUSH);
    fix_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut closing = state.closing.subscribe();
    if *closing.borrow() {
        return Ok(());
    }
    loop {
        tokio::select! {
            _ = closing.changed() => {
                let _ = send(&mut tx, &json!({"type": "goodbye", "reason": "server shutting down"})).await;
                let _ = tx.send(Message::Close(None)).await;
                return Ok(());
            }
            ev = live.recv() => match ev {
                Ok(p) => {
                    if p.stream == stream {
                        if p.seq <= seen {
                            continue;
                        }
                        seen = p.seq;
                    }
                    let json = p.event_json();
                    let mut wrote = forward(&state, &mut tx, &who, &p.stream, p.seq, &p.event, Some(json)).await?;
                    // The events of one command arrive together (a call and its
                    // automatic assignment): write all that are ready, flush once.
                    while let Ok(p) = live.try_recv() {
                        if p.stream == stream {
                            if p.seq <= seen {
                                continue;
                            }
                            seen = p.seq;
                        }
                        wrote |= forward(&state, &mut tx, &who, &p.stream, p.seq, &p.event, Some(p.event_json())).await?;
                    }
                    if wrote {
                        flush(&mut tx).await?;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    state.metrics.ws_resyncs.fetch_add(1, Relaxed);
                    seen = resync(&state, &mut tx, &who).await?;
                }
                Err(RecvError::Closed) => return Ok(()),
            },
            msg = rx.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    let reply = handle_text(&state, &who, &t).await;
                    send(&mut tx, &reply).await?;
                }
                Some(Ok(Message::Pong(_))) => unanswered = 0,
                Some(Ok(Message::Ping(_))) => unanswered = 0,
                Some(Ok(Message::Binary(_))) => {
                    state.metrics.ws_rejected.fetch_add(1, Relaxed);
                    let e = ApiError::bad_request("binary_not_supported", "send JSON text frames");
                    send(&mut tx, &error_frame(None, &e)).await?;
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ok(()),
            },
            _ = fix_tick.tick(), if fixes.is_some() => {
                let mut wrote = false;
                while let Some(r) = fixes.as_mut() {
                    match r.try_recv() {
                        Ok(p) => {
                            wrote |= forward(&state, &mut tx, &who, &p.stream, p.seq, &p.event, Some(p.event_json())).await?;
                        }
                        // Behind the fixes: skip them, the next fix of each unit
                        // replaces what was missed (no resync for volatile data).
                        Err(tokio::sync::broadcast::error::TryRecvError::Lagged(n)) => {
                            state.metrics.ws_positions_skipped.fetch_add(n, Relaxed);
                        }
                        Err(tokio::sync::broadcast::error::TryRecvError::Empty) => break,
                        Err(tokio::sync::broadcast::error::TryRecvError::Closed) => fixes = None,
                    }
                }
                if wrote {
                    flush(&mut tx).await?;
                }
            }
            _ = ping.tick() => {
                if unanswered >= 2 {
                    state.metrics.ws_dropped_unresponsive.fetch_add(1, Relaxed);
                    tracing::info!(user = %who.username, "websocket dropped: two pings unanswered");
                    return Ok(());
                }
                unanswered += 1;
                tokio::time::timeout(Duration::from_secs(10), tx.send(Message::Ping(Vec::new().into())))
                    .await
                    .map_err(|_| ())?
                    .map_err(|_| ())?;
            }
        }
    }
}

/// How long a position frame may wait in the socket's buffer for company.
const POSITION_FLUSH: Duration = Duration::from_millis(100);

/// Flushes what [`forward`] wrote, giving up on a client that cannot take it
/// within 10 s.
async fn flush(tx: &mut Sink) -> Result<(), ()> {
    match tokio::time::timeout(Duration::from_secs(10), tx.flush()).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

/// Writes one event (unflushed) if `who` may see it, recording deliveries of
/// personal data; true if it was written. `json` is the event already
/// serialised, shared by every connection that sends it.
async fn forward(
    state: &AppState,
    tx: &mut Sink,
    who: &Principal,
    stream: &str,
    seq: u64,
    event: &Event,
    json: Option<&str>,
) -> Result<bool, ()> {
    if let Event::UnitMoved { unit, .. } = event
        && !view::position_for(who, unit)
    {
        return Ok(false);
    }
    // Dispatch roles see everything and need no state to decide: a thousand
    // consoles then never touch the snapshot on the fan-out path.
    let mut snap = None;
    let personal = if view::sees_positions(who) {
        view::dispatch_personal(event)
    } else {
        let s = snap.insert(state.engine.snapshot());
        match view::event_for(who, s, event) {
            Some(p) => p,
            None => return Ok(false),
        }
    };
    if personal {
        state
            .audit
            .record(who, "receive", subject_of(event), "websocket event");
    }
    let frame = match json {
        Some(j) => format!(
            "{{\"type\":\"event\",\"stream\":{},\"seq\":{seq},\"event\":{j}}}",
            serde_json::to_string(stream).map_err(|_| ())?
        ),
        None => json!({"type": "event", "stream": stream, "seq": seq, "event": event}).to_string(),
    };
    match tokio::time::timeout(
        Duration::from_secs(10),
        tx.feed(Message::Text(frame.into())),
    )
    .await
    {
        Ok(Ok(())) => {}
        _ => return Err(()),
    }
    state.metrics.ws_events_sent.fetch_add(1, Relaxed);
    // A crew is told what it is sent to: the incident with its location and caller.
    if let (Role::Crew, Event::UnitAssigned { incident, .. }) = (who.role, event)
        && let Some(snap) = &snap
        && let Some(i) = snap.incident(*incident)
    {
        state.audit.record(
            who,
            "receive",
            format!("incident:{incident}"),
            "crew assignment",
        );
        send(tx, &json!({"type": "incident", "incident": i})).await?;
    }
    Ok(true)
}

fn subject_of(e: &Event) -> String {
    match e {
        Event::IncidentCreated { incident } => format!("incident:{}", incident.id),
        Event::ReferralSent { referral } => format!("referral:{}", referral.id),
        Event::TransportBooked { booking } => format!("transport:{}", booking.id.0),
        other => other.kind().to_string(),
    }
}

/// Replays the region events after `after` from the journal; returns the last
/// seq sent (or considered).
async fn replay_since(
    state: &AppState,
    tx: &mut Sink,
    who: &Principal,
    stream: &str,
    after: u64,
) -> Result<u64, ()> {
    // The client is at most `max_replay` events behind (else it gets a
    // snapshot): one read on one connection fetches them all; anything newer
    // arrives live and is skipped there by seq.
    let dir = state.data_dir.clone();
    let s = stream.to_string();
    let limit = usize::try_from(state.opts.max_replay).unwrap_or(usize::MAX);
    let entries = tokio::task::spawn_blocking(move || {
        satria_store::JournalReader::open(&dir).and_then(|r| r.read_since(&s, after, limit))
    })
    .await
    .map_err(|_| ())?
    .map_err(|e| tracing::warn!("replay failed: {e}"))?;
    let mut seen = after;
    for entry in entries {
        seen = entry.seq;
        let Ok(event) = serde_json::from_str::<Event>(&entry.payload) else {
            continue;
        };
        forward(state, tx, who, stream, entry.seq, &event, None).await?;
    }
    flush(tx).await?;
    Ok(seen)
}

/// Sends the part of the current state `who` may see; returns its seq.
async fn resync(state: &AppState, tx: &mut Sink, who: &Principal) -> Result<u64, ()> {
    let (seq, snap) = state.engine.snapshot_at();
    let (body, personal) = view::snapshot_for(who, &snap);
    if !personal.is_empty() {
        state
            .audit
            .record(who, "receive", personal.join(","), "websocket snapshot");
    }
    send(
        tx,
        &json!({"type": "snapshot", "stream": state.engine.stream(), "seq": seq, "state": body}),
    )
    .await?;
    Ok(seq)
}

async fn handle_text(state: &AppState, who: &Principal, text: &str) -> Value {
    let msg = match serde_json::from_str::<ClientMessage>(text) {
        Ok(m) => m,
        Err(e) => {
            state.metrics.ws_rejected.fetch_add(1, Relaxed);
            return error_frame(
                None,
                &ApiError::bad_request("invalid_message", format!("not a valid message: {e}")),
            );
        }
    };
    let (client_id, command) = match msg {
        ClientMessage::Hello { .. } => {
            state.metrics.ws_rejected.fetch_add(1, Relaxed);
            return error_frame(
                None,
                &ApiError::bad_request("already_hello", "hello is sent once, first"),
            );
        }
        ClientMessage::Command { client_id, command } => (client_id, *command),
    };
    if client_id.is_empty() || client_id.len() > 64 {
        state.metrics.ws_rejected.fetch_add(1, Relaxed);
        return error_frame(
            None,
            &ApiError::bad_request("invalid_client_id", "client_id must be 1 to 64 characters"),
        );
    }
    if let Some(answer) = state.dedup.get(who.user_id, &client_id) {
        state.metrics.ws_duplicates.fetch_add(1, Relaxed);
        let mut a = answer;
        a["duplicate"] = json!(true);
        return a;
    }
    if !may_send(who, state, &command) {
        state.metrics.ws_rejected.fetch_add(1, Relaxed);
        return error_frame(Some(&client_id), &ApiError::forbidden());
    }
    if let Command::UpdatePosition {
        unit,
        at,
        device_at,
        ..
    } = &command
    {
        let checked = validate_position(state, unit, *at, *device_at);
        if let Err(e) = checked {
            state.metrics.ws_rejected.fetch_add(1, Relaxed);
            return error_frame(Some(&client_id), &e);
        }
    }
    let fix = match &command {
        Command::UpdatePosition {
            unit,
            at,
            device_at,
            ..
        } => Some((
            unit.clone(),
            *at,
            device_at.map(|t| t.0).unwrap_or_else(now_ms),
        )),
        _ => None,
    };
    let result = crate::trace::submit(state, Some(who), command).await;
    if let (Ok(_), Some((unit, at, t))) = (&result, fix) {
        state.last_fixes.set(&unit, at, t);
    }
    let answer = match result {
        Ok(published) => json!({
            "type": "ack",
            "client_id": client_id,
            "events": published.iter().map(|p| json!({"stream": p.stream, "seq": p.seq})).collect::<Vec<_>>(),
        }),
        Err(e) => {
            state.metrics.ws_rejected.fetch_add(1, Relaxed);
            let e = ApiError::from(e);
            if e.status.is_server_error() {
                // Not applied and not final: the client may retry with the same id.
                return error_frame(Some(&client_id), &e);
            }
            error_frame(Some(&client_id), &e)
        }
    };
    state.dedup.put(who.user_id, &client_id, answer.clone());
    answer
}

fn validate_position(
    state: &AppState,
    unit: &UnitId,
    at: LatLon,
    device_at: Option<Timestamp>,
) -> Result<(), ApiError> {
    crate::api::check_latlon(at.lat, at.lon)?;
    crate::api::check_device_time(state, device_at.map(|t| t.0))?;
    check_plausible(state, unit, at, device_at)
}
