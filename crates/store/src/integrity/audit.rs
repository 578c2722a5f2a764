//! From outside the engine, through a connection of its own while the engine
//! may be writing: `satria audit` verification, the checkpoints to export,
//! the consoles' integrity status, and the admin's acknowledgement of
//! accepted breaks.

use std::path::Path;

use ed25519_dalek::VerifyingKey;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::{IntegrityStatus, accepted_breaks, check_checkpoints, checkpoints, verify_all};
use crate::checkpoint::Checkpoint;
use crate::journal::{JOURNAL_FILE, db};
use crate::{Journal, StoreError, schema};

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
