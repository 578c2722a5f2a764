//! Sessions: login (which opens one), the bearer tokens, their validation,
//! logout, expiry, and noticing sessions ended by another process.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::access_log::{LogRow, append_log};
use super::accounts::{find_user, user_row_at, verify_password};
use super::lockout::{Key, attempt_succeeded, count_attempt};
use super::{AuthStore, hex};
use crate::{AuthError, Principal};
use satria_sql::{Db, End, V};

/// Random bytes in a session token.
const TOKEN_BYTES: usize = 32;
/// Length of the URL-safe, unpadded base64 of [`TOKEN_BYTES`].
const TOKEN_CHARS: usize = 43;

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

impl AuthStore {
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
        let (user, attempt_id) = self.db.write(End::Commit, |tx| {
            let by_user = self.lock_remaining(tx, Key::Username(&username), now_ms)?;
            let by_client = self.lock_remaining(tx, Key::Client(&client_key), now_ms)?;
            if let Some(retry_after_ms) = by_user.max(by_client) {
                return Err(AuthError::RateLimited { retry_after_ms });
            }
            let user = find_user(tx, &username)?;
            // A username that matches no account may be a password typed into
            // the wrong field: it is never stored, neither here nor in the
            // access log. Failures for unknown names therefore count only
            // against the client.
            let stored_name = if user.is_some() {
                username.as_str()
            } else {
                ""
            };
            let attempt_id = count_attempt(tx, now_ms, stored_name, &client_key)?;
            Ok((user, attempt_id))
        })?;

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
            self.db.write(End::Commit, |tx| {
                append_log(
                    tx,
                    &LogRow {
                        at_ms: now_ms,
                        user_id,
                        username: logged_name,
                        role,
                        action: "login_failed",
                        subject: &format!("user:{logged_name}"),
                        purpose: &format!("{why}; client {client_key}"),
                    },
                )
                .map_err(AuthError::from)
            })?;
            return Err(AuthError::InvalidCredentials);
        }
        let Some(user) = user.map(|u| u.info) else {
            return Err(AuthError::InvalidCredentials);
        };

        let mut raw = [0u8; TOKEN_BYTES];
        OsRng.fill_bytes(&mut raw);
        let token = URL_SAFE_NO_PAD.encode(raw);
        let expires_at_ms = now_ms.saturating_add(self.config.session_ttl_ms);
        self.db.write(End::Commit, |tx| {
            attempt_succeeded(tx, attempt_id)?;
            tx.execute(
                "INSERT INTO auth_sessions (token_hash, user_id, created_at_ms, expires_at_ms, client_key)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    V::from(token_hash(&token).as_slice()),
                    V::from(user.id),
                    V::from(now_ms),
                    V::from(expires_at_ms),
                    V::from(&client_key),
                ],
            )?;
            append_log(
                tx,
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
                "DELETE FROM auth_sessions WHERE expires_at_ms <= $1",
                &[V::from(now_ms)],
            )?;
            self.purge_attempts(tx, now_ms)
        })?;
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
        self.session(token, now_ms).map(|s| s.principal)
    }

    /// Ends the session. `Ok(false)` if there was none (already logged out,
    /// expired and purged, or never issued).
    pub fn logout(&self, token: &str) -> Result<bool, AuthError> {
        if token.len() != TOKEN_CHARS {
            return Ok(false);
        }
        let n = self.db.write(End::Commit, |tx| {
            tx.execute(
                "DELETE FROM auth_sessions WHERE token_hash = $1",
                &[V::from(token_hash(token).as_slice())],
            )
        })?;
        Ok(n > 0)
    }

    /// Like [`authenticate`](Self::authenticate), and also what a long-lived
    /// connection needs to notice the session's end: its id and expiry.
    ///
    /// While the database cannot be read (a cluster's PostgreSQL restarting),
    /// a session this handle found live before is trusted until it expires,
    /// so dispatchers and crews keep reading from memory; a token it never
    /// saw gets [`AuthError::Storage`], not `Unauthenticated`: nothing says
    /// it is not valid. No session can be revoked meanwhile (a revocation is
    /// a write); a node cut from the database while others reach it keeps
    /// trusting what it saw until the database answers it again.
    pub fn session(&self, token: &str, now_ms: i64) -> Result<LiveSession, AuthError> {
        if token.len() != TOKEN_CHARS {
            return Err(AuthError::Unauthenticated);
        }
        let id = SessionId::of(token);
        match self.session_in_db(token, now_ms) {
            Ok(live) => {
                self.remember(&live, now_ms);
                Ok(live)
            }
            Err(AuthError::Storage(why)) => {
                let seen = self.verified_sessions().get(&id).cloned();
                match seen {
                    Some(live) if live.expires_at_ms > now_ms => {
                        tracing::warn!(
                            "the accounts cannot be read ({why}); a session seen live is trusted until it expires"
                        );
                        Ok(live)
                    }
                    _ => Err(AuthError::Storage(why)),
                }
            }
            Err(e) => {
                self.verified_sessions().remove(&id);
                Err(e)
            }
        }
    }

    fn verified_sessions(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<SessionId, LiveSession>> {
        self.verified.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `live` for [`session`](Self::session)'s fallback; at most
    /// 100,000 sessions (the expired ones go first).
    fn remember(&self, live: &LiveSession, now_ms: i64) {
        let mut seen = self.verified_sessions();
        if seen.len() >= 100_000 && !seen.contains_key(&live.id) {
            seen.retain(|_, s| s.expires_at_ms > now_ms);
            if seen.len() >= 100_000 {
                seen.clear();
            }
        }
        seen.insert(live.id, live.clone());
    }

    fn session_in_db(&self, token: &str, now_ms: i64) -> Result<LiveSession, AuthError> {
        let row = self.db.read(|tx| {
            // The session's expiry, then the account's columns in `user_row_at`'s order.
            tx.query_opt(
                "SELECT s.expires_at_ms, u.id, u.username, u.password_hash, u.role, u.unit,
                        u.hospital, u.subject, u.created_at_ms, u.disabled_at_ms
                 FROM auth_sessions s JOIN auth_users u ON u.id = s.user_id
                 WHERE s.token_hash = $1",
                &[V::from(token_hash(token).as_slice())],
            )
            .map_err(AuthError::from)
        })?;
        let Some(row) = row else {
            return Err(AuthError::Unauthenticated);
        };
        let expires_at_ms = row.i64(0)?;
        let user = user_row_at(&row, 1)?;
        if expires_at_ms <= now_ms || user.info.disabled_at_ms.is_some() {
            return Err(AuthError::Unauthenticated);
        }
        Ok(LiveSession {
            id: SessionId(token_hash(token)),
            expires_at_ms,
            principal: user.info.principal(),
        })
    }

    /// Which of `sessions` (each with the account it belongs to) have ended,
    /// and why, as seen in the database now (one read transaction, so a
    /// revocation committed by another process or node is seen). `None` for
    /// each one still live.
    pub fn ended_sessions(
        &self,
        sessions: &[(SessionId, i64)],
        now_ms: i64,
    ) -> Result<Vec<Option<SessionEnd>>, AuthError> {
        self.db.read(|tx| {
            let mut out = Vec::with_capacity(sessions.len());
            for (id, user_id) in sessions {
                let disabled: Option<Option<i64>> = tx
                    .query_opt(
                        "SELECT disabled_at_ms FROM auth_users WHERE id = $1",
                        &[V::from(*user_id)],
                    )?
                    .map(|r| r.opt_i64(0))
                    .transpose()?;
                let expires: Option<i64> = tx
                    .query_opt(
                        "SELECT expires_at_ms FROM auth_sessions WHERE token_hash = $1",
                        &[V::from(id.0.as_slice())],
                    )?
                    .map(|r| r.i64(0))
                    .transpose()?;
                out.push(match (disabled, expires) {
                    // Revoked, or the account is gone altogether.
                    (None, _) | (Some(Some(_)), _) => Some(SessionEnd::Revoked),
                    // Logged out, or ended by a password change.
                    (_, None) => Some(SessionEnd::LoggedOut),
                    (_, Some(t)) if t <= now_ms => Some(SessionEnd::Expired),
                    _ => None,
                });
            }
            Ok(out)
        })
    }

    /// A number that changes when accounts or sessions change: on SQLite,
    /// `PRAGMA data_version` of this handle's connection, which moves
    /// whenever *another* connection (another process, such as `satria user
    /// revoke`, or another handle) commits to the file; on PostgreSQL, a
    /// counter that triggers move on every revocation, password change and
    /// ended session, whichever node made it. A cheap poll that tells when to
    /// look at [`ended_sessions`](Self::ended_sessions) again.
    pub fn data_version(&self) -> Result<i64, AuthError> {
        let sql = match &self.db {
            Db::Sqlite(_) => "PRAGMA data_version",
            Db::Postgres { .. } => "SELECT n FROM auth_changes WHERE id = 1",
        };
        self.db.read(|tx| match tx.query_opt(sql, &[])? {
            Some(r) => r.i64(0).map_err(AuthError::from),
            None => Err(AuthError::Storage("no data version".into())),
        })
    }
}

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}
