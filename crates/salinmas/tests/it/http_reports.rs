//! The weight report over HTTP: by ISO week, kelurahan and category.

use axum::http::StatusCode;
use satria_auth::Role;
use serde_json::{Value, json};

use crate::support::*;

on_each_backend!(#[tokio::test] async fn reports_by_week_kelurahan_and_category);
async fn reports_by_week_kelurahan_and_category(backend: Backend) {
    let Some(env) = Env::on(backend) else {
        return;
    };
    let a1 = env.account("Melati", "Sokanegara", SOKA.0, SOKA.1).await;
    let a2 = env
        .account("Mawar", "Purwokerto Lor", -7.4222, 109.2456)
        .await;
    let _idle = env.account("Kenanga", "Sokanegara", SOKA.0, SOKA.1).await;
    let ksm = env
        .collector("KSM Soka", &["Sokanegara", "Purwokerto Lor"])
        .await;
    let c = env.user("ksm-a", Role::SalinmasCollector, Some(ksm));
    let o = env.officer.clone();
    let collect = async |acc: i64, day: &str, weights: Value| {
        env.set_time(&format!("{day}T07:00"));
        let mut body = pickup_body(SOKA.0, SOKA.1);
        body["account_id"] = json!(acc);
        body["window_start"] = json!(format!("{day}T08:00"));
        body["window_end"] = json!(format!("{day}T10:00"));
        let p = env
            .ok("POST", "/api/salinmas/pickups", &o, Some(body))
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
            Some(json!({"weights": weights})),
        )
        .await;
    };
    collect(
        a1,
        "2026-03-02",
        json!([{"category": "organic", "kg": 10}, {"category": "paper", "kg": 1.5}]),
    )
    .await;
    collect(
        a1,
        "2026-03-04",
        json!([{"category": "organic", "kg": 2.25}]),
    )
    .await;
    collect(a2, "2026-03-04", json!([{"category": "metal", "kg": 3}])).await;
    collect(a1, "2026-03-09", json!([{"category": "organic", "kg": 1}])).await;
    env.ok(
        "POST",
        &format!("/api/salinmas/accounts/{a1}/payouts"),
        &o,
        Some(json!({"amount_rp": 1000, "method": "e_wallet"})),
    )
    .await;

    let r = env
        .ok(
            "GET",
            "/api/salinmas/reports/weights?from=2026-03-01&to=2026-03-31",
            &o,
            None,
        )
        .await;
    let w: Vec<(String, String, String, i64)> = r["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["week"].as_str().unwrap().into(),
                x["kelurahan"].as_str().unwrap().into(),
                x["category"].as_str().unwrap().into(),
                x["grams"].as_i64().unwrap(),
            )
        })
        .collect();
    let t = |a: &str, b: &str, c: &str, g: i64| (a.to_string(), b.to_string(), c.to_string(), g);
    assert_eq!(
        w,
        vec![
            t("2026-W10", "Purwokerto Lor", "metal", 3000),
            t("2026-W10", "Sokanegara", "organic", 12_250),
            t("2026-W10", "Sokanegara", "paper", 1500),
            t("2026-W11", "Sokanegara", "organic", 1000),
        ]
    );
    assert_eq!(r["active_accounts"], 2);
    // 1,000 + 1,800 + 225 + 9,000 + 100.
    assert_eq!(r["credits_earned_rp"], 12_125);
    assert_eq!(r["credits_paid_rp"], 1000);
    let soka = r["kelurahan"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kelurahan"] == "Sokanegara")
        .unwrap()
        .clone();
    assert_eq!(
        (
            soka["active_accounts"].as_i64(),
            soka["collected_pickups"].as_i64()
        ),
        (Some(1), Some(3))
    );
    // One week only.
    let r = env
        .ok(
            "GET",
            "/api/salinmas/reports/weights?from=2026-03-09&to=2026-03-15",
            &o,
            None,
        )
        .await;
    assert_eq!(r["weights"].as_array().unwrap().len(), 1);
    assert_eq!(r["credits_earned_rp"], 100);
    // Reports are for officers.
    let (st, _) = env
        .call(
            "GET",
            "/api/salinmas/reports/weights?from=2026-03-01&to=2026-03-31",
            &c,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}
