//! What verification reports ([`VerifyReport`], the first [`BrokenRow`] and its
//! [`Problem`]) and the journal's own entry points to it; the walk itself is in
//! [`crate::integrity`].

use std::path::Path;

use super::Journal;
use crate::StoreError;

/// What [`Journal::verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// How many rows were checked (all rows when the chain is intact; up to and
    /// including the first broken row otherwise).
    pub rows: u64,
    /// The first row, in global order, that does not check out.
    pub first_broken: Option<BrokenRow>,
    /// How many signed checkpoints were checked against the rows.
    pub checkpoints: u64,
    /// Breaks an operator accepted (`--accept-broken-chain`) that the walk
    /// passed over: the rows from each up to its recorded head were taken as found.
    pub accepted: Vec<crate::AcceptedBreak>,
}

impl VerifyReport {
    /// True when the whole journal verified.
    pub fn is_ok(&self) -> bool {
        self.first_broken.is_none()
    }
}

/// The first row that failed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenRow {
    /// Global row number of the broken row.
    pub row: u64,
    /// Its stream.
    pub stream: String,
    /// Its sequence number in the stream.
    pub seq: u64,
    /// What is wrong.
    pub problem: Problem,
}

/// What is wrong with a [`BrokenRow`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The stored hash is not what the chain computes: the row (or one before
    /// it that left no other trace) was altered.
    HashMismatch {
        /// Hex hash stored in the row.
        stored: String,
        /// Hex hash recomputed from the chain.
        computed: String,
    },
    /// Global rows are missing before this one (rows were deleted).
    MissingPrevious {
        /// The row number that was expected here.
        expected_row: u64,
    },
    /// The stream's sequence numbers are not contiguous at this row.
    SeqGap {
        /// The sequence number that was expected here.
        expected_seq: u64,
    },
    /// The stored hash is not 64 hex digits.
    MalformedHash {
        /// What is stored.
        stored: String,
    },
    /// The recorded chain head says the journal ends at a later row than the
    /// last one present: rows were cut off the end. `row` of the [`BrokenRow`]
    /// is the recorded head; `stream`/`seq` are those of the last present row.
    TruncatedTail {
        /// Last row actually present (0 if none).
        last_present: u64,
    },
    /// The recorded chain head disagrees with the last row's hash.
    HeadMismatch {
        /// Hex hash recorded as the chain head.
        head: String,
    },
    /// An anchor (a signed checkpoint, the last verified point, the head of an
    /// accepted break) names this row, but the journal ends before it: rows
    /// were cut off and the head moved back.
    AnchorBeyondEnd {
        /// Which anchor.
        anchor: String,
        /// Last row actually present (0 if none).
        last_present: u64,
    },
    /// The row's hash differs from the one an anchor recorded for it: the
    /// journal was rewritten up to here.
    AnchorMismatch {
        /// Which anchor.
        anchor: String,
        /// The hash the anchor recorded.
        expected: String,
        /// The hash stored in the row now.
        stored: String,
    },
    /// A checkpoint for this row is not validly signed (or not by the expected key).
    BadCheckpoint {
        /// Where the checkpoint came from: "journal" or "exported".
        source: String,
        /// What is wrong with it.
        detail: String,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::HashMismatch { stored, computed } => {
                write!(
                    f,
                    "hash mismatch: stored {stored}, chain computes {computed}"
                )
            }
            Problem::MissingPrevious { expected_row } => {
                write!(
                    f,
                    "missing previous row(s): expected row {expected_row} here"
                )
            }
            Problem::SeqGap { expected_seq } => {
                write!(f, "sequence gap: expected seq {expected_seq} here")
            }
            Problem::MalformedHash { stored } => write!(f, "malformed stored hash {stored:?}"),
            Problem::TruncatedTail { last_present } => write!(
                f,
                "rows cut off the end: chain head is later than last present row {last_present}"
            ),
            Problem::HeadMismatch { head } => {
                write!(f, "chain head hash {head} differs from the last row's hash")
            }
            Problem::AnchorBeyondEnd {
                anchor,
                last_present,
            } => write!(
                f,
                "the {anchor} names this row, but the journal ends at row {last_present}: rows were cut off"
            ),
            Problem::AnchorMismatch {
                anchor,
                expected,
                stored,
            } => write!(
                f,
                "hash {stored} differs from {expected} recorded by the {anchor}: the journal was rewritten"
            ),
            Problem::BadCheckpoint { source, detail } => {
                write!(f, "{source} checkpoint refused: {detail}")
            }
        }
    }
}

impl std::fmt::Display for BrokenRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "row {} (stream {:?}, seq {}): {}",
            self.row, self.stream, self.seq, self.problem
        )
    }
}

impl Journal {
    /// Verifies the journal in `dir` through a read-only connection, without
    /// creating, migrating or loading anything: the way to diagnose a file
    /// that [`Journal::open`] refuses (e.g. because rows were cut off its
    /// end), or to audit a journal from outside the running engine.
    /// Checks the signed checkpoints stored in the journal too (by whatever key
    /// signed them; [`Journal::verify_dir_with`] can demand one key and add
    /// exported checkpoints).
    pub fn verify_dir(dir: &Path) -> Result<VerifyReport, StoreError> {
        Journal::verify_dir_with(dir, None, &[])
    }

    /// Walks the whole journal in global order, recomputing the hash chain and
    /// checking that rows and per-stream sequence numbers are contiguous and
    /// that the recorded chain head matches the last row, and checks the signed
    /// checkpoints stored with it. Reports the first row that does not check
    /// out. Reads the file, not the in-memory state, so it finds rows edited
    /// behind the journal's back.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        self.check_usable()?;
        let accepted = crate::integrity::accepted_breaks(&self.conn, &self.path)?;
        let walked = crate::integrity::verify_all(&self.conn, &self.path, &accepted)?;
        let stored = crate::integrity::checkpoints(&self.conn, &self.path, false)?;
        let mut first = walked.broken;
        if let Some(b) =
            crate::integrity::check_checkpoints(&self.conn, &self.path, &stored, "journal", None)?
            && first.as_ref().is_none_or(|f| b.row < f.row)
        {
            first = Some(b);
        }
        Ok(VerifyReport {
            rows: walked.rows,
            first_broken: first,
            checkpoints: stored.len() as u64,
            accepted: accepted
                .into_iter()
                .filter(|a| walked.passed.contains(&a.row))
                .collect(),
        })
    }
}
