//! The Pattas API over HTTP, through the real `require_principal` middleware
//! with real `AuthStore` tokens, a stepped clock, a fake transport desk and a
//! recording access log.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use satria_auth::{AccessRecorder, AuthConfig, AuthStore, HashParams, NewUser, Principal, Role};
use satria_pattas::*;
use serde_json::{Value, json};
use tower::ServiceExt;

const H: i64 = 60 * 60 * 1000;
/// 2026-12-01T03:00:00Z, 10:00 WIB.
const T0: i64 = 1_796_094_000_000;

/// Woman born 1956-03-14 (14 + 40 = 54), Banyumas.
const NIK_SUKARTI: &str = "3302015403560001";
/// Man born 1961-08-12, Banyumas.
const NIK_DARSONO: &str = "3302011208610002";
/// Man born 1975-05-20, registered in Cilacap (3301).
const NIK_CILACAP: &str = "3301012005750003";

struct TestClock(AtomicI64);

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Default)]
struct RecordingLog(Mutex<Vec<(String, String, String, String)>>);

impl AccessRecorder for RecordingLog {
    fn record_many(&self, batch: Vec<satria_auth::AccessRecord>) -> satria_auth::Recording {
        let mut log = self.0.lock().unwrap();
        for r in batch {
            log.push((r.who.username, r.action, r.subject, r.purpose));
        }
        Box::pin(std::future::ready(Ok(())))
    }
}

impl RecordingLog {
    fn entries(&self) -> Vec<(String, String, String, String)> {
        self.0.lock().unwrap().clone()
    }
}

/// An in-memory desk: books as `scheduled`, lets the test move a trip on.
#[derive(Default)]
struct FakeDesk {
    next: AtomicU64,
    trips: Mutex<HashMap<String, (TransportRequest, TransportStatus)>>,
}

impl FakeDesk {
    fn set(&self, tid: &str, state: &str, unit: Option<&str>) {
        let mut trips = self.trips.lock().unwrap();
        let t = trips.get_mut(tid).unwrap();
        t.1.state = state.into();
        t.1.unit_id = unit.map(String::from);
    }

    fn request(&self, tid: &str) -> TransportRequest {
        self.trips.lock().unwrap()[tid].0.clone()
    }

    fn count(&self) -> usize {
        self.trips.lock().unwrap().len()
    }
}

impl TransportDesk for FakeDesk {
    fn book(&self, req: TransportRequest) -> BoxFuture<Result<TransportTicket, TransportError>> {
        let n = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let tid = format!("TR-{n}");
        self.trips.lock().unwrap().insert(
            tid.clone(),
            (
                req,
                TransportStatus {
                    transport_id: tid.clone(),
                    state: "scheduled".into(),
                    unit_id: None,
                    updated_ms: 0,
                },
            ),
        );
        Box::pin(async move { Ok(TransportTicket { transport_id: tid }) })
    }

    fn status(&self, transport_id: &str) -> BoxFuture<Option<TransportStatus>> {
        let s = self
            .trips
            .lock()
            .unwrap()
            .get(transport_id)
            .map(|t| t.1.clone());
        Box::pin(async move { s })
    }

    fn cancel(&self, transport_id: &str, _reason: &str) -> BoxFuture<Result<(), TransportError>> {
        let mut trips = self.trips.lock().unwrap();
        let r = match trips.get_mut(transport_id) {
            None => Err(TransportError::new(
                "not_found",
                "no such trip",
                "tidak ada",
            )),
            Some(t) if t.1.state == "scheduled" || t.1.state == "cancelled" => {
                t.1.state = "cancelled".into();
                Ok(())
            }
            Some(_) => Err(TransportError::new(
                "not_cancellable",
                "the trip has started",
                "perjalanan sudah dimulai",
            )),
        };
        Box::pin(async move { r })
    }
}

struct World {
    dir: tempfile::TempDir,
    auth: Arc<AuthStore>,
    desk_dyn: Arc<dyn TransportDesk>,
    app: Router,
    clock: Arc<TestClock>,
    log: Arc<RecordingLog>,
    desk: Arc<FakeDesk>,
    tokens: HashMap<&'static str, String>,
}

fn router(
    pattas: Arc<Pattas>,
    auth: &Arc<AuthStore>,
    log: &Arc<RecordingLog>,
    desk: &Arc<dyn TransportDesk>,
    clock: &Arc<TestClock>,
) -> Router {
    routes_with_clock(pattas, log.clone(), desk.clone(), clock.clone()).layer(
        axum::middleware::from_fn_with_state(auth.clone(), satria_http::require_principal),
    )
}

/// A world whose transport desk is `make_desk(pattas)`, or the fake desk.
fn world_with(make_desk: impl FnOnce(&Arc<Pattas>) -> Option<Arc<dyn TransportDesk>>) -> World {
    let dir = tempfile::tempdir().unwrap();
    let auth = Arc::new(
        AuthStore::open_with(
            &dir.path().join("auth.sqlite"),
            AuthConfig {
                hash: HashParams::INSECURE_FAST,
                ..AuthConfig::default()
            },
        )
        .unwrap(),
    );
    let pattas =
        Arc::new(Pattas::open(&dir.path().join("pattas.sqlite"), PattasConfig::default()).unwrap());
    let clock = Arc::new(TestClock(AtomicI64::new(T0)));
    let log = Arc::new(RecordingLog::default());
    let desk = Arc::new(FakeDesk::default());
    let desk_dyn: Arc<dyn TransportDesk> = make_desk(&pattas).unwrap_or_else(|| desk.clone());
    let app = router(pattas, &auth, &log, &desk_dyn, &clock);
    let mut tokens = HashMap::new();
    for (username, role, unit) in [
        ("officer", Role::PattasOfficer, None),
        ("admin", Role::Admin, None),
        ("mitra1", Role::PattasMitra, None),
        ("mitra2", Role::PattasMitra, None),
        ("crew", Role::Crew, Some("AMB-01".to_string())),
        ("salinmas", Role::SalinmasOfficer, None),
    ] {
        let now = satria_http::now_ms();
        auth.add_user(
            NewUser {
                username: username.into(),
                password: "kata-sandi-uji-119".into(),
                role,
                unit,
                hospital: None,
                subject: None,
            },
            now,
        )
        .unwrap();
        let s = auth
            .login(username, "kata-sandi-uji-119", "test", now)
            .unwrap();
        tokens.insert(username, s.token);
    }
    World {
        dir,
        auth,
        desk_dyn,
        app,
        clock,
        log,
        desk,
        tokens,
    }
}

fn world() -> World {
    world_with(|_| None)
}

impl World {
    /// Drops the module and opens its database afresh, as a restart would.
    fn restart(&mut self) {
        let pattas = Arc::new(
            Pattas::open(
                &self.dir.path().join("pattas.sqlite"),
                PattasConfig::default(),
            )
            .unwrap(),
        );
        self.app = router(pattas, &self.auth, &self.log, &self.desk_dyn, &self.clock);
    }

    async fn raw(
        &self,
        method: &str,
        path: &str,
        who: Option<&str>,
        body: Option<String>,
        ct: &str,
    ) -> (StatusCode, Value) {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(w) = who {
            b = b.header("authorization", format!("Bearer {}", self.tokens[w]));
        }
        let req = match body {
            Some(s) => b.header("content-type", ct).body(Body::from(s)).unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 22)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        who: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.raw(
            method,
            path,
            Some(who),
            body.map(|b| b.to_string()),
            "application/json",
        )
        .await
    }

    async fn get(&self, path: &str, who: &str) -> Value {
        let (s, v) = self.call("GET", path, who, None).await;
        assert_eq!(s, StatusCode::OK, "GET {path} as {who}: {v}");
        v
    }

    async fn post_ok(&self, path: &str, who: &str, body: Value) -> Value {
        let (s, v) = self.call("POST", path, who, Some(body)).await;
        assert!(s.is_success(), "POST {path} as {who}: {s} {v}");
        v
    }

    fn advance(&self, ms: i64) {
        self.clock.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// Everything an officer can see, to prove a refusal changed nothing.
    async fn snapshot(&self) -> Value {
        let bs = self
            .get("/api/pattas/beneficiaries?limit=500", "officer")
            .await;
        let cases = self.get("/api/pattas/cases?limit=500", "officer").await;
        let mut details = Vec::new();
        for c in cases.as_array().unwrap() {
            details.push(
                self.get(&format!("/api/pattas/cases/{}", c["id"]), "officer")
                    .await,
            );
        }
        let mut bdetails = Vec::new();
        for b in bs.as_array().unwrap() {
            bdetails.push(
                self.get(&format!("/api/pattas/beneficiaries/{}", b["id"]), "officer")
                    .await,
            );
        }
        json!([bs, cases, details, bdetails])
    }
}

fn sukarti() -> Value {
    json!({
        "nik": NIK_SUKARTI, "name": "Sukarti (uji)", "date_of_birth": "1956-03-14", "sex": "P",
        "desa": "Kedungwuluh", "kecamatan": "Purwokerto Barat", "rt": "3", "rw": "02",
        "phone": "0812-3456-7890", "dtks": true, "bpjs": "pbi",
        "conditions": ["gagal ginjal kronis", "hipertensi"],
        "family_contact": {"name": "Slamet (uji)", "phone": "+6281398765432", "relation": "anak"}
    })
}

fn darsono() -> Value {
    json!({
        "nik": NIK_DARSONO, "name": "Darsono (uji)", "date_of_birth": "1961-08-12", "sex": "L",
        "desa": "Sokanegara", "rt": "1", "rw": "1", "dtks": false, "bpjs": "none",
        "conditions": ["diabetes melitus"]
    })
}

fn transport_body(at_ms: i64) -> Value {
    json!({
        "pickup": {"lat": -7.4231, "lon": 109.2272, "address": "RT 03/RW 02 Kedungwuluh"},
        "destination": {"hospital_id": "3302026", "name": "RSUD Prof. Dr. Margono Soekarjo",
                        "lat": -7.43743, "lon": 109.26738},
        "scheduled_for": at_ms,
        "purpose": "hemodialisis",
        "notes": "pasien memakai kursi roda"
    })
}

#[tokio::test]
async fn a_case_goes_from_report_to_tuntas_with_transport_and_history() {
    let w = world();
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
    assert_eq!(c["verify_due_ms"], T0 + 24 * H);
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
    assert_eq!(v["assistance_due_ms"], T0 + 3 * H + 72 * H);

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
    assert_eq!(t["scheduled_for_ms"], at);
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
            .all(|h| h["at_ms"].as_i64().unwrap() >= T0)
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

#[tokio::test]
async fn overdue_follows_the_clock_and_each_step_clears_it() {
    let w = world();
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

#[tokio::test]
async fn refused_inputs_get_a_clear_4xx_and_change_nothing() {
    let w = world();
    let b = w
        .post_ok("/api/pattas/beneficiaries", "mitra1", sukarti())
        .await;
    let c = w
        .post_ok(
            "/api/pattas/cases",
            "mitra1",
            json!({"beneficiary_id": b["id"], "needs": ["insurance"], "description": "x"}),
        )
        .await;
    let cid = c["id"].as_i64().unwrap();
    w.post_ok("/api/pattas/beneficiaries", "officer", darsono())
        .await;
    let snap = w.snapshot().await;
    let with = |k: &str, v: Value| {
        let mut x = darsono();
        x[k] = v;
        x
    };
    let mut bad: Vec<(&str, String, Value, StatusCode, &str)> = vec![
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("nik", json!("330201120861000")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_nik",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("nik", json!("3302013208610002")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_nik",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("nik", json!("33020112O8610002")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_nik",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("date_of_birth", json!("1961-08-13")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "nik_mismatch",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("sex", json!("P")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "nik_mismatch",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            {
                let mut x = sukarti();
                x["name"] = json!("Orang lain");
                x
            },
            StatusCode::CONFLICT,
            "duplicate_nik",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("extra", json!(1)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("desa", json!("Atlantis")),
            // Not in the Banyumas desa list: a record that does not exist.
            StatusCode::NOT_FOUND,
            "unknown_desa",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("desa", json!("Karangrau")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "ambiguous_desa",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("phone", json!("12345")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_phone",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("bpjs", json!("gold")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_bpjs",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("sex", json!("X")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_sex",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("conditions", json!([])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_conditions",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("conditions", json!(["  "])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("name", json!("x".repeat(101))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("rt", json!("0")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with("dtks", json!("ya")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            with(
                "family_contact",
                json!({"name": "a", "phone": "0812345678", "relation": "anak", "age": 3}),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        // A man born 2061 does not exist yet: the birth date is in the future.
        (
            "POST",
            "/api/pattas/beneficiaries".into(),
            json!({"nik": "3302011208610009", "name": "x", "date_of_birth": "2061-08-12", "sex": "L", "desa": "Sokanegara", "rt": "1", "rw": "1", "dtks": false, "bpjs": "none", "conditions": ["x"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_date_of_birth",
        ),
        (
            "PATCH",
            format!("/api/pattas/beneficiaries/{}", b["id"]),
            json!({"sex": "L"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "nik_mismatch",
        ),
        (
            "PATCH",
            format!("/api/pattas/beneficiaries/{}", b["id"]),
            json!({}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_patch",
        ),
        (
            "PATCH",
            format!("/api/pattas/beneficiaries/{}", b["id"]),
            json!({"nik": NIK_DARSONO, "date_of_birth": "1961-08-12", "sex": "L"}),
            StatusCode::CONFLICT,
            "duplicate_nik",
        ),
        (
            "PATCH",
            format!("/api/pattas/beneficiaries/{}", b["id"]),
            json!({"desa": "Karangrau"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "ambiguous_desa",
        ),
        (
            "PATCH",
            format!("/api/pattas/beneficiaries/{}", b["id"]),
            json!({"color": "red"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "PATCH",
            "/api/pattas/beneficiaries/999".into(),
            json!({"name": "x"}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "POST",
            "/api/pattas/cases".into(),
            json!({"beneficiary_id": b["id"], "needs": ["insurance"], "description": "lagi"}),
            StatusCode::CONFLICT,
            "open_case_exists",
        ),
        (
            "POST",
            "/api/pattas/cases".into(),
            json!({"beneficiary_id": b["id"], "needs": ["flying"], "description": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_need",
        ),
        (
            "POST",
            "/api/pattas/cases".into(),
            json!({"beneficiary_id": b["id"], "needs": [], "description": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_need",
        ),
        (
            "POST",
            "/api/pattas/cases".into(),
            json!({"beneficiary_id": b["id"], "nik": NIK_SUKARTI, "needs": ["shelter"], "description": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_beneficiary",
        ),
        (
            "POST",
            "/api/pattas/cases".into(),
            json!({"beneficiary_id": 999, "needs": ["shelter"], "description": "x"}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "POST",
            "/api/pattas/cases".into(),
            json!({"beneficiary_id": b["id"], "needs": ["shelter"], "description": "   "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        // Invalid transitions: a reported case cannot be assisted or closed.
        (
            "POST",
            format!("/api/pattas/cases/{cid}/assist"),
            json!({}),
            StatusCode::CONFLICT,
            "invalid_transition",
        ),
        (
            "POST",
            format!("/api/pattas/cases/{cid}/close"),
            json!({"summary": "selesai"}),
            StatusCode::CONFLICT,
            "invalid_transition",
        ),
        (
            "POST",
            format!("/api/pattas/cases/{cid}/assistance"),
            json!({"date": "2026-12-01", "kind": "insurance", "amount_rp": 0}),
            StatusCode::CONFLICT,
            "invalid_transition",
        ),
        (
            "POST",
            format!("/api/pattas/cases/{cid}/transports"),
            transport_body(T0 + 5 * H),
            StatusCode::CONFLICT,
            "invalid_transition",
        ),
        (
            "POST",
            format!("/api/pattas/cases/{cid}/reject"),
            json!({"reason": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "POST",
            format!("/api/pattas/cases/{cid}/verify"),
            json!({"note": 5}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "POST",
            "/api/pattas/cases/999/verify".into(),
            json!({}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "POST",
            "/api/pattas/cases/abc/verify".into(),
            json!({}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "POST",
            "/api/pattas/cases/-1/verify".into(),
            json!({}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "POST",
            "/api/pattas/cases/99999999999999999999/verify".into(),
            json!({}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    for (method, path, body, want, code) in bad.drain(..) {
        let (s, e) = w.call(method, &path, "officer", Some(body.clone())).await;
        assert_eq!(
            (s, e["code"].as_str().unwrap_or("")),
            (want, code),
            "{method} {path} {body}: {e}"
        );
        assert!(!e["message"].as_str().unwrap().is_empty());
        assert!(!e["message_id"].as_str().unwrap().is_empty());
    }
    assert_eq!(w.snapshot().await, snap);

    // Now verified: assistance and transport checks on their values.
    w.post_ok(
        &format!("/api/pattas/cases/{cid}/verify"),
        "officer",
        json!({}),
    )
    .await;
    let snap = w.snapshot().await;
    let a = |date: &str, kind: &str, amount: Value| json!({"date": date, "kind": kind, "amount_rp": amount});
    let tb = |k: &str, v: Value| {
        let mut x = transport_body(T0 + 5 * H);
        x[k] = v;
        x
    };
    let bad2: Vec<(&str, Value, &str)> = vec![
        (
            "assistance",
            a("2026-12-01", "insurance", json!(-1)),
            "invalid_amount",
        ),
        (
            "assistance",
            a("2026-12-01", "insurance", json!(1.5)),
            "invalid_body",
        ),
        (
            "assistance",
            a("2026-12-01", "insurance", json!(2_000_000_000)),
            "invalid_amount",
        ),
        (
            "assistance",
            a("2026-12-02", "insurance", json!(10)),
            "invalid_date",
        ),
        (
            "assistance",
            a("2026-11-30", "insurance", json!(10)),
            "invalid_date",
        ),
        (
            "assistance",
            a("2026-13-01", "insurance", json!(10)),
            "invalid_date",
        ),
        (
            "assistance",
            a("2026-12-01", "pulsa", json!(10)),
            "invalid_need",
        ),
        (
            "transports",
            tb("scheduled_for", json!(T0 - 1)),
            "invalid_time",
        ),
        (
            "transports",
            tb("scheduled_for", json!(T0 + 31 * 24 * H)),
            "invalid_time",
        ),
        (
            "transports",
            tb("scheduled_for", json!("besok pagi")),
            "invalid_time",
        ),
        (
            "transports",
            tb("scheduled_for", json!(null)),
            "invalid_time",
        ),
        (
            "transports",
            tb(
                "pickup",
                json!({"lat": -6.2, "lon": 106.8, "address": "Jakarta"}),
            ),
            "invalid_position",
        ),
        (
            "transports",
            tb("pickup", json!({"lat": -7.42, "lon": 109.22})),
            "invalid_body",
        ),
        ("transports", tb("purpose", json!("")), "invalid_field"),
        ("transports", tb("wheelchair", json!(true)), "invalid_body"),
    ];
    for (path, body, code) in bad2 {
        let (s, e) = w
            .call(
                "POST",
                &format!("/api/pattas/cases/{cid}/{path}"),
                "officer",
                Some(body.clone()),
            )
            .await;
        assert!(s.is_client_error(), "{path} {body}: {s}");
        assert_eq!(e["code"], code, "{path} {body}: {e}");
    }
    assert_eq!(w.desk.count(), 0);

    // Malformed bodies, wrong content type, bad queries.
    let (s, e) = w
        .raw(
            "POST",
            "/api/pattas/beneficiaries",
            Some("officer"),
            Some("{\"nik\":".into()),
            "application/json",
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_json"))
    );
    let (s, e) = w
        .raw(
            "POST",
            "/api/pattas/beneficiaries",
            Some("officer"),
            Some(darsono().to_string()),
            "text/plain",
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("unsupported_media_type")
        )
    );
    let (s, e) = w
        .raw(
            "POST",
            "/api/pattas/beneficiaries",
            Some("officer"),
            Some(format!("{{\"name\": \"{}\"}}", "x".repeat(70_000))),
            "application/json",
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("body_too_large"))
    );
    for q in [
        "status=lost",
        "limit=0",
        "limit=9999",
        "limit=-1",
        "nonsense=1",
        "beneficiary_id=x",
    ] {
        let (s, e) = w
            .call("GET", &format!("/api/pattas/cases?{q}"), "officer", None)
            .await;
        assert!(s.is_client_error(), "{q}: {s}");
        assert!(!e["message_id"].as_str().unwrap().is_empty(), "{q}");
    }
    for q in [
        "from=2026-13-01",
        "from=2026-12-05&to=2026-12-01",
        "from=kemarin",
    ] {
        let (s, e) = w
            .call(
                "GET",
                &format!("/api/pattas/reports/cases?{q}"),
                "officer",
                None,
            )
            .await;
        assert!(s.is_client_error(), "{q}: {s} {e}");
    }
    assert_eq!(w.snapshot().await, snap);
}

#[tokio::test]
async fn roles_and_mitra_isolation() {
    let w = world();
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
    let (s, _) = w
        .call(
            "POST",
            "/api/pattas/cases",
            "mitra2",
            Some(json!({"beneficiary_id": bid, "needs": ["shelter"], "description": "x"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
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

#[tokio::test]
async fn non_banyumas_nik_is_accepted_and_flagged() {
    let w = world();
    let (s, b) = w
        .call(
            "POST",
            "/api/pattas/beneficiaries",
            "officer",
            Some(json!({"nik": NIK_CILACAP, "name": "Pendatang (uji)", "date_of_birth": "1975-05-20",
                        "sex": "male", "desa": "ajibarang kulon", "rt": "1", "rw": "1", "phone": "+6281234567890",
                        "dtks": false, "bpjs": "mandiri", "conditions": ["asma"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["banyumas_resident"], false);
    assert_eq!(b["sex"], "L");
    assert_eq!(b["desa"], "Ajibarang Kulon");
    assert_eq!(b["kecamatan"], "Ajibarang");
}

#[tokio::test]
async fn reports_count_cases_and_total_assistance() {
    let w = world();
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

#[tokio::test]
async fn every_read_of_personal_data_is_recorded() {
    let w = world();
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

#[tokio::test]
async fn without_a_desk_booking_is_refused_with_503_and_nothing_is_stored() {
    let w = world_with(|_| Some(Arc::new(NoTransportDesk)));
    let b = w
        .post_ok("/api/pattas/beneficiaries", "officer", sukarti())
        .await;
    let c = w
        .post_ok(
            "/api/pattas/cases",
            "officer",
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
    let snap = w.snapshot().await;
    let (s, e) = w
        .call(
            "POST",
            &format!("/api/pattas/cases/{cid}/transports"),
            "officer",
            Some(transport_body(T0 + H)),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("transport_unavailable")
        )
    );
    assert!(e["message_id"].as_str().unwrap().contains("tidak tersedia"));
    assert_eq!(w.snapshot().await, snap);
}

#[tokio::test]
async fn the_operation_table_matches_the_router() {
    let w = world();
    let b = w
        .post_ok("/api/pattas/beneficiaries", "officer", sukarti())
        .await;
    let c = w
        .post_ok(
            "/api/pattas/cases",
            "officer",
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
    let t = w
        .post_ok(
            &format!("/api/pattas/cases/{cid}/transports"),
            "officer",
            transport_body(T0 + H),
        )
        .await;
    let tid = t["transport_id"].as_str().unwrap();
    let mut seen = std::collections::HashSet::new();
    for op in OPERATIONS {
        assert!(
            seen.insert((op.method, op.path)),
            "{} {} listed twice",
            op.method,
            op.path
        );
        assert!(["get", "post", "patch"].contains(&op.method));
        assert!(op.path.starts_with("/api/pattas/"));
        assert!(!op.roles.is_empty());
        assert!(op.roles.iter().all(|r| Role::parse(r).is_some()));
        if let Some(schema) = op.body {
            let s = schema();
            assert_eq!(s["type"], "object", "{}", op.path);
            assert_eq!(s["additionalProperties"], false, "{}", op.path);
        }
        let path = op
            .path
            .replace("{id}", &cid.to_string())
            .replace("{tid}", tid);
        let method = op.method.to_uppercase();
        let body = op.body.map(|_| json!({}));
        // No token: 401 from the middleware.
        let (s, e) = w
            .raw(
                &method,
                &path,
                None,
                body.as_ref().map(|b| b.to_string()),
                "application/json",
            )
            .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthenticated")),
            "{method} {path}"
        );
        // Every allowed role reaches the handler (no 404/405 from the router).
        for role in op.roles {
            let who = match *role {
                "pattas_officer" => "officer",
                "admin" => "admin",
                "pattas_mitra" => "mitra1",
                other => panic!("unexpected role {other}"),
            };
            let (s, e) = w.call(&method, &path, who, body.clone()).await;
            assert!(
                s != StatusCode::METHOD_NOT_ALLOWED
                    && !(s == StatusCode::NOT_FOUND && who != "mitra1"),
                "{who} {method} {path}: {s} {e}"
            );
            assert!(!s.is_server_error(), "{who} {method} {path}: {s} {e}");
            if !s.is_success() {
                assert!(
                    e["code"].is_string() && e["message_id"].is_string(),
                    "{who} {method} {path}: {e}"
                );
            }
        }
    }
    // A path that is not in the table is not routed.
    let (s, _) = w.call("GET", "/api/pattas/nothing", "officer", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[test]
fn migrations_are_idempotent_and_data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pattas.sqlite");
    let officer = Principal {
        user_id: 1,
        username: "officer".into(),
        role: Role::PattasOfficer,
        unit: None,
        hospital: None,
        subject: None,
    };
    let (bid, cid) = {
        let p = Pattas::open(&path, PattasConfig::default()).unwrap();
        assert_eq!(p.schema_version().unwrap(), SCHEMA_VERSION);
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
        let p = Pattas::open(&path, PattasConfig::default()).unwrap();
        assert_eq!(p.schema_version().unwrap(), SCHEMA_VERSION);
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
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    assert!(Pattas::open(&path, PattasConfig::default()).is_err());
}

#[test]
fn demo_seed_is_idempotent_and_in_every_state() {
    let dir = tempfile::tempdir().unwrap();
    let p = Pattas::open(&dir.path().join("pattas.sqlite"), PattasConfig::default()).unwrap();
    let officer = Principal {
        user_id: 1,
        username: "officer".into(),
        role: Role::PattasOfficer,
        unit: None,
        hospital: None,
        subject: None,
    };
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

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn value(&mut self, depth: u32) -> Value {
        let pool = [
            json!(null),
            json!(true),
            json!(-1),
            json!(0),
            json!(1),
            json!(i64::MAX),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(1e308),
            json!(-0.5),
            json!(""),
            json!(" "),
            json!("x".repeat(3000)),
            json!("😀\u{0}\u{7}"),
            json!("2026-12-01"),
            json!("2026-12-01T08:00:00+07:00"),
            json!("9999-12-31T23:59:59Z"),
            json!(NIK_SUKARTI),
            json!("Karangrau"),
            json!("0812345678901"),
            json!("transport"),
            json!("%_\\'\";--"),
        ];
        if depth < 2 && self.below(6) == 0 {
            let n = self.below(3);
            return if self.below(2) == 0 {
                Value::Array((0..n).map(|_| self.value(depth + 1)).collect())
            } else {
                let keys = ["lat", "lon", "name", "address", "zz"];
                Value::Object(
                    (0..n)
                        .map(|_| {
                            (
                                keys[self.below(keys.len())].to_string(),
                                self.value(depth + 1),
                            )
                        })
                        .collect(),
                )
            };
        }
        pool[self.below(pool.len())].clone()
    }

    fn mutate(&mut self, mut body: Value) -> Value {
        let Value::Object(m) = &mut body else {
            return body;
        };
        for _ in 0..=self.below(3) {
            let keys: Vec<String> = m.keys().cloned().collect();
            match self.below(4) {
                0 if !keys.is_empty() => {
                    let k = &keys[self.below(keys.len())];
                    m.remove(k);
                }
                1 => {
                    m.insert("unexpected".into(), self.value(0));
                }
                _ if !keys.is_empty() => {
                    let k = keys[self.below(keys.len())].clone();
                    let v = self.value(0);
                    m.insert(k, v);
                }
                _ => {}
            }
        }
        body
    }
}

#[tokio::test]
async fn generated_inputs_never_get_a_5xx() {
    let w = world();
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
    let t = w
        .post_ok(
            &format!("/api/pattas/cases/{cid}/transports"),
            "officer",
            transport_body(T0 + H),
        )
        .await;
    let tid = t["transport_id"].as_str().unwrap().to_string();
    let valid_body = |path: &str| -> Value {
        match path.rsplit('/').next().unwrap() {
            "beneficiaries" => darsono(),
            "{id}" => json!({"name": "Nama Baru", "phone": null}),
            "cases" => json!({"nik": NIK_DARSONO, "needs": ["shelter"], "description": "x"}),
            "verify" | "assist" => json!({"note": "n"}),
            "reject" | "cancel" => json!({"reason": "r"}),
            "close" => json!({"summary": "s"}),
            "assistance" => json!({"date": "2026-12-01", "kind": "transport", "amount_rp": 10}),
            "transports" => transport_body(T0 + 2 * H),
            other => panic!("no body for {other}"),
        }
    };
    let ids = [
        "1",
        "0",
        "-1",
        "999",
        "abc",
        "1e3",
        "%F0%9F%98%80",
        "9223372036854775808",
    ];
    let queries = [
        "",
        "?limit=1",
        "?limit=abc",
        "?q=%25",
        "?q=3302",
        "?desa=%00",
        "?status=closed",
        "?from=2026-12-01",
        "?to=0000-01-01",
        "?from=9999-12-31",
        "?offset=4294967295",
        "?zz=1",
        "?limit=1&limit=2",
    ];
    let mut g = Gen(0x5EED_0119);
    let mut requests = 0;
    for op in OPERATIONS {
        for round in 0..40 {
            let id = if round % 4 == 0 {
                ids[g.below(ids.len())].to_string()
            } else {
                cid.to_string()
            };
            let t = if round % 5 == 0 {
                "nope".to_string()
            } else {
                tid.clone()
            };
            let mut path = op.path.replace("{id}", &id).replace("{tid}", &t);
            if op.method == "get" {
                path.push_str(queries[g.below(queries.len())]);
            }
            let who = ["officer", "admin", "mitra1", "mitra2"][g.below(4)];
            let body = op.body.map(|_| {
                let base = valid_body(op.path);
                if round == 0 {
                    base.to_string()
                } else if round % 13 == 0 {
                    "\u{0}{[".to_string()
                } else {
                    g.mutate(base).to_string()
                }
            });
            let (s, e) = w
                .raw(
                    &op.method.to_uppercase(),
                    &path,
                    Some(who),
                    body.clone(),
                    "application/json",
                )
                .await;
            requests += 1;
            assert!(
                !s.is_server_error(),
                "{who} {} {path} {body:?}: {s} {e}",
                op.method
            );
            if !s.is_success() {
                assert!(
                    e["code"].is_string()
                        && e["message"].is_string()
                        && e["message_id"].is_string(),
                    "{who} {} {path} {body:?}: {s} {e}",
                    op.method
                );
            }
        }
    }
    assert!(requests >= 40 * OPERATIONS.len());
    // The case is still readable and consistent afterwards.
    let d = w.get(&format!("/api/pattas/cases/{cid}"), "officer").await;
    assert!(STATUSES.contains(&d["status"].as_str().unwrap()));
}

#[tokio::test]
async fn everything_survives_a_restart() {
    let mut w = world();
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

/// A desk during whose booking an officer closes the case.
struct ClosingDesk {
    inner: FakeDesk,
    pattas: Arc<Pattas>,
    cancelled: Mutex<Vec<String>>,
}

impl TransportDesk for ClosingDesk {
    fn book(&self, req: TransportRequest) -> BoxFuture<Result<TransportTicket, TransportError>> {
        let officer = Principal {
            user_id: 9,
            username: "other-officer".into(),
            role: Role::PattasOfficer,
            unit: None,
            hospital: None,
            subject: None,
        };
        self.pattas
            .close_case(&officer, req.case_id, "ditutup bersamaan", T0)
            .unwrap();
        self.inner.book(req)
    }

    fn status(&self, transport_id: &str) -> BoxFuture<Option<TransportStatus>> {
        self.inner.status(transport_id)
    }

    fn cancel(&self, transport_id: &str, reason: &str) -> BoxFuture<Result<(), TransportError>> {
        self.cancelled
            .lock()
            .unwrap()
            .push(transport_id.to_string());
        self.inner.cancel(transport_id, reason)
    }
}

#[tokio::test]
async fn a_booking_the_case_can_no_longer_take_is_cancelled_at_the_desk() {
    let desk = Arc::new(Mutex::new(None::<Arc<ClosingDesk>>));
    let slot = desk.clone();
    let w = world_with(move |p| {
        let d = Arc::new(ClosingDesk {
            inner: FakeDesk::default(),
            pattas: p.clone(),
            cancelled: Mutex::new(Vec::new()),
        });
        *slot.lock().unwrap() = Some(d.clone());
        Some(d)
    });
    let closing = desk.lock().unwrap().clone().unwrap();
    let b = w
        .post_ok("/api/pattas/beneficiaries", "officer", sukarti())
        .await;
    let c = w
        .post_ok(
            "/api/pattas/cases",
            "officer",
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
        &format!("/api/pattas/cases/{cid}/assist"),
        "officer",
        json!({}),
    )
    .await;
    let (s, e) = w
        .call(
            "POST",
            &format!("/api/pattas/cases/{cid}/transports"),
            "officer",
            Some(transport_body(T0 + H)),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_transition")),
        "{e}"
    );
    assert_eq!(*closing.cancelled.lock().unwrap(), vec!["TR-1".to_string()]);
    let d = w.get(&format!("/api/pattas/cases/{cid}"), "officer").await;
    assert_eq!(d["status"], "closed");
    assert_eq!(d["transports"], json!([]));
    assert!(
        d["history"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["action"] != "transport_booked")
    );
}

#[test]
fn deadlines_follow_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let config = PattasConfig {
        verify_within_ms: H,
        first_assistance_within_ms: 2 * H,
    };
    let p = Pattas::open(&dir.path().join("pattas.sqlite"), config).unwrap();
    let officer = Principal {
        user_id: 1,
        username: "officer".into(),
        role: Role::PattasOfficer,
        unit: None,
        hospital: None,
        subject: None,
    };
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
    assert_eq!(c.verify_due_ms, T0 + H);
    assert!(
        p.overdue_cases(&officer, T0 + H).unwrap().is_empty(),
        "due is not late"
    );
    assert_eq!(p.overdue_cases(&officer, T0 + H + 1).unwrap().len(), 1);
    let v = p.verify_case(&officer, c.id, None, T0 + 3 * H).unwrap();
    assert_eq!(v.assistance_due_ms, Some(T0 + 5 * H));
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
    assert!(Pattas::open(&dir.path().join("other.sqlite"), bad).is_err());
}

#[tokio::test]
async fn form_data_is_labelled_in_both_languages() {
    let w = world();
    let m = w.get("/api/pattas/meta", "mitra1").await;
    let needs: Vec<&str> = m["needs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["value"].as_str().unwrap())
        .collect();
    assert_eq!(needs, NEEDS.to_vec());
    let statuses: Vec<&str> = m["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["value"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, STATUSES.to_vec());
    let actions: Vec<&str> = m["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["value"].as_str().unwrap())
        .collect();
    for a in [
        "registered",
        "reported",
        "verified",
        "assistance_started",
        "transport_booked",
        "transport_cancelled",
        "closed",
    ] {
        assert!(actions.contains(&a), "history action {a} is labelled");
    }
    for list in ["needs", "statuses", "actions", "bpjs", "sex"] {
        for x in m[list].as_array().unwrap() {
            assert!(
                !x["label"].as_str().unwrap().is_empty()
                    && !x["label_id"].as_str().unwrap().is_empty()
            );
        }
    }
    let desa = m["desa"].as_array().unwrap();
    assert!(desa.len() > 300);
    assert!(
        desa.iter()
            .any(|d| d["desa"] == "Kedungwuluh" && d["kecamatan"] == "Purwokerto Barat")
    );
    // Each desa comes with its centre, so a transport can be booked by desa name;
    // the centre is the region's (fixtures/banyumas/desa.csv: -7.42309, 109.22718).
    let k = desa
        .iter()
        .find(|d| d["desa"] == "Kedungwuluh" && d["kecamatan"] == "Purwokerto Barat")
        .unwrap();
    assert!((k["lat"].as_f64().unwrap() + 7.42309).abs() < 1e-6, "{k}");
    assert!((k["lon"].as_f64().unwrap() - 109.22718).abs() < 1e-6, "{k}");
    for d in desa {
        let (lat, lon) = (d["lat"].as_f64().unwrap(), d["lon"].as_f64().unwrap());
        assert!(
            (-7.85..=-7.05).contains(&lat) && (108.7..=109.65).contains(&lon),
            "{d}"
        );
    }
    assert_eq!(m["verify_within_ms"], 24 * H);
    assert!(w.log.entries().is_empty());
}

/// A blank desa filter filters nothing (as a blank q does); a limit outside
/// 1..=PAGE_MAX is refused, as the document states (issue 14: schemathesis).
#[tokio::test]
async fn a_blank_desa_filter_filters_nothing() {
    let w = world();
    let all = w.get("/api/pattas/beneficiaries", "officer").await;
    assert_eq!(
        w.get("/api/pattas/beneficiaries?desa=", "officer").await,
        all
    );
    assert_eq!(
        w.get("/api/pattas/cases?desa=%20", "officer").await,
        w.get("/api/pattas/cases", "officer").await
    );
    let (st, e) = w
        .call("GET", "/api/pattas/beneficiaries?limit=0", "officer", None)
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_limit"))
    );
}
