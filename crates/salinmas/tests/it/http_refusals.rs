//! Refused requests over HTTP: every refusal changes nothing, integral
//! floats are integers, and a record the body names that does not exist is 422.

use axum::http::StatusCode;
use satria_auth::Role;
use serde_json::{Value, json};

use crate::support::*;

on_each_backend!(#[tokio::test] async fn refused_inputs_change_nothing);
async fn refused_inputs_change_nothing(backend: Backend) {
    let Some(env) = Env::on(backend) else {
        return;
    };
    let a1 = env.account("Melati", "Sokanegara", SOKA.0, SOKA.1).await;
    let h1 = env.user("rumah1", Role::SalinmasHousehold, Some(a1));
    let o = env.officer.clone();
    let before = env.fingerprint();

    let base_account = json!({
        "kind": "household", "name": "Bu Sri", "kelurahan": "Sokanegara", "rt": "1", "rw": "2",
        "address": "Jl. Gereja 5", "lat": SOKA.0, "lon": SOKA.1, "phone": "081234567890"
    });
    let with = |base: &Value, k: &str, v: Value| {
        let mut b = base.clone();
        if v.is_null() {
            b.as_object_mut().unwrap().remove(k);
        } else {
            b[k] = v;
        }
        b
    };
    let cases = vec![
        (
            "POST",
            "/api/salinmas/accounts",
            with(&base_account, "kind", json!("company")),
            "invalid_kind",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/accounts",
            with(&base_account, "kelurahan", json!("Atlantis")),
            "unknown_kelurahan",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/accounts",
            with(&base_account, "kelurahan", json!("Karangklesem")),
            "unknown_kelurahan",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/accounts",
            with(&base_account, "rt", json!("0")),
            "invalid_rt_rw",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/accounts",
            with(&base_account, "phone", json!("12345")),
            "invalid_phone",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/accounts",
            with(&base_account, "lat", json!(-6.2)),
            "outside_region",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/accounts",
            with(&base_account, "name", json!("x".repeat(101))),
            "too_long",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/accounts",
            with(&base_account, "members", json!(0)),
            "invalid_members",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/accounts",
            with(&base_account, "nik", json!("3302")),
            "invalid_body",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/accounts",
            with(&base_account, "name", Value::Null),
            "invalid_body",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/accounts",
            base_account.clone(),
            "forbidden",
            &h1,
        ),
        (
            "POST",
            "/api/salinmas/collectors",
            json!({"name": "K", "kelurahan": [], "phone": "081234567890"}),
            "invalid_kelurahan",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/collectors",
            json!({"name": "K", "kelurahan": ["Sokanegara", "sokanegara"], "phone": "081234567890"}),
            "repeated_kelurahan",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/collectors",
            json!({"name": "K", "kelurahan": ["Ajibarang Kulon"], "phone": "081234567890"}),
            "unknown_kelurahan",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/prices",
            json!({"category": "gold", "price_per_kg_rp": 10, "valid_from": "2026-04-01"}),
            "unknown_category",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/prices",
            json!({"category": "metal", "price_per_kg_rp": -1, "valid_from": "2026-04-01"}),
            "invalid_price",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/prices",
            json!({"category": "metal", "price_per_kg_rp": 10, "valid_from": "2026-02-30"}),
            "invalid_date",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/prices",
            json!({"category": "metal", "price_per_kg_rp": 2.5, "valid_from": "2026-04-01"}),
            "invalid_body",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/prices",
            json!({"category": "metal", "price_per_kg_rp": 10, "valid_from": "2026-04-01"}),
            "forbidden",
            &h1,
        ),
        (
            "POST",
            "/api/salinmas/kelurahan",
            json!({"name": "Karangklesem"}),
            "ambiguous_kelurahan",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/kelurahan",
            json!({"name": "Atlantis"}),
            "unknown_kelurahan",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/kelurahan",
            json!({"name": "Sokanegara"}),
            "duplicate_kelurahan",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/kelurahan",
            json!({"name": "Bantarsoka"}),
            "forbidden",
            &h1,
        ),
    ];
    let pickup_cases = vec![
        ("estimated_kg", json!(0), "invalid_weight"),
        ("estimated_kg", json!(-3), "invalid_weight"),
        (
            "categories",
            json!(["organic", "uranium"]),
            "unknown_category",
        ),
        ("categories", json!([]), "invalid_categories"),
        (
            "categories",
            json!(["paper", "paper"]),
            "duplicate_category",
        ),
        ("window_end", json!("2026-03-02T07:30"), "invalid_window"),
        ("window_start", json!("tomorrow"), "invalid_window"),
        ("window_end", json!("2026-03-01T11:00"), "invalid_window"),
        ("lat", json!(91), "outside_region"),
        ("address", json!(""), "missing_field"),
        ("notes", json!("n".repeat(501)), "too_long"),
        ("priority", json!("high"), "invalid_body"),
    ];
    for (method, uri, body, code, tok) in cases {
        let (st, e) = env.call(method, uri, tok, Some(body.clone())).await;
        assert!(st.is_client_error(), "{uri} {body}: {st}");
        assert_eq!(e["code"], code, "{uri} {body}: {e}");
        assert!(!e["message_id"].as_str().unwrap_or("").is_empty());
    }
    for (k, v, code) in pickup_cases {
        let body = with(&pickup_body(SOKA.0, SOKA.1), k, v);
        let (st, e) = env
            .call("POST", "/api/salinmas/pickups", &h1, Some(body.clone()))
            .await;
        assert!(st.is_client_error(), "{body}: {st}");
        assert_eq!(e["code"], code, "{body}: {e}");
    }
    // An officer must name the account; a missing account is refused.
    let (st, e) = env
        .call(
            "POST",
            "/api/salinmas/pickups",
            &o,
            Some(pickup_body(SOKA.0, SOKA.1)),
        )
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("missing_field"))
    );
    let (st, e) = env
        .call(
            "POST",
            "/api/salinmas/pickups",
            &o,
            Some(with(
                &pickup_body(SOKA.0, SOKA.1),
                "account_id",
                json!(4242),
            )),
        )
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        // The body names a record that does not exist: 422 (404 is for
        // the record the path names).
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_account"))
    );
    // Malformed requests.
    for (uri, raw, code) in [
        ("/api/salinmas/pickups", "{", "malformed_json"),
        ("/api/salinmas/pickups", "[]", "invalid_body"),
        (
            "/api/salinmas/pickups/abc/cancel",
            "{\"reason\": \"x\"}",
            "invalid_id",
        ),
        (
            "/api/salinmas/pickups/-1/cancel",
            "{\"reason\": \"x\"}",
            "invalid_id",
        ),
        (
            "/api/salinmas/pickups/1/accept",
            "{\"scheduled_date\": 5}",
            "invalid_body",
        ),
        ("/api/salinmas/pickups/1/accept", "{nope", "malformed_json"),
    ] {
        // A household may not accept: the role is checked before the body
        // (403 whatever it sent), so an officer sends the malformed accepts.
        let who = if uri.ends_with("/accept") { &o } else { &h1 };
        let (st, e) = env.raw("POST", uri, who, Some(raw.into())).await;
        assert!(st.is_client_error(), "{uri} {raw}: {st}");
        assert_eq!(e["code"], code, "{uri} {raw}: {e}");
    }
    let (st, e) = env
        .raw(
            "POST",
            "/api/salinmas/pickups",
            &h1,
            Some(format!("{{\"address\": \"{}\"}}", "x".repeat(70_000))),
        )
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("body_too_large"))
    );
    for uri in [
        "/api/salinmas/pickups?colour=red",
        "/api/salinmas/pickups?status=lost",
        "/api/salinmas/pickups?date=2026-3-1",
        "/api/salinmas/reports/weights?from=2026-03-01",
        "/api/salinmas/reports/weights?from=2026-03-09&to=2026-03-01",
        "/api/salinmas/reports/weights?from=2026-01-01&to=2027-06-01",
        "/api/salinmas/routes/1?date=2026-03-02&start_lat=x&start_lon=109.2",
        "/api/salinmas/routes/1?date=2026-03-02&start_lat=-6.2&start_lon=106.8",
    ] {
        let (st, e) = env.call("GET", uri, &o, None).await;
        assert!(st.is_client_error(), "{uri}: {st}");
        assert!(
            e["code"].is_string() && e["message_id"].is_string(),
            "{uri}: {e}"
        );
    }
    // A start with one coordinate: each parameter reads, the pair is invalid.
    let (st, e) = env
        .call(
            "GET",
            "/api/salinmas/routes/1?date=2026-03-02&start_lat=-7.4",
            &o,
            None,
        )
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_query")),
        "{e}"
    );
    assert_eq!(env.fingerprint(), before);
}

on_each_backend!(#[tokio::test] async fn integral_floats_are_integers_and_missing_references_are_422);
/// A whole number written as 5000.0 is the integer JSON Schema says it is; a
/// fraction is refused; an account that does not exist is 422 (the body names it; issue 14:
/// schemathesis found both).
async fn integral_floats_are_integers_and_missing_references_are_422(backend: Backend) {
    let Some(env) = Env::on(backend) else {
        return;
    };
    let p = env
        .ok(
            "POST",
            "/api/salinmas/prices",
            &env.officer,
            Some(json!({"category": "plastic", "price_per_kg_rp": 5000.0, "valid_from": "2026-03-10"})),
        )
        .await;
    assert_eq!(p["price_per_kg_rp"], 5000, "{p}");
    let (st, e) = env
        .call(
            "POST",
            "/api/salinmas/prices",
            &env.officer,
            Some(json!({"category": "plastic", "price_per_kg_rp": 5000.5, "valid_from": "2026-03-11"})),
        )
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body")),
        "{e}"
    );
    let (st, e) = env
        .call(
            "POST",
            "/api/salinmas/accounts/4242/payouts",
            &env.officer,
            Some(json!({"amount_rp": 1000.0, "method": "cash"})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
}
