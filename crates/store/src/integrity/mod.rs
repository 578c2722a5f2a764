//! Verifying the chain against its anchors: the whole chain (`audit verify`),
//! the rows after the last verified point (every engine start), signed
//! checkpoints (in the journal and exported), and the breaks an operator
//! accepted to start anyway.
//!
//! An accepted break records the chain head at the moment of acceptance: the
//! rows from the break up to that head are taken as found (they are reported,
//! not re-checked), and the chain is checked again from that head on. So an
//! accepted break never makes the next start refuse, while anything changed
//! after it still does.
//!
//! By concern: `walk` (the chain walk from a point, and the last verified
//! point), `checkpoints` (the signed checkpoints stored with the rows and
//! checked against them), `start` (the engine's `Journal::open_verified`)
//! and `audit` (read-only status and verification from outside the engine,
//! and the admin's acknowledgement).

mod audit;
mod checkpoints;
mod start;
mod walk;

use std::path::Path;

use rusqlite::Connection;

use crate::StoreError;
use crate::checkpoint::{Checkpoint, CheckpointSigner};
use crate::journal::db;

pub use audit::{acknowledge_breaks, integrity_status, read_checkpoints};
pub(crate) use checkpoints::{check_against, check_checkpoints, checkpoints, insert_checkpoint};
pub(crate) use walk::{Cursor, check_row, head_problem, verify_all};

/// The stream that carries the journal's own audit events (accepted breaks).
pub const INTEGRITY_STREAM: &str = "integrity";

/// A break an operator accepted with `--accept-broken-chain ROW`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AcceptedBreak {
    pub id: i64,
    /// The first broken row that was accepted.
    pub row: u64,
    /// What verification found there.
    pub problem: String,
    /// The chain head when it was accepted: rows up to it are taken as found.
    pub head_row: u64,
    pub head_hash: String,
    pub accepted_at_ms: i64,
    /// Who accepted it (the operating-system user that started the engine).
    pub accepted_by: String,
    pub acknowledged_at_ms: Option<i64>,
    pub acknowledged_by: Option<String>,
}

/// What the engine asks of the journal when it starts.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Start even though the chain is broken, when this is exactly the first
    /// broken row; the acceptance is recorded.
    pub accept_broken_row: Option<u64>,
    /// Who starts the engine (recorded with an acceptance).
    pub operator: String,
    /// Now, in ms since the Unix epoch (from the engine's clock).
    pub now_ms: i64,
    /// Sign the chain head with this key (see [`crate::checkpoint`]).
    pub signer: Option<CheckpointSigner>,
}

/// What [`Journal::open_verified`](crate::Journal::open_verified) checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartReport {
    /// Verification started after this row (the last verified point; 0: the whole chain).
    pub verified_from_row: u64,
    /// How many rows were hash-checked.
    pub rows_checked: u64,
    /// The chain head after start.
    pub head_row: u64,
    /// The break accepted by this start, if any.
    pub accepted: Option<AcceptedBreak>,
}

/// The journal's integrity as the consoles show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrityStatus {
    pub accepted: Vec<AcceptedBreak>,
    pub last_checkpoint: Option<Checkpoint>,
    /// The last row verified at an engine start.
    pub verified_row: u64,
}

pub(crate) fn accepted_breaks(
    conn: &Connection,
    path: &Path,
) -> Result<Vec<AcceptedBreak>, StoreError> {
    let mut stmt = conn
        .prepare(
            "SELECT id, row, problem, head_row, head_hash, accepted_at_ms, accepted_by,
                    acknowledged_at_ms, acknowledged_by
             FROM accepted_breaks ORDER BY id",
        )
        .map_err(db(path, "read accepted breaks"))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(AcceptedBreak {
                id: r.get(0)?,
                row: r.get(1)?,
                problem: r.get(2)?,
                head_row: r.get(3)?,
                head_hash: r.get(4)?,
                accepted_at_ms: r.get(5)?,
                accepted_by: r.get(6)?,
                acknowledged_at_ms: r.get(7)?,
                acknowledged_by: r.get(8)?,
            })
        })
        .map_err(db(path, "read accepted breaks"))?;
    rows.collect::<Result<_, _>>()
        .map_err(db(path, "read accepted breaks"))
}
