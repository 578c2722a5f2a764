//! Signed checkpoints of the chain head on PostgreSQL, written by the node
//! that leads (on its tick once due, and when it stops), as the SQLite
//! journal writes them (see [`crate::checkpoint`] for the format).
//!
//! The nodes of a cluster write one chain, so a checkpoint signs the
//! database's head, read under the head's row lock (appends of any node wait
//! for the few milliseconds it takes), never a head one node remembers; and
//! "due" is judged against the newest checkpoint in the database, whichever
//! node signed it. Every node that may lead holds the same audit key.

use super::{PgJournal, pg};
use crate::StoreError;
use crate::checkpoint::{Checkpoint, CheckpointSigner};

impl PgJournal {
    /// Signs the chain head into the `checkpoints` table from now on, from
    /// [`PgJournal::checkpoint_if_due`] and [`PgJournal::checkpoint_head`].
    pub fn set_signer(&mut self, signer: CheckpointSigner) -> Result<(), StoreError> {
        self.check_usable()?;
        self.signer = Some(signer);
        Ok(())
    }

    /// The newest signed checkpoint, if any (what the consoles show).
    pub fn newest_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        let path = self.location();
        Ok(self
            .client
            .borrow_mut()
            .query_opt(
                "SELECT row, hash, at_ms, public_key, signature FROM checkpoints
                 ORDER BY row DESC LIMIT 1",
                &[],
            )
            .map_err(pg(&path, "read checkpoints"))?
            .map(|r| checkpoint(&r)))
    }

    /// Every signed checkpoint, oldest first (`satria audit checkpoints`).
    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        let path = self.location();
        Ok(self
            .client
            .borrow_mut()
            .query(
                "SELECT row, hash, at_ms, public_key, signature FROM checkpoints ORDER BY row",
                &[],
            )
            .map_err(pg(&path, "read checkpoints"))?
            .iter()
            .map(checkpoint)
            .collect())
    }

    /// Signs the head now if `every_rows` rows or `every_ms` have passed since
    /// the newest checkpoint; true if one was written.
    pub fn checkpoint_if_due(&mut self, now_ms: i64) -> Result<bool, StoreError> {
        self.sign_head(now_ms, false)
    }

    /// Signs the head now if rows were appended since the newest checkpoint,
    /// whatever the interval (the engine does this when it stops).
    pub fn checkpoint_head(&mut self, now_ms: i64) -> Result<bool, StoreError> {
        self.sign_head(now_ms, true)
    }

    fn sign_head(&mut self, now_ms: i64, always: bool) -> Result<bool, StoreError> {
        self.check_usable()?;
        let Some(signer) = self.signer.clone() else {
            return Ok(false);
        };
        let path = self.location();
        let client = self.client.get_mut();
        let mut tx = client
            .transaction()
            .map_err(pg(&path, "begin checkpoint"))?;
        let Some(head) = tx
            .query_opt(
                "SELECT row, hash FROM chain_head WHERE id = 1 FOR UPDATE",
                &[],
            )
            .map_err(pg(&path, "read chain head"))?
        else {
            return Ok(false);
        };
        let (row, hash) = (head.get::<_, i64>(0) as u64, head.get::<_, String>(1));
        let newest = tx
            .query_opt(
                "SELECT row, at_ms FROM checkpoints ORDER BY row DESC LIMIT 1",
                &[],
            )
            .map_err(pg(&path, "read checkpoints"))?
            .map_or((0, i64::MIN), |r| {
                (r.get::<_, i64>(0) as u64, r.get::<_, i64>(1))
            });
        let due = row > newest.0
            && (always
                || row - newest.0 >= signer.every_rows.max(1)
                || now_ms.saturating_sub(newest.1) >= signer.every_ms);
        if !due {
            return Ok(false);
        }
        let Some(chain_hash) = crate::chain::from_hex(&hash) else {
            return Err(StoreError::Corrupt {
                path,
                detail: format!("the chain head at row {row} has a malformed hash {hash:?}"),
            });
        };
        let cp = signer.key.sign(row, &chain_hash, now_ms);
        insert_checkpoint(&mut tx, &path, &cp)?;
        tx.commit().map_err(pg(&path, "commit checkpoint"))?;
        Ok(true)
    }
}

/// A row of `SELECT row, hash, at_ms, public_key, signature FROM checkpoints`.
pub(super) fn checkpoint(r: &postgres::Row) -> Checkpoint {
    Checkpoint {
        row: r.get::<_, i64>(0) as u64,
        hash: r.get(1),
        at_ms: r.get(2),
        public_key: r.get(3),
        signature: r.get(4),
    }
}

/// Stores `cp`; one already there for its row is kept.
pub(super) fn insert_checkpoint(
    tx: &mut postgres::Transaction<'_>,
    path: &std::path::Path,
    cp: &Checkpoint,
) -> Result<(), StoreError> {
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
    .map_err(pg(path, "write checkpoint"))?;
    Ok(())
}
