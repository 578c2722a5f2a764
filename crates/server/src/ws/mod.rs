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

//!
//! Here: the route, the upgrade and the connection loop. The parts of a
//! connection: `hello.rs` (the hello, the welcome, replay or snapshot),
//! `events.rs` (what an event may reach), `commands.rs` (client commands),
//! `dedup.rs` (answers already given), `conn.rs` (the caller and its session),
//! `closing.rs` (why and how a socket is closed).

use crate::error::HttpError;
use crate::{AppState, now_ms, view};
use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use futures_util::{FutureExt, SinkExt, StreamExt};
use satria_auth::{Role, SessionEnd};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

mod closing;
mod commands;
mod conn;
mod dedup;
mod events;
mod hello;

use closing::{LagMeter, Stop};
use commands::handle_text;
use events::forward;

pub use commands::handle_forwarded;
pub use dedup::Dedup;

/// Read buffer per socket (see [`upgrade`]).
const READ_BUFFER: usize = 4 * 1024;
/// Frames gathered before they are written to the socket (see [`upgrade`]).
const WRITE_BUFFER: usize = 4 * 1024;

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
        // Frames are gathered up to this before they are written (a flush
        // writes the rest). The buffer keeps the capacity it once reached, so
        // tungstenite's 128 KiB default let every console hold what one
        // position flush had gathered: 5,000 consoles took 511 MB, with 4 KiB
        // 405 MB, and the same latency (`satria load --consoles 5000`). With
        // 0, a write per frame, the latency was five times worse.
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |socket| async move {
            let _live = LiveSocket::new(&state);
            connection(socket, Arc::clone(&state)).await
        })
}

/// Counts a running socket task in `AppState::live_sockets` while alive.
struct LiveSocket<'a>(&'a AppState);

impl<'a> LiveSocket<'a> {
    fn new(state: &'a AppState) -> LiveSocket<'a> {
        state.live_sockets.send_modify(|n| *n += 1);
        LiveSocket(state)
    }
}

impl Drop for LiveSocket<'_> {
    fn drop(&mut self) {
        self.0
            .live_sockets
            .send_modify(|n| *n = n.saturating_sub(1));
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
pub(crate) const WRITE_DEADLINE: Duration = Duration::from_secs(10);

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
    let (conn, last_seq) = hello::accept(tx, rx, state).await?;
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
    let (stream, mut seen) = hello::welcome(&conn, tx, last_seq).await?;
    let mut lag = LagMeter::default();
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
                    seen = hello::resync(&conn, tx).await?;
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
