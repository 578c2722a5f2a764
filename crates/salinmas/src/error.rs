//! [`SalinmasError`]: every refusal carries a stable code and the reason in
//! English and Bahasa Indonesia; it becomes a [`satria_http::HttpError`].

use axum::http::StatusCode;
use satria_http::HttpError;

/// Why a Salinmas operation did not happen. Every variant but `Storage`
/// is the caller's doing (4xx); nothing was changed in any case.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SalinmasError {
    /// A value is not acceptable (422).
    #[error("{code}: {message}")]
    Invalid {
        code: &'static str,
        message: String,
        message_id: String,
    },
    /// Not allowed for this caller (403).
    #[error("{code}: {message}")]
    Forbidden {
        code: &'static str,
        message: String,
        message_id: String,
    },
    /// Conflicts with the current state (409): a transition not allowed now,
    /// a duplicate, a payout over the balance.
    #[error("{code}: {message}")]
    Conflict {
        code: &'static str,
        message: String,
        message_id: String,
    },
    /// No such record (404); the argument names it in English and Indonesian.
    #[error("no such {0}")]
    NotFound(&'static str, &'static str),
    /// The road graph could not give drive times (503).
    #[error("drive times unavailable: {0}")]
    Unavailable(String),
    /// The database failed (500): never caused by input.
    #[error("salinmas storage: {0}")]
    Storage(String),
}

impl SalinmasError {
    pub fn invalid(code: &'static str, en: impl Into<String>, id: impl Into<String>) -> Self {
        SalinmasError::Invalid {
            code,
            message: en.into(),
            message_id: id.into(),
        }
    }

    pub fn conflict(code: &'static str, en: impl Into<String>, id: impl Into<String>) -> Self {
        SalinmasError::Conflict {
            code,
            message: en.into(),
            message_id: id.into(),
        }
    }

    pub fn forbidden() -> Self {
        SalinmasError::Forbidden {
            code: "forbidden",
            message: "your role may not do this".into(),
            message_id: "peran Anda tidak diizinkan melakukan ini".into(),
        }
    }

    pub fn kelurahan_not_served(kelurahan: &str) -> Self {
        SalinmasError::Forbidden {
            code: "kelurahan_not_served",
            message: format!("your collector group does not serve kelurahan {kelurahan}"),
            message_id: format!("kelompok pengumpul Anda tidak melayani kelurahan {kelurahan}"),
        }
    }

    /// The stable machine code.
    pub fn code(&self) -> &str {
        match self {
            SalinmasError::Invalid { code, .. }
            | SalinmasError::Forbidden { code, .. }
            | SalinmasError::Conflict { code, .. } => code,
            SalinmasError::NotFound(..) => "not_found",
            SalinmasError::Unavailable(_) => "unavailable",
            SalinmasError::Storage(_) => "storage",
        }
    }
}

impl From<satria_sqlite::OpenError> for SalinmasError {
    fn from(e: satria_sqlite::OpenError) -> Self {
        SalinmasError::Storage(e.to_string())
    }
}

impl From<rusqlite::Error> for SalinmasError {
    fn from(e: rusqlite::Error) -> Self {
        SalinmasError::Storage(e.to_string())
    }
}

impl From<SalinmasError> for HttpError {
    fn from(e: SalinmasError) -> HttpError {
        match e {
            // Invalid in itself, or naming in the body a record that does
            // not exist (`unknown_kelurahan`, `unknown_account`,
            // `unknown_collector`): 422. 404 is for the record the path names
            // (docs/http.md).
            SalinmasError::Invalid {
                code,
                message,
                message_id,
            } => HttpError::invalid(code, message, message_id),
            SalinmasError::Forbidden {
                code,
                message,
                message_id,
            } => HttpError::new(StatusCode::FORBIDDEN, code, message, message_id),
            SalinmasError::Conflict {
                code,
                message,
                message_id,
            } => HttpError::conflict(code, message, message_id),
            SalinmasError::NotFound(en, id) => HttpError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no such {en}"),
                format!("{id} tidak ditemukan"),
            ),
            SalinmasError::Unavailable(m) => {
                HttpError::unavailable(format!("drive times are not available now: {m}"))
            }
            // As every module answers a store that failed: 503, try again;
            // what the database said is not for clients.
            SalinmasError::Storage(_) => HttpError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the Salinmas database failed; the change was not made",
                "basis data Salinmas gagal; perubahan tidak disimpan, coba lagi",
            ),
        }
    }
}
