//! The drive of a unit on the roads, for the crews and the dispatchers:
//! - `GET /api/incidents/{id}/route`: the drive from a unit to the incident (or,
//!   with `?to=hospital`, to the hospital of its live referral) on the roads (a
//!   straight line when the server runs without a graph).

use crate::error::{Caller, HttpError};
use crate::view;
use crate::{AppState, now_ms};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use satria_auth::Role;
use satria_dispatch::{IncidentId, Timestamp, UnitId};
use satria_http::ApiQuery;
use satria_roads::DriveTimeEngine;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RouteQuery {
    /// The unit driving; default: the incident's latest active assignment.
    #[serde(default)]
    unit: Option<String>,
    /// `incident` (default) or `hospital`: the hospital of the incident's live
    /// referral, where the patient is carried.
    #[serde(default)]
    to: Option<String>,
}

/// How far a position may be from the nearest road and still be routed, in m.
const SNAP_LIMIT_M: f64 = 3_000.0;

pub(super) async fn incident_route(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RouteQuery>,
) -> Result<Response, HttpError> {
    caller.require(&[Role::Dispatcher, Role::Admin, Role::Crew])?;
    let id = crate::api::numeric_id(&id, "incident")?;
    let snap = state.engine.snapshot();
    let incident = match snap.incident(IncidentId(id)) {
        Some(i) if view::may_see_incident(&caller.0, i) => i,
        None if caller.is_dispatch() => return Err(HttpError::not_found("incident")),
        _ => return Err(HttpError::forbidden()),
    };
    let unit_id = match q.unit {
        Some(u) => UnitId(u),
        None => incident
            .assignments
            .iter()
            .rev()
            .find(|a| a.is_active())
            .or(incident.assignments.last())
            .map(|a| a.unit.clone())
            .ok_or_else(|| {
                HttpError::new(
                    StatusCode::CONFLICT,
                    "no_unit",
                    "the incident has no unit; give ?unit=",
                    "insiden belum punya unit; isi ?unit=",
                )
            })?,
    };
    if !view::may_act_for_unit(&caller.0, &unit_id) && !caller.is_dispatch() {
        return Err(HttpError::forbidden());
    }
    let unit = snap
        .unit(&unit_id)
        .ok_or_else(|| HttpError::not_found("unit"))?;
    let from = unit.last_fix.map(|f| f.at).unwrap_or(unit.base);
    let to = match q.to.as_deref() {
        None | Some("incident") => incident.location,
        Some("hospital") => snap
            .referrals()
            .filter(|r| r.incident == incident.id && r.status.is_live())
            .filter(|r| r.unit.as_ref().is_none_or(|u| *u == unit_id))
            .max_by_key(|r| r.id)
            .and_then(|r| snap.hospital(&r.to))
            .map(|h| h.position)
            .ok_or_else(|| {
                HttpError::new(
                    StatusCode::CONFLICT,
                    "no_referral",
                    "the incident has no live referral for this unit",
                    "insiden belum punya rujukan aktif untuk unit ini",
                )
            })?,
        Some(_) => {
            return Err(HttpError::bad_request(
                "invalid_query",
                "to must be incident or hospital",
                "to harus incident atau hospital",
            ));
        }
    };
    let straight = || {
        json!({
            "incident": id, "unit": unit_id, "road": false, "to": [to.lat, to.lon],
            "path": [[from.lat, from.lon], [to.lat, to.lon]],
            "distance_m": satria_region::approx_m(
                satria_region::LatLon { lat: from.lat, lon: from.lon },
                satria_region::LatLon { lat: to.lat, lon: to.lon }).round(),
            "time_s": null, "at": Timestamp(now_ms()),
        })
    };
    let Some(net) = state.roads.get().cloned() else {
        return Ok(axum::Json(straight()).into_response());
    };
    let route = tokio::task::spawn_blocking(move || {
        let a = net.snap(from.lat, from.lon, SNAP_LIMIT_M).ok()?;
        let b = net.snap(to.lat, to.lon, SNAP_LIMIT_M).ok()?;
        net.router().route(&a, &b)
    })
    .await
    .map_err(|_| HttpError::unavailable("the route failed to run"))?;
    let body = match route {
        Some(r) => {
            let path: Vec<[f64; 2]> = r
                .path
                .iter()
                .map(|&(la, lo)| [(la * 1e5).round() / 1e5, (lo * 1e5).round() / 1e5])
                .collect();
            json!({
                "incident": id, "unit": unit_id, "road": true, "path": path, "to": [to.lat, to.lon],
                "distance_m": r.distance_m.round(), "time_s": r.time_ms / 1000, "at": Timestamp(now_ms()),
            })
        }
        None => straight(),
    };
    Ok(axum::Json(body).into_response())
}
