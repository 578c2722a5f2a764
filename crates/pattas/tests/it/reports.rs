//! The case and assistance reports.

use serde_json::json;

use crate::support::*;

on_every_backend!(async: reports_count_cases_and_total_assistance);

async fn reports_count_cases_and_total_assistance(backend: Backend) {
    let Some(w) = world_on(backend) else {
        return;
    };
    let b1 = w
        .post_ok("/api/pattas/beneficiaries", "officer", sukarti())
        .await;
    let b2 = w
        .post_ok("/api/pattas/beneficiaries", "officer", darsono())
        .await;
    let c1 = w
        .post_ok(
            "/api/pattas/cases",
            "officer",
            json!({"beneficiary_id": b1["id"], "needs": ["transport"], "description": "x"}),
        )
        .await;
    let c2 = w
        .post_ok(
            "/api/pattas/cases",
            "mitra1",
            json!({"nik": NIK_DARSONO, "needs": ["insurance"], "description": "x"}),
        )
        .await;
    let (c1, c2) = (c1["id"].as_i64().unwrap(), c2["id"].as_i64().unwrap());
    // Reporting by NIK shows the mitra a name it may not have known: recorded.
    let subject = format!("pattas_beneficiary:{}", b2["id"]);
    assert!(
        w.log
            .entries()
            .iter()
            .any(|(u, a, s, _)| u == "mitra1" && a == "read" && *s == subject)
    );
    w.post_ok(
        &format!("/api/pattas/cases/{c1}/verify"),
        "officer",
        json!({}),
    )
    .await;
    for (date, kind, amount) in [
        ("2026-12-01", "transport", 150_000),
        ("2026-12-01", "waiting_costs", 200_000),
    ] {
        w.post_ok(
            &format!("/api/pattas/cases/{c1}/assistance"),
            "officer",
            json!({"date": date, "kind": kind, "amount_rp": amount}),
        )
        .await;
    }
    // A month later (January), more assistance.
    w.advance(40 * 24 * H);
    w.post_ok(
        &format!("/api/pattas/cases/{c1}/assistance"),
        "officer",
        json!({"date": "2027-01-10", "kind": "transport", "amount_rp": 50_000, "notes": "ojek"}),
    )
    .await;
    w.post_ok(
        &format!("/api/pattas/cases/{c1}/assistance"),
        "officer",
        json!({"date": "2027-01-10", "kind": "family_food", "amount_rp": 0}),
    )
    .await;

    let r = w
        .get(
            "/api/pattas/reports/cases?from=2026-12-01&to=2026-12-31",
            "officer",
        )
        .await;
    assert_eq!(r["total"], 2);
    assert_eq!(r["by_status"]["in_assistance"], 1);
    assert_eq!(r["by_status"]["reported"], 1);
    assert_eq!(r["by_status"]["closed"], 0);
    assert_eq!(r["overdue"], 1, "{r}");
    assert_eq!(r["overdue_by_step"]["verify"], 1);
    let desa: Vec<(String, i64)> = r["by_desa"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["desa"].as_str().unwrap().to_string(),
                d["total"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        desa,
        vec![
            ("Kedungwuluh".to_string(), 1),
            ("Sokanegara".to_string(), 1)
        ]
    );
    let r = w
        .get("/api/pattas/reports/cases?from=2026-12-02", "officer")
        .await;
    assert_eq!(r["total"], 0);
    // The WIB day boundary: 2026-12-01 00:00 WIB is 2026-11-30 17:00 UTC.
    let r = w
        .get("/api/pattas/reports/cases?to=2026-11-30", "officer")
        .await;
    assert_eq!(r["total"], 0);

    let a = w.get("/api/pattas/reports/assistance", "officer").await;
    assert_eq!(a["total"], json!({"count": 4, "amount_rp": 400_000}));
    assert_eq!(
        a["by_kind"]["transport"],
        json!({"count": 2, "amount_rp": 200_000})
    );
    assert_eq!(
        a["by_kind"]["waiting_costs"],
        json!({"count": 1, "amount_rp": 200_000})
    );
    assert_eq!(a["by_kind"]["shelter"], json!({"count": 0, "amount_rp": 0}));
    let months: Vec<(String, String, i64)> = a["by_month"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["month"].as_str().unwrap().into(),
                m["kind"].as_str().unwrap().into(),
                m["amount_rp"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        months,
        vec![
            ("2026-12".into(), "transport".into(), 150_000),
            ("2026-12".into(), "waiting_costs".into(), 200_000),
            ("2027-01".into(), "family_food".into(), 0),
            ("2027-01".into(), "transport".into(), 50_000),
        ]
    );
    let a = w
        .get(
            "/api/pattas/reports/assistance?from=2027-01-01&to=2027-01-31",
            "admin",
        )
        .await;
    assert_eq!(a["total"], json!({"count": 2, "amount_rp": 50_000}));
    let _ = c2;
}
