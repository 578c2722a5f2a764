//! Journal integrity (issue 14 item 4): a chain break the operator accepted shows
//! a banner to every role until an admin acknowledges it.

use crate::support::{CREW_UNIT, PASSWORD, tamper_payload};
use reqwest::StatusCode;
use satria_auth::{AuthStore, NewUser, Role};
use satria_dispatch::{StraightLine, demo_fleet, demo_hospitals};
use satria_engine::{Clock, Engine, EngineOptions};
use satria_server::{AppState, ServerOptions};
use serde_json::{Value, json};
use std::sync::Arc;

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
