//! Opening a journal file: directory, pragmas, schema, and the chain head and
//! per-stream sequence numbers loaded into memory (cross-checked against the
//! last row).

use std::collections::HashMap;
use std::fs::{self, File};
use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::{JOURNAL_FILE, Journal, db};
use crate::chain::{self, ChainHash, GENESIS};
use crate::{StoreError, schema};

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
}
