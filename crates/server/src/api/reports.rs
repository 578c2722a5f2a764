//! Reports over the dispatch state: response times per triage colour and
//! kecamatan (`/api/reports/...`), over the live state and the archive.

use super::{ApiResult, ok};
use crate::AppState;
use crate::error::Caller;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use satria_auth::Role;
use satria_dispatch::Timestamp;
use satria_http::ApiQuery;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new().route("/api/reports/response-times", get(response_times))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Range {
    /// RFC 3339, inclusive.
    from: Timestamp,
    /// RFC 3339, exclusive.
    to: Timestamp,
}

fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// Response-time intervals per triage colour and kecamatan: call → first
/// dispatch, call → first unit on scene; the median and the 90th percentile
/// (nearest rank) in seconds.
async fn response_times(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiQuery(r): ApiQuery<Range>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin])?;
    // An empty window (`to` <= `from`) holds no incident: it answers no groups
    // (a rule between two parameters cannot be stated in the OpenAPI document).
    let region = satria_region::Region::banyumas();
    let snap = state.engine.snapshot();
    let archived = archived_between(&state, r.from, r.to).await?;
    type Key = (String, String);
    let mut groups: std::collections::BTreeMap<Key, (Vec<i64>, Vec<i64>, usize)> =
        Default::default();
    for i in snap.incidents().chain(archived.iter()) {
        if i.received_at < r.from || i.received_at >= r.to || i.merged_into.is_some() {
            continue;
        }
        let kec = region
            .nearest_desa(satria_region::LatLon {
                lat: i.location.lat,
                lon: i.location.lon,
            })
            .kecamatan
            .clone();
        let triage = i.triage.as_str().to_string();
        let g = groups.entry((triage, kec)).or_default();
        g.2 += 1;
        if let Some(a) = i.assignments.iter().map(|a| a.assigned_at.0).min() {
            g.0.push((a - i.received_at.0) / 1000);
        }
        if let Some(s) = i
            .history
            .iter()
            .filter(|h| h.kind == "unit_status_changed" && h.detail == "OnScene")
            .map(|h| h.at.0)
            .min()
        {
            g.1.push((s - i.received_at.0) / 1000);
        }
    }
    let rows: Vec<Value> = groups
        .into_iter()
        .map(|((triage, kec), (mut d, mut s, n))| {
            d.sort_unstable();
            s.sort_unstable();
            json!({
                "triage": triage,
                "kecamatan": kec,
                "incidents": n,
                "call_to_dispatch_s": {"n": d.len(), "median": percentile(&d, 0.5), "p90": percentile(&d, 0.9)},
                "call_to_scene_s": {"n": s.len(), "median": percentile(&s, 0.5), "p90": percentile(&s, 0.9)},
            })
        })
        .collect();
    ok(json!({"from": r.from, "to": r.to, "groups": rows}))
}

/// The archived incidents (out of the live state) received in `[from, to)`,
/// read from the region's archive stream: a record is archived after its
/// incident ended, so the records archived before `from` are skipped unread.
async fn archived_between(
    state: &AppState,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<satria_dispatch::Incident>, satria_http::HttpError> {
    let engine = state.engine.clone();
    let read = tokio::task::spawn_blocking(move || {
        let stream = satria_engine::archive_stream_of(engine.stream());
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = engine.read_since(&stream, after, 1000)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in page.iter().filter(|e| e.recorded_at_ms >= from.0) {
                let Ok(r) = serde_json::from_str::<satria_dispatch::ArchivedIncident>(&e.payload)
                else {
                    tracing::error!("archive entry {} does not parse", e.seq);
                    continue;
                };
                out.extend(
                    r.incidents
                        .into_iter()
                        .filter(|i| i.received_at >= from && i.received_at < to),
                );
            }
        }
        Ok::<_, satria_store::StoreError>(out)
    })
    .await
    .map_err(|_| satria_http::HttpError::unavailable("the archive read stopped"))?;
    read.map_err(|e| {
        tracing::warn!("reading the archive for a report: {e}");
        satria_http::HttpError::unavailable("the archive cannot be read now")
    })
}
