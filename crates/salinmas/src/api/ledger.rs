//! An account's ledger and its payouts.

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use satria_http::ApiJson;

use super::params::id_of;
use super::{ApiResult, AppState, Caller, blocking, ok};
use crate::model::*;

/// The routes of `/api/salinmas/accounts/{id}/ledger` and
/// `/api/salinmas/accounts/{id}/payouts`.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/salinmas/accounts/{id}/ledger", get(get_ledger))
        .route("/api/salinmas/accounts/{id}/payouts", post(payout))
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
