//! The chain walk: from a point (row 1, or the last verified point once it is
//! found unchanged), row and per-stream seq contiguity and the hash chain,
//! passing over accepted breaks, then the recorded chain head.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::AcceptedBreak;
use crate::StoreError;
use crate::chain::{self, ChainHash, GENESIS};
use crate::journal::{BrokenRow, Entry, Problem, db, entry_from_row};

/// Where a walk stands: after row `after`, whose hash is `prev`.
pub(crate) struct Cursor {
    pub after: u64,
    pub prev: ChainHash,
    /// The last row passed: row, stream, seq.
    pub last: Option<(u64, String, u64)>,
}

impl Cursor {
    /// Before row 1.
    pub(crate) fn genesis() -> Cursor {
        Cursor {
            after: 0,
            prev: GENESIS,
            last: None,
        }
    }
}

/// A walk's outcome: where it ended, or the first row that broke it.
pub(crate) struct Walked {
    pub rows: u64,
    pub broken: Option<BrokenRow>,
    pub passed: Vec<u64>,
    pub from_row: u64,
}

pub(super) fn row_at(
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

pub(super) fn last_present(conn: &Connection, path: &Path) -> Result<u64, StoreError> {
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
                let problem = check_row(&mut cur, expected_seq, &e).err();
                if let Some(problem) = problem {
                    broken = Some(BrokenRow {
                        row: e.row,
                        stream: e.stream,
                        seq: e.seq,
                        problem,
                    });
                    break;
                }
                seqs.insert(e.stream, e.seq);
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
    Ok(head_problem(head, cur))
}

/// The chain rules for one row met in global order after `cur`: the next row
/// number, the next seq of its stream, a well-formed hash that the chain
/// computes. On success `cur` moves past the row. Every backend's walk checks
/// rows with this one function.
pub(crate) fn check_row(cur: &mut Cursor, expected_seq: u64, e: &Entry) -> Result<(), Problem> {
    if e.row != cur.after + 1 {
        return Err(Problem::MissingPrevious {
            expected_row: cur.after + 1,
        });
    }
    if e.seq != expected_seq {
        return Err(Problem::SeqGap { expected_seq });
    }
    let Some(stored) = chain::from_hex(&e.hash) else {
        return Err(Problem::MalformedHash {
            stored: e.hash.clone(),
        });
    };
    let computed = chain::row_hash(
        &cur.prev,
        &e.stream,
        e.seq,
        &e.kind,
        e.recorded_at_ms,
        &e.payload,
    );
    if computed != stored {
        return Err(Problem::HashMismatch {
            stored: e.hash.clone(),
            computed: chain::to_hex(&computed),
        });
    }
    cur.prev = computed;
    cur.after = e.row;
    cur.last = Some((e.row, e.stream.clone(), e.seq));
    Ok(())
}

/// What the recorded chain head says against the walk's end: nothing when it
/// names the last row and its hash (or there are no rows and no head).
pub(crate) fn head_problem(head: Option<(u64, String)>, cur: &Cursor) -> Option<BrokenRow> {
    let last_row = cur.last.as_ref().map_or(0, |l| l.0);
    let (last_stream, last_seq) = cur
        .last
        .as_ref()
        .map(|l| (l.1.clone(), l.2))
        .unwrap_or_default();
    match head {
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
    }
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
pub(super) fn verify_since_point(
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
