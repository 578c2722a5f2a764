//! Reading entries back: by stream (what a restart replays), by global row
//! (for projections), and through a [`JournalReader`] beside the writer.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, params};

use super::{Entry, JOURNAL_FILE, Journal, db};
use crate::StoreError;

impl Journal {
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
        read_rows(&self.conn, &self.path, after_row, limit)
    }
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
    query_entries(
        conn,
        path,
        "WHERE stream = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        params![stream, after_seq, sql_limit(limit)],
    )
}

/// Up to `limit` entries of all streams after global row `after_row`, in order.
fn read_rows(
    conn: &Connection,
    path: &Path,
    after_row: u64,
    limit: usize,
) -> Result<Vec<Entry>, StoreError> {
    query_entries(
        conn,
        path,
        "WHERE row > ?1 ORDER BY row LIMIT ?2",
        params![after_row, sql_limit(limit)],
    )
}

fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// The entries selected by `filter` (a WHERE/ORDER/LIMIT clause).
fn query_entries(
    conn: &Connection,
    path: &Path,
    filter: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Entry>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT row, stream, seq, kind, payload, recorded_at_ms, hash FROM entries {filter}"
        ))
        .map_err(db(path, "prepare read"))?;
    let rows = stmt
        .query_map(params, entry_from_row)
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

    /// Up to `limit` entries of all streams with global `row > after_row`, in order.
    pub fn read_rows(&self, after_row: u64, limit: usize) -> Result<Vec<Entry>, StoreError> {
        read_rows(&self.conn, &self.path, after_row, limit)
    }

    /// The last seq of `stream` (0 when it has none).
    pub fn stream_seq(&self, stream: &str) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                "SELECT coalesce(max(seq), 0) FROM entries WHERE stream = ?1",
                [stream],
                |r| r.get(0),
            )
            .map_err(db(&self.path, "read a stream's last seq"))
    }

    /// The number of the last row (0 for an empty journal).
    pub fn last_row(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT coalesce(max(row), 0) FROM entries", [], |r| {
                r.get(0)
            })
            .map_err(db(&self.path, "read last row"))
    }
}
