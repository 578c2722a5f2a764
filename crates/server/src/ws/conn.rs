//! What a connection knows of its caller: the principal and the session it
//! was opened with, watched for its end ([`Conn`], [`SessionWatch`]).

use super::closing::Stop;
use crate::{AppState, now_ms};
use satria_auth::{Principal, SessionEnd, SessionId};
use std::sync::Arc;

/// What a socket knows of its session, to notice its end.
pub(super) struct SessionWatch<'a> {
    pub(super) reg: crate::sessions::Registration<'a>,
    pub(super) id: SessionId,
    pub(super) expires_at_ms: i64,
}

impl SessionWatch<'_> {
    /// Why the session ended, if it did (as far as this server knows).
    pub(super) fn ended(&self) -> Option<SessionEnd> {
        if let Some(why) = *self.reg.ended.borrow() {
            return Some(why);
        }
        (now_ms() >= self.expires_at_ms).then_some(SessionEnd::Expired)
    }

    /// Asks the store itself (authoritative, and sees another process's
    /// revocation before the watcher does): `Ok(true)` when it holds the
    /// session live, `Ok(false)` when it cannot be read now (a database
    /// outage: nothing can be revoked either; the caller decides).
    pub(super) async fn recheck(&self, state: &Arc<AppState>, user_id: i64) -> Result<bool, Stop> {
        if let Some(why) = self.ended() {
            return Err(Stop::session(why));
        }
        let auth = Arc::clone(&state.auth);
        let id = self.id;
        let r =
            tokio::task::spawn_blocking(move || auth.ended_sessions(&[(id, user_id)], now_ms()))
                .await;
        match r {
            Ok(Ok(v)) => match v.first().copied().flatten() {
                Some(why) => {
                    state.sessions.end(id, why);
                    Err(Stop::session(why))
                }
                None => Ok(true),
            },
            _ => Ok(false),
        }
    }
}

/// Per-connection context of [`forward`](super::events::forward) and friends.
pub(super) struct Conn<'a> {
    pub(super) state: &'a Arc<AppState>,
    pub(super) who: Principal,
    pub(super) session: SessionWatch<'a>,
    /// The bearer token of the hello: a follower passes the client's commands
    /// to the leader under it (never logged, never sent anywhere else).
    pub(super) token: String,
}

impl Conn<'_> {
    /// Refuses to go on once the session ended or the access log fails (for a
    /// personal frame).
    pub(super) fn may_deliver(&self, personal: bool) -> Result<(), Stop> {
        if let Some(why) = self.session.ended() {
            return Err(Stop::session(why));
        }
        if personal && !self.state.audit.is_healthy() {
            return Err(Stop::access_log());
        }
        Ok(())
    }
}
