//! Bad inputs and transitions not allowed now: each gets a clear 4xx and
//! changes nothing.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

on_every_backend!(async: refused_inputs_get_a_clear_4xx_and_change_nothing);

async fn refused_inputs_get_a_clear_4xx_and_change_nothing(backend: Backend) {
    let Some(w) = world_on(backend) else {
        return;
    };
    let b = w
        .post_ok("/api/pattas/beneficiaries", "mitra1", sukarti())
        .await;
    let c = w
        .post_ok(
            "/api/pattas/cases",
            "mitra1",
            json!({"beneficiary_id": b["id"], "needs": ["insurance"], "description": "x"}),
        )
        .await;
    let cid = c["id"].as_i64().unwrap();
    w.post_ok("/api/pattas/beneficiaries", "officer", darsono())
        .await;
    let snap = w.snapshot().await;
    let with = |k: &str, v: Value| {
        let mut x = darsono();
        x[k] = v;
        x
    };
    let mut bad: Vec<(&str, String, Value, StatusCode, &str)> = vec![
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("nik", json!("330201120861000")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_nik",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("nik", json!("3302013208610002")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_nik",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("nik", json!("33020112O8610002")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_nik",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("date_of_birth", json!("1961-08-13")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "nik_mismatch",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("sex", json!("P")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "nik_mismatch",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            {
                let mut x = sukarti();
                x["name"] = json!("Orang lain");
                x
            },
            StatusCode::CONFLICT,
            "duplicate_nik",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("extra", json!(1)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("desa", json!("Atlantis")),
            // Not in the Banyumas desa list: the body names a record that
            // does not exist (422; 404 is for the record the path names).
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_desa",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("desa", json!("Karangrau")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "ambiguous_desa",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("phone", json!("12345")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_phone",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("bpjs", json!("gold")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_bpjs",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("sex", json!("X")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_sex",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("conditions", json!([])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_conditions",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("conditions", json!(["  "])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("name", json!("x".repeat(101))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("rt", json!("0")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("dtks", json!("ya")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with(
                "family_contact",
                json!({"name": "a", "phone": "0812345678", "relation": "anak", "age": 3}),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        // A man born 2061 does not exist yet: the birth date is in the future.
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            json!({"nik": "3302011208610009", "name": "x", "date_of_birth": "2061-08-12", "sex": "L", "desa": "Sokanegara", "rt": "1", "rw": "1", "dtks": false, "bpjs": "none", "conditions": ["x"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_date_of_birth",
        ),
        (
            "PATCH",
            format!("/api/pattas/beneficiaries/{}", b["id"]),
            json!({"sex": "L"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "nik_mismatch",
        ),
        (
            "PATCH",
            format!("/api/pattas/beneficiaries/{}", b["id"]),
            json!({}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_patch",
        ),
        (
            "PATCH",
            format!("/api/pattas/beneficiaries/{}", b["id"]),
            json!({"nik": NIK_DARSONO, "date_of_birth": "1961-08-12", "sex": "L"}),
            StatusCode::CONFLICT,
            "duplicate_nik",
        ),
        (
            "PATCH",
            format!("/api/pattas/beneficiaries/{}", b["id"]),
            json!({"desa": "Karangrau"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "ambiguous_desa",
        ),
        (
            "PATCH",
            format!("/api/pattas/beneficiaries/{}", b["id"]),
            json!({"color": "red"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "PATCH",
            "/api/pattas/beneficiaries/999".into(),
            json!({"name": "x"}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "POST",
            "/api/pattas/cases".into(),
            json!({"beneficiary_id": b["id"], "needs": ["insurance"], "description": "lagi"}),
            StatusCode::CONFLICT,
            "open_case_exists",
        ),
        (
            "POST",
            "/api/pattas/cases".into(),
            json!({"beneficiary_id": b["id"], "needs": ["flying"], "description": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_need",
        ),
        (
            "POST",
            "/api/pattas/cases".into(),
            json!({"beneficiary_id": b["id"], "needs": [], "description": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_need",
        ),
        (
            "POST",
            "/api/pattas/cases".into(),
            json!({"beneficiary_id": b["id"], "nik": NIK_SUKARTI, "needs": ["shelter"], "description": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_beneficiary",
        ),
        (
            "POST",
            "/api/pattas/cases".into(),
            json!({"beneficiary_id": 999, "needs": ["shelter"], "description": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_beneficiary",
        ),
        (
            "POST",
            "/api/pattas/cases".into(),
            json!({"beneficiary_id": b["id"], "needs": ["shelter"], "description": "   "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        // Invalid transitions: a reported case cannot be assisted or closed.
        (
            "POST",
            format!("/api/pattas/cases/{cid}/assist"),
            json!({}),
            StatusCode::CONFLICT,
            "invalid_transition",
        ),
        (
            "POST",
            format!("/api/pattas/cases/{cid}/close"),
            json!({"summary": "selesai"}),
            StatusCode::CONFLICT,
            "invalid_transition",
        ),
        (
            "POST",
            format!("/api/pattas/cases/{cid}/assistance"),
            json!({"date": "2026-12-01", "kind": "insurance", "amount_rp": 0}),
            StatusCode::CONFLICT,
            "invalid_transition",
        ),
        (
            "POST",
            format!("/api/pattas/cases/{cid}/transports"),
            transport_body(T0 + 5 * H),
            StatusCode::CONFLICT,
            "invalid_transition",
        ),
        (
            "POST",
            format!("/api/pattas/cases/{cid}/reject"),
            json!({"reason": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "POST",
            format!("/api/pattas/cases/{cid}/verify"),
            json!({"note": 5}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "POST",
            "/api/pattas/cases/999/verify".into(),
            json!({}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "POST",
            "/api/pattas/cases/abc/verify".into(),
            json!({}),
            // Not an id at all: the one path-id rule of every module.
            StatusCode::BAD_REQUEST,
            "invalid_id",
        ),
        (
            "POST",
            "/api/pattas/cases/-1/verify".into(),
            json!({}),
            // Not an id at all: the one path-id rule of every module.
            StatusCode::BAD_REQUEST,
            "invalid_id",
        ),
        (
            "POST",
            "/api/pattas/cases/99999999999999999999/verify".into(),
            json!({}),
            // Not an id at all: the one path-id rule of every module.
            StatusCode::BAD_REQUEST,
            "invalid_id",
        ),
    ];
    for (method, path, body, want, code) in bad.drain(..) {
        let (s, e) = w.call(method, &path, "officer", Some(body.clone())).await;
        assert_eq!(
            (s, e["code"].as_str().unwrap_or("")),
            (want, code),
            "{method} {path} {body}: {e}"
        );
        assert!(!e["message"].as_str().unwrap().is_empty());
        assert!(!e["message_id"].as_str().unwrap().is_empty());
    }
    assert_eq!(w.snapshot().await, snap);

    // Now verified: assistance and transport checks on their values.
    w.post_ok(
        &format!("/api/pattas/cases/{cid}/verify"),
        "officer",
        json!({}),
    )
    .await;
    let snap = w.snapshot().await;
    let a = |date: &str, kind: &str, amount: Value| json!({"date": date, "kind": kind, "amount_rp": amount});
    let tb = |k: &str, v: Value| {
        let mut x = transport_body(T0 + 5 * H);
        x[k] = v;
        x
    };
    let bad2: Vec<(&str, Value, &str)> = vec![
        (
            "assistance",
            a("2026-12-01", "insurance", json!(-1)),
            "invalid_amount",
        ),
        (
            "assistance",
            a("2026-12-01", "insurance", json!(1.5)),
            "invalid_body",
        ),
        (
            "assistance",
            a("2026-12-01", "insurance", json!(2_000_000_000)),
            "invalid_amount",
        ),
        (
            "assistance",
            a("2026-12-02", "insurance", json!(10)),
            "invalid_date",
        ),
        (
            "assistance",
            a("2026-11-30", "insurance", json!(10)),
            "invalid_date",
        ),
        (
            "assistance",
            a("2026-13-01", "insurance", json!(10)),
            "invalid_date",
        ),
        (
            "assistance",
            a("2026-12-01", "pulsa", json!(10)),
            "invalid_need",
        ),
        (
            "transports",
            tb("scheduled_for", json!(T0 - 1)),
            "invalid_time",
        ),
        (
            "transports",
            tb("scheduled_for", json!(T0 + 31 * 24 * H)),
            "invalid_time",
        ),
        (
            "transports",
            tb("scheduled_for", json!("besok pagi")),
            "invalid_time",
        ),
        (
            "transports",
            tb("scheduled_for", json!(null)),
            "invalid_time",
        ),
        (
            "transports",
            tb(
                "pickup",
                json!({"lat": -6.2, "lon": 106.8, "address": "Jakarta"}),
            ),
            "invalid_position",
        ),
        (
            "transports",
            tb("pickup", json!({"lat": -7.42, "lon": 109.22})),
            "invalid_body",
        ),
        ("transports", tb("purpose", json!("")), "invalid_field"),
        ("transports", tb("wheelchair", json!(true)), "invalid_body"),
    ];
    for (path, body, code) in bad2 {
        let (s, e) = w
            .call(
                "POST",
                &format!("/api/pattas/cases/{cid}/{path}"),
                "officer",
                Some(body.clone()),
            )
            .await;
        assert!(s.is_client_error(), "{path} {body}: {s}");
        assert_eq!(e["code"], code, "{path} {body}: {e}");
    }
    assert_eq!(w.desk.count(), 0);

    // Malformed bodies, wrong content type, bad queries.
    let (s, e) = w
        .raw(
            "POST",
            "/api/pattas/beneficiaries",
            Some("officer"),
            Some("{\"nik\":".into()),
            "application/json",
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_json"))
    );
    let (s, e) = w
        .raw(
            "POST",
            "/api/pattas/beneficiaries",
            Some("officer"),
            Some(darsono().to_string()),
            "text/plain",
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("unsupported_media_type")
        )
    );
    let (s, e) = w
        .raw(
            "POST",
            "/api/pattas/beneficiaries",
            Some("officer"),
            Some(format!("{{\"name\": \"{}\"}}", "x".repeat(70_000))),
            "application/json",
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("body_too_large"))
    );
    for q in [
        "status=lost",
        "limit=0",
        "limit=9999",
        "limit=-1",
        "nonsense=1",
        "beneficiary_id=x",
    ] {
        let (s, e) = w
            .call("GET", &format!("/api/pattas/cases?{q}"), "officer", None)
            .await;
        assert!(s.is_client_error(), "{q}: {s}");
        assert!(!e["message_id"].as_str().unwrap().is_empty(), "{q}");
    }
    for q in [
        "from=2026-13-01",
        "from=2026-12-05&to=2026-12-01",
        "from=kemarin",
    ] {
        let (s, e) = w
            .call(
                "GET",
                &format!("/api/pattas/reports/cases?{q}"),
                "officer",
                None,
            )
            .await;
        assert!(s.is_client_error(), "{q}: {s} {e}");
    }
    assert_eq!(w.snapshot().await, snap);
}
