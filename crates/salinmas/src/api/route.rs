//! The routes resource: a collector group's day route, its stops' accounts
//! recorded as read.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use satria_http::HttpError;

use super::params::{date_param, f64_param, id_of, query};
use super::{ApiResult, AppState, Caller, blocking, ok, record_list};
use crate::time::wib_day;

/// The routes of `/api/salinmas/routes/{collector_id}`.
pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/salinmas/routes/{collector_id}", get(get_route))
}

async fn get_route(
    State(st): State<AppState>,
    Caller(who): Caller,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult {
    let id = id_of(id, "collector group")?;
    let q = query(q, &["date", "start_lat", "start_lon"])?;
    let s = Arc::clone(&st.s);
    let day = date_param(&q, "date")?.unwrap_or_else(|| wib_day(s.now_ms()));
    let start = match (f64_param(&q, "start_lat")?, f64_param(&q, "start_lon")?) {
        (Some(lat), Some(lon)) => Some((lat, lon)),
        (None, None) => None,
        _ => {
            // Each parameter reads; together they break a rule between two
            // parameters, which no schema states: 422, as every such rule.
            return Err(HttpError::invalid(
                "invalid_query",
                "give both start_lat and start_lon, or neither",
                "isi start_lat dan start_lon keduanya, atau tidak sama sekali",
            ));
        }
    };
    let drive = Arc::clone(&st.drive);
    let w = who.clone();
    let r = blocking(move || s.route(&w, id, day, start, drive.as_ref())).await?;
    record_list(
        &st,
        &who,
        r.stops.iter().map(|s| s.account_id),
        "GET /api/salinmas/routes/{collector_id}",
    )
    .await?;
    ok(StatusCode::OK, &r)
}
