//! The collectors resource: listing, registering and reading collector
//! groups (KSM).

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use satria_http::ApiJson;

use super::params::id_of;
use super::{ApiResult, AppState, Caller, blocking, ok};
use crate::model::*;

/// The routes of `/api/salinmas/collectors` and `/api/salinmas/collectors/{id}`.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/salinmas/collectors",
            get(list_collectors).post(create_collector),
        )
        .route("/api/salinmas/collectors/{id}", get(get_collector))
}

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
    let at = format!("/api/salinmas/collectors/{}", c.id);
    Ok(satria_http::created(Some(at), c))
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
