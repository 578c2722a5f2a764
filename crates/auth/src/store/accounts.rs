//! Accounts: creating, listing and revoking them, their role bindings, and
//! their passwords (rules, argon2id hashing and verification).

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::AuthStore;
use super::access_log::{LogRow, append_log};
use crate::{AuthError, Principal, Role};
use satria_sql::{End, Row, Tx, V};

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted, in characters (bounds the hashing work an
/// attacker can ask for).
pub const MAX_PASSWORD_CHARS: usize = 256;

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

/// What `login` needs of an account.
pub(super) struct UserRow {
    pub(super) info: UserInfo,
    pub(super) password_hash: String,
}

impl AuthStore {
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
        let inserted = self.db.write(End::Commit, |tx| {
            tx.query_opt(
                "INSERT INTO auth_users (username, password_hash, role, unit, hospital, subject,
                                         created_at_ms, password_changed_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
                &[
                    V::from(&user.username),
                    V::from(hash),
                    V::from(user.role.as_str()),
                    V::from(&unit),
                    V::from(&hospital),
                    V::from(&subject),
                    V::from(now_ms),
                ],
            )
        });
        let id = match inserted {
            Ok(Some(row)) => row.i64(0)?,
            Ok(None) => return Err(AuthError::Storage("the new account got no id".into())),
            Err(e) if e.unique_violation => return Err(AuthError::DuplicateUsername),
            Err(e) => return Err(e.into()),
        };
        Ok(UserInfo {
            id,
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
        self.db.read(|tx| {
            tx.query(&format!("{USER_COLUMNS} ORDER BY username"), &[])?
                .iter()
                .map(|r| user_row(r).map(|u| u.info))
                .collect()
        })
    }

    /// One account by username.
    pub fn user(&self, username: &str) -> Result<Option<UserInfo>, AuthError> {
        Ok(self.find_user(username)?.map(|r| r.info))
    }

    fn find_user(&self, username: &str) -> Result<Option<UserRow>, AuthError> {
        self.db.read(|tx| find_user(tx, username))
    }

    /// Disables the account and ends all its sessions. Idempotent; records a
    /// `"revoke"` access-log entry the first time. The entry names the revoked
    /// account; the server should record the acting admin itself through
    /// [`AccessRecorder::record`](crate::AccessRecorder::record).
    pub fn revoke_user(&self, username: &str, now_ms: i64) -> Result<(), AuthError> {
        self.db.write(End::Commit, |tx| {
            let row = find_user(tx, username)?.ok_or(AuthError::UnknownUser)?;
            tx.execute(
                "DELETE FROM auth_sessions WHERE user_id = $1",
                &[V::from(row.info.id)],
            )?;
            if row.info.disabled_at_ms.is_none() {
                tx.execute(
                    "UPDATE auth_users SET disabled_at_ms = $2 WHERE id = $1",
                    &[V::from(row.info.id), V::from(now_ms)],
                )?;
                append_log(
                    tx,
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
            Ok(())
        })
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
        self.db.write(End::Commit, |tx| {
            let changed = tx.execute(
                "UPDATE auth_users SET password_hash = $2, password_changed_at_ms = $3 WHERE id = $1",
                &[V::from(user.info.id), V::from(hash), V::from(now_ms)],
            )?;
            if changed == 0 {
                return Err(AuthError::UnknownUser);
            }
            tx.execute(
                "DELETE FROM auth_sessions WHERE user_id = $1",
                &[V::from(user.info.id)],
            )?;
            append_log(
                tx,
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
            Ok(())
        })
    }
}

/// The columns [`user_row`] reads, in its order.
pub(super) const USER_COLUMNS: &str = "SELECT id, username, password_hash, role, unit, hospital, \
     subject, created_at_ms, disabled_at_ms FROM auth_users";

/// The account named `username`, in `tx`.
pub(super) fn find_user(tx: &mut dyn Tx, username: &str) -> Result<Option<UserRow>, AuthError> {
    tx.query_opt(
        &format!("{USER_COLUMNS} WHERE username = $1"),
        &[V::from(username)],
    )?
    .map(|r| user_row(&r))
    .transpose()
}

/// Maps a row of [`USER_COLUMNS`] (from column `at`); a role this build
/// cannot parse is a storage error.
pub(super) fn user_row_at(r: &Row, at: usize) -> Result<UserRow, AuthError> {
    let role = r.text(at + 3)?;
    let Some(role) = Role::parse(&role) else {
        return Err(AuthError::Storage(format!(
            "auth_users row has unknown role {role:?}"
        )));
    };
    Ok(UserRow {
        password_hash: r.text(at + 2)?,
        info: UserInfo {
            id: r.i64(at)?,
            username: r.text(at + 1)?,
            role,
            unit: r.opt_text(at + 4)?,
            hospital: r.opt_text(at + 5)?,
            subject: r.opt_text(at + 6)?,
            created_at_ms: r.i64(at + 7)?,
            disabled_at_ms: r.opt_i64(at + 8)?,
        },
    })
}

/// [`user_row_at`] from the first column.
pub(super) fn user_row(r: &Row) -> Result<UserRow, AuthError> {
    user_row_at(r, 0)
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

// ---- passwords -------------------------------------------------------------

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

    pub(super) fn argon2(self) -> Result<Argon2<'static>, AuthError> {
        let params = Params::new(self.m_cost_kib, self.t_cost, self.p_cost, None)
            .map_err(|e| AuthError::Internal(format!("invalid argon2 parameters: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

impl AuthStore {
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
    pub(super) fn dummy_hash(&self) -> &str {
        self.dummy_hash.get_or_init(|| {
            let mut raw = [0u8; 16];
            OsRng.fill_bytes(&mut raw);
            self.hash_password(&URL_SAFE_NO_PAD.encode(raw))
                .unwrap_or_default()
        })
    }
}

pub(super) fn verify_password(phc: &str, password: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}
