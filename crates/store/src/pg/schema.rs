//! The PostgreSQL schema and its migrations, kept the way the SQLite files
//! keep theirs: an ordered list where migration `i` takes the schema from
//! version `i` to `i + 1`, the version recorded in one place (here the
//! `satria_schema` row, there `PRAGMA user_version`), each migration in the
//! same transaction as the version bump. Nodes starting together serialise on
//! a transaction-scoped advisory lock, so only one migrates.

use postgres::Client;

use super::pg;
use crate::StoreError;

/// Identifies a Satria database in `satria_schema.application`.
const APPLICATION: &str = "satria";

/// The key of the advisory lock held while checking and migrating ("SATR").
const MIGRATION_LOCK: i64 = 0x5341_5452;

/// The migrations, in order. Never edit a released entry; append a new one.
const MIGRATIONS: &[&str] = &[
    // v1: the journal and its signed checkpoints (as in the SQLite file), and
    // the region leases.
    r#"
    CREATE TABLE entries (
        row            BIGINT PRIMARY KEY CHECK (row > 0),
        stream         TEXT   NOT NULL CHECK (stream <> ''),
        seq            BIGINT NOT NULL CHECK (seq > 0),
        kind           TEXT   NOT NULL,
        -- text, not jsonb: the chain hash covers these exact bytes.
        payload        TEXT   NOT NULL,
        recorded_at_ms BIGINT NOT NULL,
        hash           TEXT   NOT NULL,
        UNIQUE (stream, seq)
    );

    CREATE TABLE chain_head (
        id   INTEGER PRIMARY KEY CHECK (id = 1),
        row  BIGINT  NOT NULL,
        hash TEXT    NOT NULL
    );

    CREATE TABLE snapshots (
        stream TEXT   NOT NULL,
        seq    BIGINT NOT NULL,
        data   BYTEA  NOT NULL,
        PRIMARY KEY (stream, seq)
    );

    -- Signed checkpoints of the chain head (see checkpoint.rs), as in the
    -- SQLite file; copied with the rows by `satria migrate`.
    CREATE TABLE checkpoints (
        row        BIGINT PRIMARY KEY,
        hash       TEXT   NOT NULL,
        at_ms      BIGINT NOT NULL,
        public_key TEXT   NOT NULL,
        signature  TEXT   NOT NULL
    );

    -- One writer per region: the holder renews `expires_at` (database time);
    -- a takeover after it passed increments `term`, and every append checks
    -- its term against this row in the same transaction.
    CREATE TABLE leases (
        region     TEXT        PRIMARY KEY,
        holder     TEXT        NOT NULL,
        term       BIGINT      NOT NULL CHECK (term > 0),
        expires_at TIMESTAMPTZ NOT NULL,
        taken_at   TIMESTAMPTZ NOT NULL
    );
    "#,
    // 2: where the holder answers HTTP, so that the other nodes forward
    // commands to it.
    r#"
    ALTER TABLE leases ADD COLUMN holder_addr TEXT;
    "#,
    // 3: the nodes serving each region and where they answer, renewed on
    // every node's tick, so that consoles and crews can be given every
    // address to fail over to.
    r#"
    CREATE TABLE nodes (
        region  TEXT        NOT NULL,
        node_id TEXT        NOT NULL,
        addr    TEXT,
        seen_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (region, node_id)
    );
    "#,
];

/// The tables of Satria's accounts (`satria_auth`), which may share the
/// journal's database (Pattas' and Salinmas' start with `pattas_` and
/// `salinmas_`).
const ACCOUNTS_TABLES: &[&str] = &[
    "auth_schema",
    "auth_users",
    "auth_sessions",
    "auth_login_attempts",
    "access_log",
    "auth_changes",
];

/// The newest PostgreSQL schema version this build knows.
pub const LATEST_PG_VERSION: i64 = MIGRATIONS.len() as i64;

/// The recorded version, or `None` for a database without Satria's tables;
/// refuses a database that holds other tables.
fn recorded_version(
    tx: &mut postgres::Transaction<'_>,
    url: &str,
) -> Result<Option<i64>, StoreError> {
    let path = std::path::PathBuf::from(url);
    let has_table: bool = tx
        .query_one("SELECT to_regclass('satria_schema') IS NOT NULL", &[])
        .map_err(pg(&path, "read schema"))?
        .get(0);
    if !has_table {
        // The accounts (`satria_auth`) and the Pattas and Salinmas modules
        // share a cluster's database: their tables may come first (`satria
        // user add --database` before any node).
        let tables: Vec<String> = tx
            .query(
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_name::text <> ALL($1)
                   AND table_name::text NOT LIKE 'pattas\\_%'
                   AND table_name::text NOT LIKE 'salinmas\\_%'
                 ORDER BY 1 LIMIT 5",
                &[&ACCOUNTS_TABLES],
            )
            .map_err(pg(&path, "read schema"))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        if !tables.is_empty() {
            return Err(StoreError::ForeignSchema {
                path,
                detail: format!(
                    "it holds other tables ({}) and no satria_schema; give Satria a database of its own",
                    tables.join(", ")
                ),
            });
        }
        return Ok(None);
    }
    let row = tx
        .query_opt(
            "SELECT application, version FROM satria_schema WHERE id = 1",
            &[],
        )
        .map_err(pg(&path, "read schema version"))?;
    match row {
        Some(r) if r.get::<_, String>(0) == APPLICATION => Ok(Some(r.get(1))),
        Some(r) => Err(StoreError::ForeignSchema {
            path,
            detail: format!(
                "satria_schema names application {:?}",
                r.get::<_, String>(0)
            ),
        }),
        None => Err(StoreError::Corrupt {
            path,
            detail: "satria_schema has no row".into(),
        }),
    }
}

fn newer(url: &str, found: i64) -> StoreError {
    StoreError::NewerSchema {
        path: url.into(),
        found,
        supported: LATEST_PG_VERSION,
    }
}

/// Checks that the database is Satria's (or empty) and migrates it to
/// [`LATEST_PG_VERSION`], all in one transaction under the migration lock.
pub(super) fn prepare(client: &mut Client, url: &str) -> Result<(), StoreError> {
    let path = std::path::PathBuf::from(url);
    let mut tx = client.transaction().map_err(pg(&path, "begin migration"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(pg(&path, "take the migration lock"))?;
    let version = match recorded_version(&mut tx, url)? {
        Some(v) => v,
        None => {
            tx.batch_execute(
                "CREATE TABLE satria_schema (
                     id          INTEGER PRIMARY KEY CHECK (id = 1),
                     application TEXT    NOT NULL,
                     version     BIGINT  NOT NULL
                 )",
            )
            .map_err(pg(&path, "create satria_schema"))?;
            tx.execute(
                "INSERT INTO satria_schema (id, application, version) VALUES (1, $1, 0)",
                &[&APPLICATION],
            )
            .map_err(pg(&path, "create satria_schema"))?;
            0
        }
    };
    if version > LATEST_PG_VERSION {
        return Err(newer(url, version));
    }
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.batch_execute(migration)
            .map_err(pg(&path, "run migration"))?;
        tx.execute(
            "UPDATE satria_schema SET version = $1 WHERE id = 1",
            &[&(i as i64 + 1)],
        )
        .map_err(pg(&path, "set schema version"))?;
    }
    tx.commit().map_err(pg(&path, "commit migration"))
}

/// Checks, without writing, that the database is Satria's at exactly
/// [`LATEST_PG_VERSION`].
pub(super) fn check_read_only(client: &mut Client, url: &str) -> Result<(), StoreError> {
    let path = std::path::PathBuf::from(url);
    let mut tx = client.transaction().map_err(pg(&path, "begin"))?;
    match recorded_version(&mut tx, url)? {
        None => Err(StoreError::ForeignSchema {
            path,
            detail: "it is empty: no Satria journal was ever written here".into(),
        }),
        Some(v) if v > LATEST_PG_VERSION => Err(newer(url, v)),
        Some(v) if v < LATEST_PG_VERSION => Err(StoreError::Corrupt {
            path,
            detail: format!(
                "schema version {v} needs migrating to {LATEST_PG_VERSION}; start a node on it once first"
            ),
        }),
        Some(_) => Ok(()),
    }
}
