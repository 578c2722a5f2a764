//! The one error type of the crate, with a stable machine code and a message in
//! Bahasa Indonesia for the people at the consoles.

use crate::Role;

/// Everything that can go wrong in this crate.
///
/// `Display` gives the English message (for logs and API clients); [`code`]
/// gives a stable snake_case code for API bodies and [`message_id`] the
/// Bahasa Indonesia text shown to operators.
///
/// [`code`]: AuthError::code
/// [`message_id`]: AuthError::message_id
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Unknown user, wrong password or disabled account: deliberately one
    /// error, so a caller cannot tell which.
    #[error("invalid username or password")]
    InvalidCredentials,
    /// Too many failed logins for this username or from this client.
    #[error("too many failed login attempts; try again in {} s", ceil_secs(*retry_after_ms))]
    RateLimited { retry_after_ms: i64 },
    /// The token is unknown, expired, logged out or its account revoked.
    #[error("not authenticated: session unknown, expired or revoked")]
    Unauthenticated,
    #[error("username must be 3-32 characters of a-z, 0-9, '.', '_' or '-'")]
    InvalidUsername,
    #[error("password must be {min}-{max} characters long", min = crate::store::MIN_PASSWORD_CHARS, max = crate::store::MAX_PASSWORD_CHARS)]
    WeakPassword,
    #[error("username is already taken")]
    DuplicateUsername,
    /// A crew account needs a unit, a hospital account needs a hospital.
    #[error("a {role} account must be bound to a {field}")]
    BindingRequired { role: Role, field: &'static str },
    /// Only crew accounts have a unit, only hospital accounts a hospital.
    #[error("a {role} account cannot be bound to a {field}")]
    BindingNotAllowed { role: Role, field: &'static str },
    #[error("no such user")]
    UnknownUser,
    /// The database failed (I/O, corruption, a schema from a newer version).
    #[error("auth storage error: {0}")]
    Storage(String),
    /// Password hashing failed; should not happen with valid parameters.
    #[error("internal auth error: {0}")]
    Internal(String),
}

impl AuthError {
    /// A stable, machine-readable code for API responses.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::InvalidCredentials => "invalid_credentials",
            AuthError::RateLimited { .. } => "rate_limited",
            AuthError::Unauthenticated => "unauthenticated",
            AuthError::InvalidUsername => "invalid_username",
            AuthError::WeakPassword => "weak_password",
            AuthError::DuplicateUsername => "duplicate_username",
            AuthError::BindingRequired { .. } => "binding_required",
            AuthError::BindingNotAllowed { .. } => "binding_not_allowed",
            AuthError::UnknownUser => "unknown_user",
            AuthError::Storage(_) => "storage",
            AuthError::Internal(_) => "internal",
        }
    }

    /// The message in Bahasa Indonesia, for the operator's screen. It never
    /// carries storage details.
    pub fn message_id(&self) -> String {
        match self {
            AuthError::InvalidCredentials => "Nama pengguna atau kata sandi salah.".into(),
            AuthError::RateLimited { retry_after_ms } => format!(
                "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam {} detik.",
                ceil_secs(*retry_after_ms)
            ),
            AuthError::Unauthenticated => {
                "Sesi tidak berlaku atau sudah berakhir. Silakan masuk kembali.".into()
            }
            AuthError::InvalidUsername => "Nama pengguna harus 3–32 karakter: huruf kecil a–z, \
                                           angka 0–9, titik, garis bawah, atau tanda hubung."
                .into(),
            AuthError::WeakPassword => format!(
                "Kata sandi harus {}–{} karakter.",
                crate::store::MIN_PASSWORD_CHARS,
                crate::store::MAX_PASSWORD_CHARS
            ),
            AuthError::DuplicateUsername => "Nama pengguna sudah dipakai.".into(),
            AuthError::BindingRequired { role, .. } => match role {
                Role::Crew => "Akun kru wajib terikat pada satu unit ambulans.".into(),
                Role::Hospital => "Akun rumah sakit wajib terikat pada satu rumah sakit.".into(),
                other => format!("Akun dengan peran {other} wajib diikat."),
            },
            AuthError::BindingNotAllowed { role, field } => {
                let what = match *field {
                    "unit" => "unit ambulans",
                    "hospital" => "rumah sakit",
                    other => other,
                };
                format!("Akun dengan peran {role} tidak boleh terikat pada {what}.")
            }
            AuthError::UnknownUser => "Pengguna tidak ditemukan.".into(),
            AuthError::Storage(_) => {
                "Terjadi kesalahan penyimpanan data. Silakan coba lagi.".into()
            }
            AuthError::Internal(_) => "Terjadi kesalahan internal pada layanan masuk.".into(),
        }
    }
}

impl From<satria_sqlite::OpenError> for AuthError {
    fn from(e: satria_sqlite::OpenError) -> Self {
        AuthError::Storage(e.to_string())
    }
}

impl From<rusqlite::Error> for AuthError {
    fn from(e: rusqlite::Error) -> Self {
        AuthError::Storage(e.to_string())
    }
}

/// Whole seconds to wait, rounded up, at least 1.
fn ceil_secs(ms: i64) -> i64 {
    (ms.saturating_add(999) / 1000).max(1)
}
