//! Salinmas over HTTP: the router behind the real bearer-token middleware,
//! a real `AuthStore`, tokens from real logins, and a settable clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use satria_auth::{AccessFilter, AuthConfig, AuthStore, HashParams, NewUser, Principal, Role};
use satria_salinmas::{
    OPERATIONS, PickupFilter, Salinmas, SalinmasConfig, StraightLine, order_stops, path_cost, time,
};
use serde_json::{Value, json};
use tower::ServiceExt;

const PASSWORD: &str = "kata-sandi-uji-119";
const SPEED_KMH: f64 = 25.0;

struct Env {
    dir: tempfile::TempDir,
    auth: Arc<AuthStore>,
    s: Arc<Salinmas>,
    app: Router,
    clock: Arc<AtomicI64>,
    officer: String,
}

fn at(s: &str) -> i64 {
    time::parse_datetime(s).unwrap()
}

fn open_salinmas(dir: &std::path::Path, clock: &Arc<AtomicI64>) -> Arc<Salinmas> {
    let c = Arc::clone(clock);
    let config = SalinmasConfig {
        service_time_s: 300,
        clock: Arc::new(move || c.load(Ordering::SeqCst)),
    };
    Arc::new(Salinmas::open_with(&dir.join("salinmas.sqlite"), config).unwrap())
}

fn app_of(auth: &Arc<AuthStore>, s: &Arc<Salinmas>) -> Router {
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
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let config = AuthConfig {
            hash: HashParams::INSECURE_FAST,
            ..AuthConfig::default()
        };
        let auth = Arc::new(AuthStore::open_with(&dir.path().join("auth.sqlite"), config).unwrap());
        let clock = Arc::new(AtomicI64::new(at("2026-03-02T07:00")));
        let s = open_salinmas(dir.path(), &clock);
        let app = app_of(&auth, &s);
        let mut env = Env {
            dir,
            auth,
            s,
            app,
            clock,
            officer: String::new(),
        };
        env.officer = env.user("petugas", Role::SalinmasOfficer, None);
        env
    }

    fn set_time(&self, s: &str) {
        self.clock.store(at(s), Ordering::SeqCst);
    }

    /// Creates a user and returns a session token.
    fn user(&self, name: &str, role: Role, subject: Option<i64>) -> String {
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

    fn principal(&self, name: &str) -> Principal {
        self.auth.user(name).unwrap().unwrap().principal()
    }

    async fn call(
        &self,
        method: &str,
        uri: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.raw(method, uri, token, body.map(|b| b.to_string()))
            .await
    }

    async fn raw(
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

    async fn ok(&self, method: &str, uri: &str, token: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method, uri, token, body).await;
        assert!(status.is_success(), "{method} {uri}: {status} {v}");
        v
    }

    async fn account(&self, name: &str, kelurahan: &str, lat: f64, lon: f64) -> i64 {
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

    async fn collector(&self, name: &str, kelurahan: &[&str]) -> i64 {
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
    fn fingerprint(&self) -> Value {
        let p = self.principal("petugas");
        let pickups = self.s.pickups(&p, &PickupFilter::default()).unwrap();
        let mut histories = Vec::new();
        let mut ledgers = Vec::new();
        for pk in &pickups {
            histories.push(serde_json::to_value(self.s.pickup(&p, pk.id).unwrap()).unwrap());
        }
        for a in self.s.accounts(&p, None).unwrap() {
            ledgers.push(serde_json::to_value(self.s.ledger(&p, a.id).unwrap()).unwrap());
        }
        json!({
            "pickups": histories,
            "ledgers": ledgers,
            "accounts": self.s.accounts(&p, None).unwrap(),
            "collectors": self.s.collectors(&p).unwrap(),
            "prices": self.s.prices(&p, 20_000).unwrap(),
            "kelurahan": self.s.kelurahan(&p).unwrap(),
        })
    }
}

fn pickup_body(lat: f64, lon: f64) -> Value {
    json!({
        "lat": lat, "lon": lon, "address": "Jl. Melati 3, RT 2/RW 4",
        "categories": ["organic", "plastic", "compost"], "estimated_kg": 15.5,
        "window_start": "2026-03-02T08:00", "window_end": "2026-03-02T11:00",
        "notes": "pagar hijau"
    })
}

const SOKA: (f64, f64) = (-7.4189, 109.2336);

#[tokio::test]
async fn the_full_flow_from_request_to_payout() {
    let env = Env::new();
    let household = env
        .account("Dasawisma Melati", "Sokanegara", SOKA.0, SOKA.1)
        .await;
    let ksm = env
        .collector("KSM Soka Bersih", &["Sokanegara", "Purwokerto Lor"])
        .await;
    let far = env.collector("KSM Kedungwuluh", &["Kedungwuluh"]).await;
    let h = env.user("melati", Role::SalinmasHousehold, Some(household));
    let c = env.user("ksm1", Role::SalinmasCollector, Some(ksm));
    let c_far = env.user("ksm2", Role::SalinmasCollector, Some(far));

    // The household requests; nobody else's account is needed.
    let p = env
        .ok(
            "POST",
            "/api/salinmas/pickups",
            &h,
            Some(pickup_body(SOKA.0, SOKA.1)),
        )
        .await;
    assert_eq!(p["status"], "requested");
    assert_eq!(p["kelurahan"], "Sokanegara");
    assert_eq!(p["date"], "2026-03-02");
    assert_eq!(p["window_start"], "2026-03-02T08:00:00+07:00");
    let id = p["id"].as_i64().unwrap();
    let pu = format!("/api/salinmas/pickups/{id}");

    // A collector outside the kelurahan: refused, nothing changes.
    let before = env.fingerprint();
    let (st, e) = env
        .call("POST", &format!("{pu}/accept"), &c_far, None)
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    assert_eq!(e["code"], "outside_service_area");
    assert!(e["message_id"].as_str().unwrap().contains("tidak melayani"));
    // Nor can it see the pickup.
    let (st, _) = env.call("GET", &pu, &c_far, None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Collecting before accepting is not a transition.
    let (st, e) = env
        .call(
            "POST",
            &format!("{pu}/collect"),
            &c,
            Some(json!({"weights": [{"category": "organic", "kg": 1}]})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["code"], "invalid_transition");
    assert_eq!(env.fingerprint(), before);

    // The collector of that kelurahan sees it open, and accepts.
    let open = env
        .ok("GET", "/api/salinmas/pickups?status=requested", &c, None)
        .await;
    assert_eq!(open.as_array().unwrap().len(), 1);
    let a = env.ok("POST", &format!("{pu}/accept"), &c, None).await;
    assert_eq!(a["status"], "accepted");
    assert_eq!(a["collector_id"], ksm);
    // Accepting twice is refused.
    let (st, e) = env.call("POST", &format!("{pu}/accept"), &c, None).await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_transition"))
    );

    // A price change dated later must not touch today's credit.
    env.ok(
        "POST",
        "/api/salinmas/prices",
        &env.officer,
        Some(json!({"category": "plastic", "price_per_kg_rp": 5000, "valid_from": "2026-03-10"})),
    )
    .await;

    // Bad weights: refused, nothing changes.
    let before = env.fingerprint();
    for (body, code) in [
        (
            json!({"weights": [{"category": "organic", "kg": 0}]}),
            "invalid_weight",
        ),
        (
            json!({"weights": [{"category": "organic", "kg": -2.5}]}),
            "invalid_weight",
        ),
        (
            json!({"weights": [{"category": "organic", "kg": 0.0001}]}),
            "invalid_weight",
        ),
        (
            json!({"weights": [{"category": "organic", "kg": 9000}]}),
            "invalid_weight",
        ),
        (
            json!({"weights": [{"category": "gold", "kg": 1}]}),
            "unknown_category",
        ),
        (json!({"weights": []}), "invalid_weights"),
        (
            json!({"weights": [{"category": "glass", "kg": 1}, {"category": "glass", "kg": 2}]}),
            "duplicate_category",
        ),
        (
            json!({"weights": [{"category": "organic", "kg": 1, "price": 9}]}),
            "invalid_body",
        ),
        (
            json!({"weights": [{"category": "organic", "kg": "1"}]}),
            "invalid_body",
        ),
        (
            json!({"weights": [{"category": "organic", "kg": 1}], "credit_rp": 1000000}),
            "invalid_body",
        ),
        (
            json!({"weights": [{"category": "organic", "kg": 1, "grams": 1000}]}),
            "invalid_weight",
        ),
        (
            json!({"weights": [{"category": "organic"}]}),
            "invalid_weight",
        ),
        (
            json!({"weights": [{"category": "organic", "grams": 0}]}),
            "invalid_weight",
        ),
        (
            json!({"weights": [{"category": "organic", "grams": 5000001}]}),
            "invalid_weight",
        ),
    ] {
        let (st, e) = env
            .call("POST", &format!("{pu}/collect"), &c, Some(body.clone()))
            .await;
        assert!(st.is_client_error(), "{body}: {st}");
        assert_eq!(e["code"], code, "{body}: {e}");
        assert!(!e["message"].as_str().unwrap().is_empty());
        assert!(!e["message_id"].as_str().unwrap().is_empty());
    }
    let (st, e) = env
        .raw(
            "POST",
            &format!("{pu}/collect"),
            &c,
            Some("{\"weights\": [{\"category\": \"organic\", \"kg\": 1e999}]}".into()),
        )
        .await;
    assert!(st.is_client_error(), "{st} {e}");
    // The household may not collect its own pickup.
    let (st, _) = env
        .call(
            "POST",
            &format!("{pu}/collect"),
            &h,
            Some(json!({"weights": [{"category": "organic", "kg": 1}]})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(env.fingerprint(), before);

    // Collected at 10:00 WIB on 2 March: organic 100, plastic 1,500, compost 2,000 per kg.
    env.set_time("2026-03-02T10:00");
    let done = env
        .ok(
            "POST",
            &format!("{pu}/collect"),
            &c,
            Some(json!({"weights": [
                {"category": "organic", "kg": 12.5},
                {"category": "plastic", "kg": 3.2},
                {"category": "compost", "grams": 2000}
            ]})),
        )
        .await;
    assert_eq!(done["status"], "collected");
    assert_eq!(done["collected_date"], "2026-03-02");
    assert_eq!(done["credit_rp"], 1250 + 4800 + 4000);
    let plastic = done["weights"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["category"] == "plastic")
        .unwrap();
    assert_eq!(plastic["grams"], 3200);
    assert_eq!(plastic["price_per_kg_rp"], 1500);

    // Collected pickups cannot be cancelled, rejected or collected again.
    let before = env.fingerprint();
    for (who, action) in [(&h, "cancel"), (&c, "reject"), (&env.officer, "cancel")] {
        let (st, e) = env
            .call(
                "POST",
                &format!("{pu}/{action}"),
                who,
                Some(json!({"reason": "salah"})),
            )
            .await;
        assert_eq!(
            (st, e["code"].as_str()),
            (StatusCode::CONFLICT, Some("invalid_transition")),
            "{action}"
        );
    }
    let (st, _) = env
        .call(
            "POST",
            &format!("{pu}/collect"),
            &c,
            Some(json!({"weights": [{"category": "organic", "kg": 1}]})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(env.fingerprint(), before);

    // The ledger: one credit, the balance the sum.
    let ledger_uri = format!("/api/salinmas/accounts/{household}/ledger");
    let l = env.ok("GET", &ledger_uri, &h, None).await;
    assert_eq!(l["balance_rp"], 10_050);
    assert_eq!(l["entries"].as_array().unwrap().len(), 1);
    assert_eq!(l["entries"][0]["kind"], "credit");
    assert_eq!(l["entries"][0]["pickup_id"], id);

    // A payout over the balance is refused and changes nothing.
    let payouts = format!("/api/salinmas/accounts/{household}/payouts");
    let before = env.fingerprint();
    let (st, e) = env
        .call(
            "POST",
            &payouts,
            &env.officer,
            Some(json!({"amount_rp": 10_051, "method": "cash"})),
        )
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("insufficient_balance")),
        "{e}"
    );
    assert!(e["message_id"].as_str().unwrap().contains("saldo"));
    for (body, code) in [
        (json!({"amount_rp": 0, "method": "cash"}), "invalid_amount"),
        (json!({"amount_rp": -5, "method": "cash"}), "invalid_amount"),
        (
            json!({"amount_rp": 100, "method": "gold"}),
            "invalid_method",
        ),
        (json!({"amount_rp": 10.5, "method": "cash"}), "invalid_body"),
        (
            json!({"amount_rp": 100, "method": "cash", "balance_rp": 9}),
            "invalid_body",
        ),
    ] {
        let (st, e) = env
            .call("POST", &payouts, &env.officer, Some(body.clone()))
            .await;
        assert!(st.is_client_error(), "{body}");
        assert_eq!(e["code"], code, "{body}");
    }
    // A household cannot pay itself out; a collector of another kelurahan cannot either.
    for who in [&h, &c_far] {
        let (st, _) = env
            .call(
                "POST",
                &payouts,
                who,
                Some(json!({"amount_rp": 100, "method": "cash"})),
            )
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
    }
    assert_eq!(env.fingerprint(), before);

    // The officer pays out by transfer, the collector in cash; the balance follows.
    let e1 = env
        .ok(
            "POST",
            &payouts,
            &env.officer,
            Some(json!({"amount_rp": 5000, "method": "bank_transfer", "reference": "TRX-001"})),
        )
        .await;
    assert_eq!(e1["amount_rp"], -5000);
    assert_eq!(e1["balance_rp"], 5050);
    env.ok(
        "POST",
        &payouts,
        &c,
        Some(json!({"amount_rp": 5050, "method": "cash"})),
    )
    .await;
    let (st, e) = env
        .call(
            "POST",
            &payouts,
            &c,
            Some(json!({"amount_rp": 1, "method": "cash"})),
        )
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("insufficient_balance"))
    );
    let l = env.ok("GET", &ledger_uri, &h, None).await;
    assert_eq!(l["balance_rp"], 0);
    let running: Vec<i64> = l["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["balance_rp"].as_i64().unwrap())
        .collect();
    assert_eq!(running, vec![10_050, 5050, 0]);
    assert_eq!(env.s.verify_ledgers(), Ok(3));

    // A price set afterwards for the very day of the collection changes no credit.
    env.ok(
        "POST",
        "/api/salinmas/prices",
        &env.officer,
        Some(json!({"category": "organic", "price_per_kg_rp": 150, "valid_from": "2026-03-01"})),
    )
    .await;
    let again = env.ok("GET", &pu, &h, None).await;
    assert_eq!(again["credit_rp"], 10_050);

    // After 10 March, plastic is credited at the new price.
    env.set_time("2026-03-10T07:00");
    let mut body = pickup_body(SOKA.0, SOKA.1);
    body["window_start"] = json!("2026-03-10T08:00");
    body["window_end"] = json!("2026-03-10T12:00");
    let p2 = env
        .ok("POST", "/api/salinmas/pickups", &h, Some(body))
        .await["id"]
        .as_i64()
        .unwrap();
    env.ok(
        "POST",
        &format!("/api/salinmas/pickups/{p2}/accept"),
        &c,
        Some(json!({"scheduled_date": "2026-03-10"})),
    )
    .await;
    env.set_time("2026-03-10T09:30");
    let d2 = env
        .ok("POST", &format!("/api/salinmas/pickups/{p2}/collect"), &c, Some(json!({"weights": [{"category": "plastic", "kg": 1}, {"category": "organic", "kg": 2}]})))
        .await;
    assert_eq!(d2["credit_rp"], 5000 + 300);
    assert_eq!(
        env.ok("GET", &ledger_uri, &h, None).await["balance_rp"],
        5300
    );

    // The pickup's history names who did what.
    let detail = env.ok("GET", &pu, &env.officer, None).await;
    let actions: Vec<(&str, &str)> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["action"].as_str().unwrap(), h["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("request", "melati"),
            ("accept", "ksm1"),
            ("collect", "ksm1")
        ]
    );
    assert_eq!(detail["history"][1]["role"], "salinmas_collector");

    // Prices: current for a day, and the whole history.
    let prices = env
        .ok("GET", "/api/salinmas/prices?date=2026-03-05", &h, None)
        .await;
    let cur = |cat: &str| {
        prices["current"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["category"] == cat)
            .unwrap()["price_per_kg_rp"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(
        (cur("organic"), cur("plastic"), cur("compost")),
        (150, 1500, 2000)
    );
    assert_eq!(prices["history"].as_array().unwrap().len(), 9);
}

#[tokio::test]
async fn households_and_collectors_see_only_their_own() {
    let env = Env::new();
    let a1 = env.account("Melati", "Sokanegara", SOKA.0, SOKA.1).await;
    let a2 = env.account("Mawar", "Kedungwuluh", -7.4231, 109.2272).await;
    let k1 = env.collector("KSM Soka", &["Sokanegara"]).await;
    let h1 = env.user("rumah1", Role::SalinmasHousehold, Some(a1));
    let h2 = env.user("rumah2", Role::SalinmasHousehold, Some(a2));
    let c1 = env.user("ksm-a", Role::SalinmasCollector, Some(k1));
    let dispatcher = env.user("disp", Role::Dispatcher, None);
    let unbound = env.user("lost", Role::SalinmasHousehold, None);
    let ghost = env.user("ghost", Role::SalinmasHousehold, Some(999));

    let p1 = env
        .ok(
            "POST",
            "/api/salinmas/pickups",
            &h1,
            Some(pickup_body(SOKA.0, SOKA.1)),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let p2 = env
        .ok(
            "POST",
            "/api/salinmas/pickups",
            &h2,
            Some(pickup_body(-7.4231, 109.2272)),
        )
        .await["id"]
        .as_i64()
        .unwrap();

    // Another household's pickup, account and ledger: 403, and the same for one that does not exist.
    for uri in [
        format!("/api/salinmas/pickups/{p2}"),
        format!("/api/salinmas/accounts/{a2}"),
        format!("/api/salinmas/accounts/{a2}/ledger"),
        "/api/salinmas/pickups/777".to_string(),
        "/api/salinmas/accounts/777".to_string(),
    ] {
        let (st, e) = env.call("GET", &uri, &h1, None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{uri}");
        assert_eq!(e["code"], "forbidden");
    }
    // The officer gets 404 for a missing one.
    let (st, e) = env
        .call("GET", "/api/salinmas/pickups/777", &env.officer, None)
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    // A household cannot request for another account, nor cancel another's pickup.
    let before = env.fingerprint();
    let mut body = pickup_body(SOKA.0, SOKA.1);
    body["account_id"] = json!(a2);
    let (st, _) = env
        .call("POST", "/api/salinmas/pickups", &h1, Some(body))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = env
        .call(
            "POST",
            &format!("/api/salinmas/pickups/{p2}/cancel"),
            &h1,
            Some(json!({"reason": "x"})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(env.fingerprint(), before);

    // Lists are scoped.
    let l1 = env.ok("GET", "/api/salinmas/pickups", &h1, None).await;
    assert_eq!(
        l1.as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![p1]
    );
    let lc = env.ok("GET", "/api/salinmas/pickups", &c1, None).await;
    assert_eq!(
        lc.as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![p1]
    );
    let accs = env.ok("GET", "/api/salinmas/accounts", &c1, None).await;
    assert_eq!(accs.as_array().unwrap().len(), 1);
    assert_eq!(accs[0]["id"], a1);
    let all = env
        .ok(
            "GET",
            "/api/salinmas/pickups?kelurahan=Kedungwuluh",
            &env.officer,
            None,
        )
        .await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    let by_date = env
        .ok(
            "GET",
            "/api/salinmas/pickups?date=2026-03-02&status=requested",
            &env.officer,
            None,
        )
        .await;
    assert_eq!(by_date.as_array().unwrap().len(), 2);
    let none = env
        .ok(
            "GET",
            "/api/salinmas/pickups?date=2026-03-03",
            &env.officer,
            None,
        )
        .await;
    assert!(none.as_array().unwrap().is_empty());
    let mine = env.ok("GET", "/api/salinmas/collectors", &h1, None).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let none = env.ok("GET", "/api/salinmas/collectors", &h2, None).await;
    assert!(none.as_array().unwrap().is_empty());

    // Other roles, and logins bound to nothing (or to no existing record): 403; no token: 401.
    for (tok, code) in [
        (&dispatcher, "forbidden"),
        (&unbound, "not_bound"),
        (&ghost, "not_bound"),
    ] {
        for uri in [
            "/api/salinmas/pickups",
            "/api/salinmas/prices",
            &format!("/api/salinmas/pickups/{p1}"),
        ] {
            let (st, e) = env.call("GET", uri, tok, None).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{uri}");
            assert_eq!(e["code"], code, "{uri}");
        }
    }
    let (st, e) = env.call("GET", "/api/salinmas/pickups", "", None).await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );

    // Cancel and reject, each with a reason, before collection.
    let (st, e) = env
        .call(
            "POST",
            &format!("/api/salinmas/pickups/{p1}/cancel"),
            &h1,
            Some(json!({"reason": "  "})),
        )
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("missing_field"))
    );
    let (st, _) = env
        .call(
            "POST",
            &format!("/api/salinmas/pickups/{p1}/cancel"),
            &c1,
            Some(json!({"reason": "x"})),
        )
        .await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "collectors reject, they do not cancel"
    );
    let x = env
        .ok(
            "POST",
            &format!("/api/salinmas/pickups/{p1}/cancel"),
            &h1,
            Some(json!({"reason": "tidak jadi"})),
        )
        .await;
    assert_eq!(
        (x["status"].as_str(), x["reason"].as_str()),
        (Some("cancelled"), Some("tidak jadi"))
    );
    let r = env
        .ok(
            "POST",
            &format!("/api/salinmas/pickups/{p2}/reject"),
            &env.officer,
            Some(json!({"reason": "jalan ditutup"})),
        )
        .await;
    assert_eq!(r["status"], "rejected");
    let (st, _) = env
        .call(
            "POST",
            &format!("/api/salinmas/pickups/{p2}/accept"),
            &env.officer,
            Some(json!({"collector_id": k1})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);

    // Every read of a household's personal data was recorded.
    let log = env
        .auth
        .access_log(
            &AccessFilter {
                subject_prefix: Some("salinmas_account:".into()),
                ..Default::default()
            },
            100,
        )
        .unwrap();
    assert!(log.iter().any(|e| e.username == "ksm-a"
        && e.action == "list"
        && e.subject == format!("salinmas_account:{a1}")));
    assert!(log.iter().any(|e| e.username == "petugas"
        && e.action == "list"
        && e.subject == format!("salinmas_account:{a1},{a2}")));
    assert!(
        log.iter()
            .any(|e| e.username == "rumah1" && e.purpose == "GET /api/salinmas/pickups")
    );
    // Refused reads were not recorded as reads.
    assert!(
        !log.iter()
            .any(|e| e.username == "rumah1" && e.subject == format!("salinmas_account:{a2}"))
    );
    env.ok(
        "GET",
        &format!("/api/salinmas/accounts/{a2}"),
        &env.officer,
        None,
    )
    .await;
    let log = env
        .auth
        .access_log(
            &AccessFilter {
                subject_prefix: Some(format!("salinmas_account:{a2}")),
                ..Default::default()
            },
            10,
        )
        .unwrap();
    assert!(log.iter().any(|e| e.action == "read"
        && e.username == "petugas"
        && e.purpose == "GET /api/salinmas/accounts/{id}"));
    assert!(env.auth.verify_access_log().is_ok());
}

#[tokio::test]
async fn refused_inputs_change_nothing() {
    let env = Env::new();
    let a1 = env.account("Melati", "Sokanegara", SOKA.0, SOKA.1).await;
    let h1 = env.user("rumah1", Role::SalinmasHousehold, Some(a1));
    let o = env.officer.clone();
    let before = env.fingerprint();

    let base_account = json!({
        "kind": "household", "name": "Bu Sri", "kelurahan": "Sokanegara", "rt": "1", "rw": "2",
        "address": "Jl. Gereja 5", "lat": SOKA.0, "lon": SOKA.1, "phone": "081234567890"
    });
    let with = |base: &Value, k: &str, v: Value| {
        let mut b = base.clone();
        if v.is_null() {
            b.as_object_mut().unwrap().remove(k);
        } else {
            b[k] = v;
        }
        b
    };
    let cases = vec![
        (
            "POST",
            "/api/salinmas/accounts",
            with(&base_account, "kind", json!("company")),
            "invalid_kind",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/accounts",
            with(&base_account, "kelurahan", json!("Atlantis")),
            "unknown_kelurahan",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/accounts",
            with(&base_account, "kelurahan", json!("Karangklesem")),
            "unknown_kelurahan",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/accounts",
            with(&base_account, "rt", json!("0")),
            "invalid_rt_rw",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/accounts",
            with(&base_account, "phone", json!("12345")),
            "invalid_phone",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/accounts",
            with(&base_account, "lat", json!(-6.2)),
            "outside_region",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/accounts",
            with(&base_account, "name", json!("x".repeat(101))),
            "too_long",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/accounts",
            with(&base_account, "members", json!(0)),
            "invalid_members",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/accounts",
            with(&base_account, "nik", json!("3302")),
            "invalid_body",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/accounts",
            with(&base_account, "name", Value::Null),
            "invalid_body",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/accounts",
            base_account.clone(),
            "forbidden",
            &h1,
        ),
        (
            "POST",
            "/api/salinmas/collectors",
            json!({"name": "K", "kelurahan": [], "phone": "081234567890"}),
            "invalid_kelurahan",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/collectors",
            json!({"name": "K", "kelurahan": ["Sokanegara", "sokanegara"], "phone": "081234567890"}),
            "duplicate_kelurahan",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/collectors",
            json!({"name": "K", "kelurahan": ["Ajibarang Kulon"], "phone": "081234567890"}),
            "unknown_kelurahan",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/prices",
            json!({"category": "gold", "price_per_kg_rp": 10, "valid_from": "2026-04-01"}),
            "unknown_category",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/prices",
            json!({"category": "metal", "price_per_kg_rp": -1, "valid_from": "2026-04-01"}),
            "invalid_price",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/prices",
            json!({"category": "metal", "price_per_kg_rp": 10, "valid_from": "2026-02-30"}),
            "invalid_date",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/prices",
            json!({"category": "metal", "price_per_kg_rp": 2.5, "valid_from": "2026-04-01"}),
            "invalid_body",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/prices",
            json!({"category": "metal", "price_per_kg_rp": 10, "valid_from": "2026-04-01"}),
            "forbidden",
            &h1,
        ),
        (
            "POST",
            "/api/salinmas/kelurahan",
            json!({"name": "Karangklesem"}),
            "ambiguous_kelurahan",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/kelurahan",
            json!({"name": "Atlantis"}),
            "unknown_kelurahan",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/kelurahan",
            json!({"name": "Sokanegara"}),
            "duplicate_kelurahan",
            &o,
        ),
        (
            "POST",
            "/api/salinmas/kelurahan",
            json!({"name": "Bantarsoka"}),
            "forbidden",
            &h1,
        ),
    ];
    let pickup_cases = vec![
        ("estimated_kg", json!(0), "invalid_weight"),
        ("estimated_kg", json!(-3), "invalid_weight"),
        (
            "categories",
            json!(["organic", "uranium"]),
            "unknown_category",
        ),
        ("categories", json!([]), "invalid_categories"),
        (
            "categories",
            json!(["paper", "paper"]),
            "duplicate_category",
        ),
        ("window_end", json!("2026-03-02T07:30"), "invalid_window"),
        ("window_start", json!("tomorrow"), "invalid_window"),
        ("window_end", json!("2026-03-01T11:00"), "invalid_window"),
        ("lat", json!(91), "outside_region"),
        ("address", json!(""), "missing_field"),
        ("notes", json!("n".repeat(501)), "too_long"),
        ("priority", json!("high"), "invalid_body"),
    ];
    for (method, uri, body, code, tok) in cases {
        let (st, e) = env.call(method, uri, tok, Some(body.clone())).await;
        assert!(st.is_client_error(), "{uri} {body}: {st}");
        assert_eq!(e["code"], code, "{uri} {body}: {e}");
        assert!(!e["message_id"].as_str().unwrap_or("").is_empty());
    }
    for (k, v, code) in pickup_cases {
        let body = with(&pickup_body(SOKA.0, SOKA.1), k, v);
        let (st, e) = env
            .call("POST", "/api/salinmas/pickups", &h1, Some(body.clone()))
            .await;
        assert!(st.is_client_error(), "{body}: {st}");
        assert_eq!(e["code"], code, "{body}: {e}");
    }
    // An officer must name the account; a missing account is refused.
    let (st, e) = env
        .call(
            "POST",
            "/api/salinmas/pickups",
            &o,
            Some(pickup_body(SOKA.0, SOKA.1)),
        )
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("missing_field"))
    );
    let (st, e) = env
        .call(
            "POST",
            "/api/salinmas/pickups",
            &o,
            Some(with(
                &pickup_body(SOKA.0, SOKA.1),
                "account_id",
                json!(4242),
            )),
        )
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        // A reference to a record that does not exist: 404.
        (StatusCode::NOT_FOUND, Some("unknown_account"))
    );
    // Malformed requests.
    for (uri, raw, code) in [
        ("/api/salinmas/pickups", "{", "malformed_json"),
        ("/api/salinmas/pickups", "[]", "invalid_body"),
        (
            "/api/salinmas/pickups/abc/cancel",
            "{\"reason\": \"x\"}",
            "invalid_id",
        ),
        (
            "/api/salinmas/pickups/-1/cancel",
            "{\"reason\": \"x\"}",
            "invalid_id",
        ),
        (
            "/api/salinmas/pickups/1/accept",
            "{\"scheduled_date\": 5}",
            "invalid_body",
        ),
        ("/api/salinmas/pickups/1/accept", "{nope", "malformed_json"),
    ] {
        // A household may not accept: the role is checked before the body
        // (403 whatever it sent), so an officer sends the malformed accepts.
        let who = if uri.ends_with("/accept") { &o } else { &h1 };
        let (st, e) = env.raw("POST", uri, who, Some(raw.into())).await;
        assert!(st.is_client_error(), "{uri} {raw}: {st}");
        assert_eq!(e["code"], code, "{uri} {raw}: {e}");
    }
    let (st, e) = env
        .raw(
            "POST",
            "/api/salinmas/pickups",
            &h1,
            Some(format!("{{\"address\": \"{}\"}}", "x".repeat(70_000))),
        )
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("body_too_large"))
    );
    for uri in [
        "/api/salinmas/pickups?colour=red",
        "/api/salinmas/pickups?status=lost",
        "/api/salinmas/pickups?date=2026-3-1",
        "/api/salinmas/reports/weights?from=2026-03-01",
        "/api/salinmas/reports/weights?from=2026-03-09&to=2026-03-01",
        "/api/salinmas/reports/weights?from=2026-01-01&to=2027-06-01",
        "/api/salinmas/routes/1?date=2026-03-02&start_lat=-7.4",
        "/api/salinmas/routes/1?date=2026-03-02&start_lat=x&start_lon=109.2",
        "/api/salinmas/routes/1?date=2026-03-02&start_lat=-6.2&start_lon=106.8",
    ] {
        let (st, e) = env.call("GET", uri, &o, None).await;
        assert!(st.is_client_error(), "{uri}: {st}");
        assert!(
            e["code"].is_string() && e["message_id"].is_string(),
            "{uri}: {e}"
        );
    }
    assert_eq!(env.fingerprint(), before);
}

#[tokio::test]
async fn a_days_route_is_ordered_with_etas() {
    let env = Env::new();
    let ksm = env
        .collector("KSM Soka", &["Sokanegara", "Purwokerto Lor"])
        .await;
    let other = env.collector("KSM Lain", &["Sokanegara"]).await;
    let c = env.user("ksm-a", Role::SalinmasCollector, Some(ksm));
    let c_other = env.user("ksm-b", Role::SalinmasCollector, Some(other));
    // Stops along one street in Sokanegara, requested out of order.
    let lons = [109.2330, 109.2390, 109.2345, 109.2375, 109.2360];
    let mut ids = Vec::new();
    for (i, lon) in lons.iter().enumerate() {
        let acc = env
            .account(&format!("Rumah {i}"), "Sokanegara", -7.4189, *lon)
            .await;
        let mut body = pickup_body(-7.4189, *lon);
        body["account_id"] = json!(acc);
        let p = env
            .ok("POST", "/api/salinmas/pickups", &env.officer, Some(body))
            .await["id"]
            .as_i64()
            .unwrap();
        env.ok(
            "POST",
            &format!("/api/salinmas/pickups/{p}/accept"),
            &c,
            Some(json!({})),
        )
        .await;
        ids.push(p);
    }
    // One accepted for another day and one still open stay out of the route.
    let acc = env
        .account("Rumah jauh", "Sokanegara", -7.4189, 109.2300)
        .await;
    let mut body = pickup_body(-7.4189, 109.2300);
    body["account_id"] = json!(acc);
    let later = env
        .ok(
            "POST",
            "/api/salinmas/pickups",
            &env.officer,
            Some(body.clone()),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    env.ok(
        "POST",
        &format!("/api/salinmas/pickups/{later}/accept"),
        &c,
        Some(json!({"scheduled_date": "2026-03-04"})),
    )
    .await;
    env.ok("POST", "/api/salinmas/pickups", &env.officer, Some(body))
        .await;

    // From a depot west of every stop: west to east.
    let uri =
        format!("/api/salinmas/routes/{ksm}?date=2026-03-02&start_lat=-7.4189&start_lon=109.2300");
    let r = env.ok("GET", &uri, &c, None).await;
    let order: Vec<i64> = r["stops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["pickup_id"].as_i64().unwrap())
        .collect();
    assert_eq!(order, vec![ids[0], ids[2], ids[4], ids[3], ids[1]]);
    let stops = r["stops"].as_array().unwrap();
    let mut expected = 0.0;
    let service = 300.0;
    let mut drive_total = 0.0;
    for (k, s) in stops.iter().enumerate() {
        let leg = s["drive_s"].as_f64().unwrap();
        drive_total += leg;
        expected += leg + if k > 0 { service } else { 0.0 };
        assert!((s["eta_s"].as_f64().unwrap() - expected).abs() < 1e-6);
        assert_eq!(s["seq"], k + 1);
    }
    assert!((r["total_drive_s"].as_f64().unwrap() - drive_total).abs() < 1e-6);
    assert!((r["total_s"].as_f64().unwrap() - (drive_total + 5.0 * service)).abs() < 1e-6);
    // 0.009° of longitude is about 990 m: about 143 s at 25 km/h.
    assert!((drive_total - 142.6).abs() < 2.0, "{drive_total}");

    // Against brute force over the same straight-line matrix.
    let mut pts = vec![(-7.4189, 109.2300)];
    pts.extend(lons.iter().map(|l| (-7.4189, *l)));
    let m = satria_salinmas::DriveTimes::matrix(
        &StraightLine {
            speed_kmh: SPEED_KMH,
        },
        &pts,
    )
    .unwrap();
    let ours = order_stops(&m, 0);
    assert!((path_cost(&m, &ours) - drive_total).abs() < 1e-6);

    // Without a start the route begins at an end of the street.
    let r = env
        .ok(
            "GET",
            &format!("/api/salinmas/routes/{ksm}?date=2026-03-02"),
            &env.officer,
            None,
        )
        .await;
    let order: Vec<i64> = r["stops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["pickup_id"].as_i64().unwrap())
        .collect();
    assert!(
        order == vec![ids[0], ids[2], ids[4], ids[3], ids[1]]
            || order == vec![ids[1], ids[3], ids[4], ids[2], ids[0]],
        "{order:?}"
    );
    assert_eq!(r["stops"][0]["eta_s"], 0.0);
    // Another day; nobody else's route.
    let r = env
        .ok(
            "GET",
            &format!("/api/salinmas/routes/{ksm}?date=2026-03-04"),
            &c,
            None,
        )
        .await;
    assert_eq!(r["stops"].as_array().unwrap().len(), 1);
    let (st, _) = env
        .call(
            "GET",
            &format!("/api/salinmas/routes/{ksm}?date=2026-03-02"),
            &c_other,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = env
        .call(
            "GET",
            "/api/salinmas/routes/999?date=2026-03-02",
            &env.officer,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // The route shows addresses: recorded.
    let log = env
        .auth
        .access_log(
            &AccessFilter {
                username: Some("ksm-a".into()),
                ..Default::default()
            },
            50,
        )
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.purpose == "GET /api/salinmas/routes/{collector_id}" && e.action == "list")
    );
}

#[tokio::test]
async fn reports_by_week_kelurahan_and_category() {
    let env = Env::new();
    let a1 = env.account("Melati", "Sokanegara", SOKA.0, SOKA.1).await;
    let a2 = env
        .account("Mawar", "Purwokerto Lor", -7.4222, 109.2456)
        .await;
    let _idle = env.account("Kenanga", "Sokanegara", SOKA.0, SOKA.1).await;
    let ksm = env
        .collector("KSM Soka", &["Sokanegara", "Purwokerto Lor"])
        .await;
    let c = env.user("ksm-a", Role::SalinmasCollector, Some(ksm));
    let o = env.officer.clone();
    let collect = async |acc: i64, day: &str, weights: Value| {
        env.set_time(&format!("{day}T07:00"));
        let mut body = pickup_body(SOKA.0, SOKA.1);
        body["account_id"] = json!(acc);
        body["window_start"] = json!(format!("{day}T08:00"));
        body["window_end"] = json!(format!("{day}T10:00"));
        let p = env
            .ok("POST", "/api/salinmas/pickups", &o, Some(body))
            .await["id"]
            .as_i64()
            .unwrap();
        env.ok(
            "POST",
            &format!("/api/salinmas/pickups/{p}/accept"),
            &c,
            None,
        )
        .await;
        env.ok(
            "POST",
            &format!("/api/salinmas/pickups/{p}/collect"),
            &c,
            Some(json!({"weights": weights})),
        )
        .await;
    };
    collect(
        a1,
        "2026-03-02",
        json!([{"category": "organic", "kg": 10}, {"category": "paper", "kg": 1.5}]),
    )
    .await;
    collect(
        a1,
        "2026-03-04",
        json!([{"category": "organic", "kg": 2.25}]),
    )
    .await;
    collect(a2, "2026-03-04", json!([{"category": "metal", "kg": 3}])).await;
    collect(a1, "2026-03-09", json!([{"category": "organic", "kg": 1}])).await;
    env.ok(
        "POST",
        &format!("/api/salinmas/accounts/{a1}/payouts"),
        &o,
        Some(json!({"amount_rp": 1000, "method": "e_wallet"})),
    )
    .await;

    let r = env
        .ok(
            "GET",
            "/api/salinmas/reports/weights?from=2026-03-01&to=2026-03-31",
            &o,
            None,
        )
        .await;
    let w: Vec<(String, String, String, i64)> = r["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["week"].as_str().unwrap().into(),
                x["kelurahan"].as_str().unwrap().into(),
                x["category"].as_str().unwrap().into(),
                x["grams"].as_i64().unwrap(),
            )
        })
        .collect();
    let t = |a: &str, b: &str, c: &str, g: i64| (a.to_string(), b.to_string(), c.to_string(), g);
    assert_eq!(
        w,
        vec![
            t("2026-W10", "Purwokerto Lor", "metal", 3000),
            t("2026-W10", "Sokanegara", "organic", 12_250),
            t("2026-W10", "Sokanegara", "paper", 1500),
            t("2026-W11", "Sokanegara", "organic", 1000),
        ]
    );
    assert_eq!(r["active_accounts"], 2);
    // 1,000 + 1,800 + 225 + 9,000 + 100.
    assert_eq!(r["credits_earned_rp"], 12_125);
    assert_eq!(r["credits_paid_rp"], 1000);
    let soka = r["kelurahan"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kelurahan"] == "Sokanegara")
        .unwrap()
        .clone();
    assert_eq!(
        (
            soka["active_accounts"].as_i64(),
            soka["collected_pickups"].as_i64()
        ),
        (Some(1), Some(3))
    );
    // One week only.
    let r = env
        .ok(
            "GET",
            "/api/salinmas/reports/weights?from=2026-03-09&to=2026-03-15",
            &o,
            None,
        )
        .await;
    assert_eq!(r["weights"].as_array().unwrap().len(), 1);
    assert_eq!(r["credits_earned_rp"], 100);
    // Reports are for officers.
    let (st, _) = env
        .call(
            "GET",
            "/api/salinmas/reports/weights?from=2026-03-01&to=2026-03-31",
            &c,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn everything_survives_a_reopen() {
    let env = Env::new();
    let a1 = env.account("Melati", "Sokanegara", SOKA.0, SOKA.1).await;
    let ksm = env.collector("KSM Soka", &["Sokanegara"]).await;
    let h = env.user("rumah1", Role::SalinmasHousehold, Some(a1));
    let c = env.user("ksm-a", Role::SalinmasCollector, Some(ksm));
    env.ok(
        "POST",
        "/api/salinmas/kelurahan",
        &env.officer,
        Some(json!({"name": "Bantarsoka"})),
    )
    .await;
    let p = env
        .ok(
            "POST",
            "/api/salinmas/pickups",
            &h,
            Some(pickup_body(SOKA.0, SOKA.1)),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    env.ok(
        "POST",
        &format!("/api/salinmas/pickups/{p}/accept"),
        &c,
        None,
    )
    .await;
    env.ok(
        "POST",
        &format!("/api/salinmas/pickups/{p}/collect"),
        &c,
        Some(json!({"weights": [{"category": "compost", "kg": 4}]})),
    )
    .await;
    env.ok(
        "POST",
        &format!("/api/salinmas/accounts/{a1}/payouts"),
        &env.officer,
        Some(json!({"amount_rp": 3000, "method": "cash"})),
    )
    .await;
    let before = env.fingerprint();
    let demo = env.s.seed_demo(at("2026-03-02T07:00")).unwrap();

    let Env {
        dir,
        auth,
        s,
        clock,
        ..
    } = env;
    drop(s);
    let s2 = open_salinmas(dir.path(), &clock);
    let env2 = Env {
        app: app_of(&auth, &s2),
        s: s2,
        dir,
        auth,
        clock,
        officer: String::new(),
    };
    let mut after = env2.fingerprint();
    // The demo records were made before the reopen; compare the rest.
    after["accounts"]
        .as_array_mut()
        .unwrap()
        .retain(|a| a["id"] != demo.household_account_id);
    after["ledgers"]
        .as_array_mut()
        .unwrap()
        .retain(|l| l["account_id"] != demo.household_account_id);
    after["collectors"]
        .as_array_mut()
        .unwrap()
        .retain(|k| k["id"] != demo.collector_group_id);
    assert_eq!(after, before);
    let l = env2
        .ok(
            "GET",
            &format!("/api/salinmas/accounts/{a1}/ledger"),
            &h,
            None,
        )
        .await;
    assert_eq!(l["balance_rp"], 5000);
    assert_eq!(env2.s.verify_ledgers(), Ok(2));
    assert_eq!(
        env2.s.seed_demo(0).unwrap(),
        demo,
        "seed_demo is idempotent"
    );
    let names: Vec<String> = env2
        .s
        .kelurahan(&env2.principal("petugas"))
        .unwrap()
        .into_iter()
        .map(|k| k.name)
        .collect();
    assert_eq!(
        names,
        vec!["Bantarsoka", "Kedungwuluh", "Purwokerto Lor", "Sokanegara"]
    );
}

#[tokio::test]
async fn the_demo_logins_work_against_the_seeded_records() {
    let env = Env::new();
    let demo = env.s.seed_demo(at("2026-03-02T06:00")).unwrap();
    assert_eq!(env.s.seed_demo(at("2026-03-02T06:30")).unwrap(), demo);
    let h = env.user(
        "demo_rumah",
        Role::SalinmasHousehold,
        Some(demo.household_account_id),
    );
    let c = env.user(
        "demo_ksm",
        Role::SalinmasCollector,
        Some(demo.collector_group_id),
    );
    let acc = env
        .ok(
            "GET",
            &format!("/api/salinmas/accounts/{}", demo.household_account_id),
            &h,
            None,
        )
        .await;
    assert_eq!(acc["kelurahan"], "Sokanegara");
    let p = env
        .ok(
            "POST",
            "/api/salinmas/pickups",
            &h,
            Some(pickup_body(
                acc["lat"].as_f64().unwrap(),
                acc["lon"].as_f64().unwrap(),
            )),
        )
        .await;
    env.ok(
        "POST",
        &format!("/api/salinmas/pickups/{}/accept", p["id"]),
        &c,
        None,
    )
    .await;
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let env = Env::new();
    let mut seen = std::collections::HashSet::new();
    for op in OPERATIONS {
        assert!(
            seen.insert((op.method, op.path)),
            "{} {} listed twice",
            op.method,
            op.path
        );
        assert!(op.path.starts_with("/api/salinmas/"));
        assert!(!op.roles.is_empty());
        for r in op.roles {
            assert!(Role::parse(r).is_some(), "{r}");
        }
        if let Some(schema) = op.body {
            let s = schema();
            assert_eq!(s["additionalProperties"], false, "{}", op.path);
            assert_eq!(s["type"], "object");
        }
        assert_eq!(
            op.body.is_some(),
            op.method == "post",
            "{} {}",
            op.method,
            op.path
        );
        let uri = op
            .path
            .replace("{id}", "424242")
            .replace("{collector_id}", "424242")
            .replace("{entity}", "pickup");
        let query: Vec<String> = op
            .query
            .iter()
            .filter(|q| q.2)
            .map(|q| format!("{}=2026-03-02", q.0))
            .collect();
        let uri = if query.is_empty() {
            uri
        } else {
            format!("{uri}?{}", query.join("&"))
        };
        let body = (op.method == "post").then(|| "{}".to_string());
        let (st, v) = env
            .raw(&op.method.to_uppercase(), &uri, &env.officer, body)
            .await;
        assert_ne!(st, StatusCode::METHOD_NOT_ALLOWED, "{} {uri}", op.method);
        assert!(
            st != StatusCode::NOT_FOUND || v["code"] == "not_found",
            "{} {uri}: not routed",
            op.method
        );
        assert!(!st.is_server_error(), "{} {uri}: {st} {v}", op.method);
        // Without a token, every one is 401.
        let (st, _) = env.raw(&op.method.to_uppercase(), &uri, "", None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(OPERATIONS.len(), 22);
}

/// Roles an operation does not list never get through it.
#[tokio::test]
async fn roles_not_listed_are_refused() {
    let env = Env::new();
    let acc = env.account("Melati", "Sokanegara", SOKA.0, SOKA.1).await;
    let ksm = env.collector("KSM Soka", &["Sokanegara"]).await;
    let tokens = [
        (
            "salinmas_household",
            env.user("rumah1", Role::SalinmasHousehold, Some(acc)),
        ),
        (
            "salinmas_collector",
            env.user("ksm-a", Role::SalinmasCollector, Some(ksm)),
        ),
        ("dispatcher", env.user("disp", Role::Dispatcher, None)),
        (
            "pattas_officer",
            env.user("pattas", Role::PattasOfficer, None),
        ),
    ];
    let before = env.fingerprint();
    for op in OPERATIONS {
        let uri = op
            .path
            .replace("{id}", &acc.to_string())
            .replace("{collector_id}", &ksm.to_string())
            .replace("{entity}", "account");
        let uri = if op.query.iter().any(|q| q.2) {
            format!("{uri}?from=2026-03-01&to=2026-03-31")
        } else {
            uri
        };
        for (role, token) in &tokens {
            if op.roles.contains(role) {
                continue;
            }
            let body = (op.method == "post").then(|| "{}".to_string());
            let (st, e) = env.raw(&op.method.to_uppercase(), &uri, token, body).await;
            assert!(!st.is_success(), "{role} {} {uri}: {st}", op.method);
            if op.method == "get" {
                assert_eq!(st, StatusCode::FORBIDDEN, "{role} GET {uri}: {e}");
            }
        }
    }
    assert_eq!(env.fingerprint(), before);
}

/// Concurrent payouts never overdraw: the balance check and the entry are one
/// IMMEDIATE transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_payouts_never_overdraw() {
    let env = Arc::new(Env::new());
    let a1 = env.account("Melati", "Sokanegara", SOKA.0, SOKA.1).await;
    let ksm = env.collector("KSM Soka", &["Sokanegara"]).await;
    let c = env.user("ksm-a", Role::SalinmasCollector, Some(ksm));
    let p = env
        .ok(
            "POST",
            "/api/salinmas/pickups",
            &env.officer,
            Some({
                let mut b = pickup_body(SOKA.0, SOKA.1);
                b["account_id"] = json!(a1);
                b
            }),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    env.ok(
        "POST",
        &format!("/api/salinmas/pickups/{p}/accept"),
        &c,
        None,
    )
    .await;
    env.ok(
        "POST",
        &format!("/api/salinmas/pickups/{p}/collect"),
        &c,
        Some(json!({"weights": [{"category": "compost", "kg": 5}]})),
    )
    .await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let env = Arc::clone(&env);
        tasks.push(tokio::spawn(async move {
            env.call(
                "POST",
                &format!("/api/salinmas/accounts/{a1}/payouts"),
                &env.officer,
                Some(json!({"amount_rp": 1000, "method": "cash"})),
            )
            .await
            .0
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::CREATED => ok += 1,
            StatusCode::CONFLICT => {}
            other => panic!("{other}"),
        }
    }
    assert_eq!(ok, 10);
    assert_eq!(
        env.s
            .ledger(&env.principal("petugas"), a1)
            .unwrap()
            .balance_rp,
        0
    );
    assert_eq!(env.s.verify_ledgers(), Ok(11));
}

/// A road graph where one stop cannot be reached, and one that fails.
struct Islands {
    unreachable_lon: f64,
}

impl satria_salinmas::DriveTimes for Islands {
    fn matrix(&self, points: &[(f64, f64)]) -> Result<Vec<Vec<f64>>, String> {
        let m = StraightLine {
            speed_kmh: SPEED_KMH,
        }
        .matrix(points)?;
        Ok(m.into_iter()
            .enumerate()
            .map(|(i, row)| {
                row.into_iter()
                    .enumerate()
                    .map(|(j, t)| {
                        let island = |k: usize| points[k].1 == self.unreachable_lon;
                        if i != j && (island(i) || island(j)) {
                            f64::INFINITY
                        } else {
                            t
                        }
                    })
                    .collect()
            })
            .collect())
    }
}

struct Broken;

impl satria_salinmas::DriveTimes for Broken {
    fn matrix(&self, _: &[(f64, f64)]) -> Result<Vec<Vec<f64>>, String> {
        Err("road graph not loaded".into())
    }
}

#[tokio::test]
async fn unreachable_stops_and_a_failing_road_graph() {
    use satria_salinmas::DriveTimes as _;
    let env = Env::new();
    let ksm = env.collector("KSM Soka", &["Sokanegara"]).await;
    let c = env.user("ksm-a", Role::SalinmasCollector, Some(ksm));
    for lon in [109.2330, 109.2350, 109.2370] {
        let acc = env.account("Rumah", "Sokanegara", -7.4189, lon).await;
        let mut body = pickup_body(-7.4189, lon);
        body["account_id"] = json!(acc);
        let p = env
            .ok("POST", "/api/salinmas/pickups", &env.officer, Some(body))
            .await["id"]
            .as_i64()
            .unwrap();
        env.ok(
            "POST",
            &format!("/api/salinmas/pickups/{p}/accept"),
            &c,
            None,
        )
        .await;
    }
    let p = env.principal("ksm-a");
    let islands = Islands {
        unreachable_lon: 109.2370,
    };
    assert!(islands.matrix(&[(-7.4, 109.2370), (-7.4, 109.2)]).unwrap()[0][1].is_infinite());
    let r = env
        .s
        .route(
            &p,
            ksm,
            time::parse_date("2026-03-02").unwrap(),
            Some((-7.4189, 109.2300)),
            &islands,
        )
        .unwrap();
    assert_eq!(r.stops.len(), 3);
    // The reachable stops come first with ETAs; the island last, without one.
    assert!(r.stops[0].eta_s.is_some() && r.stops[1].eta_s.is_some());
    assert_eq!(r.stops[2].lon, 109.2370);
    assert_eq!((r.stops[2].eta_s, r.stops[2].drive_s), (None, None));
    assert_eq!((r.total_drive_s, r.total_s), (None, None));
    // Serialised, the unknowns are null.
    let v = serde_json::to_value(&r).unwrap();
    assert!(v["stops"][2]["eta_s"].is_null() && v["total_s"].is_null());

    // A road graph that fails: 503 over HTTP, never a panic.
    let app = satria_salinmas::routes(
        Arc::clone(&env.s),
        Arc::clone(&env.auth) as Arc<dyn satria_auth::AccessRecorder>,
        Arc::new(Broken),
    )
    .layer(axum::middleware::from_fn_with_state(
        Arc::clone(&env.auth),
        satria_http::require_principal,
    ));
    let req = Request::get(format!("/api/salinmas/routes/{ksm}?date=2026-03-02"))
        .header("authorization", format!("Bearer {c}"))
        .body(Body::empty())
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap();
    let e: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(e["code"], "unavailable");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("road graph not loaded")
    );
}

#[tokio::test]
async fn officers_act_on_behalf_and_read_the_history() {
    let env = Env::new();
    let a1 = env.account("Melati", "Sokanegara", SOKA.0, SOKA.1).await;
    let soka = env.collector("KSM Soka", &["Sokanegara"]).await;
    let kedung = env.collector("KSM Kedung", &["Kedungwuluh"]).await;
    let h = env.user("rumah1", Role::SalinmasHousehold, Some(a1));
    let mut body = pickup_body(SOKA.0, SOKA.1);
    body["account_id"] = json!(a1);
    let p = env
        .ok("POST", "/api/salinmas/pickups", &env.officer, Some(body))
        .await["id"]
        .as_i64()
        .unwrap();
    let accept = format!("/api/salinmas/pickups/{p}/accept");
    let before = env.fingerprint();
    for (body, st, code) in [
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY, "missing_field"),
        (
            json!({"collector_id": kedung}),
            StatusCode::CONFLICT,
            "outside_service_area",
        ),
        (
            json!({"collector_id": 999}),
            StatusCode::NOT_FOUND,
            "unknown_collector",
        ),
        (
            json!({"collector_id": soka, "scheduled_date": "2026-03-01"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_date",
        ),
        (
            json!({"collector_id": soka, "scheduled_date": "2026-12-01"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_date",
        ),
        (
            json!({"collector_id": soka, "when": "now"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ] {
        let (got, e) = env
            .call("POST", &accept, &env.officer, Some(body.clone()))
            .await;
        assert_eq!((got, e["code"].as_str()), (st, Some(code)), "{body}");
    }
    let (st, _) = env.call("POST", &accept, &h, None).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "households do not accept");
    assert_eq!(env.fingerprint(), before);
    let a = env
        .ok(
            "POST",
            &accept,
            &env.officer,
            Some(json!({"collector_id": soka, "scheduled_date": "2026-03-03"})),
        )
        .await;
    assert_eq!(
        (a["collector_id"].as_i64(), a["date"].as_str()),
        (Some(soka), Some("2026-03-03"))
    );

    let hist = env
        .ok(
            "GET",
            &format!("/api/salinmas/history/pickup/{p}"),
            &env.officer,
            None,
        )
        .await;
    let actions: Vec<&str> = hist
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["request", "accept"]);
    assert_eq!(hist[1]["details"]["date"], "2026-03-03");
    assert_eq!(hist[1]["actor"], "petugas");
    assert_eq!(hist[1]["at_ms"], at("2026-03-02T07:00"));
    let acc = env
        .ok(
            "GET",
            &format!("/api/salinmas/history/account/{a1}"),
            &env.officer,
            None,
        )
        .await;
    assert_eq!(acc[0]["action"], "create");
    let seeded = env
        .ok(
            "GET",
            "/api/salinmas/history/kelurahan/Sokanegara",
            &env.officer,
            None,
        )
        .await;
    assert_eq!(
        (seeded[0]["actor"].as_str(), seeded[0]["role"].as_str()),
        (Some("migration"), Some("system"))
    );
    let (st, _) = env
        .call(
            "GET",
            &format!("/api/salinmas/history/pickup/{p}"),
            &h,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, e) = env
        .call("GET", "/api/salinmas/history/users/1", &env.officer, None)
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_entity"))
    );
}

/// A whole number written as 5000.0 is the integer JSON Schema says it is; a
/// fraction is refused; an account that does not exist is 404 (issue 14:
/// schemathesis found both).
#[tokio::test]
async fn integral_floats_are_integers_and_missing_references_are_404() {
    let env = Env::new();
    let p = env
        .ok(
            "POST",
            "/api/salinmas/prices",
            &env.officer,
            Some(json!({"category": "plastic", "price_per_kg_rp": 5000.0, "valid_from": "2026-03-10"})),
        )
        .await;
    assert_eq!(p["price_per_kg_rp"], 5000, "{p}");
    let (st, e) = env
        .call(
            "POST",
            "/api/salinmas/prices",
            &env.officer,
            Some(json!({"category": "plastic", "price_per_kg_rp": 5000.5, "valid_from": "2026-03-11"})),
        )
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body")),
        "{e}"
    );
    let (st, e) = env
        .call(
            "POST",
            "/api/salinmas/accounts/4242/payouts",
            &env.officer,
            Some(json!({"amount_rp": 1000.0, "method": "cash"})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
}
