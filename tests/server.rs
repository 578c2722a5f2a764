//! The server end to end, over real sockets on 127.0.0.1 port 0: HTTP with
//! reqwest, WebSockets with tokio-tungstenite. Drive times are a straight line at
//! 40 km/h so the suite needs no road graph; the roads are tested elsewhere.

use futures_util::{SinkExt, StreamExt};
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use satria_auth::{AuthStore, NewUser, Role};
use satria_dispatch::{StraightLine, demo_fleet, demo_hospitals};
use satria_engine::{Clock, Engine, EngineOptions};
use satria_server::{AppState, ServerOptions};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

#[path = "server/roles.rs"]
mod roles;

const PASSWORD: &str = "kata-sandi-uji-119";
/// The crew account's unit and the hospital account's hospital.
const CREW_UNIT: &str = "PSC-01";

struct Server {
    base: String,
    ws: String,
    state: Arc<AppState>,
    http: reqwest::Client,
    hospital: String,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = EngineOptions::new(dir.path());
        opts.initial_units = demo_fleet();
        opts.hospitals = demo_hospitals();
        opts.tick_ms = 100;
        // The demo region's box: positions far outside it are refused.
        opts.config.service_area = Some(satria_dispatch::ServiceArea::of_region(
            &satria_region::Region::banyumas(),
        ));
        let hospital = opts.hospitals[0].id.0.clone();
        let engine = Arc::new(
            Engine::start(opts, Box::new(StraightLine::default()), Clock::system()).unwrap(),
        );
        let auth = Arc::new(AuthStore::open(&dir.path().join("auth.sqlite")).unwrap());
        for (name, role, unit, hosp) in [
            ("dispatcher1", Role::Dispatcher, None, None),
            ("dispatcher2", Role::Dispatcher, None, None),
            ("crew1", Role::Crew, Some(CREW_UNIT.to_string()), None),
            ("crew2", Role::Crew, Some("PSC-02".to_string()), None),
            ("hospital1", Role::Hospital, None, Some(hospital.clone())),
            ("admin", Role::Admin, None, None),
            ("mitra", Role::PattasMitra, None, None),
        ] {
            auth.add_user(
                NewUser {
                    username: name.into(),
                    password: PASSWORD.into(),
                    role,
                    unit,
                    hospital: hosp,
                    subject: None,
                },
                0,
            )
            .unwrap();
        }
        let state = AppState::new(
            engine,
            auth,
            dir.path().to_path_buf(),
            ServerOptions::default(),
            true,
        );
        state.open_modules().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let s = Arc::clone(&state);
        let task = tokio::spawn(async move {
            satria_server::serve(listener, s, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Server {
            base: format!("http://{addr}"),
            ws: format!("ws://{addr}/ws"),
            state,
            http: reqwest::Client::new(),
            hospital,
            _dir: dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), t)
                .await
                .expect("graceful shutdown within 10 s")
                .unwrap();
        }
    }

    async fn login(&self, user: &str) -> String {
        let r = self
            .http
            .post(format!("{}/api/auth/login", self.base))
            .json(&json!({"username": user, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "login {user}");
        let v: Value = r.json().await.unwrap();
        v["token"].as_str().unwrap().to_string()
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let url = format!("{}{}", self.base, path);
        let mut rq = match method {
            "get" => self.http.get(url),
            "post" => self.http.post(url),
            "patch" => self.http.patch(url),
            _ => unreachable!(),
        };
        if let Some(t) = token {
            rq = rq.bearer_auth(t);
        }
        if let Some(b) = body {
            rq = rq.json(&b);
        }
        let r = rq.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, v)
    }

    fn last_seq(&self) -> u64 {
        self.state.engine.last_seq()
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Client {
    ws: Ws,
}

impl Client {
    async fn connect(server: &Server, token: &str, last_seq: u64) -> (Client, Value) {
        let (mut ws, _) = tokio_tungstenite::connect_async(&server.ws).await.unwrap();
        ws.send(Message::text(
            json!({"type": "hello", "token": token, "last_seq": last_seq}).to_string(),
        ))
        .await
        .unwrap();
        let mut c = Client { ws };
        let welcome = c.next().await;
        (c, welcome)
    }

    /// The next JSON frame (pings are answered by tungstenite itself).
    async fn next(&mut self) -> Value {
        loop {
            let m = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("a frame within 10 s")
                .expect("the socket is open")
                .expect("a valid frame");
            if let Message::Text(t) = m {
                return serde_json::from_str(&t).unwrap();
            }
        }
    }

    /// Frames until `stop` says so (inclusive).
    async fn until(&mut self, stop: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let f = self.next().await;
            let done = stop(&f);
            out.push(f);
            if done {
                return out;
            }
        }
    }

    async fn send(&mut self, v: Value) {
        self.ws.send(Message::text(v.to_string())).await.unwrap();
    }

    /// Sends a command and returns the answer (`ack` or `error`), skipping events.
    async fn command(&mut self, client_id: &str, command: Value) -> Value {
        self.send(json!({"type": "command", "client_id": client_id, "command": command}))
            .await;
        loop {
            let f = self.next().await;
            if (f["type"] == "ack" || f["type"] == "error") && f["client_id"] == client_id {
                return f;
            }
        }
    }
}

fn event_type(f: &Value) -> &str {
    f["event"]["type"].as_str().unwrap_or("")
}

fn is_event(f: &Value, ty: &str) -> bool {
    f["type"] == "event" && event_type(f) == ty
}

/// The region events of a frame list, as (seq, event).
fn region_events(frames: &[Value]) -> Vec<(u64, Value)> {
    frames
        .iter()
        .filter(|f| f["type"] == "event" && f["stream"] == "region:banyumas")
        .map(|f| (f["seq"].as_u64().unwrap(), f["event"].clone()))
        .collect()
}

fn incident_body(lat: f64, lon: f64, triage: &str) -> Value {
    json!({
        "caller_name": "Siti",
        "caller_phone": "081390001119",
        "lat": lat,
        "lon": lon,
        "address": {"desa": "Sokanegara", "rt_rw": "02/03", "landmark": "depan masjid"},
        "triage": triage,
        "category": "medical",
        "patients": 1,
        "notes": "sesak napas"
    })
}

fn referral_body(incident: u64, to: &str, unit: &str) -> Value {
    let cmd = satria_dispatch::Command::SendReferral {
        incident: satria_dispatch::IncidentId(incident),
        to: satria_dispatch::HospitalId(to.into()),
        unit: None,
        form: satria_dispatch::ReferralForm {
            from: "PSC 119 Banyumas".into(),
            referral_type: satria_dispatch::ReferralType::Emergency,
            reason: "sesak napas berat".into(),
            diagnosis_icd10: "J96.0".into(),
            officer: "dr. Rina".into(),
            condition: satria_dispatch::GeneralCondition {
                history_exam: "sesak sejak pagi".into(),
                consciousness: satria_dispatch::Consciousness::Alert,
                gcs: Some(15),
                bp_systolic_mmhg: Some(130),
                bp_diastolic_mmhg: Some(85),
                pulse_per_min: Some(110),
                temperature_c: Some(37.2),
                breathing_per_min: Some(28),
                pain_score: Some(3),
                allergies: "tidak ada".into(),
            },
            findings: "SpO2 88%".into(),
        },
        patient: satria_dispatch::PatientData {
            nik: "3302011505900001".into(),
            name: "Slamet".into(),
            sex: satria_dispatch::Sex::Male,
            date_of_birth: "1990-05-15".into(),
            address: "Sokanegara RT 02/03".into(),
            contact: "081234567891".into(),
        },
    };
    let v = serde_json::to_value(cmd).unwrap();
    json!({"incident": incident, "to": to, "unit": unit, "form": v["form"], "patient": v["patient"]})
}

/// Near the PSC base in Purwokerto, so PSC-01 is the nearest unit.
const SCENE: (f64, f64) = (-7.4240, 109.2380);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_from_call_to_handover_with_two_consoles_that_see_the_same_events() {
    let s = Server::start().await;
    let d1 = s.login("dispatcher1").await;
    let d2 = s.login("dispatcher2").await;
    let crew = s.login("crew1").await;
    let hosp = s.login("hospital1").await;
    let start = s.last_seq();
    let (mut c1, w1) = Client::connect(&s, &d1, start).await;
    let (mut c2, _) = Client::connect(&s, &d2, start).await;
    let (mut cc, wc) = Client::connect(&s, &crew, start).await;
    let (mut ch, _) = Client::connect(&s, &hosp, start).await;
    assert_eq!(w1["type"], "welcome");
    assert_eq!(w1["mode"], "replay");
    assert_eq!(wc["user"]["unit"], CREW_UNIT);

    // The call.
    let (st, inc) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d1),
            Some(incident_body(SCENE.0, SCENE.1, "kuning")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{inc}");
    let id = inc["id"].as_u64().unwrap();
    assert_eq!(inc["caller_phone"], "081390001119");
    assert_eq!(inc["status"], "open", "{inc}");

    // Recommendations: in ETA order, PSC-01 first (it is nearest), with exclusions.
    let (st, rec) = s
        .call(
            "get",
            &format!("/api/incidents/{id}/recommendations"),
            Some(&d1),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{rec}");
    let cands = rec["candidates"].as_array().unwrap();
    assert!(!cands.is_empty());
    let etas: Vec<u64> = cands.iter().map(|c| c["eta_s"].as_u64().unwrap()).collect();
    assert!(etas.windows(2).all(|w| w[0] <= w[1]), "ETA order: {etas:?}");
    assert_eq!(cands[0]["unit_id"], CREW_UNIT);
    assert!(cands[0]["distance_m"].as_u64().is_some());

    // Assign; the crew hears of it with the incident, the consoles too.
    let (st, _) = s
        .call(
            "post",
            &format!("/api/incidents/{id}/assign"),
            Some(&d1),
            Some(json!({"unit_id": CREW_UNIT})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let got = cc.until(|f| f["type"] == "incident").await;
    assert!(got.iter().any(|f| is_event(f, "unit_assigned")));
    assert_eq!(got.last().unwrap()["incident"]["id"], id);
    // The crew never saw the incident_created event (it was not theirs then).
    assert!(!got.iter().any(|f| is_event(f, "incident_created")));

    // The crew acknowledges and drives.
    let now = satria_server::now_ms();
    let a = cc
        .command("c1", json!({"type": "acknowledge_assignment", "incident": id, "unit": CREW_UNIT, "device_at": now}))
        .await;
    assert_eq!(a["type"], "ack", "{a}");
    for (i, status) in ["on_scene", "at_patient"].iter().enumerate() {
        let a = cc
            .command(&format!("s{i}"), json!({"type": "report_status", "unit": CREW_UNIT, "status": status, "device_at": now}))
            .await;
        assert_eq!(a["type"], "ack", "{status}: {a}");
    }

    // The referral; the hospital sees it with the patient, and accepts.
    let (st, r) = s
        .call(
            "post",
            "/api/referrals",
            Some(&d1),
            Some(referral_body(id, &s.hospital, CREW_UNIT)),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let rid = r["id"].as_u64().unwrap();
    let got = ch.until(|f| is_event(f, "referral_sent")).await;
    let sent = got.last().unwrap();
    assert_eq!(sent["event"]["referral"]["patient"]["name"], "Slamet");
    // The hospital learns nothing of the call itself.
    assert!(
        !got.iter()
            .any(|f| is_event(f, "incident_created") || is_event(f, "unit_assigned"))
    );
    let (st, ans) = s
        .call(
            "post",
            &format!("/api/referrals/{rid}/answer"),
            Some(&hosp),
            Some(json!({"accept": true, "officer": "dr. Sari"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{ans}");

    for (i, status) in [
        "transporting",
        "at_destination",
        "transfer_of_care",
        "available",
    ]
    .iter()
    .enumerate()
    {
        let a = cc
            .command(&format!("t{i}"), json!({"type": "report_status", "unit": CREW_UNIT, "status": status, "device_at": now}))
            .await;
        assert_eq!(a["type"], "ack", "{status}: {a}");
    }
    let (st, closed) = s
        .call(
            "post",
            &format!("/api/incidents/{id}/close"),
            Some(&d1),
            Some(json!({"outcome": "diserahkan ke IGD"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{closed}");

    // Both consoles saw the same region events, contiguous, ending with the close.
    let e1 = region_events(&c1.until(|f| is_event(f, "incident_closed")).await);
    let e2 = region_events(&c2.until(|f| is_event(f, "incident_closed")).await);
    assert_eq!(e1, e2);
    let seqs: Vec<u64> = e1.iter().map(|e| e.0).collect();
    assert_eq!(seqs, ((start + 1)..=s.last_seq()).collect::<Vec<_>>());
    let kinds: Vec<&str> = e1.iter().map(|e| e.1["type"].as_str().unwrap()).collect();
    for k in [
        "incident_created",
        "unit_assigned",
        "assignment_acknowledged",
        "referral_sent",
        "referral_accepted",
        "handover_recorded",
        "incident_closed",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let pos = |k: &str| kinds.iter().position(|x| *x == k).unwrap();
    assert!(pos("incident_created") < pos("unit_assigned"));
    assert!(pos("unit_assigned") < pos("assignment_acknowledged"));
    assert!(pos("referral_sent") < pos("referral_accepted"));
    assert!(pos("referral_accepted") < pos("handover_recorded"));

    // The hospital saw the handover of its referral.
    ch.until(|f| is_event(f, "handover_recorded")).await;

    // The timeline tells the story, to the crew too.
    let (st, tl) = s
        .call(
            "get",
            &format!("/api/incidents/{id}/timeline"),
            Some(&crew),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(tl.as_array().unwrap().len() >= 6, "{tl}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_that_reconnects_misses_nothing_and_sees_nothing_twice() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let (mut c, _) = Client::connect(&s, &d, 0).await;
    // From 0: the whole journal is replayed (the fleet registration).
    let first = c
        .until(|f| f["seq"].as_u64() == Some(s.last_seq()) && f["stream"] == "region:banyumas")
        .await;
    let seen: Vec<u64> = region_events(&first).iter().map(|e| e.0).collect();
    assert_eq!(seen, (1..=s.last_seq()).collect::<Vec<_>>());
    let (st, _) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(SCENE.0, SCENE.1, "hijau")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let got = c.until(|f| is_event(f, "incident_created")).await;
    let last_seen = got.last().unwrap()["seq"].as_u64().unwrap();
    // Forced disconnect: the socket is dropped without a close handshake.
    drop(c);
    for i in 0..5 {
        let (st, _) = s
            .call(
                "post",
                "/api/incidents",
                Some(&d),
                Some(incident_body(
                    SCENE.0 - 0.05 * f64::from(i + 1),
                    SCENE.1,
                    "hijau",
                )),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
    }
    let head = s.last_seq();
    let (mut c, w) = Client::connect(&s, &d, last_seen).await;
    assert_eq!(w["mode"], "replay");
    // One more, live, after the reconnect.
    let (st, inc) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(-7.30, 109.10, "kuning")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let live_id = inc["id"].clone();
    let got = c
        .until(|f| is_event(f, "incident_created") && f["event"]["incident"]["id"] == live_id)
        .await;
    let seqs: Vec<u64> = region_events(&got).iter().map(|e| e.0).collect();
    assert_eq!(
        seqs,
        ((last_seen + 1)..=s.last_seq()).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
    assert!(s.last_seq() > head);

    // A seq from another journal gets a snapshot instead.
    let (mut c2, w) = Client::connect(&s, &d, s.last_seq() + 1000).await;
    assert_eq!(w["mode"], "snapshot");
    let snap = c2.next().await;
    assert_eq!(snap["type"], "snapshot");
    assert_eq!(snap["seq"].as_u64(), Some(s.last_seq()));
    assert_eq!(snap["state"]["incidents"].as_array().unwrap().len(), 7);
    assert_eq!(
        snap["state"]["units"].as_array().unwrap().len(),
        demo_fleet().len()
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_unauthorised_request_is_refused_and_learns_nothing() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let crew = s.login("crew1").await;
    let crew2 = s.login("crew2").await;
    let hosp = s.login("hospital1").await;
    let mitra = s.login("mitra").await;
    let (_, inc) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(SCENE.0, SCENE.1, "kuning")),
        )
        .await;
    let id = inc["id"].as_u64().unwrap();
    s.call(
        "post",
        &format!("/api/incidents/{id}/assign"),
        Some(&d),
        Some(json!({"unit_id": CREW_UNIT})),
    )
    .await;
    let (_, r) = s
        .call(
            "post",
            "/api/referrals",
            Some(&d),
            Some(referral_body(id, &s.hospital, CREW_UNIT)),
        )
        .await;
    let rid = r["id"].as_u64().unwrap();
    let before = s.last_seq();

    // No token, a garbage token: 401 on every operation that needs one.
    for op in satria_server::openapi::OPERATIONS
        .iter()
        .filter(|o| !o.roles.is_empty())
    {
        let path = op.path.replace("{id}", &id.to_string());
        for token in [None, Some("not-a-token")] {
            let (st, body) = s
                .call(op.method, &path, token, op.body.map(|_| json!({})))
                .await;
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{} {path}: {body}", op.method);
            assert_eq!(body["code"], "unauthenticated");
        }
    }
    // Roles without dispatch rights: 403, the same for an incident that exists and one
    // that does not.
    for (token, method, path, body) in [
        (&crew2, "get", format!("/api/incidents/{id}"), None),
        (&crew2, "get", "/api/incidents/999999".to_string(), None),
        (&crew2, "get", format!("/api/incidents/{id}/timeline"), None),
        (
            &crew,
            "post",
            "/api/incidents".to_string(),
            Some(incident_body(SCENE.0, SCENE.1, "merah")),
        ),
        (
            &crew,
            "get",
            format!("/api/incidents/{id}/recommendations"),
            None,
        ),
        (
            &crew,
            "post",
            format!("/api/incidents/{id}/assign"),
            Some(json!({"unit_id": "PSC-02"})),
        ),
        (
            &crew,
            "post",
            "/api/units/PSC-02/status".to_string(),
            Some(json!({"status": "out_of_service"})),
        ),
        (
            &crew,
            "post",
            format!("/api/referrals/{rid}/answer"),
            Some(json!({"accept": true})),
        ),
        (&crew2, "get", format!("/api/referrals/{rid}"), None),
        (&hosp, "get", format!("/api/incidents/{id}"), None),
        (&hosp, "get", "/api/incidents".to_string(), None),
        (
            &hosp,
            "post",
            "/api/hospitals/SOME-OTHER/capacity".to_string(),
            Some(json!({"status": "full"})),
        ),
        (&mitra, "get", "/api/hospitals".to_string(), None),
        (&mitra, "get", "/api/referrals".to_string(), None),
        (
            &d,
            "post",
            format!("/api/referrals/{rid}/answer"),
            Some(json!({"accept": true})),
        ),
    ] {
        let (st, b) = s.call(method, &path, Some(token), body).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{method} {path}: {b}");
        assert_eq!(b["code"], "forbidden");
        assert!(b.get("incident").is_none() && b.get("id").is_none());
    }
    // Lists are filtered, not refused: the other crew sees no incident.
    let (st, list) = s.call("get", "/api/incidents", Some(&crew2), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list, json!([]));
    let (_, list) = s.call("get", "/api/incidents", Some(&crew), None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, refs) = s.call("get", "/api/referrals", Some(&crew2), None).await;
    assert_eq!(refs, json!([]));
    assert_eq!(s.last_seq(), before, "nothing changed");

    // WebSocket: a bad token is refused; a crew may not send for another unit.
    let (_, w) = Client::connect(&s, "nope", 0).await;
    assert_eq!(w["type"], "error");
    assert_eq!(w["code"], "unauthenticated");
    let (mut c, _) = Client::connect(&s, &crew, s.last_seq()).await;
    let a = c
        .command(
            "x1",
            json!({"type": "report_status", "unit": "PSC-02", "status": "out_of_service"}),
        )
        .await;
    assert_eq!(a["code"], "forbidden");
    let a = c
        .command("x2", json!({"type": "create_incident", "caller_name": "", "caller_phone": "", "location": {"lat": -7.4, "lon": 109.2},
            "address": {"desa": "", "rt_rw": "", "landmark": "", "text": ""}, "triage": "merah", "category": "medical", "patients": 1, "notes": ""}))
        .await;
    assert_eq!(a["code"], "forbidden");
    assert_eq!(s.last_seq(), before, "nothing changed");

    // A revoked account's token stops working at once.
    s.state
        .auth
        .revoke_user("dispatcher1", satria_server::now_ms())
        .unwrap();
    let (st, _) = s.call("get", "/api/incidents", Some(&d), None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_4xx_with_a_reason_and_changes_nothing() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let before = s.last_seq();
    let url = format!("{}/api/incidents", s.base);
    // Malformed JSON.
    let r = s
        .http
        .post(&url)
        .bearer_auth(&d)
        .header("content-type", "application/json")
        .body("{\"caller_name\":")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["code"], "malformed_json");
    assert!(b["message_id"].as_str().is_some());
    // Not JSON at all.
    let r = s
        .http
        .post(&url)
        .bearer_auth(&d)
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Oversized.
    let mut big = incident_body(SCENE.0, SCENE.1, "merah");
    big["notes"] = json!("x".repeat(200_000));
    let r = s
        .http
        .post(&url)
        .bearer_auth(&d)
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Unknown field, wrong enum, out-of-range coordinates.
    for (patch, code) in [
        (json!({"colour": "red"}), "invalid_body"),
        (json!({"triage": "ungu"}), "invalid_body"),
        (json!({"lat": 91.0}), "invalid_position"),
        (json!({"lon": -181.0}), "invalid_position"),
        (json!({"patients": -1}), "invalid_body"),
    ] {
        let mut b = incident_body(SCENE.0, SCENE.1, "merah");
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        let (st, body) = s.call("post", "/api/incidents", Some(&d), Some(b)).await;
        assert!(st.is_client_error(), "{patch}: {st}");
        assert_eq!(body["code"], code, "{patch}: {body}");
    }
    // Bad ids.
    let (st, b) = s.call("get", "/api/incidents/abc", Some(&d), None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(b["code"], "invalid_id");
    let (st, b) = s.call("get", "/api/incidents/424242", Some(&d), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{b}");
    assert_eq!(s.last_seq(), before, "nothing changed");

    // An invalid transition: a unit on one incident cannot take a second.
    let (_, a) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(SCENE.0, SCENE.1, "kuning")),
        )
        .await;
    let (_, b2) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(-7.50, 109.30, "kuning")),
        )
        .await;
    let (st, _) = s
        .call(
            "post",
            &format!("/api/incidents/{}/assign", a["id"]),
            Some(&d),
            Some(json!({"unit_id": CREW_UNIT})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let mid = s.last_seq();
    let (st, b) = s
        .call(
            "post",
            &format!("/api/incidents/{}/assign", b2["id"]),
            Some(&d),
            Some(json!({"unit_id": CREW_UNIT})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{b}");
    assert_eq!(b["code"], "unit_not_available");
    assert_eq!(s.last_seq(), mid, "nothing changed");
    // Unknown route.
    let (st, b) = s.call("get", "/api/nothing-here", Some(&d), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(b["code"], "not_found");
    s.stop().await;
}

/// Seeded random bodies for every documented operation: mutations of valid
/// values and random JSON. Whatever arrives, the server answers below 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_inputs_never_produce_a_server_error() {
    let s = Server::start().await;
    let tokens = [
        s.login("dispatcher1").await,
        s.login("crew1").await,
        s.login("hospital1").await,
        s.login("admin").await,
    ];
    let (_, inc) = s
        .call(
            "post",
            "/api/incidents",
            Some(&tokens[0]),
            Some(incident_body(SCENE.0, SCENE.1, "merah")),
        )
        .await;
    let id = inc["id"].as_u64().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(119);
    fn random_value(rng: &mut rand_chacha::ChaCha8Rng, depth: u32) -> Value {
        match rng.gen_range(0..if depth > 2 { 6 } else { 8 }) {
            0 => Value::Null,
            1 => json!(rng.r#gen::<bool>()),
            2 => json!(rng.gen_range(-1e12..1e12f64)),
            3 => json!(rng.gen_range(-5i64..100_000)),
            4 => json!(
                ["merah", "", "on_scene", "PSC-01", "ü\u{0}", "1e309", "-7.4"][rng.gen_range(0..7)]
            ),
            5 => json!(u64::MAX),
            6 => Value::Array(
                (0..rng.gen_range(0..4))
                    .map(|_| random_value(rng, depth + 1))
                    .collect(),
            ),
            _ => {
                let keys = [
                    "lat", "lon", "status", "unit_id", "into", "reason", "accept", "triage", "x",
                ];
                let mut m = serde_json::Map::new();
                for _ in 0..rng.gen_range(0..5) {
                    m.insert(
                        keys[rng.gen_range(0..keys.len())].into(),
                        random_value(rng, depth + 1),
                    );
                }
                Value::Object(m)
            }
        }
    }
    let mut checked = 0;
    for op in satria_server::openapi::OPERATIONS {
        for _ in 0..12 {
            let token = &tokens[rng.gen_range(0..tokens.len())];
            let idv = match rng.gen_range(0..4) {
                0 => id.to_string(),
                1 => "PSC-01".into(),
                2 => "-1".into(),
                _ => "99999999999999999999999".into(),
            };
            let path = op.path.replace("{id}", &idv);
            let body = op.body.map(|schema| {
                if rng.gen_bool(0.5) {
                    random_value(&mut rng, 0)
                } else {
                    // A plausible body with one property replaced by noise.
                    let props = schema()["properties"].clone();
                    let mut m = serde_json::Map::new();
                    if let Some(p) = props.as_object() {
                        for k in p.keys() {
                            m.insert(k.clone(), random_value(&mut rng, 1));
                        }
                    }
                    Value::Object(m)
                }
            });
            let (st, b) = s.call(op.method, &path, Some(token), body).await;
            assert!(
                st.as_u16() < 500 || st == StatusCode::SERVICE_UNAVAILABLE && b["code"] == "busy",
                "{} {path}: {st} {b}",
                op.method
            );
            if st.is_client_error() {
                assert!(b["code"].is_string(), "{} {path}: {b}", op.method);
            }
            checked += 1;
        }
    }
    assert!(checked > 300);
    let (st, _) = s.call("get", "/livez", None, None).await;
    assert_eq!(st, StatusCode::OK);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crews_messages_are_applied_once_and_bad_positions_are_refused() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let crew = s.login("crew1").await;
    let (_, inc) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(SCENE.0, SCENE.1, "kuning")),
        )
        .await;
    let id = inc["id"].as_u64().unwrap();
    s.call(
        "post",
        &format!("/api/incidents/{id}/assign"),
        Some(&d),
        Some(json!({"unit_id": CREW_UNIT})),
    )
    .await;
    let (mut c, _) = Client::connect(&s, &crew, s.last_seq()).await;
    let ack = json!({"type": "acknowledge_assignment", "incident": id, "unit": CREW_UNIT});
    let a1 = c.command("same-id", ack.clone()).await;
    assert_eq!(a1["type"], "ack");
    let after = s.last_seq();
    // The reconnect and the resend.
    drop(c);
    let (mut c, _) = Client::connect(&s, &crew, after).await;
    let a2 = c.command("same-id", ack).await;
    assert_eq!(a2["type"], "ack");
    assert_eq!(a2["duplicate"], true);
    assert_eq!(a2["events"], a1["events"]);
    assert_eq!(s.last_seq(), after, "applied once");

    let now = satria_server::now_ms();
    let ok = c.command("p1", json!({"type": "update_position", "unit": CREW_UNIT, "at": {"lat": -7.4250, "lon": 109.2370}, "device_at": now})).await;
    assert_eq!(ok["type"], "ack", "{ok}");
    for (cid, at, device_at, code) in [
        (
            "p2",
            json!({"lat": 95.0, "lon": 109.2}),
            now,
            "invalid_position",
        ),
        (
            "p3",
            json!({"lat": -7.4251, "lon": 109.2371}),
            now + 3_600_000,
            "device_time_in_future",
        ),
        (
            "p4",
            json!({"lat": -6.2, "lon": 106.8}),
            now + 1000,
            "implausible_position",
        ),
    ] {
        let e = c.command(cid, json!({"type": "update_position", "unit": CREW_UNIT, "at": at, "device_at": device_at})).await;
        assert_eq!(e["type"], "error", "{cid}");
        assert_eq!(e["code"], code, "{cid}: {e}");
    }
    // Garbage does not end the connection.
    c.send(json!({"type": "launch_rockets"})).await;
    let e = c.next().await;
    assert_eq!(e["code"], "invalid_message");
    c.ws.send(Message::text("{not json")).await.unwrap();
    let e = c.next().await;
    assert_eq!(e["code"], "invalid_message");
    let ok = c.command("p5", json!({"type": "update_position", "unit": CREW_UNIT, "at": {"lat": -7.4252, "lon": 109.2372}, "device_at": now + 2000})).await;
    assert_eq!(ok["type"], "ack", "{ok}");
    // Position-only batches refresh the snapshot within 200 ms.
    let mut fix = None;
    for _ in 0..50 {
        let snap = s.state.engine.snapshot();
        fix = snap
            .unit(&satria_dispatch::UnitId(CREW_UNIT.into()))
            .unwrap()
            .last_fix;
        if fix.is_some_and(|f| f.at.lat == -7.4252) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fix = fix.expect("the accepted position reached the state");
    assert_eq!((fix.at.lat, fix.at.lon), (-7.4252, 109.2372));

    // A burst sent without waiting is answered in order, one answer each; more
    // positions than the position memory holds do not push the acknowledgement
    // of the assignment out of it.
    const BURST: usize = 1000;
    for k in 0..BURST {
        c.send(json!({"type": "command", "client_id": format!("burst-{k}"), "command": {"type": "update_position", "unit": CREW_UNIT, "at": {"lat": -7.4252, "lon": 109.2372}, "device_at": now + 2000 + k as i64}})).await;
    }
    let mut last = 0;
    for k in 0..BURST {
        let mut a = c.next().await;
        while a["type"] == "event" {
            a = c.next().await;
        }
        assert_eq!(a["type"], "ack", "{a}");
        assert_eq!(a["client_id"], format!("burst-{k}"));
        assert_eq!(a["events"][0]["stream"], "positions");
        let seq = a["events"][0]["seq"].as_u64().unwrap();
        assert!(seq > last, "position seqs increase: {seq} after {last}");
        last = seq;
    }
    let again = c
        .command(
            "same-id",
            json!({"type": "acknowledge_assignment", "incident": id, "unit": CREW_UNIT}),
        )
        .await;
    assert_eq!(again["duplicate"], true, "{again}");
    assert_eq!(again["events"], a1["events"]);

    let (_, m) = s.call("get", "/metrics", None, None).await;
    let m = m.as_str().unwrap().to_string();
    assert!(m.contains("satria_ws_rejected_messages_total 5"), "{m}");
    assert!(m.contains("satria_ws_duplicate_messages_total 2"), "{m}");
    assert!(m.contains("satria_ws_open{role=\"crew\"} 1"));
    assert!(m.contains("satria_http_request_duration_seconds_bucket{group=\"incidents\""));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_of_personal_data_are_recorded_and_health_is_reported() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let (_, inc) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(SCENE.0, SCENE.1, "hijau")),
        )
        .await;
    let id = inc["id"].as_u64().unwrap();
    let (st, _) = s
        .call("get", &format!("/api/incidents/{id}"), Some(&d), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s.call("get", "/api/incidents", Some(&d), None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, ready) = s.call("get", "/readyz", None, None).await;
    assert_eq!(st, StatusCode::OK, "{ready}");
    assert_eq!(ready["journal_readable"], true);
    let (st, doc) = s.call("get", "/api/openapi.json", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/incidents/{id}/recommendations"]["get"].is_object());
    let auth = Arc::clone(&s.state.auth);
    s.stop().await;
    // Stopping flushed the access log.
    let log = auth
        .access_log(
            &satria_auth::AccessFilter {
                username: Some("dispatcher1".into()),
                ..Default::default()
            },
            100,
        )
        .unwrap();
    let subjects: Vec<&str> = log.iter().map(|e| e.subject.as_str()).collect();
    assert!(
        subjects.contains(&format!("incident:{id}").as_str()),
        "{subjects:?}"
    );
    assert!(
        log.iter()
            .any(|e| e.action == "list" && e.subject.contains(&id.to_string()))
    );
    auth.verify_access_log().unwrap();
}

/// Adds an account while the server runs (module accounts are bound to records
/// the test creates first).
fn add_user(s: &Server, name: &str, role: Role, subject: Option<String>) {
    s.state
        .auth
        .add_user(
            NewUser {
                username: name.into(),
                password: PASSWORD.into(),
                role,
                unit: None,
                hospital: None,
                subject,
            },
            0,
        )
        .unwrap();
}

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

// ---- sessions reach open sockets, race-free lockout, fail-closed access log, slow consoles

impl Server {
    /// Like [`Server::start`], with the auth configuration and server options given.
    async fn start_with(auth: satria_auth::AuthConfig, opts: ServerOptions) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut eopts = EngineOptions::new(dir.path());
        eopts.initial_units = demo_fleet();
        eopts.hospitals = demo_hospitals();
        eopts.tick_ms = 100;
        let hospital = eopts.hospitals[0].id.0.clone();
        let engine = Arc::new(
            Engine::start(eopts, Box::new(StraightLine::default()), Clock::system()).unwrap(),
        );
        let store = Arc::new(AuthStore::open_with(&dir.path().join("auth.sqlite"), auth).unwrap());
        for (name, role, unit) in [
            ("dispatcher1", Role::Dispatcher, None),
            ("dispatcher2", Role::Dispatcher, None),
            ("crew1", Role::Crew, Some(CREW_UNIT.to_string())),
            ("crew2", Role::Crew, Some("PSC-02".to_string())),
        ] {
            store
                .add_user(
                    NewUser {
                        username: name.into(),
                        password: PASSWORD.into(),
                        role,
                        unit,
                        hospital: None,
                        subject: None,
                    },
                    0,
                )
                .unwrap();
        }
        let state = AppState::new(engine, store, dir.path().to_path_buf(), opts, true);
        state.open_modules().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let s = Arc::clone(&state);
        let task = tokio::spawn(async move {
            satria_server::serve(listener, s, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Server {
            base: format!("http://{addr}"),
            ws: format!("ws://{addr}/ws"),
            state,
            http: reqwest::Client::new(),
            hospital,
            _dir: dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// A second handle on the server's auth database, as `satria user` opens it.
    fn other_auth_handle(&self) -> AuthStore {
        AuthStore::open(&self._dir.path().join("auth.sqlite")).unwrap()
    }
}

impl Client {
    /// Reads until the server's goodbye and close frame; returns the goodbye,
    /// the close code and reason, and every event frame seen before them.
    async fn until_closed(&mut self) -> (Option<Value>, u16, String, Vec<Value>) {
        let mut goodbye = None;
        let mut events = Vec::new();
        loop {
            let m = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("the server closes within 10 s");
            match m {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["type"] == "goodbye" {
                        goodbye = Some(v);
                    } else {
                        events.push(v);
                    }
                }
                Some(Ok(Message::Close(Some(f)))) => {
                    return (goodbye, u16::from(f.code), f.reason.to_string(), events);
                }
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => {
                    panic!("closed without a close code (goodbye {goodbye:?})")
                }
                Some(Ok(_)) => {}
            }
        }
    }

    /// True if the socket delivers nothing but its end from now on.
    async fn delivers_nothing_more(&mut self) -> bool {
        loop {
            match tokio::time::timeout(Duration::from_secs(2), self.ws.next()).await {
                // Quiet for two seconds, or closed: nothing delivered.
                Err(_) | Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => {
                    return true;
                }
                Ok(Some(Ok(Message::Text(t)))) => {
                    eprintln!("delivered after the end: {t}");
                    return false;
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }
}

/// Creates an incident at the scene and assigns `unit` to it; returns its id.
async fn assigned_incident(s: &Server, d: &str, unit: &str, lat: f64) -> u64 {
    let (st, inc) = s
        .call(
            "post",
            "/api/incidents",
            Some(d),
            Some(incident_body(lat, SCENE.1, "kuning")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{inc}");
    let id = inc["id"].as_u64().unwrap();
    let (st, body) = s
        .call(
            "post",
            &format!("/api/incidents/{id}/assign"),
            Some(d),
            Some(json!({"unit_id": unit})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crew_revoked_by_another_process_is_closed_and_gets_nothing_more() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let crew = s.login("crew1").await;
    let (mut c, w) = Client::connect(&s, &crew, s.last_seq()).await;
    assert_eq!(w["type"], "welcome");

    // `satria user revoke` is another process: another handle on the file.
    let revoked_at = std::time::Instant::now();
    s.other_auth_handle()
        .revoke_user("crew1", satria_server::now_ms())
        .unwrap();
    let (goodbye, code, reason, _) = c.until_closed().await;
    eprintln!("revoked socket closed after {:?}", revoked_at.elapsed());
    let goodbye = goodbye.expect("a goodbye before the close");
    assert_eq!(goodbye["code"], "session_revoked");
    assert!(goodbye["message"].as_str().unwrap().contains("revoked"));
    assert!(goodbye["message_id"].as_str().unwrap().contains("dicabut"));
    assert_eq!((code, reason.as_str()), (4401, "session_revoked"));

    // The dispatcher assigns the crew's unit: nothing reaches the old socket.
    assigned_incident(&s, &d, CREW_UNIT, SCENE.0).await;
    assert!(c.delivers_nothing_more().await);
    let m = s.call("get", "/metrics", None, None).await.1;
    assert!(
        m.as_str()
            .unwrap()
            .contains("satria_ws_closed_session_ended_total 1"),
        "{m}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledgement_sent_after_revocation_is_not_applied() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let crew = s.login("crew2").await;
    let (mut c, _) = Client::connect(&s, &crew, s.last_seq()).await;
    let id = assigned_incident(&s, &d, "PSC-02", SCENE.0 - 0.01).await;
    c.until(|f| f["type"] == "incident").await;

    // Revoked by another process, and at once the crew acknowledges: the
    // server checks the store before applying anything but a position.
    s.other_auth_handle()
        .revoke_user("crew2", satria_server::now_ms())
        .unwrap();
    c.send(
        json!({"type": "command", "client_id": "ack-after-revoke", "command":
        {"type": "acknowledge_assignment", "incident": id, "unit": "PSC-02"}}),
    )
    .await;
    let (goodbye, code, _, frames) = c.until_closed().await;
    assert_eq!(goodbye.unwrap()["code"], "session_revoked");
    assert_eq!(code, 4401);
    assert!(
        !frames.iter().any(|f| f["type"] == "ack"),
        "no acknowledgement answered: {frames:?}"
    );
    let (st, tl) = s
        .call(
            "get",
            &format!("/api/incidents/{id}/timeline"),
            Some(&d),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        !tl.to_string().contains("assignment_acknowledged"),
        "the acknowledgement was journaled: {tl}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_closes_that_sessions_sockets_only() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let d_other = s.login("dispatcher1").await;
    let (mut c, _) = Client::connect(&s, &d, s.last_seq()).await;
    let (mut keep, _) = Client::connect(&s, &d_other, s.last_seq()).await;

    let (st, _) = s.call("post", "/api/auth/logout", Some(&d), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (goodbye, code, reason, _) = c.until_closed().await;
    let goodbye = goodbye.unwrap();
    assert_eq!(goodbye["code"], "logged_out");
    assert!(!goodbye["message_id"].as_str().unwrap().is_empty());
    assert_eq!((code, reason.as_str()), (4401, "logged_out"));

    // Events after the logout reach the other session, not the closed one.
    let (st, _) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d_other),
            Some(incident_body(SCENE.0, SCENE.1, "hijau")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    keep.until(|f| is_event(f, "incident_created")).await;
    assert!(c.delivers_nothing_more().await);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_closes_its_socket() {
    let cfg = satria_auth::AuthConfig {
        session_ttl_ms: 1_500,
        ..satria_auth::AuthConfig::default()
    };
    let s = Server::start_with(cfg, ServerOptions::default()).await;
    let d = s.login("dispatcher1").await;
    let (mut c, w) = Client::connect(&s, &d, s.last_seq()).await;
    assert_eq!(w["type"], "welcome");
    let (goodbye, code, reason, _) = c.until_closed().await;
    assert_eq!(goodbye.unwrap()["code"], "session_expired");
    assert_eq!((code, reason.as_str()), (4401, "session_expired"));
    // And the token is refused by HTTP as well.
    let (st, _) = s.call("get", "/api/me", Some(&d), None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_logins_check_no_more_guesses_than_allowed_and_429_says_when() {
    let s = Server::start().await;
    let max = satria_auth::AuthConfig::default().max_failures as usize;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (http, base) = (s.http.clone(), s.base.clone());
        let password = if i == 39 {
            PASSWORD
        } else {
            "salah-sekali-119"
        };
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(format!("{base}/api/auth/login"))
                .json(&json!({"username": "dispatcher1", "password": password}))
                .send()
                .await
                .unwrap();
            let retry = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            let status = r.status();
            let body: Value = r.json().await.unwrap();
            (status, retry, body)
        }));
    }
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
    for t in tasks {
        let (status, retry, body) = t.await.unwrap();
        *by_status.entry(status.as_u16()).or_default() += 1;
        match status {
            StatusCode::TOO_MANY_REQUESTS => {
                let secs: u64 = retry.expect("Retry-After on every 429").parse().unwrap();
                assert!((1..=300).contains(&secs), "Retry-After {secs}");
                assert_eq!(body["code"], "rate_limited");
                assert!(body["message_id"].as_str().unwrap().contains("detik"));
            }
            StatusCode::UNAUTHORIZED => assert_eq!(body["code"], "invalid_credentials"),
            StatusCode::OK => {}
            other => panic!("unexpected {other}: {body}"),
        }
    }
    eprintln!("40 parallel logins answered {by_status:?}");
    let n = |c: u16| by_status.get(&c).copied().unwrap_or(0);
    // A success clears the count, as it always did: should the right password
    // be checked before some wrong ones were counted, `max` more may follow.
    assert!(n(200) <= 1, "{by_status:?}");
    let allowed = max * (1 + n(200));
    assert!(
        n(401) <= allowed,
        "{by_status:?}: more guesses checked than allowed"
    );
    assert_eq!(n(401) + n(429) + n(200), 40, "{by_status:?}");
    assert!(n(429) >= 40 - allowed - n(200), "{by_status:?}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_is_refused_while_the_access_log_cannot_be_written() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let (st, _) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(SCENE.0, SCENE.1, "merah")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    add_user(&s, "pattas1", Role::PattasOfficer, None);
    let officer = s.login("pattas1").await;
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
    let beneficiary = format!("/api/pattas/beneficiaries/{}", b["id"]);
    // An open console, reading all along (as a browser does) until it is closed.
    let (console, _) = Client::connect(&s, &d, s.last_seq()).await;
    let console = tokio::spawn(async move {
        let mut ws = console.ws;
        let (mut goodbye, mut frames) = (None, Vec::new());
        while let Some(m) = ws.next().await {
            match m.unwrap() {
                Message::Text(t) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["type"] == "goodbye" {
                        goodbye = Some(v);
                    } else {
                        frames.push(v);
                    }
                }
                Message::Close(f) => return (goodbye, f.map(|f| u16::from(f.code)), frames),
                _ => {}
            }
        }
        (goodbye, None, frames)
    });

    // Another connection holds the write lock: every write to the access log
    // fails (SQLITE_BUSY after the store's busy timeout), as on a full disk.
    let lock = rusqlite::Connection::open(s._dir.path().join("auth.sqlite")).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();

    let r = s
        .http
        .get(format!("{}/api/incidents", s.base))
        .bearer_auth(&d)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "access_log_unavailable", "{body}");
    assert!(body["message"].as_str().unwrap().contains("access log"));
    assert!(!body["message_id"].as_str().unwrap().is_empty());
    assert!(
        !body.to_string().contains("081390001119"),
        "no personal data"
    );
    // A module's read fails closed the same way.
    let (st, body) = s.call("get", &beneficiary, Some(&officer), None).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "access_log_unavailable");
    assert!(!body.to_string().contains("Sukarti"), "no personal data");

    // The open console gets no personal frame: it is closed (1013) instead.
    let (st, _) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(SCENE.0 - 0.02, SCENE.1, "kuning")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (goodbye, code, frames) = tokio::time::timeout(Duration::from_secs(30), console)
        .await
        .expect("the console is closed")
        .unwrap();
    assert_eq!(goodbye.unwrap()["code"], "access_log_unavailable");
    assert_eq!(code, Some(1013));
    assert!(
        !frames.iter().any(|f| is_event(f, "incident_created")),
        "{frames:?}"
    );
    // And a new one is refused at hello while the log fails.
    let (mut refused, first) = Client::connect(&s, &d, s.last_seq()).await;
    assert_eq!(first["type"], "error");
    assert_eq!(first["code"], "access_log_unavailable");
    let (_, code, _, _) = refused.until_closed().await;
    assert_eq!(code, 1013);

    // The log recovers: the same read is answered and recorded.
    lock.execute_batch("ROLLBACK").unwrap();
    drop(lock);
    let since = satria_server::now_ms();
    let (st, list) = s.call("get", "/api/incidents", Some(&d), None).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 2);
    let log = s
        .state
        .auth
        .access_log(
            &satria_auth::AccessFilter {
                subject_prefix: Some("incident:".into()),
                username: Some("dispatcher1".into()),
                since_ms: Some(since),
            },
            10,
        )
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "list" && e.purpose == "GET /api/incidents"),
        "{log:?}"
    );
    let (st, body) = s.call("get", &beneficiary, Some(&officer), None).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Sukarti (uji)");
    // Consoles are welcome again once the log is known to work.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_c, first) = Client::connect(&s, &d, s.last_seq()).await;
        if first["type"] == "welcome" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still refused: {first}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let m = s.call("get", "/metrics", None, None).await.1;
    let m = m.as_str().unwrap();
    assert!(!m.contains("satria_access_log_failures_total 0\n"), "{m}");
    assert!(m.contains("satria_access_log_healthy 1"), "{m}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_that_stops_reading_is_dropped_and_a_reading_one_is_not() {
    let opts = ServerOptions {
        max_ws_lag: Duration::from_secs(2),
        ..ServerOptions::default()
    };
    let s = Server::start_with(satria_auth::AuthConfig::default(), opts).await;
    let d1 = s.login("dispatcher1").await;
    let d2 = s.login("dispatcher2").await;
    // The stalled console: a raw socket that says hello and then never reads.
    let (mut stalled, _) = tokio_tungstenite::connect_async(&s.ws).await.unwrap();
    stalled
        .send(Message::text(
            json!({"type": "hello", "token": d1, "last_seq": s.last_seq()}).to_string(),
        ))
        .await
        .unwrap();
    // The reading console, in its own task, counting incident events.
    let (mut reader, _) = Client::connect(&s, &d2, s.last_seq()).await;
    let (seen_tx, mut seen_rx) = tokio::sync::watch::channel(0u64);
    let reading = tokio::spawn(async move {
        let mut n = 0u64;
        loop {
            let f = reader.next().await;
            if is_event(&f, "incident_created") {
                n += 1;
                let _ = seen_tx.send(n);
            }
        }
    });

    // Events flow until the server gives up on the stalled console.
    let dropped = |s: &Server| {
        s.state
            .metrics
            .ws_dropped_lagging
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let mut created = 0u64;
    let started = tokio::time::Instant::now();
    let deadline = started + Duration::from_secs(60);
    while dropped(&s) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "never dropped");
        let lat = SCENE.0 - 0.004 * (created % 50) as f64;
        let lon = SCENE.1 + 0.004 * (created / 50) as f64;
        let (st, body) = s
            .call(
                "post",
                "/api/incidents",
                Some(&d2),
                Some(incident_body(lat, lon, "hijau")),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
        created += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "stalled console dropped after {created} incidents, {:?} of flow",
        started.elapsed()
    );
    // The reading console keeps up, and hears what comes next.
    let (st, _) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d2),
            Some(incident_body(SCENE.0 + 0.01, SCENE.1, "hijau")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    created += 1;
    tokio::time::timeout(Duration::from_secs(10), seen_rx.wait_for(|n| *n == created))
        .await
        .expect("the reading console got every event")
        .unwrap();
    assert_eq!(dropped(&s), 1, "only the stalled console was dropped");
    reading.abort();

    // The stalled console finds, once it reads, a goodbye and close code 4408.
    let mut c = Client { ws: stalled };
    let (goodbye, code, reason, _) = c.until_closed().await;
    assert_eq!(goodbye.unwrap()["code"], "lagging");
    assert_eq!((code, reason.as_str()), (4408, "lagging"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_over_64_kib_gets_close_1009() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let (mut c, _) = Client::connect(&s, &d, s.last_seq()).await;
    let big = format!(
        "{{\"type\":\"command\",\"client_id\":\"x\",\"pad\":\"{}\"}}",
        "a".repeat(70 * 1024)
    );
    c.ws.send(Message::text(big)).await.unwrap();
    let (_, code, reason, _) = c.until_closed().await;
    assert_eq!(code, 1009);
    assert!(reason.contains("64 KiB"), "{reason}");
    s.stop().await;
}

// ---------------------------------------------------------------- validation: one check for every door (issue 14, items 6-11)

/// The same command through HTTP and through the WebSocket: the same refusal
/// code, and nothing journaled either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_invalid_command_gets_the_same_refusal_through_http_and_websocket() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let crew = s.login("crew1").await;
    let (st, inc) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(SCENE.0, SCENE.1, "kuning")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{inc}");
    let id = inc["id"].as_u64().unwrap();
    let (st, a) = s
        .call(
            "post",
            &format!("/api/incidents/{id}/assign"),
            Some(&d),
            Some(json!({"unit_id": CREW_UNIT})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{a}");
    let (mut dws, _) = Client::connect(&s, &d, s.last_seq()).await;
    let (mut cws, _) = Client::connect(&s, &crew, s.last_seq()).await;
    let now = satria_server::now_ms();
    let year_3000 = 32_503_680_000_000i64;
    let ten_minutes_ago = now - 10 * 60 * 1000;
    let base = incident_body(SCENE.0, SCENE.1, "kuning");
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let ws_incident = |b: &Value| {
        json!({"type": "create_incident", "caller_name": b["caller_name"], "caller_phone": b["caller_phone"],
            "location": {"lat": b["lat"], "lon": b["lon"]},
            "address": {"desa": b["address"]["desa"].as_str().unwrap_or(""), "rt_rw": b["address"]["rt_rw"].as_str().unwrap_or(""),
                "landmark": b["address"]["landmark"].as_str().unwrap_or(""), "text": b["address"]["text"].as_str().unwrap_or("")},
            "triage": b["triage"], "category": b["category"], "patients": b["patients"], "notes": b["notes"]})
    };
    let unit_body = |id: &str, lat: f64, lon: f64| {
        json!({"id": id, "call_sign": "Uji 1", "unit_type": "bls", "owner": "psc", "base_name": "Pos uji",
            "base_lat": lat, "base_lon": lon})
    };
    let ws_unit = |b: &Value| {
        json!({"type": "register_unit", "id": b["id"], "call_sign": b["call_sign"], "unit_type": b["unit_type"],
            "owner": b["owner"], "base_name": b["base_name"], "base": {"lat": b["base_lat"], "lon": b["base_lon"]},
            "capabilities": []})
    };
    // (who, HTTP path, HTTP body, WebSocket command, code)
    let cases: Vec<(bool, String, Value, Value, &str)> = vec![
        (
            true,
            format!("/api/units/{CREW_UNIT}/acknowledge"),
            json!({"incident": id, "device_at": year_3000}),
            json!({"type": "acknowledge_assignment", "incident": id, "unit": CREW_UNIT, "device_at": year_3000}),
            "device_time_in_future",
        ),
        (
            true,
            format!("/api/units/{CREW_UNIT}/acknowledge"),
            json!({"incident": id, "device_at": ten_minutes_ago}),
            json!({"type": "acknowledge_assignment", "incident": id, "unit": CREW_UNIT, "device_at": ten_minutes_ago}),
            "device_time_too_early",
        ),
        (
            true,
            format!("/api/units/{CREW_UNIT}/decline"),
            json!({"incident": id, "reason": "ban bocor", "device_at": year_3000}),
            json!({"type": "decline_assignment", "incident": id, "unit": CREW_UNIT, "reason": "ban bocor", "device_at": year_3000}),
            "device_time_in_future",
        ),
        (
            true,
            format!("/api/units/{CREW_UNIT}/status"),
            json!({"status": "en_route", "device_at": -5}),
            json!({"type": "report_status", "unit": CREW_UNIT, "status": "en_route", "device_at": -5}),
            "device_time_too_early",
        ),
        (
            true,
            format!("/api/units/{CREW_UNIT}/status"),
            json!({"status": "en_route", "device_at": year_3000}),
            json!({"type": "report_status", "unit": CREW_UNIT, "status": "en_route", "device_at": year_3000}),
            "device_time_in_future",
        ),
        (
            true,
            format!("/api/units/{CREW_UNIT}/position"),
            json!({"lat": 0.0, "lon": 0.0}),
            json!({"type": "update_position", "unit": CREW_UNIT, "at": {"lat": 0.0, "lon": 0.0}}),
            "outside_service_area",
        ),
        (
            false,
            "/api/incidents".into(),
            with("lat", json!(0.0)).tap(|b| b["lon"] = json!(0.0)),
            ws_incident(&with("lat", json!(0.0)).tap(|b| b["lon"] = json!(0.0))),
            "outside_service_area",
        ),
        (
            false,
            "/api/incidents".into(),
            with("caller_name", json!(" ")),
            ws_incident(&with("caller_name", json!(" "))),
            "invalid_field",
        ),
        (
            false,
            "/api/incidents".into(),
            with("caller_phone", json!("")),
            ws_incident(&with("caller_phone", json!(""))),
            "invalid_field",
        ),
        (
            false,
            "/api/incidents".into(),
            with("address", json!({"desa": "", "text": ""})),
            ws_incident(&with("address", json!({"desa": "", "text": ""}))),
            "invalid_field",
        ),
        (
            false,
            "/api/incidents".into(),
            with("patients", json!(0)),
            ws_incident(&with("patients", json!(0))),
            "invalid_field",
        ),
        (
            false,
            "/api/incidents".into(),
            with(
                "notes",
                json!("x".repeat(satria_dispatch::validate::MAX_NOTES + 1)),
            ),
            ws_incident(&with(
                "notes",
                json!("x".repeat(satria_dispatch::validate::MAX_NOTES + 1)),
            )),
            "invalid_field",
        ),
        (
            false,
            "/api/units".into(),
            unit_body("UJI-01", -75.0, 0.0),
            ws_unit(&unit_body("UJI-01", -75.0, 0.0)),
            "outside_service_area",
        ),
        (
            false,
            "/api/units".into(),
            unit_body("UJI\u{7}02", SCENE.0, SCENE.1),
            ws_unit(&unit_body("UJI\u{7}02", SCENE.0, SCENE.1)),
            "invalid_field",
        ),
    ];
    let before = s.last_seq();
    for (k, (as_crew, path, body, cmd, code)) in cases.into_iter().enumerate() {
        let token = if as_crew { &crew } else { &d };
        let (st, b) = s.call("post", &path, Some(token), Some(body)).await;
        assert!(st.is_client_error(), "HTTP {path}: {st} {b}");
        assert_eq!(b["code"], code, "HTTP {path}: {b}");
        assert!(!b["message"].as_str().unwrap().is_empty());
        assert!(!b["message_id"].as_str().unwrap().is_empty());
        let ws = if as_crew { &mut cws } else { &mut dws };
        let a = ws.command(&format!("v{k}"), cmd.clone()).await;
        assert_eq!(a["type"], "error", "WS {cmd}: {a}");
        assert_eq!(a["code"], code, "WS {cmd}: {a}");
        assert_eq!(s.last_seq(), before, "nothing journaled by {path}");
    }
    // The message names the service area's box.
    let (_, b) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(with("lat", json!(0.0)).tap(|b| b["lon"] = json!(0.0))),
        )
        .await;
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .contains("service area (lat -7."),
        "{b}"
    );
    assert!(
        b["message_id"]
            .as_str()
            .unwrap()
            .contains("wilayah layanan"),
        "{b}"
    );
    // A client id with a control character is refused too.
    // (Refused before it is read, so the answer names no client id.)
    cws.send(json!({"type": "command", "client_id": "a\u{1}b",
        "command": {"type": "acknowledge_assignment", "incident": id, "unit": CREW_UNIT}}))
        .await;
    let a = cws.until(|f| f["type"] == "error").await;
    assert_eq!(a.last().unwrap()["code"], "invalid_client_id", "{a:?}");
    // A plausible phone time is accepted through both doors.
    let (st, b) = s
        .call(
            "post",
            &format!("/api/units/{CREW_UNIT}/acknowledge"),
            Some(&crew),
            Some(json!({"incident": id, "device_at": satria_server::now_ms()})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let a = cws
        .command(
            "ok1",
            json!({"type": "report_status", "unit": CREW_UNIT, "status": "on_scene", "device_at": satria_server::now_ms()}),
        )
        .await;
    assert_eq!(a["type"], "ack", "{a}");
    s.stop().await;
}

trait Tap: Sized {
    fn tap(self, f: impl FnOnce(&mut Self)) -> Self;
}

impl Tap for Value {
    fn tap(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }
}

/// Any role the table does not list gets 403 before its body or query is read,
/// however wrong the body; every operation of the dispatch API and the modules.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_role_gets_403_before_the_body_is_read_on_every_operation() {
    let s = Server::start().await;
    for (name, role) in [
        ("pattasofficer", Role::PattasOfficer),
        ("salinmasofficer", Role::SalinmasOfficer),
        ("household", Role::SalinmasHousehold),
        ("collector", Role::SalinmasCollector),
    ] {
        add_user(&s, name, role, Some("1".into()));
    }
    let mut tokens = Vec::new();
    for (name, role) in [
        ("dispatcher1", Role::Dispatcher),
        ("crew1", Role::Crew),
        ("hospital1", Role::Hospital),
        ("admin", Role::Admin),
        ("mitra", Role::PattasMitra),
        ("pattasofficer", Role::PattasOfficer),
        ("salinmasofficer", Role::SalinmasOfficer),
        ("household", Role::SalinmasHousehold),
        ("collector", Role::SalinmasCollector),
    ] {
        tokens.push((role, s.login(name).await));
    }
    assert_eq!(tokens.len(), Role::ALL.len(), "every role");
    let before = s.last_seq();
    let mut checked = 0;
    for op in satria_server::openapi::all_operations() {
        if op.roles.is_empty() || op.roles.contains(&"any") {
            continue;
        }
        let path = op
            .path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "1" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for (role, token) in &tokens {
            if op.roles.contains(&role.as_str()) {
                continue;
            }
            // An invalid body and an invalid query string.
            let url = format!("{}{path}?limit=-1&from=x&zz=1", s.base);
            let rq = match op.method {
                "get" => s.http.get(url),
                "post" => s.http.post(url),
                "patch" => s.http.patch(url),
                m => panic!("method {m}"),
            };
            let rq = rq.bearer_auth(token);
            let rq = if op.body.is_some() {
                rq.header("content-type", "application/json")
                    .body("{\"not\": valid")
            } else {
                rq
            };
            let r = rq.send().await.unwrap();
            let st = r.status();
            let b: Value = r.json().await.unwrap_or(Value::Null);
            assert_eq!(
                st,
                StatusCode::FORBIDDEN,
                "{} {} as {}: {b}",
                op.method,
                op.path,
                role.as_str()
            );
            assert_eq!(b["code"], "forbidden", "{} {}: {b}", op.method, op.path);
            checked += 1;
        }
    }
    assert!(checked > 200, "{checked}");
    assert_eq!(s.last_seq(), before, "nothing changed");
    // The three of the report.
    let household = &tokens[7].1;
    let hospital = &tokens[2].1;
    for (token, method, path) in [
        (hospital, "post", "/api/referrals"),
        (household, "post", "/api/salinmas/pickups/1/collect"),
        (household, "get", "/api/salinmas/reports/weights?from=nope"),
    ] {
        let (st, b) = s
            .call(
                method,
                path,
                Some(token),
                (method == "post").then(|| json!({"x": 1})),
            )
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{path}: {b}");
    }
    s.stop().await;
}

/// Query-string errors are in the error shape, not text/plain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_query_string_gets_the_json_error_shape() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    for path in [
        "/api/incidents?limit=-1",
        "/api/incidents?limit=x",
        "/api/incidents?bogus=1",
        "/api/reports/response-times?from=1",
        "/api/reports/response-times?from=a&to=b",
        "/api/incidents/1/route?bogus=1",
    ] {
        let r = s
            .http
            .get(format!("{}{path}", s.base))
            .bearer_auth(&d)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "application/json",
            "{path}"
        );
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["code"], "invalid_query", "{path}: {b}");
        assert!(b["message_id"].as_str().unwrap().contains("kueri"), "{b}");
    }
    let (st, _) = s
        .call("get", "/api/incidents?limit=3", Some(&d), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    s.stop().await;
}

/// A 10 MiB body gets 413 in the error shape, read by the client (no reset);
/// DELETE and other methods a path does not serve get 405 in the error shape with
/// an Allow header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_body_gets_413_and_an_unsupported_method_405_in_the_error_shape() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let before = s.last_seq();
    // A chunked body of 10 MiB over a raw socket: the server reads it to the end
    // and answers 413; the client's writes never hit a reset connection.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = s.base.strip_prefix("http://").unwrap();
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /api/incidents HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {d}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        let chunk = vec![b' '; 64 * 1024];
        for _ in 0..160 {
            tcp.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await
                .expect("the server still reads");
            tcp.write_all(&chunk).await.expect("the server still reads");
            tcp.write_all(b"\r\n")
                .await
                .expect("the server still reads");
        }
        tcp.write_all(b"0\r\n\r\n").await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), tcp.read_to_end(&mut answer))
            .await
            .expect("an answer within 30 s")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("\"body_too_large\""), "{answer}");
    }
    for path in [
        "/api/incidents",
        "/api/units/PSC-01/position",
        "/api/pattas/cases",
        "/api/salinmas/pickups",
    ] {
        let r = s
            .http
            .post(format!("{}{path}", s.base))
            .bearer_auth(&d)
            .header("content-type", "application/json")
            .body(vec![b' '; 10 * 1024 * 1024])
            .send()
            .await
            .expect("an answer, not a reset connection");
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["code"], "body_too_large", "{b}");
        assert!(!b["message_id"].as_str().unwrap().is_empty());
    }
    // The connection pool still works afterwards.
    let (st, _) = s.call("get", "/api/incidents", Some(&d), None).await;
    assert_eq!(st, StatusCode::OK);
    for (method, path, allow) in [
        (reqwest::Method::DELETE, "/api/incidents/1", "GET,PATCH"),
        (reqwest::Method::DELETE, "/api/units", "GET,POST"),
        (reqwest::Method::PUT, "/api/referrals/1", "GET"),
        (reqwest::Method::DELETE, "/api/pattas/cases/1", "GET"),
    ] {
        let r = s
            .http
            .request(method.clone(), format!("{}{path}", s.base))
            .bearer_auth(&d)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        let got = r.headers()["allow"].to_str().unwrap().replace(' ', "");
        for m in allow.split(',') {
            assert!(got.contains(m), "{method} {path}: Allow {got}");
        }
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["code"], "method_not_allowed", "{b}");
        assert!(!b["message_id"].as_str().unwrap().is_empty());
    }
    assert_eq!(s.last_seq(), before);
    s.stop().await;
}

/// The OpenAPI document tells the truth: every operation's success status is
/// the one the server answers, path ids are typed, limits come from the engine's
/// constants, and every status the server gives to generated requests is
/// documented for that operation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_matches_the_server_statuses_types_and_limits() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let crew = s.login("crew1").await;
    let (_, doc) = s.call("get", "/api/openapi.json", None, None).await;
    let op_doc = |method: &str, path: &str| doc["paths"][path][method].clone();
    let documented = |method: &str, path: &str, st: StatusCode| {
        op_doc(method, path)["responses"]
            .get(st.as_u16().to_string())
            .is_some()
    };
    // Successes, as the server answers them.
    let (st, inc) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(SCENE.0, SCENE.1, "kuning")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert!(documented("post", "/api/incidents", st));
    let id = inc["id"].as_u64().unwrap();
    let (st, _) = s
        .call(
            "post",
            &format!("/api/units/{CREW_UNIT}/position"),
            Some(&crew),
            Some(json!({"lat": SCENE.0, "lon": SCENE.1})),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert!(documented("post", "/api/units/{id}/position", st));
    assert!(!documented(
        "post",
        "/api/units/{id}/position",
        StatusCode::OK
    ));
    let (st, _) = s
        .call("get", &format!("/api/incidents/{id}"), Some(&d), None)
        .await;
    assert!(documented("get", "/api/incidents/{id}", st));
    let (st, _) = s
        .call(
            "post",
            "/api/units",
            Some(&d),
            Some(
                json!({"id": "UJI-09", "call_sign": "Uji 9", "unit_type": "bls", "owner": "psc",
                "base_name": "Pos uji", "base_lat": SCENE.0, "base_lon": SCENE.1}),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert!(documented("post", "/api/units", st));
    let (st, _) = s.call("post", "/api/auth/logout", Some(&crew), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert!(documented("post", "/api/auth/logout", st));
    // Path ids.
    let param =
        |method: &str, path: &str| op_doc(method, path)["parameters"][0]["schema"]["type"].clone();
    assert_eq!(param("get", "/api/incidents/{id}"), "integer");
    assert_eq!(param("post", "/api/referrals/{id}/answer"), "integer");
    assert_eq!(param("post", "/api/pattas/cases/{id}/verify"), "integer");
    assert_eq!(
        param("post", "/api/salinmas/pickups/{id}/collect"),
        "integer"
    );
    assert_eq!(param("post", "/api/units/{id}/status"), "string");
    // Limits from the engine's constants: one limit for notes.
    let body = |method: &str, path: &str| {
        op_doc(method, path)["requestBody"]["content"]["application/json"]["schema"].clone()
    };
    let create = body("post", "/api/incidents");
    assert_eq!(
        create["properties"]["notes"]["maxLength"],
        satria_dispatch::validate::MAX_NOTES
    );
    assert_eq!(
        body("patch", "/api/incidents/{id}")["properties"]["notes"]["maxLength"],
        satria_dispatch::validate::MAX_NOTES
    );
    assert_eq!(
        create["properties"]["caller_name"]["maxLength"],
        satria_dispatch::validate::MAX_NAME
    );
    assert_eq!(create["properties"]["caller_name"]["minLength"], 1);
    assert_eq!(
        create["properties"]["patients"]["maximum"],
        satria_dispatch::validate::MAX_PATIENTS
    );
    assert_eq!(
        body("post", "/api/incidents/{id}/assign")["properties"]["unit_ids"]["maxItems"],
        satria_dispatch::validate::MAX_ASSIGN_UNITS
    );
    let referral = body("post", "/api/referrals");
    assert_eq!(
        referral["properties"]["form"]["properties"]["condition"]["properties"]["gcs"]["maximum"],
        satria_dispatch::referral::GCS.1
    );
    assert_eq!(
        referral["properties"]["patient"]["properties"]["name"]["maxLength"],
        satria_dispatch::validate::MAX_NAME
    );
    let (st, b) = s
        .call(
            "patch",
            &format!("/api/incidents/{id}"),
            Some(&d),
            Some(json!({"notes": "x".repeat(satria_dispatch::validate::MAX_NOTES + 1)})),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let (st, _) = s
        .call(
            "patch",
            &format!("/api/incidents/{id}"),
            Some(&d),
            Some(json!({"notes": "x".repeat(satria_dispatch::validate::MAX_NOTES)})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    // Every operation, every documented refusal: each status the server gives
    // to wrong, missing and malformed input is documented for it, in the error
    // shape.
    let admin = s.login("admin").await;
    let mut seen = 0;
    for op in satria_server::openapi::all_operations() {
        let entry = op_doc(op.method, op.path);
        assert!(entry.is_object(), "{} {} documented", op.method, op.path);
        assert!(
            entry["responses"].get(op.status.to_string()).is_some(),
            "{} {}",
            op.method,
            op.path
        );
        for (token, idv, body) in [
            (None, "1", None),
            (Some(&admin), "999999", Some("{}")),
            (Some(&admin), "x", Some("{\"x\":")),
            (Some(&admin), "1", Some("[]")),
        ] {
            if op.path == "/api/auth/logout" {
                continue;
            }
            let path = op
                .path
                .split('/')
                .map(|seg| if seg.starts_with('{') { idv } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            let url = format!("{}{path}", s.base);
            let rq = match op.method {
                "get" => s.http.get(url),
                "post" => s.http.post(url),
                _ => s.http.patch(url),
            };
            let rq = match token {
                Some(t) => rq.bearer_auth(t),
                None => rq,
            };
            let rq = match (op.body.is_some(), body) {
                (true, Some(b)) => rq.header("content-type", "application/json").body(b),
                _ => rq,
            };
            let r = rq.send().await.unwrap();
            let st = r.status();
            let b: Value = r.json().await.unwrap_or(Value::Null);
            assert!(
                documented(op.method, op.path, st),
                "{} {path}: {st} is not documented: {b}",
                op.method
            );
            if st.is_client_error() {
                assert!(b["code"].is_string(), "{} {path}: {b}", op.method);
            }
            seen += 1;
        }
    }
    assert!(seen > 200);
    s.stop().await;
}

// ---- journal integrity (issue 14 item 4): the accepted-break banner and its acknowledgement

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_chain_break_shows_a_banner_until_an_admin_acknowledges_it() {
    let dir = tempfile::tempdir().unwrap();
    let engine_opts = |accept: Option<u64>| {
        let mut o = EngineOptions::new(dir.path());
        o.initial_units = demo_fleet();
        o.hospitals = demo_hospitals();
        o.accept_broken_row = accept;
        o.operator = "operator-shift-pagi".into();
        o
    };
    let start = |accept| {
        Engine::start(
            engine_opts(accept),
            Box::new(StraightLine::default()),
            Clock::system(),
        )
    };
    start(None).unwrap().shutdown();
    // Someone edits a row behind the engine's back.
    tamper_payload(dir.path(), 3);
    let refused = start(None).unwrap_err();
    assert!(
        matches!(
            refused,
            satria_engine::EngineError::ChainBroken { row: 3, .. }
        ),
        "{refused}"
    );
    // The operator accepts exactly that row and starts.
    let engine = Arc::new(start(Some(3)).unwrap());
    let auth = Arc::new(AuthStore::open(&dir.path().join("auth.sqlite")).unwrap());
    for (name, role, unit) in [
        ("admin", Role::Admin, None),
        ("dispatcher1", Role::Dispatcher, None),
        ("crew1", Role::Crew, Some(CREW_UNIT.to_string())),
        ("mitra", Role::PattasMitra, None),
    ] {
        auth.add_user(
            NewUser {
                username: name.into(),
                password: PASSWORD.into(),
                role,
                unit,
                hospital: None,
                subject: None,
            },
            0,
        )
        .unwrap();
    }
    let state = AppState::new(
        Arc::clone(&engine),
        auth,
        dir.path().to_path_buf(),
        ServerOptions::default(),
        true,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(satria_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let login = |user: &'static str| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let v: Value = http
                .post(format!("{base}/api/auth/login"))
                .json(&json!({"username": user, "password": PASSWORD}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["token"].as_str().unwrap().to_string()
        }
    };
    let call = |method: &'static str, path: &'static str, token: Option<String>| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let mut rq = match method {
                "get" => http.get(format!("{base}{path}")),
                _ => http.post(format!("{base}{path}")),
            };
            if let Some(t) = token {
                rq = rq.bearer_auth(t);
            }
            let r = rq.send().await.unwrap();
            let st = r.status();
            (st, r.json::<Value>().await.unwrap())
        }
    };

    let (st, b) = call("get", "/api/integrity", None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{b}");
    // Every signed-in role sees the banner.
    for user in ["admin", "dispatcher1", "crew1", "mitra"] {
        let (st, b) = call("get", "/api/integrity", Some(login(user).await)).await;
        assert_eq!(st, StatusCode::OK, "{user}: {b}");
        assert_eq!(b["status"], "accepted_break", "{b}");
        let id = b["banner"]["message_id"].as_str().unwrap();
        assert!(
            id.starts_with("Integritas jurnal rusak di baris 3, diterima operator pada "),
            "{id}"
        );
        assert!(id.contains("WIB"), "{id}");
        assert!(
            b["banner"]["message"].as_str().unwrap().contains("row 3"),
            "{b}"
        );
        let a = &b["accepted_breaks"][0];
        assert_eq!(a["row"], 3);
        assert_eq!(a["accepted_by"], "operator-shift-pagi");
        assert_eq!(a["acknowledged"], false);
        assert!(
            a["problem"].as_str().unwrap().contains("hash mismatch"),
            "{a}"
        );
    }
    // Only an admin acknowledges.
    for user in ["dispatcher1", "crew1", "mitra"] {
        let (st, b) = call(
            "post",
            "/api/integrity/acknowledge",
            Some(login(user).await),
        )
        .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{user}: {b}");
        assert_eq!(b["code"], "forbidden");
        assert!(b["message_id"].is_string());
    }
    let admin = login("admin").await;
    let (st, b) = call("post", "/api/integrity/acknowledge", Some(admin.clone())).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["acknowledged"], 1);
    assert_eq!(b["status"], "ok");
    assert!(b["banner"].is_null(), "{b}");
    assert_eq!(b["accepted_breaks"][0]["acknowledged_by"], "admin");
    let (_, b) = call("get", "/api/integrity", Some(login("crew1").await)).await;
    assert!(b["banner"].is_null(), "{b}");

    let _ = stop.send(());
    task.await.unwrap().unwrap();
    match Arc::try_unwrap(engine) {
        Ok(e) => e.shutdown(),
        Err(_) => panic!("the server still holds the engine"),
    }
    // The next start does not refuse again.
    start(None).unwrap().shutdown();
}

/// Appends a space to one row's payload with plain SQL, as an intruder would.
fn tamper_payload(dir: &std::path::Path, row: u64) {
    let db = rusqlite::Connection::open(dir.join(satria_store::JOURNAL_FILE)).unwrap();
    let n = db
        .execute(
            "UPDATE entries SET payload = payload || ' ' WHERE row = ?1",
            [row],
        )
        .unwrap();
    assert_eq!(n, 1);
}

// ---------------------------------------------------------------- schemathesis: the document and the server agree

/// The served document states what the server checks on a request by itself:
/// closed sets, bounds of query values and path ids, the service area of the
/// running engine, the either/or rules of a body; logout documents its 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_states_the_rules_the_server_checks() {
    let s = Server::start().await;
    let (st, doc) = s.call("get", "/api/openapi.json", None, None).await;
    assert_eq!(st, StatusCode::OK);
    let op = |method: &str, path: &str| doc["paths"][path][method].clone();
    let param = |method: &str, path: &str, name: &str| {
        op(method, path)["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path} {name}"))["schema"]
            .clone()
    };
    let body = |method: &str, path: &str| {
        op(method, path)["requestBody"]["content"]["application/json"]["schema"].clone()
    };
    assert_eq!(
        param("get", "/api/incidents", "status")["enum"],
        json!(["open", "closed", "all"])
    );
    assert_eq!(param("get", "/api/incidents", "limit")["minimum"], 0);
    let id = param("get", "/api/incidents/{id}", "id");
    assert_eq!(
        (id["minimum"].clone(), id["maximum"].clone()),
        (json!(1), json!(satria_http::MAX_PATH_ID))
    );
    assert_eq!(
        param("get", "/api/incidents/{id}/route", "to")["enum"],
        json!(["incident", "hospital"])
    );
    assert_eq!(
        param("get", "/api/salinmas/history/{entity}/{id}", "entity")["enum"],
        json!(satria_salinmas::HISTORY_ENTITIES)
    );
    assert_eq!(param("get", "/api/pattas/cases", "limit")["minimum"], 1);
    assert!(
        param("get", "/api/salinmas/prices", "date")["pattern"]
            .as_str()
            .unwrap()
            .starts_with("^(20[0-9]{2}|2100)-")
    );
    assert!(
        op("post", "/api/auth/logout")["responses"]
            .get("401")
            .is_some()
    );
    // Latitudes and longitudes: exactly the box the engine accepts.
    let area = s.state.engine.snapshot().config().service_area.unwrap();
    let g = area.grown(s.state.engine.snapshot().config().service_margin_m);
    let create = body("post", "/api/incidents");
    assert_eq!(create["properties"]["lat"]["minimum"], json!(g.min_lat));
    assert_eq!(create["properties"]["lat"]["maximum"], json!(g.max_lat));
    assert_eq!(create["properties"]["lon"]["minimum"], json!(g.min_lon));
    assert_eq!(
        body("post", "/api/units/{id}/position")["properties"]["lon"]["maximum"],
        json!(g.max_lon)
    );
    // Either/or rules of the bodies.
    assert_eq!(create["else"]["properties"]["patients"]["minimum"], 1);
    assert!(body("post", "/api/incidents/{id}/assign")["anyOf"].is_array());
    assert_eq!(
        body("post", "/api/units/{id}/status")["then"]["required"],
        json!(["reason"])
    );
    assert_eq!(
        body("post", "/api/pattas/cases")["oneOf"],
        json!([{"required": ["beneficiary_id"]}, {"required": ["nik"]}])
    );
    s.stop().await;
}

/// 409 for a refusal that depends on the current state, 422 only for a request
/// wrong in itself; a path id beyond what the document allows is 400; a whole
/// number written as 3.0 is an integer; an empty report window is empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_conflicts_are_409_and_schema_valid_values_are_accepted() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let before = s
        .state
        .engine
        .snapshot()
        .unit(&satria_dispatch::UnitId(CREW_UNIT.into()))
        .map(|u| format!("{:?}", u.status));
    // An available unit cannot report "on scene": a transition not allowed now.
    let (st, b) = s
        .call(
            "post",
            &format!("/api/units/{CREW_UNIT}/status"),
            Some(&d),
            Some(json!({"status": "on_scene"})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{b}");
    assert_eq!(b["code"], "invalid_transition");
    assert!(!b["message_id"].as_str().unwrap().is_empty());
    let after = s
        .state
        .engine
        .snapshot()
        .unit(&satria_dispatch::UnitId(CREW_UNIT.into()))
        .map(|u| format!("{:?}", u.status));
    assert_eq!(before, after, "nothing changed");
    // A device time later than the server's clock allows: judged against the
    // clock, 409; a negative one is wrong in itself, 422.
    let (st, b) = s
        .call(
            "post",
            &format!("/api/units/{CREW_UNIT}/status"),
            Some(&d),
            Some(json!({"status": "out_of_service", "reason": "servis", "device_at": 32_503_680_000_000_i64})),
        )
        .await;
    assert_eq!(
        (st, b["code"].clone()),
        (StatusCode::CONFLICT, json!("device_time_in_future")),
        "{b}"
    );
    let (st, b) = s
        .call(
            "post",
            &format!("/api/units/{CREW_UNIT}/status"),
            Some(&d),
            Some(json!({"status": "out_of_service", "reason": "servis", "device_at": -5})),
        )
        .await;
    assert_eq!(
        (st, b["code"].clone()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!("device_time_too_early")
        ),
        "{b}"
    );
    // Path ids: 0 and 19 digits are outside 1..=MAX_PATH_ID.
    for bad in ["0", "1000000000000000000"] {
        let (st, b) = s
            .call("get", &format!("/api/incidents/{bad}"), Some(&d), None)
            .await;
        assert_eq!(
            (st, b["code"].clone()),
            (StatusCode::BAD_REQUEST, json!("invalid_id")),
            "{bad}: {b}"
        );
    }
    // 424242.0 is the integer 424242: no such incident (404), not a bad body.
    let (st, inc) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(SCENE.0, SCENE.1, "kuning")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let id = inc["id"].as_u64().unwrap();
    let (st, b) = s
        .call(
            "post",
            &format!("/api/incidents/{id}/merge"),
            Some(&d),
            Some(json!({"into": 424242.0})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{b}");
    let (st, b) = s
        .call(
            "post",
            &format!("/api/incidents/{id}/merge"),
            Some(&d),
            Some(json!({"into": 1.5})),
        )
        .await;
    assert_eq!(
        (st, b["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid_body")),
        "{b}"
    );
    // An empty window holds no incident.
    let (st, b) = s
        .call(
            "get",
            "/api/reports/response-times?from=5&to=5",
            Some(&d),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["groups"], json!([]));
    s.stop().await;
}
