//! [`AuthStore`]: users, sessions, login rate limits and the hash-chained
//! access log, in one SQLite file or in a PostgreSQL database shared by the
//! nodes of a cluster.
//!
//! This file holds the handle itself, its configuration and what its parts
//! share; each part of the store lives in a module of its own:
//!
//! - [`db`]: the two databases behind one transaction interface;
//! - [`open`]: opening the file or the database, and the schema of each;
//! - [`accounts`]: creating, listing and revoking accounts, and passwords;
//! - [`sessions`]: login, session tokens, their validation, logout and expiry;
//! - [`lockout`]: counting failed logins and how long a lockout lasts;
//! - [`access_log`]: recording and reading accesses to personal data.

use std::sync::OnceLock;

mod access_log;
mod accounts;
mod copy;
mod lockout;
mod open;
mod sessions;

pub use access_log::{AccessEntry, AccessFilter};
pub use accounts::{HashParams, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, NewUser, UserInfo};
pub use copy::CopyReport;
pub use open::{PG_SCHEMA_VERSION, SCHEMA_VERSION};
pub use sessions::{LiveSession, Session, SessionEnd, SessionId};

/// Session lifetime, login rate limits and hashing cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthConfig {
    /// How long a session lasts from login (default 12 h, one shift).
    pub session_ttl_ms: i64,
    /// Failed logins, per username or per client key, within
    /// `failure_window_ms` that lock further attempts (default 5; 0 turns the
    /// limit off).
    pub max_failures: u32,
    /// The window failures are counted in (default 5 min).
    pub failure_window_ms: i64,
    /// How long the lock lasts after the last failure (default 5 min).
    pub lockout_ms: i64,
    /// Cost of new password hashes (default m=19 MiB, t=2, p=1).
    pub hash: HashParams,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            session_ttl_ms: 12 * 60 * 60 * 1000,
            max_failures: 5,
            failure_window_ms: 5 * 60 * 1000,
            lockout_ms: 5 * 60 * 1000,
            hash: HashParams::default(),
        }
    }
}

/// Users, sessions, login limits and the access log, in one SQLite file
/// ([`AuthStore::open`]) or a PostgreSQL database ([`AuthStore::open_postgres`]).
///
/// `Send + Sync`; share it in an `Arc`. Every call is synchronous: `login`,
/// `add_user` and `set_password` run argon2id (tens of milliseconds and
/// 19 MiB with the default parameters), so async callers should run them in
/// `tokio::task::spawn_blocking`. The connection lock is never held while
/// hashing, so `authenticate` stays fast meanwhile.
///
/// Give it a file of its own (e.g. `auth.sqlite`): it owns the file's
/// `PRAGMA user_version`.
pub struct AuthStore {
    db: satria_sql::Db,
    config: AuthConfig,
    dummy_hash: OnceLock<String>,
    /// Sessions this handle found live, by id: what it trusts, until they
    /// expire, while the database cannot be read (see `AuthStore::session`).
    verified: std::sync::Mutex<std::collections::HashMap<SessionId, LiveSession>>,
}

impl std::fmt::Debug for AuthStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthStore")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AuthStore {
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// Runs a PRAGMA on the store's own SQLite connection (tests that make
    /// the disk "full").
    #[cfg(test)]
    pub(crate) fn sqlite_pragma(&self, sql: &str) {
        match &self.db {
            satria_sql::Db::Sqlite(c) => c.lock().unwrap().query_row(sql, [], |_| Ok(())).unwrap(),
            satria_sql::Db::Postgres { .. } => panic!("not a SQLite store"),
        }
    }
}

impl From<satria_sql::DbError> for crate::AuthError {
    fn from(e: satria_sql::DbError) -> Self {
        crate::AuthError::Storage(e.message)
    }
}

impl From<satria_sql::DbError> for crate::AccessLogError {
    fn from(e: satria_sql::DbError) -> Self {
        crate::AccessLogError(e.message)
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}
