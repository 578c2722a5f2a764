//! What the consoles and the crew app need of a cluster: the addresses of the
//! region's nodes (`GET /cluster/nodes`), so that a client whose node died
//! reconnects to another, and leave for a page loaded from one node to talk
//! to another: cross-origin requests (CORS) and the pages'
//! `connect-src` admit exactly the origins the nodes advertised, nothing else.
//!
//! On a single node the list is that node, without an address: no other
//! origin is admitted, as before the cluster.

use crate::AppState;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;

/// Where a client asks for the region's nodes.
pub const NODES_PATH: &str = "/cluster/nodes";

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route(NODES_PATH, get(nodes))
}

/// The region's nodes, the leader marked, in node-id order. Public, as
/// `/readyz` is: it names addresses the clients connect to anyway.
async fn nodes(State(state): State<Arc<AppState>>) -> Response {
    let role = state.engine.role();
    let nodes: Vec<_> = role
        .nodes
        .iter()
        .map(|n| {
            serde_json::json!({
                "node_id": n.node_id,
                "addr": n.addr,
                "leader": role.leader_id.as_deref() == Some(n.node_id.as_str()),
                "self": n.node_id == role.node_id,
            })
        })
        .collect();
    (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({
            "node_id": role.node_id,
            "leader_id": role.leader_id,
            "nodes": nodes,
        })),
    )
        .into_response()
}

/// An advertised address as a browser origin (`scheme://host[:port]`, no
/// path, no trailing slash), if it is one.
fn origin_of(addr: &str) -> Option<String> {
    let (scheme, rest) = addr.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next()?;
    // Host, port and IPv6 brackets only: nothing that could end a header
    // value or a CSP directive.
    let host_chars =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if host.is_empty() || !host.chars().all(host_chars) {
        return None;
    }
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// The origins of the region's nodes, as they advertised them.
pub fn node_origins(state: &AppState) -> Vec<String> {
    let mut v: Vec<String> = state
        .engine
        .role()
        .nodes
        .iter()
        .filter_map(|n| n.addr.as_deref().and_then(origin_of))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The pages' `connect-src`: this server, and every node's origin with its
/// WebSocket twin (`ws://` for `http://`, `wss://` for `https://`).
pub fn connect_src(state: &AppState) -> String {
    let mut s = String::from("'self'");
    for o in node_origins(state) {
        let ws = o
            .strip_prefix("https://")
            .map(|h| format!("wss://{h}"))
            .or_else(|| o.strip_prefix("http://").map(|h| format!("ws://{h}")))
            .unwrap_or_default();
        s.push(' ');
        s.push_str(&o);
        s.push(' ');
        s.push_str(&ws);
    }
    s
}

/// Cross-origin requests from the nodes' own origins: a preflight is answered
/// here (204, the methods and headers the consoles send); an actual request
/// gets `Access-Control-Allow-Origin` for that origin. A preflight from any
/// other origin gets 403 and the request never runs; other requests run as
/// before, and the browser keeps their answer from the page.
pub async fn cors(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return next.run(req).await;
    };
    let allowed = origin_of(&origin)
        .is_some_and(|o| o == origin.to_ascii_lowercase() && node_origins(&state).contains(&o));
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        if !allowed {
            return crate::error::HttpError::new(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                format!("{origin} is not a node of this cluster"),
                format!("{origin} bukan node klaster ini"),
            )
            .into_response();
        }
        let mut res = StatusCode::NO_CONTENT.into_response();
        let h = res.headers_mut();
        allow(h, &origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type, accept"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        return res;
    }
    let mut res = next.run(req).await;
    if allowed {
        allow(res.headers_mut(), &origin);
        res.headers_mut().insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after"),
        );
    }
    res
}

fn allow(h: &mut axum::http::HeaderMap, origin: &str) {
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.append(header::VARY, HeaderValue::from_static("origin"));
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn an_advertised_address_becomes_its_origin() {
        assert_eq!(
            origin_of("http://10.0.0.7:8119").as_deref(),
            Some("http://10.0.0.7:8119")
        );
        assert_eq!(
            origin_of("HTTPS://Node-B.psc119.example/").as_deref(),
            Some("https://node-b.psc119.example")
        );
        assert_eq!(origin_of("10.0.0.7:8119"), None);
        assert_eq!(origin_of("ftp://x"), None);
        assert_eq!(origin_of("http://user@x"), None);
        assert_eq!(origin_of("http://"), None);
        assert_eq!(origin_of("http://a;script-src *"), None);
    }
}
