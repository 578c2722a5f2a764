//! The kelurahan resource: the served kelurahan, and adding one.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use satria_http::ApiJson;

use super::{ApiResult, AppState, Caller, blocking, ok};
use crate::model::*;

/// The routes of `/api/salinmas/kelurahan`.
pub(super) fn router() -> Router<AppState> {
    Router::new().route(
        "/api/salinmas/kelurahan",
        get(list_kelurahan).post(add_kelurahan),
    )
}

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
