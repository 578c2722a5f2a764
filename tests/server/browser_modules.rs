//! The Pattas and Salinmas pages in a real headless browser: starts the server
//! on 127.0.0.1 port 0 with both modules open (`open_modules`), the demo
//! hospitals and fleet and known test users; creates a Salinmas household
//! account and collector group through the API (as a Salinmas officer) and
//! binds a household and a collector login to them (`subject`); then runs
//! `node tests/browser/modules.mjs` (playwright-core driving Debian's
//! /usr/bin/chromium). Screenshots go to `target/browser-artifacts/`.
//!
//! Without node, chromium or `tests/browser/node_modules` the test is skipped,
//! unless `SATRIA_BROWSER_TESTS=1`: then it fails.

use crate::support::browser::{self as harness, token};
use crate::support::{PASSWORD, add_account};
use satria_auth::{AuthStore, Role};
use satria_dispatch::{StraightLine, demo_fleet, demo_hospitals};
use satria_engine::{Clock, Engine, EngineOptions};
use satria_server::{AppState, ServerOptions};
use serde_json::{Value, json};
use std::sync::Arc;

fn add_user(auth: &AuthStore, name: &str, role: Role, subject: Option<String>) {
    add_account(auth, name, role, None, None, subject);
}

async fn post(http: &reqwest::Client, base: &str, token: &str, path: &str, body: Value) -> Value {
    let r = http
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert!(status.is_success(), "POST {path}: {status} {v}");
    v
}

#[test]
fn module_pages_in_headless_chromium() {
    if !harness::ready() {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut opts = EngineOptions::new(dir.path());
    opts.initial_units = demo_fleet();
    opts.hospitals = demo_hospitals();
    opts.tick_ms = 200;
    let engine =
        Arc::new(Engine::start(opts, Box::new(StraightLine::default()), Clock::system()).unwrap());
    let auth = Arc::new(AuthStore::open(&dir.path().join("auth.sqlite")).unwrap());
    add_user(&auth, "pattas1", Role::PattasOfficer, None);
    add_user(&auth, "mitra1", Role::PattasMitra, None);
    add_user(&auth, "salinmas1", Role::SalinmasOfficer, None);
    let state = AppState::new(
        engine,
        Arc::clone(&auth),
        dir.path().to_path_buf(),
        ServerOptions::default(),
        true,
    );
    // tests/browser.rs runs the consoles only; these pages need the modules.
    state.open_modules().expect("open Pattas and Salinmas");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(satria_server::serve(listener, Arc::clone(&state), async {
        let _ = stopped.await;
    }));

    // A household account and a KSM in Sokanegara, made by the officer; the
    // household and collector logins are bound to them.
    let (account, ksm) = rt.block_on(async {
        let http = reqwest::Client::new();
        let so = token(&http, &base, "salinmas1").await;
        let a = post(
            &http,
            &base,
            &so,
            "/api/salinmas/accounts",
            json!({
                "kind": "household", "name": "Rumah Uji Browser", "kelurahan": "Sokanegara",
                "rt": "2", "rw": "4", "address": "Jl. Melati 7", "lat": -7.4189, "lon": 109.2336,
                "phone": "0812-2700-1190"
            }),
        )
        .await;
        let g = post(
            &http,
            &base,
            &so,
            "/api/salinmas/collectors",
            json!({"name": "KSM Uji Browser", "kelurahan": ["Sokanegara"], "phone": "+6281327001191"}),
        )
        .await;
        (a["id"].as_i64().unwrap(), g["id"].as_i64().unwrap())
    });
    add_user(
        &auth,
        "rumah1",
        Role::SalinmasHousehold,
        Some(account.to_string()),
    );
    add_user(
        &auth,
        "ksm1",
        Role::SalinmasCollector,
        Some(ksm.to_string()),
    );

    let run = harness::run_node(
        "modules.mjs",
        &[
            ("SATRIA_URL", base.clone()),
            ("SATRIA_PATTAS", format!("pattas1:{PASSWORD}")),
            ("SATRIA_MITRA", format!("mitra1:{PASSWORD}")),
            ("SATRIA_HOUSEHOLD", format!("rumah1:{PASSWORD}")),
            ("SATRIA_COLLECTOR", format!("ksm1:{PASSWORD}")),
            ("SATRIA_SALINMAS_OFFICER", format!("salinmas1:{PASSWORD}")),
        ],
    );
    let (status, out) = (run.status, run.out);
    let _ = stop.send(());
    let _ = rt.block_on(server);
    let status = status.expect("the browser flow hung for 5 minutes and was stopped");
    assert!(
        status.success(),
        "the module flow failed ({status}); see the output above and target/browser-artifacts/"
    );
    for check in [
        "ok pattas login",
        "ok server validation message",
        "ok beneficiary registered",
        "ok case reported",
        "ok case verified",
        "ok english toggle",
        "ok assistance recorded",
        "ok transport booked",
        "ok transport cancelled",
        "ok mitra reported by NIK",
        "ok salinmas english toggle",
        "ok household pickup requested",
        "ok collector accepted",
        "ok route lists the pickup",
        "ok collected and credited",
        "ok salinmas officer page",
    ] {
        assert!(out.contains(check), "the flow did not report {check:?}");
    }
    assert!(out.contains("module flow passed"));
}
