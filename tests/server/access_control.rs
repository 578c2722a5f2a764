//! Who may do what over HTTP: every unauthorised request is refused and learns
//! nothing, and a wrong role gets 403 before its body is read. (The WebSocket
//! side of the table is in `roles.rs`.)

use crate::support::{CREW_UNIT, Client, SCENE, Server, add_user, incident_body, referral_body};
use reqwest::StatusCode;
use satria_auth::Role;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_unauthorised_request_is_refused_and_learns_nothing() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    let crew = s.login("crew1").await;
    let crew2 = s.login("crew2").await;
    let hosp = s.login("hospital1").await;
    let mitra = s.login("mitra").await;
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
    let (_, r) = s
        .call(
            "post",
            "/api/referrals",
            Some(&d),
            Some(referral_body(id, &s.hospital, CREW_UNIT)),
        )
        .await;
    let rid = r["id"].as_u64().unwrap();
    let before = s.last_seq();

    // No token, a garbage token: 401 on every operation that needs one.
    for op in satria_server::openapi::OPERATIONS
        .iter()
        .filter(|o| !o.roles.is_empty())
    {
        let path = op.path.replace("{id}", &id.to_string());
        for token in [None, Some("not-a-token")] {
            let (st, body) = s
                .call(op.method, &path, token, op.body.map(|_| json!({})))
                .await;
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{} {path}: {body}", op.method);
            assert_eq!(body["code"], "unauthenticated");
        }
    }
    // Roles without dispatch rights: 403, the same for an incident that exists and one
    // that does not.
    for (token, method, path, body) in [
        (&crew2, "get", format!("/api/incidents/{id}"), None),
        (&crew2, "get", "/api/incidents/999999".to_string(), None),
        (&crew2, "get", format!("/api/incidents/{id}/timeline"), None),
        (
            &crew,
            "post",
            "/api/incidents".to_string(),
            Some(incident_body(SCENE.0, SCENE.1, "merah")),
        ),
        (
            &crew,
            "get",
            format!("/api/incidents/{id}/recommendations"),
            None,
        ),
        (
            &crew,
            "post",
            format!("/api/incidents/{id}/assign"),
            Some(json!({"unit_id": "PSC-02"})),
        ),
        (
            &crew,
            "post",
            "/api/units/PSC-02/status".to_string(),
            Some(json!({"status": "out_of_service"})),
        ),
        (
            &crew,
            "post",
            format!("/api/referrals/{rid}/answer"),
            Some(json!({"accept": true})),
        ),
        (&crew2, "get", format!("/api/referrals/{rid}"), None),
        (&hosp, "get", format!("/api/incidents/{id}"), None),
        (&hosp, "get", "/api/incidents".to_string(), None),
        (
            &hosp,
            "post",
            "/api/hospitals/SOME-OTHER/capacity".to_string(),
            Some(json!({"status": "full"})),
        ),
        (&mitra, "get", "/api/hospitals".to_string(), None),
        (&mitra, "get", "/api/referrals".to_string(), None),
        (
            &d,
            "post",
            format!("/api/referrals/{rid}/answer"),
            Some(json!({"accept": true})),
        ),
    ] {
        let (st, b) = s.call(method, &path, Some(token), body).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{method} {path}: {b}");
        assert_eq!(b["code"], "forbidden");
        assert!(b.get("incident").is_none() && b.get("id").is_none());
    }
    // Lists are filtered, not refused: the other crew sees no incident.
    let (st, list) = s.call("get", "/api/incidents", Some(&crew2), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list, json!([]));
    let (_, list) = s.call("get", "/api/incidents", Some(&crew), None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, refs) = s.call("get", "/api/referrals", Some(&crew2), None).await;
    assert_eq!(refs, json!([]));
    assert_eq!(s.last_seq(), before, "nothing changed");

    // WebSocket: a bad token is refused; a crew may not send for another unit.
    let (_, w) = Client::connect(&s, "nope", 0).await;
    assert_eq!(w["type"], "error");
    assert_eq!(w["code"], "unauthenticated");
    let (mut c, _) = Client::connect(&s, &crew, s.last_seq()).await;
    let a = c
        .command(
            "x1",
            json!({"type": "report_status", "unit": "PSC-02", "status": "out_of_service"}),
        )
        .await;
    assert_eq!(a["code"], "forbidden");
    let a = c
        .command("x2", json!({"type": "create_incident", "caller_name": "", "caller_phone": "", "location": {"lat": -7.4, "lon": 109.2},
            "address": {"desa": "", "rt_rw": "", "landmark": "", "text": ""}, "triage": "merah", "category": "medical", "patients": 1, "notes": ""}))
        .await;
    assert_eq!(a["code"], "forbidden");
    assert_eq!(s.last_seq(), before, "nothing changed");

    // A revoked account's token stops working at once.
    s.state
        .auth
        .revoke_user("dispatcher1", satria_server::now_ms())
        .unwrap();
    let (st, _) = s.call("get", "/api/incidents", Some(&d), None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    s.stop().await;
}

/// Any role the table does not list gets 403 before its body or query is read,
/// however wrong the body; every operation of the dispatch API and the modules.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_role_gets_403_before_the_body_is_read_on_every_operation() {
    let s = Server::start().await;
    for (name, role) in [
        ("pattasofficer", Role::PattasOfficer),
        ("salinmasofficer", Role::SalinmasOfficer),
        ("household", Role::SalinmasHousehold),
        ("collector", Role::SalinmasCollector),
    ] {
        add_user(&s, name, role, Some("1".into()));
    }
    let mut tokens = Vec::new();
    for (name, role) in [
        ("dispatcher1", Role::Dispatcher),
        ("crew1", Role::Crew),
        ("hospital1", Role::Hospital),
        ("admin", Role::Admin),
        ("mitra", Role::PattasMitra),
        ("pattasofficer", Role::PattasOfficer),
        ("salinmasofficer", Role::SalinmasOfficer),
        ("household", Role::SalinmasHousehold),
        ("collector", Role::SalinmasCollector),
    ] {
        tokens.push((role, s.login(name).await));
    }
    assert_eq!(tokens.len(), Role::ALL.len(), "every role");
    let before = s.last_seq();
    let mut checked = 0;
    for op in satria_server::openapi::all_operations() {
        if op.roles.is_empty() || op.roles.contains(&"any") {
            continue;
        }
        let path = op
            .path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "1" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for (role, token) in &tokens {
            if op.roles.contains(&role.as_str()) {
                continue;
            }
            // An invalid body and an invalid query string.
            let url = format!("{}{path}?limit=-1&from=x&zz=1", s.base);
            let rq = match op.method {
                "get" => s.http.get(url),
                "post" => s.http.post(url),
                "patch" => s.http.patch(url),
                m => panic!("method {m}"),
            };
            let rq = rq.bearer_auth(token);
            let rq = if op.body.is_some() {
                rq.header("content-type", "application/json")
                    .body("{\"not\": valid")
            } else {
                rq
            };
            let r = rq.send().await.unwrap();
            let st = r.status();
            let b: Value = r.json().await.unwrap_or(Value::Null);
            assert_eq!(
                st,
                StatusCode::FORBIDDEN,
                "{} {} as {}: {b}",
                op.method,
                op.path,
                role.as_str()
            );
            assert_eq!(b["code"], "forbidden", "{} {}: {b}", op.method, op.path);
            checked += 1;
        }
    }
    assert!(checked > 200, "{checked}");
    assert_eq!(s.last_seq(), before, "nothing changed");
    // The three of the report.
    let household = &tokens[7].1;
    let hospital = &tokens[2].1;
    for (token, method, path) in [
        (hospital, "post", "/api/referrals"),
        (household, "post", "/api/salinmas/pickups/1/collect"),
        (household, "get", "/api/salinmas/reports/weights?from=nope"),
    ] {
        let (st, b) = s
            .call(
                method,
                path,
                Some(token),
                (method == "post").then(|| json!({"x": 1})),
            )
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{path}: {b}");
    }
    s.stop().await;
}
