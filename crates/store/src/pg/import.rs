//! Rows copied in from another journal (`satria migrate`): stored as they are,
//! each checked to continue the chain by the walk's own rule before anything
//! is written, a batch per transaction.

use super::{PgJournal, pg};
use crate::chain;
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
        let col = |f: fn(&Entry) -> i64| rows.iter().map(f).collect::<Vec<i64>>();
        let text = |f: fn(&Entry) -> &str| rows.iter().map(f).collect::<Vec<&str>>();
        tx.execute(
            "INSERT INTO entries (row, stream, seq, kind, payload, recorded_at_ms, hash)
             SELECT * FROM unnest($1::int8[], $2::text[], $3::int8[], $4::text[], $5::text[], $6::int8[], $7::text[])",
            &[
                &col(|e| e.row as i64),
                &text(|e| &e.stream),
                &col(|e| e.seq as i64),
                &text(|e| &e.kind),
                &text(|e| &e.payload),
                &col(|e| e.recorded_at_ms),
                &text(|e| &e.hash),
            ],
        )
        .map_err(pg(&path, "import rows"))?;
        tx.execute(
            "INSERT INTO chain_head (id, row, hash) VALUES (1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET row = excluded.row, hash = excluded.hash",
            &[&(cur.after as i64), &chain::to_hex(&cur.prev)],
        )
        .map_err(pg(&path, "update chain head"))?;
        if let Err(e) = tx.commit() {
            let err = pg(&path, "commit import")(e);
            self.poisoned = Some(err.to_string());
            return Err(err);
        }
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
            tx.execute(
                "INSERT INTO checkpoints (row, hash, at_ms, public_key, signature)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (row) DO NOTHING",
                &[
                    &(cp.row as i64),
                    &cp.hash,
                    &cp.at_ms,
                    &cp.public_key,
                    &cp.signature,
                ],
            )
            .map_err(pg(&path, "import checkpoints"))?;
        }
        tx.commit().map_err(pg(&path, "commit import"))
    }

    /// The stored row `row`, if any.
    pub fn row(&self, row: u64) -> Result<Option<Entry>, StoreError> {
        Ok(self
            .read_rows(row.saturating_sub(1), 1)?
            .into_iter()
            .find(|e| e.row == row))
    }
}
