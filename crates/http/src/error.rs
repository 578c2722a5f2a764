//! The one error shape of every Satria HTTP module: [`HttpError`], its
//! constructors, and the refusals of the account store it stands for.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

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
