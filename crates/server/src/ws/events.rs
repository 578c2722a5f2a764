//! The events a socket forwards: only what its caller may see, each delivery
//! of personal data recorded in the access log first.

use super::closing::Stop;
use super::conn::Conn;
use super::{Sink, send, within_deadline};
use crate::{subject, view};
use axum::extract::ws::{Message, Utf8Bytes};
use futures_util::SinkExt;
use satria_auth::Role;
use satria_dispatch::Event;
use satria_engine::Published;
use serde_json::json;
use std::sync::atomic::Ordering::Relaxed;

/// Writes one event (unflushed) if the caller may see it, recording deliveries
/// of personal data; true if it was written. Nothing is written once the
/// session ended, and no personal frame while the access log fails.
pub(super) async fn forward(
    conn: &Conn<'_>,
    tx: &mut Sink,
    published: &Published,
) -> Result<bool, Stop> {
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
            .record_delivered(who, "receive", subject::of_event(event), "websocket event");
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
            subject::incident(incident),
            "crew assignment",
        );
        send(tx, &json!({"type": "incident", "incident": i})).await?;
    }
    Ok(true)
}
