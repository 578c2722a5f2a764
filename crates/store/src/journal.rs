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

use std::collections::HashMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use crate::chain::{self, ChainHash, GENESIS};
use crate::checkpoint::{Checkpoint, CheckpointSigner};
use crate::{StoreError, schema};

/// File name of the journal inside the directory given to [`Journal::open`].
pub const JOURNAL_FILE: &str = "journal.sqlite";

/// How many snapshots per stream are kept; older ones are pruned because they
/// are derived data and only the newest is ever read. Two, not one, so a
/// snapshot that turns out unreadable by a new build still has a fallback.
const SNAPSHOTS_KEPT: i64 = 2;

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
    /// Opens (creating if needed) the journal in `dir`: creates the directory
    /// and `journal.sqlite`, sets WAL and
    /// `synchronous=FULL`, checks the file is a Satria journal, runs schema
    /// migrations, and loads the chain head and per-stream sequence numbers.
    /// Refuses a file whose recorded chain head disagrees with its last row
    /// (edited or damaged: run [`Journal::verify`] on a copy to find where).
    pub fn open(dir: &Path) -> Result<Journal, StoreError> {
        Journal::open_with(dir, true)
    }

    /// [`Journal::open`] without the chain-head cross-check, for
    /// [`Journal::open_verified`], which checks the head itself and names the row.
    pub(crate) fn open_unchecked(dir: &Path) -> Result<Journal, StoreError> {
        Journal::open_with(dir, false)
    }

    fn open_with(dir: &Path, check_head: bool) -> Result<Journal, StoreError> {
        let io = |path: &Path, action| {
            let path = path.to_path_buf();
            move |source| StoreError::Io {
                path,
                action,
                source,
            }
        };
        fs::create_dir_all(dir).map_err(io(dir, "create directory"))?;

        let path = dir.join(JOURNAL_FILE);
        let existed = path.exists();
        // NO_MUTEX: the Journal is used from one thread at a time (&mut self
        // for writes), so SQLite's own mutexes are pure overhead.
        let mut conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db(&path, "open"))?;
        // A reader such as the sqlite3 CLI may briefly hold a lock (e.g. during
        // a checkpoint); wait for it rather than failing a dispatch command.
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db(&path, "set busy_timeout"))?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "wal", |r| r.get(0))
            .map_err(db(&path, "set journal_mode=WAL"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Corrupt {
                path,
                detail: format!("could not switch to WAL mode (got {mode:?})"),
            });
        }
        // FULL, not NORMAL: in WAL mode NORMAL skips the fsync at commit, so
        // an acknowledged command could vanish on power loss. See module docs.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db(&path, "set synchronous=FULL"))?;
        // Keep the WAL from growing without bound between checkpoints.
        conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
            .map_err(db(&path, "set journal_size_limit"))?;

        schema::prepare(&mut conn, &path)?;

        if !existed {
            // The new file's directory entry must itself be durable, or a
            // power cut right after creation could lose the whole journal
            // even though SQLite synced the file contents. SQLite's unix VFS
            // syncs the directory after creating a WAL or rollback journal
            // (`isNewJrnl` in os_unix.c), but not after creating the main
            // database file, so that one is ours to do.
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io(dir, "sync directory"))?;
        }

        let mut journal = Journal {
            conn,
            path,
            last_row: 0,
            last_hash: GENESIS,
            last_seq: HashMap::new(),
            poisoned: None,
            signer: None,
            last_checkpoint: (0, i64::MIN),
        };
        journal.load_state(check_head)?;
        Ok(journal)
    }

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

    /// The last stored row and its hash, read from the table (not the cached head).
    pub(crate) fn stored_last_row(&self) -> Result<Option<(u64, String)>, StoreError> {
        self.conn
            .query_row(
                "SELECT row, hash FROM entries ORDER BY row DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db(&self.path, "read last row"))
    }

    /// Reads the chain head and per-stream sequence numbers into memory, and
    /// cross-checks the recorded head against the last row.
    fn load_state(&mut self, check_head: bool) -> Result<(), StoreError> {
        let corrupt = |detail: String| StoreError::Corrupt {
            path: self.path.clone(),
            detail,
        };
        let last: Option<(u64, String)> = self.stored_last_row()?;
        let head: Option<(u64, String)> = self
            .conn
            .query_row("SELECT row, hash FROM chain_head WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(db(&self.path, "read chain head"))?;
        // The head is written in the same transaction as the rows, so a crash
        // can never make them disagree; disagreement means the file was edited
        // or damaged. Refuse to append on top of it: appending would bury the
        // evidence under a fresh, self-consistent chain.
        if check_head && last != head {
            return Err(corrupt(format!(
                "recorded chain head {:?} does not match the last row {:?}; run verify",
                head.as_ref().map(|h| h.0),
                last.as_ref().map(|l| l.0)
            )));
        }
        if let Some((row, hash)) = last {
            self.last_row = row;
            self.last_hash = chain::from_hex(&hash)
                .ok_or_else(|| corrupt(format!("row {row} has a malformed hash {hash:?}")))?;
        }
        // One pass over the (stream, seq) index; open cost grows with the
        // number of streams, not with how each stream is read later.
        let mut stmt = self
            .conn
            .prepare("SELECT stream, max(seq) FROM entries GROUP BY stream")
            .map_err(db(&self.path, "read streams"))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u64>(1)?)))
            .map_err(db(&self.path, "read streams"))?;
        for r in rows {
            let (stream, seq) = r.map_err(db(&self.path, "read streams"))?;
            self.last_seq.insert(stream, seq);
        }
        Ok(())
    }

    /// Sets the chain head back to `row`/`hash` after the file was changed under
    /// this handle (an accepted break), re-reading the per-stream seqs.
    pub(crate) fn reload_head(&mut self, row: u64, hash: ChainHash) -> Result<(), StoreError> {
        self.last_row = row;
        self.last_hash = hash;
        self.last_seq.clear();
        self.load_state(true)
    }

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
    fn due_checkpoint(&self, row: u64, hash: &ChainHash, now_ms: i64) -> Option<Checkpoint> {
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

    /// Appends `entries` to `stream` in one transaction. Their sequence numbers
    /// continue the stream (1, 2, 3, ...). When this returns `Ok`, the entries
    /// are on disk (fsynced). An empty slice is a no-op.
    pub fn append(&mut self, stream: &str, entries: &[NewEntry]) -> Result<Vec<Entry>, StoreError> {
        self.append_groups(&[(stream, entries)])
    }

    /// Appends several streams' (or several commands') entries in ONE
    /// transaction and so ONE fsync: either all of them are durable or none.
    /// The same stream may appear more than once; its sequence numbers keep
    /// counting in batch order. Returns the stored entries in append order.
    ///
    /// Takes `Vec<NewEntry>`, slices or arrays per stream alike.
    pub fn append_batch<E: AsRef<[NewEntry]>>(
        &mut self,
        batch: &[(&str, E)],
    ) -> Result<Vec<Entry>, StoreError> {
        let groups: Vec<(&str, &[NewEntry])> =
            batch.iter().map(|(s, e)| (*s, e.as_ref())).collect();
        self.append_groups(&groups)
    }

    fn append_groups(&mut self, groups: &[(&str, &[NewEntry])]) -> Result<Vec<Entry>, StoreError> {
        self.check_usable()?;
        // Validate everything before touching the file so a bad entry cannot
        // leave half a batch behind (the transaction would roll back anyway,
        // but this gives a clear error naming the entry).
        for (stream, entries) in groups {
            validate_stream(stream)?;
            for (i, e) in entries.iter().enumerate() {
                validate_entry(stream, i, e)?;
            }
        }
        let total: usize = groups.iter().map(|(_, e)| e.len()).sum();
        if total == 0 {
            return Ok(Vec::new());
        }

        // Compute the new rows against a copy of the head; the in-memory state
        // is only advanced after COMMIT succeeded.
        let mut row = self.last_row;
        let mut hash = self.last_hash;
        let mut seqs: HashMap<&str, u64> = HashMap::new();
        let mut out = Vec::with_capacity(total);
        for (stream, entries) in groups {
            for e in entries.iter() {
                let seq = seqs
                    .entry(stream)
                    .or_insert_with(|| self.last_seq.get(*stream).copied().unwrap_or(0));
                *seq += 1;
                row += 1;
                hash = chain::row_hash(&hash, stream, *seq, &e.kind, e.recorded_at_ms, &e.payload);
                out.push(Entry {
                    row,
                    stream: (*stream).to_owned(),
                    seq: *seq,
                    kind: e.kind.clone(),
                    payload: e.payload.clone(),
                    recorded_at_ms: e.recorded_at_ms,
                    hash: chain::to_hex(&hash),
                });
            }
        }
        let newest_at = out.iter().map(|e| e.recorded_at_ms).max().unwrap_or(0);
        let checkpoint = self.due_checkpoint(row, &hash, newest_at);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db(&self.path, "begin append"))?;
        {
            // Another handle may have appended since we last wrote; writing on
            // top of our stale head would fork the chain. The IMMEDIATE
            // transaction holds the write lock, so this check cannot race.
            let head: Option<(u64, String)> = tx
                .prepare_cached("SELECT row, hash FROM chain_head WHERE id = 1")
                .and_then(|mut st| st.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
                .map_err(db(&self.path, "read chain head"))?;
            let ours = (self.last_row > 0).then(|| (self.last_row, chain::to_hex(&self.last_hash)));
            if head != ours {
                return Err(StoreError::Conflict {
                    path: self.path.clone(),
                    detail: format!(
                        "this handle's last row is {}, the file's is {}",
                        self.last_row,
                        head.map_or(0, |h| h.0)
                    ),
                });
            }
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO entries (row, stream, seq, kind, payload, recorded_at_ms, hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(db(&self.path, "prepare append"))?;
            for e in &out {
                insert
                    .execute(params![
                        e.row,
                        e.stream,
                        e.seq,
                        e.kind,
                        e.payload,
                        e.recorded_at_ms,
                        e.hash
                    ])
                    .map_err(db(&self.path, "append"))?;
            }
            tx.prepare_cached(
                "INSERT INTO chain_head (id, row, hash) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET row = excluded.row, hash = excluded.hash",
            )
            .and_then(|mut s| s.execute(params![row, chain::to_hex(&hash)]))
            .map_err(db(&self.path, "update chain head"))?;
            if let Some(cp) = &checkpoint {
                crate::integrity::insert_checkpoint(&tx, &self.path, cp)?;
            }
        }
        // Errors before this point roll the transaction back (on drop) and
        // leave both file and memory as they were. A failed COMMIT is
        // different: the fsync may or may not have happened, so poison.
        if let Err(e) = tx.commit() {
            let err = StoreError::sqlite(&self.path, "commit append", e);
            self.poisoned = Some(err.to_string());
            return Err(err);
        }

        self.last_row = row;
        self.last_hash = hash;
        if let Some(cp) = checkpoint {
            self.last_checkpoint = (cp.row, cp.at_ms);
        }
        for (stream, seq) in seqs {
            self.last_seq.insert(stream.to_owned(), seq);
        }
        Ok(out)
    }

    /// Last sequence number of `stream` (0 if it has no entries). Answered
    /// from memory, so it cannot fail.
    pub fn last_seq(&self, stream: &str) -> u64 {
        self.last_seq.get(stream).copied().unwrap_or(0)
    }

    /// Up to `limit` entries of `stream` with `seq > after_seq`, in order.
    pub fn read_since(
        &self,
        stream: &str,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.check_usable()?;
        read_since(&self.conn, &self.path, stream, after_seq, limit)
    }

    /// Every entry of `stream`, in order: what a restart replays (after the
    /// latest snapshot, use [`Journal::read_since`] instead).
    pub fn read_all(&self, stream: &str) -> Result<Vec<Entry>, StoreError> {
        self.read_since(stream, 0, usize::MAX)
    }

    /// Up to `limit` entries of all streams with global `row > after_row`, in
    /// global order (for projections that follow the whole journal).
    pub fn read_rows(&self, after_row: u64, limit: usize) -> Result<Vec<Entry>, StoreError> {
        self.check_usable()?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT row, stream, seq, kind, payload, recorded_at_ms, hash FROM entries
                 WHERE row > ?1 ORDER BY row LIMIT ?2",
            )
            .map_err(db(&self.path, "prepare read"))?;
        let rows = stmt
            .query_map(params![after_row, limit], entry_from_row)
            .map_err(db(&self.path, "read"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db(&self.path, "read"))
    }

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

/// Maps a SQLite error to a [`StoreError`] naming the file and the action.
pub(crate) fn db<'a>(
    path: &'a Path,
    action: &'static str,
) -> impl FnOnce(rusqlite::Error) -> StoreError + 'a {
    move |e| StoreError::sqlite(path, action, e)
}

/// Up to `limit` entries of `stream` after `after_seq`, in order: the one
/// query behind [`Journal::read_since`] and [`JournalReader::read_since`].
fn read_since(
    conn: &Connection,
    path: &Path,
    stream: &str,
    after_seq: u64,
    limit: usize,
) -> Result<Vec<Entry>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = conn
        .prepare_cached(
            "SELECT row, stream, seq, kind, payload, recorded_at_ms, hash FROM entries
             WHERE stream = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )
        .map_err(db(path, "prepare read"))?;
    let rows = stmt
        .query_map(params![stream, after_seq, limit], entry_from_row)
        .map_err(db(path, "read"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(db(path, "read"))
}

pub(crate) fn entry_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        row: r.get(0)?,
        stream: r.get(1)?,
        seq: r.get(2)?,
        kind: r.get(3)?,
        payload: r.get(4)?,
        recorded_at_ms: r.get(5)?,
        hash: r.get(6)?,
    })
}

fn validate_stream(stream: &str) -> Result<(), StoreError> {
    if stream.is_empty() {
        return Err(StoreError::InvalidInput {
            detail: "stream name is empty".into(),
        });
    }
    Ok(())
}

fn validate_entry(stream: &str, index: usize, e: &NewEntry) -> Result<(), StoreError> {
    if e.kind.is_empty() {
        return Err(StoreError::InvalidInput {
            detail: format!("entry {index} for stream {stream:?} has an empty kind"),
        });
    }
    // Checked here so the embedded and a future PostgreSQL (jsonb) backend
    // accept exactly the same input. IgnoredAny parses without building a tree.
    if let Err(err) = serde_json::from_str::<serde::de::IgnoredAny>(&e.payload) {
        return Err(StoreError::InvalidInput {
            detail: format!(
                "entry {index} ({:?}) for stream {stream:?}: payload is not JSON: {err}",
                e.kind
            ),
        });
    }
    Ok(())
}

/// A read-only view of a journal another handle writes: what the server uses to
/// replay missed events to a reconnecting client without going through the
/// single writer. Reads see every committed transaction (WAL readers never block
/// the writer, nor it them).
pub struct JournalReader {
    path: PathBuf,
    pub(crate) conn: Connection,
}

impl std::fmt::Debug for JournalReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalReader")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl JournalReader {
    /// Opens the journal in `dir` for reading; it must already exist.
    pub fn open(dir: &Path) -> Result<JournalReader, StoreError> {
        let path = dir.join(JOURNAL_FILE);
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db(&path, "open for reading"))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db(&path, "set busy timeout"))?;
        Ok(JournalReader { path, conn })
    }

    /// Up to `limit` entries of `stream` with `seq > after_seq`, in order.
    pub fn read_since(
        &self,
        stream: &str,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        read_since(&self.conn, &self.path, stream, after_seq, limit)
    }
}
