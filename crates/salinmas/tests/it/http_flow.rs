//! The whole pickup flow over HTTP, request to payout, and concurrent
//! payouts that must never overdraw.

use std::sync::Arc;

use axum::http::StatusCode;
use satria_auth::Role;
use serde_json::json;

use crate::support::*;

on_each_backend!(#[tokio::test] async fn the_full_flow_from_request_to_payout);
async fn the_full_flow_from_request_to_payout(backend: Backend) {
    let Some(env) = Env::on(backend) else {
        return;
    };
    let household = env
        .account("Dasawisma Melati", "Sokanegara", SOKA.0, SOKA.1)
        .await;
    let ksm = env
        .collector("KSM Soka Bersih", &["Sokanegara", "Purwokerto Lor"])
        .await;
    let far = env.collector("KSM Kedungwuluh", &["Kedungwuluh"]).await;
    let h = env.user("melati", Role::SalinmasHousehold, Some(household));
    let c = env.user("ksm1", Role::SalinmasCollector, Some(ksm));
    let c_far = env.user("ksm2", Role::SalinmasCollector, Some(far));

    // The household requests; nobody else's account is needed.
    let p = env
        .ok(
            "POST",
            "/api/salinmas/pickups",
            &h,
            Some(pickup_body(SOKA.0, SOKA.1)),
        )
        .await;
    assert_eq!(p["status"], "requested");
    assert_eq!(p["kelurahan"], "Sokanegara");
    assert_eq!(p["date"], "2026-03-02");
    // Asked as 08:00 WIB, answered in UTC as RFC 3339 (01:00 UTC).
    assert_eq!(p["window_start"], "2026-03-02T01:00:00.000Z");
    assert_eq!(instant(&p["window_start"]), at("2026-03-02T08:00"));
    let id = p["id"].as_i64().unwrap();
    let pu = format!("/api/salinmas/pickups/{id}");

    // A collector outside the kelurahan: refused, nothing changes.
    let before = env.fingerprint();
    let (st, e) = env
        .call("POST", &format!("{pu}/accept"), &c_far, None)
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    assert_eq!(e["code"], "kelurahan_not_served");
    assert!(e["message_id"].as_str().unwrap().contains("tidak melayani"));
    // Nor can it see the pickup.
    let (st, _) = env.call("GET", &pu, &c_far, None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Collecting before accepting is not a transition.
    let (st, e) = env
        .call(
            "POST",
            &format!("{pu}/collect"),
            &c,
            Some(json!({"weights": [{"category": "organic", "kg": 1}]})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["code"], "invalid_transition");
    assert_eq!(env.fingerprint(), before);

    // The collector of that kelurahan sees it open, and accepts.
    let open = env
        .ok("GET", "/api/salinmas/pickups?status=requested", &c, None)
        .await;
    assert_eq!(open.as_array().unwrap().len(), 1);
    let a = env.ok("POST", &format!("{pu}/accept"), &c, None).await;
    assert_eq!(a["status"], "accepted");
    assert_eq!(a["collector_id"], ksm);
    // Accepting twice is refused.
    let (st, e) = env.call("POST", &format!("{pu}/accept"), &c, None).await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_transition"))
    );

    // A price change dated later must not touch today's credit.
    env.ok(
        "POST",
        "/api/salinmas/prices",
        &env.officer,
        Some(json!({"category": "plastic", "price_per_kg_rp": 5000, "valid_from": "2026-03-10"})),
    )
    .await;

    // Bad weights: refused, nothing changes.
    let before = env.fingerprint();
    for (body, code) in [
        (
            json!({"weights": [{"category": "organic", "kg": 0}]}),
            "invalid_weight",
        ),
        (
            json!({"weights": [{"category": "organic", "kg": -2.5}]}),
            "invalid_weight",
        ),
        (
            json!({"weights": [{"category": "organic", "kg": 0.0001}]}),
            "invalid_weight",
        ),
        (
            json!({"weights": [{"category": "organic", "kg": 9000}]}),
            "invalid_weight",
        ),
        (
            json!({"weights": [{"category": "gold", "kg": 1}]}),
            "unknown_category",
        ),
        (json!({"weights": []}), "invalid_weights"),
        (
            json!({"weights": [{"category": "glass", "kg": 1}, {"category": "glass", "kg": 2}]}),
            "duplicate_category",
        ),
        (
            json!({"weights": [{"category": "organic", "kg": 1, "price": 9}]}),
            "invalid_body",
        ),
        (
            json!({"weights": [{"category": "organic", "kg": "1"}]}),
            "invalid_body",
        ),
        (
            json!({"weights": [{"category": "organic", "kg": 1}], "credit_rp": 1000000}),
            "invalid_body",
        ),
        (
            json!({"weights": [{"category": "organic", "kg": 1, "grams": 1000}]}),
            "invalid_weight",
        ),
        (
            json!({"weights": [{"category": "organic"}]}),
            "invalid_weight",
        ),
        (
            json!({"weights": [{"category": "organic", "grams": 0}]}),
            "invalid_weight",
        ),
        (
            json!({"weights": [{"category": "organic", "grams": 5000001}]}),
            "invalid_weight",
        ),
    ] {
        let (st, e) = env
            .call("POST", &format!("{pu}/collect"), &c, Some(body.clone()))
            .await;
        assert!(st.is_client_error(), "{body}: {st}");
        assert_eq!(e["code"], code, "{body}: {e}");
        assert!(!e["message"].as_str().unwrap().is_empty());
        assert!(!e["message_id"].as_str().unwrap().is_empty());
    }
    let (st, e) = env
        .raw(
            "POST",
            &format!("{pu}/collect"),
            &c,
            Some("{\"weights\": [{\"category\": \"organic\", \"kg\": 1e999}]}".into()),
        )
        .await;
    assert!(st.is_client_error(), "{st} {e}");
    // The household may not collect its own pickup.
    let (st, _) = env
        .call(
            "POST",
            &format!("{pu}/collect"),
            &h,
            Some(json!({"weights": [{"category": "organic", "kg": 1}]})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(env.fingerprint(), before);

    // Collected at 10:00 WIB on 2 March: organic 100, plastic 1,500, compost 2,000 per kg.
    env.set_time("2026-03-02T10:00");
    let done = env
        .ok(
            "POST",
            &format!("{pu}/collect"),
            &c,
            Some(json!({"weights": [
                {"category": "organic", "kg": 12.5},
                {"category": "plastic", "kg": 3.2},
                {"category": "compost", "grams": 2000}
            ]})),
        )
        .await;
    assert_eq!(done["status"], "collected");
    assert_eq!(done["collected_date"], "2026-03-02");
    assert_eq!(done["credit_rp"], 1250 + 4800 + 4000);
    let plastic = done["weights"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["category"] == "plastic")
        .unwrap();
    assert_eq!(plastic["grams"], 3200);
    assert_eq!(plastic["price_per_kg_rp"], 1500);

    // Collected pickups cannot be cancelled, rejected or collected again.
    let before = env.fingerprint();
    for (who, action) in [(&h, "cancel"), (&c, "reject"), (&env.officer, "cancel")] {
        let (st, e) = env
            .call(
                "POST",
                &format!("{pu}/{action}"),
                who,
                Some(json!({"reason": "salah"})),
            )
            .await;
        assert_eq!(
            (st, e["code"].as_str()),
            (StatusCode::CONFLICT, Some("invalid_transition")),
            "{action}"
        );
    }
    let (st, _) = env
        .call(
            "POST",
            &format!("{pu}/collect"),
            &c,
            Some(json!({"weights": [{"category": "organic", "kg": 1}]})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(env.fingerprint(), before);

    // The ledger: one credit, the balance the sum.
    let ledger_uri = format!("/api/salinmas/accounts/{household}/ledger");
    let l = env.ok("GET", &ledger_uri, &h, None).await;
    assert_eq!(l["balance_rp"], 10_050);
    assert_eq!(l["entries"].as_array().unwrap().len(), 1);
    assert_eq!(l["entries"][0]["kind"], "credit");
    assert_eq!(l["entries"][0]["pickup_id"], id);

    // A payout over the balance is refused and changes nothing.
    let payouts = format!("/api/salinmas/accounts/{household}/payouts");
    let before = env.fingerprint();
    let (st, e) = env
        .call(
            "POST",
            &payouts,
            &env.officer,
            Some(json!({"amount_rp": 10_051, "method": "cash"})),
        )
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("insufficient_balance")),
        "{e}"
    );
    assert!(e["message_id"].as_str().unwrap().contains("saldo"));
    for (body, code) in [
        (json!({"amount_rp": 0, "method": "cash"}), "invalid_amount"),
        (json!({"amount_rp": -5, "method": "cash"}), "invalid_amount"),
        (
            json!({"amount_rp": 100, "method": "gold"}),
            "invalid_method",
        ),
        (json!({"amount_rp": 10.5, "method": "cash"}), "invalid_body"),
        (
            json!({"amount_rp": 100, "method": "cash", "balance_rp": 9}),
            "invalid_body",
        ),
    ] {
        let (st, e) = env
            .call("POST", &payouts, &env.officer, Some(body.clone()))
            .await;
        assert!(st.is_client_error(), "{body}");
        assert_eq!(e["code"], code, "{body}");
    }
    // A household cannot pay itself out; a collector of another kelurahan cannot either.
    for who in [&h, &c_far] {
        let (st, _) = env
            .call(
                "POST",
                &payouts,
                who,
                Some(json!({"amount_rp": 100, "method": "cash"})),
            )
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
    }
    assert_eq!(env.fingerprint(), before);

    // The officer pays out by transfer, the collector in cash; the balance follows.
    let e1 = env
        .ok(
            "POST",
            &payouts,
            &env.officer,
            Some(json!({"amount_rp": 5000, "method": "bank_transfer", "reference": "TRX-001"})),
        )
        .await;
    assert_eq!(e1["amount_rp"], -5000);
    assert_eq!(e1["balance_rp"], 5050);
    env.ok(
        "POST",
        &payouts,
        &c,
        Some(json!({"amount_rp": 5050, "method": "cash"})),
    )
    .await;
    let (st, e) = env
        .call(
            "POST",
            &payouts,
            &c,
            Some(json!({"amount_rp": 1, "method": "cash"})),
        )
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("insufficient_balance"))
    );
    let l = env.ok("GET", &ledger_uri, &h, None).await;
    assert_eq!(l["balance_rp"], 0);
    let running: Vec<i64> = l["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["balance_rp"].as_i64().unwrap())
        .collect();
    assert_eq!(running, vec![10_050, 5050, 0]);
    assert_eq!(env.store(|s| s.verify_ledgers()), Ok(3));

    // A price set afterwards for the very day of the collection changes no credit.
    env.ok(
        "POST",
        "/api/salinmas/prices",
        &env.officer,
        Some(json!({"category": "organic", "price_per_kg_rp": 150, "valid_from": "2026-03-01"})),
    )
    .await;
    let again = env.ok("GET", &pu, &h, None).await;
    assert_eq!(again["credit_rp"], 10_050);

    // After 10 March, plastic is credited at the new price.
    env.set_time("2026-03-10T07:00");
    let mut body = pickup_body(SOKA.0, SOKA.1);
    body["window_start"] = json!("2026-03-10T08:00");
    body["window_end"] = json!("2026-03-10T12:00");
    let p2 = env
        .ok("POST", "/api/salinmas/pickups", &h, Some(body))
        .await["id"]
        .as_i64()
        .unwrap();
    env.ok(
        "POST",
        &format!("/api/salinmas/pickups/{p2}/accept"),
        &c,
        Some(json!({"scheduled_date": "2026-03-10"})),
    )
    .await;
    env.set_time("2026-03-10T09:30");
    let d2 = env
        .ok("POST", &format!("/api/salinmas/pickups/{p2}/collect"), &c, Some(json!({"weights": [{"category": "plastic", "kg": 1}, {"category": "organic", "kg": 2}]})))
        .await;
    assert_eq!(d2["credit_rp"], 5000 + 300);
    assert_eq!(
        env.ok("GET", &ledger_uri, &h, None).await["balance_rp"],
        5300
    );

    // The pickup's history names who did what.
    let detail = env.ok("GET", &pu, &env.officer, None).await;
    let actions: Vec<(&str, &str)> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["action"].as_str().unwrap(), h["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("request", "melati"),
            ("accept", "ksm1"),
            ("collect", "ksm1")
        ]
    );
    assert_eq!(detail["history"][1]["role"], "salinmas_collector");

    // Prices: current for a day, and the whole history.
    let prices = env
        .ok("GET", "/api/salinmas/prices?date=2026-03-05", &h, None)
        .await;
    let cur = |cat: &str| {
        prices["current"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["category"] == cat)
            .unwrap()["price_per_kg_rp"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(
        (cur("organic"), cur("plastic"), cur("compost")),
        (150, 1500, 2000)
    );
    assert_eq!(prices["history"].as_array().unwrap().len(), 9);
}

on_each_backend!(#[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn concurrent_payouts_never_overdraw);
/// Concurrent payouts never overdraw: the balance check and the entry are one
/// write transaction (IMMEDIATE on SQLite, under the store's lock on PostgreSQL).
async fn concurrent_payouts_never_overdraw(backend: Backend) {
    let Some(env) = Env::on(backend).map(Arc::new) else {
        return;
    };
    let a1 = env.account("Melati", "Sokanegara", SOKA.0, SOKA.1).await;
    let ksm = env.collector("KSM Soka", &["Sokanegara"]).await;
    let c = env.user("ksm-a", Role::SalinmasCollector, Some(ksm));
    let p = env
        .ok(
            "POST",
            "/api/salinmas/pickups",
            &env.officer,
            Some({
                let mut b = pickup_body(SOKA.0, SOKA.1);
                b["account_id"] = json!(a1);
                b
            }),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    env.ok(
        "POST",
        &format!("/api/salinmas/pickups/{p}/accept"),
        &c,
        None,
    )
    .await;
    env.ok(
        "POST",
        &format!("/api/salinmas/pickups/{p}/collect"),
        &c,
        Some(json!({"weights": [{"category": "compost", "kg": 5}]})),
    )
    .await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let env = Arc::clone(&env);
        tasks.push(tokio::spawn(async move {
            env.call(
                "POST",
                &format!("/api/salinmas/accounts/{a1}/payouts"),
                &env.officer,
                Some(json!({"amount_rp": 1000, "method": "cash"})),
            )
            .await
            .0
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::CREATED => ok += 1,
            StatusCode::CONFLICT => {}
            other => panic!("{other}"),
        }
    }
    assert_eq!(ok, 10);
    let officer = env.principal("petugas");
    assert_eq!(env.store(|s| s.ledger(&officer, a1)).unwrap().balance_rp, 0);
    assert_eq!(env.store(|s| s.verify_ledgers()), Ok(11));
}
