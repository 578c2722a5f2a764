//! The JSON schemas the rows of [`OPERATIONS`](super::OPERATIONS) share: each
//! states the rule the handler or the engine checks, from the constants it
//! checks with ([`v`]).

use satria_dispatch::validate as v;
use serde_json::{Value, json};

pub(super) fn s(t: &str) -> Value {
    json!({"type": t})
}

pub(super) fn obj(required: &[&str], props: Value) -> Value {
    json!({"type": "object", "additionalProperties": false, "required": required, "properties": props})
}

/// A string of at most `max` characters (the engine's limit, [`v`]).
pub(super) fn text(max: usize) -> Value {
    json!({"type": "string", "maxLength": max})
}

/// A string of 1 to `max` characters, not blank.
pub(super) fn required(max: usize) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max, "pattern": "\\S"})
}

/// An id: 1 to [`v::MAX_ID`] characters without control characters.
pub(super) fn id() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": v::MAX_ID, "pattern": "^[^\\x00-\\x1f\\x7f-\\x9f]+$"})
}

/// `patients` may be 0 only when the category is information: a body that
/// does not say category information needs at least [`v::MIN_PATIENTS`].
pub(super) fn with_patients_rule(mut body: Value) -> Value {
    body["if"] =
        json!({"required": ["category"], "properties": {"category": {"const": "information"}}});
    body["then"] = json!({});
    body["else"] = json!({"properties": {"patients": {"minimum": v::MIN_PATIENTS}}});
    body
}

pub(super) fn patients() -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": v::MAX_PATIENTS,
        "description": format!("at least {} unless the category is information", v::MIN_PATIENTS)})
}

/// A device (phone) time: RFC 3339, not later than the server's clock plus the
/// allowed skew, not before what it answers.
pub(super) fn device_at() -> Value {
    json!({"type": "string", "format": "date-time", "description": "phone time, RFC 3339 with its offset (integer ms since the epoch is still read from older crew apps); refused when later than the server's clock plus the allowed skew (60 s by default) or earlier than the assignment it answers"})
}

fn range<T: serde::Serialize>(r: (T, T)) -> Value {
    json!({"type": "number", "minimum": r.0, "maximum": r.1})
}

pub(super) fn referral_form() -> Value {
    use satria_dispatch::referral as r;
    let int = |lo: u64, hi: u64| json!({"type": "integer", "minimum": lo, "maximum": hi});
    json!({"type": "object", "required": ["from", "referral_type", "reason", "diagnosis_icd10", "officer", "condition", "findings"],
    "properties": {
        "from": required(v::MAX_NAME),
        "referral_type": {"type": "string", "enum": ["emergency", "non_emergency", "partial"]},
        "reason": required(v::MAX_REASON),
        "diagnosis_icd10": {"type": "string", "pattern": "^[A-Z][0-9]{2}(\\.[0-9A-Za-z]{1,4})?$", "description": "an ICD-10 code, e.g. S06.0"},
        "officer": required(v::MAX_NAME),
        "findings": text(v::MAX_TEXT),
        "condition": {"type": "object", "required": ["history_exam", "consciousness", "allergies"], "properties": {
            "history_exam": text(v::MAX_TEXT),
            "consciousness": {"type": "string", "enum": ["alert", "voice", "pain", "unresponsive"]},
            "gcs": int(r::GCS.0.into(), r::GCS.1.into()),
            "bp_systolic_mmhg": int(r::BP_SYSTOLIC_MMHG.0.into(), r::BP_SYSTOLIC_MMHG.1.into()),
            "bp_diastolic_mmhg": int(r::BP_DIASTOLIC_MMHG.0.into(), r::BP_DIASTOLIC_MMHG.1.into()),
            "pulse_per_min": int(r::PULSE_PER_MIN.0.into(), r::PULSE_PER_MIN.1.into()),
            "temperature_c": range(r::TEMPERATURE_C),
            "breathing_per_min": int(r::BREATHING_PER_MIN.0.into(), r::BREATHING_PER_MIN.1.into()),
            "pain_score": int(r::PAIN_SCORE.0.into(), r::PAIN_SCORE.1.into()),
            "allergies": text(v::MAX_TEXT),
        }},
    }})
}

/// The patient of a referral (`PatientData::validate`): identified (a NIK of
/// 16 digits, a name and a real date of birth) or not yet identified ("identitas
/// belum diketahui": an empty NIK; name and date of birth may be empty).
pub(super) fn patient() -> Value {
    let date =
        json!({"type": "string", "format": "date", "pattern": "^(19[0-9]{2}|20[0-9]{2}|2100)-"});
    json!({"type": "object", "required": ["nik", "name", "sex", "date_of_birth", "address", "contact"],
    "properties": {
        "nik": {"type": "string", "maxLength": 16},
        "name": text(v::MAX_NAME),
        "sex": {"type": "string", "enum": ["male", "female"]},
        "date_of_birth": {"type": "string", "maxLength": 10},
        "address": text(v::MAX_ADDRESS_PART),
        "contact": text(v::MAX_PHONE),
    },
    "oneOf": [
        {"title": "identified", "properties": {
            "nik": {"type": "string", "pattern": "^[0-9]{16}$"},
            "name": required(v::MAX_NAME),
            "date_of_birth": date,
        }},
        {"title": "not yet identified", "properties": {
            "nik": {"const": ""},
            "date_of_birth": {"anyOf": [{"const": ""}, date]},
        }},
    ]})
}

pub(super) fn triage() -> Value {
    json!({"type": "string", "enum": ["merah", "kuning", "hijau", "hitam"]})
}

pub(super) fn category() -> Value {
    json!({"type": "string", "enum": ["accident", "medical", "maternal", "inter_facility_transfer", "information"]})
}

pub(super) fn address() -> Value {
    let part = text(v::MAX_ADDRESS_PART);
    let mut parts = obj(
        &[],
        json!({"desa": part, "rt_rw": part, "landmark": part, "text": part}),
    );
    // At least one part not blank.
    parts["anyOf"] = ["desa", "rt_rw", "landmark", "text"]
        .iter()
        .map(|p| json!({"required": [p], "properties": {*p: {"pattern": "\\S"}}}))
        .collect();
    json!({"oneOf": [required(v::MAX_ADDRESS_PART), parts],
        "description": "required: the address as words, or parts of which at least one is not blank"})
}

/// Marks a latitude or longitude that must lie in the engine's service area:
/// [`document_for`](super::document_for) replaces its bounds with the running
/// server's.
pub(super) const SERVICE_AREA: &str = "x-service-area";

pub(super) fn lat() -> Value {
    json!({"type": "number", "minimum": -90, "maximum": 90, SERVICE_AREA: "lat",
        "description": "inside the region's service area (its box plus a margin, 10 km by default)"})
}

pub(super) fn lon() -> Value {
    json!({"type": "number", "minimum": -180, "maximum": 180, SERVICE_AREA: "lon",
        "description": "inside the region's service area (its box plus a margin, 10 km by default)"})
}

pub(super) fn unit_status() -> Value {
    json!({"type": "string", "enum": ["available", "notified", "en_route", "on_scene", "at_patient", "transporting", "at_destination", "transfer_of_care", "out_of_service"]})
}

/// `status` of `GET /api/incidents`.
pub(super) fn incident_status_filter() -> Value {
    json!({"type": "string", "enum": crate::api::INCIDENT_STATUS_FILTERS, "default": "open"})
}

/// `limit` of `GET /api/incidents`.
pub(super) fn incident_limit() -> Value {
    satria_http::Page::limit_schema(
        crate::api::INCIDENT_LIST_DEFAULT,
        crate::api::MAX_INCIDENT_LIST,
    )
}

/// `limit` of `GET /api/referrals`.
pub(super) fn referral_limit() -> Value {
    satria_http::Page::limit_schema(crate::api::MAX_REFERRAL_LIST, crate::api::MAX_REFERRAL_LIST)
}

/// `to` of the route: the incident (default) or the hospital of its referral.
pub(super) fn route_to() -> Value {
    json!({"type": "string", "enum": ["incident", "hospital"], "default": "incident"})
}

/// An instant: RFC 3339 with its offset (`Z` needs no escaping in a query).
pub(super) fn instant() -> Value {
    json!({"type": "string", "format": "date-time", "example": "2026-03-02T01:15:00Z"})
}
