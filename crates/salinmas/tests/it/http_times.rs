//! Every instant in a response is an RFC 3339 string in UTC (issue 16: one
//! HTTP dialect), named without a unit: no field ends in `_ms`.

use std::collections::BTreeMap;

use satria_auth::Role;
use serde_json::{Value, json};

use crate::support::*;

/// The instants Salinmas answers with.
const INSTANTS: [&str; 10] = [
    "added_at",
    "created_at",
    "set_at",
    "window_start",
    "window_end",
    "requested_at",
    "accepted_at",
    "collected_at",
    "closed_at",
    "at",
];

/// Checks every field of `v`: none named `..._ms`, every instant null or RFC
/// 3339 in UTC; records the epoch ms of each instant seen, by name.
fn check(v: &Value, seen: &mut BTreeMap<&'static str, Vec<i64>>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                assert!(!k.ends_with("_ms"), "{k} in {v}");
                if let Some(name) = INSTANTS.iter().find(|n| **n == k.as_str()) {
                    if !x.is_null() {
                        seen.entry(name).or_default().push(instant(x));
                    }
                } else {
                    check(x, seen);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| check(x, seen)),
        _ => {}
    }
}

on_each_backend!(#[tokio::test] async fn every_instant_is_rfc3339_in_utc);
async fn every_instant_is_rfc3339_in_utc(backend: Backend) {
    let Some(env) = Env::on(backend) else {
        return;
    };
    let account = env
        .account("Dasawisma Melati", "Sokanegara", SOKA.0, SOKA.1)
        .await;
    let ksm = env.collector("KSM Soka Bersih", &["Sokanegara"]).await;
    let h = env.user("melati", Role::SalinmasHousehold, Some(account));
    let c = env.user("ksm1", Role::SalinmasCollector, Some(ksm));
    let mut seen = BTreeMap::new();

    // Requested at 07:00 WIB for 08:00–11:00 WIB.
    let p = env
        .ok(
            "POST",
            "/api/salinmas/pickups",
            &h,
            Some(pickup_body(SOKA.0, SOKA.1)),
        )
        .await;
    assert_eq!(p["requested_at"], "2026-03-02T00:00:00.000Z");
    assert_eq!(p["window_start"], "2026-03-02T01:00:00.000Z");
    assert_eq!(p["window_end"], "2026-03-02T04:00:00.000Z");
    assert_eq!(instant(&p["window_end"]), at("2026-03-02T11:00"));
    assert!(p["accepted_at"].is_null() && p["closed_at"].is_null());
    let id = p["id"].as_i64().unwrap();
    // The form a response carries is also one a request may give.
    let mut again = pickup_body(SOKA.0, SOKA.1);
    again["window_start"] = p["window_start"].clone();
    again["window_end"] = p["window_end"].clone();
    let other = env
        .ok("POST", "/api/salinmas/pickups", &h, Some(again))
        .await;
    assert_eq!(
        (&other["window_start"], &other["window_end"]),
        (&p["window_start"], &p["window_end"])
    );

    env.set_time("2026-03-02T07:30");
    let a = env
        .ok(
            "POST",
            &format!("/api/salinmas/pickups/{id}/accept"),
            &c,
            Some(json!({"scheduled_date": "2026-03-02"})),
        )
        .await;
    assert_eq!(a["accepted_at"], "2026-03-02T00:30:00.000Z");
    let route = env
        .ok(
            "GET",
            &format!("/api/salinmas/routes/{ksm}?date=2026-03-02"),
            &c,
            None,
        )
        .await;
    assert_eq!(route["stops"][0]["window_start"], p["window_start"]);
    check(&route, &mut seen);

    env.set_time("2026-03-02T10:00");
    let done = env
        .ok(
            "POST",
            &format!("/api/salinmas/pickups/{id}/collect"),
            &c,
            Some(json!({"weights": [{"category": "organic", "kg": 12.5}]})),
        )
        .await;
    assert_eq!(done["collected_at"], "2026-03-02T03:00:00.000Z");
    env.set_time("2026-03-02T10:30");
    let other_id = other["id"].as_i64().unwrap();
    let closed = env
        .ok(
            "POST",
            &format!("/api/salinmas/pickups/{other_id}/cancel"),
            &h,
            Some(json!({"reason": "tidak di rumah"})),
        )
        .await;
    assert_eq!(closed["closed_at"], "2026-03-02T03:30:00.000Z");
    env.ok(
        "POST",
        &format!("/api/salinmas/accounts/{account}/payouts"),
        &env.officer,
        Some(json!({"amount_rp": 1000, "method": "cash"})),
    )
    .await;
    let ledger = env
        .ok(
            "GET",
            &format!("/api/salinmas/accounts/{account}/ledger"),
            &h,
            None,
        )
        .await;
    assert_eq!(ledger["entries"][0]["at"], "2026-03-02T03:00:00.000Z");
    assert_eq!(instant(&ledger["entries"][1]["at"]), at("2026-03-02T10:30"));

    for uri in [
        format!("/api/salinmas/pickups/{id}"),
        "/api/salinmas/pickups".into(),
        "/api/salinmas/accounts".into(),
        "/api/salinmas/collectors".into(),
        "/api/salinmas/kelurahan".into(),
        "/api/salinmas/prices".into(),
        format!("/api/salinmas/history/account/{account}"),
    ] {
        check(&env.ok("GET", &uri, &env.officer, None).await, &mut seen);
    }
    check(&ledger, &mut seen);
    // Each kind of instant was seen, and the times are the clock's.
    for name in INSTANTS {
        assert!(seen.contains_key(name), "{name} never seen: {seen:?}");
    }
    let opened = at("2026-03-02T07:00");
    for name in ["added_at", "set_at", "created_at", "requested_at"] {
        assert!(
            seen[name].iter().all(|&ms| ms == opened),
            "{name}: {seen:?}"
        );
    }
    assert_eq!(
        seen["closed_at"],
        vec![at("2026-03-02T10:30")],
        "only the cancelled pickup is closed"
    );
}
