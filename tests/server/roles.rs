//! The role × door table for WebSockets: every command a client can send, from every
//! role, and what each role hears of one incident's events. The policy is written
//! out here, row by row, independently of the server's own `may_send` and `view`, so
//! a change of who-may-do-what shows up as a failing row. (The HTTP side of the
//! table walks the OpenAPI document's roles in `every_operation_answers_each_role_as_documented`.)

use crate::support::{
    CREW_UNIT, Client, PASSWORD, SCENE, Server, incident_body, is_event, referral_body,
};
use futures_util::StreamExt;
use reqwest::StatusCode;
use satria_auth::{NewUser, Role};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// How a command from a role must be answered.
#[derive(Debug, Clone, Copy, PartialEq)]
enum May {
    /// Past authorisation: an `ack`, or a refusal of the command itself (unknown
    /// incident, wrong state), never `forbidden`.
    Pass,
    /// `error` with code `forbidden`, and nothing journaled.
    Forbidden,
}
use May::{Forbidden, Pass};

/// Every account of the table: (username, role, unit, hospital).
fn accounts(hospital: &str) -> Vec<(&'static str, Role, Option<String>, Option<String>)> {
    vec![
        ("t_dispatcher", Role::Dispatcher, None, None),
        ("t_admin", Role::Admin, None, None),
        ("t_crew", Role::Crew, Some(CREW_UNIT.to_string()), None),
        ("t_crew_other", Role::Crew, Some("PSC-02".to_string()), None),
        (
            "t_hospital",
            Role::Hospital,
            None,
            Some(hospital.to_string()),
        ),
        (
            "t_hospital_other",
            Role::Hospital,
            None,
            Some("3302026".to_string()),
        ),
        ("t_pattas", Role::PattasOfficer, None, None),
        ("t_mitra", Role::PattasMitra, None, None),
        ("t_salinmas", Role::SalinmasOfficer, None, None),
        ("t_household", Role::SalinmasHousehold, None, None),
        ("t_collector", Role::SalinmasCollector, None, None),
    ]
}

/// The commands of the protocol, each aimed at a target that exists where the rule
/// depends on it (the crew's own unit, a referral to the hospital's own hospital).
fn commands(incident: u64, referral: u64, hospital: &str) -> Vec<(&'static str, Value)> {
    let own = CREW_UNIT;
    vec![
        (
            "position own unit",
            json!({"type": "update_position", "unit": own, "at": {"lat": SCENE.0, "lon": SCENE.1}}),
        ),
        (
            "position other unit",
            json!({"type": "update_position", "unit": "PSC-02", "at": {"lat": SCENE.0, "lon": SCENE.1}}),
        ),
        (
            "status own unit",
            json!({"type": "report_status", "unit": own, "status": "en_route"}),
        ),
        (
            "status other unit",
            json!({"type": "report_status", "unit": "PSC-02", "status": "en_route"}),
        ),
        (
            "out of service own unit",
            json!({"type": "set_out_of_service", "unit": own, "reason": "ban bocor"}),
        ),
        (
            "back in service own unit",
            json!({"type": "return_to_service", "unit": own}),
        ),
        (
            "acknowledge own unit",
            json!({"type": "acknowledge_assignment", "incident": 999_999, "unit": own}),
        ),
        (
            "acknowledge other unit",
            json!({"type": "acknowledge_assignment", "incident": 999_999, "unit": "PSC-02"}),
        ),
        (
            "decline own unit",
            json!({"type": "decline_assignment", "incident": 999_999, "unit": own, "reason": "mesin mati"}),
        ),
        (
            "decline other unit",
            json!({"type": "decline_assignment", "incident": 999_999, "unit": "PSC-02", "reason": "mesin mati"}),
        ),
        (
            "create incident",
            json!({"type": "create_incident", "caller_name": "Siti", "caller_phone": "081390001119",
            "location": {"lat": SCENE.0, "lon": SCENE.1}, "address": {"desa": "Sokanegara", "rt_rw": "", "landmark": "", "text": ""},
            "triage": "hijau", "category": "information", "patients": 1, "notes": ""}),
        ),
        (
            "update incident",
            json!({"type": "update_incident", "incident": 999_999, "notes": "x"}),
        ),
        (
            "assign units",
            json!({"type": "assign_units", "incident": 999_999, "units": ["PSC-03"]}),
        ),
        (
            "cancel assignment",
            json!({"type": "cancel_assignment", "incident": 999_999, "unit": "PSC-03", "reason": "x"}),
        ),
        (
            "reassign unit",
            json!({"type": "reassign_unit", "unit": "PSC-03", "to": 999_999, "reason": "x"}),
        ),
        (
            "merge incidents",
            json!({"type": "merge_incidents", "from": 999_998, "into": 999_999}),
        ),
        (
            "cancel incident",
            json!({"type": "cancel_incident", "incident": 999_999, "reason": "x"}),
        ),
        (
            "close incident",
            json!({"type": "close_incident", "incident": 999_999, "outcome": "x"}),
        ),
        (
            "capacity own hospital",
            json!({"type": "update_hospital_capacity", "hospital": hospital, "free_igd_beds": 3, "status": "open"}),
        ),
        (
            "capacity other hospital",
            json!({"type": "update_hospital_capacity", "hospital": "3302026", "free_igd_beds": 3, "status": "open"}),
        ),
        (
            "accept referral to own hospital",
            json!({"type": "accept_referral", "referral": referral, "officer": ""}),
        ),
        (
            "decline referral to own hospital",
            json!({"type": "decline_referral", "referral": referral, "reason": ""}),
        ),
        (
            "cancel referral",
            json!({"type": "cancel_referral", "referral": 999_999, "reason": "x"}),
        ),
        (
            "pre-arrival notice",
            json!({"type": "send_pre_arrival_notice", "referral": 999_999}),
        ),
        (
            "cancel transport",
            json!({"type": "cancel_transport", "booking": 999_999, "reason": "x"}),
        ),
        (
            "register unit",
            json!({"type": "register_unit", "id": "PSC-01", "call_sign": "x", "unit_type": "bls",
            "owner": "psc", "base_name": "x", "base": {"lat": SCENE.0, "lon": SCENE.1}, "capabilities": []}),
        ),
        (
            "send referral",
            json!({"type": "send_referral", "incident": incident, "to": hospital,
            "form": referral_body(incident, hospital, CREW_UNIT)["form"], "patient": referral_body(incident, hospital, CREW_UNIT)["patient"]}),
        ),
        // The crew's unit is on `incident`: a crew refers the patient it carries.
        (
            "send referral for own unit",
            json!({"type": "send_referral", "incident": incident, "to": "3302026", "unit": own,
            "form": referral_body(incident, hospital, CREW_UNIT)["form"], "patient": referral_body(incident, hospital, CREW_UNIT)["patient"]}),
        ),
        (
            "send referral for other unit",
            json!({"type": "send_referral", "incident": incident, "to": "3302026", "unit": "PSC-02",
            "form": referral_body(incident, hospital, CREW_UNIT)["form"], "patient": referral_body(incident, hospital, CREW_UNIT)["patient"]}),
        ),
    ]
}

/// The policy: who may send what.
fn expected(user: &str, command: &str) -> May {
    let crew_own = matches!(
        command,
        "position own unit"
            | "send referral for own unit"
            | "status own unit"
            | "out of service own unit"
            | "back in service own unit"
            | "acknowledge own unit"
            | "decline own unit"
    );
    let hospital_own = matches!(
        command,
        "capacity own hospital"
            | "accept referral to own hospital"
            | "decline referral to own hospital"
    );
    // t_crew_other is bound to PSC-02 and t_hospital_other to 3302026: for them
    // the "other" rows are their own.
    let crew_other_own = matches!(
        command,
        "position other unit"
            | "status other unit"
            | "acknowledge other unit"
            | "decline other unit"
    );
    let hospital_any = hospital_own || command == "capacity other hospital";
    match user {
        "t_admin" => Pass,
        // Dispatch runs the fleet and the calls; only a hospital answers for a hospital.
        "t_dispatcher" if !hospital_any => Pass,
        "t_crew" if crew_own => Pass,
        "t_crew_other" if crew_other_own => Pass,
        "t_hospital" if hospital_own => Pass,
        "t_hospital_other" if command == "capacity other hospital" => Pass,
        _ => Forbidden,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_websocket_command_answers_each_role_as_the_policy_says() {
    let s = Server::start().await;
    let hospital = s.hospital.clone();
    for (name, role, unit, hosp) in accounts(&hospital) {
        s.state
            .auth
            .add_user(
                NewUser {
                    username: name.into(),
                    password: PASSWORD.into(),
                    role,
                    unit,
                    hospital: hosp,
                    subject: None,
                },
                0,
            )
            .unwrap();
    }
    let d = s.login("dispatcher1").await;
    let (st, inc) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(SCENE.0, SCENE.1, "kuning")),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{inc}");
    let incident = inc["id"].as_u64().unwrap();
    let (st, a) = s
        .call(
            "post",
            &format!("/api/incidents/{incident}/assign"),
            Some(&d),
            Some(json!({"unit_id": CREW_UNIT})),
        )
        .await;
    assert!(st.is_success(), "{a}");
    let (st, r) = s
        .call(
            "post",
            "/api/referrals",
            Some(&d),
            Some(referral_body(incident, &hospital, CREW_UNIT)),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let referral = r["id"].as_u64().unwrap();

    let mut failures = Vec::new();
    let mut rows = 0;
    for (user, ..) in accounts(&hospital) {
        let token = s.login(user).await;
        let (mut c, welcome) = Client::connect(&s, &token, s.last_seq()).await;
        assert_eq!(welcome["type"], "welcome", "{user}: {welcome}");
        for (k, (what, command)) in commands(incident, referral, &hospital)
            .into_iter()
            .enumerate()
        {
            let want = expected(user, what);
            // Forbidden commands must leave the journal as it was; allowed ones
            // may change it (the admin's and dispatcher's rows run last per account).
            let before = s.last_seq();
            let answer = c.command(&format!("{user}-{k}"), command).await;
            rows += 1;
            let forbidden = answer["type"] == "error" && answer["code"] == "forbidden";
            let ok = match want {
                Pass => !forbidden && (answer["type"] == "ack" || answer["type"] == "error"),
                Forbidden => forbidden && s.last_seq() == before,
            };
            if !ok {
                failures.push(format!("{user} / {what}: expected {want:?}, got {answer}"));
            }
        }
    }
    assert_eq!(rows, 11 * 29, "every account tried every command");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    s.stop().await;
}

/// What each role hears of one incident: the call, the crew's assignment, the
/// referral to one hospital.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_hears_only_the_events_it_needs() {
    let s = Server::start().await;
    let hospital = s.hospital.clone();
    for (name, role, unit, hosp) in accounts(&hospital) {
        s.state
            .auth
            .add_user(
                NewUser {
                    username: name.into(),
                    password: PASSWORD.into(),
                    role,
                    unit,
                    hospital: hosp,
                    subject: None,
                },
                0,
            )
            .unwrap();
    }
    let start = s.last_seq();
    let mut clients = Vec::new();
    for (user, ..) in accounts(&hospital) {
        let token = s.login(user).await;
        let (c, welcome) = Client::connect(&s, &token, start).await;
        assert_eq!(welcome["type"], "welcome", "{user}: {welcome}");
        clients.push((user, c));
    }
    let d = s.login("dispatcher1").await;
    let (_, inc) = s
        .call(
            "post",
            "/api/incidents",
            Some(&d),
            Some(incident_body(SCENE.0, SCENE.1, "kuning")),
        )
        .await;
    let incident = inc["id"].as_u64().unwrap();
    let (st, a) = s
        .call(
            "post",
            &format!("/api/incidents/{incident}/assign"),
            Some(&d),
            Some(json!({"unit_id": CREW_UNIT})),
        )
        .await;
    assert!(st.is_success(), "{a}");
    let (st, r) = s
        .call(
            "post",
            "/api/referrals",
            Some(&d),
            Some(referral_body(incident, &hospital, CREW_UNIT)),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    // A last event everyone who follows capacity hears marks the end of the story.
    let h = s.login("t_hospital").await;
    let (st, b) = s
        .call(
            "post",
            &format!("/api/hospitals/{hospital}/capacity"),
            Some(&h),
            Some(json!({"free_igd_beds": 2, "status": "open"})),
        )
        .await;
    assert!(st.is_success(), "{b}");
    let end = s.last_seq();

    // (user, hears the call with its caller, hears the assignment, hears the referral with the patient)
    let table = [
        ("t_dispatcher", true, true, true),
        ("t_admin", true, true, true),
        ("t_crew", true, true, true),
        ("t_crew_other", false, false, false),
        ("t_hospital", false, false, true),
        ("t_hospital_other", false, false, false),
        ("t_pattas", false, false, false),
        ("t_mitra", false, false, false),
        ("t_salinmas", false, false, false),
        ("t_household", false, false, false),
        ("t_collector", false, false, false),
    ];
    for (user, mut c) in clients {
        let (_, call, assigned, referred) = table.iter().find(|t| t.0 == user).copied().unwrap();
        // Read until the capacity event (roles that follow capacity) or a short quiet
        // spell; then nothing else may be waiting.
        let mut frames = Vec::new();
        loop {
            match tokio::time::timeout(Duration::from_millis(800), c.ws.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => {
                    let f: Value = serde_json::from_str(&t).unwrap();
                    let done = f["seq"].as_u64() == Some(end);
                    frames.push(f);
                    if done {
                        break;
                    }
                }
                Ok(Some(Ok(_))) => {}
                Ok(_) => panic!("{user}: socket closed"),
                Err(_) => break,
            }
        }
        let heard = |ty: &str| frames.iter().any(|f| is_event(f, ty));
        let text = serde_json::to_string(&frames).unwrap();
        // Dispatch hears the call as it is made; a crew is told of it with its
        // assignment (an `incident` frame), never of calls it is not sent to.
        let told = heard("incident_created") || frames.iter().any(|f| f["type"] == "incident");
        assert_eq!(told, call, "{user}: {text}");
        assert_eq!(heard("unit_assigned"), assigned, "{user}: {text}");
        assert_eq!(heard("referral_sent"), referred, "{user}: {text}");
        // The caller's phone reaches only those who may see the call; the patient's
        // NIK only those who may see the referral.
        assert_eq!(text.contains("081390001119"), call, "{user}: caller phone");
        assert_eq!(
            text.contains("3302011505900001"),
            referred,
            "{user}: patient NIK"
        );
        // Nobody outside dispatch hears of dispatch at all.
        if !matches!(
            user,
            "t_dispatcher"
                | "t_admin"
                | "t_crew"
                | "t_crew_other"
                | "t_hospital"
                | "t_hospital_other"
        ) {
            assert!(
                frames.iter().all(|f| f["type"] != "event"),
                "{user} hears no dispatch event: {text}"
            );
        }
    }
    s.stop().await;
}

/// A command that does not parse is refused with the client's id, so a client that
/// queued it (the crew app's offline queue) learns of the refusal and goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_that_does_not_parse_is_refused_with_its_client_id() {
    let s = Server::start().await;
    let crew = s.login("crew1").await;
    let before = s.last_seq();
    let (mut c, welcome) = Client::connect(&s, &crew, before).await;
    // A server is live unless configured as a demo or training room: no practice tools.
    assert_eq!(welcome["service"], "live", "{welcome}");
    for (id, command) in [
        // an acknowledgement for no incident: the jam the crew app once had
        (
            "stale-1",
            json!({"type": "acknowledge_assignment", "incident": null, "unit": CREW_UNIT}),
        ),
        ("stale-2", json!({"type": "no_such_command"})),
        (
            "stale-3",
            json!({"type": "report_status", "unit": CREW_UNIT, "status": "flying"}),
        ),
    ] {
        let a = c.command(id, command).await;
        assert_eq!(a["type"], "error", "{a}");
        assert_eq!(a["code"], "invalid_message", "{a}");
        assert!(!a["message_id"].as_str().unwrap_or("").is_empty(), "{a}");
    }
    // An id with a control character is not echoed, and nothing changed.
    c.send(json!({"type": "command", "client_id": "bad\u{0007}id", "command": {"type": "nope"}}))
        .await;
    let f = c.next().await;
    assert_eq!(f["type"], "error");
    assert!(f["client_id"].is_null(), "{f}");
    assert_eq!(s.last_seq(), before, "nothing journaled");
    s.stop().await;
}
