//! The case and assistance reports over HTTP.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use satria_http::HttpError;

use super::{AppState, Caller, Officers, query};
use crate::model::*;

/// The report routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/pattas/reports/cases", get(case_report))
        .route("/api/pattas/reports/assistance", get(assistance_report))
}

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
