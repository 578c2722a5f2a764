//! How the dispatch API answers a refusal: the one error shape of every Satria
//! module ([`HttpError`], `{"code","message","message_id"}`, from `satria-http`),
//! the status of each dispatch [`Rejection`], and the [`Caller`] extractor.

use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use satria_auth::{Principal, Role};
use satria_dispatch::{HospitalId, IncidentId, ReferralId, Rejection, UnitId};
use satria_engine::EngineError;
use std::sync::Arc;

pub use satria_http::HttpError;

/// The record a request's path names (`/api/incidents/{id}/...`), if any. A
/// refusal saying that this record does not exist is 404; one saying that a
/// record named in the body does not exist (a unit to assign, an incident to
/// merge into, the incident a crew acknowledges) is 422: the target of the
/// request exists, what it was asked to do names something that does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathRecord {
    None,
    Incident(IncidentId),
    Unit(UnitId),
    Hospital(HospitalId),
    Referral(ReferralId),
}

impl PathRecord {
    /// Whether `r` says that this record does not exist.
    fn is_missing(&self, r: &Rejection) -> bool {
        match (self, r) {
            (PathRecord::Incident(a), Rejection::UnknownIncident { incident: b }) => a == b,
            (PathRecord::Unit(a), Rejection::UnknownUnit { unit: b }) => a == b,
            (PathRecord::Hospital(a), Rejection::UnknownHospital { hospital: b }) => a == b,
            (PathRecord::Referral(a), Rejection::UnknownReferral { referral: b }) => a == b,
            _ => false,
        }
    }
}

/// A dispatch refusal of a request whose path names `path`: as [`rejected`],
/// except that a record the body names and that does not exist is 422.
pub fn rejected_on(r: Rejection, path: &PathRecord) -> HttpError {
    let named_by_path = path.is_missing(&r);
    let mut e = rejected(r);
    if e.status == StatusCode::NOT_FOUND && !named_by_path {
        e.status = StatusCode::UNPROCESSABLE_ENTITY;
    }
    e
}

/// The status of a dispatch refusal, by the rule every module follows.
/// 404: a record the request names does not exist (see [`rejected_on`] for
/// records named in a body). 422: the request is
/// invalid in itself or against the clock (a device time in the future; the
/// OpenAPI document states the rule). 409: it conflicts with the stored state:
/// a transition not allowed now, a device time before the assignment it
/// answers, a duplicate.
pub fn rejection_status(r: &Rejection) -> StatusCode {
    let code = r.code();
    if code.starts_with("unknown_") {
        StatusCode::NOT_FOUND
    } else if code == "invalid_transition" {
        StatusCode::CONFLICT
    } else if code.starts_with("invalid_")
        || code == "outside_service_area"
        || code == "device_time_in_future"
        // A negative device time is wrong in itself (the document says
        // minimum 0); a later one is judged against the assignment.
        || matches!(r, Rejection::DeviceTimeTooEarly { device_at, .. } if device_at.0 < 0)
    {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::CONFLICT
    }
}

/// A dispatch refusal as the one error shape.
pub fn rejected(r: Rejection) -> HttpError {
    HttpError::new(
        rejection_status(&r),
        r.code(),
        r.to_string(),
        r.message_id(),
    )
}

/// An engine failure as the one error shape: a refusal keeps its own status,
/// an overloaded engine is `503 busy`, anything else `503 unavailable`.
pub fn engine_failed(e: EngineError) -> HttpError {
    match e {
        EngineError::Rejected(r) => rejected(r),
        other => engine_failed_on(other, &PathRecord::None),
    }
}

/// [`engine_failed`] for a request whose path names `path` (see [`rejected_on`]).
pub fn engine_failed_on(e: EngineError, path: &PathRecord) -> HttpError {
    match e {
        EngineError::Rejected(r) => rejected_on(r, path),
        EngineError::Busy => HttpError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "the engine is overloaded, try again",
            "mesin sedang penuh, coba lagi",
        ),
        EngineError::NotLeader { leader } => HttpError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_leader",
            EngineError::NotLeader {
                leader: leader.clone(),
            }
            .to_string(),
            "node ini tidak memimpin wilayah; tidak ada yang diubah, coba lagi",
        ),
        other => HttpError::unavailable(other.to_string()),
    }
}

/// The authenticated caller, from `Authorization: Bearer TOKEN`.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    /// Refuses unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), HttpError> {
        if roles.contains(&self.0.role) {
            Ok(())
        } else {
            Err(HttpError::forbidden())
        }
    }

    /// True for the roles that run dispatch (dispatcher, admin).
    pub fn is_dispatch(&self) -> bool {
        matches!(self.0.role, Role::Dispatcher | Role::Admin)
    }
}

pub use satria_http::bearer;

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        // Already authenticated by `api::authorize` (routes of the table).
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(Caller(p.clone()));
        }
        let token = bearer(parts).ok_or_else(HttpError::unauthenticated)?;
        let p = satria_http::authenticate(&state.auth, token).await?;
        Ok(Caller(p))
    }
}

/// `axum::Json`, but every refusal (malformed JSON, unknown or missing fields,
/// wrong types, wrong content type, oversized body) is the one error shape; shared
/// with the modules.
pub use satria_http::ApiJson;
