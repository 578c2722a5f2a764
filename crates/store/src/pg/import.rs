//! Rows copied in from another journal (`satria migrate`): stored as they are,
//! each checked to continue the chain by the walk's own rule before anything
//! is written, a batch per transaction.

use super::append::{commit_or_poison, insert_rows};
use super::{PgJournal, pg};
use crate::checkpoint::Checkpoint;
use crate::integrity::{Cursor, check_row};
use crate::{Entry, StoreError};

impl PgJournal {
    /// Stores `rows` (already hashed, from another journal) after this
    /// journal's head, in one transaction. Each must continue the chain and its
    /// stream (the rule `audit verify` applies), or nothing is written.
    pub fn import_rows(&mut self, rows: &[Entry]) -> Result<(), StoreError> {
        self.check_usable()?;
        if rows.is_empty() {
            return Ok(());
        }
        if self.fence.is_some() {
            return Err(StoreError::InvalidInput {
                detail: "a handle that leads a region does not import rows".into(),
            });
        }
        let mut cur = Cursor {
            after: self.last_row,
            prev: self.last_hash,
            last: None,
        };
        let mut seqs = self.last_seq.clone();
        for e in rows {
            let expected = seqs.get(&e.stream).map_or(1, |s| s + 1);
            if let Err(problem) = check_row(&mut cur, expected, e) {
                return Err(StoreError::InvalidInput {
                    detail: format!(
                        "row {} (stream {:?}, seq {}) does not continue the chain: {problem}",
                        e.row, e.stream, e.seq
                    ),
                });
            }
            seqs.insert(e.stream.clone(), e.seq);
        }
        let path = self.location();
        let client = self.client.get_mut();
        let mut tx = client.transaction().map_err(pg(&path, "begin import"))?;
        let head = tx
            .query_opt("SELECT row FROM chain_head WHERE id = 1 FOR UPDATE", &[])
            .map_err(pg(&path, "lock the chain head"))?
            .map_or(0, |r| r.get::<_, i64>(0) as u64);
        if head != self.last_row {
            return Err(StoreError::Conflict {
                path,
                detail: format!(
                    "the database's head is row {head}, this handle's {}; somebody else writes here",
                    self.last_row
                ),
            });
        }
        insert_rows(&mut tx, &path, rows, cur.after, &cur.prev)?;
        commit_or_poison(tx, &mut self.poisoned, &path, "commit import")?;
        self.last_row = cur.after;
        self.last_hash = cur.prev;
        self.last_seq = seqs;
        Ok(())
    }

    /// Stores signed checkpoints copied from another journal; one already
    /// there (same row) is kept.
    pub fn import_checkpoints(&mut self, checkpoints: &[Checkpoint]) -> Result<(), StoreError> {
        self.check_usable()?;
        let path = self.location();
        let client = self.client.get_mut();
        let mut tx = client.transaction().map_err(pg(&path, "begin import"))?;
        for cp in checkpoints {
            super::signing::insert_checkpoint(&mut tx, &path, cp)?;
        }
        tx.commit().map_err(pg(&path, "commit import"))
    }
}
