//! The start of a connection: the client's `hello` (its token and the last seq
//! it saw), the `welcome`, and the catch-up that follows it: the missed events
//! replayed from the journal, or a fresh `snapshot` of what the caller may see.

use super::closing::Stop;
use super::commands::ClientMessage;
use super::conn::{Conn, SessionWatch};
use super::events::forward;
use super::{Sink, Stream, error_frame, flush, send, too_big};
use crate::error::HttpError;
use crate::{AppState, now_ms, view};
use axum::extract::ws::Message;
use futures_util::StreamExt;
use satria_dispatch::Event;
use satria_engine::Published;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Reads the hello (within 10 s) and opens the session it names: the
/// connection's context and the last seq the client saw. A client that does not
/// say hello, or names no live session, is told so and dropped.
pub(super) async fn accept<'a>(
    tx: &mut Sink,
    rx: &mut Stream,
    state: &'a Arc<AppState>,
) -> Result<(Conn<'a>, u64), Stop> {
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
    let bearer = token.clone();
    let live = tokio::task::spawn_blocking(move || auth.session(&bearer, now_ms()))
        .await
        .map_err(|_| Stop::Gone)?;
    let live = match live {
        Ok(live) => live,
        Err(e) => {
            let _ = send(tx, &error_frame(None, &satria_http::session_refused(&e))).await;
            return Err(Stop::Gone);
        }
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
        token,
    };
    // A session ended between the check and the registration is caught here
    // (a store that cannot be read now cannot have ended it either).
    conn.session.recheck(state, conn.who.user_id).await?;
    Ok((conn, last_seq))
}

/// Sends the welcome, then the catch-up: a replay when the client is at most
/// `max_replay` events behind, else a snapshot. Called after subscribing to the
/// live stream, so nothing falls between the two. Returns the region stream and
/// the last seq sent (or considered).
pub(super) async fn welcome(
    conn: &Conn<'_>,
    tx: &mut Sink,
    last_seq: u64,
) -> Result<(String, u64), Stop> {
    let (state, who) = (conn.state, &conn.who);
    let stream = state.engine.stream().to_string();
    let mut head = state.engine.last_seq();
    // In a cluster a client may come from a node further along (its old node
    // died, or leads): this node is a tick or a Redis message behind it, so
    // it waits to catch up (briefly) and replays, instead of answering a seq
    // it has not applied yet with a snapshot.
    let cluster = state.engine.role().term > 0;
    if cluster && last_seq > head && last_seq - head <= state.opts.max_replay {
        state
            .engine
            .caught_up(last_seq, std::time::Duration::from_secs(3))
            .await;
        head = state.engine.last_seq();
    }
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
    let seen = if replay {
        replay_since(conn, tx, &stream, last_seq).await?
    } else {
        resync(conn, tx).await?
    };
    Ok((stream, seen))
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
    let engine = std::sync::Arc::clone(&state.engine);
    let s = stream.to_string();
    let limit = usize::try_from(state.opts.max_replay).unwrap_or(usize::MAX);
    let entries = tokio::task::spawn_blocking(move || engine.read_since(&s, after, limit))
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
pub(super) async fn resync(conn: &Conn<'_>, tx: &mut Sink) -> Result<u64, Stop> {
    let (state, who) = (conn.state, &conn.who);
    let (seq, snap) = state.engine.snapshot_at();
    let (body, personal) = view::snapshot_for(who, &snap);
    conn.may_deliver(!personal.is_empty())?;
    if !personal.is_empty() {
        state
            .audit
            .record_delivered_each(who, "receive", personal, "websocket snapshot");
    }
    send(
        tx,
        &json!({"type": "snapshot", "stream": state.engine.stream(), "seq": seq, "state": body}),
    )
    .await?;
    Ok(seq)
}
