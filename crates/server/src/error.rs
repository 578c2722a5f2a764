//! The one error shape (`{"code","message","message_id"}`), the bearer-token
//! extractor and a JSON extractor whose every rejection is that shape too.

use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use satria_auth::{Principal, Role};
use satria_dispatch::Rejection;
use satria_engine::EngineError;
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
        // 404: a record the request names does not exist. 422: the request is
        // invalid in itself (the OpenAPI document states the rule). 409: it
        // conflicts with the current state: a transition not allowed now, a
        // device time judged against the server's clock or the assignment it
        // answers, a duplicate.
        let status = if code.starts_with("unknown_") {
            StatusCode::NOT_FOUND
        } else if code == "invalid_transition" {
            StatusCode::CONFLICT
        } else if code.starts_with("invalid_")
            || code == "outside_service_area"
            // A negative device time is wrong in itself (the document says
            // minimum 0); a later one is judged against the assignment.
            || matches!(r, Rejection::DeviceTimeTooEarly { device_at, .. } if device_at.0 < 0)
        {
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

impl From<satria_http::HttpError> for ApiError {
    fn from(e: satria_http::HttpError) -> ApiError {
        ApiError::new(e.status, &e.code, e.message, e.message_id)
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

pub use satria_http::bearer;

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        // Already authenticated by `api::authorize` (routes of the table).
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(Caller(p.clone()));
        }
        let token = bearer(parts).ok_or_else(ApiError::unauthenticated)?;
        let p = satria_http::authenticate(&state.auth, token).await?;
        Ok(Caller(p))
    }
}

/// `axum::Json`, but every refusal (malformed JSON, unknown or missing fields,
/// wrong types, wrong content type, oversized body) is the one error shape; shared
/// with the modules.
pub use satria_http::ApiJson;
