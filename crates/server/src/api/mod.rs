//! The JSON API under `/api`. Handlers check the caller's role, turn the request
//! into one engine command (or a read of the latest snapshot), and record every
//! read of personal data.

use crate::AppState;
use crate::error::{HttpError, PathRecord, engine_failed_on};
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use satria_dispatch::{Command, Event};
use std::sync::Arc;

mod auth;
mod hospitals;
mod incidents;
mod referrals;
mod reports;
mod units;

pub use incidents::{INCIDENT_LIST_DEFAULT, INCIDENT_STATUS_FILTERS, MAX_INCIDENT_LIST};
pub use referrals::MAX_REFERRAL_LIST;

/// Every dispatch route: one router per resource, merged.
pub fn routes(_state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .merge(auth::router())
        .merge(incidents::router())
        .merge(units::router())
        .merge(hospitals::router())
        .merge(referrals::router())
        .merge(reports::router())
}

/// Middleware over the dispatch routes: authenticates and checks the caller's
/// role against [`crate::openapi::OPERATIONS`] before any handler reads the
/// body or the query, so a wrong role gets 403 whatever it sent. The table is
/// the policy; handlers keep only the finer rules (a crew acts for its own
/// unit, a hospital for its own beds).
pub async fn authorize(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    satria_http::authorize_with(&state.auth, crate::openapi::OPERATIONS, req, next).await
}

pub(crate) type ApiResult = Result<Response, HttpError>;

pub(crate) fn ok(v: impl serde::Serialize) -> ApiResult {
    Ok(axum::Json(v).into_response())
}

/// Submits a command for a request whose path names `path`, timing its
/// durable acknowledgement. A record the body names that does not exist is
/// 422, the one the path names 404 (`crate::error::rejected_on`).
pub(crate) async fn submit(
    state: &AppState,
    path: PathRecord,
    cmd: Command,
) -> Result<Vec<Event>, HttpError> {
    let r = crate::trace::submit(state, None, cmd).await;
    Ok(r.map_err(|e| engine_failed_on(e, &path))?
        .into_iter()
        .map(|p| p.event)
        .collect())
}

/// A path id that must be a positive integer of at most
/// [`satria_http::MAX_PATH_ID`] (what the OpenAPI document states).
pub(crate) fn numeric_id(raw: &str, what: &str) -> Result<u64, HttpError> {
    satria_http::path_id(raw, what).map(i64::unsigned_abs)
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
