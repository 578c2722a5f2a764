//! Who sees what: roles, mitra isolation, and the record of every read of
//! a beneficiary's personal data.

use axum::http::StatusCode;
use satria_pattas::*;
use serde_json::{Value, json};

use crate::support::*;

on_every_backend!(async:
    roles_and_mitra_isolation,
    every_read_of_personal_data_is_recorded,
);

async fn roles_and_mitra_isolation(backend: Backend) {
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
            json!({"beneficiary_id": b["id"], "needs": ["shelter"], "description": "x"}),
        )
        .await;
    let b2 = w
        .post_ok("/api/pattas/beneficiaries", "mitra2", darsono())
        .await;
    let cid = c["id"].as_i64().unwrap();
    let bid = b["id"].as_i64().unwrap();
    let snap = w.snapshot().await;

    // mitra2 sees neither mitra1's case nor its beneficiary: 404, not 403.
    for path in [
        format!("/api/pattas/cases/{cid}"),
        format!("/api/pattas/beneficiaries/{bid}"),
    ] {
        let (s, e) = w.call("GET", &path, "mitra2", None).await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found")),
            "{path}"
        );
    }
    assert_eq!(w.get("/api/pattas/cases", "mitra2").await, json!([]));
    let mine = w.get("/api/pattas/beneficiaries", "mitra2").await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["id"], b2["id"]);
    // Nor can it report on mitra1's beneficiary by id; by NIK it learns a case is open.
    let (s, e) = w
        .call(
            "POST",
            "/api/pattas/cases",
            "mitra2",
            Some(json!({"beneficiary_id": bid, "needs": ["shelter"], "description": "x"})),
        )
        .await;
    // The same answer as for an id that does not exist: it learns nothing.
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("unknown_beneficiary")
        )
    );
    let (s, e) = w
        .call(
            "POST",
            "/api/pattas/cases",
            "mitra2",
            Some(json!({"nik": NIK_SUKARTI, "needs": ["shelter"], "description": "x"})),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("open_case_exists"))
    );
    // Mitra may not do officer work.
    for (m, p, body) in [
        (
            "PATCH",
            format!("/api/pattas/beneficiaries/{bid}"),
            Some(json!({"name": "x"})),
        ),
        (
            "POST",
            format!("/api/pattas/cases/{cid}/verify"),
            Some(json!({})),
        ),
        (
            "POST",
            format!("/api/pattas/cases/{cid}/reject"),
            Some(json!({"reason": "x"})),
        ),
        (
            "POST",
            format!("/api/pattas/cases/{cid}/assistance"),
            Some(json!({"date": "2026-12-01", "kind": "shelter", "amount_rp": 1})),
        ),
        ("GET", "/api/pattas/reports/cases".to_string(), None),
        ("GET", "/api/pattas/reports/assistance".to_string(), None),
    ] {
        let (s, e) = w.call(m, &p, "mitra1", body).await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{m} {p}"
        );
    }
    // Other roles: 403 everywhere, even with a bad body.
    for who in ["crew", "salinmas"] {
        for op in OPERATIONS {
            let path = op
                .path
                .replace("{id}", &cid.to_string())
                .replace("{tid}", "TR-1");
            let (s, e) = w
                .call(
                    &op.method.to_uppercase(),
                    &path,
                    who,
                    op.body.map(|_| json!({"junk": 1})),
                )
                .await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{who} {} {path}: {e}", op.method);
        }
    }
    assert_eq!(w.snapshot().await, snap);

    // Admin sees and does everything.
    w.post_ok(
        &format!("/api/pattas/cases/{cid}/verify"),
        "admin",
        json!({}),
    )
    .await;
    // The officer may correct a beneficiary; the history names the fields.
    let (s, p) = w
        .call(
            "PATCH",
            &format!("/api/pattas/beneficiaries/{bid}"),
            "officer",
            Some(json!({"phone": null, "rt": "7", "bpjs": "mandiri"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(
        (p["phone"].clone(), p["rt"].clone(), p["bpjs"].clone()),
        (Value::Null, json!("007"), json!("mandiri"))
    );
    let d = w
        .get(&format!("/api/pattas/beneficiaries/{bid}"), "mitra1")
        .await;
    assert_eq!(d["history"][1]["action"], "updated");
    assert_eq!(
        d["history"][1]["details"]["fields"],
        json!(["rt", "phone", "bpjs"])
    );
    // Officer search: name substring, NIK prefix, desa.
    assert_eq!(
        w.get("/api/pattas/beneficiaries?q=sukar", "officer")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        w.get("/api/pattas/beneficiaries?q=33020112", "officer")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        w.get("/api/pattas/beneficiaries?q=3302", "officer")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        w.get("/api/pattas/beneficiaries?q=%25", "officer")
            .await
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        w.get("/api/pattas/beneficiaries?desa=sokanegara", "officer")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        w.get("/api/pattas/cases?desa=Kedungwuluh", "officer")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        w.get("/api/pattas/cases?desa=Sokanegara", "officer")
            .await
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

async fn every_read_of_personal_data_is_recorded(backend: Backend) {
    let Some(w) = world_on(backend) else {
        return;
    };
    let b = w
        .post_ok("/api/pattas/beneficiaries", "mitra1", sukarti())
        .await;
    let bid = b["id"].as_i64().unwrap();
    let c = w
        .post_ok(
            "/api/pattas/cases",
            "mitra1",
            json!({"beneficiary_id": bid, "needs": ["transport"], "description": "x"}),
        )
        .await;
    let cid = c["id"].as_i64().unwrap();
    w.post_ok(
        &format!("/api/pattas/cases/{cid}/verify"),
        "officer",
        json!({}),
    )
    .await;
    assert!(
        w.log.entries().is_empty(),
        "writes read nothing back beyond what was sent"
    );
    let subject = format!("pattas_beneficiary:{bid}");
    w.get(&format!("/api/pattas/beneficiaries/{bid}"), "mitra1")
        .await;
    w.get("/api/pattas/beneficiaries", "officer").await;
    w.get(&format!("/api/pattas/cases/{cid}"), "officer").await;
    w.get("/api/pattas/cases", "mitra1").await;
    w.post_ok(
        &format!("/api/pattas/cases/{cid}/transports"),
        "officer",
        transport_body(T0 + 2 * H),
    )
    .await;
    let got: Vec<(String, String, String)> = w
        .log
        .entries()
        .into_iter()
        .map(|(u, a, s, _)| (u, a, s))
        .collect();
    let want: Vec<(String, String, String)> = [
        ("mitra1", "read"),
        ("officer", "list"),
        ("officer", "read"),
        ("mitra1", "list"),
        ("officer", "export"),
    ]
    .iter()
    .map(|(u, a)| (u.to_string(), a.to_string(), subject.clone()))
    .collect();
    assert_eq!(got, want);
    assert!(
        w.log.entries()[2]
            .3
            .contains(&format!("/api/pattas/cases/{cid}"))
    );
    // A refused read records nothing.
    let n = w.log.entries().len();
    let (s, _) = w
        .call(
            "GET",
            &format!("/api/pattas/beneficiaries/{bid}"),
            "mitra2",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(w.log.entries().len(), n);
}
