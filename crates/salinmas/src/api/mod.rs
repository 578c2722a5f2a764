//! The REST resources under `/api/salinmas/...` and their OpenAPI rows.
//!
//! This file holds the shared handler plumbing (state, caller, blocking calls,
//! access recording) and [`routes`], which merges one router per resource:
//! `kelurahan`, `accounts`, `ledger` (an account's ledger and payouts),
//! `collectors`, `prices`, `pickups`, `route` (a collector's day route),
//! `reports` and `history`. `params` reads path ids and query parameters;
//! `openapi` holds [`OPERATIONS`], the OpenAPI row of every route.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use satria_auth::{AccessRecorder, Principal};
use satria_http::HttpError;
use serde::Serialize;

use crate::error::SalinmasError;
use crate::route::DriveTimes;
use crate::store::Salinmas;

mod accounts;
mod collectors;
mod history;
mod kelurahan;
mod ledger;
mod openapi;
mod params;
mod pickups;
mod prices;
mod reports;
mod route;

pub use history::HISTORY_ENTITIES;
pub use openapi::OPERATIONS;

/// The largest request body accepted.
pub use satria_http::MAX_BODY_BYTES;

#[derive(Clone)]
struct AppState {
    s: Arc<Salinmas>,
    recorder: Arc<dyn AccessRecorder>,
    drive: Arc<dyn DriveTimes>,
}

/// The caller, put into the request's extensions as an
/// `axum::Extension<Principal>` by `satria_http::require_principal`; a request
/// without one is refused with 401 (never a 500).
struct Caller(Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Caller)
            .ok_or_else(HttpError::unauthenticated)
    }
}

type ApiResult = Result<Response, HttpError>;

fn ok<T: Serialize>(status: StatusCode, body: &T) -> ApiResult {
    Ok((status, Json(body)).into_response())
}

/// Runs a blocking Salinmas call off the async runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SalinmasError> + Send + 'static,
) -> Result<T, HttpError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| HttpError::unavailable("the Salinmas task did not finish"))?
        .map_err(HttpError::from)
}

/// Records a listing of accounts, durably, before it is answered: `Err` (503)
/// is the answer when it cannot be recorded.
async fn record_list(
    st: &AppState,
    who: &Principal,
    ids: impl IntoIterator<Item = i64>,
    purpose: &str,
) -> Result<(), HttpError> {
    let ids: BTreeSet<i64> = ids.into_iter().collect();
    if !ids.is_empty() {
        let subjects = ids.iter().map(|i| format!("salinmas_account:{i}"));
        st.recorder
            .record_each(who, "list", subjects.collect(), purpose)
            .await?;
    }
    Ok(())
}

/// Records a read of one account, durably, before it is answered.
async fn record_read(
    st: &AppState,
    who: &Principal,
    account_id: i64,
    purpose: &str,
) -> Result<(), HttpError> {
    st.recorder
        .record(
            who,
            "read",
            &format!("salinmas_account:{account_id}"),
            purpose,
        )
        .await?;
    Ok(())
}

/// The Salinmas API, its state applied. Every path is under
/// `/api/salinmas/`; handlers expect the caller's `Principal` in the request
/// extensions (layer `satria_http::require_principal` over it).
pub fn routes(
    salinmas: Arc<Salinmas>,
    recorder: Arc<dyn AccessRecorder>,
    drive: Arc<dyn DriveTimes>,
) -> Router {
    let state = AppState {
        s: salinmas,
        recorder,
        drive,
    };
    Router::new()
        .merge(kelurahan::router())
        .merge(accounts::router())
        .merge(ledger::router())
        .merge(collectors::router())
        .merge(prices::router())
        .merge(pickups::router())
        .merge(route::router())
        .merge(reports::router())
        .merge(history::router())
        // The role first, from the OPERATIONS table, before any extractor reads
        // the body or the query: a wrong role gets 403 whatever it sent.
        .route_layer(axum::middleware::from_fn(|req, next| {
            satria_http::authorize(OPERATIONS, req, next)
        }))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
