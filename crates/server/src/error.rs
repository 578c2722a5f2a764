//! The one error shape (`{"code","message","message_id"}`), the bearer-token
//! extractor and a JSON extractor whose every rejection is that shape too.

use crate::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use satria_auth::{Principal, Role};
use satria_dispatch::Rejection;
use satria_engine::EngineError;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// A refused request: the status, a stable machine code, and the reason in
/// English (`message`) and Bahasa Indonesia (`message_id`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub message_id: String,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &str,
        message: impl Into<String>,
        message_id: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            message_id: message_id.into(),
        }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
        let m = message.into();
        ApiError::new(
            StatusCode::BAD_REQUEST,
            code,
            m.clone(),
            format!("permintaan tidak valid: {m}"),
        )
    }

    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "log in first: send Authorization: Bearer TOKEN from POST /api/auth/login",
            "silakan masuk dulu: kirim Authorization: Bearer TOKEN dari POST /api/auth/login",
        )
    }

    pub fn forbidden() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "your role may not do this",
            "peran Anda tidak diizinkan melakukan ini",
        )
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
            format!("{what} tidak ditemukan"),
        )
    }

    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            message,
            "layanan sedang tidak tersedia, coba lagi",
        )
    }

    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "code": self.code,
            "message": self.message,
            "message_id": self.message_id,
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

/// The machine code of a rejection (its serde tag).
pub fn rejection_code(r: &Rejection) -> String {
    serde_json::to_value(r)
        .ok()
        .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(String::from))
        .unwrap_or_else(|| "rejected".into())
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> ApiError {
        let code = rejection_code(&r);
        let status = if code.starts_with("unknown_") {
            StatusCode::NOT_FOUND
        } else if code.starts_with("invalid_") {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::CONFLICT
        };
        ApiError::new(status, &code, r.to_string(), r.message_id())
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        match e {
            EngineError::Rejected(r) => r.into(),
            EngineError::Busy => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the engine is overloaded, try again",
                "mesin sedang penuh, coba lagi",
            ),
            other => ApiError::unavailable(other.to_string()),
        }
    }
}

impl From<satria_auth::AuthError> for ApiError {
    fn from(e: satria_auth::AuthError) -> ApiError {
        let code = e.code();
        let status = match code {
            "invalid_credentials" | "unauthenticated" => StatusCode::UNAUTHORIZED,
            "rate_limited" => StatusCode::TOO_MANY_REQUESTS,
            "storage" => StatusCode::SERVICE_UNAVAILABLE,
            "unknown_user" => StatusCode::NOT_FOUND,
            "duplicate_username" => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, code, e.to_string(), e.message_id())
    }
}

/// The authenticated caller, from `Authorization: Bearer TOKEN`.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    /// Refuses unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.0.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }

    /// True for the roles that run dispatch (dispatcher, admin).
    pub fn is_dispatch(&self) -> bool {
        matches!(self.0.role, Role::Dispatcher | Role::Admin)
    }
}

/// The token of a request: `Authorization: Bearer TOKEN`.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let h = parts.headers.get(axum::http::header::AUTHORIZATION)?;
    let s = h.to_str().ok()?;
    let t = s
        .strip_prefix("Bearer ")
        .or_else(|| s.strip_prefix("bearer "))?;
    let t = t.trim();
    (!t.is_empty() && t.len() <= 256).then_some(t)
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or_else(ApiError::unauthenticated)?;
        let auth = Arc::clone(&state.auth);
        let token = token.to_string();
        let p = tokio::task::spawn_blocking(move || auth.authenticate(&token, crate::now_ms()))
            .await
            .map_err(|_| ApiError::unavailable("authentication failed to run"))?
            .map_err(|_| ApiError::unauthenticated())?;
        Ok(Caller(p))
    }
}

/// `axum::Json`, but every refusal (malformed JSON, unknown or missing fields,
/// wrong types, wrong content type, oversized body) is an [`ApiError`].
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
                "kirim isi permintaan sebagai JSON dengan Content-Type: application/json",
            )),
            Err(JsonRejection::JsonSyntaxError(e)) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("the body is not valid JSON: {}", e.body_text()),
                "isi permintaan bukan JSON yang valid",
            )),
            Err(JsonRejection::JsonDataError(e)) => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                e.body_text(),
                format!("isi permintaan tidak sesuai: {}", e.body_text()),
            )),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the body is too large",
                "isi permintaan terlalu besar",
            )),
            Err(e) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_body",
                e.body_text(),
                "isi permintaan tidak dapat dibaca",
            )),
        }
    }
}
