//! Bad input: a 4xx with a reason and nothing changed, generated input never a
//! server error, and one check for every door (issue 14, items 6-11): the same
//! refusal through HTTP and the WebSocket.

use crate::support::{CREW_UNIT, Client, SCENE, Server, incident_body};
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{Value, json};

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
