//! The access log of personal data: reads are recorded (with the health
//! reports), and personal data is refused, over HTTP and to open consoles,
//! while the log cannot be written.

use crate::support::{Client, SCENE, Server, add_user, incident_body, is_event};
use futures_util::StreamExt;
use reqwest::StatusCode;
use satria_auth::Role;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_of_personal_data_are_recorded_and_health_is_reported() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let (_, inc) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(SCENE.0, SCENE.1, "hijau")),
        )
        .await;
    let id = inc["id"].as_u64().unwrap();
    let (st, _) = s
        .call("get", &format!("/api/incidents/{id}"), Some(&d), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s.call("get", "/api/incidents", Some(&d), None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, ready) = s.call("get", "/readyz", None, None).await;
    assert_eq!(st, StatusCode::OK, "{ready}");
    assert_eq!(ready["journal_readable"], true);
    let (st, doc) = s.call("get", "/api/openapi.json", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/incidents/{id}/recommendations"]["get"].is_object());
    let auth = Arc::clone(&s.state.auth);
    s.stop().await;
    // Stopping flushed the access log.
    let log = auth
        .access_log(
            &satria_auth::AccessFilter {
                username: Some("dispatcher1".into()),
                ..Default::default()
            },
            100,
        )
        .unwrap();
    let subjects: Vec<&str> = log.iter().map(|e| e.subject.as_str()).collect();
    assert!(
        subjects.contains(&format!("incident:{id}").as_str()),
        "{subjects:?}"
    );
    assert!(
        log.iter()
            .any(|e| e.action == "list" && e.subject.contains(&id.to_string()))
    );
    auth.verify_access_log().unwrap();
}

/// A listing and a console's snapshot show many incidents at once: each one
/// shown is a row of its own, so "who saw incident N" finds them all (a list
/// in one row was found only by its first id, and with some 600 incidents a
/// snapshot's list outgrew PostgreSQL's index rows and stopped the log).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_incident_a_listing_or_snapshot_shows_is_recorded_on_its_own() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let mut ids = Vec::new();
    for k in 0..3 {
        let (_, inc) = s
            .call(
                "post",
                "/api/incidents",
                Some(&d),
                Some(incident_body(
                    SCENE.0 + f64::from(k) * 0.001,
                    SCENE.1,
                    "hijau",
                )),
            )
            .await;
        ids.push(inc["id"].as_u64().unwrap());
    }
    let (st, list) = s.call("get", "/api/incidents", Some(&d), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 3);
    // A seq from another journal: the console gets a snapshot.
    let (mut c, w) = Client::connect(&s, &d, s.last_seq() + 1000).await;
    assert_eq!(w["mode"], "snapshot");
    let snap = c.next().await;
    assert_eq!(snap["state"]["incidents"].as_array().unwrap().len(), 3);
    drop(c);
    let auth = Arc::clone(&s.state.auth);
    s.stop().await;
    for id in ids {
        let subject = format!("incident:{id}");
        let rows = auth
            .access_log(
                &satria_auth::AccessFilter {
                    subject_prefix: Some(subject.clone()),
                    ..Default::default()
                },
                100,
            )
            .unwrap();
        let shown: Vec<(&str, &str)> = rows
            .iter()
            .filter(|e| e.subject == subject && e.username == "dispatcher1")
            .map(|e| (e.action.as_str(), e.purpose.as_str()))
            .collect();
        assert!(
            shown.contains(&("list", "GET /api/incidents")),
            "{subject}: {shown:?}"
        );
        assert!(
            shown.contains(&("receive", "websocket snapshot")),
            "{subject}: {shown:?}"
        );
    }
    let all = auth
        .access_log(&satria_auth::AccessFilter::default(), 1000)
        .unwrap();
    assert!(!all.iter().any(|e| e.subject.contains(',')), "{all:?}");
    auth.verify_access_log().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_is_refused_while_the_access_log_cannot_be_written() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let (st, _) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(SCENE.0, SCENE.1, "merah")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    add_user(&s, "pattas1", Role::PattasOfficer, None);
    let officer = s.login("pattas1").await;
    let (st, b) = s
        .call(
            "post",
            "/api/pattas/beneficiaries",
            Some(&officer),
            Some(json!({
                "nik": "3302015403560001", "name": "Sukarti (uji)", "date_of_birth": "1956-03-14",
                "sex": "P", "desa": "Kedungwuluh", "kecamatan": "Purwokerto Barat", "rt": "3",
                "rw": "02", "phone": "0812-3456-7890", "dtks": true, "bpjs": "pbi",
                "conditions": ["gagal ginjal kronis"]
            })),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let beneficiary = format!("/api/pattas/beneficiaries/{}", b["id"]);
    // An open console, reading all along (as a browser does) until it is closed.
    let (console, _) = Client::connect(&s, &d, s.last_seq()).await;
    let console = tokio::spawn(async move {
        let mut ws = console.ws;
        let (mut goodbye, mut frames) = (None, Vec::new());
        while let Some(m) = ws.next().await {
            match m.unwrap() {
                Message::Text(t) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["type"] == "goodbye" {
                        goodbye = Some(v);
                    } else {
                        frames.push(v);
                    }
                }
                Message::Close(f) => return (goodbye, f.map(|f| u16::from(f.code)), frames),
                _ => {}
            }
        }
        (goodbye, None, frames)
    });

    // Another connection holds the write lock: every write to the access log
    // fails (SQLITE_BUSY after the store's busy timeout), as on a full disk.
    let lock = rusqlite::Connection::open(s._dir.path().join("auth.sqlite")).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();

    let r = s
        .http
        .get(format!("{}/api/incidents", s.base))
        .bearer_auth(&d)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "access_log_unavailable", "{body}");
    assert!(body["message"].as_str().unwrap().contains("access log"));
    assert!(!body["message_id"].as_str().unwrap().is_empty());
    assert!(
        !body.to_string().contains("081390001119"),
        "no personal data"
    );
    // A module's read fails closed the same way.
    let (st, body) = s.call("get", &beneficiary, Some(&officer), None).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "access_log_unavailable");
    assert!(!body.to_string().contains("Sukarti"), "no personal data");

    // The open console gets no personal frame: it is closed (1013) instead.
    let (st, _) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(SCENE.0 - 0.02, SCENE.1, "kuning")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (goodbye, code, frames) = tokio::time::timeout(Duration::from_secs(30), console)
        .await
        .expect("the console is closed")
        .unwrap();
    assert_eq!(goodbye.unwrap()["code"], "access_log_unavailable");
    assert_eq!(code, Some(1013));
    assert!(
        !frames.iter().any(|f| is_event(f, "incident_created")),
        "{frames:?}"
    );
    // And a new one is refused at hello while the log fails.
    let (mut refused, first) = Client::connect(&s, &d, s.last_seq()).await;
    assert_eq!(first["type"], "error");
    assert_eq!(first["code"], "access_log_unavailable");
    let (_, code, _, _) = refused.until_closed().await;
    assert_eq!(code, 1013);

    // The log recovers: the same read is answered and recorded.
    lock.execute_batch("ROLLBACK").unwrap();
    drop(lock);
    let since = satria_server::now_ms();
    let (st, list) = s.call("get", "/api/incidents", Some(&d), None).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 2);
    let log = s
        .state
        .auth
        .access_log(
            &satria_auth::AccessFilter {
                subject_prefix: Some("incident:".into()),
                username: Some("dispatcher1".into()),
                since_ms: Some(since),
            },
            10,
        )
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "list" && e.purpose == "GET /api/incidents"),
        "{log:?}"
    );
    let (st, body) = s.call("get", &beneficiary, Some(&officer), None).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Sukarti (uji)");
    // Consoles are welcome again once the log is known to work.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_c, first) = Client::connect(&s, &d, s.last_seq()).await;
        if first["type"] == "welcome" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still refused: {first}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let m = s.call("get", "/metrics", None, None).await.1;
    let m = m.as_str().unwrap();
    assert!(!m.contains("satria_access_log_failures_total 0\n"), "{m}");
    assert!(m.contains("satria_access_log_healthy 1"), "{m}");
    s.stop().await;
}
