//! The server end to end, over real sockets on 127.0.0.1 port 0: HTTP with
//! reqwest, WebSockets with tokio-tungstenite. Drive times are a straight line at
//! 40 km/h so the suite needs no road graph; the roads are tested elsewhere.

use futures_util::{SinkExt, StreamExt};
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use satria_auth::{AuthStore, NewUser, Role};
use satria_dispatch::{StraightLine, demo_fleet, demo_hospitals};
use satria_engine::{Engine, EngineOptions, SystemClock};
use satria_server::{AppState, ServerOptions};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

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
        let hospital = opts.hospitals[0].id.0.clone();
        let engine = Arc::new(
            Engine::start(
                opts,
                Box::new(StraightLine::default()),
                Box::new(SystemClock),
            )
            .unwrap(),
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
            Box::new(SystemClock),
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
