//! Signed checkpoints of the chain head, written by the journal itself: due
//! with an append, on the engine's tick, and when it stops (see
//! [`crate::checkpoint`] for the format).

use rusqlite::{OptionalExtension, TransactionBehavior};

use super::{Journal, db};
use crate::StoreError;
use crate::chain::ChainHash;
use crate::checkpoint::{Checkpoint, CheckpointSigner};

impl Journal {
    /// Signs the chain head into the `checkpoints` table from now on: in the
    /// same transaction as an append once `every_rows` rows or `every_ms` have
    /// passed since the last checkpoint, and from [`Journal::checkpoint_if_due`]
    /// (call it now and then) when rows wait longer than `every_ms` unsigned.
    pub fn set_signer(&mut self, signer: CheckpointSigner) -> Result<(), StoreError> {
        let newest = crate::integrity::checkpoints(&self.conn, &self.path, true)?;
        self.last_checkpoint = newest.first().map_or((0, i64::MIN), |c| (c.row, c.at_ms));
        self.signer = Some(signer);
        Ok(())
    }

    /// The checkpoint due after appending up to `row` at `now_ms`, if any.
    pub(super) fn due_checkpoint(
        &self,
        row: u64,
        hash: &ChainHash,
        now_ms: i64,
    ) -> Option<Checkpoint> {
        let s = self.signer.as_ref()?;
        let (cp_row, cp_at) = self.last_checkpoint;
        let due = row > cp_row
            && (row - cp_row >= s.every_rows.max(1) || now_ms.saturating_sub(cp_at) >= s.every_ms);
        due.then(|| s.key.sign(row, hash, now_ms))
    }

    /// Signs the head now if rows were appended since the last checkpoint and
    /// `every_ms` has passed; true if a checkpoint was written.
    pub fn checkpoint_if_due(&mut self, now_ms: i64) -> Result<bool, StoreError> {
        let cp = self.due_checkpoint(self.last_row, &self.last_hash, now_ms);
        self.write_checkpoint(cp)
    }

    /// Signs the head now if rows were appended since the last checkpoint,
    /// whatever the interval (the engine does this when it stops).
    pub fn checkpoint_head(&mut self, now_ms: i64) -> Result<bool, StoreError> {
        let cp = match &self.signer {
            Some(s) if self.last_row > self.last_checkpoint.0 => {
                Some(s.key.sign(self.last_row, &self.last_hash, now_ms))
            }
            _ => None,
        };
        self.write_checkpoint(cp)
    }

    fn write_checkpoint(&mut self, cp: Option<Checkpoint>) -> Result<bool, StoreError> {
        self.check_usable()?;
        let Some(cp) = cp else {
            return Ok(false);
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db(&self.path, "begin checkpoint"))?;
        let head: Option<(u64, String)> = tx
            .query_row("SELECT row, hash FROM chain_head WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(db(&self.path, "read chain head"))?;
        if head != Some((cp.row, cp.hash.clone())) {
            return Err(StoreError::Conflict {
                path: self.path.clone(),
                detail: format!(
                    "this handle's last row is {}, the file's is {}",
                    self.last_row,
                    head.map_or(0, |h| h.0)
                ),
            });
        }
        crate::integrity::insert_checkpoint(&tx, &self.path, &cp)?;
        tx.commit().map_err(db(&self.path, "commit checkpoint"))?;
        self.last_checkpoint = (cp.row, cp.at_ms);
        Ok(true)
    }
}
