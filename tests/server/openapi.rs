//! The OpenAPI document and the server agree: statuses, types and limits, and
//! the rules the server checks on a request by itself (as schemathesis relies on).

use crate::support::{CREW_UNIT, SCENE, Server, incident_body};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The OpenAPI document tells the truth: every operation's success status is
/// the one the server answers, path ids are typed, limits come from the engine's
/// constants, and every status the server gives to generated requests is
/// documented for that operation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_matches_the_server_statuses_types_and_limits() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let crew = s.login("crew1").await;
    let (_, doc) = s.call("get", "/api/openapi.json", None, None).await;
    let op_doc = |method: &str, path: &str| doc["paths"][path][method].clone();
    let documented = |method: &str, path: &str, st: StatusCode| {
        op_doc(method, path)["responses"]
            .get(st.as_u16().to_string())
            .is_some()
    };
    // Successes, as the server answers them.
    let (st, inc) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(SCENE.0, SCENE.1, "kuning")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert!(documented("post", "/api/incidents", st));
    let id = inc["id"].as_u64().unwrap();
    let (st, _) = s
        .call(
            "post",
            &format!("/api/units/{CREW_UNIT}/position"),
            Some(&crew),
            Some(json!({"lat": SCENE.0, "lon": SCENE.1})),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert!(documented("post", "/api/units/{id}/position", st));
    assert!(!documented(
        "post",
        "/api/units/{id}/position",
        StatusCode::OK
    ));
    let (st, _) = s
        .call("get", &format!("/api/incidents/{id}"), Some(&d), None)
        .await;
    assert!(documented("get", "/api/incidents/{id}", st));
    let (st, _) = s
        .call(
            "post",
            "/api/units",
            Some(&d),
            Some(
                json!({"id": "UJI-09", "call_sign": "Uji 9", "unit_type": "bls", "owner": "psc",
                "base_name": "Pos uji", "base_lat": SCENE.0, "base_lon": SCENE.1}),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert!(documented("post", "/api/units", st));
    let (st, _) = s.call("post", "/api/auth/logout", Some(&crew), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert!(documented("post", "/api/auth/logout", st));
    // Path ids.
    let param =
        |method: &str, path: &str| op_doc(method, path)["parameters"][0]["schema"]["type"].clone();
    assert_eq!(param("get", "/api/incidents/{id}"), "integer");
    assert_eq!(param("post", "/api/referrals/{id}/answer"), "integer");
    assert_eq!(param("post", "/api/pattas/cases/{id}/verify"), "integer");
    assert_eq!(
        param("post", "/api/salinmas/pickups/{id}/collect"),
        "integer"
    );
    assert_eq!(param("post", "/api/units/{id}/status"), "string");
    // Limits from the engine's constants: one limit for notes.
    let body = |method: &str, path: &str| {
        op_doc(method, path)["requestBody"]["content"]["application/json"]["schema"].clone()
    };
    let create = body("post", "/api/incidents");
    assert_eq!(
        create["properties"]["notes"]["maxLength"],
        satria_dispatch::validate::MAX_NOTES
    );
    assert_eq!(
        body("patch", "/api/incidents/{id}")["properties"]["notes"]["maxLength"],
        satria_dispatch::validate::MAX_NOTES
    );
    assert_eq!(
        create["properties"]["caller_name"]["maxLength"],
        satria_dispatch::validate::MAX_NAME
    );
    assert_eq!(create["properties"]["caller_name"]["minLength"], 1);
    assert_eq!(
        create["properties"]["patients"]["maximum"],
        satria_dispatch::validate::MAX_PATIENTS
    );
    assert_eq!(
        body("post", "/api/incidents/{id}/assign")["properties"]["unit_ids"]["maxItems"],
        satria_dispatch::validate::MAX_ASSIGN_UNITS
    );
    let referral = body("post", "/api/referrals");
    assert_eq!(
        referral["properties"]["form"]["properties"]["condition"]["properties"]["gcs"]["maximum"],
        satria_dispatch::referral::GCS.1
    );
    assert_eq!(
        referral["properties"]["patient"]["properties"]["name"]["maxLength"],
        satria_dispatch::validate::MAX_NAME
    );
    let (st, b) = s
        .call(
            "patch",
            &format!("/api/incidents/{id}"),
            Some(&d),
            Some(json!({"notes": "x".repeat(satria_dispatch::validate::MAX_NOTES + 1)})),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let (st, _) = s
        .call(
            "patch",
            &format!("/api/incidents/{id}"),
            Some(&d),
            Some(json!({"notes": "x".repeat(satria_dispatch::validate::MAX_NOTES)})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    // Every operation, every documented refusal: each status the server gives
    // to wrong, missing and malformed input is documented for it, in the error
    // shape.
    let admin = s.login("admin").await;
    let mut seen = 0;
    for op in satria_server::openapi::all_operations() {
        let entry = op_doc(op.method, op.path);
        assert!(entry.is_object(), "{} {} documented", op.method, op.path);
        assert!(
            entry["responses"].get(op.status.to_string()).is_some(),
            "{} {}",
            op.method,
            op.path
        );
        for (token, idv, body) in [
            (None, "1", None),
            (Some(&admin), "999999", Some("{}")),
            (Some(&admin), "x", Some("{\"x\":")),
            (Some(&admin), "1", Some("[]")),
        ] {
            if op.path == "/api/auth/logout" {
                continue;
            }
            let path = op
                .path
                .split('/')
                .map(|seg| if seg.starts_with('{') { idv } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            let url = format!("{}{path}", s.base);
            let rq = match op.method {
                "get" => s.http.get(url),
                "post" => s.http.post(url),
                _ => s.http.patch(url),
            };
            let rq = match token {
                Some(t) => rq.bearer_auth(t),
                None => rq,
            };
            let rq = match (op.body.is_some(), body) {
                (true, Some(b)) => rq.header("content-type", "application/json").body(b),
                _ => rq,
            };
            let r = rq.send().await.unwrap();
            let st = r.status();
            let b: Value = r.json().await.unwrap_or(Value::Null);
            assert!(
                documented(op.method, op.path, st),
                "{} {path}: {st} is not documented: {b}",
                op.method
            );
            if st.is_client_error() {
                assert!(b["code"].is_string(), "{} {path}: {b}", op.method);
            }
            seen += 1;
        }
    }
    assert!(seen > 200);
    s.stop().await;
}

/// The served document states what the server checks on a request by itself:
/// closed sets, bounds of query values and path ids, the service area of the
/// running engine, the either/or rules of a body; logout documents its 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_states_the_rules_the_server_checks() {
    let s = Server::start().await;
    let (st, doc) = s.call("get", "/api/openapi.json", None, None).await;
    assert_eq!(st, StatusCode::OK);
    let op = |method: &str, path: &str| doc["paths"][path][method].clone();
    let param = |method: &str, path: &str, name: &str| {
        op(method, path)["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path} {name}"))["schema"]
            .clone()
    };
    let body = |method: &str, path: &str| {
        op(method, path)["requestBody"]["content"]["application/json"]["schema"].clone()
    };
    assert_eq!(
        param("get", "/api/incidents", "status")["enum"],
        json!(["open", "closed", "all"])
    );
    let limit = param("get", "/api/incidents", "limit");
    assert_eq!(
        (limit["minimum"].clone(), limit["maximum"].clone()),
        (json!(1), json!(satria_server::api::MAX_INCIDENT_LIST))
    );
    let id = param("get", "/api/incidents/{id}", "id");
    assert_eq!(
        (id["minimum"].clone(), id["maximum"].clone()),
        (json!(1), json!(satria_http::MAX_PATH_ID))
    );
    assert_eq!(
        param("get", "/api/incidents/{id}/route", "to")["enum"],
        json!(["incident", "hospital"])
    );
    assert_eq!(
        param("get", "/api/salinmas/history/{entity}/{id}", "entity")["enum"],
        json!(satria_salinmas::HISTORY_ENTITIES)
    );
    assert_eq!(param("get", "/api/pattas/cases", "limit")["minimum"], 1);
    assert!(
        param("get", "/api/salinmas/prices", "date")["pattern"]
            .as_str()
            .unwrap()
            .starts_with("^(20[0-9]{2}|2100)-")
    );
    assert!(
        op("post", "/api/auth/logout")["responses"]
            .get("401")
            .is_some()
    );
    // Latitudes and longitudes: exactly the box the engine accepts.
    let area = s.state.engine.snapshot().config().service_area.unwrap();
    let g = area.grown(s.state.engine.snapshot().config().service_margin_m);
    let create = body("post", "/api/incidents");
    assert_eq!(create["properties"]["lat"]["minimum"], json!(g.min_lat));
    assert_eq!(create["properties"]["lat"]["maximum"], json!(g.max_lat));
    assert_eq!(create["properties"]["lon"]["minimum"], json!(g.min_lon));
    assert_eq!(
        body("post", "/api/units/{id}/position")["properties"]["lon"]["maximum"],
        json!(g.max_lon)
    );
    // Either/or rules of the bodies.
    assert_eq!(create["else"]["properties"]["patients"]["minimum"], 1);
    assert!(body("post", "/api/incidents/{id}/assign")["anyOf"].is_array());
    assert_eq!(
        body("post", "/api/units/{id}/status")["then"]["required"],
        json!(["reason"])
    );
    assert_eq!(
        body("post", "/api/pattas/cases")["oneOf"],
        json!([{"required": ["beneficiary_id"]}, {"required": ["nik"]}])
    );
    s.stop().await;
}
