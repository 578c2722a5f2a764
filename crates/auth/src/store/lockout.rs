//! Login lockout: counting login attempts per username and per client, how
//! long a locked caller must wait (the `Retry-After` of a rate-limited login),
//! and how long attempts are kept.

use super::AuthStore;
use crate::AuthError;
use satria_sql::{Tx, V};

/// How long a login attempt is kept at least (for the audit of attacks).
const ATTEMPT_RETENTION_MS: i64 = 24 * 60 * 60 * 1000;

pub(super) enum Key<'a> {
    Username(&'a str),
    Client(&'a str),
}

impl AuthStore {
    /// Remaining lockout for a username or a client key, if locked.
    ///
    /// Locked when the last `max_failures` failures (for a username: since
    /// its last successful login) lie within `failure_window_ms` of each
    /// other and the last of them is less than `lockout_ms` ago. Rate-limited
    /// attempts are not recorded, so the lock lifts on time even while an
    /// attacker keeps knocking.
    pub(super) fn lock_remaining(
        &self,
        tx: &mut dyn Tx,
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
                let last_ok = tx
                    .query_opt(
                        "SELECT MAX(id) FROM auth_login_attempts WHERE username = $1 AND success = 1",
                        &[V::from(u)],
                    )?
                    .map(|r| r.opt_i64(0))
                    .transpose()?
                    .flatten();
                (
                    "SELECT at_ms FROM auth_login_attempts
                     WHERE username = $1 AND success = 0 AND at_ms > $2 AND id > $4
                     ORDER BY id DESC LIMIT $3",
                    u,
                    last_ok.unwrap_or(0),
                )
            }
            Key::Client(c) => (
                "SELECT at_ms FROM auth_login_attempts
                 WHERE client_key = $1 AND success = 0 AND at_ms > $2 AND id > $4
                 ORDER BY id DESC LIMIT $3",
                c,
                0,
            ),
        };
        let times = tx
            .query(
                sql,
                &[
                    V::from(value),
                    V::from(since),
                    V::from(i64::from(cfg.max_failures)),
                    V::from(after_id),
                ],
            )?
            .iter()
            .map(|r| r.i64(0))
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

    /// Deletes the attempts too old to count towards any lockout, keeping
    /// each for at least [`ATTEMPT_RETENTION_MS`].
    pub(super) fn purge_attempts(&self, tx: &mut dyn Tx, now_ms: i64) -> Result<(), AuthError> {
        let keep_ms = (self.config.failure_window_ms)
            .saturating_add(self.config.lockout_ms)
            .max(ATTEMPT_RETENTION_MS);
        tx.execute(
            "DELETE FROM auth_login_attempts WHERE at_ms < $1",
            &[V::from(now_ms.saturating_sub(keep_ms))],
        )?;
        Ok(())
    }
}

/// Counts a login attempt as a failure, before its password is checked, and
/// returns its id for [`attempt_succeeded`]. `username` is empty for a name
/// that matches no account, so such a failure counts only against the client.
pub(super) fn count_attempt(
    tx: &mut dyn Tx,
    now_ms: i64,
    username: &str,
    client_key: &str,
) -> Result<i64, AuthError> {
    let row = tx.query_opt(
        "INSERT INTO auth_login_attempts (at_ms, username, client_key, success)
         VALUES ($1, $2, $3, 0) RETURNING id",
        &[V::from(now_ms), V::from(username), V::from(client_key)],
    )?;
    match row {
        Some(r) => Ok(r.i64(0)?),
        None => Err(AuthError::Storage("the login attempt got no id".into())),
    }
}

/// Turns a counted attempt into a success, which clears its username's count.
pub(super) fn attempt_succeeded(tx: &mut dyn Tx, attempt_id: i64) -> Result<(), AuthError> {
    tx.execute(
        "UPDATE auth_login_attempts SET success = 1 WHERE id = $1",
        &[V::from(attempt_id)],
    )?;
    Ok(())
}
