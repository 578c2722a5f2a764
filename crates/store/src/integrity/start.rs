//! The engine's start: verify from the last verified point, refuse a broken
//! chain or record the one break the operator accepted, then record the new
//! verified point.

use std::path::Path;

use rusqlite::{TransactionBehavior, params};

use super::walk::verify_since_point;
use super::{
    AcceptedBreak, INTEGRITY_STREAM, StartOptions, StartReport, accepted_breaks, check_checkpoints,
    checkpoints,
};
use crate::chain::{self, GENESIS};
use crate::journal::{BrokenRow, NewEntry, db};
use crate::{Journal, StoreError};

impl Journal {
    /// Opens the journal in `dir` for the engine: verifies the chain from the
    /// last verified point (only the rows after it, once that row is found with
    /// the hash recorded for it) and against the newest checkpoint, and refuses
    /// a broken chain naming the first broken row ([`StoreError::ChainBroken`]),
    /// unless `opts.accept_broken_row` is exactly that row: then the break is
    /// recorded (table `accepted_breaks`, and an event on the `integrity`
    /// stream of the chain) and the journal opens. Records the new verified
    /// point, and signs checkpoints from now on when `opts.signer` is given.
    pub fn open_verified(
        dir: &Path,
        opts: &StartOptions,
    ) -> Result<(Journal, StartReport), StoreError> {
        let mut j = Journal::open_unchecked(dir)?;
        let accepted = accepted_breaks(&j.conn, &j.path)?;
        let walked = verify_since_point(&j.conn, &j.path, &accepted)?;
        let mut broken = walked.broken;
        if broken.is_none() {
            let newest = checkpoints(&j.conn, &j.path, true)?;
            broken = check_checkpoints(&j.conn, &j.path, &newest, "journal", None)?;
        }
        let mut accepted_now = None;
        match (broken, opts.accept_broken_row) {
            (None, None) => {}
            (None, Some(row)) => {
                if !accepted.iter().any(|a| a.row == row) {
                    return Err(StoreError::NothingToAccept {
                        path: j.path.clone(),
                        row,
                    });
                }
            }
            (Some(b), Some(row)) if b.row == row => {
                accepted_now = Some(j.accept_break(&b, opts)?);
            }
            (Some(b), Some(row)) => {
                return Err(StoreError::WrongBreakAccepted {
                    path: j.path.clone(),
                    asked: row,
                    broken: Box::new(b),
                });
            }
            (Some(b), None) => {
                return Err(StoreError::ChainBroken {
                    path: j.path.clone(),
                    broken: Box::new(b),
                });
            }
        }
        if let Some(signer) = &opts.signer {
            j.set_signer(signer.clone())?;
        }
        if let Some(a) = &accepted_now {
            // The acceptance goes on the chain too, so it cannot be dropped unseen.
            let payload = serde_json::json!({
                "row": a.row, "problem": a.problem, "head_row": a.head_row,
                "accepted_by": a.accepted_by, "accepted_at_ms": a.accepted_at_ms,
            });
            j.append(
                INTEGRITY_STREAM,
                &[NewEntry::new(
                    "chain_break_accepted",
                    payload.to_string(),
                    opts.now_ms,
                )],
            )?;
        }
        j.record_verified_point()?;
        let report = StartReport {
            verified_from_row: walked.from_row,
            rows_checked: walked.rows,
            head_row: j.last_row(),
            accepted: accepted_now,
        };
        Ok((j, report))
    }

    /// Records `b` as accepted with the current head, and makes the recorded
    /// chain head agree with the last row (a cut tail or a moved head is
    /// accepted as found).
    fn accept_break(
        &mut self,
        b: &BrokenRow,
        opts: &StartOptions,
    ) -> Result<AcceptedBreak, StoreError> {
        let last: Option<(u64, String)> = self.stored_last_row()?;
        let (head_row, head_hash) = last.unwrap_or((0, chain::to_hex(&GENESIS)));
        let head = chain::from_hex(&head_hash).ok_or_else(|| StoreError::Corrupt {
            path: self.path.clone(),
            detail: format!("row {head_row} has a malformed hash {head_hash:?}"),
        })?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db(&self.path, "begin accept"))?;
        tx.execute(
            "INSERT INTO accepted_breaks (row, problem, head_row, head_hash, accepted_at_ms, accepted_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![b.row, b.to_string(), head_row, head_hash, opts.now_ms, opts.operator],
        )
        .map_err(db(&self.path, "record accepted break"))?;
        let id = tx.last_insert_rowid();
        if head_row > 0 {
            tx.execute(
                "INSERT INTO chain_head (id, row, hash) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET row = excluded.row, hash = excluded.hash",
                params![head_row, head_hash],
            )
        } else {
            tx.execute("DELETE FROM chain_head", [])
        }
        .map_err(db(&self.path, "update chain head"))?;
        tx.commit().map_err(db(&self.path, "commit accept"))?;
        self.reload_head(head_row, head)?;
        Ok(AcceptedBreak {
            id,
            row: b.row,
            problem: b.to_string(),
            head_row,
            head_hash,
            accepted_at_ms: opts.now_ms,
            accepted_by: opts.operator.clone(),
            acknowledged_at_ms: None,
            acknowledged_by: None,
        })
    }

    /// Records the head as the last verified point.
    fn record_verified_point(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO verified_point (id, row, hash) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET row = excluded.row, hash = excluded.hash",
                params![self.last_row(), self.head_hash()],
            )
            .map(|_| ())
            .map_err(db(&self.path, "record verified point"))
    }
}
