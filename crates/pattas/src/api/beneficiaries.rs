//! Beneficiaries over HTTP: register, list, read, change; each answer that
//! shows personal data is recorded as read first.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use satria_http::{ApiJson, HttpError};

use super::{AnyPattas, AppState, Caller, Officers, id_of, path_error, query};
use crate::model::*;

/// The beneficiary routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/pattas/beneficiaries",
            post(create_beneficiary).get(list_beneficiaries),
        )
        .route(
            "/api/pattas/beneficiaries/{id}",
            get(get_beneficiary).patch(patch_beneficiary),
        )
}

async fn create_beneficiary(
    State(s): State<AppState>,
    Caller(p, _): Caller<AnyPattas>,
    ApiJson(body): ApiJson<NewBeneficiary>,
) -> Result<Response, HttpError> {
    let now = s.clock.now_ms();
    let b = s
        .run(move |pt| pt.create_beneficiary(&p, body, now))
        .await?;
    let at = format!("/api/pattas/beneficiaries/{}", b.id);
    Ok(satria_http::created(Some(at), b))
}

async fn list_beneficiaries(
    State(s): State<AppState>,
    Caller(p, _): Caller<AnyPattas>,
    q: Result<Query<BeneficiaryQuery>, QueryRejection>,
) -> Result<Response, HttpError> {
    let mut q = query(q)?;
    // A blank desa filter filters nothing (as a blank `q` does).
    q.desa = q.desa.filter(|d| !d.trim().is_empty());
    let who = p.clone();
    let list = s.run(move |pt| pt.list_beneficiaries(&who, &q)).await?;
    s.record_beneficiaries(
        &p,
        "list",
        list.iter().map(|b| b.id),
        "GET /api/pattas/beneficiaries",
    )
    .await?;
    Ok(Json(list).into_response())
}

async fn get_beneficiary(
    State(s): State<AppState>,
    Caller(p, _): Caller<AnyPattas>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, HttpError> {
    let Path(raw) = path.map_err(path_error)?;
    let id = id_of(&raw, "beneficiary")?;
    let who = p.clone();
    let b = s.run(move |pt| pt.beneficiary(&who, id)).await?;
    s.record_beneficiary(
        &p,
        "read",
        id,
        &format!("GET /api/pattas/beneficiaries/{id}"),
    )
    .await?;
    Ok(Json(b).into_response())
}

async fn patch_beneficiary(
    State(s): State<AppState>,
    Caller(p, _): Caller<Officers>,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<BeneficiaryPatch>,
) -> Result<Response, HttpError> {
    let Path(raw) = path.map_err(path_error)?;
    let id = id_of(&raw, "beneficiary")?;
    let now = s.clock.now_ms();
    let who = p.clone();
    let b = s
        .run(move |pt| pt.update_beneficiary(&who, id, body, now))
        .await?;
    s.record_beneficiary(
        &p,
        "read",
        id,
        &format!("PATCH /api/pattas/beneficiaries/{id}"),
    )
    .await?;
    Ok(Json(b).into_response())
}
