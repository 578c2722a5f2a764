//! The REST resources under `/api/salinmas/...` and their OpenAPI rows.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use satria_auth::{AccessRecorder, Principal};
use satria_http::{ApiJson, HttpError, Operation};
use serde::Serialize;
use serde_json::{Value, json};

use crate::error::SalinmasError;
use crate::model::*;
use crate::route::DriveTimes;
use crate::store::Salinmas;
use crate::time::wib_day;
use crate::validate as v;

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Clone)]
struct AppState {
    s: Arc<Salinmas>,
    recorder: Arc<dyn AccessRecorder>,
    drive: Arc<dyn DriveTimes>,
}

/// The caller, put into the request's extensions as an
/// `axum::Extension<Principal>` by `satria_http::require_principal`; a request
/// without one is refused with 401 (never a 500).
struct Caller(Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Caller)
            .ok_or_else(HttpError::unauthenticated)
    }
}

type ApiResult = Result<Response, HttpError>;

fn ok<T: Serialize>(status: StatusCode, body: &T) -> ApiResult {
    Ok((status, Json(body)).into_response())
}

/// Runs a blocking Salinmas call off the async runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SalinmasError> + Send + 'static,
) -> Result<T, HttpError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| HttpError::unavailable("the Salinmas task did not finish"))?
        .map_err(HttpError::from)
}

fn id_of(p: Result<Path<String>, PathRejection>, what: &str) -> Result<i64, HttpError> {
    let bad = || {
        HttpError::bad_request(
            "invalid_id",
            format!("the {what} id must be a positive whole number"),
            format!("id {what} harus bilangan bulat positif"),
        )
    };
    let Path(s) = p.map_err(|_| bad())?;
    match s.parse::<i64>() {
        Ok(n) if n > 0 && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(bad()),
    }
}

/// Query parameters, refusing any not in `allowed`.
fn query(
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
    allowed: &[&str],
) -> Result<HashMap<String, String>, HttpError> {
    let Query(q) = q.map_err(|_| {
        HttpError::bad_request(
            "invalid_query",
            "the query string cannot be read",
            "parameter kueri tidak dapat dibaca",
        )
    })?;
    if let Some(k) = q.keys().find(|k| !allowed.contains(&k.as_str())) {
        let shown: String = k.chars().filter(|c| !c.is_control()).take(40).collect();
        return Err(HttpError::bad_request(
            "unknown_parameter",
            format!(
                "unknown query parameter '{shown}'; allowed: {}",
                allowed.join(", ")
            ),
            format!(
                "parameter kueri '{shown}' tidak dikenal; yang boleh: {}",
                allowed.join(", ")
            ),
        ));
    }
    Ok(q)
}

fn date_param(q: &HashMap<String, String>, key: &str) -> Result<Option<i64>, HttpError> {
    q.get(key)
        .map(|d| v::date(key, d).map_err(HttpError::from))
        .transpose()
}

fn f64_param(q: &HashMap<String, String>, key: &str) -> Result<Option<f64>, HttpError> {
    q.get(key)
        .map(|s| {
            s.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    HttpError::bad_request(
                        "invalid_query",
                        format!("{key} must be a number"),
                        format!("{key} harus angka"),
                    )
                })
        })
        .transpose()
}

/// Records a listing of accounts, durably, before it is answered: `Err` (503)
/// is the answer when it cannot be recorded.
async fn record_list(
    st: &AppState,
    who: &Principal,
    ids: impl IntoIterator<Item = i64>,
    purpose: &str,
) -> Result<(), HttpError> {
    let ids: BTreeSet<i64> = ids.into_iter().collect();
    if !ids.is_empty() {
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        st.recorder
            .record(
                who,
                "list",
                &format!("salinmas_account:{}", ids.join(",")),
                purpose,
            )
            .await?;
    }
    Ok(())
}

/// Records a read of one account, durably, before it is answered.
async fn record_read(
    st: &AppState,
    who: &Principal,
    account_id: i64,
    purpose: &str,
) -> Result<(), HttpError> {
    st.recorder
        .record(
            who,
            "read",
            &format!("salinmas_account:{account_id}"),
            purpose,
        )
        .await?;
    Ok(())
}

/// The Salinmas API, its state applied. Every path is under
/// `/api/salinmas/`; handlers expect the caller's `Principal` in the request
/// extensions (layer `satria_http::require_principal` over it).
pub fn routes(
    salinmas: Arc<Salinmas>,
    recorder: Arc<dyn AccessRecorder>,
    drive: Arc<dyn DriveTimes>,
) -> Router {
    let state = AppState {
        s: salinmas,
        recorder,
        drive,
    };
    Router::new()
        .route(
            "/api/salinmas/kelurahan",
            get(list_kelurahan).post(add_kelurahan),
        )
        .route(
            "/api/salinmas/accounts",
            get(list_accounts).post(create_account),
        )
        .route("/api/salinmas/accounts/{id}", get(get_account))
        .route("/api/salinmas/accounts/{id}/ledger", get(get_ledger))
        .route("/api/salinmas/accounts/{id}/payouts", post(payout))
        .route(
            "/api/salinmas/collectors",
            get(list_collectors).post(create_collector),
        )
        .route("/api/salinmas/collectors/{id}", get(get_collector))
        .route("/api/salinmas/prices", get(get_prices).post(set_price))
        .route(
            "/api/salinmas/pickups",
            get(list_pickups).post(request_pickup),
        )
        .route("/api/salinmas/pickups/{id}", get(get_pickup))
        .route("/api/salinmas/pickups/{id}/accept", post(accept_pickup))
        .route("/api/salinmas/pickups/{id}/collect", post(collect_pickup))
        .route("/api/salinmas/pickups/{id}/cancel", post(cancel_pickup))
        .route("/api/salinmas/pickups/{id}/reject", post(reject_pickup))
        .route("/api/salinmas/routes/{collector_id}", get(get_route))
        .route("/api/salinmas/reports/weights", get(weight_report))
        .route("/api/salinmas/history/{entity}/{id}", get(get_history))
        // The role first, from the OPERATIONS table, before any extractor reads
        // the body or the query: a wrong role gets 403 whatever it sent.
        .route_layer(axum::middleware::from_fn(|req, next| {
            satria_http::authorize(OPERATIONS, req, next)
        }))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

// ---- kelurahan -------------------------------------------------------------

async fn list_kelurahan(State(st): State<AppState>, Caller(who): Caller) -> ApiResult {
    let list = blocking(move || st.s.kelurahan(&who)).await?;
    ok(StatusCode::OK, &list)
}

async fn add_kelurahan(
    State(st): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<NewKelurahan>,
) -> ApiResult {
    let s = Arc::clone(&st.s);
    let k = blocking(move || s.add_kelurahan(&who, body, s.now_ms())).await?;
    ok(StatusCode::CREATED, &k)
}

// ---- accounts --------------------------------------------------------------

async fn list_accounts(
    State(st): State<AppState>,
    Caller(who): Caller,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult {
    let q = query(q, &["kelurahan"])?;
    let s = Arc::clone(&st.s);
    let w = who.clone();
    let list = blocking(move || s.accounts(&w, q.get("kelurahan").map(String::as_str))).await?;
    record_list(
        &st,
        &who,
        list.iter().map(|a| a.id),
        "GET /api/salinmas/accounts",
    )
    .await?;
    ok(StatusCode::OK, &list)
}

async fn create_account(
    State(st): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<NewAccount>,
) -> ApiResult {
    let s = Arc::clone(&st.s);
    let a = blocking(move || s.create_account(&who, body, s.now_ms())).await?;
    ok(StatusCode::CREATED, &a)
}

async fn get_account(
    State(st): State<AppState>,
    Caller(who): Caller,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let id = id_of(id, "account")?;
    let s = Arc::clone(&st.s);
    let w = who.clone();
    let a = blocking(move || s.account(&w, id)).await?;
    record_read(&st, &who, a.id, "GET /api/salinmas/accounts/{id}").await?;
    ok(StatusCode::OK, &a)
}

async fn get_ledger(
    State(st): State<AppState>,
    Caller(who): Caller,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let id = id_of(id, "account")?;
    let l = blocking(move || st.s.ledger(&who, id)).await?;
    ok(StatusCode::OK, &l)
}

async fn payout(
    State(st): State<AppState>,
    Caller(who): Caller,
    id: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<NewPayout>,
) -> ApiResult {
    let id = id_of(id, "account")?;
    let s = Arc::clone(&st.s);
    let e = blocking(move || s.payout(&who, id, body, s.now_ms())).await?;
    ok(StatusCode::CREATED, &e)
}

// ---- collectors ------------------------------------------------------------

async fn list_collectors(State(st): State<AppState>, Caller(who): Caller) -> ApiResult {
    let list = blocking(move || st.s.collectors(&who)).await?;
    ok(StatusCode::OK, &list)
}

async fn create_collector(
    State(st): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<NewCollector>,
) -> ApiResult {
    let s = Arc::clone(&st.s);
    let c = blocking(move || s.create_collector(&who, body, s.now_ms())).await?;
    ok(StatusCode::CREATED, &c)
}

async fn get_collector(
    State(st): State<AppState>,
    Caller(who): Caller,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let id = id_of(id, "collector group")?;
    let c = blocking(move || st.s.collector(&who, id)).await?;
    ok(StatusCode::OK, &c)
}

// ---- prices ----------------------------------------------------------------

async fn get_prices(
    State(st): State<AppState>,
    Caller(who): Caller,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult {
    let q = query(q, &["date"])?;
    let s = Arc::clone(&st.s);
    let day = date_param(&q, "date")?.unwrap_or_else(|| wib_day(s.now_ms()));
    let list = blocking(move || s.prices(&who, day)).await?;
    ok(StatusCode::OK, &list)
}

async fn set_price(
    State(st): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<NewPrice>,
) -> ApiResult {
    let s = Arc::clone(&st.s);
    let p = blocking(move || s.set_price(&who, body, s.now_ms())).await?;
    ok(StatusCode::CREATED, &p)
}

// ---- pickups ---------------------------------------------------------------

async fn list_pickups(
    State(st): State<AppState>,
    Caller(who): Caller,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult {
    let q = query(q, &["status", "kelurahan", "date", "account_id"])?;
    let account_id = match q.get("account_id") {
        None => None,
        Some(s) => Some(s.parse::<i64>().map_err(|_| {
            HttpError::bad_request(
                "invalid_query",
                "account_id must be a whole number",
                "account_id harus bilangan bulat",
            )
        })?),
    };
    let filter = PickupFilter {
        status: q.get("status").cloned(),
        kelurahan: q.get("kelurahan").cloned(),
        day: date_param(&q, "date")?,
        account_id,
    };
    let s = Arc::clone(&st.s);
    let w = who.clone();
    let list = blocking(move || s.pickups(&w, &filter)).await?;
    record_list(
        &st,
        &who,
        list.iter().map(|p| p.account_id),
        "GET /api/salinmas/pickups",
    )
    .await?;
    ok(StatusCode::OK, &list)
}

async fn request_pickup(
    State(st): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<NewPickup>,
) -> ApiResult {
    let s = Arc::clone(&st.s);
    let p = blocking(move || s.request_pickup(&who, body, s.now_ms())).await?;
    ok(StatusCode::CREATED, &p)
}

async fn get_pickup(
    State(st): State<AppState>,
    Caller(who): Caller,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let id = id_of(id, "pickup")?;
    let s = Arc::clone(&st.s);
    let w = who.clone();
    let p = blocking(move || s.pickup(&w, id)).await?;
    record_read(
        &st,
        &who,
        p.pickup.account_id,
        "GET /api/salinmas/pickups/{id}",
    )
    .await?;
    ok(StatusCode::OK, &p)
}

async fn accept_pickup(
    State(st): State<AppState>,
    Caller(who): Caller,
    id: Result<Path<String>, PathRejection>,
    body: axum::body::Bytes,
) -> ApiResult {
    let id = id_of(id, "pickup")?;
    // The body is optional here: none means "the window's day, myself".
    let body: AcceptPickup = if body.iter().all(u8::is_ascii_whitespace) {
        AcceptPickup::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            if e.is_syntax() || e.is_eof() {
                HttpError::bad_request(
                    "malformed_json",
                    format!("the body is not valid JSON: {e}"),
                    "isi permintaan bukan JSON yang valid",
                )
            } else {
                HttpError::invalid(
                    "invalid_body",
                    e.to_string(),
                    format!("isi permintaan tidak sesuai: {e}"),
                )
            }
        })?
    };
    let s = Arc::clone(&st.s);
    let p = blocking(move || s.accept_pickup(&who, id, body, s.now_ms())).await?;
    ok(StatusCode::OK, &p)
}

async fn collect_pickup(
    State(st): State<AppState>,
    Caller(who): Caller,
    id: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<CollectPickup>,
) -> ApiResult {
    let id = id_of(id, "pickup")?;
    let s = Arc::clone(&st.s);
    let p = blocking(move || s.collect_pickup(&who, id, body, s.now_ms())).await?;
    ok(StatusCode::OK, &p)
}

async fn cancel_pickup(
    State(st): State<AppState>,
    Caller(who): Caller,
    id: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<Reason>,
) -> ApiResult {
    let id = id_of(id, "pickup")?;
    let s = Arc::clone(&st.s);
    let p = blocking(move || s.cancel_pickup(&who, id, body, s.now_ms())).await?;
    ok(StatusCode::OK, &p)
}

async fn reject_pickup(
    State(st): State<AppState>,
    Caller(who): Caller,
    id: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<Reason>,
) -> ApiResult {
    let id = id_of(id, "pickup")?;
    let s = Arc::clone(&st.s);
    let p = blocking(move || s.reject_pickup(&who, id, body, s.now_ms())).await?;
    ok(StatusCode::OK, &p)
}

// ---- routes and reports ----------------------------------------------------

async fn get_route(
    State(st): State<AppState>,
    Caller(who): Caller,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult {
    let id = id_of(id, "collector group")?;
    let q = query(q, &["date", "start_lat", "start_lon"])?;
    let s = Arc::clone(&st.s);
    let day = date_param(&q, "date")?.unwrap_or_else(|| wib_day(s.now_ms()));
    let start = match (f64_param(&q, "start_lat")?, f64_param(&q, "start_lon")?) {
        (Some(lat), Some(lon)) => Some((lat, lon)),
        (None, None) => None,
        _ => {
            return Err(HttpError::bad_request(
                "invalid_query",
                "give both start_lat and start_lon, or neither",
                "isi start_lat dan start_lon keduanya, atau tidak sama sekali",
            ));
        }
    };
    let drive = Arc::clone(&st.drive);
    let w = who.clone();
    let r = blocking(move || s.route(&w, id, day, start, drive.as_ref())).await?;
    record_list(
        &st,
        &who,
        r.stops.iter().map(|s| s.account_id),
        "GET /api/salinmas/routes/{collector_id}",
    )
    .await?;
    ok(StatusCode::OK, &r)
}

async fn weight_report(
    State(st): State<AppState>,
    Caller(who): Caller,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult {
    let q = query(q, &["from", "to"])?;
    let (Some(from), Some(to)) = (date_param(&q, "from")?, date_param(&q, "to")?) else {
        return Err(HttpError::bad_request(
            "missing_parameter",
            "from and to (YYYY-MM-DD) are required",
            "from dan to (YYYY-MM-DD) wajib diisi",
        ));
    };
    let r = blocking(move || st.s.weight_report(&who, from, to)).await?;
    ok(StatusCode::OK, &r)
}

/// The entities `salinmas_history` records changes of.
pub const HISTORY_ENTITIES: [&str; 6] = [
    "pickup",
    "account",
    "collector",
    "price",
    "ledger",
    "kelurahan",
];

async fn get_history(
    State(st): State<AppState>,
    Caller(who): Caller,
    p: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult {
    let bad = || {
        HttpError::bad_request(
            "invalid_entity",
            format!("history is kept for {}, by id", HISTORY_ENTITIES.join(", ")),
            format!(
                "riwayat tersedia untuk {}, menurut id",
                HISTORY_ENTITIES.join(", ")
            ),
        )
    };
    let Path((entity, id)) = p.map_err(|_| bad())?;
    if !HISTORY_ENTITIES.contains(&entity.as_str()) || id.is_empty() || id.chars().count() > 80 {
        return Err(bad());
    }
    let h = blocking(move || st.s.history(&who, &entity, &id)).await?;
    ok(StatusCode::OK, &h)
}

// ---- OpenAPI ---------------------------------------------------------------

const OFFICER: &[&str] = &["salinmas_officer", "admin"];
const ALL: &[&str] = &[
    "salinmas_officer",
    "admin",
    "salinmas_household",
    "salinmas_collector",
];
const NOT_HOUSEHOLD: &[&str] = &["salinmas_officer", "admin", "salinmas_collector"];
const NOT_COLLECTOR: &[&str] = &["salinmas_officer", "admin", "salinmas_household"];

fn object(required: &[&str], properties: Value) -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": properties,
    })
}

/// A text `validate::text` accepts: not blank, at most `max` characters, no
/// control characters.
fn text_schema(max: usize) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max,
        "pattern": "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"})
}

/// An optional text (`validate::opt_text`): at most `max` characters, no
/// control characters.
fn opt_text_schema(max: usize) -> Value {
    json!({"type": "string", "maxLength": max, "pattern": "^[^\\x00-\\x1f\\x7f-\\x9f]*$"})
}

/// An Indonesian phone number (`validate::phone`).
fn phone_schema() -> Value {
    json!({"type": "string", "pattern": "^(08[0-9]{7,13}|\\+?628[0-9]{6,12})$", "example": "081234567890"})
}

/// Inside Banyumas (`validate::position`).
fn lat_schema() -> Value {
    json!({"type": "number", "minimum": v::LAT_RANGE.0, "maximum": v::LAT_RANGE.1})
}

fn lon_schema() -> Value {
    json!({"type": "number", "minimum": v::LON_RANGE.0, "maximum": v::LON_RANGE.1})
}

/// RT or RW: 1 to 3 digits, 1 to 999.
fn rt_rw_schema() -> Value {
    json!({"type": "string", "pattern": "^([1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9])$"})
}

fn category_schema() -> Value {
    json!({"type": "string", "enum": CATEGORIES})
}

fn kelurahan_body() -> Value {
    object(
        &["name"],
        json!({
            "name": text_schema(80),
            "kecamatan": opt_text_schema(80),
        }),
    )
}

fn account_body() -> Value {
    object(
        &[
            "kind",
            "name",
            "kelurahan",
            "rt",
            "rw",
            "address",
            "lat",
            "lon",
            "phone",
        ],
        json!({
            "kind": {"type": "string", "enum": ["household", "dasawisma"]},
            "name": text_schema(100),
            "kelurahan": text_schema(80),
            "rt": rt_rw_schema(),
            "rw": rt_rw_schema(),
            "address": text_schema(200),
            "lat": lat_schema(),
            "lon": lon_schema(),
            "phone": phone_schema(),
            "members": {"type": "integer", "minimum": 1, "maximum": 100},
        }),
    )
}

fn collector_body() -> Value {
    object(
        &["name", "kelurahan", "phone"],
        json!({
            "name": text_schema(100),
            "kelurahan": {"type": "array", "items": text_schema(80), "minItems": 1, "maxItems": 50, "uniqueItems": true},
            "phone": phone_schema(),
        }),
    )
}

fn price_body() -> Value {
    object(
        &["category", "price_per_kg_rp", "valid_from"],
        json!({
            "category": category_schema(),
            "price_per_kg_rp": {"type": "integer", "minimum": 0, "maximum": v::MAX_PRICE_RP},
            "valid_from": day_schema(),
        }),
    )
}

fn pickup_body() -> Value {
    object(
        &[
            "lat",
            "lon",
            "address",
            "categories",
            "estimated_kg",
            "window_start",
            "window_end",
        ],
        json!({
            "account_id": {"type": "integer", "minimum": 1, "maximum": satria_http::MAX_PATH_ID, "description": "required for an officer"},
            "lat": lat_schema(),
            "lon": lon_schema(),
            "address": text_schema(200),
            "categories": {"type": "array", "items": category_schema(), "minItems": 1, "maxItems": 7, "uniqueItems": true},
            "estimated_kg": {"type": "number", "minimum": v::MIN_KG, "maximum": v::MAX_KG},
            "window_start": {"type": "string", "example": "2026-03-02T08:00",
                "description": "local time (WIB); the window must end after it, in the future, and start within 60 days (422 invalid_window)"},
            "window_end": {"type": "string", "example": "2026-03-02T11:00",
                "description": "local time (WIB), after window_start and in the future (422 invalid_window)"},
            "notes": opt_text_schema(500),
        }),
    )
}

fn accept_body() -> Value {
    object(
        &[],
        json!({
            "scheduled_date": described(day_schema(), "from today to 60 days ahead (422 invalid_date)"),
            "collector_id": {"type": "integer", "minimum": 1, "maximum": satria_http::MAX_PATH_ID, "description": "required for an officer"},
        }),
    )
}

fn collect_body() -> Value {
    object(
        &["weights"],
        json!({
            "weights": {
                "type": "array", "minItems": 1, "maxItems": 7,
                "description": "each category at most once (422 duplicate_category)",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["category"],
                    "oneOf": [{"required": ["kg"]}, {"required": ["grams"]}],
                    "properties": {
                        "category": category_schema(),
                        "kg": {"type": "number", "minimum": v::MIN_KG, "maximum": v::MAX_KG},
                        "grams": {"type": "integer", "minimum": 1, "maximum": (v::MAX_KG as i64) * 1000},
                    },
                },
            },
        }),
    )
}

fn reason_body() -> Value {
    object(&["reason"], json!({"reason": text_schema(500)}))
}

fn payout_body() -> Value {
    object(
        &["amount_rp", "method"],
        json!({
            "amount_rp": {"type": "integer", "minimum": 1, "maximum": v::MAX_PAYOUT_RP},
            "method": {"type": "string", "enum": PAYOUT_METHODS},
            "reference": opt_text_schema(100),
        }),
    )
}

/// A day `YYYY-MM-DD` between [`crate::time::MIN_YEAR`] and
/// [`crate::time::MAX_YEAR`] (what `validate::date` accepts).
/// A schema with a rule stated in words, for a rule no schema keyword can state
/// (relative to the clock or to another field).
fn described(mut schema: Value, rule: &str) -> Value {
    schema["description"] = json!(rule);
    schema
}

fn day_schema() -> Value {
    const _: () = assert!(crate::time::MIN_YEAR == 2000 && crate::time::MAX_YEAR == 2100);
    satria_http::date_schema("20[0-9]{2}|2100")
}

fn status_schema() -> Value {
    json!({"type": "string", "enum": STATUSES})
}

fn account_id_schema() -> Value {
    json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX})
}

/// Where the route starts, inside Banyumas: give `start_lat` and `start_lon`
/// together, or neither.
fn start_lat_schema() -> Value {
    let mut s = lat_schema();
    s["description"] = json!("give start_lat and start_lon together, or neither");
    s
}

fn start_lon_schema() -> Value {
    let mut s = lon_schema();
    s["description"] = json!("give start_lat and start_lon together, or neither");
    s
}

macro_rules! op {
    ($m:literal, $p:literal, $s:literal, $roles:expr, $body:expr, $q:expr, $status:literal, $types:expr) => {
        Operation {
            method: $m,
            path: $p,
            summary: $s,
            roles: $roles,
            body: $body,
            query: $q,
            status: $status,
            path_types: $types,
        }
    };
}

const ID: &[(&str, &str)] = satria_http::INTEGER_ID;

/// One row per route of [`routes`], for the server's OpenAPI document.
pub const OPERATIONS: &[Operation] = &[
    op!(
        "get",
        "/api/salinmas/kelurahan",
        "Kelurahan served by Salinmas",
        ALL,
        None,
        &[],
        200,
        &[]
    ),
    op!(
        "post",
        "/api/salinmas/kelurahan",
        "Serve one more Banyumas desa/kelurahan",
        OFFICER,
        Some(kelurahan_body),
        &[],
        201,
        &[]
    ),
    op!(
        "get",
        "/api/salinmas/accounts",
        "Household and dasawisma accounts the caller may see",
        ALL,
        None,
        &[("kelurahan", satria_http::string_schema, false)],
        200,
        &[]
    ),
    op!(
        "post",
        "/api/salinmas/accounts",
        "Register a household or dasawisma account",
        OFFICER,
        Some(account_body),
        &[],
        201,
        &[]
    ),
    op!(
        "get",
        "/api/salinmas/accounts/{id}",
        "One account",
        ALL,
        None,
        &[],
        200,
        ID
    ),
    op!(
        "get",
        "/api/salinmas/accounts/{id}/ledger",
        "An account's ledger entries and balance",
        ALL,
        None,
        &[],
        200,
        ID
    ),
    op!(
        "post",
        "/api/salinmas/accounts/{id}/payouts",
        "Pay out from an account's balance (never more than it)",
        NOT_HOUSEHOLD,
        Some(payout_body),
        &[],
        201,
        ID
    ),
    op!(
        "get",
        "/api/salinmas/collectors",
        "Collector groups (KSM) the caller may see",
        ALL,
        None,
        &[],
        200,
        &[]
    ),
    op!(
        "post",
        "/api/salinmas/collectors",
        "Register a collector group with its service kelurahan",
        OFFICER,
        Some(collector_body),
        &[],
        201,
        &[]
    ),
    op!(
        "get",
        "/api/salinmas/collectors/{id}",
        "One collector group",
        ALL,
        None,
        &[],
        200,
        ID
    ),
    op!(
        "get",
        "/api/salinmas/prices",
        "Prices valid on a day (default today, WIB) and the price history",
        ALL,
        None,
        &[("date", day_schema, false)],
        200,
        &[]
    ),
    op!(
        "post",
        "/api/salinmas/prices",
        "Set a category's price per kg from a day on",
        OFFICER,
        Some(price_body),
        &[],
        201,
        &[]
    ),
    op!(
        "get",
        "/api/salinmas/pickups",
        "Pickups the caller may see, newest first",
        ALL,
        None,
        &[
            ("status", status_schema, false),
            ("kelurahan", satria_http::string_schema, false),
            ("date", day_schema, false),
            ("account_id", account_id_schema, false)
        ],
        200,
        &[]
    ),
    op!(
        "post",
        "/api/salinmas/pickups",
        "Request a pickup (a household for itself, an officer on its behalf)",
        NOT_COLLECTOR,
        Some(pickup_body),
        &[],
        201,
        &[]
    ),
    op!(
        "get",
        "/api/salinmas/pickups/{id}",
        "One pickup with its history",
        ALL,
        None,
        &[],
        200,
        ID
    ),
    op!(
        "post",
        "/api/salinmas/pickups/{id}/accept",
        "Accept a requested pickup for a collector group serving its kelurahan",
        NOT_HOUSEHOLD,
        Some(accept_body),
        &[],
        200,
        ID
    ),
    op!(
        "post",
        "/api/salinmas/pickups/{id}/collect",
        "Record the weighed kg and credit the household at the day's prices",
        NOT_HOUSEHOLD,
        Some(collect_body),
        &[],
        200,
        ID
    ),
    op!(
        "post",
        "/api/salinmas/pickups/{id}/cancel",
        "Cancel a pickup before collection",
        NOT_COLLECTOR,
        Some(reason_body),
        &[],
        200,
        ID
    ),
    op!(
        "post",
        "/api/salinmas/pickups/{id}/reject",
        "Reject a pickup before collection",
        NOT_HOUSEHOLD,
        Some(reason_body),
        &[],
        200,
        ID
    ),
    op!(
        "get",
        "/api/salinmas/routes/{collector_id}",
        "A collector group's accepted pickups of a day in driving order, with ETAs",
        NOT_HOUSEHOLD,
        None,
        &[
            ("date", day_schema, false),
            ("start_lat", start_lat_schema, false),
            ("start_lon", start_lon_schema, false)
        ],
        200,
        &[("collector_id", "integer")]
    ),
    op!(
        "get",
        "/api/salinmas/history/{entity}/{id}",
        "Every recorded change of one record: who, when, what",
        OFFICER,
        None,
        &[],
        200,
        &[]
    ),
    op!(
        "get",
        "/api/salinmas/reports/weights",
        "Kg per category per kelurahan per ISO week, active accounts, credits earned and paid; to is on or after from, at most 366 days later (422 invalid_range)",
        OFFICER,
        None,
        &[("from", day_schema, true), ("to", day_schema, true)],
        200,
        &[]
    ),
];
