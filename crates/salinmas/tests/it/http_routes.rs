//! A collector's day route over HTTP: order and ETAs, unreachable stops and
//! a failing road graph.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use satria_auth::{AccessFilter, Role};
use satria_salinmas::{StraightLine, order_stops, path_cost, time};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::*;

on_each_backend!(#[tokio::test] async fn a_days_route_is_ordered_with_etas);
async fn a_days_route_is_ordered_with_etas(backend: Backend) {
    let Some(env) = Env::on(backend) else {
        return;
    };
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

on_each_backend!(#[tokio::test] async fn unreachable_stops_and_a_failing_road_graph);
async fn unreachable_stops_and_a_failing_road_graph(backend: Backend) {
    use satria_salinmas::DriveTimes as _;
    let Some(env) = Env::on(backend) else {
        return;
    };
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
        .store(|s| {
            s.route(
                &p,
                ksm,
                time::parse_date("2026-03-02").unwrap(),
                Some((-7.4189, 109.2300)),
                &islands,
            )
        })
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
