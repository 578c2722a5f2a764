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

use crate::error::HttpError;
use crate::{AppState, now_ms, view};
use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use futures_util::{FutureExt, SinkExt, StreamExt};
use satria_auth::{Principal, Role, SessionEnd, SessionId};
use satria_dispatch::{Command, Event, UnitId};
use satria_engine::Published;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

mod closing;
use closing::{LagMeter, Stop};

/// Read buffer per socket (see [`upgrade`]).
const READ_BUFFER: usize = 4 * 1024;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/ws", get(upgrade))
}

async fn upgrade(State(state): State<Arc<AppState>>, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(64 * 1024)
        .max_frame_size(64 * 1024)
        // tungstenite zero-fills the whole free read buffer before every read
        // (128 KiB by default): with a thousand sockets woken several times a second
        // that memset was most of the server's CPU. Client messages are small;
        // the buffer grows for a rare large one (up to the 64 KiB limit).
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| connection(socket, state))
}

/// Answers already given to client messages, per user and client id: a message
/// sent again after a reconnect is answered the same way and applied once.
///
/// Each user has two bounded rings, one for position reports and one for every
/// other command, so neither a crew sending a hundred fixes a second nor a busy
/// neighbour can push its acknowledgement of an assignment out of memory.
/// Answers are kept as the JSON text that was sent.
pub struct Dedup {
    positions: usize,
    commands: usize,
    inner: Mutex<HashMap<(i64, bool), Answers>>,
}

#[derive(Default)]
struct Answers {
    by_id: HashMap<Box<str>, Arc<str>>,
    order: VecDeque<Box<str>>,
}

impl Dedup {
    /// Keeps the last `positions` position answers and the last `commands`
    /// other answers of each user.
    pub fn new(positions: usize, commands: usize) -> Dedup {
        Dedup {
            positions: positions.max(1),
            commands: commands.max(1),
            inner: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, user: i64, id: &str) -> Option<Arc<str>> {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        [true, false]
            .iter()
            .find_map(|&pos| g.get(&(user, pos)).and_then(|a| a.by_id.get(id)).cloned())
    }

    fn put(&self, user: i64, position: bool, id: &str, answer: Arc<str>) {
        let cap = if position {
            self.positions
        } else {
            self.commands
        };
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let a = g.entry((user, position)).or_default();
        if a.by_id.insert(id.into(), answer).is_none() {
            a.order.push_back(id.into());
        }
        while a.order.len() > cap {
            if let Some(old) = a.order.pop_front() {
                a.by_id.remove(&old);
            }
        }
    }
}

impl std::fmt::Debug for Dedup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dedup")
            .field("positions", &self.positions)
            .field("commands", &self.commands)
            .finish()
    }
}

/// The outside of a client message, read when the whole does not parse.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    client_id: Option<String>,
}

/// A client id the server accepts and echoes: the dispatch crate's rule for ids
/// (1 to 64 characters, none of them a control character).
fn valid_client_id(id: &str) -> bool {
    satria_dispatch::validate::id("client_id", id).is_ok()
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
            // From the scene the crew fills the referral of the patient it carries:
            // for its own unit, on an incident that unit is working now.
            Command::SendReferral {
                incident,
                unit: Some(unit),
                ..
            } => {
                unit_is(unit)
                    && state
                        .engine
                        .snapshot()
                        .unit(unit)
                        .is_some_and(|u| u.incident == Some(*incident))
            }
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
type Stream = futures_util::stream::SplitStream<WebSocket>;

/// How long a client may take to accept a write before it is dropped.
const WRITE_DEADLINE: Duration = Duration::from_secs(10);

/// Runs a socket write, giving up on a client that cannot take it within
/// [`WRITE_DEADLINE`]. Nearly every write completes at once, so the timer is
/// armed only for one that has to wait: a thousand consoles receiving an
/// event then cost no timer-wheel traffic.
async fn within_deadline<E>(
    write: impl std::future::Future<Output = Result<(), E>>,
) -> Result<(), ()> {
    tokio::pin!(write);
    if let Some(r) = (&mut write).now_or_never() {
        return r.map_err(|_| ());
    }
    match tokio::time::timeout(WRITE_DEADLINE, write).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

/// Sends one frame now.
async fn send(tx: &mut Sink, v: &Value) -> Result<(), ()> {
    let text = serde_json::to_string(v).map_err(|_| ())?;
    within_deadline(tx.send(Message::Text(text.into()))).await
}

fn error_frame(client_id: Option<&str>, e: &HttpError) -> Value {
    json!({
        "type": "error",
        "client_id": client_id,
        "code": e.code,
        "message": e.message,
        "message_id": e.message_id,
    })
}

/// What a socket knows of its session, to notice its end.
struct SessionWatch<'a> {
    reg: crate::sessions::Registration<'a>,
    id: SessionId,
    expires_at_ms: i64,
}

impl SessionWatch<'_> {
    /// Why the session ended, if it did (as far as this server knows).
    fn ended(&self) -> Option<SessionEnd> {
        if let Some(why) = *self.reg.ended.borrow() {
            return Some(why);
        }
        (now_ms() >= self.expires_at_ms).then_some(SessionEnd::Expired)
    }

    /// Asks the store itself (authoritative, and sees another process's
    /// revocation before the watcher does).
    async fn recheck(&self, state: &Arc<AppState>, user_id: i64) -> Result<(), Stop> {
        if let Some(why) = self.ended() {
            return Err(Stop::session(why));
        }
        let auth = Arc::clone(&state.auth);
        let id = self.id;
        let r =
            tokio::task::spawn_blocking(move || auth.ended_sessions(&[(id, user_id)], now_ms()))
                .await;
        match r {
            Ok(Ok(v)) => match v.first().copied().flatten() {
                Some(why) => {
                    state.sessions.end(id, why);
                    Err(Stop::session(why))
                }
                None => Ok(()),
            },
            // The store cannot say: apply nothing, the client may retry.
            _ => Err(Stop::auth_unavailable()),
        }
    }
}

/// Per-connection context of [`forward`] and friends.
struct Conn<'a> {
    state: &'a Arc<AppState>,
    who: Principal,
    session: SessionWatch<'a>,
}

impl Conn<'_> {
    /// Refuses to go on once the session ended or the access log fails (for a
    /// personal frame).
    fn may_deliver(&self, personal: bool) -> Result<(), Stop> {
        if let Some(why) = self.session.ended() {
            return Err(Stop::session(why));
        }
        if personal && !self.state.audit.is_healthy() {
            return Err(Stop::access_log());
        }
        Ok(())
    }
}

async fn connection(socket: WebSocket, state: Arc<AppState>) {
    let (mut tx, mut rx) = socket.split();
    match run(&mut tx, &mut rx, &state).await {
        Ok(()) | Err(Stop::Gone) => {}
        Err(Stop::Close {
            code,
            reason,
            goodbye,
        }) => {
            match code {
                closing::CLOSE_SESSION_ENDED => {
                    state.metrics.ws_closed_session.fetch_add(1, Relaxed);
                }
                closing::CLOSE_LAGGING => {
                    state.metrics.ws_dropped_lagging.fetch_add(1, Relaxed);
                }
                closing::CLOSE_TRY_AGAIN_LATER if reason == satria_auth::AccessLogError::CODE => {
                    state.metrics.ws_closed_access_log.fetch_add(1, Relaxed);
                }
                _ => {}
            }
            tracing::info!(code, reason, "websocket closed by the server");
            if let Some(g) = goodbye {
                let _ = send(&mut tx, &g).await;
            }
            if within_deadline(tx.send(Stop::close_message(code, reason)))
                .await
                .is_ok()
            {
                // The closing handshake: wait (bounded) for the client's close,
                // reading what it still sends, so the connection ends with the
                // client having read the reason instead of a reset.
                // A shutdown does not wait for it.
                let mut closing = state.closing.subscribe();
                let drain = async {
                    while let Some(Ok(m)) = rx.next().await {
                        if matches!(m, Message::Close(_)) {
                            break;
                        }
                    }
                };
                tokio::select! {
                    _ = tokio::time::timeout(WRITE_DEADLINE, drain) => {}
                    _ = closing.wait_for(|c| *c) => {}
                }
            }
        }
    }
}

/// True for the error tungstenite gives a message or frame over the limits.
fn too_big(e: &axum::Error) -> bool {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        if let Some(t) = s.downcast_ref::<tungstenite::Error>() {
            return matches!(t, tungstenite::Error::Capacity(_));
        }
        src = s.source();
    }
    false
}

async fn run(tx: &mut Sink, rx: &mut Stream, state: &Arc<AppState>) -> Result<(), Stop> {
    // The hello comes first, within 10 s.
    let hello = match tokio::time::timeout(Duration::from_secs(10), rx.next()).await {
        Ok(Some(Ok(Message::Text(t)))) => serde_json::from_str::<ClientMessage>(&t).ok(),
        Ok(Some(Err(e))) if too_big(&e) => return Err(Stop::too_big()),
        _ => None,
    };
    let Some(ClientMessage::Hello { token, last_seq }) = hello else {
        let e = HttpError::bad_request(
            "hello_expected",
            "the first message must be {\"type\":\"hello\",\"token\":..,\"last_seq\":..}",
            "pesan pertama harus {\"type\":\"hello\",\"token\":..,\"last_seq\":..}",
        );
        let _ = send(tx, &error_frame(None, &e)).await;
        return Err(Stop::Gone);
    };
    let auth = Arc::clone(&state.auth);
    let live = tokio::task::spawn_blocking(move || auth.session(&token, now_ms()))
        .await
        .map_err(|_| Stop::Gone)?;
    let Ok(live) = live else {
        let _ = send(tx, &error_frame(None, &HttpError::unauthenticated())).await;
        return Err(Stop::Gone);
    };
    // No personal data goes out while its delivery cannot be recorded.
    if !state.audit.is_healthy() {
        let _ = send(tx, &error_frame(None, &crate::audit::unavailable())).await;
        return Err(Stop::access_log());
    }
    let who = live.principal;
    let conn = Conn {
        state,
        session: SessionWatch {
            reg: state.sessions.register(live.id, who.user_id),
            id: live.id,
            expires_at_ms: live.expires_at_ms,
        },
        who,
    };
    // A session ended between the check and the registration is caught here.
    conn.session.recheck(state, conn.who.user_id).await?;
    let who = &conn.who;
    let role_ix = Role::ALL.iter().position(|r| *r == who.role).unwrap_or(0);
    state.metrics.ws_open[role_ix].fetch_add(1, Relaxed);
    let _guard = OpenGuard(state, role_ix);
    tracing::info!(user = %who.username, role = %who.role, last_seq, "websocket connected");

    // Subscribe before looking at the journal or the snapshot, so nothing falls
    // between them and the live stream.
    // Dispatch roles watch; crews and hospitals act, so they hear first.
    let mut live = if view::sees_positions(who) {
        state.engine.subscribe()
    } else {
        state.engine.subscribe_first()
    };
    // The fleet's positions come on their own channel, to the roles that
    // follow them; everyone else is never woken by them.
    let mut fixes = view::sees_positions(who).then(|| state.engine.subscribe_positions());
    let stream = state.engine.stream().to_string();
    let head = state.engine.last_seq();
    let replay = last_seq <= head && head - last_seq <= state.opts.max_replay;
    send(
        tx,
        &json!({
            "type": "welcome",
            "stream": stream,
            "last_seq": head,
            "user": who,
            "mode": if replay { "replay" } else { "snapshot" },
            "service": state.opts.service.as_str(),
        }),
    )
    .await?;
    let mut lag = LagMeter::default();
    let mut seen = if replay {
        replay_since(&conn, tx, &stream, last_seq).await?
    } else {
        resync(&conn, tx).await?
    };
    lag.wrote(Instant::now());

    let mut ping = tokio::time::interval(state.opts.ping_every);
    ping.tick().await;
    let mut unanswered = 0u32;
    // Numbered pings measure how far behind the client reads (see LagMeter):
    // a few per lag limit, only while frames flow.
    let max_lag = state.opts.max_ws_lag.max(Duration::from_millis(100));
    let mut probe = tokio::time::interval(max_lag / 4);
    probe.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The session's end by time, without waiting for anyone to notice.
    let until_expiry =
        u64::try_from(conn.session.expires_at_ms.saturating_sub(now_ms())).unwrap_or(0);
    let expiry = tokio::time::sleep(Duration::from_millis(until_expiry));
    tokio::pin!(expiry);
    let mut ended = conn.session.reg.ended.clone();
    // Region events are written and flushed at once. Position fixes are
    // collected every `POSITION_FLUSH` and written together (one frame each, one
    // flush), so a console watching a whole fleet wakes and writes four times a
    // second instead of once per fix, and a thousand consoles leave the cores
    // free for the events that matter.
    // Each socket's ticks are offset so a thousand consoles do not all wake at
    // the same instant.
    static SOCKETS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let offset =
        Duration::from_millis(SOCKETS.fetch_add(37, Relaxed) % POSITION_FLUSH.as_millis() as u64);
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
                let _ = send(tx, &json!({
                    "type": "goodbye",
                    "code": "server_shutdown",
                    "reason": "server shutting down",
                    "message": "the server is shutting down; reconnect shortly",
                    "message_id": "Server sedang dimatikan; sambungkan ulang sebentar lagi.",
                }))
                .await;
                let _ = tx.send(Stop::close_message(1000, "server_shutdown")).await;
                return Ok(());
            }
            _ = ended.changed() => {
                if let Some(why) = conn.session.ended() {
                    return Err(Stop::session(why));
                }
            }
            _ = &mut expiry => return Err(Stop::session(SessionEnd::Expired)),
            ev = live.recv() => match ev {
                Ok(p) => {
                    if p.stream == stream {
                        if p.seq <= seen {
                            continue;
                        }
                        seen = p.seq;
                    }
                    let mut wrote = forward(&conn, tx, &p).await?;
                    // The events of one command arrive together (a call and its
                    // automatic assignment): write all that are ready, flush once.
                    while let Ok(p) = live.try_recv() {
                        if p.stream == stream {
                            if p.seq <= seen {
                                continue;
                            }
                            seen = p.seq;
                        }
                        wrote |= forward(&conn, tx, &p).await?;
                    }
                    if wrote {
                        flush(tx).await?;
                        lag.wrote(Instant::now());
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    state.metrics.ws_resyncs.fetch_add(1, Relaxed);
                    seen = resync(&conn, tx).await?;
                    lag.wrote(Instant::now());
                }
                Err(RecvError::Closed) => return Ok(()),
            },
            msg = rx.next() => {
                // Answer every message that has already arrived, then flush once:
                // a crew reporting fast gets its acknowledgements in one write.
                let (mut msg, mut answered) = (msg, 0);
                loop {
                    match msg {
                        Some(Ok(Message::Text(t))) => {
                            let reply = handle_text(&conn, &t).await?;
                            feed(tx, reply).await?;
                        }
                        Some(Ok(Message::Pong(p))) => {
                            unanswered = 0;
                            lag.pong(&p);
                        }
                        Some(Ok(Message::Ping(_))) => unanswered = 0,
                        Some(Ok(Message::Binary(_))) => {
                            state.metrics.ws_rejected.fetch_add(1, Relaxed);
                            let e = HttpError::bad_request(
                                "binary_not_supported",
                                "send JSON text frames",
                                "kirim frame teks JSON",
                            );
                            feed(tx, error_frame(None, &e).to_string()).await?;
                        }
                        Some(Err(e)) if too_big(&e) => {
                            state.metrics.ws_rejected.fetch_add(1, Relaxed);
                            let _ = flush(tx).await;
                            return Err(Stop::too_big());
                        }
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                            let _ = flush(tx).await;
                            return Ok(());
                        }
                    }
                    answered += 1;
                    if answered == MAX_READ_BATCH {
                        break;
                    }
                    match rx.next().now_or_never() {
                        Some(next) => msg = next,
                        None => break,
                    }
                }
                flush(tx).await?;
            }
            _ = fix_tick.tick(), if fixes.is_some() => {
                let mut wrote = false;
                while let Some(r) = fixes.as_mut() {
                    match r.try_recv() {
                        Ok(p) => {
                            wrote |= forward(&conn, tx, &p).await?;
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
                    flush(tx).await?;
                    lag.wrote(Instant::now());
                }
            }
            _ = probe.tick() => {
                let now = Instant::now();
                if lag.lag(now) > max_lag {
                    tracing::info!(user = %who.username, lag_ms = lag.lag(now).as_millis() as u64, "websocket dropped: too far behind");
                    return Err(Stop::lagging(max_lag));
                }
                if let Some(n) = lag.probe() {
                    within_deadline(tx.send(Message::Ping(n.into()))).await?;
                }
            }
            _ = ping.tick() => {
                if unanswered >= 2 {
                    state.metrics.ws_dropped_unresponsive.fetch_add(1, Relaxed);
                    tracing::info!(user = %who.username, "websocket dropped: two pings unanswered");
                    return Ok(());
                }
                unanswered += 1;
                within_deadline(tx.send(Message::Ping(Vec::new().into()))).await?;
            }
        }
    }
}

/// How many already-arrived client messages are answered before one flush.
const MAX_READ_BATCH: usize = 64;

/// Writes one frame without flushing.
async fn feed(tx: &mut Sink, text: String) -> Result<(), ()> {
    within_deadline(tx.feed(Message::Text(text.into()))).await
}

/// How long a position frame may wait in the socket's buffer for company. Units
/// report about once a second; a quarter of a second on a map is not seen,
/// while waking a thousand consoles ten times a second cost a fifth of a core.
const POSITION_FLUSH: Duration = Duration::from_millis(250);

/// Flushes what [`forward`] and [`feed`] wrote.
async fn flush(tx: &mut Sink) -> Result<(), ()> {
    within_deadline(tx.flush()).await
}

/// Writes one event (unflushed) if the caller may see it, recording deliveries
/// of personal data; true if it was written. Nothing is written once the
/// session ended, and no personal frame while the access log fails.
async fn forward(conn: &Conn<'_>, tx: &mut Sink, published: &Published) -> Result<bool, Stop> {
    let (state, who) = (conn.state, &conn.who);
    let event = &published.event;
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
    let crew_incident = match (who.role, event) {
        (Role::Crew, Event::UnitAssigned { incident, .. }) => Some(*incident),
        _ => None,
    };
    conn.may_deliver(personal || crew_incident.is_some())?;
    if personal {
        state
            .audit
            .record_delivered(who, "receive", subject_of(event), "websocket event");
    }
    // The frame is shared by every socket that sends it: no copy per socket.
    let frame = Utf8Bytes::try_from(published.frame().clone()).map_err(|_| ())?;
    within_deadline(tx.feed(Message::Text(frame))).await?;
    state.metrics.ws_events_sent.fetch_add(1, Relaxed);
    // A crew is told what it is sent to: the incident with its location and caller.
    if let Some(incident) = crew_incident
        && let Some(snap) = &snap
        && let Some(i) = snap.incident(incident)
    {
        state.audit.record_delivered(
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
    conn: &Conn<'_>,
    tx: &mut Sink,
    stream: &str,
    after: u64,
) -> Result<u64, Stop> {
    let state = conn.state;
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
        forward(
            conn,
            tx,
            &Published::new(stream.to_string(), entry.seq, event),
        )
        .await?;
    }
    flush(tx).await?;
    Ok(seen)
}

/// Sends the part of the current state the caller may see; returns its seq.
async fn resync(conn: &Conn<'_>, tx: &mut Sink) -> Result<u64, Stop> {
    let (state, who) = (conn.state, &conn.who);
    let (seq, snap) = state.engine.snapshot_at();
    let (body, personal) = view::snapshot_for(who, &snap);
    conn.may_deliver(!personal.is_empty())?;
    if !personal.is_empty() {
        state
            .audit
            .record_delivered(who, "receive", personal.join(","), "websocket snapshot");
    }
    send(
        tx,
        &json!({"type": "snapshot", "stream": state.engine.stream(), "seq": seq, "state": body}),
    )
    .await?;
    Ok(seq)
}

/// An acknowledgement: the client's id and where its events went.
#[derive(serde::Serialize)]
struct Ack<'a> {
    r#type: &'static str,
    client_id: &'a str,
    events: Vec<AckedEvent<'a>>,
}

#[derive(serde::Serialize)]
struct AckedEvent<'a> {
    stream: &'a str,
    seq: u64,
}

/// Handles one client text frame; returns the answer frame (JSON text), or
/// stops the connection when its session has ended (nothing is applied then).
async fn handle_text(conn: &Conn<'_>, text: &str) -> Result<String, Stop> {
    let (state, who) = (conn.state, &conn.who);
    if let Some(why) = conn.session.ended() {
        return Err(Stop::session(why));
    }
    let refuse = |client_id: Option<&str>, e: HttpError| {
        state.metrics.ws_rejected.fetch_add(1, Relaxed);
        error_frame(client_id, &e).to_string()
    };
    let msg = match serde_json::from_str::<ClientMessage>(text) {
        Ok(m) => m,
        Err(e) => {
            // A command that does not parse still carries the client's id when its
            // envelope does: answer with it, so a client's queue learns the command
            // was refused (and drops it) instead of waiting for an answer for ever.
            let id = serde_json::from_str::<Envelope>(text)
                .ok()
                .and_then(|env| env.client_id)
                .filter(|id| valid_client_id(id));
            return Ok(refuse(
                id.as_deref(),
                HttpError::bad_request(
                    "invalid_message",
                    format!("not a valid message: {e}"),
                    format!("pesan tidak sah: {e}"),
                ),
            ));
        }
    };
    let (client_id, command) = match msg {
        ClientMessage::Hello { .. } => {
            return Ok(refuse(
                None,
                HttpError::bad_request(
                    "already_hello",
                    "hello is sent once, first",
                    "hello dikirim sekali saja, paling awal",
                ),
            ));
        }
        ClientMessage::Command { client_id, command } => (client_id, *command),
    };
    if !valid_client_id(&client_id) {
        return Ok(refuse(
            None,
            HttpError::bad_request(
                "invalid_client_id",
                "client_id must be 1 to 64 characters without control characters",
                "client_id harus 1 sampai 64 karakter tanpa karakter kontrol",
            ),
        ));
    }
    if let Some(answer) = state.dedup.get(who.user_id, &client_id) {
        state.metrics.ws_duplicates.fetch_add(1, Relaxed);
        // Every answer is a JSON object: mark it as the repeat it is.
        return Ok(format!("{{\"duplicate\":true,{}", &answer[1..]));
    }
    if !may_send(who, state, &command) {
        return Ok(refuse(Some(&client_id), HttpError::forbidden()));
    }
    let fix = match &command {
        Command::UpdatePosition {
            unit,
            at,
            device_at,
            ..
        } => {
            if let Err(e) = crate::checks::position_report(state, unit, *at, *device_at) {
                return Ok(refuse(Some(&client_id), e));
            }
            Some((
                unit.clone(),
                *at,
                device_at.map(|t| t.0).unwrap_or_else(now_ms),
            ))
        }
        _ => None,
    };
    let position = fix.is_some();
    // Anything but a position is applied only for a session the store itself
    // still holds live: a revocation by another process is not waited for.
    if !position {
        conn.session.recheck(state, who.user_id).await?;
    }
    let result = crate::trace::submit(state, Some(who), command).await;
    if let (Ok(_), Some((unit, at, t))) = (&result, fix) {
        state.last_fixes.set(&unit, at, t);
    }
    let answer = match result {
        Ok(published) => serde_json::to_string(&Ack {
            r#type: "ack",
            client_id: &client_id,
            events: published
                .iter()
                .map(|p| AckedEvent {
                    stream: &p.stream,
                    seq: p.seq,
                })
                .collect(),
        })
        .unwrap_or_default(),
        Err(e) => {
            let e = crate::error::engine_failed(e);
            if e.status.is_server_error() {
                // Not applied and not final: the client may retry with the same id.
                return Ok(refuse(Some(&client_id), e));
            }
            refuse(Some(&client_id), e)
        }
    };
    let answer: Arc<str> = answer.into();
    state
        .dedup
        .put(who.user_id, position, &client_id, Arc::clone(&answer));
    Ok(answer.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(s: &str) -> Arc<str> {
        s.into()
    }

    #[test]
    fn answers_are_kept_per_user_and_positions_do_not_evict_commands() {
        let d = Dedup::new(3, 2);
        d.put(1, false, "ack-1", answer("{\"a\":1}"));
        for k in 0..10 {
            d.put(1, true, &format!("p{k}"), answer("{\"p\":1}"));
        }
        // Only the last three positions are remembered, and the command still is.
        assert!(d.get(1, "p6").is_none());
        assert!(d.get(1, "p7").is_some());
        assert_eq!(d.get(1, "ack-1").as_deref(), Some("{\"a\":1}"));
        // Another user's ids are another user's.
        assert!(d.get(2, "ack-1").is_none());
        for k in 0..5 {
            d.put(2, false, &format!("c{k}"), answer("{}"));
        }
        assert_eq!(d.get(1, "ack-1").as_deref(), Some("{\"a\":1}"));
        // The command ring of a user holds its last two.
        d.put(1, false, "ack-2", answer("{}"));
        d.put(1, false, "ack-3", answer("{}"));
        assert!(d.get(1, "ack-1").is_none());
        assert!(d.get(1, "ack-3").is_some());
        // Putting the same id again does not grow the ring.
        d.put(1, false, "ack-3", answer("{\"b\":2}"));
        assert!(d.get(1, "ack-2").is_some());
        assert_eq!(d.get(1, "ack-3").as_deref(), Some("{\"b\":2}"));
    }
}
