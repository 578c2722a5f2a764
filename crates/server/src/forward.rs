//! A cluster's followers pass commands on to their region's leader.
//!
//! Every node serves the same API. A command (a mutating request under
//! `/api/`, except logins, which every node answers from the shared accounts,
//! and the Pattas and Salinmas modules, whose data each node keeps) that
//! reaches a node not leading its region is sent, as it came (method, path,
//! headers, body), to the HTTP address the leader recorded with its lease,
//! and the leader's answer is returned unchanged. The leader authenticates
//! the caller and records the access itself.
//!
//! Without a known leader, or when the leader cannot be reached, the answer
//! is `503 not_leader` with `Retry-After`, and nothing was done. A forward
//! stops waiting when the lease changes hands (a frozen leader answers
//! nothing, and cannot write after its term): `503 not_leader` again, to be
//! sent once more, now to the new leader. A request
//! that was forwarded once is never forwarded again (a leader that lost its
//! lease meanwhile answers 503 itself), so no request loops between nodes.

use crate::{AppState, HttpError, error::engine_failed};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use satria_engine::EngineError;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Set on a forwarded request: the node that forwarded it.
pub const FORWARDED_BY: &str = "x-satria-forwarded-by";

/// How long the leader may take to answer a forwarded command.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether `req` is a command this node's leader should decide.
fn is_command(req: &Request) -> bool {
    let path = req.uri().path();
    !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && path.starts_with("/api/")
        && !path.starts_with("/api/auth/")
        && !path.starts_with("/api/pattas/")
        && !path.starts_with("/api/salinmas/")
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(FORWARD_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client without TLS builds")
    })
}

/// Headers that belong to one connection, not to the request.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "host"
            | "content-length"
    )
}

/// 503 `not_leader`, naming the leader when known, and why when there is more to say.
fn not_leader(leader: Option<String>, why: Option<String>) -> HttpError {
    let mut e = engine_failed(EngineError::NotLeader { leader });
    if let Some(why) = why {
        e.message = format!("{} ({why})", e.message);
    }
    e
}

/// Why a forward went unanswered: the lease changed hands while it waited.
fn term_left(addr: &str, retry: &str) -> String {
    format!("the leader at {addr} lost its lease while the command waited; {retry}")
}

/// Sends `out`, but stops waiting (`None`) once the lease leaves `term`: a
/// leader that froze holding the request answers nothing, and its successor
/// is ready sooner than the timeout. A frozen leader cannot write after its
/// term (its appends are fenced), so the caller may send the command again.
async fn send_in_term(
    state: &AppState,
    term: u64,
    out: reqwest::RequestBuilder,
) -> Option<reqwest::Result<reqwest::Response>> {
    state.metrics.cluster_forwarded.fetch_add(1, Relaxed);
    let sent = tokio::select! {
        sent = out.send() => Some(sent),
        () = state.engine.term_left(term) => None,
    };
    if !matches!(sent, Some(Ok(_))) {
        state.metrics.cluster_forward_failed.fetch_add(1, Relaxed);
    }
    sent
}

/// Why sending to the leader at `addr` failed; `retry` says what the caller
/// may do when the command may have reached it.
fn send_failed(e: &reqwest::Error, addr: &str, retry: &str) -> String {
    if e.is_connect() {
        // Never connected: nothing reached the leader.
        format!("the leader at {addr} cannot be reached")
    } else {
        tracing::warn!(leader = %addr, "forwarding a command failed: {e}");
        format!("the leader at {addr} did not answer in time ({e}); {retry}")
    }
}

/// The path a follower posts its sockets' command frames to, on the leader.
pub const COMMAND_PATH: &str = "/cluster/command";

/// Passes a socket's command frame `text` to the leader, under the client's
/// own bearer `token`; the leader's answer frame, or why there is none.
pub async fn command(state: &AppState, token: &str, text: &str) -> Result<String, HttpError> {
    let role = state.engine.role();
    let unreachable = |why: Option<String>| not_leader(role.leader_id.clone(), why);
    let Some(addr) = role.leader_addr.clone() else {
        return Err(unreachable(None));
    };
    let retry = "send it again with the same client_id";
    let out = client()
        .post(format!("{}{COMMAND_PATH}", addr.trim_end_matches('/')))
        .bearer_auth(token)
        .header(FORWARDED_BY, role.node_id.as_str())
        .header(axum::http::header::CONTENT_TYPE, "application/json")
        .body(text.to_string());
    let Some(sent) = send_in_term(state, role.term, out).await else {
        return Err(unreachable(Some(term_left(&addr, retry))));
    };
    match sent {
        Ok(r) if r.status().is_success() => r
            .text()
            .await
            .map_err(|e| unreachable(Some(format!("the leader's answer was cut off: {e}")))),
        // The leader refused the caller itself (its session ended meanwhile).
        Ok(r) if r.status() == axum::http::StatusCode::UNAUTHORIZED => {
            Err(HttpError::unauthenticated())
        }
        Ok(r) => {
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            let said = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_string))
                .unwrap_or_default();
            Err(unreachable(Some(format!(
                "the leader answered {status}: {said}"
            ))))
        }
        Err(e) => Err(unreachable(Some(send_failed(&e, &addr, retry)))),
    }
}

/// `POST /cluster/command` on the leader: a follower's socket command frame.
pub async fn command_route(
    State(state): State<Arc<AppState>>,
    caller: crate::error::Caller,
    body: String,
) -> Response {
    let frame = crate::ws::handle_forwarded(&state, &caller.0, &body).await;
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        frame,
    )
        .into_response()
}

/// The middleware: commands go to the leader when this node follows.
pub async fn forward(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if !is_command(&req) {
        return next.run(req).await;
    }
    let role = state.engine.role();
    if role.leader {
        return next.run(req).await;
    }
    if req.headers().contains_key(FORWARDED_BY) {
        return not_leader(role.leader_id, Some("it was forwarded here already".into()))
            .into_response();
    }
    let Some(addr) = role.leader_addr.clone() else {
        return not_leader(role.leader_id, None).into_response();
    };
    let (parts, body) = req.into_parts();
    // The body limit was enforced outside this layer: a failure here is a
    // client that went away mid-body.
    let Ok(body) = axum::body::to_bytes(body, state.opts.max_body).await else {
        return crate::HttpError::bad_request(
            "body_unreadable",
            "the request body could not be read",
            "isi permintaan tidak dapat dibaca",
        )
        .into_response();
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_string(), |p| p.as_str().to_string());
    let mut out = client()
        .request(
            parts.method.clone(),
            format!("{}{path}", addr.trim_end_matches('/')),
        )
        .header(FORWARDED_BY, role.node_id.as_str())
        .body(body);
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            out = out.header(name, value);
        }
    }
    let may_be_done = "the command may have been done: look before sending it again";
    let Some(sent) = send_in_term(&state, role.term, out).await else {
        return not_leader(role.leader_id, Some(term_left(&addr, may_be_done))).into_response();
    };
    match sent {
        Ok(answer) => {
            let mut res = Response::builder().status(answer.status());
            for (name, value) in answer.headers() {
                if !hop_by_hop(name) {
                    res = res.header(name, value);
                }
            }
            match answer.bytes().await {
                Ok(bytes) => res
                    .body(Body::from(bytes))
                    .unwrap_or_else(|_| not_leader(role.leader_id, None).into_response()),
                Err(e) => not_leader(
                    role.leader_id,
                    Some(format!(
                        "the leader's answer was cut off ({e}); {may_be_done}"
                    )),
                )
                .into_response(),
            }
        }
        Err(e) => {
            not_leader(role.leader_id, Some(send_failed(&e, &addr, may_be_done))).into_response()
        }
    }
}
