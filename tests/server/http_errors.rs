//! HTTP refusals in the one error shape: a bad query string, a huge body (413)
//! and an unsupported method (405); 409 for a state conflict, 422 for a request
//! wrong in itself.

use crate::support::{CREW_UNIT, SCENE, Server, incident_body};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

/// Query-string errors are in the error shape, not text/plain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_query_string_gets_the_json_error_shape() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    for path in [
        // Not an integer at all (an integer out of range is a 422: paging.rs).
        "/api/incidents?limit=1.5",
        "/api/incidents?limit=x",
        "/api/incidents?bogus=1",
        "/api/reports/response-times?from=1",
        "/api/reports/response-times?from=a&to=b",
        "/api/incidents/1/route?bogus=1",
    ] {
        let r = s
            .http
            .get(format!("{}{path}", s.base))
            .bearer_auth(&d)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "application/json",
            "{path}"
        );
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["code"], "invalid_query", "{path}: {b}");
        assert!(b["message_id"].as_str().unwrap().contains("kueri"), "{b}");
    }
    let (st, _) = s
        .call("get", "/api/incidents?limit=3", Some(&d), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    s.stop().await;
}

/// A 10 MiB body gets 413 in the error shape, read by the client (no reset);
/// DELETE and other methods a path does not serve get 405 in the error shape with
/// an Allow header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_body_gets_413_and_an_unsupported_method_405_in_the_error_shape() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let before = s.last_seq();
    // A chunked body of 10 MiB over a raw socket: the server reads it to the end
    // and answers 413; the client's writes never hit a reset connection.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = s.base.strip_prefix("http://").unwrap();
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /api/incidents HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {d}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        let chunk = vec![b' '; 64 * 1024];
        for _ in 0..160 {
            tcp.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await
                .expect("the server still reads");
            tcp.write_all(&chunk).await.expect("the server still reads");
            tcp.write_all(b"\r\n")
                .await
                .expect("the server still reads");
        }
        tcp.write_all(b"0\r\n\r\n").await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), tcp.read_to_end(&mut answer))
            .await
            .expect("an answer within 30 s")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("\"body_too_large\""), "{answer}");
    }
    for path in [
        "/api/incidents",
        "/api/units/PSC-01/position",
        "/api/pattas/cases",
        "/api/salinmas/pickups",
    ] {
        let r = s
            .http
            .post(format!("{}{path}", s.base))
            .bearer_auth(&d)
            .header("content-type", "application/json")
            .body(vec![b' '; 10 * 1024 * 1024])
            .send()
            .await
            .expect("an answer, not a reset connection");
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["code"], "body_too_large", "{b}");
        assert!(!b["message_id"].as_str().unwrap().is_empty());
    }
    // The connection pool still works afterwards.
    let (st, _) = s.call("get", "/api/incidents", Some(&d), None).await;
    assert_eq!(st, StatusCode::OK);
    for (method, path, allow) in [
        (reqwest::Method::DELETE, "/api/incidents/1", "GET,PATCH"),
        (reqwest::Method::DELETE, "/api/units", "GET,POST"),
        (reqwest::Method::PUT, "/api/referrals/1", "GET"),
        (reqwest::Method::DELETE, "/api/pattas/cases/1", "GET"),
    ] {
        let r = s
            .http
            .request(method.clone(), format!("{}{path}", s.base))
            .bearer_auth(&d)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        let got = r.headers()["allow"].to_str().unwrap().replace(' ', "");
        for m in allow.split(',') {
            assert!(got.contains(m), "{method} {path}: Allow {got}");
        }
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["code"], "method_not_allowed", "{b}");
        assert!(!b["message_id"].as_str().unwrap().is_empty());
    }
    assert_eq!(s.last_seq(), before);
    s.stop().await;
}

/// 409 for a refusal that depends on the current state, 422 only for a request
/// wrong in itself; a path id beyond what the document allows is 400; a whole
/// number written as 3.0 is an integer; an empty report window is empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_conflicts_are_409_and_schema_valid_values_are_accepted() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let before = s
        .state
        .engine
        .snapshot()
        .unit(&satria_dispatch::UnitId(CREW_UNIT.into()))
        .map(|u| format!("{:?}", u.status));
    // An available unit cannot report "on scene": a transition not allowed now.
    let (st, b) = s
        .call(
            "post",
            &format!("/api/units/{CREW_UNIT}/status"),
            Some(&d),
            Some(json!({"status": "on_scene"})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{b}");
    assert_eq!(b["code"], "invalid_transition");
    assert!(!b["message_id"].as_str().unwrap().is_empty());
    let after = s
        .state
        .engine
        .snapshot()
        .unit(&satria_dispatch::UnitId(CREW_UNIT.into()))
        .map(|u| format!("{:?}", u.status));
    assert_eq!(before, after, "nothing changed");
    // A device time later than the server's clock allows is invalid against
    // the clock, 422 (as in every module, docs/http.md); so is a negative one.
    let (st, b) = s
        .call(
            "post",
            &format!("/api/units/{CREW_UNIT}/status"),
            Some(&d),
            Some(json!({"status": "out_of_service", "reason": "servis", "device_at": 32_503_680_000_000_i64})),
        )
        .await;
    assert_eq!(
        (st, b["code"].clone()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!("device_time_in_future")
        ),
        "{b}"
    );
    let (st, b) = s
        .call(
            "post",
            &format!("/api/units/{CREW_UNIT}/status"),
            Some(&d),
            Some(json!({"status": "out_of_service", "reason": "servis", "device_at": -5})),
        )
        .await;
    assert_eq!(
        (st, b["code"].clone()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!("device_time_too_early")
        ),
        "{b}"
    );
    // Path ids: 0 and 19 digits are outside 1..=MAX_PATH_ID.
    for bad in ["0", "1000000000000000000"] {
        let (st, b) = s
            .call("get", &format!("/api/incidents/{bad}"), Some(&d), None)
            .await;
        assert_eq!(
            (st, b["code"].clone()),
            (StatusCode::BAD_REQUEST, json!("invalid_id")),
            "{bad}: {b}"
        );
    }
    // 424242.0 is the integer 424242, not a bad body: an incident to merge into
    // that does not exist. The body names it, so 422; 404 is for the record
    // the path names (docs/http.md).
    let (st, inc) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(SCENE.0, SCENE.1, "kuning")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let id = inc["id"].as_u64().unwrap();
    let (st, b) = s
        .call(
            "post",
            &format!("/api/incidents/{id}/merge"),
            Some(&d),
            Some(json!({"into": 424242.0})),
        )
        .await;
    assert_eq!(
        (st, b["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("unknown_incident")),
        "{b}"
    );
    let (st, b) = s
        .call(
            "post",
            "/api/incidents/424242/merge",
            Some(&d),
            Some(json!({"into": id})),
        )
        .await;
    assert_eq!(
        (st, b["code"].clone()),
        (StatusCode::NOT_FOUND, json!("unknown_incident")),
        "the path names the missing incident: {b}"
    );
    let (st, b) = s
        .call(
            "post",
            &format!("/api/incidents/{id}/assign"),
            Some(&d),
            Some(json!({"unit_id": "TIDAK-ADA"})),
        )
        .await;
    assert_eq!(
        (st, b["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("unknown_unit")),
        "{b}"
    );
    let (st, b) = s
        .call(
            "post",
            "/api/units/TIDAK-ADA/status",
            Some(&d),
            Some(json!({"status": "on_scene"})),
        )
        .await;
    assert_eq!(
        (st, b["code"].clone()),
        (StatusCode::NOT_FOUND, json!("unknown_unit")),
        "{b}"
    );
    let (st, b) = s
        .call(
            "post",
            &format!("/api/incidents/{id}/merge"),
            Some(&d),
            Some(json!({"into": 1.5})),
        )
        .await;
    assert_eq!(
        (st, b["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid_body")),
        "{b}"
    );
    // An empty window holds no incident.
    let (st, b) = s
        .call(
            "get",
            "/api/reports/response-times?from=2026-03-02T00:00:00Z&to=2026-03-02T00:00:00Z",
            Some(&d),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["groups"], json!([]));
    s.stop().await;
}
