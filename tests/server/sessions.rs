//! Sessions reach open sockets: revocation (by another process), logout and
//! expiry close them; race-free login lockout; a console that stops reading
//! is dropped, and a frame over 64 KiB gets close 1009.

use crate::support::{
    CREW_UNIT, Client, PASSWORD, SCENE, Server, assigned_incident, incident_body, is_event,
};
use futures_util::SinkExt;
use reqwest::StatusCode;
use satria_server::ServerOptions;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crew_revoked_by_another_process_is_closed_and_gets_nothing_more() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let crew = s.login("crew1").await;
    let (mut c, w) = Client::connect(&s, &crew, s.last_seq()).await;
    assert_eq!(w["type"], "welcome");

    // `satria user revoke` is another process: another handle on the file.
    let revoked_at = std::time::Instant::now();
    s.other_auth_handle()
        .revoke_user("crew1", satria_server::now_ms())
        .unwrap();
    let (goodbye, code, reason, _) = c.until_closed().await;
    eprintln!("revoked socket closed after {:?}", revoked_at.elapsed());
    let goodbye = goodbye.expect("a goodbye before the close");
    assert_eq!(goodbye["code"], "session_revoked");
    assert!(goodbye["message"].as_str().unwrap().contains("revoked"));
    assert!(goodbye["message_id"].as_str().unwrap().contains("dicabut"));
    assert_eq!((code, reason.as_str()), (4401, "session_revoked"));

    // The dispatcher assigns the crew's unit: nothing reaches the old socket.
    assigned_incident(&s, &d, CREW_UNIT, SCENE.0).await;
    assert!(c.delivers_nothing_more().await);
    let m = s.call("get", "/metrics", None, None).await.1;
    assert!(
        m.as_str()
            .unwrap()
            .contains("satria_ws_closed_session_ended_total 1"),
        "{m}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledgement_sent_after_revocation_is_not_applied() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let crew = s.login("crew2").await;
    let (mut c, _) = Client::connect(&s, &crew, s.last_seq()).await;
    let id = assigned_incident(&s, &d, "PSC-02", SCENE.0 - 0.01).await;
    c.until(|f| f["type"] == "incident").await;

    // Revoked by another process, and at once the crew acknowledges: the
    // server checks the store before applying anything but a position.
    s.other_auth_handle()
        .revoke_user("crew2", satria_server::now_ms())
        .unwrap();
    c.send(
        json!({"type": "command", "client_id": "ack-after-revoke", "command":
        {"type": "acknowledge_assignment", "incident": id, "unit": "PSC-02"}}),
    )
    .await;
    let (goodbye, code, _, frames) = c.until_closed().await;
    assert_eq!(goodbye.unwrap()["code"], "session_revoked");
    assert_eq!(code, 4401);
    assert!(
        !frames.iter().any(|f| f["type"] == "ack"),
        "no acknowledgement answered: {frames:?}"
    );
    let (st, tl) = s
        .call(
            "get",
            &format!("/api/incidents/{id}/timeline"),
            Some(&d),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        !tl.to_string().contains("assignment_acknowledged"),
        "the acknowledgement was journaled: {tl}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_closes_that_sessions_sockets_only() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let d_other = s.login("dispatcher1").await;
    let (mut c, _) = Client::connect(&s, &d, s.last_seq()).await;
    let (mut keep, _) = Client::connect(&s, &d_other, s.last_seq()).await;

    let (st, _) = s.call("post", "/api/auth/logout", Some(&d), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (goodbye, code, reason, _) = c.until_closed().await;
    let goodbye = goodbye.unwrap();
    assert_eq!(goodbye["code"], "logged_out");
    assert!(!goodbye["message_id"].as_str().unwrap().is_empty());
    assert_eq!((code, reason.as_str()), (4401, "logged_out"));

    // Events after the logout reach the other session, not the closed one.
    let (st, _) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d_other),
            Some(incident_body(SCENE.0, SCENE.1, "hijau")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    keep.until(|f| is_event(f, "incident_created")).await;
    assert!(c.delivers_nothing_more().await);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_closes_its_socket() {
    let cfg = satria_auth::AuthConfig {
        session_ttl_ms: 1_500,
        ..satria_auth::AuthConfig::default()
    };
    let s = Server::start_with(cfg, ServerOptions::default()).await;
    let d = s.login("dispatcher1").await;
    let (mut c, w) = Client::connect(&s, &d, s.last_seq()).await;
    assert_eq!(w["type"], "welcome");
    let (goodbye, code, reason, _) = c.until_closed().await;
    assert_eq!(goodbye.unwrap()["code"], "session_expired");
    assert_eq!((code, reason.as_str()), (4401, "session_expired"));
    // And the token is refused by HTTP as well.
    let (st, _) = s.call("get", "/api/me", Some(&d), None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_logins_check_no_more_guesses_than_allowed_and_429_says_when() {
    let s = Server::start().await;
    let max = satria_auth::AuthConfig::default().max_failures as usize;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (http, base) = (s.http.clone(), s.base.clone());
        let password = if i == 39 {
            PASSWORD
        } else {
            "salah-sekali-119"
        };
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(format!("{base}/api/auth/login"))
                .json(&json!({"username": "dispatcher1", "password": password}))
                .send()
                .await
                .unwrap();
            let retry = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            let status = r.status();
            let body: Value = r.json().await.unwrap();
            (status, retry, body)
        }));
    }
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
    for t in tasks {
        let (status, retry, body) = t.await.unwrap();
        *by_status.entry(status.as_u16()).or_default() += 1;
        match status {
            StatusCode::TOO_MANY_REQUESTS => {
                let secs: u64 = retry.expect("Retry-After on every 429").parse().unwrap();
                assert!((1..=300).contains(&secs), "Retry-After {secs}");
                assert_eq!(body["code"], "rate_limited");
                assert!(body["message_id"].as_str().unwrap().contains("detik"));
            }
            StatusCode::UNAUTHORIZED => assert_eq!(body["code"], "invalid_credentials"),
            StatusCode::OK => {}
            other => panic!("unexpected {other}: {body}"),
        }
    }
    eprintln!("40 parallel logins answered {by_status:?}");
    let n = |c: u16| by_status.get(&c).copied().unwrap_or(0);
    // A success clears the count, as it always did: should the right password
    // be checked before some wrong ones were counted, `max` more may follow.
    assert!(n(200) <= 1, "{by_status:?}");
    let allowed = max * (1 + n(200));
    assert!(
        n(401) <= allowed,
        "{by_status:?}: more guesses checked than allowed"
    );
    assert_eq!(n(401) + n(429) + n(200), 40, "{by_status:?}");
    assert!(n(429) >= 40 - allowed - n(200), "{by_status:?}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_that_stops_reading_is_dropped_and_a_reading_one_is_not() {
    let opts = ServerOptions {
        max_ws_lag: Duration::from_secs(2),
        ..ServerOptions::default()
    };
    let s = Server::start_with(satria_auth::AuthConfig::default(), opts).await;
    let d1 = s.login("dispatcher1").await;
    let d2 = s.login("dispatcher2").await;
    // The stalled console: a raw socket that says hello and then never reads.
    let (mut stalled, _) = tokio_tungstenite::connect_async(&s.ws).await.unwrap();
    stalled
        .send(Message::text(
            json!({"type": "hello", "token": d1, "last_seq": s.last_seq()}).to_string(),
        ))
        .await
        .unwrap();
    // The reading console, in its own task, counting incident events.
    let (mut reader, _) = Client::connect(&s, &d2, s.last_seq()).await;
    let (seen_tx, mut seen_rx) = tokio::sync::watch::channel(0u64);
    let reading = tokio::spawn(async move {
        let mut n = 0u64;
        loop {
            let f = reader.next().await;
            if is_event(&f, "incident_created") {
                n += 1;
                let _ = seen_tx.send(n);
            }
        }
    });

    // Events flow until the server gives up on the stalled console.
    let dropped = |s: &Server| {
        s.state
            .metrics
            .ws_dropped_lagging
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let mut created = 0u64;
    let started = tokio::time::Instant::now();
    let deadline = started + Duration::from_secs(60);
    while dropped(&s) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "never dropped");
        let lat = SCENE.0 - 0.004 * (created % 50) as f64;
        let lon = SCENE.1 + 0.004 * (created / 50) as f64;
        let (st, body) = s
            .call(
                "post",
                "/api/incidents",
                Some(&d2),
                Some(incident_body(lat, lon, "hijau")),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
        created += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "stalled console dropped after {created} incidents, {:?} of flow",
        started.elapsed()
    );
    // The reading console keeps up, and hears what comes next.
    let (st, _) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d2),
            Some(incident_body(SCENE.0 + 0.01, SCENE.1, "hijau")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    created += 1;
    tokio::time::timeout(Duration::from_secs(10), seen_rx.wait_for(|n| *n == created))
        .await
        .expect("the reading console got every event")
        .unwrap();
    assert_eq!(dropped(&s), 1, "only the stalled console was dropped");
    reading.abort();

    // The stalled console finds, once it reads, a goodbye and close code 4408.
    let mut c = Client { ws: stalled };
    let (goodbye, code, reason, _) = c.until_closed().await;
    assert_eq!(goodbye.unwrap()["code"], "lagging");
    assert_eq!((code, reason.as_str()), (4408, "lagging"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_over_64_kib_gets_close_1009() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let (mut c, _) = Client::connect(&s, &d, s.last_seq()).await;
    let big = format!(
        "{{\"type\":\"command\",\"client_id\":\"x\",\"pad\":\"{}\"}}",
        "a".repeat(70 * 1024)
    );
    c.ws.send(Message::text(big)).await.unwrap();
    let (_, code, reason, _) = c.until_closed().await;
    assert_eq!(code, 1009);
    assert!(reason.contains("64 KiB"), "{reason}");
    s.stop().await;
}
