//! Cases over HTTP: report, list, the overdue list, one case with the live
//! state of its transports, and the transitions (verify, reject, assist, close).

use std::time::Duration;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use satria_auth::Principal;
use satria_calendar::Timestamp;
use satria_http::{ApiJson, HttpError};
use serde_json::json;

use super::{AnyPattas, AppState, Caller, Officers, OptionalJson, case_id, query};
use crate::model::*;

/// The case routes: the case itself and its transitions.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/pattas/cases", post(report_case).get(list_cases))
        .route("/api/pattas/cases/overdue", get(overdue_cases))
        .route("/api/pattas/cases/{id}", get(get_case))
        .route("/api/pattas/cases/{id}/verify", post(verify_case))
        .route("/api/pattas/cases/{id}/reject", post(reject_case))
        .route("/api/pattas/cases/{id}/assist", post(assist_case))
        .route("/api/pattas/cases/{id}/close", post(close_case))
}

/// How long a case view waits for the desk's live status of one transport.
const STATUS_TIMEOUT: Duration = Duration::from_secs(2);

async fn report_case(
    State(s): State<AppState>,
    Caller(p, _): Caller<AnyPattas>,
    ApiJson(body): ApiJson<NewCase>,
) -> Result<Response, HttpError> {
    let now = s.clock.now_ms();
    let by_nik = body.nik.is_some();
    let who = p.clone();
    let c = s.run(move |pt| pt.report_case(&who, body, now)).await?;
    if by_nik {
        // The answer names a beneficiary the caller knew only by NIK.
        s.record_beneficiary(
            &p,
            "read",
            c.beneficiary_id,
            "POST /api/pattas/cases (reported by NIK)",
        )
        .await?;
    }
    let at = format!("/api/pattas/cases/{}", c.id);
    Ok(satria_http::created(Some(at), c))
}

/// Records a `list` read of each distinct beneficiary a case list shows.
async fn record_case_list(
    s: &AppState,
    p: &Principal,
    cases: &[Case],
    purpose: &str,
) -> Result<(), HttpError> {
    let mut seen = std::collections::BTreeSet::new();
    let ids: Vec<i64> = cases
        .iter()
        .map(|c| c.beneficiary_id)
        .filter(|id| seen.insert(*id))
        .collect();
    s.record_beneficiaries(p, "list", ids, purpose).await
}

async fn list_cases(
    State(s): State<AppState>,
    Caller(p, _): Caller<AnyPattas>,
    q: Result<Query<CaseQuery>, QueryRejection>,
) -> Result<Response, HttpError> {
    let mut q = query(q)?;
    // A blank desa filter filters nothing.
    q.desa = q.desa.filter(|d| !d.trim().is_empty());
    let now = s.clock.now_ms();
    let who = p.clone();
    let list = s.run(move |pt| pt.list_cases(&who, &q, now)).await?;
    record_case_list(&s, &p, &list, "GET /api/pattas/cases").await?;
    Ok(Json(list).into_response())
}

async fn overdue_cases(
    State(s): State<AppState>,
    Caller(p, _): Caller<AnyPattas>,
) -> Result<Response, HttpError> {
    let now = s.clock.now_ms();
    let who = p.clone();
    let list = s.run(move |pt| pt.overdue_cases(&who, now)).await?;
    record_case_list(&s, &p, &list, "GET /api/pattas/cases/overdue").await?;
    Ok(Json(json!({"as_of": Timestamp(now), "cases": list})).into_response())
}

async fn get_case(
    State(s): State<AppState>,
    Caller(p, _): Caller<AnyPattas>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, HttpError> {
    let id = case_id(path)?;
    let now = s.clock.now_ms();
    let who = p.clone();
    let mut detail = s.run(move |pt| pt.case(&who, id, now)).await?;
    s.record_beneficiary(
        &p,
        "read",
        detail.beneficiary.id,
        &format!("GET /api/pattas/cases/{id}"),
    )
    .await?;
    fill_live_states(&s, &mut detail.transports).await;
    Ok(Json(detail).into_response())
}

/// Asks the desk, concurrently, for the live state of each transport not
/// cancelled here; `unknown` where it does not answer in time.
async fn fill_live_states(s: &AppState, transports: &mut [Transport]) {
    let asks: Vec<_> = transports
        .iter()
        .map(|t| {
            t.cancelled_at.is_none().then(|| {
                let fut = s.desk.status(&t.transport_id);
                tokio::spawn(async move { tokio::time::timeout(STATUS_TIMEOUT, fut).await })
            })
        })
        .collect();
    for (t, ask) in transports.iter_mut().zip(asks) {
        let Some(ask) = ask else { continue };
        match ask.await {
            Ok(Ok(Some(st))) => {
                t.state = st.state.clone();
                t.live = Some(st);
            }
            _ => t.state = "unknown".into(),
        }
    }
}

async fn verify_case(
    State(s): State<AppState>,
    Caller(p, _): Caller<Officers>,
    path: Result<Path<String>, PathRejection>,
    OptionalJson(body): OptionalJson<NoteBody>,
) -> Result<Response, HttpError> {
    let id = case_id(path)?;
    let now = s.clock.now_ms();
    let c = s
        .run(move |pt| pt.verify_case(&p, id, body.note, now))
        .await?;
    Ok(Json(c).into_response())
}

async fn reject_case(
    State(s): State<AppState>,
    Caller(p, _): Caller<Officers>,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<RejectBody>,
) -> Result<Response, HttpError> {
    let id = case_id(path)?;
    let now = s.clock.now_ms();
    let c = s
        .run(move |pt| pt.reject_case(&p, id, &body.reason, now))
        .await?;
    Ok(Json(c).into_response())
}

async fn assist_case(
    State(s): State<AppState>,
    Caller(p, _): Caller<Officers>,
    path: Result<Path<String>, PathRejection>,
    OptionalJson(body): OptionalJson<NoteBody>,
) -> Result<Response, HttpError> {
    let id = case_id(path)?;
    let now = s.clock.now_ms();
    let c = s
        .run(move |pt| pt.start_assistance(&p, id, body.note, now))
        .await?;
    Ok(Json(c).into_response())
}

async fn close_case(
    State(s): State<AppState>,
    Caller(p, _): Caller<Officers>,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<CloseBody>,
) -> Result<Response, HttpError> {
    let id = case_id(path)?;
    let now = s.clock.now_ms();
    // A case is not tuntas while an ambulance may still come for its patient:
    // every transport must have ended or been cancelled (a desk that does not
    // answer counts as not ended).
    let who = p.clone();
    let mut detail = s.run(move |pt| pt.case(&who, id, now)).await?;
    fill_live_states(&s, &mut detail.transports).await;
    let open: Vec<String> = detail
        .transports
        .iter()
        .filter(|t| t.cancelled_at.is_none() && t.state != "completed" && t.state != "cancelled")
        .map(|t| format!("{} ({})", t.transport_id, t.state))
        .collect();
    if !open.is_empty() {
        let list = open.join(", ");
        return Err(HttpError::new(
            StatusCode::CONFLICT,
            "transports_pending",
            format!(
                "the case still has transports that have not ended: {list}; cancel them or wait until they are completed"
            ),
            format!(
                "kasus masih punya transportasi yang belum selesai: {list}; batalkan atau tunggu sampai selesai"
            ),
        ));
    }
    let c = s
        .run(move |pt| pt.close_case(&p, id, &body.summary, now))
        .await?;
    Ok(Json(c).into_response())
}
