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

mod dialect;
pub mod json_int;

pub use dialect::{Page, created, path_id};

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

/// An account operation's refusal: a wrong password or token is 401, a lockout
/// 429, an unknown user 404, a taken username 409, the store failing 503.
impl From<satria_auth::AuthError> for HttpError {
    fn from(e: satria_auth::AuthError) -> HttpError {
        let code = e.code();
        let status = match code {
            "invalid_credentials" | "unauthenticated" => StatusCode::UNAUTHORIZED,
            "rate_limited" => StatusCode::TOO_MANY_REQUESTS,
            "storage" => StatusCode::SERVICE_UNAVAILABLE,
            "unknown_user" => StatusCode::NOT_FOUND,
            "duplicate_username" => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        };
        HttpError::new(status, code, e.to_string(), e.message_id())
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

/// `axum::extract::Query`, but strict and in the one error shape: an unknown
/// parameter (with `deny_unknown_fields`), a missing one or a value of the wrong
/// type is a 400 `invalid_query` naming the problem, never a `text/plain` answer.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or_default();
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(v)| ApiQuery(v))
            .map_err(|e| {
                let why = e.body_text();
                let why = why
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&why)
                    .to_string();
                HttpError::bad_request(
                    "invalid_query",
                    format!("the query string {q:?} is not acceptable: {why}"),
                    format!("parameter kueri {q:?} tidak dapat diterima: {why}"),
                )
            })
    }
}

/// The operation of `ops` a request is for: its method and the route it matched.
pub fn operation_of<'a>(
    ops: impl IntoIterator<Item = &'a Operation>,
    req: &Request,
) -> Option<&'a Operation> {
    let path = req
        .extensions()
        .get::<axum::extract::MatchedPath>()?
        .as_str();
    let method = req.method().as_str();
    ops.into_iter()
        .find(|op| op.path == path && op.method.eq_ignore_ascii_case(method))
}

/// Whether `who` may call `op`: its role is among the operation's roles (`any`:
/// every signed-in account).
pub fn role_allowed(op: &Operation, who: &Principal) -> bool {
    op.roles
        .iter()
        .any(|r| *r == "any" || *r == who.role.as_str())
}

/// Middleware: the authorisation of a documented operation, before anything
/// reads the request's body or query. The [`Operation`] table is the policy: a
/// request for an operation with roles needs a [`Principal`] (put in the
/// extensions by [`require_principal`] or [`authorize_with`]) whose role is
/// listed, else 401 or 403. Requests for routes not in `ops` pass untouched (the
/// handler decides). Finer rules (a crew acts only for its own unit) stay with
/// the handlers.
///
/// ```ignore
/// router.route_layer(axum::middleware::from_fn(|req, next| authorize(OPERATIONS, req, next)))
/// ```
pub async fn authorize(ops: &'static [Operation], req: Request, next: Next) -> Response {
    if let Some(op) = operation_of(ops, &req)
        && !op.roles.is_empty()
    {
        match req.extensions().get::<Principal>() {
            None => return HttpError::unauthenticated().into_response(),
            Some(p) if !role_allowed(op, p) => return HttpError::forbidden().into_response(),
            Some(_) => {}
        }
    }
    next.run(req).await
}

/// [`authorize`] for a router that is not behind [`require_principal`]: it
/// authenticates the bearer token itself (only for operations with roles) and
/// leaves the [`Principal`] in the extensions for the handler.
pub async fn authorize_with(
    auth: &Arc<AuthStore>,
    ops: impl IntoIterator<Item = &'static Operation>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(op) = operation_of(ops, &req)
        && !op.roles.is_empty()
    {
        if req.extensions().get::<Principal>().is_none() {
            let Some(token) = bearer_of(req.headers()) else {
                return HttpError::unauthenticated().into_response();
            };
            match authenticate(auth, token).await {
                Ok(p) => {
                    req.extensions_mut().insert(p);
                }
                Err(e) => return e.into_response(),
            }
        }
        if let Some(p) = req.extensions().get::<Principal>()
            && !role_allowed(op, p)
        {
            return HttpError::forbidden().into_response();
        }
    }
    next.run(req).await
}

/// How much of an oversized body [`limit_body`] reads and throws away so the
/// client, still sending, reads the 413 instead of a reset connection.
pub const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

/// Middleware: a body larger than `max` bytes gets 413 in the error shape. The
/// body is read and discarded first, up to [`DRAIN_LIMIT`], so a client that
/// sends it all still reads the answer: closing a socket with unread data makes
/// the kernel reset the connection, and the client would never see the 413. A
/// declared length (`Content-Length`) is judged before reading; a chunked body is
/// read here up to `max` bytes and handed on whole.
pub async fn limit_body(max: usize, req: Request, next: Next) -> Response {
    use http_body_util::BodyExt;
    let headers = req.headers();
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let chunked = headers.contains_key(axum::http::header::TRANSFER_ENCODING);
    match declared {
        Some(n) if n > max as u64 => {
            let body = req.into_body();
            return too_large_after_draining(max, body, 0).await;
        }
        Some(_) => return next.run(req).await,
        None if !chunked => return next.run(req).await,
        None => {}
    }
    let (parts, mut body) = req.into_parts();
    let mut buf: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return HttpError::bad_request(
                "bad_body",
                "the body could not be read",
                "isi permintaan tidak dapat dibaca",
            )
            .into_response();
        };
        if let Some(data) = frame.data_ref() {
            if buf.len() + data.len() > max {
                let seen = buf.len() + data.len();
                return too_large_after_draining(max, body, seen).await;
            }
            buf.extend_from_slice(data);
        }
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(buf)))
        .await
}

/// Reads and discards the rest of `body` (up to [`DRAIN_LIMIT`] in all), then
/// answers 413; beyond the limit it answers at once and closes the connection.
async fn too_large_after_draining(max: usize, mut body: axum::body::Body, seen: usize) -> Response {
    use http_body_util::BodyExt;
    let mut seen = seen;
    let mut drained = true;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                seen += f.data_ref().map_or(0, |d| d.len());
                if seen > DRAIN_LIMIT {
                    drained = false;
                    break;
                }
            }
            Err(_) => {
                drained = false;
                break;
            }
        }
    }
    let mut res = body_too_large(max).into_response();
    if !drained {
        res.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    res
}

fn body_too_large(max: usize) -> HttpError {
    HttpError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the body is too large: at most {max} bytes"),
        format!("isi permintaan terlalu besar: paling banyak {max} byte"),
    )
}

/// Middleware: a method the route does not serve gets 405 in the error shape,
/// with the router's `Allow` header kept.
pub async fn json_method_not_allowed(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let res = next.run(req).await;
    if res.status() != StatusCode::METHOD_NOT_ALLOWED {
        return res;
    }
    let allow = res.headers().get(axum::http::header::ALLOW).cloned();
    let allowed = allow
        .as_ref()
        .and_then(|a| a.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut out = HttpError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed here; allowed: {allowed}"),
        format!("metode {method} tidak diizinkan di sini; yang diizinkan: {allowed}"),
    )
    .into_response();
    if let Some(a) = allow {
        out.headers_mut().insert(axum::http::header::ALLOW, a);
    }
    out
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
    if req.extensions().get::<Principal>().is_some() {
        return next.run(req).await;
    }
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
    /// Query parameters: (name, JSON schema of the value, required). The
    /// schema states every rule the handler checks on the value by itself
    /// (enum, pattern, minimum, maximum), from the constants it checks with.
    pub query: &'static [QueryParam],
    /// The status of a success: 200, 201 (created) or 204 (no content).
    pub status: u16,
    /// Path parameters that are not strings: (name, JSON type), e.g.
    /// `("id", "integer")`.
    pub path_types: &'static [(&'static str, &'static str)],
}

/// `path_types` of an operation whose `{id}` is an integer.
pub const INTEGER_ID: &[(&str, &str)] = &[("id", "integer")];

/// A query parameter of an [`Operation`]: (name, JSON schema, required).
pub type QueryParam = (&'static str, fn() -> Value, bool);

/// The largest integer path id every module accepts: 18 decimal digits (ids
/// are SQLite/engine integers; a longer number is refused before any lookup).
pub const MAX_PATH_ID: i64 = 999_999_999_999_999_999;

/// Schema of an integer path id: 1 to [`MAX_PATH_ID`].
pub fn path_id_schema() -> Value {
    serde_json::json!({"type": "integer", "minimum": 1, "maximum": MAX_PATH_ID})
}

/// Schema of a `YYYY-MM-DD` calendar day (a real date), the year matching
/// `year_pattern` (a regex alternative such as `[0-9]{4}`).
pub fn date_schema(year_pattern: &str) -> Value {
    serde_json::json!({"type": "string", "format": "date",
        "pattern": format!("^({year_pattern})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"),
        "example": "2026-03-02"})
}

/// Schema of a plain string query value.
pub fn string_schema() -> Value {
    serde_json::json!({"type": "string"})
}

impl Operation {
    /// The path parameters in order, with their JSON types.
    pub fn path_params(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| {
                let ty = self
                    .path_types
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or("string", |(_, t)| *t);
                (name, ty)
            })
    }

    /// Every status this operation may answer: its success, then the refusals
    /// that apply to it (each in the error shape).
    pub fn statuses(&self) -> Vec<u16> {
        let mut v = vec![self.status];
        let has_params = self.path_params().next().is_some();
        if has_params || !self.query.is_empty() || self.body.is_some() {
            v.push(400);
        }
        if !self.roles.is_empty() {
            v.extend([401, 403]);
        }
        if self.path == "/api/auth/login" || self.path == "/api/auth/logout" {
            // A wrong password; a logout without a (valid) token.
            v.push(401);
        }
        if has_params || self.method != "get" {
            v.push(404);
        }
        if (self.method != "get" || has_params) && !self.roles.is_empty() {
            v.push(409);
        }
        if self.body.is_some() {
            v.extend([413, 415, 422]);
        }
        if !self.query.is_empty() {
            v.push(422);
        }
        if self.path == "/api/auth/login" {
            v.push(429);
        }
        v.push(503);
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// Milliseconds since the Unix epoch, now, by the system clock.
pub use satria_calendar::now_ms;

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
