//! The HTTP API under `/api/pattas/...` and its operation table.
//!
//! This file holds the clock, the state and extractors every handler uses and
//! the router that merges one routes function per resource: `beneficiaries`,
//! `cases`, `assistance`, `transports`, `meta` (form data) and `reports`;
//! `operations` holds the operation table and its schemas.

mod assistance;
mod beneficiaries;
mod cases;
mod meta;
mod operations;
mod reports;
mod transports;

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use satria_auth::{AccessRecord, AccessRecorder, Principal, Role};
use satria_http::{ApiJson, HttpError, require_role};
use serde::de::DeserializeOwned;

use crate::desk::TransportDesk;
use crate::{Pattas, PattasError};

pub use operations::OPERATIONS;

/// Largest request body accepted.
const BODY_LIMIT: usize = satria_http::MAX_BODY_BYTES;

/// Where the API takes "now" from: the system clock in service, a hand-held
/// one in tests (deadlines, overdue lists, "not in the future").
pub use satria_calendar::Clock;

#[derive(Clone)]
struct AppState {
    pattas: Arc<Pattas>,
    recorder: Arc<dyn AccessRecorder>,
    desk: Arc<dyn TransportDesk>,
    clock: Clock,
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
        let subjects = ids.into_iter().map(|id| format!("pattas_beneficiary:{id}"));
        let batch = AccessRecord::each(who, action, subjects, purpose, self.clock.now_ms());
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

/// A record id from the path: the one rule of every module
/// (`satria_http::path_id`, 400 `invalid_id`).
fn id_of(raw: &str, en: &'static str) -> Result<i64, HttpError> {
    satria_http::path_id(raw, en)
}

fn case_id(p: Result<Path<String>, PathRejection>) -> Result<i64, HttpError> {
    let Path(raw) = p.map_err(path_error)?;
    id_of(&raw, "case")
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
    routes_with_clock(pattas, recorder, desk, Clock::system())
}

/// [`routes`] with a clock of the caller's choosing (tests step it).
pub fn routes_with_clock(
    pattas: Arc<Pattas>,
    recorder: Arc<dyn AccessRecorder>,
    desk: Arc<dyn TransportDesk>,
    clock: Clock,
) -> Router {
    let state = AppState {
        pattas,
        recorder,
        desk,
        clock,
    };
    Router::new()
        .merge(beneficiaries::routes())
        .merge(cases::routes())
        .merge(assistance::routes())
        .merge(transports::routes())
        .merge(meta::routes())
        .merge(reports::routes())
        // The role first, from the OPERATIONS table, before any extractor reads
        // the body or the query: a wrong role gets 403 whatever it sent.
        .route_layer(axum::middleware::from_fn(|req, next| {
            satria_http::authorize(OPERATIONS, req, next)
        }))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}
