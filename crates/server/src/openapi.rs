//! The OpenAPI 3 document served at `/api/openapi.json`, built from
//! [`OPERATIONS`], the table of every route of [`crate::api`]. A test walks the
//! table against the live router so the two cannot drift apart.

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

fn triage() -> Value {
    json!({"type": "string", "enum": ["merah", "kuning", "hijau", "hitam"]})
}

fn category() -> Value {
    json!({"type": "string", "enum": ["accident", "medical", "maternal", "inter_facility_transfer", "information"]})
}

fn address() -> Value {
    json!({"oneOf": [
        {"type": "string", "maxLength": 500},
        obj(&[], json!({"desa": s("string"), "rt_rw": s("string"), "landmark": s("string"), "text": s("string")}))
    ]})
}

fn lat() -> Value {
    json!({"type": "number", "minimum": -90, "maximum": 90})
}

fn lon() -> Value {
    json!({"type": "number", "minimum": -180, "maximum": 180})
}

fn unit_status() -> Value {
    json!({"type": "string", "enum": ["available", "notified", "en_route", "on_scene", "at_patient", "transporting", "at_destination", "transfer_of_care", "out_of_service"]})
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
    },
    Operation {
        method: "post",
        path: "/api/auth/logout",
        summary: "Revoke the caller's token",
        roles: &[],
        query: &[],
        body: None,
    },
    Operation {
        method: "get",
        path: "/api/me",
        summary: "The caller's account and role",
        roles: &["any"],
        query: &[],
        body: None,
    },
    Operation {
        method: "get",
        path: "/api/incidents",
        summary: "Incidents the caller may see, newest first",
        roles: DISPATCH_CREW,
        query: &[("status", "string", false), ("limit", "integer", false)],
        body: None,
    },
    Operation {
        method: "post",
        path: "/api/incidents",
        summary: "Take a call: create an incident",
        roles: DISPATCH,
        query: &[],
        body: Some(|| {
            obj(
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
            "caller_name": s("string"), "caller_phone": s("string"), "lat": lat(), "lon": lon(), "address": address(),
            "triage": triage(), "category": category(), "patients": {"type": "integer", "minimum": 0}, "notes": s("string")}),
            )
        }),
    },
    Operation {
        method: "get",
        path: "/api/incidents/{id}",
        summary: "One incident",
        roles: DISPATCH_CREW,
        query: &[],
        body: None,
    },
    Operation {
        method: "patch",
        path: "/api/incidents/{id}",
        summary: "Update triage, category, patients, notes or address",
        roles: DISPATCH,
        query: &[],
        body: Some(|| {
            obj(
                &[],
                json!({"triage": triage(), "category": category(), "patients": {"type": "integer", "minimum": 0}, "notes": s("string"), "address": address()}),
            )
        }),
    },
    Operation {
        method: "post",
        path: "/api/incidents/{id}/merge",
        summary: "Merge this incident into another",
        roles: DISPATCH,
        query: &[],
        body: Some(|| {
            obj(
                &["into"],
                json!({"into": {"type": "integer", "minimum": 0}}),
            )
        }),
    },
    Operation {
        method: "post",
        path: "/api/incidents/{id}/cancel",
        summary: "Cancel an incident",
        roles: DISPATCH,
        query: &[],
        body: Some(|| obj(&["reason"], json!({"reason": s("string")}))),
    },
    Operation {
        method: "post",
        path: "/api/incidents/{id}/close",
        summary: "Close an incident with its outcome",
        roles: DISPATCH,
        query: &[],
        body: Some(|| obj(&["outcome"], json!({"outcome": s("string")}))),
    },
    Operation {
        method: "get",
        path: "/api/incidents/{id}/recommendations",
        summary: "Units ranked by exact drive time, then the excluded units with reasons",
        roles: DISPATCH,
        query: &[],
        body: None,
    },
    Operation {
        method: "get",
        path: "/api/incidents/{id}/hospitals",
        summary: "Destination hospitals ranked, with reasons",
        roles: DISPATCH,
        query: &[],
        body: None,
    },
    Operation {
        method: "post",
        path: "/api/incidents/{id}/assign",
        summary: "Assign one or more units",
        roles: DISPATCH,
        query: &[],
        body: Some(|| {
            obj(
                &[],
                json!({"unit_id": s("string"), "unit_ids": {"type": "array", "items": s("string"), "maxItems": 20}}),
            )
        }),
    },
    Operation {
        method: "get",
        path: "/api/incidents/{id}/timeline",
        summary: "The incident's history",
        roles: DISPATCH_CREW,
        query: &[],
        body: None,
    },
    Operation {
        method: "get",
        path: "/api/units",
        summary: "Units the caller may see",
        roles: DISPATCH_CREW,
        query: &[],
        body: None,
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
            "id": s("string"), "call_sign": s("string"),
            "unit_type": {"type": "string", "enum": ["transport", "bls", "als", "motorbike"]},
            "owner": {"type": "string", "enum": ["psc", "puskesmas", "hospital", "pmi", "volunteer"]},
            "base_name": s("string"), "base_lat": lat(), "base_lon": lon(),
            "capabilities": {"type": "array", "items": s("string")}}),
            )
        }),
    },
    Operation {
        method: "post",
        path: "/api/units/{id}/status",
        summary: "Report a unit's status",
        roles: DISPATCH_CREW,
        query: &[],
        body: Some(|| {
            obj(
                &["status"],
                json!({"status": unit_status(), "device_at": s("integer"), "reason": s("string")}),
            )
        }),
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
                json!({"lat": lat(), "lon": lon(), "device_at": s("integer")}),
            )
        }),
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
                json!({"incident": {"type": "integer", "minimum": 0}, "device_at": s("integer")}),
            )
        }),
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
                json!({"incident": {"type": "integer", "minimum": 0}, "reason": s("string"), "device_at": s("integer")}),
            )
        }),
    },
    Operation {
        method: "get",
        path: "/api/hospitals",
        summary: "Hospitals with capabilities, live capacity and its age",
        roles: ALL_DISPATCH,
        query: &[],
        body: None,
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
                json!({"free_igd_beds": {"type": "integer", "minimum": 0}, "free_icu_beds": {"type": "integer", "minimum": 0},
            "status": {"type": "string", "enum": ["open", "full", "diversion"]}}),
            )
        }),
    },
    Operation {
        method: "get",
        path: "/api/referrals",
        summary: "Referrals the caller may see",
        roles: ALL_DISPATCH,
        query: &[],
        body: None,
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
                json!({"incident": {"type": "integer", "minimum": 0}, "to": s("string"), "unit": s("string"),
            "form": s("object"), "patient": s("object")}),
            )
        }),
    },
    Operation {
        method: "get",
        path: "/api/referrals/{id}",
        summary: "One referral with its patient data",
        roles: ALL_DISPATCH,
        query: &[],
        body: None,
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
                json!({"accept": s("boolean"), "officer": s("string"), "reason": s("string")}),
            )
        }),
    },
    Operation {
        method: "get",
        path: "/api/reports/response-times",
        summary: "Median and 90th percentile of response intervals per triage and kecamatan",
        roles: DISPATCH,
        query: &[("from", "integer", true), ("to", "integer", true)],
        body: None,
    },
    Operation {
        method: "get",
        path: "/api/incidents/{id}/route",
        summary: "The drive from a unit (default: the assigned one) to the incident, on the roads; a straight line without a road graph",
        roles: DISPATCH_CREW,
        query: &[("unit", "string", false), ("to", "string", false)],
        body: None,
    },
    Operation {
        method: "get",
        path: "/api/map/roads",
        summary: "The map of the consoles: roads by class as quantised polylines (1e-5 degree deltas), kecamatan and hospitals; gzip when accepted",
        roles: ALL_DISPATCH,
        query: &[],
        body: None,
    },
    Operation {
        method: "get",
        path: "/api/map/places",
        summary: "Desa/kelurahan, kecamatan, puskesmas and hospitals with positions, to find a location by name",
        roles: ALL_DISPATCH,
        query: &[],
        body: None,
    },
    Operation {
        method: "get",
        path: "/api/openapi.json",
        summary: "This document",
        roles: &[],
        query: &[],
        body: None,
    },
    Operation {
        method: "get",
        path: "/api/integrity",
        summary: "The journal's integrity: accepted chain breaks, the console banner, the newest signed checkpoint",
        roles: &["any"],
        query: &[],
        body: None,
    },
    Operation {
        method: "post",
        path: "/api/integrity/acknowledge",
        summary: "An admin acknowledges the accepted chain breaks; the banner goes away",
        roles: &["admin"],
        query: &[],
        body: None,
    },
];

fn error_schema() -> Value {
    obj(
        &["code", "message"],
        json!({"code": s("string"), "message": s("string"), "message_id": s("string")}),
    )
}

/// The OpenAPI 3.1 document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for op in all_operations() {
        let mut o = json!({
            "summary": op.summary,
            "x-roles": op.roles,
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {}}},
                "4XX": {"description": "Refused; nothing changed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        });
        let mut params = Vec::new();
        for name in op
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        {
            params
                .push(json!({"name": name, "in": "path", "required": true, "schema": s("string")}));
        }
        for (name, ty, required) in op.query {
            params
                .push(json!({"name": name, "in": "query", "required": required, "schema": s(ty)}));
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
