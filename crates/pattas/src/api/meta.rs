//! Form data over HTTP: labelled options, the desa list and the deadlines.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use satria_http::HttpError;
use serde_json::{Value, json};

use super::{AnyPattas, AppState, Caller};
use crate::model::*;

/// The form data route.
pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/pattas/meta", get(meta))
}

/// What the forms need: needs, statuses and BPJS options with labels in both
/// languages, the desa list and the deadlines. No personal data.
async fn meta(
    State(s): State<AppState>,
    Caller(_p, _): Caller<AnyPattas>,
) -> Result<Response, HttpError> {
    let labels = |v: &[(&str, &str, &str)]| -> Vec<Value> {
        v.iter()
            .map(|(value, en, id)| json!({"value": value, "label": en, "label_id": id}))
            .collect()
    };
    let desa: Vec<Value> = s
        .pattas
        .desa_places()
        .into_iter()
        .map(|(d, k, lat, lon)| json!({"desa": d, "kecamatan": k, "lat": lat, "lon": lon}))
        .collect();
    let config = s.pattas.config();
    Ok(Json(json!({
        "needs": labels(&NEED_LABELS),
        "statuses": labels(&STATUS_LABELS),
        "actions": labels(&ACTION_LABELS),
        "bpjs": labels(&[
            ("pbi", "PBI (premium paid by the state)", "PBI (iuran dibayar pemerintah)"),
            ("mandiri", "Self-paid", "Mandiri"),
            ("none", "None", "Tidak punya"),
        ]),
        "sex": labels(&[("L", "Male", "Laki-laki"), ("P", "Female", "Perempuan")]),
        "desa": desa,
        "verify_within_ms": config.verify_within_ms,
        "first_assistance_within_ms": config.first_assistance_within_ms,
        "transport_ahead_max_ms": limits::TRANSPORT_AHEAD_MS,
    }))
    .into_response())
}
