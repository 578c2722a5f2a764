//! A case's whole way: report, verify, assist, transport, close (tuntas),
//! and the deadlines and overdue list that follow the clock and the configuration.

use axum::http::StatusCode;
use satria_calendar::Timestamp;
use satria_pattas::*;
use serde_json::{Value, json};

use crate::support::*;

on_every_backend!(async:
    a_case_goes_from_report_to_tuntas_with_transport_and_history,
    overdue_follows_the_clock_and_each_step_clears_it,
    every_instant_in_an_answer_is_rfc3339_in_utc,
);
on_every_backend!(sync: deadlines_follow_the_configuration);

async fn a_case_goes_from_report_to_tuntas_with_transport_and_history(backend: Backend) {
    let Some(w) = world_on(backend) else {
        return;
    };
    // The mitra registers a resident and reports a case.
    let (s, b) = w
        .call(
            "POST",
            "/api/pattas/beneficiaries",
            "mitra1",
            Some(sukarti()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["banyumas_resident"], true);
    assert_eq!(b["rt"], "003");
    assert_eq!(b["phone"], "081234567890");
    assert_eq!(b["kecamatan"], "Purwokerto Barat");
    let bid = b["id"].as_i64().unwrap();
    let (s, c) = w
        .call(
            "POST",
            "/api/pattas/cases",
            "mitra1",
            Some(
                json!({"beneficiary_id": bid, "needs": ["transport", "waiting_costs", "transport"],
                        "description": "Cuci darah dua kali seminggu, tidak ada biaya transport.",
                        "reported_via": "kunjungan"}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    assert_eq!(c["status"], "reported");
    assert_eq!(c["needs"], json!(["transport", "waiting_costs"]));
    assert_eq!(c["verify_due_at"], rfc(T0 + 24 * H));
    assert_eq!(c["reported_by"], "mitra1");
    let cid = c["id"].as_i64().unwrap();

    // The mitra cannot verify; the officer does.
    let (s, e) = w
        .call(
            "POST",
            &format!("/api/pattas/cases/{cid}/verify"),
            "mitra1",
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    w.advance(3 * H);
    let v = w
        .post_ok(
            &format!("/api/pattas/cases/{cid}/verify"),
            "officer",
            json!({"note": "kunjungan rumah"}),
        )
        .await;
    assert_eq!(v["status"], "verified");
    assert_eq!(v["verified_by"], "officer");
    assert_eq!(v["assistance_due_at"], rfc(T0 + 3 * H + 72 * H));

    // The first assistance action starts assistance.
    w.advance(H);
    let (s, a) = w
        .call(
            "POST",
            &format!("/api/pattas/cases/{cid}/assistance"),
            "officer",
            Some(
                json!({"date": "2026-12-01", "kind": "waiting_costs", "amount_rp": 300000,
                        "notes": "uang makan selama menunggu"}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["officer"], "officer");
    assert_eq!(a["amount_rp"], 300000);

    // Book a transport for tomorrow 07:00 WIB, on the fake desk.
    let at = T0 + 21 * H;
    let (s, t) = w
        .call(
            "POST",
            &format!("/api/pattas/cases/{cid}/transports"),
            "officer",
            Some(transport_body(at)),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let tid = t["transport_id"].as_str().unwrap().to_string();
    assert_eq!(t["scheduled_for"], rfc(at));
    assert_eq!(t["booked_by"], "officer");
    let sent = w.desk.request(&tid);
    assert_eq!(sent.case_id, cid);
    assert_eq!(sent.patient_name, "Sukarti (uji)");
    assert_eq!(sent.patient_phone.as_deref(), Some("081234567890"));
    assert_eq!(sent.destination_hospital_id.as_deref(), Some("3302026"));
    // An RFC 3339 time in WIB books too.
    let (s, t2) = w
        .call(
            "POST",
            &format!("/api/pattas/cases/{cid}/transports"),
            "officer",
            Some(
                json!({"pickup": {"lat": -7.4231, "lon": 109.2272, "address": "Kedungwuluh"},
                        "destination": {"name": "RSUD Banyumas", "lat": -7.52987, "lon": 109.29243},
                        "scheduled_for": "2026-12-04T07:30:00+07:00", "purpose": "kontrol"}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t2}");
    let tid2 = t2["transport_id"].as_str().unwrap().to_string();

    // The desk assigns a unit; the case shows the live state.
    w.desk.set(&tid, "assigned", Some("AMB-07"));
    let d = w.get(&format!("/api/pattas/cases/{cid}"), "officer").await;
    assert_eq!(d["status"], "in_assistance");
    assert_eq!(d["beneficiary"]["nik"], NIK_SUKARTI);
    let tr = d["transports"].as_array().unwrap();
    assert_eq!(tr.len(), 2);
    let first = tr
        .iter()
        .find(|x| x["transport_id"] == tid.as_str())
        .unwrap();
    assert_eq!(first["state"], "assigned");
    assert_eq!(first["live"]["unit_id"], "AMB-07");

    // Cancel the second; a started trip cannot be cancelled.
    let c2 = w
        .post_ok(
            &format!("/api/pattas/cases/{cid}/transports/{tid2}/cancel"),
            "officer",
            json!({"reason": "jadwal kontrol diundur"}),
        )
        .await;
    assert_eq!(c2["state"], "cancelled");
    assert_eq!(c2["cancelled_by"], "officer");
    let (s, e) = w
        .call(
            "POST",
            &format!("/api/pattas/cases/{cid}/transports/{tid2}/cancel"),
            "officer",
            Some(json!({"reason": "lagi"})),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_cancelled"))
    );
    w.desk.set(&tid, "transporting", Some("AMB-07"));
    let (s, e) = w
        .call(
            "POST",
            &format!("/api/pattas/cases/{cid}/transports/{tid}/cancel"),
            "officer",
            Some(json!({"reason": "salah"})),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_cancellable")),
        "{e}"
    );
    // Not tuntas while the ambulance is still carrying the patient: refused,
    // and the case is unchanged.
    let (s, e) = w
        .call(
            "POST",
            &format!("/api/pattas/cases/{cid}/close"),
            "officer",
            Some(json!({"summary": "terlalu cepat"})),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("transports_pending")),
        "{e}"
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains(&format!("{tid} (transporting)")),
        "{e}"
    );
    let d = w.get(&format!("/api/pattas/cases/{cid}"), "officer").await;
    assert_eq!(d["status"], "in_assistance", "{d}");
    w.desk.set(&tid, "completed", Some("AMB-07"));

    // Close (tuntas).
    w.advance(48 * H);
    let closed = w
        .post_ok(
            &format!("/api/pattas/cases/{cid}/close"),
            "officer",
            json!({"summary": "Transport cuci darah terjadwal, biaya tunggu dibantu."}),
        )
        .await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["closed_by"], "officer");

    // The mitra still sees its case, with its whole history.
    let d = w.get(&format!("/api/pattas/cases/{cid}"), "mitra1").await;
    let actions: Vec<(&str, &str)> = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["action"].as_str().unwrap(), h["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("reported", "mitra1"),
            ("verified", "officer"),
            ("assistance_started", "officer"),
            ("assistance_recorded", "officer"),
            ("transport_booked", "officer"),
            ("transport_booked", "officer"),
            ("transport_cancelled", "officer"),
            ("closed", "officer"),
        ]
    );
    assert!(
        d["history"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| ms_of(&h["at"]) >= T0)
    );
    assert_eq!(
        d["transports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["transport_id"] == tid.as_str())
            .unwrap()["state"],
        "completed"
    );
    assert_eq!(d["assistance"].as_array().unwrap().len(), 1);

    // A closed case takes no more assistance, transport or transitions.
    let snap = w.snapshot().await;
    for (path, body) in [
        ("verify", json!({})),
        ("assist", json!({})),
        ("reject", json!({"reason": "x"})),
        ("close", json!({"summary": "lagi"})),
        (
            "assistance",
            json!({"date": "2026-12-03", "kind": "transport", "amount_rp": 1}),
        ),
        ("transports", transport_body(w.clock.now_ms() + H)),
    ] {
        let (s, e) = w
            .call(
                "POST",
                &format!("/api/pattas/cases/{cid}/{path}"),
                "officer",
                Some(body),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{path}: {e}");
        assert_eq!(e["code"], "invalid_transition");
        assert!(!e["message_id"].as_str().unwrap().is_empty());
    }
    assert_eq!(w.snapshot().await, snap);
    assert_eq!(w.desk.count(), 2, "no booking reached the desk");

    // The beneficiary's history shows its registration by the mitra.
    let bd = w
        .get(&format!("/api/pattas/beneficiaries/{bid}"), "mitra1")
        .await;
    assert_eq!(bd["history"][0]["action"], "registered");
    assert_eq!(bd["history"][0]["actor"], "mitra1");
    assert_eq!(bd["history"][0]["role"], "pattas_mitra");
}

async fn overdue_follows_the_clock_and_each_step_clears_it(backend: Backend) {
    let Some(w) = world_on(backend) else {
        return;
    };
    let b1 = w
        .post_ok("/api/pattas/beneficiaries", "mitra1", sukarti())
        .await;
    let b2 = w
        .post_ok("/api/pattas/beneficiaries", "officer", darsono())
        .await;
    let c1 = w
        .post_ok("/api/pattas/cases", "mitra1", json!({"beneficiary_id": b1["id"], "needs": ["shelter"], "description": "butuh rumah singgah"}))
        .await;
    w.advance(10 * H);
    let c2 = w
        .post_ok(
            "/api/pattas/cases",
            "officer",
            json!({"nik": NIK_DARSONO, "needs": ["insurance"], "description": "BPJS belum aktif"}),
        )
        .await;
    assert_eq!(c2["beneficiary_id"], b2["id"]);
    let overdue = |v: &Value| -> Vec<(i64, String)> {
        v["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["id"].as_i64().unwrap(),
                    c["overdue"]["step"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert!(overdue(&w.get("/api/pattas/cases/overdue", "officer").await).is_empty());

    // 25 h after the first report: only it is late to be verified.
    w.advance(15 * H);
    let o = w.get("/api/pattas/cases/overdue", "officer").await;
    assert_eq!(
        overdue(&o),
        vec![(c1["id"].as_i64().unwrap(), "verify".into())]
    );
    assert_eq!(o["cases"][0]["overdue"]["late_by_ms"], H);
    // 35 h: both, the most overdue first; the mitra sees only its own.
    w.advance(10 * H);
    let ids: Vec<i64> = overdue(&w.get("/api/pattas/cases/overdue", "officer").await)
        .iter()
        .map(|x| x.0)
        .collect();
    assert_eq!(
        ids,
        vec![c1["id"].as_i64().unwrap(), c2["id"].as_i64().unwrap()]
    );
    assert_eq!(
        overdue(&w.get("/api/pattas/cases/overdue", "mitra1").await).len(),
        1
    );
    assert!(overdue(&w.get("/api/pattas/cases/overdue", "mitra2").await).is_empty());

    // Verifying clears the step; 72 h later the first assistance is late.
    w.post_ok(
        &format!("/api/pattas/cases/{}/verify", c1["id"]),
        "officer",
        json!({}),
    )
    .await;
    assert_eq!(
        overdue(&w.get("/api/pattas/cases/overdue", "officer").await).len(),
        1
    );
    w.advance(72 * H + 1);
    let o = overdue(&w.get("/api/pattas/cases/overdue", "officer").await);
    assert!(
        o.contains(&(c1["id"].as_i64().unwrap(), "first_assistance".into())),
        "{o:?}"
    );
    let listed = w.get("/api/pattas/cases?status=verified", "officer").await;
    assert_eq!(listed[0]["overdue"]["step"], "first_assistance");
    w.post_ok(
        &format!("/api/pattas/cases/{}/assist", c1["id"]),
        "officer",
        json!({"note": "mulai"}),
    )
    .await;
    w.post_ok(
        &format!("/api/pattas/cases/{}/reject", c2["id"]),
        "officer",
        json!({"reason": "sudah ditangani BPJS"}),
    )
    .await;
    assert!(overdue(&w.get("/api/pattas/cases/overdue", "officer").await).is_empty());
}

fn deadlines_follow_the_configuration(backend: Backend) {
    let Some(place) = Place::new(backend) else {
        return;
    };
    let config = PattasConfig {
        verify_within_ms: H,
        first_assistance_within_ms: 2 * H,
    };
    let p = place.open(config).unwrap();
    let officer = officer();
    let b = p
        .create_beneficiary(&officer, serde_json::from_value(sukarti()).unwrap(), T0)
        .unwrap();
    let c = p
        .report_case(
            &officer,
            serde_json::from_value(
                json!({"beneficiary_id": b.id, "needs": ["shelter"], "description": "x"}),
            )
            .unwrap(),
            T0,
        )
        .unwrap();
    assert_eq!(c.verify_due_at, Timestamp(T0 + H));
    assert!(
        p.overdue_cases(&officer, T0 + H).unwrap().is_empty(),
        "due is not late"
    );
    assert_eq!(p.overdue_cases(&officer, T0 + H + 1).unwrap().len(), 1);
    let v = p.verify_case(&officer, c.id, None, T0 + 3 * H).unwrap();
    assert_eq!(v.assistance_due_at, Some(Timestamp(T0 + 5 * H)));
    assert_eq!(
        p.overdue_cases(&officer, T0 + 6 * H).unwrap()[0]
            .overdue
            .as_ref()
            .unwrap()
            .step,
        "first_assistance"
    );
    // Zero or negative deadlines are refused.
    let bad = PattasConfig {
        verify_within_ms: 0,
        ..PattasConfig::default()
    };
    assert!(place.open(bad).is_err());
}

/// Every key of `v` (recursively) that ends in `_ms` is a duration: no answer
/// carries an instant as integer milliseconds.
fn no_instant_in_ms(v: &Value, at: &str) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                assert!(
                    !k.ends_with("_ms") || k == "late_by_ms",
                    "{at}: {k} is an instant in ms: {v}"
                );
                no_instant_in_ms(x, at);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| no_instant_in_ms(x, at)),
        _ => {}
    }
}

async fn every_instant_in_an_answer_is_rfc3339_in_utc(backend: Backend) {
    let Some(w) = world_on(backend) else {
        return;
    };
    let b = w
        .post_ok("/api/pattas/beneficiaries", "officer", sukarti())
        .await;
    // T0 is 10:00 WIB: written in UTC, with milliseconds.
    assert_eq!(b["created_at"], "2026-12-01T03:00:00.000Z");
    assert_eq!(ms_of(&b["updated_at"]), T0);
    let b2 = w
        .post_ok("/api/pattas/beneficiaries", "officer", darsono())
        .await;
    let c = w
        .post_ok(
            "/api/pattas/cases",
            "officer",
            json!({"beneficiary_id": b["id"], "needs": ["transport"], "description": "x"}),
        )
        .await;
    let cid = c["id"].as_i64().unwrap();
    assert_eq!(ms_of(&c["reported_at"]), T0);
    assert_eq!(ms_of(&c["verify_due_at"]), T0 + 24 * H);
    assert_eq!(c["verified_at"], Value::Null);

    w.advance(H);
    let v = w
        .post_ok(
            &format!("/api/pattas/cases/{cid}/verify"),
            "officer",
            json!({}),
        )
        .await;
    assert_eq!(ms_of(&v["verified_at"]), T0 + H);
    assert_eq!(ms_of(&v["assistance_due_at"]), T0 + 73 * H);
    assert_eq!(ms_of(&v["updated_at"]), T0 + H);
    // Booked as a WIB wall-clock time, answered in UTC; and as integer ms.
    let mut body = transport_body(0);
    body["scheduled_for"] = json!("2026-12-02 07:30");
    let t1 = w
        .post_ok(
            &format!("/api/pattas/cases/{cid}/transports"),
            "officer",
            body,
        )
        .await;
    assert_eq!(t1["scheduled_for"], "2026-12-02T00:30:00.000Z");
    assert_eq!(ms_of(&t1["booked_at"]), T0 + H);
    assert_eq!(t1["cancelled_at"], Value::Null);
    let t2 = w
        .post_ok(
            &format!("/api/pattas/cases/{cid}/transports"),
            "officer",
            transport_body(T0 + 30 * H),
        )
        .await;
    assert_eq!(ms_of(&t2["scheduled_for"]), T0 + 30 * H);

    w.advance(H);
    let x = w
        .post_ok(
            &format!(
                "/api/pattas/cases/{cid}/transports/{}/cancel",
                t2["transport_id"].as_str().unwrap()
            ),
            "officer",
            json!({"reason": "diundur"}),
        )
        .await;
    assert_eq!(ms_of(&x["cancelled_at"]), T0 + 2 * H);
    let a = w
        .post_ok(
            &format!("/api/pattas/cases/{cid}/assistance"),
            "officer",
            json!({"date": "2026-12-01", "kind": "transport", "amount_rp": 1000}),
        )
        .await;
    assert_eq!(ms_of(&a["recorded_at"]), T0 + 2 * H);
    let c2 = w
        .post_ok(
            "/api/pattas/cases",
            "officer",
            json!({"beneficiary_id": b2["id"], "needs": ["insurance"], "description": "x"}),
        )
        .await;

    // A day and an hour later the second case is late to be verified.
    w.advance(25 * H);
    let o = w.get("/api/pattas/cases/overdue", "officer").await;
    assert_eq!(ms_of(&o["as_of"]), T0 + 27 * H);
    assert_eq!(o["cases"][0]["id"], c2["id"]);
    assert_eq!(ms_of(&o["cases"][0]["overdue"]["due_at"]), T0 + 26 * H);
    assert_eq!(o["cases"][0]["overdue"]["late_by_ms"], H);
    let r = w.get("/api/pattas/reports/cases", "officer").await;
    assert_eq!(ms_of(&r["as_of"]), T0 + 27 * H);

    let d = w.get(&format!("/api/pattas/cases/{cid}"), "officer").await;
    assert_eq!(ms_of(&d["assistance_started_at"]), T0 + 2 * H);
    assert_eq!(ms_of(&d["updated_at"]), T0 + 2 * H);
    assert_eq!(ms_of(&d["beneficiary"]["created_at"]), T0);
    let live = d["transports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["transport_id"] == t1["transport_id"])
        .unwrap();
    // The fake desk stamps its status at the epoch.
    assert_eq!(live["live"]["updated_at"], "1970-01-01T00:00:00.000Z");
    // The history's times, and the instants its details name.
    let hist: Vec<(&str, i64, &Value)> = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["action"].as_str().unwrap(),
                ms_of(&h["at"]),
                &h["details"],
            )
        })
        .collect();
    assert_eq!(hist[0].0, "reported");
    assert_eq!(
        (hist[0].1, ms_of(&hist[0].2["verify_due_at"])),
        (T0, T0 + 24 * H)
    );
    assert_eq!(hist[1].0, "verified");
    assert_eq!(
        (hist[1].1, ms_of(&hist[1].2["assistance_due_at"])),
        (T0 + H, T0 + 73 * H)
    );
    let booked: Vec<i64> = hist
        .iter()
        .filter(|h| h.0 == "transport_booked")
        .map(|h| ms_of(&h.2["scheduled_for"]))
        .collect();
    assert_eq!(booked, vec![ms_of(&t1["scheduled_for"]), T0 + 30 * H]);

    let bd = w
        .get(&format!("/api/pattas/beneficiaries/{}", b["id"]), "officer")
        .await;
    assert_eq!(ms_of(&bd["history"][0]["at"]), T0);
    let list = w.get("/api/pattas/cases", "officer").await;
    for (at, answer) in [
        ("beneficiary", &b),
        ("case", &c),
        ("verify", &v),
        ("transport", &t1),
        ("cancel", &x),
        ("assistance", &a),
        ("overdue", &o),
        ("report", &r),
        ("case detail", &d),
        ("beneficiary detail", &bd),
        ("case list", &list),
    ] {
        no_instant_in_ms(answer, at);
    }
}
