//! Assistance actions recorded on a case over HTTP.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use satria_http::{ApiJson, HttpError};

use super::{AppState, Caller, Officers, case_id, created};
use crate::model::*;

/// The assistance route.
pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/pattas/cases/{id}/assistance", post(add_assistance))
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
