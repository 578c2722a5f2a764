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
//!   `logout`;
//! - the access log: `AuthStore` is an [`AccessRecorder`]; `access_log`
//!   lists entries and `verify_access_log` walks the SHA-256 chain.
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
    AccessEntry, AccessFilter, AuthConfig, AuthStore, HashParams, MAX_PASSWORD_CHARS,
    MIN_PASSWORD_CHARS, NewUser, SCHEMA_VERSION, Session, UserInfo,
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

/// Where reads of personal data are recorded (UU PDP 27/2022): who read what,
/// when. The server's implementation writes to the audit trail; module crates
/// call it for every read of a patient's or beneficiary's personal data.
pub trait AccessRecorder: Send + Sync {
    /// `action` says what was done (`"read"`, `"list"`, `"export"`), `subject`
    /// names the record (`"incident:42"`, `"pattas_beneficiary:7"`), `purpose`
    /// says why, in a few words (the endpoint or the screen).
    fn record(&self, who: &Principal, action: &str, subject: &str, purpose: &str);

    /// Records many accesses at once, each at its own time. The access log
    /// writes them in one transaction (one fsync), which is what lets a
    /// thousand consoles receive the same incident without a thousand fsyncs.
    fn record_many(&self, batch: &[AccessRecord]) {
        for r in batch {
            self.record(&r.who, &r.action, &r.subject, &r.purpose);
        }
    }
}

/// One access to record, with the time it happened.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessRecord {
    pub who: Principal,
    pub action: String,
    pub subject: String,
    pub purpose: String,
    pub at_ms: i64,
}
