//! The HTTP dialect on the dispatch API (docs/http.md): a create names its new
//! record (`201` with `Location`), lists page with `limit` and `offset`, and a
//! page outside a list's bounds is refused with 422, changing nothing.

use crate::support::{SCENE, Server, incident_body};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_created_incident_is_named_by_location_and_lists_page_by_limit_and_offset() {
    let s = Server::start().await;
    let d = s.login("dispatcher1").await;
    for k in 0..4 {
        // A kilometre apart, so none is taken for a duplicate of another.
        let body = incident_body(SCENE.0 + 0.01 * f64::from(k), SCENE.1, "hijau");
        let r = s
            .http
            .post(format!("{}/api/incidents", s.base))
            .bearer_auth(&d)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        let created: Value = r.json().await.unwrap();
        assert_eq!(location, format!("/api/incidents/{}", created["id"]));
        // The Location reads the same record back.
        let (st, read) = s.call("get", &location, Some(&d), None).await;
        assert_eq!(st, StatusCode::OK, "{read}");
        assert_eq!(read["id"], created["id"]);
    }
    let ids = |v: &Value| -> Vec<u64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_u64().unwrap())
            .collect()
    };
    let (st, all) = s.call("get", "/api/incidents", Some(&d), None).await;
    assert_eq!(st, StatusCode::OK);
    let all = ids(&all);
    assert!(all.len() >= 4, "{all:?}");
    assert!(all.windows(2).all(|w| w[0] > w[1]), "newest first: {all:?}");
    let (st, page) = s
        .call("get", "/api/incidents?limit=2&offset=1", Some(&d), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ids(&page), all[1..3].to_vec());
    let (_, past_the_end) = s
        .call("get", "/api/incidents?offset=1000", Some(&d), None)
        .await;
    assert!(ids(&past_the_end).is_empty());
    for (query, code) in [
        ("limit=0", "invalid_limit"),
        ("limit=-1", "invalid_limit"),
        ("limit=5001", "invalid_limit"),
        ("offset=-1", "invalid_offset"),
    ] {
        let (st, e) = s
            .call("get", &format!("/api/incidents?{query}"), Some(&d), None)
            .await;
        assert_eq!(
            (st, e["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{query}: {e}"
        );
        assert!(!e["message_id"].as_str().unwrap().is_empty());
    }
    // Referrals page the same way.
    let (st, e) = s
        .call("get", "/api/referrals?limit=1001", Some(&d), None)
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_limit"))
    );
    let (st, none) = s
        .call("get", "/api/referrals?limit=1&offset=0", Some(&d), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{none}");
    assert!(none.as_array().unwrap().len() <= 1);
}
