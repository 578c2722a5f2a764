//! Health (`/livez`, `/readyz`) and Prometheus metrics (`/metrics`).
//!
//! The metrics are plain atomics rendered in the Prometheus text format: a
//! handful of counters, gauges and fixed-bucket histograms need no registry.

use crate::AppState;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// A latency histogram with Prometheus' cumulative buckets.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, d: std::time::Duration) {
        let s = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                self.buckets[i].fetch_add(1, Relaxed);
            }
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_us.fetch_add(d.as_micros() as u64, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {}",
                self.buckets[i].load(Relaxed)
            );
        }
        let n = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {n}");
        let _ = writeln!(
            out,
            "{name}_sum{{{labels}}} {}",
            self.sum_us.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count{{{labels}}} {n}");
    }
}

/// Request groups with their own latency histogram.
const GROUPS: [&str; 6] = [
    "auth",
    "incidents",
    "units",
    "hospitals",
    "referrals",
    "other",
];

/// Everything `/metrics` reports.
#[derive(Debug, Default)]
pub struct Metrics {
    http: [Histogram; GROUPS.len()],
    pub http_4xx: AtomicU64,
    pub http_5xx: AtomicU64,
    /// Open WebSockets per role index ([`satria_auth::Role::ALL`] order).
    pub ws_open: [AtomicU64; 9],
    pub ws_events_sent: AtomicU64,
    pub ws_resyncs: AtomicU64,
    /// Position fixes a console skipped because it fell behind them.
    pub ws_positions_skipped: AtomicU64,
    pub ws_rejected: AtomicU64,
    pub ws_duplicates: AtomicU64,
    pub ws_dropped_unresponsive: AtomicU64,
    /// Sockets closed because their session was revoked, logged out or expired.
    pub ws_closed_session: AtomicU64,
    /// Sockets dropped because the client read too far behind (`max_ws_lag`).
    pub ws_dropped_lagging: AtomicU64,
    /// Sockets closed (or hellos refused) because the access log failed.
    pub ws_closed_access_log: AtomicU64,
    /// Time from a command's submission to its durable acknowledgement (journal
    /// fsync included).
    pub commit: Histogram,
    /// Commands a follower passed to its leader (HTTP and socket frames).
    pub cluster_forwarded: AtomicU64,
    /// Of those, the ones the leader did not answer (unreachable, timed out,
    /// or it lost its lease meanwhile).
    pub cluster_forward_failed: AtomicU64,
}

fn group(path: &str) -> usize {
    let rest = path.strip_prefix("/api/").unwrap_or("");
    let first = rest.split('/').next().unwrap_or("");
    GROUPS
        .iter()
        .position(|g| *g == first)
        .unwrap_or(GROUPS.len() - 1)
}

/// Middleware: latency per route group and 4xx/5xx counts.
pub async fn track(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let t = std::time::Instant::now();
    let res = next.run(req).await;
    state.metrics.http[group(&path)].observe(t.elapsed());
    if res.status().is_client_error() {
        state.metrics.http_4xx.fetch_add(1, Relaxed);
    } else if res.status().is_server_error() {
        state.metrics.http_5xx.fetch_add(1, Relaxed);
    }
    res
}

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(render))
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    // Readable, and how far this node is behind it (a follower's lag).
    let (journal_ok, lag) = {
        let engine = Arc::clone(&state.engine);
        tokio::task::spawn_blocking(move || {
            let lag = engine.lag();
            (lag.is_ok(), lag.ok())
        })
        .await
        .unwrap_or((false, None))
    };
    // A follower is ready: it serves reads and forwards or refuses commands
    // with 503 until a leader is known; the balancer needs its role to know
    // where commands land.
    let role = state.engine.role();
    let engine = &state.engine;
    // How the node hears its leader's events: through Redis while it works,
    // else by reading the journal every tick (slower, nothing lost).
    let fanout = match (engine.backend(), engine.has_redis(), engine.redis_up()) {
        ("sqlite", ..) => "local",
        (_, true, Some(true) | None) => "redis",
        _ => "journal",
    };
    let redis = if engine.has_redis() {
        serde_json::json!(match engine.redis_up() {
            Some(true) => "up",
            Some(false) => "down",
            None => "connecting",
        })
    } else {
        serde_json::Value::Null
    };
    let checks = serde_json::json!({
        "backend": engine.backend(),
        "fanout": fanout,
        "redis": redis,
        "graph_loaded": state.graph_loaded,
        "journal_readable": journal_ok,
        "draining": state.is_draining(),
        "last_seq": state.engine.last_seq(),
        "node_id": role.node_id,
        "role": if role.leader { "leader" } else { "follower" },
        "term": role.term,
        "leader_id": role.leader_id,
        "leader_addr": role.leader_addr,
        "lag": lag,
    });
    let ok = state.graph_loaded && journal_ok && !state.is_draining();
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(checks)).into_response()
}

async fn render(State(state): State<Arc<AppState>>) -> Response {
    let m = &state.metrics;
    let mut out = String::with_capacity(8192);
    out.push_str("# HELP satria_http_request_duration_seconds HTTP request latency.\n# TYPE satria_http_request_duration_seconds histogram\n");
    for (i, g) in GROUPS.iter().enumerate() {
        m.http[i].render(
            &mut out,
            "satria_http_request_duration_seconds",
            &format!("group=\"{g}\""),
        );
    }
    let counter = |out: &mut String, name: &str, help: &str, v: u64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
        );
    };
    counter(
        &mut out,
        "satria_http_client_errors_total",
        "Responses with a 4xx status.",
        m.http_4xx.load(Relaxed),
    );
    counter(
        &mut out,
        "satria_http_server_errors_total",
        "Responses with a 5xx status.",
        m.http_5xx.load(Relaxed),
    );
    counter(
        &mut out,
        "satria_ws_events_sent_total",
        "Events sent to WebSocket clients.",
        m.ws_events_sent.load(Relaxed),
    );
    counter(
        &mut out,
        "satria_ws_resyncs_total",
        "Snapshots sent to clients that fell behind or came back too late.",
        m.ws_resyncs.load(Relaxed),
    );
    counter(
        &mut out,
        "satria_ws_positions_skipped_total",
        "Position fixes skipped by consoles that fell behind the fixes (the next fix of the unit replaces them).",
        m.ws_positions_skipped.load(Relaxed),
    );
    counter(
        &mut out,
        "satria_ws_rejected_messages_total",
        "Client messages refused (bad input, not allowed, invalid command).",
        m.ws_rejected.load(Relaxed),
    );
    counter(
        &mut out,
        "satria_ws_duplicate_messages_total",
        "Client messages seen before (same client id), answered without applying.",
        m.ws_duplicates.load(Relaxed),
    );
    counter(
        &mut out,
        "satria_ws_dropped_unresponsive_total",
        "Connections dropped after two missed pings.",
        m.ws_dropped_unresponsive.load(Relaxed),
    );
    counter(
        &mut out,
        "satria_ws_closed_session_ended_total",
        "Connections closed because their session was revoked, logged out or expired.",
        m.ws_closed_session.load(Relaxed),
    );
    counter(
        &mut out,
        "satria_ws_dropped_lagging_total",
        "Connections dropped because the client read too far behind.",
        m.ws_dropped_lagging.load(Relaxed),
    );
    counter(
        &mut out,
        "satria_ws_closed_access_log_total",
        "Connections closed or refused because the access log could not be written.",
        m.ws_closed_access_log.load(Relaxed),
    );
    counter(
        &mut out,
        "satria_access_log_failures_total",
        "Access-log batches that could not be written (their reads were refused).",
        state.audit.failures(),
    );
    counter(
        &mut out,
        "satria_access_log_lost_total",
        "Records of deliveries given up during a long access-log outage.",
        state.audit.lost(),
    );
    let _ = writeln!(
        out,
        "# HELP satria_access_log_healthy 1 while the access log can be written.\n# TYPE satria_access_log_healthy gauge\nsatria_access_log_healthy {}",
        u8::from(state.audit.is_healthy())
    );
    out.push_str(
        "# HELP satria_ws_open Open WebSocket connections per role.\n# TYPE satria_ws_open gauge\n",
    );
    for (i, r) in satria_auth::Role::ALL.iter().enumerate() {
        let _ = writeln!(
            out,
            "satria_ws_open{{role=\"{r}\"}} {}",
            m.ws_open[i].load(Relaxed)
        );
    }
    out.push_str("# HELP satria_command_commit_seconds Command submitted to durable acknowledgement (journal fsync included).\n# TYPE satria_command_commit_seconds histogram\n");
    m.commit
        .render(&mut out, "satria_command_commit_seconds", "");
    let _ = writeln!(
        out,
        "# HELP satria_engine_queue_depth Requests waiting for the dispatch engine.\n# TYPE satria_engine_queue_depth gauge\nsatria_engine_queue_depth {}",
        state.engine.queue_depth()
    );
    let _ = writeln!(
        out,
        "# HELP satria_journal_last_seq Sequence number of the last durable event.\n# TYPE satria_journal_last_seq counter\nsatria_journal_last_seq {}",
        state.engine.last_seq()
    );
    let role = state.engine.role();
    let _ = writeln!(
        out,
        "# HELP satria_cluster_leader 1 while this node leads its region (always, on a single node).\n# TYPE satria_cluster_leader gauge\nsatria_cluster_leader{{node=\"{node}\"}} {}\n# HELP satria_cluster_term The region lease's term this node leads in, or last saw.\n# TYPE satria_cluster_term gauge\nsatria_cluster_term{{node=\"{node}\"}} {}",
        u8::from(role.leader),
        role.term,
        node = role.node_id,
    );
    if state.engine.backend() == "postgresql" {
        let stats = state.engine.cluster_stats();
        let (renewals, renew_s) = stats.renewals();
        let lag = {
            let engine = Arc::clone(&state.engine);
            tokio::task::spawn_blocking(move || engine.lag().ok())
                .await
                .ok()
                .flatten()
        };
        let _ = writeln!(
            out,
            "# HELP satria_cluster_takeovers_total Times this node took its region's lease (at start, or from a holder that stopped renewing).\n# TYPE satria_cluster_takeovers_total counter\nsatria_cluster_takeovers_total{{node=\"{node}\"}} {}\n\
             # HELP satria_cluster_lease_renew_seconds Time a lease renewal took (one database round trip).\n# TYPE satria_cluster_lease_renew_seconds summary\nsatria_cluster_lease_renew_seconds_sum{{node=\"{node}\"}} {renew_s}\nsatria_cluster_lease_renew_seconds_count{{node=\"{node}\"}} {renewals}\n\
             # HELP satria_cluster_lease_last_renew_seconds Time the last lease renewal took.\n# TYPE satria_cluster_lease_last_renew_seconds gauge\nsatria_cluster_lease_last_renew_seconds{{node=\"{node}\"}} {}\n\
             # HELP satria_cluster_gaps_filled_total Gaps in the events Redis brought that this node filled from the journal.\n# TYPE satria_cluster_gaps_filled_total counter\nsatria_cluster_gaps_filled_total{{node=\"{node}\"}} {}\n\
             # HELP satria_cluster_forwarded_total Commands this node passed to its region's leader.\n# TYPE satria_cluster_forwarded_total counter\nsatria_cluster_forwarded_total{{node=\"{node}\"}} {}\n\
             # HELP satria_cluster_forward_failed_total Forwarded commands the leader did not answer.\n# TYPE satria_cluster_forward_failed_total counter\nsatria_cluster_forward_failed_total{{node=\"{node}\"}} {}",
            stats.takeovers(),
            stats.last_renew_seconds(),
            stats.gaps_filled(),
            m.cluster_forwarded.load(Relaxed),
            m.cluster_forward_failed.load(Relaxed),
            node = role.node_id,
        );
        if let Some(lag) = lag {
            let _ = writeln!(
                out,
                "# HELP satria_cluster_lag_events Journaled events of the region this node has not applied yet (0 on the leader).\n# TYPE satria_cluster_lag_events gauge\nsatria_cluster_lag_events{{node=\"{node}\"}} {lag}",
                node = role.node_id,
            );
        }
    }
    {
        let snap = state.engine.snapshot();
        let _ = writeln!(
            out,
            "# HELP satria_incidents_live Incidents held in the live state (open, and ended less than archive_after_s ago).\n# TYPE satria_incidents_live gauge\nsatria_incidents_live {}\n\
             # HELP satria_incidents_archived Incidents archived out of the live state (readable from the store).\n# TYPE satria_incidents_archived gauge\nsatria_incidents_archived {}",
            snap.incidents().count(),
            snap.archived_count(),
        );
    }
    if let Some((rss, peak)) = process_memory() {
        let _ = writeln!(
            out,
            "# HELP process_resident_memory_bytes Resident memory of this process.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {rss}\n\
             # HELP satria_process_peak_resident_memory_bytes The most resident memory this process has held.\n# TYPE satria_process_peak_resident_memory_bytes gauge\nsatria_process_peak_resident_memory_bytes {peak}",
        );
    }
    if state.engine.has_redis() {
        let _ = writeln!(
            out,
            "# HELP satria_redis_up 1 while this node's last use of Redis worked (fan-out falls back to the journal when 0).\n# TYPE satria_redis_up gauge\nsatria_redis_up{{node=\"{node}\"}} {}",
            u8::from(state.engine.redis_up() != Some(false)),
            node = role.node_id,
        );
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

/// This process's resident memory and its peak, in bytes (Linux: `/proc/self/status`).
fn process_memory() -> Option<(u64, u64)> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse::<u64>()
            .ok()
            .map(|k| k * 1024)
    };
    Some((kb("VmRSS:")?, kb("VmHWM:")?))
}
