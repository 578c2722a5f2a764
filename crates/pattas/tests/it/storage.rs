//! The database (a SQLite file, or a PostgreSQL database): migrations,
//! reopening and restarts keep the data, a newer schema is refused, and the
//! demo seed is idempotent.

use satria_auth::{Principal, Role};
use satria_pattas::*;
use serde_json::json;

use crate::support::*;

on_every_backend!(sync:
    migrations_are_idempotent_and_data_survives_reopening,
    demo_seed_is_idempotent_and_in_every_state,
);
on_every_backend!(async: everything_survives_a_restart);

fn migrations_are_idempotent_and_data_survives_reopening(backend: Backend) {
    let Some(place) = Place::new(backend) else {
        return;
    };
    let officer = officer();
    let (bid, cid) = {
        let p = place.pattas();
        assert_eq!(p.schema_version().unwrap(), place.newest_schema());
        let b: NewBeneficiary = serde_json::from_value(sukarti()).unwrap();
        let b = p.create_beneficiary(&officer, b, T0).unwrap();
        let c: NewCase = serde_json::from_value(
            json!({"beneficiary_id": b.id, "needs": ["shelter"], "description": "x"}),
        )
        .unwrap();
        let c = p.report_case(&officer, c, T0).unwrap();
        p.verify_case(&officer, c.id, None, T0 + H).unwrap();
        (b.id, c.id)
    };
    for _ in 0..2 {
        let p = place.pattas();
        assert_eq!(p.schema_version().unwrap(), place.newest_schema());
        let d = p.case(&officer, cid, T0 + 2 * H).unwrap();
        assert_eq!(d.case.status, "verified");
        assert_eq!(d.beneficiary.id, bid);
        assert_eq!(d.history.len(), 2);
        // One per NIK also after reopening.
        let again: NewBeneficiary = serde_json::from_value(sukarti()).unwrap();
        let e = p.create_beneficiary(&officer, again, T0).unwrap_err();
        assert_eq!(e.code(), "duplicate_nik");
    }
    // A database from a newer build is refused, not damaged.
    place.set_schema_version(99);
    let e = place.open(PattasConfig::default()).unwrap_err();
    assert!(e.to_string().contains("newer"), "{e}");
    place.set_schema_version(place.newest_schema());
    let p = place.pattas();
    assert_eq!(p.case(&officer, cid, T0 + 2 * H).unwrap().case.id, cid);
}

fn demo_seed_is_idempotent_and_in_every_state(backend: Backend) {
    let Some(place) = Place::new(backend) else {
        return;
    };
    let p = place.pattas();
    let officer = officer();
    p.seed_demo(T0).unwrap();
    let q = CaseQuery::default();
    let first = p.list_cases(&officer, &q, T0).unwrap();
    p.seed_demo(T0 + H).unwrap();
    let second = p.list_cases(&officer, &q, T0).unwrap();
    assert_eq!(first, second);
    let states: std::collections::BTreeSet<&str> =
        first.iter().map(|c| c.status.as_str()).collect();
    assert_eq!(states.len(), 5, "{states:?}");
    assert!(!p.overdue_cases(&officer, T0).unwrap().is_empty());
    let mitra = Principal {
        username: DEMO_MITRA_USERNAME.into(),
        role: Role::PattasMitra,
        ..officer.clone()
    };
    let theirs = p.list_cases(&mitra, &q, T0).unwrap();
    assert!(!theirs.is_empty() && theirs.len() < first.len());
    let bs = p
        .list_beneficiaries(&officer, &BeneficiaryQuery::default())
        .unwrap();
    assert!(
        bs.iter()
            .all(|b| b.name.contains("(contoh)") && b.banyumas_resident)
    );
}

async fn everything_survives_a_restart(backend: Backend) {
    let Some(mut w) = world_on(backend) else {
        return;
    };
    let b = w
        .post_ok("/api/pattas/beneficiaries", "mitra1", sukarti())
        .await;
    let c = w
        .post_ok(
            "/api/pattas/cases",
            "mitra1",
            json!({"beneficiary_id": b["id"], "needs": ["transport"], "description": "x"}),
        )
        .await;
    let cid = c["id"].as_i64().unwrap();
    w.post_ok(
        &format!("/api/pattas/cases/{cid}/verify"),
        "officer",
        json!({}),
    )
    .await;
    w.post_ok(
        &format!("/api/pattas/cases/{cid}/assistance"),
        "officer",
        json!({"date": "2026-12-01", "kind": "transport", "amount_rp": 75000}),
    )
    .await;
    let t = w
        .post_ok(
            &format!("/api/pattas/cases/{cid}/transports"),
            "officer",
            transport_body(T0 + H),
        )
        .await;
    let before = w.snapshot().await;
    let mine = w.get("/api/pattas/cases", "mitra1").await;
    w.restart();
    assert_eq!(w.snapshot().await, before);
    assert_eq!(w.get("/api/pattas/cases", "mitra1").await, mine);
    // And it goes on from where it was: the trip is done, the case closes.
    w.desk
        .set(t["transport_id"].as_str().unwrap(), "completed", None);
    w.post_ok(
        &format!("/api/pattas/cases/{cid}/close"),
        "officer",
        json!({"summary": "tuntas"}),
    )
    .await;
    w.restart();
    assert_eq!(
        w.get(&format!("/api/pattas/cases/{cid}"), "mitra1").await["status"],
        "closed"
    );
}
