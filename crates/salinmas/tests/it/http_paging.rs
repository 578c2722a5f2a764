//! Lists page as in every module (docs/http.md): `limit` and `offset`, newest
//! pickups first, and a page outside the list's bounds is 422, changing nothing.

use crate::support::*;
use axum::http::StatusCode;
use satria_auth::Role;
use serde_json::Value;

on_each_backend!(#[tokio::test] async fn pickups_and_accounts_page_by_limit_and_offset);
async fn pickups_and_accounts_page_by_limit_and_offset(backend: Backend) {
    let Some(env) = Env::on(backend) else {
        return;
    };
    let household = env
        .account("Dasawisma Mawar", "Sokanegara", SOKA.0, SOKA.1)
        .await;
    let h = env.user("mawar", Role::SalinmasHousehold, Some(household));
    for _ in 0..3 {
        env.ok(
            "POST",
            "/api/salinmas/pickups",
            &h,
            Some(pickup_body(SOKA.0, SOKA.1)),
        )
        .await;
    }
    let ids = |v: &Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect()
    };
    let o = env.officer.clone();
    let all = ids(&env.ok("GET", "/api/salinmas/pickups", &o, None).await);
    assert_eq!(all.len(), 3);
    assert!(all.windows(2).all(|w| w[0] > w[1]), "newest first: {all:?}");
    let page = env
        .ok("GET", "/api/salinmas/pickups?limit=1&offset=1", &o, None)
        .await;
    assert_eq!(ids(&page), vec![all[1]]);
    let accounts = env
        .ok("GET", "/api/salinmas/accounts?limit=1", &o, None)
        .await;
    assert_eq!(accounts.as_array().unwrap().len(), 1);

    let before = env.fingerprint();
    for (uri, st, code) in [
        (
            "/api/salinmas/pickups?limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_limit",
        ),
        (
            "/api/salinmas/pickups?limit=1001",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_limit",
        ),
        (
            "/api/salinmas/accounts?offset=-1",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_offset",
        ),
        (
            "/api/salinmas/accounts?limit=two",
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
    ] {
        let (s, e) = env.call("GET", uri, &o, None).await;
        assert_eq!((s, e["code"].as_str()), (st, Some(code)), "{uri}: {e}");
    }
    assert_eq!(env.fingerprint(), before);
}
