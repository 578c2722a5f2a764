//! The HTTP API under `/api/pattas/...` and its operation table.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use satria_auth::{AccessRecord, AccessRecorder, Principal, Role};
use satria_http::{ApiJson, HttpError, Operation, QueryParam, require_role};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::desk::TransportDesk;
use crate::model::*;
use crate::store::already_cancelled;
use crate::{Pattas, PattasError};

/// Largest request body accepted.
const BODY_LIMIT: usize = 64 * 1024;
/// How long a case view waits for the desk's live status of one transport.
const STATUS_TIMEOUT: Duration = Duration::from_secs(2);

/// Where the API takes "now" from: the system clock in service, a fixed or
/// stepped one in tests (deadlines, overdue lists, "not in the future").
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        satria_http::now_ms()
    }
}

#[derive(Clone)]
struct AppState {
    pattas: Arc<Pattas>,
    recorder: Arc<dyn AccessRecorder>,
    desk: Arc<dyn TransportDesk>,
    clock: Arc<dyn Clock>,
}

impl AppState {
    /// Runs a blocking [`Pattas`] call off the async runtime.
    async fn run<T, F>(&self, f: F) -> Result<T, HttpError>
    where
        F: FnOnce(&Pattas) -> Result<T, PattasError> + Send + 'static,
        T: Send + 'static,
    {
        let pattas = Arc::clone(&self.pattas);
        tokio::task::spawn_blocking(move || f(&pattas))
            .await
            .map_err(|_| HttpError::unavailable("the Pattas database task failed"))?
            .map_err(HttpError::from)
    }

    /// Records a read of a beneficiary's personal data, durably, before it is
    /// answered: `Err` (503) is the answer when it cannot be recorded.
    async fn record_beneficiary(
        &self,
        who: &Principal,
        action: &str,
        id: i64,
        purpose: &str,
    ) -> Result<(), HttpError> {
        self.recorder
            .record(who, action, &format!("pattas_beneficiary:{id}"), purpose)
            .await?;
        Ok(())
    }

    /// Records `action` on each beneficiary in one batch (one commit).
    async fn record_beneficiaries(
        &self,
        who: &Principal,
        action: &str,
        ids: impl IntoIterator<Item = i64>,
        purpose: &str,
    ) -> Result<(), HttpError> {
        let at_ms = self.clock.now_ms();
        let batch: Vec<AccessRecord> = ids
            .into_iter()
            .map(|id| AccessRecord {
                who: who.clone(),
                action: action.to_string(),
                subject: format!("pattas_beneficiary:{id}"),
                purpose: purpose.to_string(),
                at_ms,
            })
            .collect();
        if !batch.is_empty() {
            self.recorder.record_many(batch).await?;
        }
        Ok(())
    }
}

/// Which roles an operation admits.
trait Allowed {
    const ROLES: &'static [Role];
    const NAMES: &'static [&'static str];
}

/// Officers, admins and mitra (the mitra limited to its own cases).
struct AnyPattas;
impl Allowed for AnyPattas {
    const ROLES: &'static [Role] = &[Role::PattasOfficer, Role::Admin, Role::PattasMitra];
    const NAMES: &'static [&'static str] = &["pattas_officer", "admin", "pattas_mitra"];
}

/// Officers and admins.
struct Officers;
impl Allowed for Officers {
    const ROLES: &'static [Role] = &[Role::PattasOfficer, Role::Admin];
    const NAMES: &'static [&'static str] = &["pattas_officer", "admin"];
}

/// The authenticated caller (put in the extensions by
/// `satria_http::require_principal`), refused with 403 unless its role is
/// admitted. Runs before the body is read, so a wrong role is always 403.
struct Caller<A>(Principal, PhantomData<A>);

impl<S: Send + Sync, A: Allowed> FromRequestParts<S> for Caller<A> {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, HttpError> {
        let p = parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(HttpError::unauthenticated)?;
        require_role(&p, A::ROLES)?;
        Ok(Caller(p, PhantomData))
    }
}

/// A JSON body that may also be left out (an empty body is `T::default()`),
/// for the transitions whose only field is an optional note. A body that is
/// sent is read as strictly as [`ApiJson`] reads it.
struct OptionalJson<T>(T);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = HttpError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, HttpError> {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|_| {
            HttpError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the body is too large",
                "isi permintaan terlalu besar",
            )
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        let req = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
        let ApiJson(v) = ApiJson::<T>::from_request(req, state).await?;
        Ok(OptionalJson(v))
    }
}

fn path_error(e: PathRejection) -> HttpError {
    HttpError::bad_request(
        "invalid_path",
        format!("the path is not valid: {}", e.body_text()),
        "alamat (path) permintaan tidak valid",
    )
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, HttpError> {
    q.map(|Query(v)| v).map_err(|e| {
        HttpError::bad_request(
            "invalid_query",
            format!("the query string is not valid: {}", e.body_text()),
            format!("parameter query tidak valid: {}", e.body_text()),
        )
    })
}

/// A positive integer id from the path; anything else is "no such …".
fn id_of(raw: &str, en: &'static str, id: &'static str) -> Result<i64, HttpError> {
    match raw.parse::<i64>() {
        Ok(n) if n > 0 && raw.bytes().all(|c| c.is_ascii_digit()) => Ok(n),
        _ => Err(PattasError::NotFound(en, id).to_http()),
    }
}

fn case_id(p: Result<Path<String>, PathRejection>) -> Result<i64, HttpError> {
    let Path(raw) = p.map_err(path_error)?;
    id_of(&raw, "case", "kasus")
}

fn created<T: serde::Serialize>(v: T) -> Response {
    (StatusCode::CREATED, Json(v)).into_response()
}

/// The Pattas API with the system clock. Layer
/// `satria_http::require_principal` on it: handlers take the caller from the
/// request's extensions and answer 401 without one.
pub fn routes(
    pattas: Arc<Pattas>,
    recorder: Arc<dyn AccessRecorder>,
    desk: Arc<dyn TransportDesk>,
) -> Router {
    routes_with_clock(pattas, recorder, desk, Arc::new(SystemClock))
}

/// [`routes`] with a clock of the caller's choosing (tests step it).
pub fn routes_with_clock(
    pattas: Arc<Pattas>,
    recorder: Arc<dyn AccessRecorder>,
    desk: Arc<dyn TransportDesk>,
    clock: Arc<dyn Clock>,
) -> Router {
    let state = AppState {
        pattas,
        recorder,
        desk,
        clock,
    };
    Router::new()
        .route(
            "/api/pattas/beneficiaries",
            post(create_beneficiary).get(list_beneficiaries),
        )
        .route(
            "/api/pattas/beneficiaries/{id}",
            get(get_beneficiary).patch(patch_beneficiary),
        )
        .route("/api/pattas/cases", post(report_case).get(list_cases))
        .route("/api/pattas/cases/overdue", get(overdue_cases))
        .route("/api/pattas/cases/{id}", get(get_case))
        .route("/api/pattas/cases/{id}/verify", post(verify_case))
        .route("/api/pattas/cases/{id}/reject", post(reject_case))
        .route("/api/pattas/cases/{id}/assist", post(assist_case))
        .route("/api/pattas/cases/{id}/close", post(close_case))
        .route("/api/pattas/cases/{id}/assistance", post(add_assistance))
        .route("/api/pattas/cases/{id}/transports", post(book_transport))
        .route(
            "/api/pattas/cases/{id}/transports/{tid}/cancel",
            post(cancel_transport),
        )
        .route("/api/pattas/meta", get(meta))
        .route("/api/pattas/reports/cases", get(case_report))
        .route("/api/pattas/reports/assistance", get(assistance_report))
        // The role first, from the OPERATIONS table, before any extractor reads
        // the body or the query: a wrong role gets 403 whatever it sent.
        .route_layer(axum::middleware::from_fn(|req, next| {
            satria_http::authorize(OPERATIONS, req, next)
        }))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

// ---- beneficiaries ----------------------------------------------------------

async fn create_beneficiary(
    State(s): State<AppState>,
    Caller(p, _): Caller<AnyPattas>,
    ApiJson(body): ApiJson<NewBeneficiary>,
) -> Result<Response, HttpError> {
    let now = s.clock.now_ms();
    let b = s
        .run(move |pt| pt.create_beneficiary(&p, body, now))
        .await?;
    Ok(created(b))
}

async fn list_beneficiaries(
    State(s): State<AppState>,
    Caller(p, _): Caller<AnyPattas>,
    q: Result<Query<BeneficiaryQuery>, QueryRejection>,
) -> Result<Response, HttpError> {
    let mut q = query(q)?;
    // A blank desa filter filters nothing (as a blank `q` does).
    q.desa = q.desa.filter(|d| !d.trim().is_empty());
    let who = p.clone();
    let list = s.run(move |pt| pt.list_beneficiaries(&who, &q)).await?;
    s.record_beneficiaries(
        &p,
        "list",
        list.iter().map(|b| b.id),
        "GET /api/pattas/beneficiaries",
    )
    .await?;
    Ok(Json(list).into_response())
}

async fn get_beneficiary(
    State(s): State<AppState>,
    Caller(p, _): Caller<AnyPattas>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, HttpError> {
    let Path(raw) = path.map_err(path_error)?;
    let id = id_of(&raw, "beneficiary", "penerima manfaat")?;
    let who = p.clone();
    let b = s.run(move |pt| pt.beneficiary(&who, id)).await?;
    s.record_beneficiary(
        &p,
        "read",
        id,
        &format!("GET /api/pattas/beneficiaries/{id}"),
    )
    .await?;
    Ok(Json(b).into_response())
}

async fn patch_beneficiary(
    State(s): State<AppState>,
    Caller(p, _): Caller<Officers>,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<BeneficiaryPatch>,
) -> Result<Response, HttpError> {
    let Path(raw) = path.map_err(path_error)?;
    let id = id_of(&raw, "beneficiary", "penerima manfaat")?;
    let now = s.clock.now_ms();
    let who = p.clone();
    let b = s
        .run(move |pt| pt.update_beneficiary(&who, id, body, now))
        .await?;
    s.record_beneficiary(
        &p,
        "read",
        id,
        &format!("PATCH /api/pattas/beneficiaries/{id}"),
    )
    .await?;
    Ok(Json(b).into_response())
}

// ---- cases -----------------------------------------------------------------

async fn report_case(
    State(s): State<AppState>,
    Caller(p, _): Caller<AnyPattas>,
    ApiJson(body): ApiJson<NewCase>,
) -> Result<Response, HttpError> {
    let now = s.clock.now_ms();
    let by_nik = body.nik.is_some();
    let who = p.clone();
    let c = s.run(move |pt| pt.report_case(&who, body, now)).await?;
    if by_nik {
        // The answer names a beneficiary the caller knew only by NIK.
        s.record_beneficiary(
            &p,
            "read",
            c.beneficiary_id,
            "POST /api/pattas/cases (reported by NIK)",
        )
        .await?;
    }
    Ok(created(c))
}

/// Records a `list` read of each distinct beneficiary a case list shows.
async fn record_case_list(
    s: &AppState,
    p: &Principal,
    cases: &[Case],
    purpose: &str,
) -> Result<(), HttpError> {
    let mut seen = std::collections::BTreeSet::new();
    let ids: Vec<i64> = cases
        .iter()
        .map(|c| c.beneficiary_id)
        .filter(|id| seen.insert(*id))
        .collect();
    s.record_beneficiaries(p, "list", ids, purpose).await
}

async fn list_cases(
    State(s): State<AppState>,
    Caller(p, _): Caller<AnyPattas>,
    q: Result<Query<CaseQuery>, QueryRejection>,
) -> Result<Response, HttpError> {
    let mut q = query(q)?;
    // A blank desa filter filters nothing.
    q.desa = q.desa.filter(|d| !d.trim().is_empty());
    let now = s.clock.now_ms();
    let who = p.clone();
    let list = s.run(move |pt| pt.list_cases(&who, &q, now)).await?;
    record_case_list(&s, &p, &list, "GET /api/pattas/cases").await?;
    Ok(Json(list).into_response())
}

async fn overdue_cases(
    State(s): State<AppState>,
    Caller(p, _): Caller<AnyPattas>,
) -> Result<Response, HttpError> {
    let now = s.clock.now_ms();
    let who = p.clone();
    let list = s.run(move |pt| pt.overdue_cases(&who, now)).await?;
    record_case_list(&s, &p, &list, "GET /api/pattas/cases/overdue").await?;
    Ok(Json(json!({"as_of_ms": now, "cases": list})).into_response())
}

async fn get_case(
    State(s): State<AppState>,
    Caller(p, _): Caller<AnyPattas>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, HttpError> {
    let id = case_id(path)?;
    let now = s.clock.now_ms();
    let who = p.clone();
    let mut detail = s.run(move |pt| pt.case(&who, id, now)).await?;
    s.record_beneficiary(
        &p,
        "read",
        detail.beneficiary.id,
        &format!("GET /api/pattas/cases/{id}"),
    )
    .await?;
    fill_live_states(&s, &mut detail.transports).await;
    Ok(Json(detail).into_response())
}

/// Asks the desk, concurrently, for the live state of each transport not
/// cancelled here; `unknown` where it does not answer in time.
async fn fill_live_states(s: &AppState, transports: &mut [Transport]) {
    let asks: Vec<_> = transports
        .iter()
        .map(|t| {
            t.cancelled_at_ms.is_none().then(|| {
                let fut = s.desk.status(&t.transport_id);
                tokio::spawn(async move { tokio::time::timeout(STATUS_TIMEOUT, fut).await })
            })
        })
        .collect();
    for (t, ask) in transports.iter_mut().zip(asks) {
        let Some(ask) = ask else { continue };
        match ask.await {
            Ok(Ok(Some(st))) => {
                t.state = st.state.clone();
                t.live = Some(st);
            }
            _ => t.state = "unknown".into(),
        }
    }
}

async fn verify_case(
    State(s): State<AppState>,
    Caller(p, _): Caller<Officers>,
    path: Result<Path<String>, PathRejection>,
    OptionalJson(body): OptionalJson<NoteBody>,
) -> Result<Response, HttpError> {
    let id = case_id(path)?;
    let now = s.clock.now_ms();
    let c = s
        .run(move |pt| pt.verify_case(&p, id, body.note, now))
        .await?;
    Ok(Json(c).into_response())
}

async fn reject_case(
    State(s): State<AppState>,
    Caller(p, _): Caller<Officers>,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<RejectBody>,
) -> Result<Response, HttpError> {
    let id = case_id(path)?;
    let now = s.clock.now_ms();
    let c = s
        .run(move |pt| pt.reject_case(&p, id, &body.reason, now))
        .await?;
    Ok(Json(c).into_response())
}

async fn assist_case(
    State(s): State<AppState>,
    Caller(p, _): Caller<Officers>,
    path: Result<Path<String>, PathRejection>,
    OptionalJson(body): OptionalJson<NoteBody>,
) -> Result<Response, HttpError> {
    let id = case_id(path)?;
    let now = s.clock.now_ms();
    let c = s
        .run(move |pt| pt.start_assistance(&p, id, body.note, now))
        .await?;
    Ok(Json(c).into_response())
}

async fn close_case(
    State(s): State<AppState>,
    Caller(p, _): Caller<Officers>,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<CloseBody>,
) -> Result<Response, HttpError> {
    let id = case_id(path)?;
    let now = s.clock.now_ms();
    // A case is not tuntas while an ambulance may still come for its patient:
    // every transport must have ended or been cancelled (a desk that does not
    // answer counts as not ended).
    let who = p.clone();
    let mut detail = s.run(move |pt| pt.case(&who, id, now)).await?;
    fill_live_states(&s, &mut detail.transports).await;
    let open: Vec<String> = detail
        .transports
        .iter()
        .filter(|t| t.cancelled_at_ms.is_none() && t.state != "completed" && t.state != "cancelled")
        .map(|t| format!("{} ({})", t.transport_id, t.state))
        .collect();
    if !open.is_empty() {
        let list = open.join(", ");
        return Err(HttpError::new(
            StatusCode::CONFLICT,
            "transports_pending",
            format!(
                "the case still has transports that have not ended: {list}; cancel them or wait until they are completed"
            ),
            format!(
                "kasus masih punya transportasi yang belum selesai: {list}; batalkan atau tunggu sampai selesai"
            ),
        ));
    }
    let c = s
        .run(move |pt| pt.close_case(&p, id, &body.summary, now))
        .await?;
    Ok(Json(c).into_response())
}

async fn add_assistance(
    State(s): State<AppState>,
    Caller(p, _): Caller<Officers>,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<NewAssistance>,
) -> Result<Response, HttpError> {
    let id = case_id(path)?;
    let now = s.clock.now_ms();
    let a = s
        .run(move |pt| pt.add_assistance(&p, id, body, now))
        .await?;
    Ok(created(a))
}

// ---- transports --------------------------------------------------------------

async fn book_transport(
    State(s): State<AppState>,
    Caller(p, _): Caller<Officers>,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<NewTransport>,
) -> Result<Response, HttpError> {
    let id = case_id(path)?;
    let now = s.clock.now_ms();
    let who = p.clone();
    let (req, beneficiary_id) = s
        .run(move |pt| pt.transport_request(&who, id, body, now))
        .await?;
    // The desk is about to hold the patient's name, phone and address: no
    // handing over that cannot be recorded first.
    s.record_beneficiary(
        &p,
        "export",
        beneficiary_id,
        &format!("POST /api/pattas/cases/{id}/transports (handed to the transport desk)"),
    )
    .await?;
    let ticket = s.desk.book(req.clone()).await.map_err(|e| e.to_http())?;
    let tid_ok = !ticket.transport_id.trim().is_empty()
        && ticket.transport_id.chars().count() <= 128
        && !ticket.transport_id.chars().any(char::is_control);
    if !tid_ok {
        return Err(HttpError::new(
            StatusCode::BAD_GATEWAY,
            "transport_desk_error",
            "the transport desk answered with an unusable id; nothing was recorded",
            "meja transportasi menjawab dengan id yang tidak dapat dipakai; tidak ada yang dicatat",
        ));
    }
    let now = s.clock.now_ms();
    let (who, req2, ticket2) = (p.clone(), req.clone(), ticket.clone());
    match s
        .run(move |pt| pt.record_transport(&who, &req2, &ticket2, now))
        .await
    {
        Ok(t) => Ok(created(t)),
        // An id the desk already gave another trip: cancelling it would
        // cancel that trip, so leave the desk alone.
        Err(e) if e.code == "duplicate_transport" => Err(e),
        Err(e) => {
            // The case changed meanwhile: undo the booking, best effort.
            let _ = s
                .desk
                .cancel(&ticket.transport_id, "Pattas could not record the booking")
                .await;
            Err(e)
        }
    }
}

async fn cancel_transport(
    State(s): State<AppState>,
    Caller(p, _): Caller<Officers>,
    path: Result<Path<(String, String)>, PathRejection>,
    ApiJson(body): ApiJson<CancelBody>,
) -> Result<Response, HttpError> {
    let Path((raw, tid)) = path.map_err(path_error)?;
    let id = id_of(&raw, "case", "kasus")?;
    let reason = crate::valid::text("reason", &body.reason, limits::REASON)?;
    let (who, tid2) = (p.clone(), tid.clone());
    let t = s.run(move |pt| pt.transport(&who, id, &tid2)).await?;
    if t.cancelled_at_ms.is_some() {
        return Err(already_cancelled().to_http());
    }
    s.desk
        .cancel(&tid, &reason)
        .await
        .map_err(|e| e.to_http())?;
    let now = s.clock.now_ms();
    let t = s
        .run(move |pt| pt.mark_transport_cancelled(&p, id, &tid, &reason, now))
        .await?;
    Ok(Json(t).into_response())
}

// ---- form data ---------------------------------------------------------------

/// What the forms need: needs, statuses and BPJS options with labels in both
/// languages, the desa list and the deadlines. No personal data.
async fn meta(
    State(s): State<AppState>,
    Caller(_p, _): Caller<AnyPattas>,
) -> Result<Response, HttpError> {
    let labels = |v: &[(&str, &str, &str)]| -> Vec<Value> {
        v.iter()
            .map(|(value, en, id)| json!({"value": value, "label": en, "label_id": id}))
            .collect()
    };
    let desa: Vec<Value> = s
        .pattas
        .desa_places()
        .into_iter()
        .map(|(d, k, lat, lon)| json!({"desa": d, "kecamatan": k, "lat": lat, "lon": lon}))
        .collect();
    let config = s.pattas.config();
    Ok(Json(json!({
        "needs": labels(&NEED_LABELS),
        "statuses": labels(&STATUS_LABELS),
        "actions": labels(&ACTION_LABELS),
        "bpjs": labels(&[
            ("pbi", "PBI (premium paid by the state)", "PBI (iuran dibayar pemerintah)"),
            ("mandiri", "Self-paid", "Mandiri"),
            ("none", "None", "Tidak punya"),
        ]),
        "sex": labels(&[("L", "Male", "Laki-laki"), ("P", "Female", "Perempuan")]),
        "desa": desa,
        "verify_within_ms": config.verify_within_ms,
        "first_assistance_within_ms": config.first_assistance_within_ms,
        "transport_ahead_max_ms": limits::TRANSPORT_AHEAD_MS,
    }))
    .into_response())
}

// ---- reports -------------------------------------------------------------------

async fn case_report(
    State(s): State<AppState>,
    Caller(_p, _): Caller<Officers>,
    q: Result<Query<RangeQuery>, QueryRejection>,
) -> Result<Response, HttpError> {
    let q = query(q)?;
    let now = s.clock.now_ms();
    let r = s.run(move |pt| pt.case_report(&q, now)).await?;
    Ok(Json(r).into_response())
}

async fn assistance_report(
    State(s): State<AppState>,
    Caller(_p, _): Caller<Officers>,
    q: Result<Query<RangeQuery>, QueryRejection>,
) -> Result<Response, HttpError> {
    let q = query(q)?;
    let r = s.run(move |pt| pt.assistance_report(&q)).await?;
    Ok(Json(r).into_response())
}

// ---- the operation table -----------------------------------------------------

fn obj(props: Value, required: &[&str]) -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": props,
        "required": required,
    })
}

/// Control characters `valid::optional_text` refuses (line breaks and tabs
/// are allowed), as a regex character-class body.
const CONTROL: &str = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f";

/// A text `valid::text` accepts: not blank, at most `max` characters, no
/// control characters other than line breaks and tabs.
fn text(max: usize) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max,
        "pattern": format!("^[^{CONTROL}]*[^\\s{CONTROL}][^{CONTROL}]*$")})
}

/// An Indonesian mobile number as `valid::phone` accepts it: 08… or (+)628…,
/// 10 to 15 digits.
fn phone_schema() -> Value {
    json!({"type": "string", "pattern": "^(08[0-9]{8,13}|\\+?628[0-9]{7,12})$", "example": "081234567890"})
}

/// A NIK as `valid::nik_form` accepts it: a region code (province 11-99,
/// regency and district not 00), a birth date DDMMYY that exists (DD + 40 for
/// a woman) and a serial that is not 0000.
fn nik_schema() -> Value {
    let region = "(1[1-9]|[2-9][0-9])(0[1-9]|[1-9][0-9])(0[1-9]|[1-9][0-9])";
    let birth = "((0[1-9]|1[0-9]|2[0-8]|4[1-9]|5[0-9]|6[0-8])(0[1-9]|1[0-2])[0-9]{2}\
        |(29|30|69|70)(0[13-9]|1[0-2])[0-9]{2}\
        |(31|71)(0[13578]|1[02])[0-9]{2}\
        |(29|69)02([02468][048]|[13579][26]))"
        .replace(' ', "");
    let serial = "([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])";
    json!({"type": "string", "pattern": format!("^{region}{birth}{serial}$"),
        "description": "16 digits; digits 7-12 the birth date DDMMYY, DD + 40 for a woman; 3302… = Banyumas"})
}

fn family_contact_schema() -> Value {
    obj(
        json!({
            "name": text(limits::NAME),
            "phone": phone_schema(),
            "relation": text(limits::RELATION),
        }),
        &["name", "phone", "relation"],
    )
}

fn beneficiary_props(nullable: bool) -> Value {
    let or_null = |v: Value| {
        if nullable {
            json!({"oneOf": [v, {"type": "null"}]})
        } else {
            v
        }
    };
    json!({
        "nik": nik_schema(),
        "name": text(limits::NAME),
        "date_of_birth": {"type": "string", "format": "date",
            "description": "must match the NIK's birth-date digits (422 nik_mismatch)"},
        "sex": {"type": "string", "enum": ["L", "P", "male", "female"]},
        "desa": text(limits::DESA),
        "kecamatan": or_null(text(limits::DESA)),
        "rt": rt_rw_schema(),
        "rw": rt_rw_schema(),
        "phone": or_null(phone_schema()),
        "dtks": {"type": "boolean"},
        "bpjs": {"type": "string", "enum": BPJS},
        "conditions": {"type": "array", "minItems": 1, "maxItems": limits::CONDITIONS,
                        "items": text(limits::CONDITION)},
        "family_contact": or_null(family_contact_schema()),
    })
}

fn new_beneficiary_schema() -> Value {
    obj(
        beneficiary_props(false),
        &[
            "nik",
            "name",
            "date_of_birth",
            "sex",
            "desa",
            "rt",
            "rw",
            "dtks",
            "bpjs",
            "conditions",
        ],
    )
}

fn beneficiary_patch_schema() -> Value {
    let mut s = obj(beneficiary_props(true), &[]);
    // A change changes something.
    s["minProperties"] = json!(1);
    s
}

/// RT or RW as `valid::rt_rw` accepts it: 1 to 3 digits, 1 to 999.
fn rt_rw_schema() -> Value {
    json!({"type": "string", "pattern": "^([1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9])$"})
}

fn new_case_schema() -> Value {
    let mut s = obj(
        json!({
            "beneficiary_id": satria_http::path_id_schema(),
            "nik": nik_schema(),
            "needs": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": NEEDS}},
            "description": text(limits::DESCRIPTION),
            "reported_via": filter_schema(limits::REPORTED_VIA),
        }),
        &["needs", "description"],
    );
    // Exactly one of beneficiary_id and nik.
    s["oneOf"] = json!([{"required": ["beneficiary_id"]}, {"required": ["nik"]}]);
    s
}

fn note_schema() -> Value {
    obj(json!({"note": filter_schema(limits::NOTES)}), &[])
}

fn reason_schema() -> Value {
    obj(json!({"reason": text(limits::REASON)}), &["reason"])
}

fn close_schema() -> Value {
    obj(json!({"summary": text(limits::SUMMARY)}), &["summary"])
}

fn assistance_schema() -> Value {
    obj(
        json!({
            "date": {"type": "string", "format": "date",
                "description": "from the day the case was reported to today (422 invalid_date)"},
            "kind": {"type": "string", "enum": NEEDS},
            "amount_rp": {"type": "integer", "minimum": 0, "maximum": limits::AMOUNT_RP},
            "notes": filter_schema(limits::NOTES),
        }),
        &["date", "kind", "amount_rp"],
    )
}

fn transport_schema() -> Value {
    let lat = json!({"type": "number", "minimum": -7.85, "maximum": -7.05});
    let lon = json!({"type": "number", "minimum": 108.7, "maximum": 109.65});
    obj(
        json!({
            "pickup": obj(json!({"lat": lat, "lon": lon, "address": text(limits::ADDRESS)}),
                          &["lat", "lon", "address"]),
            "destination": obj(json!({
                "hospital_id": {"type": "string", "maxLength": limits::HOSPITAL_ID},
                "name": text(limits::NAME), "lat": lat, "lon": lon}),
                &["name", "lat", "lon"]),
            "scheduled_for": {"oneOf": [
                {"type": "string", "format": "date-time"},
                {"type": "integer", "description": "ms since the epoch"}],
                "description": "in the future and within 30 days; no offset = WIB (422 invalid_time)"},
            "purpose": text(limits::PURPOSE),
            "notes": filter_schema(limits::NOTES),
        }),
        &["pickup", "destination", "scheduled_for", "purpose"],
    )
}

const ANY: &[&str] = AnyPattas::NAMES;
const OFFICERS: &[&str] = Officers::NAMES;
const PAGE: [QueryParam; 2] = [
    ("limit", limit_schema, false),
    ("offset", offset_schema, false),
];
const RANGE: &[QueryParam] = &[("from", day_schema, false), ("to", day_schema, false)];

/// `limit` of a list: 1 to [`limits::PAGE_MAX`] (what `page` in the store checks).
fn limit_schema() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": limits::PAGE_MAX, "default": limits::PAGE_DEFAULT})
}

fn offset_schema() -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": u32::MAX})
}

/// A report day `YYYY-MM-DD` (WIB).
fn day_schema() -> Value {
    satria_http::date_schema("[0-9]{4}")
}

/// A text filter: at most `max` characters, no control characters other than
/// line breaks and tabs (what `valid::optional_text` checks).
fn filter_schema(max: usize) -> Value {
    json!({"type": "string", "maxLength": max,
        "pattern": "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"})
}

fn search_schema() -> Value {
    filter_schema(limits::SEARCH)
}

fn desa_filter_schema() -> Value {
    filter_schema(limits::DESA)
}

fn case_status_schema() -> Value {
    json!({"type": "string", "enum": STATUSES})
}

fn beneficiary_id_schema() -> Value {
    json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX})
}

/// Every Pattas operation, for the server's OpenAPI document. A test walks
/// it against [`routes`].
pub const OPERATIONS: &[Operation] = &[
    Operation {
        method: "post",
        path: "/api/pattas/beneficiaries",
        summary: "Register a beneficiary (one per NIK); answers banyumas_resident",
        roles: ANY,
        body: Some(new_beneficiary_schema),
        query: &[],
        status: 201,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/pattas/beneficiaries",
        summary: "List beneficiaries (a mitra: those it registered or reported a case for); q = name contains or NIK prefix",
        roles: ANY,
        body: None,
        query: &[
            ("q", search_schema, false),
            ("desa", desa_filter_schema, false),
            PAGE[0],
            PAGE[1],
        ],
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/pattas/beneficiaries/{id}",
        summary: "One beneficiary with its change history",
        roles: ANY,
        body: None,
        query: &[],
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "patch",
        path: "/api/pattas/beneficiaries/{id}",
        summary: "Change a beneficiary (null clears phone, kecamatan, family_contact)",
        roles: OFFICERS,
        body: Some(beneficiary_patch_schema),
        query: &[],
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/pattas/cases",
        summary: "Report a case for a beneficiary (by beneficiary_id or nik) with its needs",
        roles: ANY,
        body: Some(new_case_schema),
        query: &[],
        status: 201,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/pattas/cases",
        summary: "List cases, newest first (a mitra: the ones it reported)",
        roles: ANY,
        body: None,
        query: &[
            ("status", case_status_schema, false),
            ("desa", desa_filter_schema, false),
            ("beneficiary_id", beneficiary_id_schema, false),
            PAGE[0],
            PAGE[1],
        ],
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/pattas/cases/overdue",
        summary: "Cases past their verify or first-assistance deadline, most overdue first",
        roles: ANY,
        body: None,
        query: &[],
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/pattas/cases/{id}",
        summary: "One case with its beneficiary, assistance, transports (live status) and history",
        roles: ANY,
        body: None,
        query: &[],
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/pattas/cases/{id}/verify",
        summary: "reported → verified (the body may be empty)",
        roles: OFFICERS,
        body: Some(note_schema),
        query: &[],
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/pattas/cases/{id}/reject",
        summary: "reported → rejected, with a reason",
        roles: OFFICERS,
        body: Some(reason_schema),
        query: &[],
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/pattas/cases/{id}/assist",
        summary: "verified → in_assistance, first assistance started (the body may be empty)",
        roles: OFFICERS,
        body: Some(note_schema),
        query: &[],
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/pattas/cases/{id}/close",
        summary: "in_assistance → closed (tuntas), with a closing summary",
        roles: OFFICERS,
        body: Some(close_schema),
        query: &[],
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/pattas/cases/{id}/assistance",
        summary: "Record an assistance action (the first one on a verified case starts assistance)",
        roles: OFFICERS,
        body: Some(assistance_schema),
        query: &[],
        status: 201,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/pattas/cases/{id}/transports",
        summary: "Book free scheduled ambulance transport for a verified or assisted case",
        roles: OFFICERS,
        body: Some(transport_schema),
        query: &[],
        status: 201,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/pattas/cases/{id}/transports/{tid}/cancel",
        summary: "Cancel a booked transport, with a reason",
        roles: OFFICERS,
        body: Some(reason_schema),
        query: &[],
        status: 200,
        path_types: &[("id", "integer"), ("tid", "integer")],
    },
    Operation {
        method: "get",
        path: "/api/pattas/meta",
        summary: "Form data: needs, statuses, BPJS and sex options labelled in English and Bahasa Indonesia, the Banyumas desa list with each centre (lat, lon), the deadlines",
        roles: ANY,
        body: None,
        query: &[],
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/pattas/reports/cases",
        summary: "Cases reported in a date range (WIB, inclusive): by status, by desa, overdue now",
        roles: OFFICERS,
        body: None,
        query: RANGE,
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/pattas/reports/assistance",
        summary: "Assistance dated in a range: totals by kind and by month",
        roles: OFFICERS,
        body: None,
        query: RANGE,
        status: 200,
        path_types: &[],
    },
];
