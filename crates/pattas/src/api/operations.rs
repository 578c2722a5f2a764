//! The operation table ([`OPERATIONS`]) for the server's OpenAPI document, and
//! the JSON Schemas of the bodies and query parameters it documents.

use satria_http::{Operation, QueryParam};
use serde_json::{Value, json};

use super::{Allowed, AnyPattas, Officers};
use crate::model::*;

fn obj(props: Value, required: &[&str]) -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": props,
        "required": required,
    })
}

/// Control characters `valid::optional_text` refuses (line breaks and tabs
/// are allowed), as a regex character-class body.
const CONTROL: &str = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f";

/// A text `valid::text` accepts: not blank, at most `max` characters, no
/// control characters other than line breaks and tabs.
fn text(max: usize) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max,
        "pattern": format!("^[^{CONTROL}]*[^\\s{CONTROL}][^{CONTROL}]*$")})
}

/// An Indonesian mobile number as `valid::phone` accepts it: 08… or (+)628…,
/// 10 to 15 digits.
fn phone_schema() -> Value {
    json!({"type": "string", "pattern": "^(08[0-9]{8,13}|\\+?628[0-9]{7,12})$", "example": "081234567890"})
}

/// A NIK as `valid::nik_form` accepts it: a region code (province 11-99,
/// regency and district not 00), a birth date DDMMYY that exists (DD + 40 for
/// a woman) and a serial that is not 0000.
fn nik_schema() -> Value {
    let region = "(1[1-9]|[2-9][0-9])(0[1-9]|[1-9][0-9])(0[1-9]|[1-9][0-9])";
    let birth = "((0[1-9]|1[0-9]|2[0-8]|4[1-9]|5[0-9]|6[0-8])(0[1-9]|1[0-2])[0-9]{2}\
        |(29|30|69|70)(0[13-9]|1[0-2])[0-9]{2}\
        |(31|71)(0[13578]|1[02])[0-9]{2}\
        |(29|69)02([02468][048]|[13579][26]))"
        .replace(' ', "");
    let serial = "([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])";
    json!({"type": "string", "pattern": format!("^{region}{birth}{serial}$"),
        "description": "16 digits; digits 7-12 the birth date DDMMYY, DD + 40 for a woman; 3302… = Banyumas"})
}

fn family_contact_schema() -> Value {
    obj(
        json!({
            "name": text(limits::NAME),
            "phone": phone_schema(),
            "relation": text(limits::RELATION),
        }),
        &["name", "phone", "relation"],
    )
}

fn beneficiary_props(nullable: bool) -> Value {
    let or_null = |v: Value| {
        if nullable {
            json!({"oneOf": [v, {"type": "null"}]})
        } else {
            v
        }
    };
    json!({
        "nik": nik_schema(),
        "name": text(limits::NAME),
        "date_of_birth": {"type": "string", "format": "date",
            "description": "must match the NIK's birth-date digits (422 nik_mismatch)"},
        "sex": {"type": "string", "enum": ["L", "P", "male", "female"]},
        "desa": text(limits::DESA),
        "kecamatan": or_null(text(limits::DESA)),
        "rt": rt_rw_schema(),
        "rw": rt_rw_schema(),
        "phone": or_null(phone_schema()),
        "dtks": {"type": "boolean"},
        "bpjs": {"type": "string", "enum": BPJS},
        "conditions": {"type": "array", "minItems": 1, "maxItems": limits::CONDITIONS,
                        "items": text(limits::CONDITION)},
        "family_contact": or_null(family_contact_schema()),
    })
}

fn new_beneficiary_schema() -> Value {
    obj(
        beneficiary_props(false),
        &[
            "nik",
            "name",
            "date_of_birth",
            "sex",
            "desa",
            "rt",
            "rw",
            "dtks",
            "bpjs",
            "conditions",
        ],
    )
}

fn beneficiary_patch_schema() -> Value {
    let mut s = obj(beneficiary_props(true), &[]);
    // A change changes something.
    s["minProperties"] = json!(1);
    s
}

/// RT or RW as `valid::rt_rw` accepts it: 1 to 3 digits, 1 to 999.
fn rt_rw_schema() -> Value {
    json!({"type": "string", "pattern": "^([1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9])$"})
}

fn new_case_schema() -> Value {
    let mut s = obj(
        json!({
            "beneficiary_id": satria_http::path_id_schema(),
            "nik": nik_schema(),
            "needs": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": NEEDS}},
            "description": text(limits::DESCRIPTION),
            "reported_via": filter_schema(limits::REPORTED_VIA),
        }),
        &["needs", "description"],
    );
    // Exactly one of beneficiary_id and nik.
    s["oneOf"] = json!([{"required": ["beneficiary_id"]}, {"required": ["nik"]}]);
    s
}

fn note_schema() -> Value {
    obj(json!({"note": filter_schema(limits::NOTES)}), &[])
}

fn reason_schema() -> Value {
    obj(json!({"reason": text(limits::REASON)}), &["reason"])
}

fn close_schema() -> Value {
    obj(json!({"summary": text(limits::SUMMARY)}), &["summary"])
}

fn assistance_schema() -> Value {
    obj(
        json!({
            "date": {"type": "string", "format": "date",
                "description": "from the day the case was reported to today (422 invalid_date)"},
            "kind": {"type": "string", "enum": NEEDS},
            "amount_rp": {"type": "integer", "minimum": 0, "maximum": limits::AMOUNT_RP},
            "notes": filter_schema(limits::NOTES),
        }),
        &["date", "kind", "amount_rp"],
    )
}

fn transport_schema() -> Value {
    let lat = json!({"type": "number", "minimum": -7.85, "maximum": -7.05});
    let lon = json!({"type": "number", "minimum": 108.7, "maximum": 109.65});
    obj(
        json!({
            "pickup": obj(json!({"lat": lat, "lon": lon, "address": text(limits::ADDRESS)}),
                          &["lat", "lon", "address"]),
            "destination": obj(json!({
                "hospital_id": {"type": "string", "maxLength": limits::HOSPITAL_ID},
                "name": text(limits::NAME), "lat": lat, "lon": lon}),
                &["name", "lat", "lon"]),
            "scheduled_for": {"oneOf": [
                {"type": "string", "format": "date-time",
                    "description": "RFC 3339; also YYYY-MM-DD[T| ]HH:MM[:SS] with no offset, read as WIB"},
                {"type": "integer", "description": "ms since the epoch"}],
                "description": "in the future and within 30 days; answered as an RFC 3339 time in UTC (422 invalid_time)"},
            "purpose": text(limits::PURPOSE),
            "notes": filter_schema(limits::NOTES),
        }),
        &["pickup", "destination", "scheduled_for", "purpose"],
    )
}

const ANY: &[&str] = AnyPattas::NAMES;
const OFFICERS: &[&str] = Officers::NAMES;
const PAGE: [QueryParam; 2] = [
    ("limit", limit_schema, false),
    ("offset", offset_schema, false),
];
const RANGE: &[QueryParam] = &[("from", day_schema, false), ("to", day_schema, false)];

/// `limit` of a list: 1 to [`limits::PAGE_MAX`] (what `page` in the store checks).
fn limit_schema() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": limits::PAGE_MAX, "default": limits::PAGE_DEFAULT})
}

fn offset_schema() -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": u32::MAX})
}

/// A report day `YYYY-MM-DD` (WIB).
fn day_schema() -> Value {
    satria_http::date_schema("[0-9]{4}")
}

/// A text filter: at most `max` characters, no control characters other than
/// line breaks and tabs (what `valid::optional_text` checks).
fn filter_schema(max: usize) -> Value {
    json!({"type": "string", "maxLength": max,
        "pattern": "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"})
}

fn search_schema() -> Value {
    filter_schema(limits::SEARCH)
}

fn desa_filter_schema() -> Value {
    filter_schema(limits::DESA)
}

fn case_status_schema() -> Value {
    json!({"type": "string", "enum": STATUSES})
}

fn beneficiary_id_schema() -> Value {
    json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX})
}

/// Every Pattas operation, for the server's OpenAPI document. A test walks
/// it against [`routes`](super::routes).
pub const OPERATIONS: &[Operation] = &[
    Operation {
        method: "post",
        path: "/api/pattas/beneficiaries",
        summary: "Register a beneficiary (one per NIK); answers banyumas_resident",
        roles: ANY,
        body: Some(new_beneficiary_schema),
        query: &[],
        status: 201,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/pattas/beneficiaries",
        summary: "List beneficiaries (a mitra: those it registered or reported a case for); q = name contains or NIK prefix",
        roles: ANY,
        body: None,
        query: &[
            ("q", search_schema, false),
            ("desa", desa_filter_schema, false),
            PAGE[0],
            PAGE[1],
        ],
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/pattas/beneficiaries/{id}",
        summary: "One beneficiary with its change history",
        roles: ANY,
        body: None,
        query: &[],
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "patch",
        path: "/api/pattas/beneficiaries/{id}",
        summary: "Change a beneficiary (null clears phone, kecamatan, family_contact)",
        roles: OFFICERS,
        body: Some(beneficiary_patch_schema),
        query: &[],
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/pattas/cases",
        summary: "Report a case for a beneficiary (by beneficiary_id or nik) with its needs",
        roles: ANY,
        body: Some(new_case_schema),
        query: &[],
        status: 201,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/pattas/cases",
        summary: "List cases, newest first (a mitra: the ones it reported)",
        roles: ANY,
        body: None,
        query: &[
            ("status", case_status_schema, false),
            ("desa", desa_filter_schema, false),
            ("beneficiary_id", beneficiary_id_schema, false),
            PAGE[0],
            PAGE[1],
        ],
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/pattas/cases/overdue",
        summary: "Cases past their verify or first-assistance deadline, most overdue first",
        roles: ANY,
        body: None,
        query: &[],
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/pattas/cases/{id}",
        summary: "One case with its beneficiary, assistance, transports (live status) and history",
        roles: ANY,
        body: None,
        query: &[],
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/pattas/cases/{id}/verify",
        summary: "reported → verified (the body may be empty)",
        roles: OFFICERS,
        body: Some(note_schema),
        query: &[],
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/pattas/cases/{id}/reject",
        summary: "reported → rejected, with a reason",
        roles: OFFICERS,
        body: Some(reason_schema),
        query: &[],
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/pattas/cases/{id}/assist",
        summary: "verified → in_assistance, first assistance started (the body may be empty)",
        roles: OFFICERS,
        body: Some(note_schema),
        query: &[],
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/pattas/cases/{id}/close",
        summary: "in_assistance → closed (tuntas), with a closing summary",
        roles: OFFICERS,
        body: Some(close_schema),
        query: &[],
        status: 200,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/pattas/cases/{id}/assistance",
        summary: "Record an assistance action (the first one on a verified case starts assistance)",
        roles: OFFICERS,
        body: Some(assistance_schema),
        query: &[],
        status: 201,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/pattas/cases/{id}/transports",
        summary: "Book free scheduled ambulance transport for a verified or assisted case",
        roles: OFFICERS,
        body: Some(transport_schema),
        query: &[],
        status: 201,
        path_types: satria_http::INTEGER_ID,
    },
    Operation {
        method: "post",
        path: "/api/pattas/cases/{id}/transports/{tid}/cancel",
        summary: "Cancel a booked transport, with a reason",
        roles: OFFICERS,
        body: Some(reason_schema),
        query: &[],
        status: 200,
        path_types: &[("id", "integer"), ("tid", "integer")],
    },
    Operation {
        method: "get",
        path: "/api/pattas/meta",
        summary: "Form data: needs, statuses, BPJS and sex options labelled in English and Bahasa Indonesia, the Banyumas desa list with each centre (lat, lon), the deadlines",
        roles: ANY,
        body: None,
        query: &[],
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/pattas/reports/cases",
        summary: "Cases reported in a date range (WIB, inclusive): by status, by desa, overdue now",
        roles: OFFICERS,
        body: None,
        query: RANGE,
        status: 200,
        path_types: &[],
    },
    Operation {
        method: "get",
        path: "/api/pattas/reports/assistance",
        summary: "Assistance dated in a range: totals by kind and by month",
        roles: OFFICERS,
        body: None,
        query: RANGE,
        status: 200,
        path_types: &[],
    },
];
