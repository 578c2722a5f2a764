//! The OpenAPI 3 document served at `/api/openapi.json`, built from
//! [`OPERATIONS`], the table of every route of [`crate::api`]. A test walks the
//! table against the live router so the two cannot drift apart.

use satria_dispatch::validate as v;
use serde_json::{Value, json};

pub use satria_http::Operation;

/// Every documented operation: the dispatch API's, then the modules'.
pub fn all_operations() -> impl Iterator<Item = &'static Operation> {
    OPERATIONS
        .iter()
        .chain(satria_pattas::OPERATIONS)
        .chain(satria_salinmas::OPERATIONS)
}

fn s(t: &str) -> Value {
    json!({"type": t})
}

fn obj(required: &[&str], props: Value) -> Value {
    json!({"type": "object", "additionalProperties": false, "required": required, "properties": props})
}

/// A string of at most `max` characters (the engine's limit, [`v`]).
fn text(max: usize) -> Value {
    json!({"type": "string", "maxLength": max})
}

/// A string of 1 to `max` characters, not blank.
fn required(max: usize) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max, "pattern": "\\S"})
}

/// An id: 1 to [`v::MAX_ID`] characters without control characters.
fn id() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": v::MAX_ID, "pattern": "^[^\\x00-\\x1f\\x7f-\\x9f]+$"})
}

/// `patients` may be 0 only when the category is information: a body that
/// does not say category information needs at least [`v::MIN_PATIENTS`].
fn with_patients_rule(mut body: Value) -> Value {
    body["if"] =
        json!({"required": ["category"], "properties": {"category": {"const": "information"}}});
    body["then"] = json!({});
    body["else"] = json!({"properties": {"patients": {"minimum": v::MIN_PATIENTS}}});
    body
}

fn patients() -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": v::MAX_PATIENTS,
        "description": format!("at least {} unless the category is information", v::MIN_PATIENTS)})
}

/// A device (phone) time in ms since the epoch: not negative, not later than the
/// server's clock plus the allowed skew, not before what it answers.
fn device_at() -> Value {
    json!({"type": "integer", "minimum": 0, "description": "phone time, ms since the epoch; refused when later than the server's clock plus the allowed skew (60 s by default) or earlier than the assignment it answers"})
}

fn range<T: serde::Serialize>(r: (T, T)) -> Value {
    json!({"type": "number", "minimum": r.0, "maximum": r.1})
}

fn referral_form() -> Value {
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
fn patient() -> Value {
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

fn triage() -> Value {
    json!({"type": "string", "enum": ["merah", "kuning", "hijau", "hitam"]})
}

fn category() -> Value {
    json!({"type": "string", "enum": ["accident", "medical", "maternal", "inter_facility_transfer", "information"]})
}

fn address() -> Value {
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
/// [`document_for`] replaces its bounds with the running server's.
const SERVICE_AREA: &str = "x-service-area";

fn lat() -> Value {
    json!({"type": "number", "minimum": -90, "maximum": 90, SERVICE_AREA: "lat",
        "description": "inside the region's service area (its box plus a margin, 10 km by default)"})
}

fn lon() -> Value {
    json!({"type": "number", "minimum": -180, "maximum": 180, SERVICE_AREA: "lon",
        "description": "inside the region's service area (its box plus a margin, 10 km by default)"})
}

/// The document as the running server answers: every dispatch latitude and
/// longitude bounded by `area` grown by `margin_m` (what the engine accepts;
/// without a service area, anywhere on Earth).
pub fn document_for(area: Option<satria_dispatch::ServiceArea>, margin_m: f64) -> Value {
    let mut doc = document();
    if let Some(area) = area {
        bound_positions(&mut doc, &area.grown(margin_m));
    }
    doc
}

fn bound_positions(v: &mut Value, g: &satria_dispatch::ServiceArea) {
    match v {
        Value::Object(m) => {
            let bounds = match m.get(SERVICE_AREA).and_then(Value::as_str) {
                Some("lat") => Some((g.min_lat, g.max_lat)),
                Some("lon") => Some((g.min_lon, g.max_lon)),
                _ => None,
            };
            if let Some((lo, hi)) = bounds {
                m.insert("minimum".into(), json!(lo));
                m.insert("maximum".into(), json!(hi));
            }
            m.values_mut().for_each(|x| bound_positions(x, g));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| bound_positions(x, g)),
        _ => {}
    }
}

fn unit_status() -> Value {
    json!({"type": "string", "enum": ["available", "notified", "en_route", "on_scene", "at_patient", "transporting", "at_destination", "transfer_of_care", "out_of_service"]})
}

/// `status` of `GET /api/incidents`.
fn incident_status_filter() -> Value {
    json!({"type": "string", "enum": crate::api::INCIDENT_STATUS_FILTERS, "default": "open"})
}

/// `limit` of `GET /api/incidents`.
fn incident_limit() -> Value {
    satria_http::Page::limit_schema(
        crate::api::INCIDENT_LIST_DEFAULT,
        crate::api::MAX_INCIDENT_LIST,
    )
}

/// `limit` of `GET /api/referrals`.
fn referral_limit() -> Value {
    satria_http::Page::limit_schema(crate::api::MAX_REFERRAL_LIST, crate::api::MAX_REFERRAL_LIST)
}

/// `to` of the route: the incident (default) or the hospital of its referral.
fn route_to() -> Value {
    json!({"type": "string", "enum": ["incident", "hospital"], "default": "incident"})
}

/// Milliseconds since the epoch (any 64-bit integer).
fn epoch_ms() -> Value {
    json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX})
}

const DISPATCH: &[&str] = &["dispatcher", "admin"];
const DISPATCH_CREW: &[&str] = &["dispatcher", "admin", "crew"];
const ALL_DISPATCH: &[&str] = &["dispatcher", "admin", "crew", "hospital"];
const HOSPITAL: &[&str] = &["hospital", "admin"];

/// Every route of the API.
pub const OPERATIONS: &[Operation] = &[
    Operation {
        method: "post",
        path: "/api/auth/login",
        summary: "Log in; returns an opaque bearer token",
        roles: &[],
        query: &[],
        body: Some(|| {
            obj(
                &["username", "password"],
                json!({"username": s("string"), "password": s("string")}),
            )
        }),
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "post",
        path: "/api/auth/logout",
        summary: "Revoke the caller's token",
        roles: &[],
        query: &[],
        body: None,
        status: 204,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/me",
        summary: "The caller's account and role",
        roles: &["any"],
        query: &[],
        body: None,
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/incidents",
        summary: "Incidents the caller may see, newest first",
        roles: DISPATCH_CREW,
        query: &[
            ("status", incident_status_filter, false),
            ("limit", incident_limit, false),
            ("offset", satria_http::Page::offset_schema, false),
        ],
        body: None,
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "post",
        path: "/api/incidents",
        summary: "Take a call: create an incident",
        roles: DISPATCH,
        query: &[],
        body: Some(|| {
            with_patients_rule(obj(
                &[
                    "caller_name",
                    "caller_phone",
                    "lat",
                    "lon",
                    "address",
                    "triage",
                    "category",
                ],
                json!({
            "caller_name": required(v::MAX_NAME), "caller_phone": required(v::MAX_PHONE), "lat": lat(), "lon": lon(), "address": address(),
            "triage": triage(), "category": category(), "patients": patients(), "notes": text(v::MAX_NOTES)}),
            ))
        }),
        status: 201,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/incidents/{id}",
        summary: "One incident",
        roles: DISPATCH_CREW,
        query: &[],
        body: None,
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "patch",
        path: "/api/incidents/{id}",
        summary: "Update triage, category, patients, notes or address",
        roles: DISPATCH,
        query: &[],
        body: Some(|| {
            with_patients_rule(obj(
                &[],
                json!({"triage": triage(), "category": category(), "patients": patients(), "notes": text(v::MAX_NOTES), "address": address()}),
            ))
        }),
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/incidents/{id}/merge",
        summary: "Merge this incident into another",
        roles: DISPATCH,
        query: &[],
        body: Some(|| obj(&["into"], json!({"into": satria_http::path_id_schema()}))),
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/incidents/{id}/cancel",
        summary: "Cancel an incident",
        roles: DISPATCH,
        query: &[],
        body: Some(|| obj(&["reason"], json!({"reason": required(v::MAX_REASON)}))),
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/incidents/{id}/close",
        summary: "Close an incident with its outcome",
        roles: DISPATCH,
        query: &[],
        body: Some(|| obj(&["outcome"], json!({"outcome": required(v::MAX_REASON)}))),
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "get",
        path: "/api/incidents/{id}/recommendations",
        summary: "Units ranked by exact drive time, then the excluded units with reasons",
        roles: DISPATCH,
        query: &[],
        body: None,
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "get",
        path: "/api/incidents/{id}/hospitals",
        summary: "Destination hospitals ranked, with reasons",
        roles: DISPATCH,
        query: &[],
        body: None,
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/incidents/{id}/assign",
        summary: "Assign one or more units",
        roles: DISPATCH,
        query: &[],
        body: Some(|| {
            let mut b = obj(
                &[],
                json!({"unit_id": id(), "unit_ids": {"type": "array", "items": id(), "minItems": 1, "maxItems": v::MAX_ASSIGN_UNITS}}),
            );
            // unit_id, unit_ids or both: at most MAX_ASSIGN_UNITS units in all.
            b["anyOf"] = json!([
                {"required": ["unit_id"], "properties": {"unit_ids": {"maxItems": v::MAX_ASSIGN_UNITS - 1}}},
                {"required": ["unit_ids"], "not": {"required": ["unit_id"]}},
            ]);
            b
        }),
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "get",
        path: "/api/incidents/{id}/timeline",
        summary: "The incident's history",
        roles: DISPATCH_CREW,
        query: &[],
        body: None,
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "get",
        path: "/api/units",
        summary: "Units the caller may see",
        roles: DISPATCH_CREW,
        query: &[],
        body: None,
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "post",
        path: "/api/units",
        summary: "Register a unit",
        roles: DISPATCH,
        query: &[],
        body: Some(|| {
            obj(
                &[
                    "id",
                    "call_sign",
                    "unit_type",
                    "owner",
                    "base_name",
                    "base_lat",
                    "base_lon",
                ],
                json!({
            "id": id(), "call_sign": required(v::MAX_CALL_SIGN),
            "unit_type": {"type": "string", "enum": ["transport", "bls", "als", "motorbike"]},
            "owner": {"type": "string", "enum": ["psc", "puskesmas", "hospital", "pmi", "volunteer"]},
            "base_name": text(v::MAX_NAME), "base_lat": lat(), "base_lon": lon(),
            "capabilities": {"type": "array", "items": id(), "maxItems": v::MAX_CAPABILITIES}}),
            )
        }),
        status: 201,
        path_types: &[],
    },
    Operation {
        method: "post",
        path: "/api/units/{id}/status",
        summary: "Report a unit's status",
        roles: DISPATCH_CREW,
        query: &[],
        body: Some(|| {
            let mut b = obj(
                &["status"],
                json!({"status": unit_status(), "device_at": device_at(), "reason": text(v::MAX_REASON)}),
            );
            // Out of service needs a reason.
            b["if"] = json!({"properties": {"status": {"const": "out_of_service"}}});
            b["then"] =
                json!({"required": ["reason"], "properties": {"reason": required(v::MAX_REASON)}});
            b
        }),
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "post",
        path: "/api/units/{id}/position",
        summary: "Report a unit's position",
        roles: DISPATCH_CREW,
        query: &[],
        body: Some(|| {
            obj(
                &["lat", "lon"],
                json!({"lat": lat(), "lon": lon(), "device_at": device_at()}),
            )
        }),
        status: 204,
        path_types: &[],
    },
    Operation {
        method: "post",
        path: "/api/units/{id}/acknowledge",
        summary: "The crew acknowledges an assignment",
        roles: DISPATCH_CREW,
        query: &[],
        body: Some(|| {
            obj(
                &["incident"],
                json!({"incident": {"type": "integer", "minimum": 0}, "device_at": device_at()}),
            )
        }),
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "post",
        path: "/api/units/{id}/decline",
        summary: "The crew declines an assignment, with a reason",
        roles: DISPATCH_CREW,
        query: &[],
        body: Some(|| {
            obj(
                &["incident", "reason"],
                json!({"incident": {"type": "integer", "minimum": 0}, "reason": required(v::MAX_REASON), "device_at": device_at()}),
            )
        }),
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/hospitals",
        summary: "Hospitals with capabilities, live capacity and its age",
        roles: ALL_DISPATCH,
        query: &[],
        body: None,
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "post",
        path: "/api/hospitals/{id}/capacity",
        summary: "Publish free IGD and ICU beds and the IGD status",
        roles: HOSPITAL,
        query: &[],
        body: Some(|| {
            obj(
                &["status"],
                json!({"free_igd_beds": {"type": "integer", "minimum": 0, "maximum": v::MAX_BEDS}, "free_icu_beds": {"type": "integer", "minimum": 0, "maximum": v::MAX_BEDS},
            "status": {"type": "string", "enum": ["open", "full", "diversion"]}}),
            )
        }),
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/referrals",
        summary: "Referrals the caller may see",
        roles: ALL_DISPATCH,
        query: &[
            ("limit", referral_limit, false),
            ("offset", satria_http::Page::offset_schema, false),
        ],
        body: None,
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "post",
        path: "/api/referrals",
        summary: "Send a SISRUTE-shape referral to a hospital",
        roles: DISPATCH,
        query: &[],
        body: Some(|| {
            obj(
                &["incident", "to", "form", "patient"],
                json!({"incident": {"type": "integer", "minimum": 0}, "to": id(), "unit": id(),
            "form": referral_form(), "patient": patient()}),
            )
        }),
        status: 201,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/referrals/{id}",
        summary: "One referral with its patient data",
        roles: ALL_DISPATCH,
        query: &[],
        body: None,
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/referrals/{id}/answer",
        summary: "The hospital accepts or declines a referral",
        roles: HOSPITAL,
        query: &[],
        body: Some(|| {
            obj(
                &["accept"],
                json!({"accept": s("boolean"), "officer": required(v::MAX_NAME), "reason": required(v::MAX_REASON)}),
            )
        }),
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "get",
        path: "/api/reports/response-times",
        summary: "Median and 90th percentile of response intervals per triage and kecamatan",
        roles: DISPATCH,
        query: &[("from", epoch_ms, true), ("to", epoch_ms, true)],
        body: None,
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/incidents/{id}/route",
        summary: "The drive from a unit (default: the assigned one) to the incident, on the roads; a straight line without a road graph",
        roles: DISPATCH_CREW,
        query: &[("unit", id, false), ("to", route_to, false)],
        body: None,
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "get",
        path: "/api/map/roads",
        summary: "The map of the consoles: roads by class as quantised polylines (1e-5 degree deltas), kecamatan and hospitals; gzip when accepted",
        roles: ALL_DISPATCH,
        query: &[],
        body: None,
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/map/places",
        summary: "Desa/kelurahan, kecamatan, puskesmas and hospitals with positions, to find a location by name",
        roles: ALL_DISPATCH,
        query: &[],
        body: None,
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/openapi.json",
        summary: "This document",
        roles: &[],
        query: &[],
        body: None,
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/integrity",
        summary: "The journal's integrity: accepted chain breaks, the console banner, the newest signed checkpoint",
        roles: &["any"],
        query: &[],
        body: None,
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "post",
        path: "/api/integrity/acknowledge",
        summary: "An admin acknowledges the accepted chain breaks; the banner goes away",
        roles: &["admin"],
        query: &[],
        body: None,
        status: 200,
        path_types: &[],
    },
];

fn error_schema() -> Value {
    obj(
        &["code", "message", "message_id"],
        json!({"code": s("string"), "message": s("string"), "message_id": s("string")}),
    )
}

fn refusal(code: u16) -> &'static str {
    match code {
        400 => "Malformed request (JSON, path id or query string); nothing changed",
        401 => "No valid bearer token",
        403 => "The caller's role may not do this (checked before the body is read)",
        404 => "No such record",
        409 => "Conflicts with the current state; nothing changed",
        413 => "Body too large",
        415 => "Body not sent as application/json",
        422 => "Well-formed but not acceptable values; nothing changed",
        429 => "Too many failed attempts; see Retry-After",
        503 => "Unavailable (engine busy, journal or access log failing); try again",
        _ => "Refused; nothing changed",
    }
}

/// The schema of a string path parameter the server checks further: unit and
/// hospital ids are ids ([`v::id`]), the history's entity is a closed set and
/// its id a text of 1 to 80 characters.
fn path_schema(path: &str, name: &str) -> Option<Value> {
    match (path, name) {
        ("/api/salinmas/history/{entity}/{id}", "entity") => {
            Some(json!({"type": "string", "enum": satria_salinmas::HISTORY_ENTITIES}))
        }
        ("/api/salinmas/history/{entity}/{id}", "id") => {
            Some(json!({"type": "string", "minLength": 1, "maxLength": 80}))
        }
        (p, "id") if p.starts_with("/api/units/{id}") || p.starts_with("/api/hospitals/{id}") => {
            Some(id())
        }
        _ => None,
    }
}

/// The OpenAPI 3.1 document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for op in all_operations() {
        let mut responses = serde_json::Map::new();
        for code in op.statuses() {
            let r = match code {
                204 => json!({"description": "Done; no content"}),
                200 => json!({"description": "OK", "content": {"application/json": {}}}),
                201 => json!({"description": "Created",
                    "headers": {"Location": {
                        "description": "Where the new record can be read, when it can be (GET)",
                        "schema": {"type": "string"}}},
                    "content": {"application/json": {}}}),
                _ => json!({"description": refusal(code),
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
            };
            responses.insert(code.to_string(), r);
        }
        let mut o = json!({
            "summary": op.summary,
            "x-roles": op.roles,
            "responses": responses,
        });
        let mut params = Vec::new();
        for (name, ty) in op.path_params() {
            let schema = if ty == "integer" {
                satria_http::path_id_schema()
            } else if let Some(schema) = path_schema(op.path, name) {
                schema
            } else {
                json!({"type": ty})
            };
            params.push(json!({"name": name, "in": "path", "required": true, "schema": schema}));
        }
        for (name, schema, required) in op.query {
            params.push(
                json!({"name": name, "in": "query", "required": required, "schema": schema()}),
            );
        }
        if !params.is_empty() {
            o["parameters"] = Value::Array(params);
        }
        if let Some(body) = op.body {
            o["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": body()}}});
        }
        if !op.roles.is_empty() {
            o["security"] = json!([{"bearer": []}]);
        }
        let entry = paths
            .entry(op.path.to_string())
            .or_insert_with(|| json!({}));
        entry[op.method] = o;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Satria — PSC 119 Banyumas",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Emergency dispatch API. Every error is {\"code\",\"message\",\"message_id\"} (message_id in Bahasa Indonesia). Live events: WebSocket /ws, see docs/protocol.md."
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": error_schema()},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}
        }
    })
}
