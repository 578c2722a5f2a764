//! What every Satria HTTP module shares, so the dispatch API, Pattas and
//! Salinmas answer alike:
//!
//! - [`HttpError`]: the one error shape, `{"code","message","message_id"}` with
//!   the reason in English (`message`) and Bahasa Indonesia (`message_id`);
//! - [`ApiJson`]: `axum::Json`, but every refusal (malformed JSON, unknown or
//!   missing fields, wrong content type, oversized body) is an [`HttpError`];
//! - [`require_principal`]: a middleware that authenticates
//!   `Authorization: Bearer TOKEN` against the [`AuthStore`] and puts the
//!   [`Principal`] into the request's extensions, where module routers take it
//!   with `axum::Extension<Principal>`;
//! - [`Operation`]: one row of the OpenAPI operation table each module exports.
//!
//! Invariant: nothing here depends on the dispatch crates; a module that uses
//! this crate can be built and tested without them.

use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use satria_auth::{AuthStore, Principal, Role};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;

/// A refused request: the status, a stable machine code, and the reason in
/// English and Bahasa Indonesia.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub message_id: String,
}

impl HttpError {
    pub fn new(
        status: StatusCode,
        code: &str,
        message: impl Into<String>,
        message_id: impl Into<String>,
    ) -> HttpError {
        HttpError {
            status,
            code: code.into(),
            message: message.into(),
            message_id: message_id.into(),
        }
    }

    /// 400 with a message in both languages.
    pub fn bad_request(
        code: &str,
        message: impl Into<String>,
        message_id: impl Into<String>,
    ) -> HttpError {
        HttpError::new(StatusCode::BAD_REQUEST, code, message, message_id)
    }

    /// 422: well-formed JSON whose values are not acceptable.
    pub fn invalid(
        code: &str,
        message: impl Into<String>,
        message_id: impl Into<String>,
    ) -> HttpError {
        HttpError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message, message_id)
    }

    /// 409: the request conflicts with the current state (a duplicate, a
    /// transition that is not allowed now).
    pub fn conflict(
        code: &str,
        message: impl Into<String>,
        message_id: impl Into<String>,
    ) -> HttpError {
        HttpError::new(StatusCode::CONFLICT, code, message, message_id)
    }

    pub fn unauthenticated() -> HttpError {
        HttpError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "log in first: send Authorization: Bearer TOKEN from POST /api/auth/login",
            "silakan masuk dulu: kirim Authorization: Bearer TOKEN dari POST /api/auth/login",
        )
    }

    pub fn forbidden() -> HttpError {
        HttpError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "your role may not do this",
            "peran Anda tidak diizinkan melakukan ini",
        )
    }

    /// 404 naming what was missing, e.g. `not_found("case")`.
    pub fn not_found(what: &str) -> HttpError {
        HttpError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
            format!("{what} tidak ditemukan"),
        )
    }

    pub fn unavailable(message: impl Into<String>) -> HttpError {
        HttpError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            message,
            "layanan sedang tidak tersedia, coba lagi",
        )
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        serde_json::json!({
            "code": self.code,
            "message": self.message,
            "message_id": self.message_id,
        })
    }
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for HttpError {}

/// A read whose access could not be recorded is not served: 503
/// `access_log_unavailable` (the server adds `Retry-After`).
impl From<satria_auth::AccessLogError> for HttpError {
    fn from(e: satria_auth::AccessLogError) -> HttpError {
        HttpError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            satria_auth::AccessLogError::CODE,
            e.message(),
            e.message_id(),
        )
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

/// Refuses unless `who` has one of `roles`.
pub fn require_role(who: &Principal, roles: &[Role]) -> Result<(), HttpError> {
    if roles.contains(&who.role) {
        Ok(())
    } else {
        Err(HttpError::forbidden())
    }
}

/// `axum::Json`, but every refusal is an [`HttpError`].
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(HttpError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
                "kirim isi permintaan sebagai JSON dengan Content-Type: application/json",
            )),
            Err(JsonRejection::JsonSyntaxError(e)) => Err(HttpError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("the body is not valid JSON: {}", e.body_text()),
                "isi permintaan bukan JSON yang valid",
            )),
            Err(JsonRejection::JsonDataError(e)) => Err(HttpError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                e.body_text(),
                format!("isi permintaan tidak sesuai: {}", e.body_text()),
            )),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(HttpError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the body is too large",
                "isi permintaan terlalu besar",
            )),
            Err(e) => Err(HttpError::new(
                StatusCode::BAD_REQUEST,
                "bad_body",
                e.body_text(),
                "isi permintaan tidak dapat dibaca",
            )),
        }
    }
}

/// The token of a request: `Authorization: Bearer TOKEN`.
pub fn bearer(parts: &Parts) -> Option<&str> {
    bearer_of(&parts.headers)
}

fn bearer_of(headers: &axum::http::HeaderMap) -> Option<&str> {
    let h = headers.get(axum::http::header::AUTHORIZATION)?;
    let s = h.to_str().ok()?;
    let t = s
        .strip_prefix("Bearer ")
        .or_else(|| s.strip_prefix("bearer "))?;
    let t = t.trim();
    (!t.is_empty() && t.len() <= 256).then_some(t)
}

/// Resolves a bearer token to its principal off the async runtime (the store
/// is SQLite).
pub async fn authenticate(auth: &Arc<AuthStore>, token: &str) -> Result<Principal, HttpError> {
    let auth = Arc::clone(auth);
    let token = token.to_string();
    tokio::task::spawn_blocking(move || auth.authenticate(&token, now_ms()))
        .await
        .map_err(|_| HttpError::unavailable("authentication failed to run"))?
        .map_err(|_| HttpError::unauthenticated())
}

/// Middleware: authenticates the bearer token and inserts the [`Principal`]
/// into the request's extensions; a request without a valid token gets 401 and
/// never reaches the handler.
///
/// ```ignore
/// let app = module_router.layer(axum::middleware::from_fn_with_state(auth, require_principal));
/// ```
pub async fn require_principal(
    State(auth): State<Arc<AuthStore>>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(token) = bearer_of(req.headers()) else {
        return HttpError::unauthenticated().into_response();
    };
    match authenticate(&auth, token).await {
        Ok(p) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

/// One documented operation of the OpenAPI table.
#[derive(Debug)]
pub struct Operation {
    /// Lower-case HTTP method: `get`, `post`, `patch`, `delete`.
    pub method: &'static str,
    /// The path as routed, path parameters as `{name}`.
    pub path: &'static str,
    pub summary: &'static str,
    /// Roles allowed (`Role::as_str`); empty = no token needed.
    pub roles: &'static [&'static str],
    /// JSON schema of the request body, if any.
    pub body: Option<fn() -> Value>,
    /// Query parameters: (name, type, required).
    pub query: &'static [(&'static str, &'static str, bool)],
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Extension;
    use axum::body::Body;
    use axum::routing::{get, post};
    use satria_auth::{AuthConfig, HashParams, NewUser};
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
}
