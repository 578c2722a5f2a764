//! [`OPERATIONS`]: the OpenAPI row of every route (method, path, roles, body
//! and query schemas), and the schemas the rows share. The server's OpenAPI
//! document lists them, and `satria_http::authorize` checks roles by them.

use satria_http::Operation;
use serde_json::{Value, json};

use crate::model::*;
use crate::validate as v;

const OFFICER: &[&str] = &["salinmas_officer", "admin"];
const ALL: &[&str] = &[
    "salinmas_officer",
    "admin",
    "salinmas_household",
    "salinmas_collector",
];
const NOT_HOUSEHOLD: &[&str] = &["salinmas_officer", "admin", "salinmas_collector"];
const NOT_COLLECTOR: &[&str] = &["salinmas_officer", "admin", "salinmas_household"];

fn object(required: &[&str], properties: Value) -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": properties,
    })
}

/// A text `validate::text` accepts: not blank, at most `max` characters, no
/// control characters.
fn text_schema(max: usize) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max,
        "pattern": "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"})
}

/// An optional text (`validate::opt_text`): at most `max` characters, no
/// control characters.
fn opt_text_schema(max: usize) -> Value {
    json!({"type": "string", "maxLength": max, "pattern": "^[^\\x00-\\x1f\\x7f-\\x9f]*$"})
}

/// An Indonesian phone number (`validate::phone`).
fn phone_schema() -> Value {
    json!({"type": "string", "pattern": "^(08[0-9]{7,13}|\\+?628[0-9]{6,12})$", "example": "081234567890"})
}

/// Inside Banyumas (`validate::position`).
fn lat_schema() -> Value {
    json!({"type": "number", "minimum": v::LAT_RANGE.0, "maximum": v::LAT_RANGE.1})
}

fn lon_schema() -> Value {
    json!({"type": "number", "minimum": v::LON_RANGE.0, "maximum": v::LON_RANGE.1})
}

/// RT or RW: 1 to 3 digits, 1 to 999.
fn rt_rw_schema() -> Value {
    json!({"type": "string", "pattern": "^([1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9])$"})
}

fn category_schema() -> Value {
    json!({"type": "string", "enum": CATEGORIES})
}

fn kelurahan_body() -> Value {
    object(
        &["name"],
        json!({
            "name": text_schema(80),
            "kecamatan": opt_text_schema(80),
        }),
    )
}

fn account_body() -> Value {
    object(
        &[
            "kind",
            "name",
            "kelurahan",
            "rt",
            "rw",
            "address",
            "lat",
            "lon",
            "phone",
        ],
        json!({
            "kind": {"type": "string", "enum": ["household", "dasawisma"]},
            "name": text_schema(100),
            "kelurahan": text_schema(80),
            "rt": rt_rw_schema(),
            "rw": rt_rw_schema(),
            "address": text_schema(200),
            "lat": lat_schema(),
            "lon": lon_schema(),
            "phone": phone_schema(),
            "members": {"type": "integer", "minimum": 1, "maximum": 100},
        }),
    )
}

fn collector_body() -> Value {
    object(
        &["name", "kelurahan", "phone"],
        json!({
            "name": text_schema(100),
            "kelurahan": {"type": "array", "items": text_schema(80), "minItems": 1, "maxItems": 50, "uniqueItems": true},
            "phone": phone_schema(),
        }),
    )
}

fn price_body() -> Value {
    object(
        &["category", "price_per_kg_rp", "valid_from"],
        json!({
            "category": category_schema(),
            "price_per_kg_rp": {"type": "integer", "minimum": 0, "maximum": v::MAX_PRICE_RP},
            "valid_from": day_schema(),
        }),
    )
}

/// What `validate::window_time` (`Timestamp::parse_local`) reads. Not
/// `format: date-time`: the offset may be left out.
const WINDOW_TIME: &str = "YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]], WIB unless an offset (Z, ±HH:MM, ±HHMM, ±HH) is given; \
    RFC 3339 in UTC as the responses write it (e.g. 2026-03-02T01:00:00.000Z) is one such time";

fn pickup_body() -> Value {
    object(
        &[
            "lat",
            "lon",
            "address",
            "categories",
            "estimated_kg",
            "window_start",
            "window_end",
        ],
        json!({
            "account_id": {"type": "integer", "minimum": 1, "maximum": satria_http::MAX_PATH_ID, "description": "required for an officer"},
            "lat": lat_schema(),
            "lon": lon_schema(),
            "address": text_schema(200),
            "categories": {"type": "array", "items": category_schema(), "minItems": 1, "maxItems": 7, "uniqueItems": true},
            "estimated_kg": {"type": "number", "minimum": v::MIN_KG, "maximum": v::MAX_KG},
            "window_start": {"type": "string", "example": "2026-03-02T08:00",
                "description": format!("{WINDOW_TIME}; the window must end after it, in the future, and start within 60 days (422 invalid_window)")},
            "window_end": {"type": "string", "example": "2026-03-02T11:00",
                "description": format!("{WINDOW_TIME}; after window_start and in the future (422 invalid_window)")},
            "notes": opt_text_schema(500),
        }),
    )
}

fn accept_body() -> Value {
    object(
        &[],
        json!({
            "scheduled_date": described(day_schema(), "from today to 60 days ahead (422 invalid_date)"),
            "collector_id": {"type": "integer", "minimum": 1, "maximum": satria_http::MAX_PATH_ID, "description": "required for an officer"},
        }),
    )
}

fn collect_body() -> Value {
    object(
        &["weights"],
        json!({
            "weights": {
                "type": "array", "minItems": 1, "maxItems": 7,
                "description": "each category at most once (422 duplicate_category)",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["category"],
                    "oneOf": [{"required": ["kg"]}, {"required": ["grams"]}],
                    "properties": {
                        "category": category_schema(),
                        "kg": {"type": "number", "minimum": v::MIN_KG, "maximum": v::MAX_KG},
                        "grams": {"type": "integer", "minimum": 1, "maximum": (v::MAX_KG as i64) * 1000},
                    },
                },
            },
        }),
    )
}

fn reason_body() -> Value {
    object(&["reason"], json!({"reason": text_schema(500)}))
}

fn payout_body() -> Value {
    object(
        &["amount_rp", "method"],
        json!({
            "amount_rp": {"type": "integer", "minimum": 1, "maximum": v::MAX_PAYOUT_RP},
            "method": {"type": "string", "enum": PAYOUT_METHODS},
            "reference": opt_text_schema(100),
        }),
    )
}

/// A day `YYYY-MM-DD` between [`crate::time::MIN_YEAR`] and
/// [`crate::time::MAX_YEAR`] (what `validate::date` accepts).
/// A schema with a rule stated in words, for a rule no schema keyword can state
/// (relative to the clock or to another field).
fn described(mut schema: Value, rule: &str) -> Value {
    schema["description"] = json!(rule);
    schema
}

fn day_schema() -> Value {
    const _: () = assert!(crate::time::MIN_YEAR == 2000 && crate::time::MAX_YEAR == 2100);
    satria_http::date_schema("20[0-9]{2}|2100")
}

fn status_schema() -> Value {
    json!({"type": "string", "enum": STATUSES})
}

/// `limit` of a list: 1 to [`crate::LIST_LIMIT`], which is also the default.
fn list_limit() -> Value {
    satria_http::Page::limit_schema(crate::LIST_LIMIT, crate::LIST_LIMIT)
}

fn account_id_schema() -> Value {
    json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX})
}

/// Where the route starts, inside Banyumas: give `start_lat` and `start_lon`
/// together, or neither.
fn start_lat_schema() -> Value {
    let mut s = lat_schema();
    s["description"] = json!("give start_lat and start_lon together, or neither");
    s
}

fn start_lon_schema() -> Value {
    let mut s = lon_schema();
    s["description"] = json!("give start_lat and start_lon together, or neither");
    s
}

macro_rules! op {
    ($m:literal, $p:literal, $s:literal, $roles:expr, $body:expr, $q:expr, $status:literal, $types:expr) => {
        Operation {
            method: $m,
            path: $p,
            summary: $s,
            roles: $roles,
            body: $body,
            query: $q,
            status: $status,
            path_types: $types,
        }
    };
}

const ID: &[(&str, &str)] = satria_http::INTEGER_ID;

/// One row per route of [`routes`](super::routes), for the server's OpenAPI document.
pub const OPERATIONS: &[Operation] = &[
    op!(
        "get",
        "/api/salinmas/kelurahan",
        "Kelurahan served by Salinmas",
        ALL,
        None,
        &[],
        200,
        &[]
    ),
    op!(
        "post",
        "/api/salinmas/kelurahan",
        "Serve one more Banyumas desa/kelurahan",
        OFFICER,
        Some(kelurahan_body),
        &[],
        201,
        &[]
    ),
    op!(
        "get",
        "/api/salinmas/accounts",
        "Household and dasawisma accounts the caller may see",
        ALL,
        None,
        &[
            ("kelurahan", satria_http::string_schema, false),
            ("limit", list_limit, false),
            ("offset", satria_http::Page::offset_schema, false)
        ],
        200,
        &[]
    ),
    op!(
        "post",
        "/api/salinmas/accounts",
        "Register a household or dasawisma account",
        OFFICER,
        Some(account_body),
        &[],
        201,
        &[]
    ),
    op!(
        "get",
        "/api/salinmas/accounts/{id}",
        "One account",
        ALL,
        None,
        &[],
        200,
        ID
    ),
    op!(
        "get",
        "/api/salinmas/accounts/{id}/ledger",
        "An account's ledger entries and balance",
        ALL,
        None,
        &[],
        200,
        ID
    ),
    op!(
        "post",
        "/api/salinmas/accounts/{id}/payouts",
        "Pay out from an account's balance (never more than it)",
        NOT_HOUSEHOLD,
        Some(payout_body),
        &[],
        201,
        ID
    ),
    op!(
        "get",
        "/api/salinmas/collectors",
        "Collector groups (KSM) the caller may see",
        ALL,
        None,
        &[],
        200,
        &[]
    ),
    op!(
        "post",
        "/api/salinmas/collectors",
        "Register a collector group with its service kelurahan",
        OFFICER,
        Some(collector_body),
        &[],
        201,
        &[]
    ),
    op!(
        "get",
        "/api/salinmas/collectors/{id}",
        "One collector group",
        ALL,
        None,
        &[],
        200,
        ID
    ),
    op!(
        "get",
        "/api/salinmas/prices",
        "Prices valid on a day (default today, WIB) and the price history",
        ALL,
        None,
        &[("date", day_schema, false)],
        200,
        &[]
    ),
    op!(
        "post",
        "/api/salinmas/prices",
        "Set a category's price per kg from a day on",
        OFFICER,
        Some(price_body),
        &[],
        201,
        &[]
    ),
    op!(
        "get",
        "/api/salinmas/pickups",
        "Pickups the caller may see, newest first",
        ALL,
        None,
        &[
            ("status", status_schema, false),
            ("kelurahan", satria_http::string_schema, false),
            ("date", day_schema, false),
            ("account_id", account_id_schema, false),
            ("limit", list_limit, false),
            ("offset", satria_http::Page::offset_schema, false)
        ],
        200,
        &[]
    ),
    op!(
        "post",
        "/api/salinmas/pickups",
        "Request a pickup (a household for itself, an officer on its behalf)",
        NOT_COLLECTOR,
        Some(pickup_body),
        &[],
        201,
        &[]
    ),
    op!(
        "get",
        "/api/salinmas/pickups/{id}",
        "One pickup with its history",
        ALL,
        None,
        &[],
        200,
        ID
    ),
    op!(
        "post",
        "/api/salinmas/pickups/{id}/accept",
        "Accept a requested pickup for a collector group serving its kelurahan",
        NOT_HOUSEHOLD,
        Some(accept_body),
        &[],
        200,
        ID
    ),
    op!(
        "post",
        "/api/salinmas/pickups/{id}/collect",
        "Record the weighed kg and credit the household at the day's prices",
        NOT_HOUSEHOLD,
        Some(collect_body),
        &[],
        200,
        ID
    ),
    op!(
        "post",
        "/api/salinmas/pickups/{id}/cancel",
        "Cancel a pickup before collection",
        NOT_COLLECTOR,
        Some(reason_body),
        &[],
        200,
        ID
    ),
    op!(
        "post",
        "/api/salinmas/pickups/{id}/reject",
        "Reject a pickup before collection",
        NOT_HOUSEHOLD,
        Some(reason_body),
        &[],
        200,
        ID
    ),
    op!(
        "get",
        "/api/salinmas/routes/{collector_id}",
        "A collector group's accepted pickups of a day in driving order, with ETAs",
        NOT_HOUSEHOLD,
        None,
        &[
            ("date", day_schema, false),
            ("start_lat", start_lat_schema, false),
            ("start_lon", start_lon_schema, false)
        ],
        200,
        &[("collector_id", "integer")]
    ),
    op!(
        "get",
        "/api/salinmas/history/{entity}/{id}",
        "Every recorded change of one record: who, when, what",
        OFFICER,
        None,
        &[],
        200,
        &[]
    ),
    op!(
        "get",
        "/api/salinmas/reports/weights",
        "Kg per category per kelurahan per ISO week, active accounts, credits earned and paid; to is on or after from, at most 366 days later (422 invalid_range)",
        OFFICER,
        None,
        &[("from", day_schema, true), ("to", day_schema, true)],
        200,
        &[]
    ),
];
