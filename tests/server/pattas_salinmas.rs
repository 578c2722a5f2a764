//! The modules through the one server: a Pattas transport goes through
//! dispatch, Salinmas routes its pickups, both in the one OpenAPI document
//! and the one access log.

use crate::support::{Server, add_user};
use reqwest::StatusCode;
use satria_auth::Role;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn pattas_transport_goes_through_dispatch_and_salinmas_routes_its_stops() {
    let s = Server::start().await;
    add_user(&s, "pattas1", Role::PattasOfficer, None);
    let officer = s.login("pattas1").await;
    let dispatcher = s.login("dispatcher1").await;
    let now = satria_server::now_ms();

    // A beneficiary, a case needing transport, verified.
    let (st, b) = s
        .call(
            "post",
            "/api/pattas/beneficiaries",
            Some(&officer),
            Some(json!({
                "nik": "3302015403560001", "name": "Sukarti (uji)", "date_of_birth": "1956-03-14",
                "sex": "P", "desa": "Kedungwuluh", "kecamatan": "Purwokerto Barat", "rt": "3",
                "rw": "02", "phone": "0812-3456-7890", "dtks": true, "bpjs": "pbi",
                "conditions": ["gagal ginjal kronis"]
            })),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let (st, c) = s
        .call(
            "post",
            "/api/pattas/cases",
            Some(&officer),
            Some(json!({"beneficiary_id": b["id"], "needs": ["transport"], "description": "cuci darah dua kali seminggu"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    let case = c["id"].as_i64().unwrap();
    let (st, v) = s
        .call(
            "post",
            &format!("/api/pattas/cases/{case}/verify"),
            Some(&officer),
            None,
        )
        .await;
    assert!(st.is_success(), "{v}");

    // A transport 40 minutes from now: inside the 45-minute lead, so dispatch
    // turns it into an incident at its next tick and gives it a unit no
    // emergency needs.
    let (st, t) = s
        .call(
            "post",
            &format!("/api/pattas/cases/{case}/transports"),
            Some(&officer),
            Some(json!({
                "pickup": {"lat": -7.4231, "lon": 109.2272, "address": "RT 03/RW 02 Kedungwuluh"},
                "destination": {"hospital_id": "3302026", "name": "RSUD Prof. Dr. Margono Soekarjo",
                                "lat": -7.43743, "lon": 109.26738},
                "scheduled_for": now + 40 * 60 * 1000,
                "purpose": "hemodialisis",
                "notes": "kursi roda"
            })),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let tid = t["transport_id"].as_str().unwrap().to_string();
    assert!(tid.starts_with("TRX-"), "{t}");

    let mut unit = None;
    let mut last = Value::Null;
    for _ in 0..50 {
        let (_, c) = s
            .call(
                "get",
                &format!("/api/pattas/cases/{case}"),
                Some(&officer),
                None,
            )
            .await;
        last = c["transports"].clone();
        if last[0]["state"] == "assigned" {
            unit = last[0]["live"]["unit_id"].as_str().map(String::from);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let unit = unit.unwrap_or_else(|| panic!("the transport gets a unit within 5 s: {last}"));
    let (_, units) = s.call("get", "/api/units", Some(&dispatcher), None).await;
    let ty = units
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == unit.as_str())
        .map(|u| u["unit_type"].clone())
        .unwrap();
    assert!(
        ty == "transport" || ty == "bls",
        "{unit} is {ty}: never ALS or a motorbike"
    );
    let (_, incidents) = s
        .call("get", "/api/incidents", Some(&dispatcher), None)
        .await;
    let inc = incidents
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["notes"].as_str().unwrap_or("").contains(&tid))
        .expect("the dispatcher sees the transport as an incident")
        .clone();
    assert_eq!(inc["triage"], "hijau");
    assert_eq!(inc["category"], "inter_facility_transfer");

    // Cancelled from Pattas: the incident goes too and the unit is free.
    let (st, v) = s
        .call(
            "post",
            &format!("/api/pattas/cases/{case}/transports/{tid}/cancel"),
            Some(&officer),
            Some(json!({"reason": "jadwal diundur"})),
        )
        .await;
    assert!(st.is_success(), "{v}");
    let (_, c) = s
        .call(
            "get",
            &format!("/api/pattas/cases/{case}"),
            Some(&officer),
            None,
        )
        .await;
    assert_eq!(c["transports"][0]["state"], "cancelled", "{c}");
    let (_, i) = s
        .call(
            "get",
            &format!("/api/incidents/{}", inc["id"]),
            Some(&dispatcher),
            None,
        )
        .await;
    assert_eq!(i["status"], "cancelled", "{i}");

    // Salinmas: a household and a KSM in Sokanegara, two pickups, the route.
    add_user(&s, "salinmas1", Role::SalinmasOfficer, None);
    let so = s.login("salinmas1").await;
    let mut households = Vec::new();
    for (k, (lat, lon)) in [(-7.4189, 109.2336), (-7.4170, 109.2380)]
        .into_iter()
        .enumerate()
    {
        let (st, a) = s
            .call(
                "post",
                "/api/salinmas/accounts",
                Some(&so),
                Some(json!({
                    "kind": "household", "name": format!("Rumah Uji {k}"), "kelurahan": "Sokanegara",
                    "rt": "2", "rw": "4", "address": "Jl. Melati", "lat": lat, "lon": lon,
                    "phone": "0812-2700-1190"
                })),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{a}");
        households.push((a["id"].as_i64().unwrap(), lat, lon));
    }
    let (st, g) = s
        .call(
            "post",
            "/api/salinmas/collectors",
            Some(&so),
            Some(
                json!({"name": "KSM Uji", "kelurahan": ["Sokanegara"], "phone": "+6281327001191"}),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{g}");
    let ksm = g["id"].as_i64().unwrap();
    add_user(&s, "ksm1", Role::SalinmasCollector, Some(ksm.to_string()));
    let collector = s.login("ksm1").await;
    let day = satria_salinmas::time::wib_day(now) + 1;
    let date = satria_salinmas::time::format_date(day);
    for (k, (id, lat, lon)) in households.iter().enumerate() {
        let name = format!("rumah{k}");
        add_user(&s, &name, Role::SalinmasHousehold, Some(id.to_string()));
        let h = s.login(&name).await;
        let (st, p) = s
            .call(
                "post",
                "/api/salinmas/pickups",
                Some(&h),
                Some(json!({
                    "lat": lat, "lon": lon, "address": "Jl. Melati", "categories": ["organic", "plastic"],
                    "estimated_kg": 12.0, "window_start": format!("{date}T08:00"),
                    "window_end": format!("{date}T11:00"), "notes": ""
                })),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{p}");
        let (st, a) = s
            .call(
                "post",
                &format!("/api/salinmas/pickups/{}/accept", p["id"]),
                Some(&collector),
                None,
            )
            .await;
        assert!(st.is_success(), "{a}");
    }
    let (st, r) = s
        .call(
            "get",
            &format!("/api/salinmas/routes/{ksm}?date={date}&start_lat=-7.4189&start_lon=109.2300"),
            Some(&collector),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["stops"].as_array().unwrap().len(), 2, "{r}");

    // Both modules are in the one OpenAPI document; their reads are in the one
    // access log.
    let (_, doc) = s.call("get", "/api/openapi.json", None, None).await;
    assert!(doc["paths"]["/api/pattas/cases/{id}/transports"]["post"].is_object());
    assert!(doc["paths"]["/api/salinmas/routes/{collector_id}"]["get"].is_object());
    s.state.audit.flush_and_stop();
    let log = s
        .state
        .auth
        .access_log(&satria_auth::AccessFilter::default(), 10_000)
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.subject.starts_with("pattas_beneficiary:")),
        "pattas reads are recorded"
    );
    assert!(
        log.iter()
            .any(|e| e.subject.starts_with("salinmas_account:")),
        "salinmas reads are recorded"
    );
    s.stop().await;
}
