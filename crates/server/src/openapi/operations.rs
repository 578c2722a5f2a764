//! [`OPERATIONS`]: every route of the dispatch API with its roles, query and
//! body schemas and success status. The table is the authorisation policy (see
//! `satria_http::authorize`), and a test walks it against the live router.

use super::Operation;
use super::schemas::{
    address, category, device_at, id, incident_limit, incident_status_filter, instant, lat, lon,
    obj, patient, patients, referral_form, referral_limit, required, route_to, s, text, triage,
    unit_status, with_patients_rule,
};
use satria_dispatch::validate as v;
use serde_json::json;

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
        query: &[("from", instant, true), ("to", instant, true)],
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
