//! Commands remembered by their client's id, durably: a command a client sent
//! with an id (a socket's `client_id`) is journaled together with its events,
//! on the region's answers stream (`answers:region:NAME`), in the same
//! transaction. So a command sent again after a restart or a takeover, through
//! any node, is answered with the events it produced the first time and not
//! applied twice. The last [`KEPT`] answers are kept in memory, rebuilt from
//! the journal at start and kept current by the tail on followers.

use crate::EngineError;
use satria_store::{EventStore, NewEntry};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

/// Answers kept in memory (a retry comes within minutes, not days).
pub(crate) const KEPT: usize = 100_000;

/// Who sent a command, and its id: what makes a retry recognisable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClientTag {
    /// The account that sent it.
    pub user: i64,
    /// The client's id for the command (1 to 64 characters).
    pub client_id: String,
}

/// One journaled answer: the tag and the region-stream seqs of its events.
#[derive(Serialize, Deserialize)]
struct Answer {
    user: i64,
    client_id: String,
    seqs: Vec<u64>,
}

/// The answers stream of a region stream.
pub(crate) fn stream_of(region: &str) -> String {
    format!("answers:{region}")
}

/// The remembered answers.
#[derive(Default)]
pub(crate) struct Answers {
    by_tag: HashMap<ClientTag, Vec<u64>>,
    order: VecDeque<ClientTag>,
    /// The last seq of the answers stream read or written.
    pub(crate) seq: u64,
}

impl Answers {
    pub(crate) fn get(&self, tag: &ClientTag) -> Option<&Vec<u64>> {
        self.by_tag.get(tag)
    }

    pub(crate) fn put(&mut self, tag: ClientTag, seqs: Vec<u64>) {
        if self.by_tag.insert(tag.clone(), seqs).is_none() {
            self.order.push_back(tag);
            while self.order.len() > KEPT {
                if let Some(old) = self.order.pop_front() {
                    self.by_tag.remove(&old);
                }
            }
        }
    }

    /// The journal entry recording `tag`'s answer.
    pub(crate) fn entry(tag: &ClientTag, seqs: &[u64], now_ms: i64) -> NewEntry {
        let a = Answer {
            user: tag.user,
            client_id: tag.client_id.clone(),
            seqs: seqs.to_vec(),
        };
        NewEntry {
            kind: "command_answered".into(),
            payload: serde_json::to_string(&a).expect("answers serialise"),
            recorded_at_ms: now_ms,
        }
    }

    /// Reads the answers journaled after the last one known (the newest
    /// [`KEPT`] at the first read).
    pub(crate) fn load(
        &mut self,
        journal: &dyn EventStore,
        region: &str,
    ) -> Result<(), EngineError> {
        let stream = stream_of(region);
        if self.seq == 0 {
            self.seq = journal.stream_seq(&stream).saturating_sub(KEPT as u64);
        }
        loop {
            let rows = journal
                .entries_since(&stream, self.seq, crate::journal::PAGE)
                .map_err(|e| EngineError::Open(e.to_string()))?;
            let Some(last) = rows.last() else { break };
            self.seq = last.seq;
            for r in &rows {
                let a: Answer = serde_json::from_str(&r.payload)
                    .map_err(|e| EngineError::Replay(format!("{stream} seq {}: {e}", r.seq)))?;
                self.put(
                    ClientTag {
                        user: a.user,
                        client_id: a.client_id,
                    },
                    a.seqs,
                );
            }
        }
        Ok(())
    }
}
