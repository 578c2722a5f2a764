//! The pickups resource: listing, requesting and reading pickups, and their
//! accept, collect, cancel and reject actions.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use satria_http::{ApiJson, HttpError};

use super::params::{date_param, id_of, page_param, query};
use super::{ApiResult, AppState, Caller, blocking, ok, record_list, record_read};
use crate::model::*;

/// The routes of `/api/salinmas/pickups`, `/api/salinmas/pickups/{id}` and its actions.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/salinmas/pickups",
            get(list_pickups).post(request_pickup),
        )
        .route("/api/salinmas/pickups/{id}", get(get_pickup))
        .route("/api/salinmas/pickups/{id}/accept", post(accept_pickup))
        .route("/api/salinmas/pickups/{id}/collect", post(collect_pickup))
        .route("/api/salinmas/pickups/{id}/cancel", post(cancel_pickup))
        .route("/api/salinmas/pickups/{id}/reject", post(reject_pickup))
}

async fn list_pickups(
    State(st): State<AppState>,
    Caller(who): Caller,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult {
    let q = query(
        q,
        &[
            "status",
            "kelurahan",
            "date",
            "account_id",
            "limit",
            "offset",
        ],
    )?;
    let page = page_param(&q)?;
    let account_id = match q.get("account_id") {
        None => None,
        Some(s) => Some(s.parse::<i64>().map_err(|_| {
            HttpError::bad_request(
                "invalid_query",
                "account_id must be a whole number",
                "account_id harus bilangan bulat",
            )
        })?),
    };
    let filter = PickupFilter {
        status: q.get("status").cloned(),
        kelurahan: q.get("kelurahan").cloned(),
        day: date_param(&q, "date")?,
        account_id,
        limit: Some(page.limit),
        offset: page.offset,
    };
    let s = Arc::clone(&st.s);
    let w = who.clone();
    let list = blocking(move || s.pickups(&w, &filter)).await?;
    record_list(
        &st,
        &who,
        list.iter().map(|p| p.account_id),
        "GET /api/salinmas/pickups",
    )
    .await?;
    ok(StatusCode::OK, &list)
}

async fn request_pickup(
    State(st): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<NewPickup>,
) -> ApiResult {
    let s = Arc::clone(&st.s);
    let p = blocking(move || s.request_pickup(&who, body, s.now_ms())).await?;
    let at = format!("/api/salinmas/pickups/{}", p.id);
    Ok(satria_http::created(Some(at), p))
}

async fn get_pickup(
    State(st): State<AppState>,
    Caller(who): Caller,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let id = id_of(id, "pickup")?;
    let s = Arc::clone(&st.s);
    let w = who.clone();
    let p = blocking(move || s.pickup(&w, id)).await?;
    record_read(
        &st,
        &who,
        p.pickup.account_id,
        "GET /api/salinmas/pickups/{id}",
    )
    .await?;
    ok(StatusCode::OK, &p)
}

async fn accept_pickup(
    State(st): State<AppState>,
    Caller(who): Caller,
    id: Result<Path<String>, PathRejection>,
    body: axum::body::Bytes,
) -> ApiResult {
    let id = id_of(id, "pickup")?;
    // The body is optional here: none means "the window's day, myself".
    let body: AcceptPickup = if body.iter().all(u8::is_ascii_whitespace) {
        AcceptPickup::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            if e.is_syntax() || e.is_eof() {
                HttpError::bad_request(
                    "malformed_json",
                    format!("the body is not valid JSON: {e}"),
                    "isi permintaan bukan JSON yang valid",
                )
            } else {
                HttpError::invalid(
                    "invalid_body",
                    e.to_string(),
                    format!("isi permintaan tidak sesuai: {e}"),
                )
            }
        })?
    };
    let s = Arc::clone(&st.s);
    let p = blocking(move || s.accept_pickup(&who, id, body, s.now_ms())).await?;
    ok(StatusCode::OK, &p)
}

async fn collect_pickup(
    State(st): State<AppState>,
    Caller(who): Caller,
    id: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<CollectPickup>,
) -> ApiResult {
    let id = id_of(id, "pickup")?;
    let s = Arc::clone(&st.s);
    let p = blocking(move || s.collect_pickup(&who, id, body, s.now_ms())).await?;
    ok(StatusCode::OK, &p)
}

async fn cancel_pickup(
    State(st): State<AppState>,
    Caller(who): Caller,
    id: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<Reason>,
) -> ApiResult {
    let id = id_of(id, "pickup")?;
    let s = Arc::clone(&st.s);
    let p = blocking(move || s.cancel_pickup(&who, id, body, s.now_ms())).await?;
    ok(StatusCode::OK, &p)
}

async fn reject_pickup(
    State(st): State<AppState>,
    Caller(who): Caller,
    id: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<Reason>,
) -> ApiResult {
    let id = id_of(id, "pickup")?;
    let s = Arc::clone(&st.s);
    let p = blocking(move || s.reject_pickup(&who, id, body, s.now_ms())).await?;
    ok(StatusCode::OK, &p)
}
