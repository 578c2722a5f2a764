//! The prices resource: the price list of a day, and setting a price.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use satria_http::ApiJson;

use super::params::{date_param, query};
use super::{ApiResult, AppState, Caller, blocking, ok};
use crate::model::*;
use crate::time::wib_day;

/// The routes of `/api/salinmas/prices`.
pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/salinmas/prices", get(get_prices).post(set_price))
}

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
