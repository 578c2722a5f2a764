//! The JSON API under `/api`. Handlers check the caller's role, turn the request
//! into one engine command (or a read of the latest snapshot), and record every
//! read of personal data.

use crate::error::{ApiError, ApiJson, Caller};
use crate::view;
use crate::{AppState, now_ms};
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use satria_auth::Role;
use satria_dispatch::validate as limits;
use satria_dispatch::{
    Address, Category, Command, Event, HospitalId, HospitalStatus, IncidentId, LatLon, Owner,
    PatientData, ReferralForm, ReferralId, Timestamp, Triage, UnitId, UnitStatus, UnitType,
};
use satria_http::ApiQuery;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

pub fn routes(_state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/me", get(me))
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
        .route("/api/units", get(list_units).post(register_unit))
        .route("/api/units/{id}/status", post(unit_status))
        .route("/api/units/{id}/position", post(unit_position))
        .route("/api/units/{id}/acknowledge", post(acknowledge))
        .route("/api/units/{id}/decline", post(decline))
        .route("/api/hospitals", get(list_hospitals))
        .route("/api/hospitals/{id}/capacity", post(hospital_capacity))
        .route("/api/referrals", get(list_referrals).post(create_referral))
        .route("/api/referrals/{id}", get(get_referral))
        .route("/api/referrals/{id}/answer", post(answer_referral))
        .route("/api/reports/response-times", get(response_times))
}

/// Middleware over the dispatch routes: authenticates and checks the caller's
/// role against [`crate::openapi::OPERATIONS`] before any handler reads the
/// body or the query, so a wrong role gets 403 whatever it sent. The table is
/// the policy; handlers keep only the finer rules (a crew acts for its own
/// unit, a hospital for its own beds).
pub async fn authorize(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    satria_http::authorize_with(&state.auth, crate::openapi::OPERATIONS, req, next).await
}

type ApiResult = Result<Response, ApiError>;

fn ok(v: impl serde::Serialize) -> ApiResult {
    Ok(axum::Json(v).into_response())
}

/// Submits a command, timing its durable acknowledgement.
async fn submit(state: &AppState, cmd: Command) -> Result<Vec<Event>, ApiError> {
    let r = crate::trace::submit(state, None, cmd).await;
    Ok(r?.into_iter().map(|p| p.event).collect())
}

/// A path id that must be a positive integer of at most
/// [`satria_http::MAX_PATH_ID`] (what the OpenAPI document states).
fn numeric_id(raw: &str, what: &str) -> Result<u64, ApiError> {
    let max = satria_http::MAX_PATH_ID.unsigned_abs();
    match raw.parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_id",
            format!("{what} id must be a positive integer, got {raw:?}"),
            format!("id {what} harus bilangan bulat positif"),
        )),
    }
}

pub(crate) fn check_latlon(lat: f64, lon: f64) -> Result<LatLon, ApiError> {
    if !(lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon))
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_position",
            format!("lat must be in -90..90 and lon in -180..180, got {lat},{lon}"),
            "lat harus di antara -90..90 dan lon di antara -180..180",
        ));
    }
    Ok(LatLon { lat, lon })
}

// ---------------------------------------------------------------- auth

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
}

async fn login(
    State(state): State<Arc<AppState>>,
    parts: axum::http::request::Parts,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult {
    if body.username.len() > 64 || body.password.len() > 256 {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "wrong username or password",
            "nama pengguna atau kata sandi salah",
        ));
    }
    // Failed logins are limited per username and per peer address. A proxy's
    // X-Forwarded-For is not trusted: any client could forge it.
    let client = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".to_string());
    let auth = Arc::clone(&state.auth);
    let session = tokio::task::spawn_blocking(move || {
        auth.login(&body.username, &body.password, &client, now_ms())
    })
    .await
    .map_err(|_| ApiError::unavailable("login failed to run"))?;
    let session = match session {
        Ok(s) => s,
        // Locked out: say for how long, in whole seconds (rounded up).
        Err(e @ satria_auth::AuthError::RateLimited { retry_after_ms }) => {
            let secs = u64::try_from(retry_after_ms.saturating_add(999) / 1000)
                .unwrap_or(1)
                .max(1);
            let mut res = ApiError::from(e).into_response();
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
            return Ok(res);
        }
        Err(e) => return Err(e.into()),
    };
    ok(json!({
        "token": session.token,
        "expires_at_ms": session.expires_at_ms,
        "user": session.principal,
    }))
}

async fn logout(
    State(state): State<Arc<AppState>>,
    parts: axum::http::request::Parts,
) -> ApiResult {
    let token = crate::error::bearer(&parts).ok_or_else(ApiError::unauthenticated)?;
    let token = token.to_string();
    let session = satria_auth::SessionId::of(&token);
    let auth = Arc::clone(&state.auth);
    tokio::task::spawn_blocking(move || auth.logout(&token))
        .await
        .map_err(|_| ApiError::unavailable("logout failed to run"))??;
    // The session's open sockets say goodbye and close now.
    state
        .sessions
        .end(session, satria_auth::SessionEnd::LoggedOut);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn me(caller: Caller) -> ApiResult {
    ok(caller.0)
}

// ---------------------------------------------------------------- incidents

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
    fn into_address(self) -> Result<Address, ApiError> {
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
    let location = check_latlon(b.lat, b.lon)?;
    let events = submit(
        &state,
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
        .ok_or_else(|| ApiError::unavailable("the engine created no incident"))?;
    let snap = state.engine.snapshot();
    let incident = snap
        .incident(id)
        .ok_or_else(|| ApiError::unavailable("the new incident is not in the snapshot"))?;
    let assigned: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::UnitAssigned { unit, .. } => Some(unit.clone()),
            _ => None,
        })
        .collect();
    let mut v = serde_json::to_value(incident).unwrap_or(Value::Null);
    v["auto_assigned"] = json!(assigned);
    Ok((StatusCode::CREATED, axum::Json(v)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentFilter {
    /// `open` (default), `closed` or `all`.
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

/// The values of `status` in `GET /api/incidents`.
pub const INCIDENT_STATUS_FILTERS: [&str; 3] = ["open", "closed", "all"];

/// The most incidents `GET /api/incidents` answers (a larger `limit` is capped).
pub const MAX_INCIDENT_LIST: usize = 5000;

async fn list_incidents(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiQuery(f): ApiQuery<IncidentFilter>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin, Role::Crew])?;
    let which = f.status.as_deref().unwrap_or("open");
    if !INCIDENT_STATUS_FILTERS.contains(&which) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "status must be open, closed or all",
        ));
    }
    let limit = f.limit.unwrap_or(500).min(MAX_INCIDENT_LIST);
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
    list.truncate(limit);
    record_list(
        &state,
        &caller,
        "incident",
        list.iter().map(|i| i.id.0),
        "GET /api/incidents",
    )
    .await?;
    ok(list)
}

fn incident_for<'a>(
    caller: &Caller,
    snap: &'a satria_dispatch::Dispatch,
    id: u64,
) -> Result<&'a satria_dispatch::Incident, ApiError> {
    visible(
        caller,
        snap.incident(IncidentId(id)),
        view::may_see_incident,
        "incident",
    )
}

/// One record of a listing of personal records: who listed which ids. Durable
/// before the list is sent, else the 503 to send instead.
async fn record_list(
    state: &AppState,
    caller: &Caller,
    kind: &str,
    ids: impl Iterator<Item = u64>,
    purpose: &str,
) -> Result<(), ApiError> {
    let ids: Vec<String> = ids.map(|i| i.to_string()).collect();
    if ids.is_empty() {
        return Ok(());
    }
    state
        .audit
        .record(
            &caller.0,
            "list",
            format!("{kind}:{}", ids.join(",")),
            purpose,
        )
        .await
}

/// A record the caller may see: dispatch roles get 404 for a missing one;
/// other roles get 403 for a missing one and another's alike, so they learn
/// nothing, not even whether it exists.
fn visible<'a, T>(
    caller: &Caller,
    found: Option<&'a T>,
    may_see: fn(&satria_auth::Principal, &T) -> bool,
    what: &str,
) -> Result<&'a T, ApiError> {
    if caller.is_dispatch() {
        return found.ok_or_else(|| ApiError::not_found(what));
    }
    match found {
        Some(x) if may_see(&caller.0, x) => Ok(x),
        _ => Err(ApiError::forbidden()),
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
    let i = incident_for(&caller, &snap, id)?;
    state
        .audit
        .record(
            &caller.0,
            "read",
            format!("incident:{id}"),
            "GET /api/incidents/{id}",
        )
        .await?;
    ok(i)
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
    let rec = state.engine.recommend(IncidentId(id)).await?;
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
    ok(state.engine.recommend_hospitals(IncidentId(id)).await?)
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
        return Err(ApiError::new(
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
    incident_for(&caller, &snap, id)?;
    let t = snap.timeline(IncidentId(id))?;
    ok(t)
}

// ---------------------------------------------------------------- units

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
    let base = check_latlon(b.base_lat, b.base_lon)?;
    let id = UnitId(b.id);
    submit(
        &state,
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

fn unit_for(caller: &Caller, id: &str) -> Result<UnitId, ApiError> {
    let u = UnitId(id.to_string());
    if !view::may_act_for_unit(&caller.0, &u) {
        return Err(ApiError::forbidden());
    }
    Ok(u)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: UnitStatus,
    #[serde(default, deserialize_with = "satria_http::json_int::opt")]
    device_at: Option<i64>,
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
    let device_at = b.device_at.map(Timestamp);
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
    submit(&state, cmd).await?;
    ok(state.engine.snapshot().unit(&unit))
}

/// A device time checked as the engine checks it (the same code and message
/// through every door): used before the plausibility check of a position, which
/// needs a sane time. The engine checks it again, against what it answers.
pub(crate) fn check_device_time(
    state: &AppState,
    device_at: Option<i64>,
) -> Result<Option<Timestamp>, ApiError> {
    let t = device_at.map(Timestamp);
    let skew = state.engine.snapshot().config().clock_skew_s;
    limits::device_time(t, Timestamp(now_ms()), skew, None)?;
    Ok(t)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PositionBody {
    lat: f64,
    lon: f64,
    #[serde(default, deserialize_with = "satria_http::json_int::opt")]
    device_at: Option<i64>,
}

async fn unit_position(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<PositionBody>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin, Role::Crew])?;
    let unit = unit_for(&caller, &id)?;
    let at = check_latlon(b.lat, b.lon)?;
    let device_at = check_device_time(&state, b.device_at)?;
    crate::ws::check_plausible(&state, &unit, at, device_at)?;
    submit(
        &state,
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
    #[serde(default, deserialize_with = "satria_http::json_int::opt")]
    device_at: Option<i64>,
}

async fn acknowledge(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AckBody>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin, Role::Crew])?;
    let unit = unit_for(&caller, &id)?;
    let device_at = b.device_at.map(Timestamp);
    ok(
        json!({"events": submit(&state, Command::AcknowledgeAssignment { incident: IncidentId(b.incident), unit, device_at }).await?}),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclineBody {
    #[serde(deserialize_with = "satria_http::json_int::int")]
    incident: u64,
    reason: String,
    #[serde(default, deserialize_with = "satria_http::json_int::opt")]
    device_at: Option<i64>,
}

async fn decline(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<DeclineBody>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin, Role::Crew])?;
    let unit = unit_for(&caller, &id)?;
    let device_at = b.device_at.map(Timestamp);
    ok(
        json!({"events": submit(&state, Command::DeclineAssignment { incident: IncidentId(b.incident), unit, reason: b.reason, device_at }).await?}),
    )
}

// ---------------------------------------------------------------- hospitals

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
        return Err(ApiError::forbidden());
    }
    let hospital = HospitalId(id);
    submit(
        &state,
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

// ---------------------------------------------------------------- referrals

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewReferral {
    #[serde(deserialize_with = "satria_http::json_int::int")]
    incident: u64,
    to: String,
    #[serde(default)]
    unit: Option<String>,
    form: ReferralForm,
    patient: PatientData,
}

async fn create_referral(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(b): ApiJson<NewReferral>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin])?;
    let events = submit(
        &state,
        Command::SendReferral {
            incident: IncidentId(b.incident),
            to: HospitalId(b.to),
            unit: b.unit.map(UnitId),
            form: b.form,
            patient: b.patient,
        },
    )
    .await?;
    let r = events
        .into_iter()
        .find_map(|e| match e {
            Event::ReferralSent { referral } => Some(referral),
            _ => None,
        })
        .ok_or_else(|| ApiError::unavailable("the engine sent no referral"))?;
    Ok((StatusCode::CREATED, axum::Json(json!(r))).into_response())
}

async fn list_referrals(State(state): State<Arc<AppState>>, caller: Caller) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin, Role::Hospital, Role::Crew])?;
    let snap = state.engine.snapshot();
    let mut list: Vec<_> = snap
        .referrals()
        .filter(|r| view::may_see_referral(&caller.0, r))
        .collect();
    list.sort_by_key(|r| std::cmp::Reverse(r.id));
    list.truncate(1000);
    record_list(
        &state,
        &caller,
        "referral",
        list.iter().map(|r| r.id.0),
        "GET /api/referrals",
    )
    .await?;
    ok(list)
}

fn referral_for<'a>(
    caller: &Caller,
    snap: &'a satria_dispatch::Dispatch,
    id: u64,
) -> Result<&'a satria_dispatch::Referral, ApiError> {
    visible(
        caller,
        snap.referral(ReferralId(id)),
        view::may_see_referral,
        "referral",
    )
}

async fn get_referral(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin, Role::Hospital, Role::Crew])?;
    let id = numeric_id(&id, "referral")?;
    let snap = state.engine.snapshot();
    let r = referral_for(&caller, &snap, id)?;
    state
        .audit
        .record(
            &caller.0,
            "read",
            format!("referral:{id}"),
            "GET /api/referrals/{id}",
        )
        .await?;
    ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    accept: bool,
    #[serde(default)]
    officer: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

async fn answer_referral(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AnswerBody>,
) -> ApiResult {
    caller.require(&[Role::Hospital, Role::Admin])?;
    let id = numeric_id(&id, "referral")?;
    {
        let snap = state.engine.snapshot();
        let r = referral_for(&caller, &snap, id)?;
        if !view::may_act_for_hospital(&caller.0, &r.to.0) {
            return Err(ApiError::forbidden());
        }
    }
    let cmd = if b.accept {
        let officer = b.officer.unwrap_or_else(|| caller.0.username.clone());
        Command::AcceptReferral {
            referral: ReferralId(id),
            officer,
        }
    } else {
        let reason = b.reason.unwrap_or_default();
        Command::DeclineReferral {
            referral: ReferralId(id),
            reason,
        }
    };
    submit(&state, cmd).await?;
    let snap = state.engine.snapshot();
    ok(referral_for(&caller, &snap, id)?)
}

// ---------------------------------------------------------------- reports

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Range {
    /// Epoch milliseconds, inclusive.
    from: i64,
    /// Epoch milliseconds, exclusive.
    to: i64,
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
    type Key = (String, String);
    let mut groups: std::collections::BTreeMap<Key, (Vec<i64>, Vec<i64>, usize)> =
        Default::default();
    for i in snap.incidents() {
        if i.received_at.0 < r.from || i.received_at.0 >= r.to || i.merged_into.is_some() {
            continue;
        }
        let kec = region
            .nearest_desa(satria_region::LatLon {
                lat: i.location.lat,
                lon: i.location.lon,
            })
            .kecamatan
            .clone();
        let triage = serde_json::to_value(i.triage)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
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

// ---------------------------------------------------------------- openapi

async fn openapi(State(state): State<Arc<AppState>>) -> ApiResult {
    let snap = state.engine.snapshot();
    let c = snap.config();
    ok(crate::openapi::document_for(
        c.service_area,
        c.service_margin_m,
    ))
}
