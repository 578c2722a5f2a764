//! Instants on the wire (docs/http.md, "Times"): every instant the server
//! answers, over HTTP and over the WebSocket, is an RFC 3339 string in UTC with
//! milliseconds; a client's `device_at` is read in that form with any offset,
//! and as the integer milliseconds older crew apps send.

use crate::support::{CREW_UNIT, Client, Server, assigned_incident, is_event};
use reqwest::StatusCode;
use satria_calendar::Timestamp;
use serde_json::{Value, json};

/// The instant `v` holds, asserting the wire form: `YYYY-MM-DDTHH:MM:SS.sssZ`.
fn instant(v: &Value) -> i64 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("an instant is a string: {v}"));
    assert_eq!(s.len(), 24, "{s}");
    assert!(s.ends_with('Z') && s.as_bytes()[19] == b'.', "{s}");
    Timestamp::parse(s)
        .unwrap_or_else(|| panic!("not RFC 3339: {s}"))
        .ms()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answered_instant_is_rfc3339_in_utc_and_device_times_are_read_with_their_offset() {
    let s = Server::start().await;
    let before = satria_server::now_ms();

    // The login answers when its session ends.
    let (st, login) = s
        .call(
            "post",
            "/api/auth/login",
            None,
            Some(json!({"username": "dispatcher1", "password": crate::support::PASSWORD})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{login}");
    assert!(login.get("expires_at_ms").is_none(), "{login}");
    assert!(instant(&login["expires_at"]) > before, "{login}");
    let d = login["token"].as_str().unwrap().to_string();
    let crew = s.login("crew1").await;
    let (mut cc, _) = Client::connect(&s, &crew, s.last_seq()).await;

    // An incident, as created and as read back.
    let id = assigned_incident(&s, &d, CREW_UNIT, -7.4240).await;
    let (st, inc) = s
        .call("get", &format!("/api/incidents/{id}"), Some(&d), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{inc}");
    let received = instant(&inc["received_at"]);
    assert!(received >= before, "{inc}");
    let a = &inc["assignments"][0];
    assert!(instant(&a["assigned_at"]) >= received, "{inc}");
    assert!(
        instant(&a["ack_deadline"]) > instant(&a["assigned_at"]),
        "{inc}"
    );

    // The crew hears of it in a frame whose instants have the same form.
    let frames = cc.until(|f| f["type"] == "incident").await;
    let assigned = frames
        .iter()
        .find(|f| is_event(f, "unit_assigned"))
        .expect("unit_assigned reaches the crew");
    assert_eq!(
        instant(&assigned["event"]["ack_deadline"]),
        instant(&a["ack_deadline"]),
        "{assigned}"
    );

    // A device time with an offset: 08:00 WIB is 01:00 UTC. One a minute from
    // now in WIB acknowledges; one an hour ahead is in the future.
    let wib = |ms: i64| {
        let t = Timestamp(ms + satria_calendar::WIB_OFFSET_MS).to_rfc3339();
        format!("{}+07:00", &t[..23])
    };
    let now = satria_server::now_ms();
    let (st, b) = s
        .call(
            "post",
            &format!("/api/units/{CREW_UNIT}/acknowledge"),
            Some(&crew),
            Some(json!({"incident": id, "device_at": wib(now + 3_600_000)})),
        )
        .await;
    assert_eq!(
        (st, b["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("device_time_in_future")
        ),
        "{b}"
    );
    // Without its offset a device time says nothing: the body is refused.
    let (st, b) = s
        .call(
            "post",
            &format!("/api/units/{CREW_UNIT}/acknowledge"),
            Some(&crew),
            Some(json!({"incident": id, "device_at": "2026-03-02T08:00:00"})),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(
        b["message"].as_str().unwrap().contains("RFC 3339"),
        "the refusal says what form is wanted: {b}"
    );
    let (st, b) = s
        .call(
            "post",
            &format!("/api/units/{CREW_UNIT}/acknowledge"),
            Some(&crew),
            Some(json!({"incident": id, "device_at": wib(now)})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");

    // The next status by the integer milliseconds an older crew app sends.
    let (st, b) = s
        .call(
            "post",
            &format!("/api/units/{CREW_UNIT}/status"),
            Some(&crew),
            Some(json!({"status": "on_scene", "device_at": now + 1_000})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, units) = s.call("get", "/api/units", Some(&d), None).await;
    assert_eq!(st, StatusCode::OK);
    let unit = units
        .as_array()
        .and_then(|u| u.iter().find(|u| u["id"] == CREW_UNIT))
        .unwrap_or_else(|| panic!("{units}"));
    assert_eq!(instant(&unit["status_device_at"]), now + 1_000, "{unit}");
    assert!(instant(&unit["status_at"]) >= now, "{unit}");

    // The response-time report takes its window as RFC 3339 and echoes it so.
    let from = Timestamp(received - 1).to_rfc3339();
    let to = Timestamp(received + 1).to_rfc3339();
    let (st, r) = s
        .call(
            "get",
            &format!("/api/reports/response-times?from={from}&to={to}"),
            Some(&d),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(
        (instant(&r["from"]), instant(&r["to"])),
        (received - 1, received + 1)
    );
    let counted: u64 = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["incidents"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(counted, 1, "the one incident in the window: {r}");
    // Milliseconds are no longer a window.
    let (st, r) = s
        .call(
            "get",
            &format!("/api/reports/response-times?from=0&to={}", received + 1),
            Some(&d),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{r}");
    s.stop().await;
}
