//! Who sees and does what over HTTP: households and collectors only their
//! own, officers on a group's or household's behalf, and the history.

use axum::http::StatusCode;
use satria_auth::{AccessFilter, Role};
use serde_json::json;

use crate::support::*;

on_each_backend!(#[tokio::test] async fn households_and_collectors_see_only_their_own);
async fn households_and_collectors_see_only_their_own(backend: Backend) {
    let Some(env) = Env::on(backend) else {
        return;
    };
    let a1 = env.account("Melati", "Sokanegara", SOKA.0, SOKA.1).await;
    let a2 = env.account("Mawar", "Kedungwuluh", -7.4231, 109.2272).await;
    let k1 = env.collector("KSM Soka", &["Sokanegara"]).await;
    let h1 = env.user("rumah1", Role::SalinmasHousehold, Some(a1));
    let h2 = env.user("rumah2", Role::SalinmasHousehold, Some(a2));
    let c1 = env.user("ksm-a", Role::SalinmasCollector, Some(k1));
    let dispatcher = env.user("disp", Role::Dispatcher, None);
    let unbound = env.user("lost", Role::SalinmasHousehold, None);
    let ghost = env.user("ghost", Role::SalinmasHousehold, Some(999));

    let p1 = env
        .ok(
            "POST",
            "/api/salinmas/pickups",
            &h1,
            Some(pickup_body(SOKA.0, SOKA.1)),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let p2 = env
        .ok(
            "POST",
            "/api/salinmas/pickups",
            &h2,
            Some(pickup_body(-7.4231, 109.2272)),
        )
        .await["id"]
        .as_i64()
        .unwrap();

    // Another household's pickup, account and ledger: 403, and the same for one that does not exist.
    for uri in [
        format!("/api/salinmas/pickups/{p2}"),
        format!("/api/salinmas/accounts/{a2}"),
        format!("/api/salinmas/accounts/{a2}/ledger"),
        "/api/salinmas/pickups/777".to_string(),
        "/api/salinmas/accounts/777".to_string(),
    ] {
        let (st, e) = env.call("GET", &uri, &h1, None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{uri}");
        assert_eq!(e["code"], "forbidden");
    }
    // The officer gets 404 for a missing one.
    let (st, e) = env
        .call("GET", "/api/salinmas/pickups/777", &env.officer, None)
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    // A household cannot request for another account, nor cancel another's pickup.
    let before = env.fingerprint();
    let mut body = pickup_body(SOKA.0, SOKA.1);
    body["account_id"] = json!(a2);
    let (st, _) = env
        .call("POST", "/api/salinmas/pickups", &h1, Some(body))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = env
        .call(
            "POST",
            &format!("/api/salinmas/pickups/{p2}/cancel"),
            &h1,
            Some(json!({"reason": "x"})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(env.fingerprint(), before);

    // Lists are scoped.
    let l1 = env.ok("GET", "/api/salinmas/pickups", &h1, None).await;
    assert_eq!(
        l1.as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![p1]
    );
    let lc = env.ok("GET", "/api/salinmas/pickups", &c1, None).await;
    assert_eq!(
        lc.as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![p1]
    );
    let accs = env.ok("GET", "/api/salinmas/accounts", &c1, None).await;
    assert_eq!(accs.as_array().unwrap().len(), 1);
    assert_eq!(accs[0]["id"], a1);
    let all = env
        .ok(
            "GET",
            "/api/salinmas/pickups?kelurahan=Kedungwuluh",
            &env.officer,
            None,
        )
        .await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    let by_date = env
        .ok(
            "GET",
            "/api/salinmas/pickups?date=2026-03-02&status=requested",
            &env.officer,
            None,
        )
        .await;
    assert_eq!(by_date.as_array().unwrap().len(), 2);
    let none = env
        .ok(
            "GET",
            "/api/salinmas/pickups?date=2026-03-03",
            &env.officer,
            None,
        )
        .await;
    assert!(none.as_array().unwrap().is_empty());
    let mine = env.ok("GET", "/api/salinmas/collectors", &h1, None).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let none = env.ok("GET", "/api/salinmas/collectors", &h2, None).await;
    assert!(none.as_array().unwrap().is_empty());

    // Other roles, and logins bound to nothing (or to no existing record): 403; no token: 401.
    for (tok, code) in [
        (&dispatcher, "forbidden"),
        (&unbound, "not_bound"),
        (&ghost, "not_bound"),
    ] {
        for uri in [
            "/api/salinmas/pickups",
            "/api/salinmas/prices",
            &format!("/api/salinmas/pickups/{p1}"),
        ] {
            let (st, e) = env.call("GET", uri, tok, None).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{uri}");
            assert_eq!(e["code"], code, "{uri}");
        }
    }
    let (st, e) = env.call("GET", "/api/salinmas/pickups", "", None).await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );

    // Cancel and reject, each with a reason, before collection.
    let (st, e) = env
        .call(
            "POST",
            &format!("/api/salinmas/pickups/{p1}/cancel"),
            &h1,
            Some(json!({"reason": "  "})),
        )
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("missing_field"))
    );
    let (st, _) = env
        .call(
            "POST",
            &format!("/api/salinmas/pickups/{p1}/cancel"),
            &c1,
            Some(json!({"reason": "x"})),
        )
        .await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "collectors reject, they do not cancel"
    );
    let x = env
        .ok(
            "POST",
            &format!("/api/salinmas/pickups/{p1}/cancel"),
            &h1,
            Some(json!({"reason": "tidak jadi"})),
        )
        .await;
    assert_eq!(
        (x["status"].as_str(), x["reason"].as_str()),
        (Some("cancelled"), Some("tidak jadi"))
    );
    let r = env
        .ok(
            "POST",
            &format!("/api/salinmas/pickups/{p2}/reject"),
            &env.officer,
            Some(json!({"reason": "jalan ditutup"})),
        )
        .await;
    assert_eq!(r["status"], "rejected");
    let (st, _) = env
        .call(
            "POST",
            &format!("/api/salinmas/pickups/{p2}/accept"),
            &env.officer,
            Some(json!({"collector_id": k1})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);

    // Every read of a household's personal data was recorded.
    let log = env
        .auth
        .access_log(
            &AccessFilter {
                subject_prefix: Some("salinmas_account:".into()),
                ..Default::default()
            },
            100,
        )
        .unwrap();
    assert!(log.iter().any(|e| e.username == "ksm-a"
        && e.action == "list"
        && e.subject == format!("salinmas_account:{a1}")));
    // A listing is a row per account it showed.
    for a in [a1, a2] {
        assert!(log.iter().any(|e| e.username == "petugas"
            && e.action == "list"
            && e.subject == format!("salinmas_account:{a}")));
    }
    assert!(!log.iter().any(|e| e.subject.contains(',')));
    assert!(
        log.iter()
            .any(|e| e.username == "rumah1" && e.purpose == "GET /api/salinmas/pickups")
    );
    // Refused reads were not recorded as reads.
    assert!(
        !log.iter()
            .any(|e| e.username == "rumah1" && e.subject == format!("salinmas_account:{a2}"))
    );
    env.ok(
        "GET",
        &format!("/api/salinmas/accounts/{a2}"),
        &env.officer,
        None,
    )
    .await;
    let log = env
        .auth
        .access_log(
            &AccessFilter {
                subject_prefix: Some(format!("salinmas_account:{a2}")),
                ..Default::default()
            },
            10,
        )
        .unwrap();
    assert!(log.iter().any(|e| e.action == "read"
        && e.username == "petugas"
        && e.purpose == "GET /api/salinmas/accounts/{id}"));
    assert!(env.auth.verify_access_log().is_ok());
}

on_each_backend!(#[tokio::test] async fn officers_act_on_behalf_and_read_the_history);
async fn officers_act_on_behalf_and_read_the_history(backend: Backend) {
    let Some(env) = Env::on(backend) else {
        return;
    };
    let a1 = env.account("Melati", "Sokanegara", SOKA.0, SOKA.1).await;
    let soka = env.collector("KSM Soka", &["Sokanegara"]).await;
    let kedung = env.collector("KSM Kedung", &["Kedungwuluh"]).await;
    let h = env.user("rumah1", Role::SalinmasHousehold, Some(a1));
    let mut body = pickup_body(SOKA.0, SOKA.1);
    body["account_id"] = json!(a1);
    let p = env
        .ok("POST", "/api/salinmas/pickups", &env.officer, Some(body))
        .await["id"]
        .as_i64()
        .unwrap();
    let accept = format!("/api/salinmas/pickups/{p}/accept");
    let before = env.fingerprint();
    for (body, st, code) in [
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY, "missing_field"),
        (
            json!({"collector_id": kedung}),
            StatusCode::CONFLICT,
            "kelurahan_not_served",
        ),
        (
            json!({"collector_id": 999}),
            // The body names it; the pickup in the path exists.
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_collector",
        ),
        (
            json!({"collector_id": soka, "scheduled_date": "2026-03-01"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_date",
        ),
        (
            json!({"collector_id": soka, "scheduled_date": "2026-12-01"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_date",
        ),
        (
            json!({"collector_id": soka, "when": "now"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ] {
        let (got, e) = env
            .call("POST", &accept, &env.officer, Some(body.clone()))
            .await;
        assert_eq!((got, e["code"].as_str()), (st, Some(code)), "{body}");
    }
    let (st, _) = env.call("POST", &accept, &h, None).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "households do not accept");
    assert_eq!(env.fingerprint(), before);
    let a = env
        .ok(
            "POST",
            &accept,
            &env.officer,
            Some(json!({"collector_id": soka, "scheduled_date": "2026-03-03"})),
        )
        .await;
    assert_eq!(
        (a["collector_id"].as_i64(), a["date"].as_str()),
        (Some(soka), Some("2026-03-03"))
    );

    let hist = env
        .ok(
            "GET",
            &format!("/api/salinmas/history/pickup/{p}"),
            &env.officer,
            None,
        )
        .await;
    let actions: Vec<&str> = hist
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["request", "accept"]);
    assert_eq!(hist[1]["details"]["date"], "2026-03-03");
    assert_eq!(hist[1]["actor"], "petugas");
    assert_eq!(hist[1]["at"], "2026-03-02T00:00:00.000Z");
    assert_eq!(instant(&hist[1]["at"]), at("2026-03-02T07:00"));
    let acc = env
        .ok(
            "GET",
            &format!("/api/salinmas/history/account/{a1}"),
            &env.officer,
            None,
        )
        .await;
    assert_eq!(acc[0]["action"], "create");
    let seeded = env
        .ok(
            "GET",
            "/api/salinmas/history/kelurahan/Sokanegara",
            &env.officer,
            None,
        )
        .await;
    assert_eq!(
        (seeded[0]["actor"].as_str(), seeded[0]["role"].as_str()),
        (Some("migration"), Some("system"))
    );
    let (st, _) = env
        .call(
            "GET",
            &format!("/api/salinmas/history/pickup/{p}"),
            &h,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, e) = env
        .call("GET", "/api/salinmas/history/users/1", &env.officer, None)
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_entity"))
    );
}
