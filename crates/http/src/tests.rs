//! Tests of the crate root: the authentication middleware, the strict JSON
//! extractor and the role check.

use super::*;
use axum::Extension;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::routing::{get, post};
use satria_auth::{AuthConfig, AuthStore, HashParams, NewUser, Principal, Role};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

fn store(dir: &std::path::Path) -> Arc<AuthStore> {
    let config = AuthConfig {
        hash: HashParams::INSECURE_FAST,
        ..AuthConfig::default()
    };
    Arc::new(AuthStore::open_with(&dir.join("auth.sqlite"), config).unwrap())
}

async fn status_and_body(app: axum::Router, req: Request) -> (StatusCode, Value) {
    let res = app.oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn the_middleware_admits_a_valid_token_and_refuses_others() {
    let dir = tempfile::tempdir().unwrap();
    let auth = store(dir.path());
    auth.add_user(
        NewUser {
            username: "mitra1".into(),
            password: "kata-sandi-uji-119".into(),
            role: Role::PattasMitra,
            unit: None,
            hospital: None,
            subject: None,
        },
        now_ms(),
    )
    .unwrap();
    let token = auth
        .login("mitra1", "kata-sandi-uji-119", "test", now_ms())
        .unwrap()
        .token;
    let app = axum::Router::new()
        .route(
            "/who",
            get(|Extension(p): Extension<Principal>| async move { p.username }),
        )
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&auth),
            require_principal,
        ));

    let req = Request::get("/who")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
    assert_eq!(&bytes[..], b"mitra1");

    for header in [
        None,
        Some("Bearer nope"),
        Some("Basic abc"),
        Some("Bearer "),
    ] {
        let mut b = Request::get("/who");
        if let Some(h) = header {
            b = b.header("authorization", h);
        }
        let (status, body) = status_and_body(app.clone(), b.body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{header:?}");
        assert_eq!(body["code"], "unauthenticated");
        assert!(body["message_id"].as_str().unwrap().contains("masuk"));
    }
}

#[tokio::test]
async fn api_json_turns_every_refusal_into_the_error_shape() {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body1 {
        kg: f64,
    }
    let app = axum::Router::new()
        .route("/x", post(|ApiJson(_b): ApiJson<Body1>| async { "ok" }))
        .layer(axum::extract::DefaultBodyLimit::max(64));
    let cases = [
        (
            "application/json",
            "{\"kg\": 1}".to_string(),
            StatusCode::OK,
            "",
        ),
        (
            "application/json",
            "{\"kg\": ".to_string(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "application/json",
            "{\"kg\": \"x\"}".to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "application/json",
            "{\"kg\": 1, \"z\": 2}".to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "text/plain",
            "{\"kg\": 1}".to_string(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "application/json",
            format!("{{\"kg\": 1, \"pad\": \"{}\"}}", "x".repeat(200)),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
    ];
    for (ct, body, want, code) in cases {
        let req = Request::post("/x")
            .header("content-type", ct)
            .body(Body::from(body.clone()))
            .unwrap();
        let (status, json) = status_and_body(app.clone(), req).await;
        assert_eq!(status, want, "{ct} {body}");
        if !code.is_empty() {
            assert_eq!(json["code"], code, "{body}");
            assert!(!json["message_id"].as_str().unwrap().is_empty());
        }
    }
}

#[test]
fn require_role_refuses_other_roles() {
    let p = Principal {
        user_id: 1,
        username: "u".into(),
        role: Role::SalinmasHousehold,
        unit: None,
        hospital: None,
        subject: Some("7".into()),
    };
    assert!(require_role(&p, &[Role::SalinmasHousehold]).is_ok());
    let e = require_role(&p, &[Role::SalinmasOfficer, Role::Admin]).unwrap_err();
    assert_eq!(e.status, StatusCode::FORBIDDEN);
}
