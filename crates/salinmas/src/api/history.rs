//! The history resource: every recorded change of one record.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use satria_http::HttpError;

use super::{ApiResult, AppState, Caller, blocking, ok};

/// The routes of `/api/salinmas/history/{entity}/{id}`.
pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/salinmas/history/{entity}/{id}", get(get_history))
}

/// The entities `salinmas_history` records changes of.
pub const HISTORY_ENTITIES: [&str; 6] = [
    "pickup",
    "account",
    "collector",
    "price",
    "ledger",
    "kelurahan",
];

async fn get_history(
    State(st): State<AppState>,
    Caller(who): Caller,
    p: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult {
    let bad = || {
        HttpError::bad_request(
            "invalid_entity",
            format!("history is kept for {}, by id", HISTORY_ENTITIES.join(", ")),
            format!(
                "riwayat tersedia untuk {}, menurut id",
                HISTORY_ENTITIES.join(", ")
            ),
        )
    };
    let Path((entity, id)) = p.map_err(|_| bad())?;
    if !HISTORY_ENTITIES.contains(&entity.as_str()) || id.is_empty() || id.chars().count() > 80 {
        return Err(bad());
    }
    let h = blocking(move || st.s.history(&who, &entity, &id)).await?;
    ok(StatusCode::OK, &h)
}
