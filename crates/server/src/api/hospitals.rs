//! Hospitals and their free beds (`/api/hospitals...`).

use super::{ApiResult, ok, submit};
use crate::error::{ApiJson, Caller, HttpError, PathRecord};
use crate::view;
use crate::{AppState, now_ms};
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use satria_auth::Role;
use satria_dispatch::{Command, HospitalId, HospitalStatus};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/hospitals", get(list_hospitals))
        .route("/api/hospitals/{id}/capacity", post(hospital_capacity))
}

async fn list_hospitals(State(state): State<Arc<AppState>>, caller: Caller) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin, Role::Crew, Role::Hospital])?;
    let snap = state.engine.snapshot();
    let now = now_ms();
    let list: Vec<Value> = snap
        .hospitals()
        .map(|h| {
            let mut v = serde_json::to_value(h).unwrap_or(Value::Null);
            let age = h.capacity.updated_at.map(|t| (now - t.0).max(0) / 1000);
            v["capacity_age_s"] = json!(age);
            v
        })
        .collect();
    ok(list)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CapacityBody {
    #[serde(default, deserialize_with = "satria_http::json_int::opt")]
    free_igd_beds: Option<u32>,
    #[serde(default, deserialize_with = "satria_http::json_int::opt")]
    free_icu_beds: Option<u32>,
    status: HospitalStatus,
}

async fn hospital_capacity(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CapacityBody>,
) -> ApiResult {
    caller.require(&[Role::Hospital, Role::Admin])?;
    if !view::may_act_for_hospital(&caller.0, &id) {
        return Err(HttpError::forbidden());
    }
    let hospital = HospitalId(id);
    submit(
        &state,
        PathRecord::Hospital(hospital.clone()),
        Command::UpdateHospitalCapacity {
            hospital: hospital.clone(),
            free_igd_beds: b.free_igd_beds,
            free_icu_beds: b.free_icu_beds,
            status: b.status,
        },
    )
    .await?;
    ok(state.engine.snapshot().hospital(&hospital))
}
