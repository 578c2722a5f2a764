//! The operation table (OPERATIONS) against the router, and list query
//! parameters behaving as the document states.

use axum::http::StatusCode;
use satria_auth::Role;
use satria_pattas::*;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn the_operation_table_matches_the_router() {
    let w = world();
    let b = w
        .post_ok("/api/pattas/beneficiaries", "officer", sukarti())
        .await;
    let c = w
        .post_ok(
            "/api/pattas/cases",
            "officer",
            json!({"beneficiary_id": b["id"], "needs": ["transport"], "description": "x"}),
        )
        .await;
    let cid = c["id"].as_i64().unwrap();
    w.post_ok(
        &format!("/api/pattas/cases/{cid}/verify"),
        "officer",
        json!({}),
    )
    .await;
    let t = w
        .post_ok(
            &format!("/api/pattas/cases/{cid}/transports"),
            "officer",
            transport_body(T0 + H),
        )
        .await;
    let tid = t["transport_id"].as_str().unwrap();
    let mut seen = std::collections::HashSet::new();
    for op in OPERATIONS {
        assert!(
            seen.insert((op.method, op.path)),
            "{} {} listed twice",
            op.method,
            op.path
        );
        assert!(["get", "post", "patch"].contains(&op.method));
        assert!(op.path.starts_with("/api/pattas/"));
        assert!(!op.roles.is_empty());
        assert!(op.roles.iter().all(|r| Role::parse(r).is_some()));
        if let Some(schema) = op.body {
            let s = schema();
            assert_eq!(s["type"], "object", "{}", op.path);
            assert_eq!(s["additionalProperties"], false, "{}", op.path);
        }
        let path = op
            .path
            .replace("{id}", &cid.to_string())
            .replace("{tid}", tid);
        let method = op.method.to_uppercase();
        let body = op.body.map(|_| json!({}));
        // No token: 401 from the middleware.
        let (s, e) = w
            .raw(
                &method,
                &path,
                None,
                body.as_ref().map(|b| b.to_string()),
                "application/json",
            )
            .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthenticated")),
            "{method} {path}"
        );
        // Every allowed role reaches the handler (no 404/405 from the router).
        for role in op.roles {
            let who = match *role {
                "pattas_officer" => "officer",
                "admin" => "admin",
                "pattas_mitra" => "mitra1",
                other => panic!("unexpected role {other}"),
            };
            let (s, e) = w.call(&method, &path, who, body.clone()).await;
            assert!(
                s != StatusCode::METHOD_NOT_ALLOWED
                    && !(s == StatusCode::NOT_FOUND && who != "mitra1"),
                "{who} {method} {path}: {s} {e}"
            );
            assert!(!s.is_server_error(), "{who} {method} {path}: {s} {e}");
            if !s.is_success() {
                assert!(
                    e["code"].is_string() && e["message_id"].is_string(),
                    "{who} {method} {path}: {e}"
                );
            }
        }
    }
    // A path that is not in the table is not routed.
    let (s, _) = w.call("GET", "/api/pattas/nothing", "officer", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// A blank desa filter filters nothing (as a blank q does); a limit outside
/// 1..=PAGE_MAX is refused, as the document states (issue 14: schemathesis).
#[tokio::test]
async fn a_blank_desa_filter_filters_nothing() {
    let w = world();
    let all = w.get("/api/pattas/beneficiaries", "officer").await;
    assert_eq!(
        w.get("/api/pattas/beneficiaries?desa=", "officer").await,
        all
    );
    assert_eq!(
        w.get("/api/pattas/cases?desa=%20", "officer").await,
        w.get("/api/pattas/cases", "officer").await
    );
    let (st, e) = w
        .call("GET", "/api/pattas/beneficiaries?limit=0", "officer", None)
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_limit"))
    );
}
