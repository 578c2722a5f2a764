//! The signed checkpoints stored with the rows: written, read, and checked
//! against the rows (those in the journal and exported copies alike).

use std::path::Path;

use ed25519_dalek::VerifyingKey;
use rusqlite::{Connection, params};

use super::walk::{last_present, row_at};
use crate::StoreError;
use crate::chain;
use crate::checkpoint::Checkpoint;
use crate::journal::{BrokenRow, Problem, db};

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
    check_against(
        checkpoints,
        source,
        key,
        &mut |row| row_at(conn, path, row),
        &mut || last_present(conn, path),
    )
}

/// Where a row is: its stream, seq and stored hash (`None`: no such row).
pub(crate) type RowAt<'a> =
    dyn FnMut(u64) -> Result<Option<(String, u64, String)>, StoreError> + 'a;

/// [`check_checkpoints`] against any backend's rows: `row_at` looks a row up,
/// `last_present` gives the last row there is.
pub(crate) fn check_against(
    checkpoints: &[Checkpoint],
    source: &str,
    key: Option<&VerifyingKey>,
    row_at: &mut RowAt<'_>,
    last_present: &mut dyn FnMut() -> Result<u64, StoreError>,
) -> Result<Option<BrokenRow>, StoreError> {
    let mut sorted: Vec<&Checkpoint> = checkpoints.iter().collect();
    sorted.sort_by_key(|c| c.row);
    for cp in sorted {
        let at = row_at(cp.row)?;
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
                    last_present: last_present()?,
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
