//! The accounts resource: listing, registering and reading household and
//! dasawisma accounts, each read of personal data recorded.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use satria_http::ApiJson;

use super::params::{id_of, page_param, query};
use super::{ApiResult, AppState, Caller, blocking, ok, record_list, record_read};
use crate::model::*;

/// The routes of `/api/salinmas/accounts` and `/api/salinmas/accounts/{id}`.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/salinmas/accounts",
            get(list_accounts).post(create_account),
        )
        .route("/api/salinmas/accounts/{id}", get(get_account))
}

async fn list_accounts(
    State(st): State<AppState>,
    Caller(who): Caller,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult {
    let q = query(q, &["kelurahan", "limit", "offset"])?;
    let page = page_param(&q)?;
    let s = Arc::clone(&st.s);
    let w = who.clone();
    let list = blocking(move || {
        let kelurahan = q.get("kelurahan").map(String::as_str);
        s.accounts_page(&w, kelurahan, page.limit, page.offset)
    })
    .await?;
    record_list(
        &st,
        &who,
        list.iter().map(|a| a.id),
        "GET /api/salinmas/accounts",
    )
    .await?;
    ok(StatusCode::OK, &list)
}

async fn create_account(
    State(st): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<NewAccount>,
) -> ApiResult {
    let s = Arc::clone(&st.s);
    let a = blocking(move || s.create_account(&who, body, s.now_ms())).await?;
    let at = format!("/api/salinmas/accounts/{}", a.id);
    Ok(satria_http::created(Some(at), a))
}

async fn get_account(
    State(st): State<AppState>,
    Caller(who): Caller,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let id = id_of(id, "account")?;
    let s = Arc::clone(&st.s);
    let w = who.clone();
    let a = blocking(move || s.account(&w, id)).await?;
    record_read(&st, &who, a.id, "GET /api/salinmas/accounts/{id}").await?;
    ok(StatusCode::OK, &a)
}
