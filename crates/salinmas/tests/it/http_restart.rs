//! What outlives a restart: every record after a reopen, and the demo
//! records the demo logins are bound to.

use satria_auth::Role;
use serde_json::json;

use crate::support::*;

on_each_backend!(#[tokio::test] async fn everything_survives_a_reopen);
async fn everything_survives_a_reopen(backend: Backend) {
    let Some(env) = Env::on(backend) else {
        return;
    };
    let a1 = env.account("Melati", "Sokanegara", SOKA.0, SOKA.1).await;
    let ksm = env.collector("KSM Soka", &["Sokanegara"]).await;
    let h = env.user("rumah1", Role::SalinmasHousehold, Some(a1));
    let c = env.user("ksm-a", Role::SalinmasCollector, Some(ksm));
    env.ok(
        "POST",
        "/api/salinmas/kelurahan",
        &env.officer,
        Some(json!({"name": "Bantarsoka"})),
    )
    .await;
    let p = env
        .ok(
            "POST",
            "/api/salinmas/pickups",
            &h,
            Some(pickup_body(SOKA.0, SOKA.1)),
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
        Some(json!({"weights": [{"category": "compost", "kg": 4}]})),
    )
    .await;
    env.ok(
        "POST",
        &format!("/api/salinmas/accounts/{a1}/payouts"),
        &env.officer,
        Some(json!({"amount_rp": 3000, "method": "cash"})),
    )
    .await;
    let before = env.fingerprint();
    let demo = env.store(|s| s.seed_demo(at("2026-03-02T07:00"))).unwrap();

    let Env {
        place,
        auth,
        s,
        clock,
        ..
    } = env;
    drop(s);
    let s2 = open_salinmas(&place, &clock);
    let env2 = Env {
        app: app_of(&auth, &s2),
        s: s2,
        place,
        auth,
        clock,
        officer: String::new(),
    };
    let mut after = env2.fingerprint();
    // The demo records were made before the reopen; compare the rest.
    after["accounts"]
        .as_array_mut()
        .unwrap()
        .retain(|a| a["id"] != demo.household_account_id);
    after["ledgers"]
        .as_array_mut()
        .unwrap()
        .retain(|l| l["account_id"] != demo.household_account_id);
    after["collectors"]
        .as_array_mut()
        .unwrap()
        .retain(|k| k["id"] != demo.collector_group_id);
    assert_eq!(after, before);
    let l = env2
        .ok(
            "GET",
            &format!("/api/salinmas/accounts/{a1}/ledger"),
            &h,
            None,
        )
        .await;
    assert_eq!(l["balance_rp"], 5000);
    assert_eq!(env2.store(|s| s.verify_ledgers()), Ok(2));
    assert_eq!(
        env2.store(|s| s.seed_demo(0)).unwrap(),
        demo,
        "seed_demo is idempotent"
    );
    let officer = env2.principal("petugas");
    let names: Vec<String> = env2
        .store(|s| s.kelurahan(&officer))
        .unwrap()
        .into_iter()
        .map(|k| k.name)
        .collect();
    assert_eq!(
        names,
        vec!["Bantarsoka", "Kedungwuluh", "Purwokerto Lor", "Sokanegara"]
    );
}

on_each_backend!(#[tokio::test] async fn the_demo_logins_work_against_the_seeded_records);
async fn the_demo_logins_work_against_the_seeded_records(backend: Backend) {
    let Some(env) = Env::on(backend) else {
        return;
    };
    let demo = env.store(|s| s.seed_demo(at("2026-03-02T06:00"))).unwrap();
    assert_eq!(
        env.store(|s| s.seed_demo(at("2026-03-02T06:30"))).unwrap(),
        demo
    );
    let h = env.user(
        "demo_rumah",
        Role::SalinmasHousehold,
        Some(demo.household_account_id),
    );
    let c = env.user(
        "demo_ksm",
        Role::SalinmasCollector,
        Some(demo.collector_group_id),
    );
    let acc = env
        .ok(
            "GET",
            &format!("/api/salinmas/accounts/{}", demo.household_account_id),
            &h,
            None,
        )
        .await;
    assert_eq!(acc["kelurahan"], "Sokanegara");
    let p = env
        .ok(
            "POST",
            "/api/salinmas/pickups",
            &h,
            Some(pickup_body(
                acc["lat"].as_f64().unwrap(),
                acc["lon"].as_f64().unwrap(),
            )),
        )
        .await;
    env.ok(
        "POST",
        &format!("/api/salinmas/pickups/{}/accept", p["id"]),
        &c,
        None,
    )
    .await;
}
