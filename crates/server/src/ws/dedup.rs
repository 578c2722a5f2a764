//! The answers already given to client commands ([`Dedup`]), so a command sent
//! again after a reconnect is answered the same way and applied once.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// Answers already given to client messages, per user and client id: a message
/// sent again after a reconnect is answered the same way and applied once.
///
/// Each user has two bounded rings, one for position reports and one for every
/// other command, so neither a crew sending a hundred fixes a second nor a busy
/// neighbour can push its acknowledgement of an assignment out of memory.
/// Answers are kept as the JSON text that was sent.
pub struct Dedup {
    positions: usize,
    commands: usize,
    inner: Mutex<HashMap<(i64, bool), Answers>>,
}

#[derive(Default)]
struct Answers {
    by_id: HashMap<Box<str>, Arc<str>>,
    order: VecDeque<Box<str>>,
}

impl Dedup {
    /// Keeps the last `positions` position answers and the last `commands`
    /// other answers of each user.
    pub fn new(positions: usize, commands: usize) -> Dedup {
        Dedup {
            positions: positions.max(1),
            commands: commands.max(1),
            inner: Mutex::new(HashMap::new()),
        }
    }

    pub(super) fn get(&self, user: i64, id: &str) -> Option<Arc<str>> {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        [true, false]
            .iter()
            .find_map(|&pos| g.get(&(user, pos)).and_then(|a| a.by_id.get(id)).cloned())
    }

    pub(super) fn put(&self, user: i64, position: bool, id: &str, answer: Arc<str>) {
        let cap = if position {
            self.positions
        } else {
            self.commands
        };
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let a = g.entry((user, position)).or_default();
        if a.by_id.insert(id.into(), answer).is_none() {
            a.order.push_back(id.into());
        }
        while a.order.len() > cap {
            if let Some(old) = a.order.pop_front() {
                a.by_id.remove(&old);
            }
        }
    }
}

impl std::fmt::Debug for Dedup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dedup")
            .field("positions", &self.positions)
            .field("commands", &self.commands)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(s: &str) -> Arc<str> {
        s.into()
    }

    #[test]
    fn answers_are_kept_per_user_and_positions_do_not_evict_commands() {
        let d = Dedup::new(3, 2);
        d.put(1, false, "ack-1", answer("{\"a\":1}"));
        for k in 0..10 {
            d.put(1, true, &format!("p{k}"), answer("{\"p\":1}"));
        }
        // Only the last three positions are remembered, and the command still is.
        assert!(d.get(1, "p6").is_none());
        assert!(d.get(1, "p7").is_some());
        assert_eq!(d.get(1, "ack-1").as_deref(), Some("{\"a\":1}"));
        // Another user's ids are another user's.
        assert!(d.get(2, "ack-1").is_none());
        for k in 0..5 {
            d.put(2, false, &format!("c{k}"), answer("{}"));
        }
        assert_eq!(d.get(1, "ack-1").as_deref(), Some("{\"a\":1}"));
        // The command ring of a user holds its last two.
        d.put(1, false, "ack-2", answer("{}"));
        d.put(1, false, "ack-3", answer("{}"));
        assert!(d.get(1, "ack-1").is_none());
        assert!(d.get(1, "ack-3").is_some());
        // Putting the same id again does not grow the ring.
        d.put(1, false, "ack-3", answer("{\"b\":2}"));
        assert!(d.get(1, "ack-2").is_some());
        assert_eq!(d.get(1, "ack-3").as_deref(), Some("{\"b\":2}"));
    }
}
