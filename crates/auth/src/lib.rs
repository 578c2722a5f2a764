//! Who may do what in Satria.
//!
//! This crate knows users, roles and sessions; it knows nothing of incidents or
//! units beyond the opaque ids a crew or hospital account is bound to, so the
//! dispatch crates and the smart-city modules (Pattas, Salinmas) can all lean on
//! it without leaning on each other.
//!
//! [`AuthStore`] keeps users, sessions, login attempts and the access log in
//! one SQLite file of its own:
//!
//! - `AuthStore::open(path)` / `open_with(path, AuthConfig)`;
//! - users: `add_user`, `list_users`, `user`, `revoke_user`, `set_password`;
//! - sessions: `login` → [`Session`] (the token is shown once; only its
//!   SHA-256 is stored), `authenticate(token, now_ms)` → [`Principal`],
//!   `logout`; `session(token, now_ms)` → [`LiveSession`] (with its
//!   [`SessionId`] and expiry, for a long-lived connection) and
//!   `ended_sessions` / `data_version` to find the ones revoked, logged out or
//!   expired since, even by another process writing the same file;
//! - the access log: `AuthStore` is an [`AccessRecorder`] and writes a batch
//!   durably with `write_access_batch` (a [`Result`]: the caller fails
//!   closed); `access_log` lists entries and `verify_access_log` walks the
//!   SHA-256 chain.
//!
//! `login`, `add_user` and `set_password` run argon2id (m=19 MiB, t=2, p=1 by
//! default): from async code call them inside `tokio::task::spawn_blocking`.
//! `authenticate` and `record` are quick and may be called inline.
//! Every failure is an [`AuthError`] with a stable `code()` for API bodies and
//! a Bahasa Indonesia `message_id()` for the screen.

use serde::{Deserialize, Serialize};

mod error;
mod store;
#[cfg(test)]
mod tests;

pub use error::AuthError;
pub use store::{
    AccessEntry, AccessFilter, AuthConfig, AuthStore, CopyReport, HashParams, LiveSession,
    MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, NewUser, PG_SCHEMA_VERSION, SCHEMA_VERSION, Session,
    SessionEnd, SessionId, UserInfo,
};

/// A role. Every account has exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A PSC 119 call-taker / dispatcher: sees and runs every incident.
    Dispatcher,
    /// An ambulance crew, bound to one unit: sees its own assignments only.
    Crew,
    /// A hospital emergency department, bound to one hospital: sees the
    /// referrals addressed to it.
    Hospital,
    /// Manages users and configuration; reads the audit trail.
    Admin,
    /// Pattas officer at the social/health office: every Pattas case.
    PattasOfficer,
    /// Pattas village partner (mitra): reports cases, sees the ones it reported.
    PattasMitra,
    /// Salinmas officer: price list, accounts, reports.
    SalinmasOfficer,
    /// A Salinmas household or dasawisma account.
    SalinmasHousehold,
    /// A Salinmas collector group (KSM).
    SalinmasCollector,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::Dispatcher,
        Role::Crew,
        Role::Hospital,
        Role::Admin,
        Role::PattasOfficer,
        Role::PattasMitra,
        Role::SalinmasOfficer,
        Role::SalinmasHousehold,
        Role::SalinmasCollector,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Dispatcher => "dispatcher",
            Role::Crew => "crew",
            Role::Hospital => "hospital",
            Role::Admin => "admin",
            Role::PattasOfficer => "pattas_officer",
            Role::PattasMitra => "pattas_mitra",
            Role::SalinmasOfficer => "salinmas_officer",
            Role::SalinmasHousehold => "salinmas_household",
            Role::SalinmasCollector => "salinmas_collector",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The authenticated caller of one request or one WebSocket connection.
///
/// The server's authentication layer puts it into every request's extensions;
/// module routers take it with `axum::Extension<Principal>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    /// The unit a crew account is bound to.
    pub unit: Option<String>,
    /// The hospital a hospital account is bound to.
    pub hospital: Option<String>,
    /// The id a module binds the account to, when the role needs one: the
    /// Salinmas account id of a household, the collector group id of a KSM.
    pub subject: Option<String>,
}

/// What an [`AccessRecorder`] answers: resolves once the records are durable in
/// the access log, or with the reason they could not be written.
pub type Recording =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), AccessLogError>> + Send>>;

/// Where reads of personal data are recorded (UU PDP 27/2022): who read what,
/// when. The server's implementation writes to the audit trail; module crates
/// call it for every read of a patient's or beneficiary's personal data, and
/// await it *before* answering: a read that cannot be recorded is not served
/// (fail closed, 503 `access_log_unavailable`).
pub trait AccessRecorder: Send + Sync {
    /// `action` says what was done (`"read"`, `"list"`, `"export"`), `subject`
    /// names the record (`"incident:42"`, `"pattas_beneficiary:7"`), `purpose`
    /// says why, in a few words (the endpoint or the screen).
    fn record(&self, who: &Principal, action: &str, subject: &str, purpose: &str) -> Recording {
        self.record_each(who, action, vec![subject.to_string()], purpose)
    }

    /// Records an access to many records at once (a listing): one row per
    /// subject, all or none.
    fn record_each(
        &self,
        who: &Principal,
        action: &str,
        subjects: Vec<String>,
        purpose: &str,
    ) -> Recording {
        self.record_many(AccessRecord::each(
            who,
            action,
            subjects,
            purpose,
            unix_now_ms(),
        ))
    }

    /// Records many accesses at once, each at its own time, all or none. The
    /// access log writes them in one transaction (one fsync), which is what
    /// lets a thousand consoles receive the same incident without a thousand
    /// fsyncs.
    fn record_many(&self, batch: Vec<AccessRecord>) -> Recording;
}

/// The access log could not be written (disk full, database locked or
/// broken): whatever needed the record must not be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the access log cannot be written: {0}")]
pub struct AccessLogError(pub String);

impl AccessLogError {
    /// The stable code for API bodies.
    pub const CODE: &'static str = "access_log_unavailable";

    /// What the client is told, in English: never storage details.
    pub fn message(&self) -> &'static str {
        "personal data cannot be served now: the access log cannot be written; try again shortly"
    }

    /// What the operator's screen says, in Bahasa Indonesia.
    pub fn message_id(&self) -> &'static str {
        "Data pribadi tidak dapat ditampilkan saat ini karena log akses tidak dapat ditulis. \
         Coba lagi sebentar lagi."
    }
}

/// Milliseconds since the Unix epoch, now, by the system clock.
pub(crate) use satria_calendar::now_ms as unix_now_ms;

/// One access to record, with the time it happened.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessRecord {
    pub who: Principal,
    pub action: String,
    /// One record (`"incident:42"`), never a list: a row per record read is
    /// what lets "who saw incident 42" be answered, by one index, and keeps
    /// every row small (a list of 600 ids outgrew PostgreSQL's index rows).
    pub subject: String,
    pub purpose: String,
    pub at_ms: i64,
}

impl AccessRecord {
    /// One record per subject of an access to many at once (a list, a
    /// snapshot), all at `at_ms`.
    pub fn each(
        who: &Principal,
        action: &str,
        subjects: impl IntoIterator<Item = String>,
        purpose: &str,
        at_ms: i64,
    ) -> Vec<AccessRecord> {
        subjects
            .into_iter()
            .map(|subject| AccessRecord {
                who: who.clone(),
                action: action.to_string(),
                subject,
                purpose: purpose.to_string(),
                at_ms,
            })
            .collect()
    }
}
