//! The reports resource: the weight report over a range of days.

use std::collections::HashMap;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use satria_http::HttpError;

use super::params::{date_param, query};
use super::{ApiResult, AppState, Caller, blocking, ok};

/// The routes of `/api/salinmas/reports/weights`.
pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/salinmas/reports/weights", get(weight_report))
}

async fn weight_report(
    State(st): State<AppState>,
    Caller(who): Caller,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult {
    let q = query(q, &["from", "to"])?;
    let (Some(from), Some(to)) = (date_param(&q, "from")?, date_param(&q, "to")?) else {
        return Err(HttpError::bad_request(
            "invalid_query",
            "from and to (YYYY-MM-DD) are required",
            "from dan to (YYYY-MM-DD) wajib diisi",
        ));
    };
    let r = blocking(move || st.s.weight_report(&who, from, to)).await?;
    ok(StatusCode::OK, &r)
}
