//! Opening a SQLite database file the one way every Satria module does (the
//! accounts store, Pattas, Salinmas): write-ahead log, `synchronous = FULL`
//! (the files hold money, audit trails and patient cases: they must survive a
//! power cut, not only a crash), foreign keys on, a 5 s busy timeout, and the
//! schema brought up to date inside one immediate transaction, counted by
//! `PRAGMA user_version`.
//!
//! Invariants: a file whose schema is newer than the caller knows is refused,
//! never written; a migration that fails leaves the file as it was (the
//! transaction rolls back); a file opened here is in WAL mode (or in memory).
//!
//! The dispatch journal (`satria-store`) opens its file itself: it is one
//! append-only table with its own checks at open.

use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

/// Why a database could not be opened before any migration ran.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// SQLite refused (the file, the disk, a lock held past the timeout).
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// The file cannot use a write-ahead log (e.g. a network file system).
    #[error("could not switch to WAL (journal_mode is {0})")]
    NotWal(String),
    /// The file was written by a newer build.
    #[error("{name} database schema version {found} is newer than this build ({newest})")]
    NewerSchema {
        /// The database, e.g. `pattas`.
        name: String,
        /// The file's `user_version`.
        found: i64,
        /// The newest this build knows.
        newest: i64,
    },
}

/// How long a writer waits for another's lock before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens (creating if needed) the database `name` at `path` and brings its
/// schema to version `newest`: `migrate(tx, from)` runs inside one immediate
/// transaction with `from` the file's `user_version` (0 for a new file), and
/// must apply every step after it; then `user_version` becomes `newest` and
/// the transaction commits.
pub fn open<E>(
    path: &Path,
    name: &str,
    newest: i64,
    migrate: impl FnOnce(&Transaction<'_>, i64) -> Result<(), E>,
) -> Result<Connection, E>
where
    E: From<OpenError> + From<rusqlite::Error>,
{
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
        return Err(OpenError::NotWal(mode).into());
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > newest {
        return Err(OpenError::NewerSchema {
            name: name.to_string(),
            found,
            newest,
        }
        .into());
    }
    migrate(&tx, found.max(0))?;
    tx.pragma_update(None, "user_version", newest)?;
    tx.commit()?;
    Ok(conn)
}

/// The schema version of an open database.
pub fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEPS: [&str; 2] = [
        "CREATE TABLE a (x INTEGER NOT NULL)",
        "CREATE TABLE b (a INTEGER NOT NULL REFERENCES a(rowid))",
    ];

    fn steps(upto: usize) -> impl FnOnce(&Transaction<'_>, i64) -> Result<(), OpenError> {
        move |tx, from| {
            for sql in &STEPS[from as usize..upto] {
                tx.execute_batch(sql)?;
            }
            Ok(())
        }
    }

    #[test]
    fn a_new_file_is_migrated_in_wal_mode_and_a_reopen_runs_only_the_new_steps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sqlite");
        let c = open(&path, "m", 1, steps(1)).unwrap();
        assert_eq!(user_version(&c).unwrap(), 1);
        let mode: String = c
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = c
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        drop(c);
        // Step 1 again would fail (table a exists): only step 2 may run.
        let c = open(&path, "m", 2, steps(2)).unwrap();
        assert_eq!(user_version(&c).unwrap(), 2);
        let tables: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 2);
    }

    #[test]
    fn a_newer_file_is_refused_and_left_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sqlite");
        drop(open(&path, "m", 2, steps(2)).unwrap());
        let e = open(&path, "m", 1, steps(1)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "m database schema version 2 is newer than this build (1)"
        );
        let c = Connection::open(&path).unwrap();
        assert_eq!(user_version(&c).unwrap(), 2);
    }

    #[test]
    fn a_failing_migration_leaves_the_file_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sqlite");
        drop(open(&path, "m", 1, steps(1)).unwrap());
        let e = open(
            &path,
            "m",
            2,
            |tx: &Transaction<'_>, _| -> Result<(), OpenError> {
                tx.execute_batch("CREATE TABLE c (y INTEGER)")?;
                Err(rusqlite::Error::InvalidQuery.into())
            },
        );
        assert!(e.is_err());
        let c = Connection::open(&path).unwrap();
        assert_eq!(user_version(&c).unwrap(), 1);
        let c_exists: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'c'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(c_exists, 0);
    }
}
