//! The journal's integrity on the network: `GET /api/integrity` (any signed-in
//! role) tells whether the engine runs on a chain break an operator accepted
//! (`--accept-broken-chain`), with the banner every console shows until an admin
//! acknowledges it with `POST /api/integrity/acknowledge` (admin only), and the
//! newest signed checkpoint.
//!
//! Both read or write the journal file's integrity tables through their own
//! short-lived connection, never the chain itself, so the engine's single
//! writer is not disturbed.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use satria_auth::Role;
use satria_calendar::Timestamp;
use satria_store::{AcceptedBreak, IntegrityStatus};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{Caller, HttpError};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/integrity", get(status))
        .route("/api/integrity/acknowledge", post(acknowledge))
}

/// `YYYY-MM-DD HH:MM WIB` of epoch milliseconds.
fn wib(ms: i64) -> String {
    let day = satria_calendar::wib_day(ms);
    let minutes = (ms - satria_calendar::wib_midnight_ms(day)) / 60_000;
    format!(
        "{} {:02}:{:02} WIB",
        satria_calendar::format_ymd(day),
        minutes / 60,
        minutes % 60
    )
}

fn accepted(a: &AcceptedBreak) -> Value {
    json!({
        "row": a.row,
        "problem": a.problem,
        "head_row": a.head_row,
        "accepted_at": Timestamp(a.accepted_at_ms),
        "accepted_by": a.accepted_by,
        "acknowledged": a.acknowledged_at_ms.is_some(),
        "acknowledged_at": a.acknowledged_at_ms.map(Timestamp),
        "acknowledged_by": a.acknowledged_by,
    })
}

/// The answer of both routes: the status, the banner (or null), the breaks.
fn body(s: &IntegrityStatus) -> Value {
    let open: Vec<&AcceptedBreak> = s
        .accepted
        .iter()
        .filter(|a| a.acknowledged_at_ms.is_none())
        .collect();
    let banner = (!open.is_empty()).then(|| {
        let rows: Vec<String> = open.iter().map(|a| a.row.to_string()).collect();
        let rows = rows.join(", ");
        let at = open
            .iter()
            .map(|a| wib(a.accepted_at_ms))
            .collect::<Vec<_>>()
            .join(", ");
        json!({
            "message_id": format!("Integritas jurnal rusak di baris {rows}, diterima operator pada {at}. Admin harus memeriksa dan mengonfirmasi."),
            "message": format!("Journal integrity broken at row {rows}, accepted by the operator at {at}. An admin must review and acknowledge it."),
        })
    });
    json!({
        "status": if open.is_empty() { "ok" } else { "accepted_break" },
        "banner": banner,
        "accepted_breaks": s.accepted.iter().map(accepted).collect::<Vec<_>>(),
        "verified_row": s.verified_row,
        "last_checkpoint": s.last_checkpoint.as_ref().map(|c| json!({
            "row": c.row, "hash": c.hash, "at": Timestamp(c.at_ms), "public_key": c.public_key,
        })),
    })
}

async fn read(state: &AppState) -> Result<IntegrityStatus, HttpError> {
    let engine = Arc::clone(&state.engine);
    tokio::task::spawn_blocking(move || engine.integrity_status())
        .await
        .map_err(|e| HttpError::unavailable(format!("integrity status: {e}")))?
        .map_err(|e| HttpError::unavailable(format!("the journal's integrity cannot be read: {e}")))
}

async fn status(
    State(state): State<Arc<AppState>>,
    _caller: Caller,
) -> Result<Response, HttpError> {
    Ok(axum::Json(body(&read(&state).await?)).into_response())
}

async fn acknowledge(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Response, HttpError> {
    caller.require(&[Role::Admin])?;
    let engine = Arc::clone(&state.engine);
    let by = caller.0.username.clone();
    let n = tokio::task::spawn_blocking(move || engine.acknowledge_breaks(&by, crate::now_ms()))
        .await
        .map_err(|e| HttpError::unavailable(format!("acknowledge: {e}")))?
        .map_err(|e| {
            HttpError::unavailable(format!("the acknowledgement could not be written: {e}"))
        })?;
    tracing::warn!(by = %caller.0.username, acknowledged = n, "journal integrity break acknowledged");
    let mut v = body(&read(&state).await?);
    v["acknowledged"] = json!(n);
    Ok(axum::Json(v).into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn wib_is_seven_hours_ahead_of_utc() {
        // 2026-12-03 09:20 UTC
        assert_eq!(super::wib(1_796_289_600_000), "2026-12-03 16:20 WIB");
    }
}
