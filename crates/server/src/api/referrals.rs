//! Referrals (rujukan) to hospitals: send, list, read, answer (`/api/referrals...`).

use super::incidents::{record_list, visible};
use super::{ApiResult, numeric_id, ok, submit};
use crate::AppState;
use crate::error::{ApiJson, Caller, HttpError, PathRecord};
use crate::{subject, view};
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use satria_auth::Role;
use satria_dispatch::{
    Command, Event, HospitalId, IncidentId, PatientData, ReferralForm, ReferralId, UnitId,
};
use satria_http::{ApiQuery, Page};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/referrals", get(list_referrals).post(create_referral))
        .route("/api/referrals/{id}", get(get_referral))
        .route("/api/referrals/{id}/answer", post(answer_referral))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewReferral {
    #[serde(deserialize_with = "satria_http::json_int::int")]
    incident: u64,
    to: String,
    #[serde(default)]
    unit: Option<String>,
    form: ReferralForm,
    patient: PatientData,
}

async fn create_referral(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(b): ApiJson<NewReferral>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin])?;
    let events = submit(
        &state,
        PathRecord::None,
        Command::SendReferral {
            incident: IncidentId(b.incident),
            to: HospitalId(b.to),
            unit: b.unit.map(UnitId),
            form: b.form,
            patient: b.patient,
        },
    )
    .await?;
    let r = events
        .into_iter()
        .find_map(|e| match e {
            Event::ReferralSent { referral } => Some(referral),
            _ => None,
        })
        .ok_or_else(|| HttpError::unavailable("the engine sent no referral"))?;
    let location = format!("/api/referrals/{}", r.id.0);
    Ok(satria_http::created(Some(location), json!(r)))
}

/// The largest (and default) `limit` of `GET /api/referrals`.
pub const MAX_REFERRAL_LIST: usize = 1000;

/// `limit` and `offset` of a list.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    offset: Option<i64>,
}

async fn list_referrals(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin, Role::Hospital, Role::Crew])?;
    let page = Page::new(q.limit, q.offset, MAX_REFERRAL_LIST, MAX_REFERRAL_LIST)?;
    let snap = state.engine.snapshot();
    let mut list: Vec<_> = snap
        .referrals()
        .filter(|r| view::may_see_referral(&caller.0, r))
        .collect();
    list.sort_by_key(|r| std::cmp::Reverse(r.id));
    let list = page.of(list);
    record_list(
        &state,
        &caller,
        list.iter().map(|r| subject::referral(r.id)),
        "GET /api/referrals",
    )
    .await?;
    ok(list)
}

fn referral_for<'a>(
    caller: &Caller,
    snap: &'a satria_dispatch::Dispatch,
    id: u64,
) -> Result<&'a satria_dispatch::Referral, HttpError> {
    visible(
        caller,
        snap.referral(ReferralId(id)),
        view::may_see_referral,
        "referral",
    )
}

async fn get_referral(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    caller.require(&[Role::Dispatcher, Role::Admin, Role::Hospital, Role::Crew])?;
    let id = numeric_id(&id, "referral")?;
    let snap = state.engine.snapshot();
    let r = referral_for(&caller, &snap, id)?;
    state
        .audit
        .record(
            &caller.0,
            "read",
            subject::referral(ReferralId(id)),
            "GET /api/referrals/{id}",
        )
        .await?;
    ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    accept: bool,
    #[serde(default)]
    officer: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

async fn answer_referral(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AnswerBody>,
) -> ApiResult {
    caller.require(&[Role::Hospital, Role::Admin])?;
    let id = numeric_id(&id, "referral")?;
    {
        let snap = state.engine.snapshot();
        let r = referral_for(&caller, &snap, id)?;
        if !view::may_act_for_hospital(&caller.0, &r.to.0) {
            return Err(HttpError::forbidden());
        }
    }
    let cmd = if b.accept {
        let officer = b.officer.unwrap_or_else(|| caller.0.username.clone());
        Command::AcceptReferral {
            referral: ReferralId(id),
            officer,
        }
    } else {
        let reason = b.reason.unwrap_or_default();
        Command::DeclineReferral {
            referral: ReferralId(id),
            reason,
        }
    };
    submit(&state, PathRecord::Referral(ReferralId(id)), cmd).await?;
    let snap = state.engine.snapshot();
    ok(referral_for(&caller, &snap, id)?)
}
