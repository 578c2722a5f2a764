//! The fleet: list and register units, and the crew's own commands over HTTP
//! (status, position, acknowledge, decline) (`/api/units...`).

use super::{ApiResult, ok, submit};
use crate::error::{ApiJson, Caller, HttpError, PathRecord};
use crate::view;
use crate::{AppState, now_ms};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use satria_auth::Role;
use satria_dispatch::{
    Command, IncidentId, LatLon, Owner, Timestamp, UnitId, UnitStatus, UnitType,
};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/units", get(list_units).post(register_unit))
        .route("/api/units/{id}/status", post(unit_status))
        .route("/api/units/{id}/position", post(unit_position))
        .route("/api/units/{id}/acknowledge", post(acknowledge))
        .route("/api/units/{id}/decline", post(decline))
}

async fn list_units(State(state): State<Arc<AppState>>, caller: Caller) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin, Role::Crew])?;
    let snap = state.engine.snapshot();
    let units: Vec<_> = snap
        .units()
        .filter(|u| view::may_act_for_unit(&caller.0, &u.id))
        .collect();
    ok(units)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUnit {
    id: String,
    call_sign: String,
    unit_type: UnitType,
    owner: Owner,
    base_name: String,
    base_lat: f64,
    base_lon: f64,
    #[serde(default)]
    capabilities: Vec<String>,
}

async fn register_unit(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(b): ApiJson<NewUnit>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin])?;
    let base = LatLon {
        lat: b.base_lat,
        lon: b.base_lon,
    };
    let id = UnitId(b.id);
    submit(
        &state,
        PathRecord::None,
        Command::RegisterUnit {
            id: id.clone(),
            call_sign: b.call_sign,
            unit_type: b.unit_type,
            owner: b.owner,
            base_name: b.base_name,
            base,
            capabilities: b.capabilities,
        },
    )
    .await?;
    let snap = state.engine.snapshot();
    Ok((StatusCode::CREATED, axum::Json(json!(snap.unit(&id)))).into_response())
}

fn unit_for(caller: &Caller, id: &str) -> Result<UnitId, HttpError> {
    let u = UnitId(id.to_string());
    if !view::may_act_for_unit(&caller.0, &u) {
        return Err(HttpError::forbidden());
    }
    Ok(u)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: UnitStatus,
    #[serde(default)]
    device_at: Option<Timestamp>,
    #[serde(default)]
    reason: Option<String>,
}

async fn unit_status(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<StatusBody>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin, Role::Crew])?;
    let unit = unit_for(&caller, &id)?;
    let device_at = b.device_at;
    let cmd = match (b.status, b.reason) {
        (UnitStatus::OutOfService, reason) => Command::SetOutOfService {
            unit: unit.clone(),
            reason: reason.unwrap_or_default(),
            device_at,
        },
        (status, _) => Command::ReportStatus {
            unit: unit.clone(),
            status,
            device_at,
        },
    };
    submit(&state, PathRecord::Unit(unit.clone()), cmd).await?;
    ok(state.engine.snapshot().unit(&unit))
}

/// A device time checked as the engine checks it (the same code and message
/// through every door): used before the plausibility check of a position, which
/// needs a sane time. The engine checks it again, against what it answers.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PositionBody {
    lat: f64,
    lon: f64,
    #[serde(default)]
    device_at: Option<Timestamp>,
}

async fn unit_position(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<PositionBody>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin, Role::Crew])?;
    let unit = unit_for(&caller, &id)?;
    let at = LatLon {
        lat: b.lat,
        lon: b.lon,
    };
    let device_at = b.device_at;
    crate::checks::position_report(&state, &unit, at, device_at)?;
    submit(
        &state,
        PathRecord::Unit(unit.clone()),
        Command::UpdatePosition {
            unit: unit.clone(),
            at,
            device_at,
        },
    )
    .await?;
    state
        .last_fixes
        .set(&unit, at, device_at.map(|t| t.0).unwrap_or_else(now_ms));
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AckBody {
    #[serde(deserialize_with = "satria_http::json_int::int")]
    incident: u64,
    #[serde(default)]
    device_at: Option<Timestamp>,
}

async fn acknowledge(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AckBody>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin, Role::Crew])?;
    let unit = unit_for(&caller, &id)?;
    let device_at = b.device_at;
    ok(
        json!({"events": submit(&state, PathRecord::Unit(unit.clone()), Command::AcknowledgeAssignment { incident: IncidentId(b.incident), unit, device_at }).await?}),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclineBody {
    #[serde(deserialize_with = "satria_http::json_int::int")]
    incident: u64,
    reason: String,
    #[serde(default)]
    device_at: Option<Timestamp>,
}

async fn decline(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<DeclineBody>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin, Role::Crew])?;
    let unit = unit_for(&caller, &id)?;
    let device_at = b.device_at;
    ok(
        json!({"events": submit(&state, PathRecord::Unit(unit.clone()), Command::DeclineAssignment { incident: IncidentId(b.incident), unit, reason: b.reason, device_at }).await?}),
    )
}
