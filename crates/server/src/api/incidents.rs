//! Incidents: create, list, read, update, merge, cancel, close, the unit and
//! hospital recommendations, assignment and the timeline (`/api/incidents...`).

use super::{ApiResult, numeric_id, ok, submit};
use crate::AppState;
use crate::error::{ApiJson, Caller, HttpError, PathRecord, engine_failed, rejected};
use crate::{subject, view};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use satria_auth::Role;
use satria_dispatch::validate as limits;
use satria_dispatch::{Address, Category, Command, Event, IncidentId, LatLon, Triage, UnitId};
use satria_http::{ApiQuery, Page};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/incidents", get(list_incidents).post(create_incident))
        .route(
            "/api/incidents/{id}",
            get(get_incident).patch(update_incident),
        )
        .route("/api/incidents/{id}/merge", post(merge_incident))
        .route("/api/incidents/{id}/cancel", post(cancel_incident))
        .route("/api/incidents/{id}/close", post(close_incident))
        .route("/api/incidents/{id}/recommendations", get(recommendations))
        .route("/api/incidents/{id}/hospitals", get(hospital_options))
        .route("/api/incidents/{id}/assign", post(assign))
        .route("/api/incidents/{id}/timeline", get(timeline))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum AddressIn {
    Text(String),
    Parts(AddressParts),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddressParts {
    #[serde(default)]
    desa: String,
    #[serde(default)]
    rt_rw: String,
    #[serde(default)]
    landmark: String,
    #[serde(default)]
    text: String,
}

impl AddressIn {
    fn into_address(self) -> Result<Address, HttpError> {
        let a = match self {
            AddressIn::Text(text) => Address {
                desa: String::new(),
                rt_rw: String::new(),
                landmark: String::new(),
                text,
            },
            AddressIn::Parts(p) => Address {
                desa: p.desa,
                rt_rw: p.rt_rw,
                landmark: p.landmark,
                text: p.text,
            },
        };
        Ok(a)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewIncident {
    caller_name: String,
    caller_phone: String,
    lat: f64,
    lon: f64,
    address: AddressIn,
    triage: Triage,
    category: Category,
    #[serde(default = "one", deserialize_with = "satria_http::json_int::int")]
    patients: u32,
    #[serde(default)]
    notes: String,
}

fn one() -> u32 {
    1
}

async fn create_incident(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(b): ApiJson<NewIncident>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin])?;
    let location = LatLon {
        lat: b.lat,
        lon: b.lon,
    };
    let events = submit(
        &state,
        PathRecord::None,
        Command::CreateIncident {
            caller_name: b.caller_name,
            caller_phone: b.caller_phone,
            location,
            address: b.address.into_address()?,
            triage: b.triage,
            category: b.category,
            patients: b.patients,
            notes: b.notes,
        },
    )
    .await?;
    let id = events
        .iter()
        .find_map(|e| match e {
            Event::IncidentCreated { incident } => Some(incident.id),
            _ => None,
        })
        .ok_or_else(|| HttpError::unavailable("the engine created no incident"))?;
    let snap = state.engine.snapshot();
    let incident = snap
        .incident(id)
        .ok_or_else(|| HttpError::unavailable("the new incident is not in the snapshot"))?;
    let assigned: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::UnitAssigned { unit, .. } => Some(unit.clone()),
            _ => None,
        })
        .collect();
    let mut v = serde_json::to_value(incident).unwrap_or(Value::Null);
    v["auto_assigned"] = json!(assigned);
    let location = v["id"].as_u64().map(|id| format!("/api/incidents/{id}"));
    Ok(satria_http::created(location, v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentFilter {
    /// `open` (default), `closed` or `all`.
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    offset: Option<i64>,
}

/// The values of `status` in `GET /api/incidents`.
pub const INCIDENT_STATUS_FILTERS: [&str; 3] = ["open", "closed", "all"];

/// The largest `limit` of `GET /api/incidents` (a larger one is refused, 422).
pub const MAX_INCIDENT_LIST: usize = 5000;
/// Incidents one list answers when the request does not say.
pub const INCIDENT_LIST_DEFAULT: usize = 500;

async fn list_incidents(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiQuery(f): ApiQuery<IncidentFilter>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin, Role::Crew])?;
    let which = f.status.as_deref().unwrap_or("open");
    if !INCIDENT_STATUS_FILTERS.contains(&which) {
        return Err(HttpError::invalid(
            "invalid_status",
            "status must be open, closed or all",
            "status harus open, closed atau all",
        ));
    }
    let page = Page::new(f.limit, f.offset, INCIDENT_LIST_DEFAULT, MAX_INCIDENT_LIST)?;
    let snap = state.engine.snapshot();
    let mut list: Vec<_> = snap
        .incidents()
        .filter(|i| match which {
            "open" => i.status.is_open(),
            "closed" => !i.status.is_open(),
            _ => true,
        })
        .filter(|i| view::may_see_incident(&caller.0, i))
        .collect();
    list.sort_by_key(|i| std::cmp::Reverse(i.id));
    let list = page.of(list);
    record_list(
        &state,
        &caller,
        list.iter().map(|i| subject::incident(i.id)),
        "GET /api/incidents",
    )
    .await?;
    ok(list)
}

fn incident_for<'a>(
    caller: &Caller,
    snap: &'a satria_dispatch::Dispatch,
    id: u64,
) -> Result<&'a satria_dispatch::Incident, HttpError> {
    visible(
        caller,
        snap.incident(IncidentId(id)),
        view::may_see_incident,
        "incident",
    )
}

/// One record of a listing of personal records: who listed which ids. Durable
/// before the list is sent, else the 503 to send instead.
pub(super) async fn record_list(
    state: &AppState,
    caller: &Caller,
    subjects: impl Iterator<Item = String>,
    purpose: &str,
) -> Result<(), HttpError> {
    let subjects: Vec<String> = subjects.collect();
    state
        .audit
        .record_each(&caller.0, "list", subjects, purpose)
        .await
}

/// A record the caller may see: dispatch roles get 404 for a missing one;
/// other roles get 403 for a missing one and another's alike, so they learn
/// nothing, not even whether it exists.
pub(super) fn visible<'a, T>(
    caller: &Caller,
    found: Option<&'a T>,
    may_see: fn(&satria_auth::Principal, &T) -> bool,
    what: &str,
) -> Result<&'a T, HttpError> {
    if caller.is_dispatch() {
        return found.ok_or_else(|| HttpError::not_found(what));
    }
    match found {
        Some(x) if may_see(&caller.0, x) => Ok(x),
        _ => Err(HttpError::forbidden()),
    }
}

async fn get_incident(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin, Role::Crew])?;
    let id = numeric_id(&id, "incident")?;
    let snap = state.engine.snapshot();
    let archived = archived_record(&state, &snap, IncidentId(id)).await?;
    let i = visible(
        &caller,
        live_or_archived(&snap, archived.as_ref(), IncidentId(id)),
        view::may_see_incident,
        "incident",
    )?;
    state
        .audit
        .record(
            &caller.0,
            "read",
            subject::incident(IncidentId(id)),
            "GET /api/incidents/{id}",
        )
        .await?;
    ok(i)
}

/// The incident from the live state, or from its archive record once it left it.
fn live_or_archived<'a>(
    snap: &'a satria_dispatch::Dispatch,
    archived: Option<&'a satria_dispatch::ArchivedIncident>,
    id: IncidentId,
) -> Option<&'a satria_dispatch::Incident> {
    match archived {
        Some(r) => r.get(id),
        None => snap.incident(id),
    }
}

/// The archive record holding incident `id` once it left the live state
/// (`None`: it is live, or unknown), read from the journal.
pub(crate) async fn archived_record(
    state: &AppState,
    snap: &satria_dispatch::Dispatch,
    id: IncidentId,
) -> Result<Option<satria_dispatch::ArchivedIncident>, HttpError> {
    let Some(entry) = snap.archived(id) else {
        return Ok(None);
    };
    let engine = state.engine.clone();
    let stream = satria_engine::archive_stream_of(engine.stream());
    let read = tokio::task::spawn_blocking(move || engine.read_since(&stream, entry - 1, 1))
        .await
        .map_err(|_| HttpError::unavailable("the archive read stopped"))?;
    let entries = read.map_err(|e| {
        tracing::warn!("archive entry {entry} of {id}: {e}");
        HttpError::unavailable("the archive cannot be read now")
    })?;
    let record = entries
        .first()
        .filter(|e| e.seq == entry)
        .and_then(|e| serde_json::from_str::<satria_dispatch::ArchivedIncident>(&e.payload).ok())
        .filter(|r| r.get(id).is_some())
        .ok_or_else(|| {
            tracing::error!("archive entry {entry} does not hold {id}");
            HttpError::unavailable("the archived incident's record is missing")
        })?;
    Ok(Some(record))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentUpdate {
    triage: Option<Triage>,
    category: Option<Category>,
    #[serde(default, deserialize_with = "satria_http::json_int::opt")]
    patients: Option<u32>,
    notes: Option<String>,
    address: Option<AddressIn>,
}

async fn update_incident(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<IncidentUpdate>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin])?;
    let id = numeric_id(&id, "incident")?;
    let address = b.address.map(AddressIn::into_address).transpose()?;
    submit(
        &state,
        PathRecord::Incident(IncidentId(id)),
        Command::UpdateIncident {
            incident: IncidentId(id),
            triage: b.triage,
            category: b.category,
            patients: b.patients,
            notes: b.notes,
            address,
        },
    )
    .await?;
    let snap = state.engine.snapshot();
    ok(incident_for(&caller, &snap, id)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    #[serde(deserialize_with = "satria_http::json_int::int")]
    into: u64,
}

async fn merge_incident(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<MergeBody>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin])?;
    let id = numeric_id(&id, "incident")?;
    submit(
        &state,
        PathRecord::Incident(IncidentId(id)),
        Command::MergeIncidents {
            from: IncidentId(id),
            into: IncidentId(b.into),
        },
    )
    .await?;
    let snap = state.engine.snapshot();
    ok(incident_for(&caller, &snap, b.into)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: String,
}

async fn cancel_incident(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ReasonBody>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin])?;
    let id = numeric_id(&id, "incident")?;
    submit(
        &state,
        PathRecord::Incident(IncidentId(id)),
        Command::CancelIncident {
            incident: IncidentId(id),
            reason: b.reason,
        },
    )
    .await?;
    let snap = state.engine.snapshot();
    ok(incident_for(&caller, &snap, id)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseBody {
    outcome: String,
}

async fn close_incident(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CloseBody>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin])?;
    let id = numeric_id(&id, "incident")?;
    submit(
        &state,
        PathRecord::Incident(IncidentId(id)),
        Command::CloseIncident {
            incident: IncidentId(id),
            outcome: b.outcome,
        },
    )
    .await?;
    let snap = state.engine.snapshot();
    ok(incident_for(&caller, &snap, id)?)
}

async fn recommendations(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin])?;
    let id = numeric_id(&id, "incident")?;
    let rec = state
        .engine
        .recommend(IncidentId(id))
        .await
        .map_err(engine_failed)?;
    let candidates: Vec<Value> = rec
        .candidates
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
            v["unit_id"] = json!(c.unit);
            v
        })
        .collect();
    let excluded: Vec<Value> = rec
        .excluded
        .iter()
        .map(|x| {
            let mut v = serde_json::to_value(x).unwrap_or(Value::Null);
            v["unit_id"] = json!(x.unit);
            v
        })
        .collect();
    ok(json!({
        "incident": rec.incident,
        "at": rec.at,
        "candidates": candidates,
        "excluded": excluded,
    }))
}

async fn hospital_options(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin])?;
    let id = numeric_id(&id, "incident")?;
    ok(state
        .engine
        .recommend_hospitals(IncidentId(id))
        .await
        .map_err(engine_failed)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    #[serde(default)]
    unit_id: Option<String>,
    #[serde(default)]
    unit_ids: Option<Vec<String>>,
}

async fn assign(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AssignBody>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin])?;
    let id = numeric_id(&id, "incident")?;
    let mut units: Vec<UnitId> = b
        .unit_ids
        .unwrap_or_default()
        .into_iter()
        .map(UnitId)
        .collect();
    if let Some(u) = b.unit_id {
        units.push(UnitId(u));
    }
    if units.is_empty() || units.len() > limits::MAX_ASSIGN_UNITS {
        return Err(HttpError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!(
                "give unit_id (or unit_ids, at most {})",
                limits::MAX_ASSIGN_UNITS
            ),
            format!(
                "isi unit_id (atau unit_ids, paling banyak {})",
                limits::MAX_ASSIGN_UNITS
            ),
        ));
    }
    let events = submit(
        &state,
        PathRecord::Incident(IncidentId(id)),
        Command::AssignUnits {
            incident: IncidentId(id),
            units,
        },
    )
    .await?;
    ok(json!({ "events": events }))
}

async fn timeline(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin, Role::Crew])?;
    let id = numeric_id(&id, "incident")?;
    let snap = state.engine.snapshot();
    let archived = archived_record(&state, &snap, IncidentId(id)).await?;
    visible(
        &caller,
        live_or_archived(&snap, archived.as_ref(), IncidentId(id)),
        view::may_see_incident,
        "incident",
    )?;
    let t = match &archived {
        Some(r) => r.timeline(IncidentId(id)).unwrap_or_default(),
        None => snap.timeline(IncidentId(id)).map_err(rejected)?,
    };
    ok(t)
}
