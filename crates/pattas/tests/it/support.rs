//! Shared setup of the tests: a world (auth store with one user per role,
//! stepped clock, fake transport desk, recording access log, and the Pattas
//! store on SQLite or PostgreSQL) and sample bodies.
//!
//! The store's conformance suite runs on both databases: a test written as
//! `async fn name(backend: Backend)` and listed in [`on_every_backend!`]
//! becomes `name::sqlite` and `name::postgres`. Without PostgreSQL the latter
//! prints `skipped: ...` and passes (CI sets `SATRIA_REQUIRE_SERVICES=1`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use satria_auth::{AccessRecorder, AuthConfig, AuthStore, HashParams, NewUser, Role};
use satria_calendar::Timestamp;
use satria_pattas::*;
use satria_store::pg::testing::TestDatabase;
use serde_json::{Value, json};
use tower::ServiceExt;

pub const H: i64 = 60 * 60 * 1000;
/// 2026-12-01T03:00:00Z, 10:00 WIB.
pub const T0: i64 = 1_796_094_000_000;

/// Woman born 1956-03-14 (14 + 40 = 54), Banyumas.
pub const NIK_SUKARTI: &str = "3302015403560001";
/// Man born 1961-08-12, Banyumas.
pub const NIK_DARSONO: &str = "3302011208610002";
/// Man born 1975-05-20, registered in Cilacap (3301).
pub const NIK_CILACAP: &str = "3301012005750003";

#[derive(Default)]
pub struct RecordingLog(Mutex<Vec<(String, String, String, String)>>);

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
    pub fn entries(&self) -> Vec<(String, String, String, String)> {
        self.0.lock().unwrap().clone()
    }
}

/// An in-memory desk: books as `scheduled`, lets the test move a trip on.
#[derive(Default)]
pub struct FakeDesk {
    next: AtomicU64,
    trips: Mutex<HashMap<String, (TransportRequest, TransportStatus)>>,
}

impl FakeDesk {
    pub fn set(&self, tid: &str, state: &str, unit: Option<&str>) {
        let mut trips = self.trips.lock().unwrap();
        let t = trips.get_mut(tid).unwrap();
        t.1.state = state.into();
        t.1.unit_id = unit.map(String::from);
    }

    pub fn request(&self, tid: &str) -> TransportRequest {
        self.trips.lock().unwrap()[tid].0.clone()
    }

    pub fn count(&self) -> usize {
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
                    updated_at: Timestamp(0),
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

/// The database a test's Pattas store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each listed test on every [`Backend`]: `fn name(backend: Backend)`
/// becomes the tests `name::sqlite` and `name::postgres`; after `async:` the
/// functions are `async` and run in a Tokio runtime, after `sync:` they are
/// plain tests.
macro_rules! on_every_backend {
    (async: $($name:ident),* $(,)?) => {$(
        mod $name {
            use $crate::support::Backend;

            #[tokio::test]
            async fn sqlite() {
                super::$name(Backend::Sqlite).await
            }

            #[tokio::test]
            async fn postgres() {
                super::$name(Backend::Postgres).await
            }
        }
    )*};
    (sync: $($name:ident),* $(,)?) => {$(
        mod $name {
            use $crate::support::Backend;

            #[test]
            fn sqlite() {
                super::$name(Backend::Sqlite)
            }

            #[test]
            fn postgres() {
                super::$name(Backend::Postgres)
            }
        }
    )*};
}
pub(crate) use on_every_backend;

/// Runs `f` on a thread of its own and waits for it. What opens or calls a
/// Pattas store from async code goes through it: the PostgreSQL client
/// blocks on a runtime of its own, which a Tokio runtime's thread refuses.
pub fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join()).unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// Where a test's Pattas store lives: a SQLite file in a temporary
/// directory, or a PostgreSQL database of its own, dropped with it.
pub enum Place {
    Sqlite(tempfile::TempDir),
    Postgres(PgPlace),
}

/// A test's PostgreSQL database, dropped (on a thread of its own, see
/// [`blocking`]) when the test ends.
pub struct PgPlace(Option<TestDatabase>);

impl PgPlace {
    pub fn db(&self) -> &TestDatabase {
        self.0.as_ref().expect("dropped only once")
    }
}

impl Drop for PgPlace {
    fn drop(&mut self) {
        let db = self.0.take();
        blocking(move || drop(db));
    }
}

impl Place {
    /// A fresh, empty place on `backend`; `None` when PostgreSQL is absent
    /// (the test then returns: it is skipped).
    pub fn new(backend: Backend) -> Option<Place> {
        match backend {
            Backend::Sqlite => Some(Place::Sqlite(tempfile::tempdir().unwrap())),
            Backend::Postgres => {
                // The test harness names each test's thread after the test.
                let name = std::thread::current()
                    .name()
                    .unwrap_or("pattas")
                    .to_string();
                let db = blocking(|| TestDatabase::create(&name))?;
                Some(Place::Postgres(PgPlace(Some(db))))
            }
        }
    }

    /// Opens the store there, as a node starting (or restarting) does.
    pub fn open(&self, config: PattasConfig) -> Result<Pattas, PattasError> {
        blocking(|| match self {
            Place::Sqlite(dir) => Pattas::open(&dir.path().join("pattas.sqlite"), config),
            Place::Postgres(pg) => Pattas::open_postgres(&pg.db().url, config),
        })
    }

    /// Opens the store there with the default configuration.
    pub fn pattas(&self) -> Pattas {
        self.open(PattasConfig::default()).unwrap()
    }

    /// The schema version this build writes on this place's database.
    pub fn newest_schema(&self) -> i64 {
        match self {
            Place::Sqlite(_) => SCHEMA_VERSION,
            Place::Postgres(_) => PG_SCHEMA_VERSION,
        }
    }

    /// Sets the stored schema version, as a newer build would have left it.
    pub fn set_schema_version(&self, version: i64) {
        blocking(|| match self {
            Place::Sqlite(dir) => {
                let conn = rusqlite::Connection::open(dir.path().join("pattas.sqlite")).unwrap();
                conn.pragma_update(None, "user_version", version).unwrap();
            }
            Place::Postgres(pg) => {
                pg.db()
                    .client()
                    .execute("UPDATE pattas_schema SET version = $1", &[&version])
                    .unwrap();
            }
        })
    }
}

/// The officer the store-level tests act as.
pub fn officer() -> satria_auth::Principal {
    satria_auth::Principal {
        user_id: 1,
        username: "officer".into(),
        role: Role::PattasOfficer,
        unit: None,
        hospital: None,
        subject: None,
    }
}

pub struct World {
    /// The accounts store's directory (on SQLite whatever the backend: it
    /// is not under test).
    _auth_dir: tempfile::TempDir,
    auth: Arc<AuthStore>,
    desk_dyn: Arc<dyn TransportDesk>,
    app: Router,
    pub clock: Clock,
    pub log: Arc<RecordingLog>,
    pub desk: Arc<FakeDesk>,
    tokens: HashMap<&'static str, String>,
    /// Last: dropped after the store that uses it.
    place: Place,
}

pub fn router(
    pattas: Arc<Pattas>,
    auth: &Arc<AuthStore>,
    log: &Arc<RecordingLog>,
    desk: &Arc<dyn TransportDesk>,
    clock: &Clock,
) -> Router {
    routes_with_clock(pattas, log.clone(), desk.clone(), clock.clone()).layer(
        axum::middleware::from_fn_with_state(auth.clone(), satria_http::require_principal),
    )
}

/// A world on SQLite whose transport desk is `make_desk(pattas)`, or the fake desk.
pub fn world_with(make_desk: impl FnOnce(&Arc<Pattas>) -> Option<Arc<dyn TransportDesk>>) -> World {
    world_with_on(Backend::Sqlite, make_desk).unwrap()
}

/// A world on `backend` whose transport desk is `make_desk(pattas)`, or the
/// fake desk; `None` when PostgreSQL is absent.
pub fn world_with_on(
    backend: Backend,
    make_desk: impl FnOnce(&Arc<Pattas>) -> Option<Arc<dyn TransportDesk>>,
) -> Option<World> {
    let place = Place::new(backend)?;
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
    let pattas = Arc::new(place.pattas());
    let clock = Clock::manual(T0);
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
    Some(World {
        _auth_dir: dir,
        auth,
        desk_dyn,
        app,
        clock,
        log,
        desk,
        tokens,
        place,
    })
}

/// A world on SQLite.
pub fn world() -> World {
    world_with(|_| None)
}

/// A world on `backend`; `None` when PostgreSQL is absent.
pub fn world_on(backend: Backend) -> Option<World> {
    world_with_on(backend, |_| None)
}

impl World {
    /// Drops the module and opens its database afresh, as a restart would.
    pub fn restart(&mut self) {
        let pattas = Arc::new(self.place.pattas());
        self.app = router(pattas, &self.auth, &self.log, &self.desk_dyn, &self.clock);
    }

    pub async fn raw(
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

    pub async fn call(
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

    pub async fn get(&self, path: &str, who: &str) -> Value {
        let (s, v) = self.call("GET", path, who, None).await;
        assert_eq!(s, StatusCode::OK, "GET {path} as {who}: {v}");
        v
    }

    pub async fn post_ok(&self, path: &str, who: &str, body: Value) -> Value {
        let (s, v) = self.call("POST", path, who, Some(body)).await;
        assert!(s.is_success(), "POST {path} as {who}: {s} {v}");
        v
    }

    pub fn advance(&self, ms: i64) {
        self.clock.advance_ms(ms);
    }

    /// Everything an officer can see, to prove a refusal changed nothing.
    pub async fn snapshot(&self) -> Value {
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

/// An instant as the API writes it: RFC 3339, UTC, milliseconds.
pub fn rfc(ms: i64) -> Value {
    Value::String(Timestamp(ms).to_rfc3339())
}

/// The ms of an instant the API wrote, checked to be RFC 3339 in UTC.
pub fn ms_of(v: &Value) -> i64 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("an instant is a string: {v}"));
    assert!(s.ends_with('Z'), "an instant is written in UTC: {s}");
    Timestamp::parse(s)
        .unwrap_or_else(|| panic!("an instant is RFC 3339: {s}"))
        .ms()
}

pub fn sukarti() -> Value {
    json!({
        "nik": NIK_SUKARTI, "name": "Sukarti (uji)", "date_of_birth": "1956-03-14", "sex": "P",
        "desa": "Kedungwuluh", "kecamatan": "Purwokerto Barat", "rt": "3", "rw": "02",
        "phone": "0812-3456-7890", "dtks": true, "bpjs": "pbi",
        "conditions": ["gagal ginjal kronis", "hipertensi"],
        "family_contact": {"name": "Slamet (uji)", "phone": "+6281398765432", "relation": "anak"}
    })
}

pub fn darsono() -> Value {
    json!({
        "nik": NIK_DARSONO, "name": "Darsono (uji)", "date_of_birth": "1961-08-12", "sex": "L",
        "desa": "Sokanegara", "rt": "1", "rw": "1", "dtks": false, "bpjs": "none",
        "conditions": ["diabetes melitus"]
    })
}

pub fn transport_body(at_ms: i64) -> Value {
    json!({
        "pickup": {"lat": -7.4231, "lon": 109.2272, "address": "RT 03/RW 02 Kedungwuluh"},
        "destination": {"hospital_id": "3302026", "name": "RSUD Prof. Dr. Margono Soekarjo",
                        "lat": -7.43743, "lon": 109.26738},
        "scheduled_for": at_ms,
        "purpose": "hemodialisis",
        "notes": "pasien memakai kursi roda"
    })
}
