//! The OpenAPI operation table against the router: every documented
//! operation is routed, and roles an operation does not list are refused.

use axum::http::StatusCode;
use satria_auth::Role;
use satria_salinmas::OPERATIONS;

use crate::support::*;

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let env = Env::new();
    let mut seen = std::collections::HashSet::new();
    for op in OPERATIONS {
        assert!(
            seen.insert((op.method, op.path)),
            "{} {} listed twice",
            op.method,
            op.path
        );
        assert!(op.path.starts_with("/api/salinmas/"));
        assert!(!op.roles.is_empty());
        for r in op.roles {
            assert!(Role::parse(r).is_some(), "{r}");
        }
        if let Some(schema) = op.body {
            let s = schema();
            assert_eq!(s["additionalProperties"], false, "{}", op.path);
            assert_eq!(s["type"], "object");
        }
        assert_eq!(
            op.body.is_some(),
            op.method == "post",
            "{} {}",
            op.method,
            op.path
        );
        let uri = op
            .path
            .replace("{id}", "424242")
            .replace("{collector_id}", "424242")
            .replace("{entity}", "pickup");
        let query: Vec<String> = op
            .query
            .iter()
            .filter(|q| q.2)
            .map(|q| format!("{}=2026-03-02", q.0))
            .collect();
        let uri = if query.is_empty() {
            uri
        } else {
            format!("{uri}?{}", query.join("&"))
        };
        let body = (op.method == "post").then(|| "{}".to_string());
        let (st, v) = env
            .raw(&op.method.to_uppercase(), &uri, &env.officer, body)
            .await;
        assert_ne!(st, StatusCode::METHOD_NOT_ALLOWED, "{} {uri}", op.method);
        assert!(
            st != StatusCode::NOT_FOUND || v["code"] == "not_found",
            "{} {uri}: not routed",
            op.method
        );
        assert!(!st.is_server_error(), "{} {uri}: {st} {v}", op.method);
        // Without a token, every one is 401.
        let (st, _) = env.raw(&op.method.to_uppercase(), &uri, "", None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(OPERATIONS.len(), 22);
}

/// Roles an operation does not list never get through it.
#[tokio::test]
async fn roles_not_listed_are_refused() {
    let env = Env::new();
    let acc = env.account("Melati", "Sokanegara", SOKA.0, SOKA.1).await;
    let ksm = env.collector("KSM Soka", &["Sokanegara"]).await;
    let tokens = [
        (
            "salinmas_household",
            env.user("rumah1", Role::SalinmasHousehold, Some(acc)),
        ),
        (
            "salinmas_collector",
            env.user("ksm-a", Role::SalinmasCollector, Some(ksm)),
        ),
        ("dispatcher", env.user("disp", Role::Dispatcher, None)),
        (
            "pattas_officer",
            env.user("pattas", Role::PattasOfficer, None),
        ),
    ];
    let before = env.fingerprint();
    for op in OPERATIONS {
        let uri = op
            .path
            .replace("{id}", &acc.to_string())
            .replace("{collector_id}", &ksm.to_string())
            .replace("{entity}", "account");
        let uri = if op.query.iter().any(|q| q.2) {
            format!("{uri}?from=2026-03-01&to=2026-03-31")
        } else {
            uri
        };
        for (role, token) in &tokens {
            if op.roles.contains(role) {
                continue;
            }
            let body = (op.method == "post").then(|| "{}".to_string());
            let (st, e) = env.raw(&op.method.to_uppercase(), &uri, token, body).await;
            assert!(!st.is_success(), "{role} {} {uri}: {st}", op.method);
            if op.method == "get" {
                assert_eq!(st, StatusCode::FORBIDDEN, "{role} GET {uri}: {e}");
            }
        }
    }
    assert_eq!(env.fingerprint(), before);
}
