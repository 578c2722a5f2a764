//! [`AuthStore`]: users, sessions, login rate limits and the hash-chained
//! access log, in one SQLite file.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{AccessRecorder, AuthError, Principal, Role};

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted, in characters (bounds the hashing work an
/// attacker can ask for).
pub const MAX_PASSWORD_CHARS: usize = 256;
/// `PRAGMA user_version` of the schema this build writes.
pub const SCHEMA_VERSION: i64 = 1;

/// Random bytes in a session token.
const TOKEN_BYTES: usize = 32;
/// Length of the URL-safe, unpadded base64 of [`TOKEN_BYTES`].
const TOKEN_CHARS: usize = 43;
/// `prev_hash` of the first access-log row.
const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// How long a login attempt is kept at least (for the audit of attacks).
const ATTEMPT_RETENTION_MS: i64 = 24 * 60 * 60 * 1000;

/// Argon2id cost parameters for new password hashes. Existing hashes are
/// always verified with the parameters stored in their PHC string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Passes.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl Default for HashParams {
    /// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        HashParams {
            m_cost_kib: 19 * 1024,
            t_cost: 2,
            p_cost: 1,
        }
    }
}

impl HashParams {
    /// Cheap parameters for tests only: never use them for real accounts.
    pub const INSECURE_FAST: HashParams = HashParams {
        m_cost_kib: 64,
        t_cost: 1,
        p_cost: 1,
    };

    fn argon2(self) -> Result<Argon2<'static>, AuthError> {
        let params = Params::new(self.m_cost_kib, self.t_cost, self.p_cost, None)
            .map_err(|e| AuthError::Internal(format!("invalid argon2 parameters: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

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

/// An account to create.
#[derive(Clone)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: Role,
    /// Required for [`Role::Crew`], refused for every other role.
    pub unit: Option<String>,
    /// Required for [`Role::Hospital`], refused for every other role.
    pub hospital: Option<String>,
    /// The module id the account is bound to (Salinmas household, KSM), any role.
    pub subject: Option<String>,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("role", &self.role)
            .field("unit", &self.unit)
            .field("hospital", &self.hospital)
            .field("subject", &self.subject)
            .finish()
    }
}

/// An account as listed: never the password hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub unit: Option<String>,
    pub hospital: Option<String>,
    pub subject: Option<String>,
    pub created_at_ms: i64,
    /// When the account was revoked; `None` while it is active.
    pub disabled_at_ms: Option<i64>,
}

impl UserInfo {
    pub fn principal(&self) -> Principal {
        Principal {
            user_id: self.id,
            username: self.username.clone(),
            role: self.role,
            unit: self.unit.clone(),
            hospital: self.hospital.clone(),
            subject: self.subject.clone(),
        }
    }
}

/// A fresh session. `token` is shown to the client once; only its SHA-256 is
/// stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub expires_at_ms: i64,
    pub principal: Principal,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("token", &"<redacted>")
            .field("expires_at_ms", &self.expires_at_ms)
            .field("principal", &self.principal)
            .finish()
    }
}

/// A session's identity without its secret: the SHA-256 of its token, as
/// stored. What a long-lived connection keeps to ask whether its session is
/// still live, instead of the token.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId([u8; 32]);

impl SessionId {
    /// The id of the session `token` opened (whether or not it is live).
    pub fn of(token: &str) -> SessionId {
        SessionId(token_hash(token))
    }
}

impl std::fmt::Debug for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A prefix is enough to tell sessions apart in logs.
        write!(f, "SessionId({}..)", &hex(&self.0)[..8])
    }
}

/// A live session, as [`AuthStore::session`] finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveSession {
    pub id: SessionId,
    pub expires_at_ms: i64,
    pub principal: Principal,
}

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionEnd {
    /// The account was revoked (or removed).
    Revoked,
    /// Logged out, or ended by a password change.
    LoggedOut,
    /// Its time ran out.
    Expired,
}

impl SessionEnd {
    /// Stable code: `session_revoked`, `logged_out`, `session_expired`.
    pub fn code(self) -> &'static str {
        match self {
            SessionEnd::Revoked => "session_revoked",
            SessionEnd::LoggedOut => "logged_out",
            SessionEnd::Expired => "session_expired",
        }
    }

    /// English text for clients.
    pub fn message(self) -> &'static str {
        match self {
            SessionEnd::Revoked => "your account was revoked; this connection is closed",
            SessionEnd::LoggedOut => "this session was logged out; log in again",
            SessionEnd::Expired => "this session expired; log in again",
        }
    }

    /// Bahasa Indonesia text for the screen.
    pub fn message_id(self) -> &'static str {
        match self {
            SessionEnd::Revoked => "Akun Anda telah dicabut; koneksi ini ditutup.",
            SessionEnd::LoggedOut => "Sesi ini telah keluar. Silakan masuk kembali.",
            SessionEnd::Expired => "Sesi Anda telah berakhir. Silakan masuk kembali.",
        }
    }
}

/// Which access-log rows to list. All conditions are ANDed; `None` matches all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessFilter {
    /// Rows whose subject starts with this (`"incident:"`, `"incident:42"`).
    pub subject_prefix: Option<String>,
    /// Rows recorded for this username.
    pub username: Option<String>,
    /// Rows at or after this time.
    pub since_ms: Option<i64>,
}

/// One access-log row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    pub id: i64,
    pub at_ms: i64,
    /// `None` for a failed login of an unknown username.
    pub user_id: Option<i64>,
    pub username: String,
    pub role: Option<Role>,
    pub action: String,
    pub subject: String,
    pub purpose: String,
    /// Hex SHA-256 of this row chained to the one before.
    pub hash: String,
}

/// Users, sessions, login limits and the access log in one SQLite file.
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
    conn: Mutex<Connection>,
    config: AuthConfig,
    dummy_hash: OnceLock<String>,
}

impl std::fmt::Debug for AuthStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthStore")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

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

/// A row to append to the access log.
struct LogRow<'a> {
    at_ms: i64,
    user_id: Option<i64>,
    username: &'a str,
    role: Option<Role>,
    action: &'a str,
    subject: &'a str,
    purpose: &'a str,
}

/// What `login` needs of an account.
struct UserRow {
    info: UserInfo,
    password_hash: String,
}

impl AuthStore {
    /// Opens (creating if needed) the store at `path` with [`AuthConfig::default`].
    pub fn open(path: &Path) -> Result<AuthStore, AuthError> {
        Self::open_with(path, AuthConfig::default())
    }

    /// Opens (creating if needed) the store at `path`.
    pub fn open_with(path: &Path, config: AuthConfig) -> Result<AuthStore, AuthError> {
        config.hash.argon2()?;
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
            return Err(AuthError::Storage(format!(
                "could not switch to WAL (journal_mode is {mode})"
            )));
        }
        // The access log is an audit trail: survive power loss, not just crashes.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(AuthError::Storage(format!(
                "auth database schema version {version} is newer than this build ({SCHEMA_VERSION})"
            )));
        }
        tx.execute_batch(SCHEMA)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.commit()?;
        let store = AuthStore {
            conn: Mutex::new(conn),
            config,
            dummy_hash: OnceLock::new(),
        };
        // Made now, so the first unknown-user login costs no more than later ones.
        store.dummy_hash();
        Ok(store)
    }

    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic elsewhere while holding the lock leaves SQLite consistent
        // (transactions roll back on drop), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ---- users -------------------------------------------------------------

    /// Creates an account. Slow (argon2id): see the type's docs.
    pub fn add_user(&self, user: NewUser, now_ms: i64) -> Result<UserInfo, AuthError> {
        validate_username(&user.username)?;
        validate_password(&user.password)?;
        let (unit, hospital) = validate_bindings(user.role, user.unit, user.hospital)?;
        let subject = clean(user.subject);
        if self.find_user(&user.username)?.is_some() {
            return Err(AuthError::DuplicateUsername);
        }
        let hash = self.hash_password(&user.password)?;
        let conn = self.conn();
        let inserted = conn.execute(
            "INSERT INTO auth_users (username, password_hash, role, unit, hospital, subject,
                                     created_at_ms, password_changed_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            params![
                user.username,
                hash,
                user.role.as_str(),
                unit,
                hospital,
                subject,
                now_ms
            ],
        );
        match inserted {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(AuthError::DuplicateUsername);
            }
            Err(e) => return Err(e.into()),
        }
        Ok(UserInfo {
            id: conn.last_insert_rowid(),
            username: user.username,
            role: user.role,
            unit,
            hospital,
            subject,
            created_at_ms: now_ms,
            disabled_at_ms: None,
        })
    }

    /// Every account, active and revoked, by username.
    pub fn list_users(&self) -> Result<Vec<UserInfo>, AuthError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, username, password_hash, role, unit, hospital, subject, created_at_ms,
                    disabled_at_ms
             FROM auth_users ORDER BY username",
        )?;
        let rows = stmt.query_map([], user_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??.info);
        }
        Ok(out)
    }

    /// One account by username.
    pub fn user(&self, username: &str) -> Result<Option<UserInfo>, AuthError> {
        Ok(self.find_user(username)?.map(|r| r.info))
    }

    fn find_user(&self, username: &str) -> Result<Option<UserRow>, AuthError> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT id, username, password_hash, role, unit, hospital, subject, created_at_ms,
                        disabled_at_ms
                 FROM auth_users WHERE username = ?1",
                [username],
                user_row,
            )
            .optional()?;
        row.transpose()
    }

    /// Disables the account and ends all its sessions. Idempotent; records a
    /// `"revoke"` access-log entry the first time. The entry names the revoked
    /// account; the server should record the acting admin itself through
    /// [`AccessRecorder::record`].
    pub fn revoke_user(&self, username: &str, now_ms: i64) -> Result<(), AuthError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row = tx
            .query_row(
                "SELECT id, username, password_hash, role, unit, hospital, subject, created_at_ms,
                        disabled_at_ms
                 FROM auth_users WHERE username = ?1",
                [username],
                user_row,
            )
            .optional()?
            .transpose()?
            .ok_or(AuthError::UnknownUser)?;
        tx.execute(
            "DELETE FROM auth_sessions WHERE user_id = ?1",
            [row.info.id],
        )?;
        if row.info.disabled_at_ms.is_none() {
            tx.execute(
                "UPDATE auth_users SET disabled_at_ms = ?2 WHERE id = ?1",
                params![row.info.id, now_ms],
            )?;
            append_log(
                &tx,
                &LogRow {
                    at_ms: now_ms,
                    user_id: Some(row.info.id),
                    username: &row.info.username,
                    role: Some(row.info.role),
                    action: "revoke",
                    subject: &format!("user:{}", row.info.username),
                    purpose: "account revoked",
                },
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Sets a new password and ends every session of the account (so a reset
    /// after a leak locks the leaker out). Slow (argon2id).
    pub fn set_password(
        &self,
        username: &str,
        new_password: &str,
        now_ms: i64,
    ) -> Result<(), AuthError> {
        validate_password(new_password)?;
        let user = self.find_user(username)?.ok_or(AuthError::UnknownUser)?;
        let hash = self.hash_password(new_password)?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE auth_users SET password_hash = ?2, password_changed_at_ms = ?3 WHERE id = ?1",
            params![user.info.id, hash, now_ms],
        )?;
        if changed == 0 {
            return Err(AuthError::UnknownUser);
        }
        tx.execute(
            "DELETE FROM auth_sessions WHERE user_id = ?1",
            [user.info.id],
        )?;
        append_log(
            &tx,
            &LogRow {
                at_ms: now_ms,
                user_id: Some(user.info.id),
                username: &user.info.username,
                role: Some(user.info.role),
                action: "set_password",
                subject: &format!("user:{}", user.info.username),
                purpose: "password changed; sessions ended",
            },
        )?;
        tx.commit()?;
        Ok(())
    }

    // ---- sessions ----------------------------------------------------------

    /// Checks the password and opens a session. Slow (argon2id): see the
    /// type's docs.
    ///
    /// `client_key` identifies the caller for rate limiting (the client IP, as
    /// the server sees it). Unknown user, wrong password and revoked account
    /// all give [`AuthError::InvalidCredentials`] after the same argon2 work.
    /// While the username or the client key is locked out, every attempt
    /// gets [`AuthError::RateLimited`] without the password being checked.
    pub fn login(
        &self,
        username: &str,
        password: &str,
        client_key: &str,
        now_ms: i64,
    ) -> Result<Session, AuthError> {
        let username = truncate(&username.trim().to_ascii_lowercase(), 64);
        let client_key = truncate(client_key, 128);

        // 1. Rate limit, account lookup and the attempt itself, in one
        //    IMMEDIATE transaction: the attempt is counted as a failure
        //    *before* the password is checked, so however many logins arrive
        //    at once (from this process or another), no more than
        //    `max_failures` guesses are ever verified per lockout.
        let (user, attempt_id) = {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let by_user = self.lock_remaining(&tx, Key::Username(&username), now_ms)?;
            let by_client = self.lock_remaining(&tx, Key::Client(&client_key), now_ms)?;
            if let Some(retry_after_ms) = by_user.max(by_client) {
                return Err(AuthError::RateLimited { retry_after_ms });
            }
            let user = tx
                .query_row(
                    "SELECT id, username, password_hash, role, unit, hospital, subject,
                            created_at_ms, disabled_at_ms
                     FROM auth_users WHERE username = ?1",
                    [&username],
                    user_row,
                )
                .optional()?
                .transpose()?;
            // A username that matches no account may be a password typed into
            // the wrong field: it is never stored, neither here nor in the
            // access log. Failures for unknown names therefore count only
            // against the client.
            let stored_name = if user.is_some() {
                username.as_str()
            } else {
                ""
            };
            tx.execute(
                "INSERT INTO auth_login_attempts (at_ms, username, client_key, success)
                 VALUES (?1, ?2, ?3, 0)",
                params![now_ms, stored_name, client_key],
            )?;
            let attempt_id = tx.last_insert_rowid();
            tx.commit()?;
            (user, attempt_id)
        };

        // 2. The slow part, without the lock. An unknown user is checked
        //    against a dummy hash so it takes as long as a wrong password.
        let password_ok = match &user {
            Some(u) => verify_password(&u.password_hash, password),
            None => {
                verify_password(self.dummy_hash(), password);
                false
            }
        };
        let active = user
            .as_ref()
            .is_some_and(|u| u.info.disabled_at_ms.is_none());

        // 3. Record the outcome: a success turns its attempt into one (which
        //    clears the username's count); a failure is already counted.
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ok = password_ok && active;
        if !ok {
            let (user_id, role, why) = match &user {
                None => (None, None, "unknown user"),
                Some(u) if !password_ok => (Some(u.info.id), Some(u.info.role), "wrong password"),
                Some(u) => (Some(u.info.id), Some(u.info.role), "account revoked"),
            };
            let logged_name = if user.is_some() {
                username.as_str()
            } else {
                "<unknown>"
            };
            append_log(
                &tx,
                &LogRow {
                    at_ms: now_ms,
                    user_id,
                    username: logged_name,
                    role,
                    action: "login_failed",
                    subject: &format!("user:{logged_name}"),
                    purpose: &format!("{why}; client {client_key}"),
                },
            )?;
            tx.commit()?;
            return Err(AuthError::InvalidCredentials);
        }
        tx.execute(
            "UPDATE auth_login_attempts SET success = 1 WHERE id = ?1",
            [attempt_id],
        )?;
        let Some(user) = user.map(|u| u.info) else {
            return Err(AuthError::InvalidCredentials);
        };

        let mut raw = [0u8; TOKEN_BYTES];
        OsRng.fill_bytes(&mut raw);
        let token = URL_SAFE_NO_PAD.encode(raw);
        let expires_at_ms = now_ms.saturating_add(self.config.session_ttl_ms);
        tx.execute(
            "INSERT INTO auth_sessions (token_hash, user_id, created_at_ms, expires_at_ms, client_key)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                token_hash(&token).as_slice(),
                user.id,
                now_ms,
                expires_at_ms,
                client_key
            ],
        )?;
        append_log(
            &tx,
            &LogRow {
                at_ms: now_ms,
                user_id: Some(user.id),
                username: &user.username,
                role: Some(user.role),
                action: "login",
                subject: &format!("user:{}", user.username),
                purpose: &format!("client {client_key}"),
            },
        )?;
        // Housekeeping: expired sessions and old attempts.
        tx.execute(
            "DELETE FROM auth_sessions WHERE expires_at_ms <= ?1",
            [now_ms],
        )?;
        let keep_ms = (self.config.failure_window_ms)
            .saturating_add(self.config.lockout_ms)
            .max(ATTEMPT_RETENTION_MS);
        tx.execute(
            "DELETE FROM auth_login_attempts WHERE at_ms < ?1",
            [now_ms.saturating_sub(keep_ms)],
        )?;
        tx.commit()?;
        Ok(Session {
            token,
            expires_at_ms,
            principal: user.principal(),
        })
    }

    /// The principal of a live session. Unknown, expired, logged-out and
    /// revoked all give [`AuthError::Unauthenticated`]. Fast: one indexed
    /// lookup, no hashing beyond one SHA-256.
    pub fn authenticate(&self, token: &str, now_ms: i64) -> Result<Principal, AuthError> {
        if token.len() != TOKEN_CHARS {
            return Err(AuthError::Unauthenticated);
        }
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT u.id, u.username, u.password_hash, u.role, u.unit, u.hospital, u.subject,
                        u.created_at_ms, u.disabled_at_ms, s.expires_at_ms
                 FROM auth_sessions s JOIN auth_users u ON u.id = s.user_id
                 WHERE s.token_hash = ?1",
                [token_hash(token).as_slice()],
                |r| Ok((user_row(r)?, r.get::<_, i64>(9)?)),
            )
            .optional()?;
        match row {
            Some((user, expires_at_ms)) => {
                let user = user?;
                if expires_at_ms <= now_ms || user.info.disabled_at_ms.is_some() {
                    Err(AuthError::Unauthenticated)
                } else {
                    Ok(user.info.principal())
                }
            }
            None => Err(AuthError::Unauthenticated),
        }
    }

    /// Ends the session. `Ok(false)` if there was none (already logged out,
    /// expired and purged, or never issued).
    pub fn logout(&self, token: &str) -> Result<bool, AuthError> {
        if token.len() != TOKEN_CHARS {
            return Ok(false);
        }
        let conn = self.conn();
        let n = conn.execute(
            "DELETE FROM auth_sessions WHERE token_hash = ?1",
            [token_hash(token).as_slice()],
        )?;
        Ok(n > 0)
    }

    /// Like [`authenticate`](Self::authenticate), and also what a long-lived
    /// connection needs to notice the session's end: its id and expiry.
    pub fn session(&self, token: &str, now_ms: i64) -> Result<LiveSession, AuthError> {
        if token.len() != TOKEN_CHARS {
            return Err(AuthError::Unauthenticated);
        }
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT u.id, u.username, u.password_hash, u.role, u.unit, u.hospital, u.subject,
                        u.created_at_ms, u.disabled_at_ms, s.expires_at_ms
                 FROM auth_sessions s JOIN auth_users u ON u.id = s.user_id
                 WHERE s.token_hash = ?1",
                [token_hash(token).as_slice()],
                |r| Ok((user_row(r)?, r.get::<_, i64>(9)?)),
            )
            .optional()?;
        match row {
            Some((user, expires_at_ms)) => {
                let user = user?;
                if expires_at_ms <= now_ms || user.info.disabled_at_ms.is_some() {
                    Err(AuthError::Unauthenticated)
                } else {
                    Ok(LiveSession {
                        id: SessionId(token_hash(token)),
                        expires_at_ms,
                        principal: user.info.principal(),
                    })
                }
            }
            None => Err(AuthError::Unauthenticated),
        }
    }

    /// Which of `sessions` (each with the account it belongs to) have ended,
    /// and why, as seen in the database now (one read transaction, so a
    /// revocation committed by another process is seen). `None` for each one
    /// still live.
    pub fn ended_sessions(
        &self,
        sessions: &[(SessionId, i64)],
        now_ms: i64,
    ) -> Result<Vec<Option<SessionEnd>>, AuthError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let mut out = Vec::with_capacity(sessions.len());
        {
            let mut by_token =
                tx.prepare_cached("SELECT expires_at_ms FROM auth_sessions WHERE token_hash = ?1")?;
            let mut by_user =
                tx.prepare_cached("SELECT disabled_at_ms FROM auth_users WHERE id = ?1")?;
            for (id, user_id) in sessions {
                let disabled: Option<Option<i64>> =
                    by_user.query_row([user_id], |r| r.get(0)).optional()?;
                let expires: Option<i64> = by_token
                    .query_row([id.0.as_slice()], |r| r.get(0))
                    .optional()?;
                out.push(match (disabled, expires) {
                    // Revoked, or the account is gone altogether.
                    (None, _) | (Some(Some(_)), _) => Some(SessionEnd::Revoked),
                    // Logged out, or ended by a password change.
                    (_, None) => Some(SessionEnd::LoggedOut),
                    (_, Some(t)) if t <= now_ms => Some(SessionEnd::Expired),
                    _ => None,
                });
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// SQLite's `PRAGMA data_version` of this handle's connection: it changes
    /// whenever *another* connection (another process, such as
    /// `satria user revoke`, or another handle) commits to the file. A cheap
    /// poll that tells when to look at [`ended_sessions`](Self::ended_sessions)
    /// again; this handle's own changes do not move it.
    pub fn data_version(&self) -> Result<i64, AuthError> {
        let conn = self.conn();
        Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    // ---- rate limit --------------------------------------------------------

    /// Remaining lockout for a username or a client key, if locked.
    ///
    /// Locked when the last `max_failures` failures (for a username: since
    /// its last successful login) lie within `failure_window_ms` of each
    /// other and the last of them is less than `lockout_ms` ago. Rate-limited
    /// attempts are not recorded, so the lock lifts on time even while an
    /// attacker keeps knocking.
    fn lock_remaining(
        &self,
        conn: &Connection,
        key: Key<'_>,
        now_ms: i64,
    ) -> Result<Option<i64>, AuthError> {
        let cfg = &self.config;
        if cfg.max_failures == 0 {
            return Ok(None);
        }
        let since = now_ms
            .saturating_sub(cfg.failure_window_ms)
            .saturating_sub(cfg.lockout_ms);
        // Attempts are ordered by row id (the order they were counted in), so
        // failures counted after a success are not hidden by sharing its
        // millisecond.
        let (sql, value, after_id) = match key {
            Key::Username(u) => {
                let last_ok: Option<i64> = conn.query_row(
                    "SELECT MAX(id) FROM auth_login_attempts WHERE username = ?1 AND success = 1",
                    [u],
                    |r| r.get(0),
                )?;
                (
                    "SELECT at_ms FROM auth_login_attempts
                     WHERE username = ?1 AND success = 0 AND at_ms > ?2 AND id > ?4
                     ORDER BY id DESC LIMIT ?3",
                    u,
                    last_ok.unwrap_or(0),
                )
            }
            Key::Client(c) => (
                "SELECT at_ms FROM auth_login_attempts
                 WHERE client_key = ?1 AND success = 0 AND at_ms > ?2 AND id > ?4
                 ORDER BY id DESC LIMIT ?3",
                c,
                0,
            ),
        };
        let mut stmt = conn.prepare_cached(sql)?;
        let times = stmt
            .query_map(params![value, since, cfg.max_failures, after_id], |r| {
                r.get::<_, i64>(0)
            })?
            .collect::<Result<Vec<i64>, _>>()?;
        if times.len() < cfg.max_failures as usize {
            return Ok(None);
        }
        let newest = times.iter().copied().max().unwrap_or(now_ms);
        let oldest = times.iter().copied().min().unwrap_or(now_ms);
        let until = newest.saturating_add(cfg.lockout_ms);
        if newest - oldest < cfg.failure_window_ms && now_ms < until {
            // A failure counted by a parallel login may carry a time a little after
            // this request's `now_ms`: the wait never exceeds the lockout itself.
            Ok(Some((until - now_ms).min(cfg.lockout_ms)))
        } else {
            Ok(None)
        }
    }

    // ---- passwords ---------------------------------------------------------

    fn hash_password(&self, password: &str) -> Result<String, AuthError> {
        let salt = SaltString::generate(&mut OsRng);
        self.config
            .hash
            .argon2()?
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AuthError::Internal(format!("argon2 hashing failed: {e}")))
    }

    /// A hash of a random password, made once with the configured cost, to
    /// verify unknown usernames against.
    fn dummy_hash(&self) -> &str {
        self.dummy_hash.get_or_init(|| {
            let mut raw = [0u8; 16];
            OsRng.fill_bytes(&mut raw);
            self.hash_password(&URL_SAFE_NO_PAD.encode(raw))
                .unwrap_or_default()
        })
    }

    // ---- access log --------------------------------------------------------

    /// Access-log rows matching `filter`, newest first, at most `limit`.
    pub fn access_log(
        &self,
        filter: &AccessFilter,
        limit: usize,
    ) -> Result<Vec<AccessEntry>, AuthError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, at_ms, user_id, username, role, action, subject, purpose, hash
             FROM access_log
             WHERE (?1 IS NULL OR substr(subject, 1, length(?1)) = ?1)
               AND (?2 IS NULL OR username = ?2)
               AND (?3 IS NULL OR at_ms >= ?3)
             ORDER BY id DESC LIMIT ?4",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(
            params![
                filter.subject_prefix,
                filter.username,
                filter.since_ms,
                limit
            ],
            |r| {
                let role: Option<String> = r.get(4)?;
                Ok(AccessEntry {
                    id: r.get(0)?,
                    at_ms: r.get(1)?,
                    user_id: r.get(2)?,
                    username: r.get(3)?,
                    role: role.as_deref().and_then(Role::parse),
                    action: r.get(5)?,
                    subject: r.get(6)?,
                    purpose: r.get(7)?,
                    hash: r.get(8)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Walks the whole hash chain. `Ok(n)`: all `n` rows are intact.
    /// `Err` names the first row that does not fit: one whose contents no
    /// longer match its hash (altered), or whose `prev_hash` is not the hash
    /// of the row before it (a row before it was removed, inserted or had its
    /// hash rewritten). Removing the newest rows is not detectable from the
    /// chain alone: compare the count or last hash with an external copy.
    pub fn verify_access_log(&self) -> Result<u64, String> {
        let mut expected_prev = GENESIS_HASH.to_string();
        let mut prev_id: Option<i64> = None;
        let mut last_id = i64::MIN;
        let mut count = 0u64;
        loop {
            // In chunks, so recorders are not held up behind a long walk.
            let chunk = {
                let conn = self.conn();
                read_chunk(&conn, last_id, 1000)
                    .map_err(|e| format!("access_log could not be read: {e}"))?
            };
            if chunk.is_empty() {
                return Ok(count);
            }
            for (row, prev_hash, hash) in chunk {
                if prev_hash != expected_prev {
                    return Err(match prev_id {
                        Some(p) => format!(
                            "access_log row {}: prev_hash does not match the hash of row {p} \
                             (a row was removed, inserted or rewritten before it)",
                            row.0
                        ),
                        None => format!(
                            "access_log row {}: the first row does not start the chain \
                             (earlier rows were removed)",
                            row.0
                        ),
                    });
                }
                let role = row.4.as_deref().and_then(Role::parse);
                let computed = chain_hash(
                    &prev_hash,
                    row.0,
                    &LogRow {
                        at_ms: row.1,
                        user_id: row.2,
                        username: &row.3,
                        role,
                        action: &row.5,
                        subject: &row.6,
                        purpose: &row.7,
                    },
                );
                if computed != hash || (row.4.is_some() && role.is_none()) {
                    return Err(format!(
                        "access_log row {}: contents do not match its hash (row altered)",
                        row.0
                    ));
                }
                expected_prev = hash;
                prev_id = Some(row.0);
                last_id = row.0;
                count += 1;
            }
        }
    }
}

type ChunkRow = (
    (
        i64,
        i64,
        Option<i64>,
        String,
        Option<String>,
        String,
        String,
        String,
    ),
    String,
    String,
);

fn read_chunk(conn: &Connection, after_id: i64, n: i64) -> rusqlite::Result<Vec<ChunkRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at_ms, user_id, username, role, action, subject, purpose, prev_hash, hash
         FROM access_log WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after_id, n], |r| {
        Ok((
            (
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ),
            r.get(8)?,
            r.get(9)?,
        ))
    })?;
    rows.collect()
}

impl AccessRecorder for AuthStore {
    /// Writes the batch at once, on the caller's thread (an IMMEDIATE
    /// transaction and an fsync): the returned future is already resolved.
    /// The server queues records to a writer thread instead.
    fn record_many(&self, batch: Vec<crate::AccessRecord>) -> crate::Recording {
        let r = self.write_access_batch(&batch);
        Box::pin(std::future::ready(r))
    }
}

impl AuthStore {
    /// Appends the batch to the access log in one IMMEDIATE transaction,
    /// chained in order: all of it is durable, or none of it and an error.
    pub fn write_access_batch(
        &self,
        batch: &[crate::AccessRecord],
    ) -> Result<(), crate::AccessLogError> {
        if batch.is_empty() {
            return Ok(());
        }
        let result = (|| -> rusqlite::Result<()> {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for r in batch {
                append_log(
                    &tx,
                    &LogRow {
                        at_ms: r.at_ms,
                        user_id: Some(r.who.user_id),
                        username: &r.who.username,
                        role: Some(r.who.role),
                        action: &r.action,
                        subject: &r.subject,
                        purpose: &r.purpose,
                    },
                )?;
            }
            tx.commit()
        })();
        result.map_err(|e| crate::AccessLogError(e.to_string()))
    }

    /// Whether a row could be appended to the access log now: appends one in
    /// a transaction that is rolled back, so nothing is written. For a caller
    /// that refuses work while the log is failing and must learn when it
    /// works again.
    pub fn probe_access_log(&self) -> Result<(), crate::AccessLogError> {
        let result = (|| -> rusqlite::Result<()> {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            append_log(
                &tx,
                &LogRow {
                    at_ms: 0,
                    user_id: None,
                    username: "<probe>",
                    role: None,
                    action: "probe",
                    subject: "access_log",
                    purpose: "is the access log writable",
                },
            )?;
            tx.rollback()
        })();
        result.map_err(|e| crate::AccessLogError(e.to_string()))
    }

    /// Records an access at an explicit time (for callers with their own
    /// clock, and tests): durable when it returns `Ok`.
    pub fn record_at(
        &self,
        who: &Principal,
        action: &str,
        subject: &str,
        purpose: &str,
        at_ms: i64,
    ) -> Result<(), crate::AccessLogError> {
        self.write_access_batch(&[crate::AccessRecord {
            who: who.clone(),
            action: action.to_string(),
            subject: subject.to_string(),
            purpose: purpose.to_string(),
            at_ms,
        }])
    }
}

enum Key<'a> {
    Username(&'a str),
    Client(&'a str),
}

/// Appends one chained row; the caller holds an IMMEDIATE transaction so the
/// read of the last hash and the insert are atomic across processes.
fn append_log(conn: &Connection, row: &LogRow<'_>) -> rusqlite::Result<()> {
    let last: Option<(i64, String)> = conn
        .query_row(
            "SELECT id, hash FROM access_log ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (id, prev_hash) = match last {
        Some((id, hash)) => (id + 1, hash),
        None => (1, GENESIS_HASH.to_string()),
    };
    let hash = chain_hash(&prev_hash, id, row);
    conn.execute(
        "INSERT INTO access_log (id, at_ms, user_id, username, role, action, subject, purpose,
                                 prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            id,
            row.at_ms,
            row.user_id,
            row.username,
            row.role.map(Role::as_str),
            row.action,
            row.subject,
            row.purpose,
            prev_hash,
            hash
        ],
    )?;
    Ok(())
}

/// `hex(sha256(prev_hash_hex || canonical(row)))`. The canonical form is a
/// version tag followed by every field, length-prefixed, so no two rows share
/// an encoding.
fn chain_hash(prev_hash: &str, id: i64, row: &LogRow<'_>) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"satria-access-log-v1");
    h.update(id.to_be_bytes());
    h.update(row.at_ms.to_be_bytes());
    match row.user_id {
        Some(u) => {
            h.update([1]);
            h.update(u.to_be_bytes());
        }
        None => h.update([0]),
    }
    let role = row.role.map(Role::as_str);
    for field in [
        Some(row.username),
        role,
        Some(row.action),
        Some(row.subject),
        Some(row.purpose),
    ] {
        match field {
            Some(s) => {
                h.update([1]);
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
            None => h.update([0]),
        }
    }
    hex(&h.finalize())
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

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn verify_password(phc: &str, password: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Maps a user row; the inner `Result` carries a role this build cannot parse.
fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<UserRow, AuthError>> {
    let role: String = r.get(3)?;
    let Some(role) = Role::parse(&role) else {
        return Ok(Err(AuthError::Storage(format!(
            "auth_users row has unknown role {role:?}"
        ))));
    };
    Ok(Ok(UserRow {
        password_hash: r.get(2)?,
        info: UserInfo {
            id: r.get(0)?,
            username: r.get(1)?,
            role,
            unit: r.get(4)?,
            hospital: r.get(5)?,
            subject: r.get(6)?,
            created_at_ms: r.get(7)?,
            disabled_at_ms: r.get(8)?,
        },
    }))
}

pub(crate) fn validate_username(username: &str) -> Result<(), AuthError> {
    let ok = (3..=32).contains(&username.len())
        && username
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(AuthError::InvalidUsername)
    }
}

fn validate_password(password: &str) -> Result<(), AuthError> {
    let n = password.chars().count();
    if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        Ok(())
    } else {
        Err(AuthError::WeakPassword)
    }
}

/// Blank bindings count as absent.
fn clean(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn validate_bindings(
    role: Role,
    unit: Option<String>,
    hospital: Option<String>,
) -> Result<(Option<String>, Option<String>), AuthError> {
    let (unit, hospital) = (clean(unit), clean(hospital));
    match role {
        Role::Crew if unit.is_none() => Err(AuthError::BindingRequired {
            role,
            field: "unit",
        }),
        Role::Hospital if hospital.is_none() => Err(AuthError::BindingRequired {
            role,
            field: "hospital",
        }),
        _ if role != Role::Crew && unit.is_some() => Err(AuthError::BindingNotAllowed {
            role,
            field: "unit",
        }),
        _ if role != Role::Hospital && hospital.is_some() => Err(AuthError::BindingNotAllowed {
            role,
            field: "hospital",
        }),
        _ => Ok((unit, hospital)),
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}
