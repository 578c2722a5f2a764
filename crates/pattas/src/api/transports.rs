//! Free ambulance transports over HTTP: booking at the desk (recorded as an
//! export of personal data first) and cancelling.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use satria_http::{ApiJson, HttpError};

use super::{AppState, Caller, Officers, case_id, created, id_of, path_error};
use crate::model::*;
use crate::store::already_cancelled;

/// The transport routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/pattas/cases/{id}/transports", post(book_transport))
        .route(
            "/api/pattas/cases/{id}/transports/{tid}/cancel",
            post(cancel_transport),
        )
}

async fn book_transport(
    State(s): State<AppState>,
    Caller(p, _): Caller<Officers>,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<NewTransport>,
) -> Result<Response, HttpError> {
    let id = case_id(path)?;
    let now = s.clock.now_ms();
    let who = p.clone();
    let (req, beneficiary_id) = s
        .run(move |pt| pt.transport_request(&who, id, body, now))
        .await?;
    // The desk is about to hold the patient's name, phone and address: no
    // handing over that cannot be recorded first.
    s.record_beneficiary(
        &p,
        "export",
        beneficiary_id,
        &format!("POST /api/pattas/cases/{id}/transports (handed to the transport desk)"),
    )
    .await?;
    let ticket = s.desk.book(req.clone()).await.map_err(|e| e.to_http())?;
    let tid_ok = !ticket.transport_id.trim().is_empty()
        && ticket.transport_id.chars().count() <= 128
        && !ticket.transport_id.chars().any(char::is_control);
    if !tid_ok {
        return Err(HttpError::new(
            StatusCode::BAD_GATEWAY,
            "transport_desk_error",
            "the transport desk answered with an unusable id; nothing was recorded",
            "meja transportasi menjawab dengan id yang tidak dapat dipakai; tidak ada yang dicatat",
        ));
    }
    let now = s.clock.now_ms();
    let (who, req2, ticket2) = (p.clone(), req.clone(), ticket.clone());
    match s
        .run(move |pt| pt.record_transport(&who, &req2, &ticket2, now))
        .await
    {
        Ok(t) => Ok(created(t)),
        // An id the desk already gave another trip: cancelling it would
        // cancel that trip, so leave the desk alone.
        Err(e) if e.code == "duplicate_transport" => Err(e),
        Err(e) => {
            // The case changed meanwhile: undo the booking, best effort.
            let _ = s
                .desk
                .cancel(&ticket.transport_id, "Pattas could not record the booking")
                .await;
            Err(e)
        }
    }
}

async fn cancel_transport(
    State(s): State<AppState>,
    Caller(p, _): Caller<Officers>,
    path: Result<Path<(String, String)>, PathRejection>,
    ApiJson(body): ApiJson<CancelBody>,
) -> Result<Response, HttpError> {
    let Path((raw, tid)) = path.map_err(path_error)?;
    let id = id_of(&raw, "case")?;
    let reason = crate::valid::text("reason", &body.reason, limits::REASON)?;
    let (who, tid2) = (p.clone(), tid.clone());
    let t = s.run(move |pt| pt.transport(&who, id, &tid2)).await?;
    if t.cancelled_at.is_some() {
        return Err(already_cancelled().to_http());
    }
    s.desk
        .cancel(&tid, &reason)
        .await
        .map_err(|e| e.to_http())?;
    let now = s.clock.now_ms();
    let t = s
        .run(move |pt| pt.mark_transport_cancelled(&p, id, &tid, &reason, now))
        .await?;
    Ok(Json(t).into_response())
}
