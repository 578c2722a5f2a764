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

use std::collections::HashMap;
use std::path::Path;

use ed25519_dalek::VerifyingKey;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use crate::chain::{self, ChainHash, GENESIS};
use crate::checkpoint::{Checkpoint, CheckpointSigner};
use crate::journal::{BrokenRow, JOURNAL_FILE, NewEntry, Problem, db, entry_from_row};
use crate::{Journal, StoreError, schema};

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

/// What [`Journal::open_verified`] checked.
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

/// Where a walk stands: after row `after`, whose hash is `prev`.
struct Cursor {
    after: u64,
    prev: ChainHash,
    last: Option<(u64, String, u64)>,
}

/// A walk's outcome: where it ended, or the first row that broke it.
pub(crate) struct Walked {
    pub rows: u64,
    pub broken: Option<BrokenRow>,
    pub passed: Vec<u64>,
    pub from_row: u64,
}

fn row_at(
    conn: &Connection,
    path: &Path,
    row: u64,
) -> Result<Option<(String, u64, String)>, StoreError> {
    conn.prepare_cached("SELECT stream, seq, hash FROM entries WHERE row = ?1")
        .and_then(|mut s| {
            s.query_row(params![row], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
        })
        .map_err(db(path, "read row"))
}

fn last_present(conn: &Connection, path: &Path) -> Result<u64, StoreError> {
    conn.query_row("SELECT coalesce(max(row), 0) FROM entries", [], |r| {
        r.get(0)
    })
    .map_err(db(path, "read last row"))
}

/// The seq the first row of `stream` after row `after` must have: one more than
/// the stream's seq at or before `after` (looked up through the (stream, seq)
/// index, so a walk of the tail never reads the rows before it).
fn first_seq_expected(
    conn: &Connection,
    path: &Path,
    stream: &str,
    seq: u64,
    after: u64,
) -> Result<u64, StoreError> {
    if seq == 1 {
        return Ok(1);
    }
    let prev: Option<u64> = conn
        .prepare_cached("SELECT row FROM entries WHERE stream = ?1 AND seq = ?2")
        .and_then(|mut s| {
            s.query_row(params![stream, seq - 1], |r| r.get(0))
                .optional()
        })
        .map_err(db(path, "read stream"))?;
    if prev.is_some_and(|r| r <= after) {
        return Ok(seq);
    }
    let max: u64 = conn
        .query_row(
            "SELECT coalesce(max(seq), 0) FROM entries WHERE stream = ?1 AND row <= ?2",
            params![stream, after],
            |r| r.get(0),
        )
        .map_err(db(path, "read stream"))?;
    Ok(max + 1)
}

/// Walks the rows after `cur`, checking row and seq contiguity and the hash
/// chain; passes over accepted breaks; then checks the recorded chain head.
fn walk(
    conn: &Connection,
    path: &Path,
    mut cur: Cursor,
    accepted: &[AcceptedBreak],
) -> Result<Walked, StoreError> {
    let from_row = cur.after;
    let mut rows = 0u64;
    let mut passed = Vec::new();
    loop {
        let mut broken = None;
        {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT row, stream, seq, kind, payload, recorded_at_ms, hash FROM entries
                     WHERE row > ?1 ORDER BY row",
                )
                .map_err(db(path, "prepare verify"))?;
            let mut q = stmt.query(params![cur.after]).map_err(db(path, "verify"))?;
            let mut seqs: HashMap<String, u64> = HashMap::new();
            while let Some(r) = q.next().map_err(db(path, "verify"))? {
                let e = entry_from_row(r).map_err(db(path, "verify"))?;
                rows += 1;
                let expected_seq = match seqs.get(&e.stream) {
                    Some(s) => s + 1,
                    None => first_seq_expected(conn, path, &e.stream, e.seq, cur.after)?,
                };
                let problem = if e.row != cur.after + 1 {
                    Some(Problem::MissingPrevious {
                        expected_row: cur.after + 1,
                    })
                } else if e.seq != expected_seq {
                    Some(Problem::SeqGap { expected_seq })
                } else {
                    match chain::from_hex(&e.hash) {
                        None => Some(Problem::MalformedHash {
                            stored: e.hash.clone(),
                        }),
                        Some(stored) => {
                            let computed = chain::row_hash(
                                &cur.prev,
                                &e.stream,
                                e.seq,
                                &e.kind,
                                e.recorded_at_ms,
                                &e.payload,
                            );
                            if computed == stored {
                                cur.prev = computed;
                                None
                            } else {
                                Some(Problem::HashMismatch {
                                    stored: e.hash.clone(),
                                    computed: chain::to_hex(&computed),
                                })
                            }
                        }
                    }
                };
                if let Some(problem) = problem {
                    broken = Some(BrokenRow {
                        row: e.row,
                        stream: e.stream,
                        seq: e.seq,
                        problem,
                    });
                    break;
                }
                seqs.insert(e.stream.clone(), e.seq);
                cur.after = e.row;
                cur.last = Some((e.row, e.stream, e.seq));
            }
        }
        let Some(b) = broken else {
            let broken = check_head(conn, path, &cur)?;
            return Ok(Walked {
                rows,
                broken,
                passed,
                from_row,
            });
        };
        let done = |broken| {
            Ok(Walked {
                rows,
                broken: Some(broken),
                passed: passed.clone(),
                from_row,
            })
        };
        let Some(a) = accepted
            .iter()
            .find(|a| a.row == b.row && a.head_row >= b.row && !passed.contains(&a.row))
        else {
            return done(b);
        };
        // Accepted: the rows up to the head of that moment are taken as found;
        // that head must still be there, unchanged.
        let anchor = format!("head accepted with the break at row {}", a.row);
        match (
            row_at(conn, path, a.head_row)?,
            chain::from_hex(&a.head_hash),
        ) {
            (Some((stream, seq, hash)), Some(head)) if chain::from_hex(&hash) == Some(head) => {
                passed.push(a.row);
                cur = Cursor {
                    after: a.head_row,
                    prev: head,
                    last: Some((a.head_row, stream, seq)),
                };
            }
            (Some((stream, seq, hash)), _) => {
                return done(BrokenRow {
                    row: a.head_row,
                    stream,
                    seq,
                    problem: Problem::AnchorMismatch {
                        anchor,
                        expected: a.head_hash.clone(),
                        stored: hash,
                    },
                });
            }
            (None, _) => {
                return done(BrokenRow {
                    row: a.head_row,
                    stream: String::new(),
                    seq: 0,
                    problem: Problem::AnchorBeyondEnd {
                        anchor,
                        last_present: last_present(conn, path)?,
                    },
                });
            }
        }
    }
}

/// The recorded chain head must name the last row and its hash.
fn check_head(
    conn: &Connection,
    path: &Path,
    cur: &Cursor,
) -> Result<Option<BrokenRow>, StoreError> {
    let head: Option<(u64, String)> = conn
        .query_row("SELECT row, hash FROM chain_head WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
        .map_err(db(path, "read chain head"))?;
    let last_row = cur.last.as_ref().map_or(0, |l| l.0);
    let (last_stream, last_seq) = cur
        .last
        .as_ref()
        .map(|l| (l.1.clone(), l.2))
        .unwrap_or_default();
    Ok(match head {
        Some((head_row, _)) if head_row > last_row => Some(BrokenRow {
            row: head_row,
            stream: last_stream,
            seq: last_seq,
            problem: Problem::TruncatedTail {
                last_present: last_row,
            },
        }),
        Some((head_row, head_hash))
            if head_row != last_row || chain::from_hex(&head_hash) != Some(cur.prev) =>
        {
            Some(BrokenRow {
                row: last_row,
                stream: last_stream,
                seq: last_seq,
                problem: Problem::HeadMismatch { head: head_hash },
            })
        }
        None if last_row > 0 => Some(BrokenRow {
            row: last_row,
            stream: last_stream,
            seq: last_seq,
            problem: Problem::HeadMismatch {
                head: String::new(),
            },
        }),
        _ => None,
    })
}

/// The whole chain from row 1.
pub(crate) fn verify_all(
    conn: &Connection,
    path: &Path,
    accepted: &[AcceptedBreak],
) -> Result<Walked, StoreError> {
    walk(
        conn,
        path,
        Cursor {
            after: 0,
            prev: GENESIS,
            last: None,
        },
        accepted,
    )
}

/// The rows after the last verified point, once that point is found unchanged;
/// the whole chain when there is none.
fn verify_since_point(
    conn: &Connection,
    path: &Path,
    accepted: &[AcceptedBreak],
) -> Result<Walked, StoreError> {
    let point: Option<(u64, String)> = conn
        .query_row(
            "SELECT row, hash FROM verified_point WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db(path, "read verified point"))?;
    let Some((row, hash)) = point.filter(|p| p.0 > 0) else {
        return verify_all(conn, path, accepted);
    };
    let Some(expected) = chain::from_hex(&hash) else {
        return verify_all(conn, path, accepted);
    };
    let anchor = "last verified point".to_string();
    let fail = |broken| Walked {
        rows: 0,
        broken: Some(broken),
        passed: Vec::new(),
        from_row: row,
    };
    match row_at(conn, path, row)? {
        None => Ok(fail(BrokenRow {
            row,
            stream: String::new(),
            seq: 0,
            problem: Problem::AnchorBeyondEnd {
                anchor,
                last_present: last_present(conn, path)?,
            },
        })),
        Some((stream, seq, stored)) if chain::from_hex(&stored) != Some(expected) => {
            Ok(fail(BrokenRow {
                row,
                stream,
                seq,
                problem: Problem::AnchorMismatch {
                    anchor,
                    expected: hash,
                    stored,
                },
            }))
        }
        Some((stream, seq, _)) => walk(
            conn,
            path,
            Cursor {
                after: row,
                prev: expected,
                last: Some((row, stream, seq)),
            },
            accepted,
        ),
    }
}

/// Checks checkpoints from `source` ("journal", "exported") against the rows:
/// each must be signed (by `key` when given), name a row that exists, and
/// carry that row's hash. The first that fails, by row.
pub(crate) fn check_checkpoints(
    conn: &Connection,
    path: &Path,
    checkpoints: &[Checkpoint],
    source: &str,
    key: Option<&VerifyingKey>,
) -> Result<Option<BrokenRow>, StoreError> {
    let mut sorted: Vec<&Checkpoint> = checkpoints.iter().collect();
    sorted.sort_by_key(|c| c.row);
    for cp in sorted {
        let at = row_at(conn, path, cp.row)?;
        let (stream, seq) = at.as_ref().map(|a| (a.0.clone(), a.1)).unwrap_or_default();
        let broken = |problem| {
            Ok(Some(BrokenRow {
                row: cp.row,
                stream: stream.clone(),
                seq,
                problem,
            }))
        };
        if let Err(detail) = cp.check(key) {
            return broken(Problem::BadCheckpoint {
                source: source.to_string(),
                detail,
            });
        }
        let anchor = format!("{source} checkpoint signed at {} ms", cp.at_ms);
        match at {
            None => {
                return broken(Problem::AnchorBeyondEnd {
                    anchor,
                    last_present: last_present(conn, path)?,
                });
            }
            Some((_, _, hash)) if chain::from_hex(&hash) != chain::from_hex(&cp.hash) => {
                return broken(Problem::AnchorMismatch {
                    anchor,
                    expected: cp.hash.clone(),
                    stored: hash,
                });
            }
            Some(_) => {}
        }
    }
    Ok(None)
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

pub(crate) fn checkpoints(
    conn: &Connection,
    path: &Path,
    newest_only: bool,
) -> Result<Vec<Checkpoint>, StoreError> {
    let sql = if newest_only {
        "SELECT row, hash, at_ms, public_key, signature FROM checkpoints ORDER BY row DESC LIMIT 1"
    } else {
        "SELECT row, hash, at_ms, public_key, signature FROM checkpoints ORDER BY row"
    };
    let mut stmt = conn.prepare(sql).map_err(db(path, "read checkpoints"))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Checkpoint {
                row: r.get(0)?,
                hash: r.get(1)?,
                at_ms: r.get(2)?,
                public_key: r.get(3)?,
                signature: r.get(4)?,
            })
        })
        .map_err(db(path, "read checkpoints"))?;
    rows.collect::<Result<_, _>>()
        .map_err(db(path, "read checkpoints"))
}

pub(crate) fn insert_checkpoint(
    conn: &Connection,
    path: &Path,
    cp: &Checkpoint,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO checkpoints (row, hash, at_ms, public_key, signature)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut s| {
        s.execute(params![
            cp.row,
            cp.hash,
            cp.at_ms,
            cp.public_key,
            cp.signature
        ])
    })
    .map(|_| ())
    .map_err(db(path, "write checkpoint"))
}

/// A read-only connection to the journal in `dir`, at the current schema.
fn read_only(dir: &Path) -> Result<(Connection, std::path::PathBuf), StoreError> {
    let path = dir.join(JOURNAL_FILE);
    if !path.exists() {
        return Err(StoreError::Io {
            path,
            action: "open for reading",
            source: std::io::ErrorKind::NotFound.into(),
        });
    }
    let conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(db(&path, "open read-only"))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(db(&path, "set busy timeout"))?;
    schema::check_read_only(&conn, &path)?;
    Ok((conn, path))
}

/// The accepted breaks, the newest checkpoint and the last verified row of the
/// journal in `dir` (read-only; the engine may be writing).
pub fn integrity_status(dir: &Path) -> Result<IntegrityStatus, StoreError> {
    let (conn, path) = read_only(dir)?;
    let verified_row: Option<u64> = conn
        .query_row("SELECT row FROM verified_point WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(db(&path, "read verified point"))?;
    Ok(IntegrityStatus {
        accepted: accepted_breaks(&conn, &path)?,
        last_checkpoint: checkpoints(&conn, &path, true)?.pop(),
        verified_row: verified_row.unwrap_or(0),
    })
}

/// Every checkpoint of the journal in `dir`, oldest first (read-only).
pub fn read_checkpoints(dir: &Path) -> Result<Vec<Checkpoint>, StoreError> {
    let (conn, path) = read_only(dir)?;
    checkpoints(&conn, &path, false)
}

/// Marks every unacknowledged accepted break as acknowledged by `by` at
/// `at_ms`; returns how many. Writes only the `accepted_breaks` table, never the
/// chain, so the engine writing the same file is not disturbed.
pub fn acknowledge_breaks(dir: &Path, by: &str, at_ms: i64) -> Result<usize, StoreError> {
    let path = dir.join(JOURNAL_FILE);
    let conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(db(&path, "open"))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(db(&path, "set busy timeout"))?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db(&path, "set synchronous=FULL"))?;
    schema::check_read_only(&conn, &path)?;
    conn.execute(
        "UPDATE accepted_breaks SET acknowledged_at_ms = ?1, acknowledged_by = ?2
         WHERE acknowledged_at_ms IS NULL",
        params![at_ms, by],
    )
    .map_err(db(&path, "acknowledge"))
}

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

    /// Checks the journal (the whole chain, every checkpoint in it, and those in
    /// `exported`) through a read-only connection; `key` requires every
    /// checkpoint to be signed by it.
    pub fn verify_dir_with(
        dir: &Path,
        key: Option<&VerifyingKey>,
        exported: &[Checkpoint],
    ) -> Result<crate::VerifyReport, StoreError> {
        let (conn, path) = read_only(dir)?;
        let accepted = accepted_breaks(&conn, &path)?;
        let walked = verify_all(&conn, &path, &accepted)?;
        let stored = checkpoints(&conn, &path, false)?;
        let mut first = walked.broken;
        for b in [
            check_checkpoints(&conn, &path, &stored, "journal", key)?,
            check_checkpoints(&conn, &path, exported, "exported", key)?,
        ]
        .into_iter()
        .flatten()
        {
            if first.as_ref().is_none_or(|f| b.row < f.row) {
                first = Some(b);
            }
        }
        Ok(crate::VerifyReport {
            rows: walked.rows,
            first_broken: first,
            checkpoints: (stored.len() + exported.len()) as u64,
            accepted: accepted
                .into_iter()
                .filter(|a| walked.passed.contains(&a.row))
                .collect(),
        })
    }
}
