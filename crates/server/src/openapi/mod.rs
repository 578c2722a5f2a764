//! The OpenAPI 3 document served at `/api/openapi.json`, built from
//! [`OPERATIONS`], the table of every route of [`crate::api`]. A test walks the
//! table against the live router so the two cannot drift apart.
//!
//! The table itself is in `operations.rs`, the JSON schemas its rows share in
//! `schemas.rs`.

use schemas::{SERVICE_AREA, id, obj, s};
use serde_json::{Value, json};

mod operations;
mod schemas;

pub use operations::OPERATIONS;
pub use satria_http::Operation;

/// Every documented operation: the dispatch API's, then the modules'.
pub fn all_operations() -> impl Iterator<Item = &'static Operation> {
    OPERATIONS
        .iter()
        .chain(satria_pattas::OPERATIONS)
        .chain(satria_salinmas::OPERATIONS)
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
        404 => "No such record (the one the path names)",
        409 => "Conflicts with the current state; nothing changed",
        413 => "Body too large",
        415 => "Body not sent as application/json",
        422 => {
            "Well-formed but not acceptable values, or a record the body names does not exist; nothing changed"
        }
        429 => "Too many failed attempts; see Retry-After",
        503 => "Unavailable (engine busy, journal or access log failing); try again",
        _ => "Refused; nothing changed",
    }
}

/// The schema of a string path parameter the server checks further: unit and
/// hospital ids are ids ([`v::id`](satria_dispatch::validate::id)), the
/// history's entity is a closed set and its id a text of 1 to 80 characters.
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
