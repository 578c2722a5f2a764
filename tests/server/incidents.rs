//! An incident as the consoles live it: from the call to the handover with two
//! dispatch consoles that see the same events, a console that reconnects, and
//! the crew's messages applied once with bad positions refused.

use crate::support::{
    CREW_UNIT, Client, SCENE, Server, incident_body, is_event, referral_body, region_events,
};
use futures_util::SinkExt;
use reqwest::StatusCode;
use satria_dispatch::demo_fleet;
use serde_json::json;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_from_call_to_handover_with_two_consoles_that_see_the_same_events() {
    let s = Server::start().await;
    let d1 = s.login("dispatcher1").await;
    let d2 = s.login("dispatcher2").await;
    let crew = s.login("crew1").await;
    let hosp = s.login("hospital1").await;
    let start = s.last_seq();
    let (mut c1, w1) = Client::connect(&s, &d1, start).await;
    let (mut c2, _) = Client::connect(&s, &d2, start).await;
    let (mut cc, wc) = Client::connect(&s, &crew, start).await;
    let (mut ch, _) = Client::connect(&s, &hosp, start).await;
    assert_eq!(w1["type"], "welcome");
    assert_eq!(w1["mode"], "replay");
    assert_eq!(wc["user"]["unit"], CREW_UNIT);

    // The call.
    let (st, inc) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d1),
            Some(incident_body(SCENE.0, SCENE.1, "kuning")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{inc}");
    let id = inc["id"].as_u64().unwrap();
    assert_eq!(inc["caller_phone"], "081390001119");
    assert_eq!(inc["status"], "open", "{inc}");

    // Recommendations: in ETA order, PSC-01 first (it is nearest), with exclusions.
    let (st, rec) = s
        .call(
            "get",
            &format!("/api/incidents/{id}/recommendations"),
            Some(&d1),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{rec}");
    let cands = rec["candidates"].as_array().unwrap();
    assert!(!cands.is_empty());
    let etas: Vec<u64> = cands.iter().map(|c| c["eta_s"].as_u64().unwrap()).collect();
    assert!(etas.windows(2).all(|w| w[0] <= w[1]), "ETA order: {etas:?}");
    assert_eq!(cands[0]["unit_id"], CREW_UNIT);
    assert!(cands[0]["distance_m"].as_u64().is_some());

    // Assign; the crew hears of it with the incident, the consoles too.
    let (st, _) = s
        .call(
            "post",
            &format!("/api/incidents/{id}/assign"),
            Some(&d1),
            Some(json!({"unit_id": CREW_UNIT})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let got = cc.until(|f| f["type"] == "incident").await;
    assert!(got.iter().any(|f| is_event(f, "unit_assigned")));
    assert_eq!(got.last().unwrap()["incident"]["id"], id);
    // The crew never saw the incident_created event (it was not theirs then).
    assert!(!got.iter().any(|f| is_event(f, "incident_created")));

    // The crew acknowledges and drives.
    let now = satria_server::now_ms();
    let a = cc
        .command("c1", json!({"type": "acknowledge_assignment", "incident": id, "unit": CREW_UNIT, "device_at": now}))
        .await;
    assert_eq!(a["type"], "ack", "{a}");
    for (i, status) in ["on_scene", "at_patient"].iter().enumerate() {
        let a = cc
            .command(&format!("s{i}"), json!({"type": "report_status", "unit": CREW_UNIT, "status": status, "device_at": now}))
            .await;
        assert_eq!(a["type"], "ack", "{status}: {a}");
    }

    // The referral; the hospital sees it with the patient, and accepts.
    let (st, r) = s
        .call(
            "post",
            "/api/referrals",
            Some(&d1),
            Some(referral_body(id, &s.hospital, CREW_UNIT)),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let rid = r["id"].as_u64().unwrap();
    let got = ch.until(|f| is_event(f, "referral_sent")).await;
    let sent = got.last().unwrap();
    assert_eq!(sent["event"]["referral"]["patient"]["name"], "Slamet");
    // The hospital learns nothing of the call itself.
    assert!(
        !got.iter()
            .any(|f| is_event(f, "incident_created") || is_event(f, "unit_assigned"))
    );
    let (st, ans) = s
        .call(
            "post",
            &format!("/api/referrals/{rid}/answer"),
            Some(&hosp),
            Some(json!({"accept": true, "officer": "dr. Sari"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{ans}");

    for (i, status) in [
        "transporting",
        "at_destination",
        "transfer_of_care",
        "available",
    ]
    .iter()
    .enumerate()
    {
        let a = cc
            .command(&format!("t{i}"), json!({"type": "report_status", "unit": CREW_UNIT, "status": status, "device_at": now}))
            .await;
        assert_eq!(a["type"], "ack", "{status}: {a}");
    }
    let (st, closed) = s
        .call(
            "post",
            &format!("/api/incidents/{id}/close"),
            Some(&d1),
            Some(json!({"outcome": "diserahkan ke IGD"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{closed}");

    // Both consoles saw the same region events, contiguous, ending with the close.
    let e1 = region_events(&c1.until(|f| is_event(f, "incident_closed")).await);
    let e2 = region_events(&c2.until(|f| is_event(f, "incident_closed")).await);
    assert_eq!(e1, e2);
    let seqs: Vec<u64> = e1.iter().map(|e| e.0).collect();
    assert_eq!(seqs, ((start + 1)..=s.last_seq()).collect::<Vec<_>>());
    let kinds: Vec<&str> = e1.iter().map(|e| e.1["type"].as_str().unwrap()).collect();
    for k in [
        "incident_created",
        "unit_assigned",
        "assignment_acknowledged",
        "referral_sent",
        "referral_accepted",
        "handover_recorded",
        "incident_closed",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let pos = |k: &str| kinds.iter().position(|x| *x == k).unwrap();
    assert!(pos("incident_created") < pos("unit_assigned"));
    assert!(pos("unit_assigned") < pos("assignment_acknowledged"));
    assert!(pos("referral_sent") < pos("referral_accepted"));
    assert!(pos("referral_accepted") < pos("handover_recorded"));

    // The hospital saw the handover of its referral.
    ch.until(|f| is_event(f, "handover_recorded")).await;

    // The timeline tells the story, to the crew too.
    let (st, tl) = s
        .call(
            "get",
            &format!("/api/incidents/{id}/timeline"),
            Some(&crew),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(tl.as_array().unwrap().len() >= 6, "{tl}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_that_reconnects_misses_nothing_and_sees_nothing_twice() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let (mut c, _) = Client::connect(&s, &d, 0).await;
    // From 0: the whole journal is replayed (the fleet registration).
    let first = c
        .until(|f| f["seq"].as_u64() == Some(s.last_seq()) && f["stream"] == "region:banyumas")
        .await;
    let seen: Vec<u64> = region_events(&first).iter().map(|e| e.0).collect();
    assert_eq!(seen, (1..=s.last_seq()).collect::<Vec<_>>());
    let (st, _) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(SCENE.0, SCENE.1, "hijau")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let got = c.until(|f| is_event(f, "incident_created")).await;
    let last_seen = got.last().unwrap()["seq"].as_u64().unwrap();
    // Forced disconnect: the socket is dropped without a close handshake.
    drop(c);
    for i in 0..5 {
        let (st, _) = s
            .call(
                "post",
                "/api/incidents",
                Some(&d),
                Some(incident_body(
                    SCENE.0 - 0.05 * f64::from(i + 1),
                    SCENE.1,
                    "hijau",
                )),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
    }
    let head = s.last_seq();
    let (mut c, w) = Client::connect(&s, &d, last_seen).await;
    assert_eq!(w["mode"], "replay");
    // One more, live, after the reconnect.
    let (st, inc) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(-7.30, 109.10, "kuning")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let live_id = inc["id"].clone();
    let got = c
        .until(|f| is_event(f, "incident_created") && f["event"]["incident"]["id"] == live_id)
        .await;
    let seqs: Vec<u64> = region_events(&got).iter().map(|e| e.0).collect();
    assert_eq!(
        seqs,
        ((last_seen + 1)..=s.last_seq()).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
    assert!(s.last_seq() > head);

    // A seq from another journal gets a snapshot instead.
    let (mut c2, w) = Client::connect(&s, &d, s.last_seq() + 1000).await;
    assert_eq!(w["mode"], "snapshot");
    let snap = c2.next().await;
    assert_eq!(snap["type"], "snapshot");
    assert_eq!(snap["seq"].as_u64(), Some(s.last_seq()));
    assert_eq!(snap["state"]["incidents"].as_array().unwrap().len(), 7);
    assert_eq!(
        snap["state"]["units"].as_array().unwrap().len(),
        demo_fleet().len()
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crews_messages_are_applied_once_and_bad_positions_are_refused() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let crew = s.login("crew1").await;
    let (_, inc) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(SCENE.0, SCENE.1, "kuning")),
        )
        .await;
    let id = inc["id"].as_u64().unwrap();
    s.call(
        "post",
        &format!("/api/incidents/{id}/assign"),
        Some(&d),
        Some(json!({"unit_id": CREW_UNIT})),
    )
    .await;
    let (mut c, _) = Client::connect(&s, &crew, s.last_seq()).await;
    let ack = json!({"type": "acknowledge_assignment", "incident": id, "unit": CREW_UNIT});
    let a1 = c.command("same-id", ack.clone()).await;
    assert_eq!(a1["type"], "ack");
    let after = s.last_seq();
    // The reconnect and the resend.
    drop(c);
    let (mut c, _) = Client::connect(&s, &crew, after).await;
    let a2 = c.command("same-id", ack).await;
    assert_eq!(a2["type"], "ack");
    assert_eq!(a2["duplicate"], true);
    assert_eq!(a2["events"], a1["events"]);
    assert_eq!(s.last_seq(), after, "applied once");

    let now = satria_server::now_ms();
    let ok = c.command("p1", json!({"type": "update_position", "unit": CREW_UNIT, "at": {"lat": -7.4250, "lon": 109.2370}, "device_at": now})).await;
    assert_eq!(ok["type"], "ack", "{ok}");
    for (cid, at, device_at, code) in [
        (
            "p2",
            json!({"lat": 95.0, "lon": 109.2}),
            now,
            "invalid_position",
        ),
        (
            "p3",
            json!({"lat": -7.4251, "lon": 109.2371}),
            now + 3_600_000,
            "device_time_in_future",
        ),
        (
            "p4",
            json!({"lat": -6.2, "lon": 106.8}),
            now + 1000,
            "implausible_position",
        ),
    ] {
        let e = c.command(cid, json!({"type": "update_position", "unit": CREW_UNIT, "at": at, "device_at": device_at})).await;
        assert_eq!(e["type"], "error", "{cid}");
        assert_eq!(e["code"], code, "{cid}: {e}");
    }
    // Garbage does not end the connection.
    c.send(json!({"type": "launch_rockets"})).await;
    let e = c.next().await;
    assert_eq!(e["code"], "invalid_message");
    c.ws.send(Message::text("{not json")).await.unwrap();
    let e = c.next().await;
    assert_eq!(e["code"], "invalid_message");
    let ok = c.command("p5", json!({"type": "update_position", "unit": CREW_UNIT, "at": {"lat": -7.4252, "lon": 109.2372}, "device_at": now + 2000})).await;
    assert_eq!(ok["type"], "ack", "{ok}");
    // Position-only batches refresh the snapshot within 200 ms.
    let mut fix = None;
    for _ in 0..50 {
        let snap = s.state.engine.snapshot();
        fix = snap
            .unit(&satria_dispatch::UnitId(CREW_UNIT.into()))
            .unwrap()
            .last_fix;
        if fix.is_some_and(|f| f.at.lat == -7.4252) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fix = fix.expect("the accepted position reached the state");
    assert_eq!((fix.at.lat, fix.at.lon), (-7.4252, 109.2372));

    // A burst sent without waiting is answered in order, one answer each; more
    // positions than the position memory holds do not push the acknowledgement
    // of the assignment out of it.
    const BURST: usize = 1000;
    for k in 0..BURST {
        c.send(json!({"type": "command", "client_id": format!("burst-{k}"), "command": {"type": "update_position", "unit": CREW_UNIT, "at": {"lat": -7.4252, "lon": 109.2372}, "device_at": now + 2000 + k as i64}})).await;
    }
    let mut last = 0;
    for k in 0..BURST {
        let mut a = c.next().await;
        while a["type"] == "event" {
            a = c.next().await;
        }
        assert_eq!(a["type"], "ack", "{a}");
        assert_eq!(a["client_id"], format!("burst-{k}"));
        assert_eq!(a["events"][0]["stream"], "positions");
        let seq = a["events"][0]["seq"].as_u64().unwrap();
        assert!(seq > last, "position seqs increase: {seq} after {last}");
        last = seq;
    }
    let again = c
        .command(
            "same-id",
            json!({"type": "acknowledge_assignment", "incident": id, "unit": CREW_UNIT}),
        )
        .await;
    assert_eq!(again["duplicate"], true, "{again}");
    assert_eq!(again["events"], a1["events"]);

    let (_, m) = s.call("get", "/metrics", None, None).await;
    let m = m.as_str().unwrap().to_string();
    assert!(m.contains("satria_ws_rejected_messages_total 5"), "{m}");
    assert!(m.contains("satria_ws_duplicate_messages_total 2"), "{m}");
    assert!(m.contains("satria_ws_open{role=\"crew\"} 1"));
    assert!(m.contains("satria_http_request_duration_seconds_bucket{group=\"incidents\""));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archived_incident_leaves_the_consoles_and_still_reads_whole_from_the_store() {
    let s = Server::start_tuned(|o| o.config.archive_after_s = 1).await;
    let d = s.login("dispatcher1").await;
    let crew = s.login("crew1").await;
    let (st, inc) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(SCENE.0, SCENE.1, "hijau")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{inc}");
    let id = inc["id"].as_u64().unwrap();
    let (c, _) = Client::connect(&s, &d, s.last_seq()).await;
    let mut c = c;
    let (st, _) = s
        .call(
            "post",
            &format!("/api/incidents/{id}/cancel"),
            Some(&d),
            Some(json!({"reason": "salah sambung"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, live) = s
        .call("get", &format!("/api/incidents/{id}"), Some(&d), None)
        .await;
    let (_, live_timeline) = s
        .call(
            "get",
            &format!("/api/incidents/{id}/timeline"),
            Some(&d),
            None,
        )
        .await;
    // A second later the tick archives it, and the console is told.
    let frames = c.until(|f| is_event(f, "incident_archived")).await;
    let archived = frames.last().unwrap();
    assert_eq!(archived["event"]["incident"], id, "{archived}");
    let (_, list) = s
        .call("get", "/api/incidents?status=all", Some(&d), None)
        .await;
    assert!(
        list.as_array().unwrap().iter().all(|i| i["id"] != id),
        "{list}"
    );
    // The same record and timeline, read from the archive stream.
    let (st, body) = s
        .call("get", &format!("/api/incidents/{id}"), Some(&d), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body, live);
    let (st, timeline) = s
        .call(
            "get",
            &format!("/api/incidents/{id}/timeline"),
            Some(&d),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(timeline, live_timeline);
    // A crew not sent to it learns nothing, as before; an unknown id is still 404.
    let (st, _) = s
        .call("get", &format!("/api/incidents/{id}"), Some(&crew), None)
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = s.call("get", "/api/incidents/999", Some(&d), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // A command naming it finds nothing to change.
    let (st, body) = s
        .call(
            "post",
            &format!("/api/incidents/{id}/close"),
            Some(&d),
            Some(json!({"outcome": "x"})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{body}");
    // Operators see what the live state holds and what left it.
    let m = s.call("get", "/metrics", None, None).await.1;
    let m = m.as_str().unwrap();
    assert!(m.contains("\nsatria_incidents_live 0\n"), "{m}");
    assert!(m.contains("\nsatria_incidents_archived 1\n"), "{m}");
    assert!(m.contains("\nprocess_resident_memory_bytes "), "{m}");
    let auth = std::sync::Arc::clone(&s.state.auth);
    s.stop().await;
    // Both reads of the archived record were recorded, like those of the live one.
    let log = auth
        .access_log(
            &satria_auth::AccessFilter {
                username: Some("dispatcher1".into()),
                ..Default::default()
            },
            100,
        )
        .unwrap();
    let reads = log
        .iter()
        .filter(|e| e.action == "read" && e.subject == format!("incident:{id}"))
        .count();
    assert_eq!(reads, 2, "{log:?}");
}
