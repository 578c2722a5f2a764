//! The [`Journal`]: append-only, hash-chained event storage in one SQLite file.
//!
//! Durability choices, in one place:
//! - WAL mode with `synchronous=FULL`: every commit fsyncs the WAL before
//!   `COMMIT` returns, so an entry is on disk when `append` returns. (`NORMAL`
//!   would only fsync at checkpoints and could lose acknowledged commands on a
//!   power cut, which is exactly what the dispatch engine must not do.)
//! - One transaction per `append`/`append_batch`: either the whole command's
//!   events are in the journal or none are. `append_batch` puts many commands
//!   behind one fsync (group commit).
//! - The chain head and per-stream sequence numbers live in memory, so a second
//!   writer on the same file would fork the chain. Each append therefore
//!   checks, inside its write transaction, that the recorded head is still the
//!   one this handle last wrote (one cached single-row read), and refuses to
//!   write otherwise. Other handles may open the file to read or verify.
//! - A commit that fails poisons the handle: after e.g. a failed fsync nobody
//!   knows what reached the disk, so the only safe move is to reopen and
//!   re-read the state from the file.
//!
//! The journal by concern: `open` (opening a file and loading the chain
//! head), `append` (the one write path), `read` (entries, and
//! [`JournalReader`] for other handles), `snapshot`, `signing` (checkpoints of
//! the head) and `verify` (what verification reports, and its entry points).

mod append;
mod open;
mod read;
mod signing;
mod snapshot;
mod verify;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::StoreError;
use crate::chain::{self, ChainHash};
use crate::checkpoint::CheckpointSigner;

pub(crate) use append::{validate_entry, validate_stream};
pub use read::JournalReader;
pub(crate) use read::entry_from_row;
pub use verify::{BrokenRow, Problem, VerifyReport};

/// File name of the journal inside the directory given to [`Journal::open`].
pub const JOURNAL_FILE: &str = "journal.sqlite";

/// An event to append; the journal assigns its stream, sequence and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// Event type, e.g. `"IncidentCreated"`.
    pub kind: String,
    /// The event body as JSON text; it must parse as JSON.
    pub payload: String,
    /// When the event was recorded, in milliseconds since the Unix epoch.
    /// Supplied by the caller so replays and tests are deterministic.
    pub recorded_at_ms: i64,
}

impl NewEntry {
    /// Convenience constructor.
    pub fn new(kind: impl Into<String>, payload: impl Into<String>, recorded_at_ms: i64) -> Self {
        NewEntry {
            kind: kind.into(),
            payload: payload.into(),
            recorded_at_ms,
        }
    }
}

/// An event as stored in the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position in the global append order, contiguous from 1.
    pub row: u64,
    /// The stream the event belongs to.
    pub stream: String,
    /// Position in its stream, contiguous from 1.
    pub seq: u64,
    /// Event type.
    pub kind: String,
    /// The event body as JSON text.
    pub payload: String,
    /// When the event was recorded, in milliseconds since the Unix epoch.
    pub recorded_at_ms: i64,
    /// Lower-case hex SHA-256 chain hash of this row (see the `chain` format).
    pub hash: String,
}

/// An open journal. Any number may be open on one file, but only the handle
/// that wrote last can append (see [`StoreError::Conflict`]).
pub struct Journal {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    last_row: u64,
    last_hash: ChainHash,
    last_seq: HashMap<String, u64>,
    /// Set when a commit failed with an unknown outcome; see [`StoreError::Poisoned`].
    poisoned: Option<String>,
    /// Signs the chain head into `checkpoints` (see [`Journal::set_signer`]).
    signer: Option<CheckpointSigner>,
    /// Row and time of the newest checkpoint (0 and `i64::MIN` when none).
    last_checkpoint: (u64, i64),
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("last_row", &self.last_row)
            .field("streams", &self.last_seq.len())
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// The raw connection, for tests that check pragmas.
    #[cfg(test)]
    pub(crate) fn conn_for_tests(&self) -> &Connection {
        &self.conn
    }

    /// Path of the journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of rows in the journal (the last global row number).
    pub fn last_row(&self) -> u64 {
        self.last_row
    }

    /// Hex chain hash of the last row (64 zeros for an empty journal). An
    /// operator can note it down or send it elsewhere to anchor the chain.
    pub fn head_hash(&self) -> String {
        chain::to_hex(&self.last_hash)
    }

    /// Names of all streams that have entries, sorted.
    pub fn streams(&self) -> Vec<String> {
        let mut v: Vec<String> = self.last_seq.keys().cloned().collect();
        v.sort();
        v
    }

    fn check_usable(&self) -> Result<(), StoreError> {
        match &self.poisoned {
            Some(detail) => Err(StoreError::Poisoned {
                path: self.path.clone(),
                detail: detail.clone(),
            }),
            None => Ok(()),
        }
    }
}

/// Maps a SQLite error to a [`StoreError`] naming the file and the action.
pub(crate) fn db<'a>(
    path: &'a Path,
    action: &'static str,
) -> impl FnOnce(rusqlite::Error) -> StoreError + 'a {
    move |e| StoreError::sqlite(path, action, e)
}
