//! Snapshots of a stream's state: derived data that may speed up replay,
//! the newest few kept per stream.

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::append::validate_stream;
use super::{Journal, db};
use crate::StoreError;

/// How many snapshots per stream are kept; older ones are pruned because they
/// are derived data and only the newest is ever read. Two, not one, so a
/// snapshot that turns out unreadable by a new build still has a fallback.
const SNAPSHOTS_KEPT: i64 = 2;

impl Journal {
    /// Stores a snapshot of `stream`'s state as of `seq` (which must already
    /// be in the journal). Replaces a snapshot at the same seq; keeps only the
    /// newest few per stream.
    pub fn save_snapshot(&mut self, stream: &str, seq: u64, data: &[u8]) -> Result<(), StoreError> {
        self.check_usable()?;
        validate_stream(stream)?;
        let last = self.last_seq.get(stream).copied().unwrap_or(0);
        if seq == 0 || seq > last {
            return Err(StoreError::InvalidInput {
                detail: format!(
                    "snapshot of stream {stream:?} at seq {seq}, but the stream's entries are 1..={last}"
                ),
            });
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db(&self.path, "begin snapshot"))?;
        tx.execute(
            "INSERT OR REPLACE INTO snapshots (stream, seq, data) VALUES (?1, ?2, ?3)",
            params![stream, seq, data],
        )
        .map_err(db(&self.path, "save snapshot"))?;
        tx.execute(
            "DELETE FROM snapshots WHERE stream = ?1 AND seq NOT IN
               (SELECT seq FROM snapshots WHERE stream = ?1 ORDER BY seq DESC LIMIT ?2)",
            params![stream, SNAPSHOTS_KEPT],
        )
        .map_err(db(&self.path, "prune snapshots"))?;
        // A failed snapshot commit changes no in-memory state (snapshots are
        // not cached), so it does not poison the journal.
        tx.commit().map_err(db(&self.path, "commit snapshot"))
    }

    /// The newest snapshot of `stream` as `(seq, data)`, if any.
    pub fn latest_snapshot(&self, stream: &str) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        self.check_usable()?;
        self.conn
            .query_row(
                "SELECT seq, data FROM snapshots WHERE stream = ?1 ORDER BY seq DESC LIMIT 1",
                params![stream],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| StoreError::sqlite(&self.path, "read snapshot", e))
    }
}
