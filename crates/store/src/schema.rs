//! The journal's SQLite schema and its migrations.
//!
//! The file is recognised as a Satria journal by SQLite's `application_id`
//! header field; its schema version is SQLite's `user_version`. Migrations are
//! an ordered list: migration `i` (0-based) takes the schema from version `i`
//! to `i + 1`. Each runs in the same transaction as the `user_version` bump, so
//! a crash mid-migration leaves the file at the old version, never half-way.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::StoreError;

/// `application_id` of a Satria journal: ASCII "SATR".
pub const APPLICATION_ID: i32 = 0x5341_5452;

/// The migrations, in order. Never edit a released entry; append a new one.
const MIGRATIONS: &[&str] = &[
    // v1: the journal, its chain head, and snapshots.
    r#"
    -- One row per event, in global append order. `row` is assigned by the
    -- writer (not AUTOINCREMENT) so that it is contiguous from 1 and a deleted
    -- row shows up as a gap.
    CREATE TABLE entries (
        row            INTEGER PRIMARY KEY,
        stream         TEXT    NOT NULL,
        seq            INTEGER NOT NULL,
        kind           TEXT    NOT NULL,
        payload        TEXT    NOT NULL,
        recorded_at_ms INTEGER NOT NULL,
        hash           TEXT    NOT NULL,
        UNIQUE (stream, seq)
    ) STRICT;

    -- The chain head after the last commit, written in the same transaction as
    -- the rows. It lets `verify` notice rows cut off the end of the journal,
    -- which the chain alone cannot show.
    CREATE TABLE chain_head (
        id     INTEGER PRIMARY KEY CHECK (id = 1),
        row    INTEGER NOT NULL,
        hash   TEXT    NOT NULL
    ) STRICT;

    -- Snapshots are derived data (a fold of a stream up to `seq`), not part of
    -- the chain; they only shorten replay.
    CREATE TABLE snapshots (
        stream TEXT    NOT NULL,
        seq    INTEGER NOT NULL,
        data   BLOB    NOT NULL,
        PRIMARY KEY (stream, seq)
    ) STRICT;
    "#,
    // v2: what anchors the chain (issue 14): the point up to which the engine
    // last verified it at start, signed checkpoints of the head, and the breaks
    // an operator accepted to start anyway.
    r#"
    -- The last row the engine verified at start and its hash: the next start
    -- checks that this row still has this hash, then verifies only the rows after.
    CREATE TABLE verified_point (
        id     INTEGER PRIMARY KEY CHECK (id = 1),
        row    INTEGER NOT NULL,
        hash   TEXT    NOT NULL
    ) STRICT;

    -- The chain head signed with an ed25519 key kept outside the data dir
    -- (see checkpoint.rs for the signed bytes).
    CREATE TABLE checkpoints (
        row        INTEGER PRIMARY KEY,
        hash       TEXT    NOT NULL,
        at_ms      INTEGER NOT NULL,
        public_key TEXT    NOT NULL,
        signature  TEXT    NOT NULL
    ) STRICT;

    -- A break an operator accepted with --accept-broken-chain: the first broken
    -- row, what was found, and the head at that moment (rows up to it are taken
    -- as found). Shown on every console until an admin acknowledges it.
    CREATE TABLE accepted_breaks (
        id                 INTEGER PRIMARY KEY,
        row                INTEGER NOT NULL,
        problem            TEXT    NOT NULL,
        head_row           INTEGER NOT NULL,
        head_hash          TEXT    NOT NULL,
        accepted_at_ms     INTEGER NOT NULL,
        accepted_by        TEXT    NOT NULL,
        acknowledged_at_ms INTEGER,
        acknowledged_by    TEXT
    ) STRICT;
    "#,
];

/// The newest schema version this build knows.
pub const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

/// Checks that the open database is a Satria journal (or a new empty file),
/// and brings its schema up to [`LATEST_VERSION`].
pub fn prepare(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let sql = |action| move |e| StoreError::sqlite(path, action, e);
    // IMMEDIATE takes the write lock up front, so the check and the migration
    // see the same file state.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("begin migration"))?;
    let app_id: i32 = tx
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(sql("read application_id"))?;
    let version: i64 = tx
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(sql("read user_version"))?;
    if app_id != APPLICATION_ID {
        let objects: i64 = tx
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(sql("read schema"))?;
        // A file with no id, no version and no tables is a new (or
        // crashed-during-creation) journal; anything else belongs to someone else.
        if app_id != 0 || version != 0 || objects != 0 {
            return Err(StoreError::ForeignDatabase {
                path: path.to_path_buf(),
                application_id: app_id,
                expected: APPLICATION_ID,
            });
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(sql("set application_id"))?;
    }
    if version > LATEST_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found: version,
            supported: LATEST_VERSION,
        });
    }
    if version < 0 {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: format!("negative schema version {version}"),
        });
    }
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(migration).map_err(sql("run migration"))?;
        tx.pragma_update(None, "user_version", i as i64 + 1)
            .map_err(sql("set user_version"))?;
    }
    tx.commit().map_err(sql("commit migration"))?;
    Ok(())
}

/// Checks, without writing, that the database is a Satria journal at exactly
/// [`LATEST_VERSION`] (for read-only verification of a file that should not
/// be migrated or otherwise touched).
pub fn check_read_only(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let app_id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(|e| StoreError::sqlite(path, "read application_id", e))?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| StoreError::sqlite(path, "read user_version", e))?;
    if app_id != APPLICATION_ID {
        return Err(StoreError::ForeignDatabase {
            path: path.to_path_buf(),
            application_id: app_id,
            expected: APPLICATION_ID,
        });
    }
    if version > LATEST_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found: version,
            supported: LATEST_VERSION,
        });
    }
    if version < LATEST_VERSION {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: format!(
                "schema version {version} needs migrating to {LATEST_VERSION}; open it for writing once first"
            ),
        });
    }
    Ok(())
}
