//! The web consoles in a real headless browser: starts the server on 127.0.0.1
//! port 0 with the demo hospitals, the demo fleet topped up to 60 units, a small
//! generated road grid (so the map has roads and routes follow them) and known
//! test users, then runs `node tests/browser/flow.mjs` (playwright-core driving
//! Debian's /usr/bin/chromium): one flow across the dispatcher console, the crew
//! app and the hospital board. Screenshots go to `target/browser-artifacts/`.
//!
//! `SATRIA_BROWSER_GRAPH=target/bench-data/banyumas-demo.graph` runs the same
//! flow on the whole demo region instead of the grid.
//!
//! Without node, chromium or `tests/browser/node_modules` the test is skipped,
//! unless `SATRIA_BROWSER_TESTS=1` (as `.ci/run` sets): then it fails.

use crate::support::browser::{self as harness, token};
use crate::support::{CREW_UNIT, PASSWORD, add_account, tamper_payload};
use satria_auth::{AuthStore, Role};
use satria_dispatch::{LatLon, Owner, StraightLine, Unit, UnitType, demo_fleet, demo_hospitals};
use satria_engine::{Clock, Engine, EngineOptions};
use satria_server::{AppState, ServerOptions};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// How many units the console shows (the figure).
const FLEET: usize = 60;

/// The demo fleet topped up to [`FLEET`] units at fixed places around Purwokerto.
fn fleet() -> Vec<Unit> {
    let mut units = demo_fleet();
    let mut k = 0u32;
    while units.len() < FLEET {
        k += 1;
        let (i, j) = (f64::from(k % 8), f64::from(k / 8));
        units.push(Unit::new(
            &format!("SIM-{k:02}"),
            &format!("Simulasi {k:02}"),
            UnitType::Bls,
            Owner::Volunteer,
            "Posko simulasi",
            LatLon {
                lat: -7.62 + 0.045 * j,
                lon: 109.02 + 0.06 * i,
            },
            &[],
        ));
    }
    units
}

/// A small road grid around the PSC base (OSM XML), imported like a real map:
/// the map draws roads by class and routes follow them.
fn road_grid(dir: &Path) -> satria_roads::RoadNetwork {
    let (rows, cols) = (13usize, 13usize);
    let mut xml = String::from("<?xml version='1.0'?>\n<osm version='0.6'>\n");
    let id = |r: usize, c: usize| r * cols + c + 1;
    for r in 0..rows {
        for c in 0..cols {
            let lat = -7.47 + 0.0075 * r as f64;
            let lon = 109.19 + 0.0085 * c as f64;
            xml.push_str(&format!(
                "<node id='{}' lat='{lat:.6}' lon='{lon:.6}'/>\n",
                id(r, c)
            ));
        }
    }
    let mut way = 1_000_000;
    let class = |i: usize| match i {
        6 => "primary",
        3 | 9 => "secondary",
        _ => "residential",
    };
    for r in 0..rows {
        way += 1;
        xml.push_str(&format!("<way id='{way}'>"));
        for c in 0..cols {
            xml.push_str(&format!("<nd ref='{}'/>", id(r, c)));
        }
        xml.push_str(&format!(
            "<tag k='highway' v='{}'/><tag k='name' v='Jalan {r}'/></way>\n",
            class(r)
        ));
    }
    for c in 0..cols {
        way += 1;
        xml.push_str(&format!("<way id='{way}'>"));
        for r in 0..rows {
            xml.push_str(&format!("<nd ref='{}'/>", id(r, c)));
        }
        xml.push_str(&format!("<tag k='highway' v='{}'/></way>\n", class(c)));
    }
    xml.push_str("</osm>\n");
    let path = dir.join("grid.osm");
    std::fs::write(&path, xml).unwrap();
    let (graph, _) =
        satria_roads::import(&path, satria_roads::ImportOptions::default(), &mut |_| {})
            .expect("the road grid imports");
    satria_roads::RoadNetwork::new(graph)
}

/// The test accounts (all with [`PASSWORD`]) in a fresh auth store under `dir`:
/// (username, role, bound unit, bound hospital).
fn accounts(dir: &Path, users: &[(&str, Role, Option<&str>, Option<&str>)]) -> Arc<AuthStore> {
    let auth = Arc::new(AuthStore::open(&dir.join("auth.sqlite")).unwrap());
    for (name, role, unit, hospital) in users {
        add_account(&auth, name, *role, *unit, *hospital, None);
    }
    auth
}

#[test]
fn consoles_in_headless_chromium() {
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
    opts.initial_units = fleet();
    opts.hospitals = demo_hospitals();
    opts.tick_ms = 200;
    let hospital = opts.hospitals[0].id.0.clone();
    let engine =
        Arc::new(Engine::start(opts, Box::new(StraightLine::default()), Clock::system()).unwrap());
    let auth = accounts(
        dir.path(),
        &[
            ("dispatcher1", Role::Dispatcher, None, None),
            ("crew1", Role::Crew, Some(CREW_UNIT), None),
            ("hospital1", Role::Hospital, None, Some(&hospital)),
        ],
    );
    let state = AppState::new(
        engine,
        auth,
        dir.path().to_path_buf(),
        // a demo server: the crew app offers its simulated drive
        ServerOptions {
            service: satria_server::ServiceMode::Demo,
            ..ServerOptions::default()
        },
        true,
    );
    // SATRIA_BROWSER_GRAPH=path/to/banyumas-demo.graph runs the same flow on a
    // real road graph (how the README's map figure is measured).
    let net = match std::env::var_os("SATRIA_BROWSER_GRAPH") {
        Some(g) => satria_roads::RoadNetwork::load(Path::new(&g)).expect("load the graph"),
        None => road_grid(dir.path()),
    };
    println!("road graph: {} junctions", net.graph.node_count());
    let _ = state.roads.set(Arc::new(net));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(satria_server::serve(listener, Arc::clone(&state), async {
        let _ = stopped.await;
    }));

    // The server builds the map payload when it starts; a dispatcher opens the
    // console after that, so the flow starts once it is ready (and says when).
    let t = Instant::now();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let tok = token(&http, &format!("http://{addr}"), "dispatcher1").await;
        let r = http
            .get(format!("http://{addr}/api/map/roads"))
            .bearer_auth(tok)
            .header("Accept-Encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let n = r.bytes().await.unwrap().len();
        println!(
            "map payload ready {} ms after the server started: {n} bytes gzip",
            t.elapsed().as_millis()
        );
    });
    let run = harness::run_node(
        "flow.mjs",
        &[
            ("SATRIA_URL", format!("http://{addr}")),
            ("SATRIA_DISPATCHER", format!("dispatcher1:{PASSWORD}")),
            ("SATRIA_CREW", format!("crew1:{PASSWORD}")),
            ("SATRIA_HOSPITAL", format!("hospital1:{PASSWORD}")),
            ("SATRIA_CREW_UNIT", CREW_UNIT.to_string()),
            ("SATRIA_HOSPITAL_ID", hospital.clone()),
            ("SATRIA_FLEET", FLEET.to_string()),
        ],
    );
    let (status, out) = (run.status, run.out);
    let _ = stop.send(());
    let _ = rt.block_on(server);
    let status = status.expect("the browser flow hung for 5 minutes and was stopped");
    assert!(
        status.success(),
        "the browser flow failed ({status}); see the output above and target/browser-artifacts/"
    );
    for check in [
        "ok login routes each role",
        "ok map drawn",
        "ok language toggle",
        "ok incident created",
        "ok duplicate warning",
        "ok unit assigned",
        "ok position reports",
        "ok crew acknowledged",
        "ok offline queue",
        "ok referral sent",
        "ok hospital accepted",
        "ok handover",
        "ok reconnect resumes",
        "ok route to hospital",
        "ok decline with a reason",
    ] {
        assert!(out.contains(check), "the flow did not report {check:?}");
    }
    assert!(out.contains("browser flow passed"));
}

/// Starts a server (with or without the road grid) and returns its base URL,
/// the stop handle and the server task.
struct Plain {
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

async fn plain_server(with_roads: bool) -> Plain {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = EngineOptions::new(dir.path());
    opts.initial_units = demo_fleet();
    opts.hospitals = demo_hospitals();
    let engine =
        Arc::new(Engine::start(opts, Box::new(StraightLine::default()), Clock::system()).unwrap());
    let auth = accounts(
        dir.path(),
        &[
            ("dispatcher1", Role::Dispatcher, None, None),
            ("crew1", Role::Crew, Some(CREW_UNIT), None),
            ("mitra", Role::PattasMitra, None, None),
        ],
    );
    let state = AppState::new(
        engine,
        auth,
        dir.path().to_path_buf(),
        ServerOptions::default(),
        true,
    );
    if with_roads {
        let _ = state.roads.set(Arc::new(road_grid(dir.path())));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(satria_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    Plain {
        base: format!("http://{addr}"),
        stop,
        task,
        _dir: dir,
    }
}

fn gunzip(b: &[u8]) -> serde_json::Value {
    let mut s = String::new();
    flate2::read::GzDecoder::new(b)
        .read_to_string(&mut s)
        .unwrap();
    serde_json::from_str(&s).unwrap()
}

/// The pages and the map data over plain HTTP: runs everywhere, no browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_map_data_over_http() {
    let http = reqwest::Client::new();
    for with_roads in [false, true] {
        let s = plain_server(with_roads).await;
        let base = &s.base;
        // Pages: every console, its type, a CSP that allows nothing from outside,
        // an ETag that answers 304.
        for (path, ty) in [
            ("/", "text/html"),
            ("/dispatch.html", "text/html"),
            ("/crew.html", "text/html"),
            ("/hospital.html", "text/html"),
            ("/app.js", "text/javascript"),
            ("/map.js", "text/javascript"),
            ("/style.css", "text/css"),
        ] {
            let r = http.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            let h = r.headers().clone();
            assert!(
                h["content-type"].to_str().unwrap().starts_with(ty),
                "{path}"
            );
            assert_eq!(h["cache-control"], "no-cache");
            if ty == "text/html" {
                let csp = h["content-security-policy"].to_str().unwrap();
                assert!(csp.contains("default-src 'self'") && !csp.contains("http"));
            }
            let etag = h["etag"].to_str().unwrap().to_string();
            let r = http
                .get(format!("{base}{path}"))
                .header("If-None-Match", &etag)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 304, "{path} revalidates");
        }
        let body = http
            .get(format!("{base}/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "no CDN"
        );
        // Unknown paths keep the API's error shape.
        let r = http.get(format!("{base}/nope.html")).send().await.unwrap();
        assert_eq!(r.status(), 404);

        // The map: authenticated, gzip when accepted, roads only with a graph.
        let r = http
            .get(format!("{base}/api/map/roads"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let mitra = token(&http, base, "mitra").await;
        let r = http
            .get(format!("{base}/api/map/roads"))
            .bearer_auth(&mitra)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "a Pattas partner sees no dispatch map");
        let crew = token(&http, base, "crew1").await;
        let r = http
            .get(format!("{base}/api/map/roads"))
            .bearer_auth(&crew)
            .header("Accept-Encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-encoding"], "gzip");
        let m = gunzip(&r.bytes().await.unwrap());
        assert_eq!(m["kecamatan"].as_array().unwrap().len(), 27);
        assert!(!m["hospitals"].as_array().unwrap().is_empty());
        let classes = m["classes"].as_array().unwrap();
        if with_roads {
            let names: Vec<_> = classes
                .iter()
                .map(|c| c["class"].as_str().unwrap())
                .collect();
            assert_eq!(names, ["primary", "secondary", "residential"]);
            // Each line: a start in 1e-5 degree, then deltas; the grid's corner is on it.
            let line = classes[0]["lines"][0].as_array().unwrap();
            assert!(line.len() >= 4 && line.len().is_multiple_of(2));
            let (lon, lat) = (line[0].as_i64().unwrap(), line[1].as_i64().unwrap());
            assert!((10_919_000..=10_930_000).contains(&lon), "{lon}");
            assert!((-747_000..=-738_000).contains(&lat), "{lat}");
        } else {
            assert!(classes.is_empty(), "no graph: an empty road layer");
        }
        let r = http
            .get(format!("{base}/api/map/roads"))
            .bearer_auth(&crew)
            .send()
            .await
            .unwrap();
        assert!(r.headers().get("content-encoding").is_none());
        let plain: serde_json::Value = r.json().await.unwrap();
        assert_eq!(plain, m, "the same map with and without gzip");

        let places: serde_json::Value = http
            .get(format!("{base}/api/map/places"))
            .bearer_auth(&crew)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let places = places["places"].as_array().unwrap();
        assert!(
            places
                .iter()
                .filter(|p| p["kind"] == "desa" || p["kind"] == "kelurahan")
                .count()
                > 300
        );

        // A route from the crew's unit to an incident: on the roads with a graph.
        let disp = token(&http, base, "dispatcher1").await;
        let inc: serde_json::Value = http
            .post(format!("{base}/api/incidents"))
            .bearer_auth(&disp)
            .json(&serde_json::json!({"caller_name": "Uji", "caller_phone": "0812", "lat": -7.43, "lon": 109.25,
                "address": "Jl. Uji", "triage": "kuning", "category": "medical"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = inc["id"].as_u64().unwrap();
        let r = http
            .get(format!("{base}/api/incidents/{id}/route"))
            .bearer_auth(&disp)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409, "no unit yet and none named");
        let route: serde_json::Value = http
            .get(format!("{base}/api/incidents/{id}/route?unit={CREW_UNIT}"))
            .bearer_auth(&disp)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(route["road"], with_roads);
        let path = route["path"].as_array().unwrap();
        assert!(if with_roads {
            path.len() > 2
        } else {
            path.len() == 2
        });
        assert!(route["distance_m"].as_f64().unwrap() > 500.0);
        // The crew may not see an incident it was never sent to.
        let r = http
            .get(format!("{base}/api/incidents/{id}/route?unit={CREW_UNIT}"))
            .bearer_auth(&crew)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);

        let _ = s.stop.send(());
        s.task.await.unwrap().unwrap();
    }
}

/// The accepted-break banner as a person sees it (issue 14 item 4): the engine
/// refuses a tampered journal, an operator accepts exactly the broken row, and
/// every console (dispatcher, crew phone, hospital, Pattas) shows the banner
/// until an admin acknowledges it (`tests/browser/integrity.mjs`).
#[test]
fn an_accepted_chain_break_shows_a_banner_on_every_console_until_an_admin_acknowledges() {
    if !harness::ready() {
        return;
    }
    const ROW: u64 = 3;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let start = |accept: Option<u64>| {
        let mut o = EngineOptions::new(dir.path());
        o.initial_units = demo_fleet();
        o.hospitals = demo_hospitals();
        o.accept_broken_row = accept;
        o.operator = "operator-shift-malam".into();
        Engine::start(o, Box::new(StraightLine::default()), Clock::system())
    };
    start(None).unwrap().shutdown();
    tamper_payload(dir.path(), ROW);
    assert!(
        matches!(
            start(None).unwrap_err(),
            satria_engine::EngineError::ChainBroken { row: ROW, .. }
        ),
        "the engine refuses the tampered journal, naming row {ROW}"
    );
    let engine = Arc::new(start(Some(ROW)).unwrap());
    let hospital = demo_hospitals()[0].id.0.clone();
    let auth = accounts(
        dir.path(),
        &[
            ("admin", Role::Admin, None, None),
            ("dispatcher1", Role::Dispatcher, None, None),
            ("crew1", Role::Crew, Some(CREW_UNIT), None),
            ("hospital1", Role::Hospital, None, Some(&hospital)),
            ("mitra", Role::PattasMitra, None, None),
        ],
    );
    let state = AppState::new(
        engine,
        auth,
        dir.path().to_path_buf(),
        ServerOptions::default(),
        true,
    );
    let _ = state.roads.set(Arc::new(road_grid(dir.path())));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(satria_server::serve(listener, Arc::clone(&state), async {
        let _ = stopped.await;
    }));
    let run = harness::run_node(
        "integrity.mjs",
        &[
            ("SATRIA_URL", format!("http://{addr}")),
            ("SATRIA_PASSWORD", PASSWORD.to_string()),
            ("SATRIA_ROW", ROW.to_string()),
        ],
    );
    let _ = stop.send(());
    let _ = rt.block_on(server);
    let status = run
        .status
        .expect("the integrity browser check hung for 5 minutes and was stopped");
    assert!(
        status.success(),
        "the integrity banner check failed ({status}); see the output above"
    );
    for check in [
        "ok banner on /dispatch.html",
        "ok banner on /crew.html",
        "ok banner on /hospital.html",
        "ok banner on /pattas/",
        "ok banner in English",
        "ok admin acknowledged",
        "ok banner gone for every console",
        "integrity banner passed",
    ] {
        assert!(
            run.out.contains(check),
            "the check did not report {check:?}"
        );
    }
}
