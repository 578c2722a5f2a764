//! Why and how a socket is closed by the server, and the lag meter that decides
//! when a client is too far behind (docs/protocol.md, "Closing").

use axum::extract::ws::{CloseFrame, Message};
use satria_auth::SessionEnd;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// Close code: the session ended (revoked, logged out, expired). The client
/// must log in again and must not reconnect with the same token.
pub const CLOSE_SESSION_ENDED: u16 = 4401;
/// Close code: the client fell too far behind; it reconnects and resumes by replay.
pub const CLOSE_LAGGING: u16 = 4408;
/// Close code (RFC 6455): try again later. The access log cannot be written,
/// so no personal data may be delivered.
pub const CLOSE_TRY_AGAIN_LATER: u16 = 1013;
/// Close code (RFC 6455): a message was larger than the server accepts.
pub const CLOSE_TOO_BIG: u16 = 1009;

/// Why a connection stops.
#[derive(Debug)]
pub enum Stop {
    /// The client went away or a write failed: nothing more can be said.
    Gone,
    /// Say goodbye (if any), then close with `code` and `reason`.
    Close {
        code: u16,
        reason: &'static str,
        goodbye: Option<Value>,
    },
}

/// Every write error of the socket helpers means the client is gone.
impl From<()> for Stop {
    fn from(_: ()) -> Stop {
        Stop::Gone
    }
}

fn goodbye(code: &str, message: &str, message_id: &str) -> Value {
    json!({
        "type": "goodbye",
        "code": code,
        "reason": message,
        "message": message,
        "message_id": message_id,
    })
}

impl Stop {
    pub fn session(why: SessionEnd) -> Stop {
        Stop::Close {
            code: CLOSE_SESSION_ENDED,
            reason: why.code(),
            goodbye: Some(goodbye(why.code(), why.message(), why.message_id())),
        }
    }

    pub fn access_log() -> Stop {
        let e = satria_auth::AccessLogError(String::new());
        Stop::Close {
            code: CLOSE_TRY_AGAIN_LATER,
            reason: satria_auth::AccessLogError::CODE,
            goodbye: Some(goodbye(
                satria_auth::AccessLogError::CODE,
                e.message(),
                e.message_id(),
            )),
        }
    }

    pub fn lagging(limit: Duration) -> Stop {
        Stop::Close {
            code: CLOSE_LAGGING,
            reason: "lagging",
            goodbye: Some(goodbye(
                "lagging",
                &format!(
                    "this connection fell more than {} s behind; reconnect to resume",
                    limit.as_secs_f64()
                ),
                &format!(
                    "Koneksi ini tertinggal lebih dari {} detik; sambungkan ulang untuk melanjutkan.",
                    limit.as_secs_f64()
                ),
            )),
        }
    }

    pub fn too_big() -> Stop {
        Stop::Close {
            code: CLOSE_TOO_BIG,
            reason: "message larger than 64 KiB",
            goodbye: None,
        }
    }

    /// The close frame to send.
    pub fn close_message(code: u16, reason: &'static str) -> Message {
        Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }))
    }
}

/// How far behind the client is in reading what was written to it.
///
/// TCP is ordered: once the client answers a ping, it has read every frame
/// written before that ping. So the server numbers its pings, remembers for each
/// the time of the oldest frame written before it and after the previous one, and
/// the client's pong confirms them. The lag is the age of the oldest frame not yet
/// confirmed. This sees a client that stopped reading even while the kernel
/// still takes every write.
#[derive(Debug, Default)]
pub struct LagMeter {
    next: u64,
    /// Written since the last probe, not yet covered by one: the first's time.
    uncovered_since: Option<Instant>,
    /// Probes sent and not yet answered: (number, time of the oldest frame they cover).
    outstanding: VecDeque<(u64, Instant)>,
}

impl LagMeter {
    /// Frames were written now.
    pub fn wrote(&mut self, now: Instant) {
        self.uncovered_since.get_or_insert(now);
    }

    /// The payload of a probe to send now, if anything was written since the
    /// last one.
    pub fn probe(&mut self) -> Option<Vec<u8>> {
        let since = self.uncovered_since.take()?;
        self.next += 1;
        self.outstanding.push_back((self.next, since));
        Some(self.next.to_be_bytes().to_vec())
    }

    /// A pong arrived with `payload`.
    pub fn pong(&mut self, payload: &[u8]) {
        let Ok(n) = <[u8; 8]>::try_from(payload) else {
            return;
        };
        let n = u64::from_be_bytes(n);
        while self.outstanding.front().is_some_and(|(k, _)| *k <= n) {
            self.outstanding.pop_front();
        }
    }

    /// How long the oldest unconfirmed frame has waited.
    pub fn lag(&self, now: Instant) -> Duration {
        let oldest = match (self.outstanding.front(), self.uncovered_since) {
            (Some((_, t)), _) => Some(*t),
            (None, t) => t,
        };
        oldest.map_or(Duration::ZERO, |t| now.saturating_duration_since(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_is_the_age_of_the_oldest_unconfirmed_frame() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut m = LagMeter::default();
        assert_eq!(m.lag(t0 + 5 * s), Duration::ZERO);
        assert!(m.probe().is_none(), "nothing written, nothing to probe");
        m.wrote(t0);
        m.wrote(t0 + s);
        assert_eq!(m.lag(t0 + 2 * s), 2 * s);
        let p1 = m.probe().unwrap();
        m.wrote(t0 + 3 * s);
        let p2 = m.probe().unwrap();
        assert_eq!(m.lag(t0 + 4 * s), 4 * s);
        // The first pong confirms what came before the first probe only.
        m.pong(&p1);
        assert_eq!(m.lag(t0 + 4 * s), s);
        // A keepalive pong (empty) confirms nothing.
        m.pong(&[]);
        assert_eq!(m.lag(t0 + 4 * s), s);
        m.pong(&p2);
        assert_eq!(m.lag(t0 + 9 * s), Duration::ZERO);
    }
}
