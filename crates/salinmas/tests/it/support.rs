//! Shared setup of the HTTP tests: the router behind the real bearer-token
//! middleware, a real `AuthStore`, tokens from real logins, and a settable
//! clock; and the two backends the store tests run on, as one conformance
//! suite: [`on_each_backend!`] makes a test `name::sqlite` and a test
//! `name::postgres` of a body `name(backend)`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use satria_auth::{AuthConfig, AuthStore, HashParams, NewUser, Principal, Role};
use satria_salinmas::{Clock, PickupFilter, Salinmas, SalinmasConfig, StraightLine, time};
use satria_store::pg::testing::TestDatabase;
use serde_json::{Value, json};
use tower::ServiceExt;

pub const PASSWORD: &str = "kata-sandi-uji-119";
pub const SPEED_KMH: f64 = 25.0;

/// The database a test's Salinmas runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    /// A file in the test's temporary directory.
    Sqlite,
    /// A PostgreSQL database of its own, named after the test.
    Postgres(&'static str),
}

/// Two tests of the body `fn $name(backend: Backend)`, each under the test
/// attribute given: `$name::sqlite` and `$name::postgres` (which prints
/// `skipped: ...` and passes when PostgreSQL is absent).
///
/// ```ignore
/// on_each_backend!(#[tokio::test] async fn the_full_flow);
/// on_each_backend!(#[test] fn the_ledger);
/// ```
macro_rules! on_each_backend {
    (#[$attr:meta] async fn $name:ident) => {
        mod $name {
            use $crate::support::Backend;
            #[$attr]
            async fn sqlite() {
                super::$name(Backend::Sqlite).await
            }
            #[$attr]
            async fn postgres() {
                super::$name(Backend::Postgres(stringify!($name))).await
            }
        }
    };
    (#[$attr:meta] fn $name:ident) => {
        mod $name {
            use $crate::support::Backend;
            #[$attr]
            fn sqlite() {
                super::$name(Backend::Sqlite)
            }
            #[$attr]
            fn postgres() {
                super::$name(Backend::Postgres(stringify!($name)))
            }
        }
    };
}
pub(crate) use on_each_backend;

/// Runs `f` on a thread of its own, and returns what it returns (or panics
/// as it panicked). The PostgreSQL client blocks on a runtime of its own,
/// which an async test's thread refuses: every call that may reach
/// PostgreSQL from an async test goes through here.
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// What a test's store lives in: a temporary directory (the SQLite file,
/// and the accounts store's), and on PostgreSQL a database of its own,
/// dropped with it.
pub struct Place {
    pub dir: tempfile::TempDir,
    pub pg: Option<TestDatabase>,
}

impl Place {
    /// `None` on PostgreSQL when no server answers (after `skipped: ...`).
    pub fn new(backend: Backend) -> Option<Place> {
        let dir = tempfile::tempdir().unwrap();
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres(test) => Some(off_runtime(|| TestDatabase::create(test))?),
        };
        Some(Place { dir, pg })
    }

    /// A new handle on the store: a reopen, or another node on PostgreSQL.
    pub fn open(&self, config: SalinmasConfig) -> Salinmas {
        off_runtime(|| match &self.pg {
            Some(db) => Salinmas::open_postgres(&db.url, config),
            None => Salinmas::open_with(&self.dir.path().join("salinmas.sqlite"), config),
        })
        .unwrap()
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        // Dropping the database connects to the server: off the runtime too.
        if let Some(db) = self.pg.take() {
            off_runtime(move || drop(db));
        }
    }
}

pub struct Env {
    pub auth: Arc<AuthStore>,
    pub s: Arc<Salinmas>,
    pub app: Router,
    pub clock: Clock,
    pub officer: String,
    /// Last, so the store's handles are dropped before its database.
    pub place: Place,
}

/// Epoch ms of a time as a request may give it (WIB unless an offset).
pub fn at(s: &str) -> i64 {
    time::Timestamp::parse_local(s).unwrap().ms()
}

/// Epoch ms of an instant in a response, which must be RFC 3339 in UTC with
/// milliseconds (`YYYY-MM-DDTHH:MM:SS.sssZ`).
pub fn instant(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("{v} is not a string"));
    assert!(s.len() == 24 && s.ends_with('Z'), "{s} is not UTC RFC 3339");
    time::Timestamp::parse(s)
        .unwrap_or_else(|| panic!("{s} is not RFC 3339"))
        .ms()
}

pub fn open_salinmas(place: &Place, clock: &Clock) -> Arc<Salinmas> {
    let config = SalinmasConfig {
        service_time_s: 300,
        clock: clock.clone(),
    };
    Arc::new(place.open(config))
}

pub fn app_of(auth: &Arc<AuthStore>, s: &Arc<Salinmas>) -> Router {
    satria_salinmas::routes(
        Arc::clone(s),
        Arc::clone(auth) as Arc<dyn satria_auth::AccessRecorder>,
        Arc::new(StraightLine {
            speed_kmh: SPEED_KMH,
        }),
    )
    .layer(axum::middleware::from_fn_with_state(
        Arc::clone(auth),
        satria_http::require_principal,
    ))
}

impl Env {
    /// The environment on SQLite.
    pub fn new() -> Env {
        Env::on(Backend::Sqlite).expect("SQLite is always there")
    }

    /// The environment on `backend`; `None` (the test returns) when it is
    /// PostgreSQL and no server answers.
    pub fn on(backend: Backend) -> Option<Env> {
        let place = Place::new(backend)?;
        let config = AuthConfig {
            hash: HashParams::INSECURE_FAST,
            ..AuthConfig::default()
        };
        let auth =
            Arc::new(AuthStore::open_with(&place.dir.path().join("auth.sqlite"), config).unwrap());
        let clock = Clock::manual(at("2026-03-02T07:00"));
        let s = open_salinmas(&place, &clock);
        let app = app_of(&auth, &s);
        let mut env = Env {
            auth,
            s,
            app,
            clock,
            officer: String::new(),
            place,
        };
        env.officer = env.user("petugas", Role::SalinmasOfficer, None);
        Some(env)
    }

    /// `f` of the store, called directly (not over HTTP), off the runtime.
    pub fn store<T: Send>(&self, f: impl FnOnce(&Salinmas) -> T + Send) -> T {
        let s = &*self.s;
        off_runtime(move || f(s))
    }

    pub fn set_time(&self, s: &str) {
        self.clock.set_ms(at(s));
    }

    /// Creates a user and returns a session token.
    pub fn user(&self, name: &str, role: Role, subject: Option<i64>) -> String {
        let now = satria_http::now_ms();
        self.auth
            .add_user(
                NewUser {
                    username: name.into(),
                    password: PASSWORD.into(),
                    role,
                    unit: None,
                    hospital: None,
                    subject: subject.map(|s| s.to_string()),
                },
                now,
            )
            .unwrap();
        self.auth.login(name, PASSWORD, "test", now).unwrap().token
    }

    pub fn principal(&self, name: &str) -> Principal {
        self.auth.user(name).unwrap().unwrap().principal()
    }

    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.raw(method, uri, token, body.map(|b| b.to_string()))
            .await
    }

    pub async fn raw(
        &self,
        method: &str,
        uri: &str,
        token: &str,
        body: Option<String>,
    ) -> (StatusCode, Value) {
        let mut b = Request::builder().method(method).uri(uri);
        if !token.is_empty() {
            b = b.header("authorization", format!("Bearer {token}"));
        }
        let req = match body {
            Some(body) => b
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap(),
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

    pub async fn ok(&self, method: &str, uri: &str, token: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method, uri, token, body).await;
        assert!(status.is_success(), "{method} {uri}: {status} {v}");
        v
    }

    pub async fn account(&self, name: &str, kelurahan: &str, lat: f64, lon: f64) -> i64 {
        let v = self
            .ok(
                "POST",
                "/api/salinmas/accounts",
                &self.officer.clone(),
                Some(json!({
                    "kind": "dasawisma", "name": name, "kelurahan": kelurahan, "rt": "2", "rw": "4",
                    "address": format!("Jl. {name}"), "lat": lat, "lon": lon,
                    "phone": "0812-2700-1190", "members": 10
                })),
            )
            .await;
        v["id"].as_i64().unwrap()
    }

    pub async fn collector(&self, name: &str, kelurahan: &[&str]) -> i64 {
        let v = self
            .ok(
                "POST",
                "/api/salinmas/collectors",
                &self.officer.clone(),
                Some(json!({"name": name, "kelurahan": kelurahan, "phone": "+6281327001191"})),
            )
            .await;
        v["id"].as_i64().unwrap()
    }

    /// Everything a refused request must leave as it was.
    pub fn fingerprint(&self) -> Value {
        let p = self.principal("petugas");
        self.store(|s| fingerprint(s, &p))
    }
}

/// Everything `p` (an officer) can read of the store.
pub fn fingerprint(s: &Salinmas, p: &Principal) -> Value {
    let pickups = s.pickups(p, &PickupFilter::default()).unwrap();
    let mut histories = Vec::new();
    let mut ledgers = Vec::new();
    for pk in &pickups {
        histories.push(serde_json::to_value(s.pickup(p, pk.id).unwrap()).unwrap());
    }
    for a in s.accounts(p, None).unwrap() {
        ledgers.push(serde_json::to_value(s.ledger(p, a.id).unwrap()).unwrap());
    }
    json!({
        "pickups": histories,
        "ledgers": ledgers,
        "accounts": s.accounts(p, None).unwrap(),
        "collectors": s.collectors(p).unwrap(),
        "prices": s.prices(p, 20_000).unwrap(),
        "kelurahan": s.kelurahan(p).unwrap(),
    })
}

pub fn pickup_body(lat: f64, lon: f64) -> Value {
    json!({
        "lat": lat, "lon": lon, "address": "Jl. Melati 3, RT 2/RW 4",
        "categories": ["organic", "plastic", "compost"], "estimated_kg": 15.5,
        "window_start": "2026-03-02T08:00", "window_end": "2026-03-02T11:00",
        "notes": "pagar hijau"
    })
}

pub const SOKA: (f64, f64) = (-7.4189, 109.2336);
