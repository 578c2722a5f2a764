//! Opening the store: the schema, versioned by `PRAGMA user_version`, through
//! the shared opener (`satria_sqlite`: WAL, full sync, foreign keys).

use std::path::Path;
use std::sync::{Mutex, OnceLock};

use super::{AuthConfig, AuthStore};
use crate::AuthError;

/// `PRAGMA user_version` of the schema this build writes.
pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS auth_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    unit TEXT,
    hospital TEXT,
    subject TEXT,
    created_at_ms INTEGER NOT NULL,
    password_changed_at_ms INTEGER NOT NULL,
    disabled_at_ms INTEGER
);
CREATE TABLE IF NOT EXISTS auth_sessions (
    token_hash BLOB PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES auth_users(id),
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    client_key TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS auth_sessions_user ON auth_sessions(user_id);
CREATE INDEX IF NOT EXISTS auth_sessions_expiry ON auth_sessions(expires_at_ms);
CREATE TABLE IF NOT EXISTS auth_login_attempts (
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    username TEXT NOT NULL,
    client_key TEXT NOT NULL,
    success INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS auth_login_attempts_user ON auth_login_attempts(username, at_ms);
CREATE INDEX IF NOT EXISTS auth_login_attempts_client ON auth_login_attempts(client_key, at_ms);
CREATE TABLE IF NOT EXISTS access_log (
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    user_id INTEGER,
    username TEXT NOT NULL,
    role TEXT,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    purpose TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS access_log_subject ON access_log(subject);
CREATE INDEX IF NOT EXISTS access_log_username ON access_log(username, id);
CREATE INDEX IF NOT EXISTS access_log_at ON access_log(at_ms);
";

impl AuthStore {
    /// Opens (creating if needed) the store at `path` with [`AuthConfig::default`].
    pub fn open(path: &Path) -> Result<AuthStore, AuthError> {
        Self::open_with(path, AuthConfig::default())
    }

    /// Opens (creating if needed) the store at `path`.
    pub fn open_with(path: &Path, config: AuthConfig) -> Result<AuthStore, AuthError> {
        config.hash.argon2()?;
        // The access log is an audit trail: the shared opener syncs fully.
        // The schema is idempotent (`IF NOT EXISTS`) and runs on every open.
        let conn = satria_sqlite::open(path, "auth", SCHEMA_VERSION, |tx, _| {
            tx.execute_batch(SCHEMA).map_err(AuthError::from)
        })?;
        let store = AuthStore {
            conn: Mutex::new(conn),
            config,
            dummy_hash: OnceLock::new(),
        };
        // Made now, so the first unknown-user login costs no more than later ones.
        store.dummy_hash();
        Ok(store)
    }
}
