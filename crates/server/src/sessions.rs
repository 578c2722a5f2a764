//! Open WebSockets do not outlive their sessions.
//!
//! Every socket registers its session (its [`SessionId`] and account) in
//! [`Sessions`] and holds a `watch` receiver that flips to the reason when the
//! session ends. Three ways a session ends while a socket is open:
//!
//! - logout through this server: the handler calls [`Sessions::end`] at once;
//! - revocation, a password change, or logout through another process writing
//!   `auth.sqlite` (`satria user revoke`): [`watch`] polls SQLite's
//!   `data_version` every [`POLL_EVERY`] and, when another connection wrote the
//!   file, re-checks every open socket's session in one read transaction;
//! - expiry: each socket arms a timer for its session's `expires_at_ms`.
//!
//! The socket checks the flag before forwarding any event and before applying
//! any command, and re-authenticates against the store before submitting any
//! command other than a position, so nothing is delivered to it or applied from
//! it once the server knows (docs/protocol.md, "Closing").

use crate::AppState;
use satria_auth::{SessionEnd, SessionId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// How often the auth database is polled for changes by other processes.
pub const POLL_EVERY: Duration = Duration::from_millis(200);

struct Entry {
    session: SessionId,
    user_id: i64,
    ended: watch::Sender<Option<SessionEnd>>,
}

/// The sessions of the open sockets.
#[derive(Default)]
pub struct Sessions {
    next: AtomicU64,
    open: Mutex<HashMap<u64, Entry>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("open", &self.len())
            .finish()
    }
}

/// A socket's registration; unregisters when dropped.
pub struct Registration<'a> {
    sessions: &'a Sessions,
    key: u64,
    /// Flips from `None` to the reason the session ended.
    pub ended: watch::Receiver<Option<SessionEnd>>,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        self.sessions.lock().remove(&self.key);
    }
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers an open socket of `session` (of account `user_id`).
    pub fn register(&self, session: SessionId, user_id: i64) -> Registration<'_> {
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = watch::channel(None);
        self.lock().insert(
            key,
            Entry {
                session,
                user_id,
                ended: tx,
            },
        );
        Registration {
            sessions: self,
            key,
            ended: rx,
        }
    }

    /// Open sockets.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Tells every socket of `session` that it ended; how many there were.
    pub fn end(&self, session: SessionId, why: SessionEnd) -> usize {
        let g = self.lock();
        let mut n = 0;
        for e in g.values().filter(|e| e.session == session) {
            e.ended.send_if_modified(|v| v.replace(why).is_none());
            n += 1;
        }
        n
    }

    /// Asks the store about every open socket's session and ends the ones that
    /// ended (one read transaction). Returns how many sockets were told.
    pub fn recheck(&self, auth: &satria_auth::AuthStore, now_ms: i64) -> usize {
        let open: Vec<(u64, SessionId, i64)> = self
            .lock()
            .iter()
            .map(|(k, e)| (*k, e.session, e.user_id))
            .collect();
        if open.is_empty() {
            return 0;
        }
        let ids: Vec<(SessionId, i64)> = open.iter().map(|(_, s, u)| (*s, *u)).collect();
        let ended = match auth.ended_sessions(&ids, now_ms) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!("could not re-check the open sessions: {e}");
                return 0;
            }
        };
        let g = self.lock();
        let mut n = 0;
        for ((key, _, _), why) in open.iter().zip(ended) {
            if let (Some(why), Some(e)) = (why, g.get(key)) {
                e.ended.send_if_modified(|v| v.replace(why).is_none());
                n += 1;
            }
        }
        n
    }
}

/// Polls the auth database for changes made by other processes while the server
/// runs, and ends the sockets whose sessions they ended. Stops when the server
/// starts shutting down.
pub async fn watch(state: Arc<AppState>) {
    let mut closing = state.closing.subscribe();
    let mut tick = tokio::time::interval(POLL_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last: Option<i64> = None;
    loop {
        tokio::select! {
            _ = closing.changed() => return,
            _ = tick.tick() => {}
        }
        if *closing.borrow() {
            return;
        }
        let s = Arc::clone(&state);
        let seen = last;
        let polled = tokio::task::spawn_blocking(move || {
            let v = s.auth.data_version().ok();
            if v.is_some() && v != seen && !s.sessions.is_empty() {
                s.sessions.recheck(&s.auth, crate::now_ms());
            }
            v
        })
        .await;
        match polled {
            Ok(Some(v)) => last = Some(v),
            Ok(None) => {}
            Err(e) => tracing::warn!("session watcher task failed: {e}"),
        }
    }
}
