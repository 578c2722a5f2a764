//! What the tests of this binary share: a server on 127.0.0.1 port 0 with the
//! demo fleet and hospitals and one account per role ([`Server`]), a WebSocket
//! console ([`Client`]), the bodies of a call and a referral, and the accounts
//! and journal helpers the browser tests use too.

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use satria_auth::{AuthStore, NewUser, Role};
use satria_dispatch::{StraightLine, demo_fleet, demo_hospitals};
use satria_engine::{Clock, Engine, EngineOptions};
use satria_server::{AppState, ServerOptions};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

pub mod browser;

pub const PASSWORD: &str = "kata-sandi-uji-119";
/// The crew account's unit and the hospital account's hospital.
pub const CREW_UNIT: &str = "PSC-01";

pub struct Server {
    pub base: String,
    pub ws: String,
    pub state: Arc<AppState>,
    pub http: reqwest::Client,
    pub hospital: String,
    pub _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    pub async fn start() -> Server {
        Server::start_tuned(|_| ()).await
    }

    /// Like [`Server::start`], with the engine's options changed by `tune` first.
    pub async fn start_tuned(tune: impl FnOnce(&mut EngineOptions)) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = EngineOptions::new(dir.path());
        opts.initial_units = demo_fleet();
        opts.hospitals = demo_hospitals();
        opts.tick_ms = 100;
        // The demo region's box: positions far outside it are refused.
        opts.config.service_area = Some(satria_dispatch::ServiceArea::of_region(
            &satria_region::Region::banyumas(),
        ));
        tune(&mut opts);
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

    pub async fn stop(mut self) {
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

    pub async fn login(&self, user: &str) -> String {
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

    pub async fn call(
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

    pub fn last_seq(&self) -> u64 {
        self.state.engine.last_seq()
    }

    /// Like [`Server::start`], with the auth configuration and server options given.
    pub async fn start_with(auth: satria_auth::AuthConfig, opts: ServerOptions) -> Server {
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
    pub fn other_auth_handle(&self) -> AuthStore {
        AuthStore::open(&self._dir.path().join("auth.sqlite")).unwrap()
    }
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Client {
    pub ws: Ws,
}

impl Client {
    pub async fn connect(server: &Server, token: &str, last_seq: u64) -> (Client, Value) {
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
    pub async fn next(&mut self) -> Value {
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
    pub async fn until(&mut self, stop: impl Fn(&Value) -> bool) -> Vec<Value> {
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

    pub async fn send(&mut self, v: Value) {
        self.ws.send(Message::text(v.to_string())).await.unwrap();
    }

    /// Sends a command and returns the answer (`ack` or `error`), skipping events.
    pub async fn command(&mut self, client_id: &str, command: Value) -> Value {
        self.send(json!({"type": "command", "client_id": client_id, "command": command}))
            .await;
        loop {
            let f = self.next().await;
            if (f["type"] == "ack" || f["type"] == "error") && f["client_id"] == client_id {
                return f;
            }
        }
    }

    /// Reads until the server's goodbye and close frame; returns the goodbye,
    /// the close code and reason, and every event frame seen before them.
    pub async fn until_closed(&mut self) -> (Option<Value>, u16, String, Vec<Value>) {
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
    pub async fn delivers_nothing_more(&mut self) -> bool {
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

pub fn event_type(f: &Value) -> &str {
    f["event"]["type"].as_str().unwrap_or("")
}

pub fn is_event(f: &Value, ty: &str) -> bool {
    f["type"] == "event" && event_type(f) == ty
}

/// The region events of a frame list, as (seq, event).
pub fn region_events(frames: &[Value]) -> Vec<(u64, Value)> {
    frames
        .iter()
        .filter(|f| f["type"] == "event" && f["stream"] == "region:banyumas")
        .map(|f| (f["seq"].as_u64().unwrap(), f["event"].clone()))
        .collect()
}

pub fn incident_body(lat: f64, lon: f64, triage: &str) -> Value {
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

pub fn referral_body(incident: u64, to: &str, unit: &str) -> Value {
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
pub const SCENE: (f64, f64) = (-7.4240, 109.2380);

/// Adds an account with [`PASSWORD`] to `auth`, bound to a unit, a hospital or
/// a module record (`subject`) as its role needs.
pub fn add_account(
    auth: &AuthStore,
    name: &str,
    role: Role,
    unit: Option<&str>,
    hospital: Option<&str>,
    subject: Option<String>,
) {
    auth.add_user(
        NewUser {
            username: name.into(),
            password: PASSWORD.into(),
            role,
            unit: unit.map(String::from),
            hospital: hospital.map(String::from),
            subject,
        },
        0,
    )
    .unwrap();
}

/// Adds an account while the server runs (module accounts are bound to records
/// the test creates first).
pub fn add_user(s: &Server, name: &str, role: Role, subject: Option<String>) {
    add_account(&s.state.auth, name, role, None, None, subject);
}

/// Creates an incident at the scene and assigns `unit` to it; returns its id.
pub async fn assigned_incident(s: &Server, d: &str, unit: &str, lat: f64) -> u64 {
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

/// Appends a space to one row's payload with plain SQL, as an intruder would.
pub fn tamper_payload(dir: &std::path::Path, row: u64) {
    let db = rusqlite::Connection::open(dir.join(satria_store::JOURNAL_FILE)).unwrap();
    let n = db
        .execute(
            "UPDATE entries SET payload = payload || ' ' WHERE row = ?1",
            [row],
        )
        .unwrap();
    assert_eq!(n, 1);
}
