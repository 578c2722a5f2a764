//! The client's `command` messages: parsed, answered from memory when their
//! `client_id` was seen before ([`Dedup`](super::Dedup)), checked against what
//! the caller's role may send, then submitted to the engine.

use super::closing::Stop;
use super::conn::Conn;
use super::error_frame;
use crate::error::HttpError;
use crate::{AppState, now_ms, view};
use satria_auth::{Principal, Role};
use satria_dispatch::{Command, UnitId};
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

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
pub(super) enum ClientMessage {
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
pub(super) async fn handle_text(conn: &Conn<'_>, text: &str) -> Result<String, Stop> {
    if let Some(why) = conn.session.ended() {
        return Err(Stop::session(why));
    }
    answer(conn.state, &conn.who, text, Some(conn)).await
}

/// A command frame a follower passed on (`POST /cluster/command`), answered as
/// if it had come over this node's socket: the caller was authenticated by
/// the request's bearer token, against the store itself. Never passed on again.
pub async fn handle_forwarded(state: &Arc<AppState>, who: &Principal, text: &str) -> String {
    match answer(state, who, text, None).await {
        Ok(frame) => frame,
        // Only a socket's own session can stop it, and there is none here.
        Err(_) => error_frame(None, &HttpError::unauthenticated()).to_string(),
    }
}

/// Decides one command frame: parsed, deduplicated, checked, and submitted
/// here (a leader), or passed on to the leader (a follower's socket, `conn`).
async fn answer(
    state: &Arc<AppState>,
    who: &Principal,
    text: &str,
    conn: Option<&Conn<'_>>,
) -> Result<String, Stop> {
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
    if let Some(conn) = conn {
        if !position && !conn.session.recheck(state, who.user_id).await? {
            // The accounts cannot be read (nor the journal written, most
            // likely): the command is refused, the socket stays.
            return Ok(refuse(
                Some(&client_id),
                HttpError::unavailable(
                    "the session could not be checked (the accounts' database does not answer); nothing was applied, send it again with the same client_id",
                ),
            ));
        }
        // A follower's socket: the leader decides (and remembers the answer
        // by client id, so a retry through any node is answered the same).
        if !state.engine.role().leader {
            return Ok(
                match crate::forward::command(state, &conn.token, text).await {
                    Ok(frame) => frame,
                    Err(e) => refuse(Some(&client_id), e),
                },
            );
        }
    }
    // Positions are volatile and never repeated; everything else is
    // remembered by its client id in the journal, with its events.
    let tagged = (!position).then_some(client_id.as_str());
    let result = crate::trace::submit_tagged(state, Some(who), command, tagged).await;
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
        // Applied before this node's memory began (a restart, a takeover):
        // the journal remembers, and the answer is the first one's.
        Err(satria_engine::EngineError::Duplicate { stream, seqs }) => {
            state.metrics.ws_duplicates.fetch_add(1, Relaxed);
            let ack = serde_json::to_string(&Ack {
                r#type: "ack",
                client_id: &client_id,
                events: seqs
                    .iter()
                    .map(|&seq| AckedEvent {
                        stream: &stream,
                        seq,
                    })
                    .collect(),
            })
            .unwrap_or_default();
            return Ok(format!("{{\"duplicate\":true,{}", &ack[1..]));
        }
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
