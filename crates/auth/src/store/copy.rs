//! Copying a store into another (`satria migrate`: a centre's SQLite
//! accounts into its cluster's PostgreSQL): the accounts with their ids and
//! password hashes, the live sessions (so consoles stay logged in), and the
//! access log row for row with its hashes, so its chain verifies unchanged.
//! Login attempts are not copied: they only matter for minutes.

use super::AuthStore;
use crate::AuthError;
use satria_sql::{End, Row, Tx, V};

/// What [`AuthStore::copy_into`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// Accounts copied (0 when the target already held this copy).
    pub users: u64,
    /// Live sessions copied.
    pub sessions: u64,
    /// Access-log rows copied.
    pub access_log: u64,
    /// The target held exactly this copy already (an earlier run): nothing was written.
    pub already: bool,
}

const USERS: &str = "SELECT id, username, password_hash, role, unit, hospital, subject, \
     created_at_ms, password_changed_at_ms, disabled_at_ms FROM auth_users ORDER BY id";
const SESSIONS: &str = "SELECT token_hash, user_id, created_at_ms, expires_at_ms, client_key \
     FROM auth_sessions WHERE expires_at_ms > $1 ORDER BY token_hash";
const LOG: &str = "SELECT id, at_ms, user_id, username, role, action, subject, purpose, \
     prev_hash, hash FROM access_log ORDER BY id";

/// A row's values, in its columns' order.
fn values(r: &Row, n: usize) -> Vec<V> {
    (0..n).map(|i| r.value(i)).collect()
}

fn last_log(tx: &mut dyn Tx) -> Result<Option<(i64, String)>, AuthError> {
    tx.query_opt(
        "SELECT id, hash FROM access_log ORDER BY id DESC LIMIT 1",
        &[],
    )?
    .map(|r| Ok((r.i64(0)?, r.text(1)?)))
    .transpose()
}

fn usernames(tx: &mut dyn Tx) -> Result<Vec<String>, AuthError> {
    tx.query("SELECT username FROM auth_users ORDER BY id", &[])?
        .iter()
        .map(|r| r.text(0).map_err(AuthError::from))
        .collect()
}

impl AuthStore {
    /// Copies this store into `target`, which must be empty, or hold exactly
    /// this copy already (same accounts, same access-log head: nothing is
    /// written). Anything else is refused, naming what differs, and the
    /// target is left unchanged. All of it in one transaction of the target.
    pub fn copy_into(&self, target: &AuthStore, now_ms: i64) -> Result<CopyReport, AuthError> {
        self.verify_access_log()
            .map_err(|e| AuthError::Storage(format!("the source's {e}; nothing was copied")))?;
        let (users, sessions, log, names, head) = self.db.read(|tx| {
            Ok::<_, AuthError>((
                tx.query(USERS, &[])?,
                tx.query(SESSIONS, &[V::from(now_ms)])?,
                tx.query(LOG, &[])?,
                usernames(tx)?,
                last_log(tx)?,
            ))
        })?;
        let report = target.db.write(End::Commit, |tx| {
            let (their_names, their_head) = (usernames(tx)?, last_log(tx)?);
            if !their_names.is_empty() || their_head.is_some() {
                if their_names == names && their_head == head {
                    return Ok(CopyReport {
                        users: 0,
                        sessions: 0,
                        access_log: 0,
                        already: true,
                    });
                }
                return Err(AuthError::Storage(format!(
                    "the target holds other accounts ({} accounts, access log up to row {}; the source has {} and {}); nothing was copied",
                    their_names.len(),
                    their_head.as_ref().map_or(0, |h| h.0),
                    names.len(),
                    head.as_ref().map_or(0, |h| h.0),
                )));
            }
            for u in &users {
                tx.execute(
                    "INSERT INTO auth_users (id, username, password_hash, role, unit, hospital,
                         subject, created_at_ms, password_changed_at_ms, disabled_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    &values(u, 10),
                )?;
            }
            for s in &sessions {
                tx.execute(
                    "INSERT INTO auth_sessions (token_hash, user_id, created_at_ms, expires_at_ms,
                         client_key) VALUES ($1, $2, $3, $4, $5)",
                    &values(s, 5),
                )?;
            }
            for l in &log {
                tx.execute(
                    "INSERT INTO access_log (id, at_ms, user_id, username, role, action, subject,
                         purpose, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    &values(l, 10),
                )?;
            }
            target
                .db
                .after_explicit_ids(tx, &["auth_users", "auth_login_attempts"])?;
            Ok(CopyReport {
                users: users.len() as u64,
                sessions: sessions.len() as u64,
                access_log: log.len() as u64,
                already: false,
            })
        })?;
        let rows = target
            .verify_access_log()
            .map_err(|e| AuthError::Storage(format!("after the copy, the target's {e}")))?;
        if rows != log.len() as u64 {
            return Err(AuthError::Storage(format!(
                "after the copy the target's access log has {rows} rows, the source's {}",
                log.len()
            )));
        }
        Ok(report)
    }
}
