//! Opening the store: on SQLite through the shared opener (`satria_sqlite`:
//! WAL, full sync, foreign keys, migrations by `PRAGMA user_version`); on
//! PostgreSQL the same tables (BIGINT for INTEGER, DOUBLE PRECISION for
//! REAL), versioned in `salinmas_schema` and migrated under an advisory lock
//! (`satria_sql`). A new store, on either, is then seeded once with the pilot
//! kelurahan and the default price list.

use std::path::Path;

use satria_sql::{Db, PgSchema, Tx, V};
use serde_json::json;

use super::history::history_as;
use super::{DEFAULT_PRICES, DEFAULT_PRICES_FROM, PILOT_KELURAHAN, Salinmas, SalinmasConfig};
use crate::error::SalinmasError;

/// `PRAGMA user_version` of the newest schema this build knows.
pub const SCHEMA_VERSION: i64 = 1;

/// Schema 1 on SQLite (the seed of a new store is written by `seed_if_new`).
const MIGRATION_1: &str = "
CREATE TABLE salinmas_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE salinmas_kelurahan (
    name TEXT PRIMARY KEY,
    kecamatan TEXT NOT NULL,
    added_at_ms INTEGER NOT NULL
);
CREATE TABLE salinmas_accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('household', 'dasawisma')),
    name TEXT NOT NULL,
    kelurahan TEXT NOT NULL REFERENCES salinmas_kelurahan(name),
    rt TEXT NOT NULL,
    rw TEXT NOT NULL,
    address TEXT NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    phone TEXT NOT NULL,
    members INTEGER,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX salinmas_accounts_kelurahan ON salinmas_accounts(kelurahan);
CREATE TABLE salinmas_collectors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    phone TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE TABLE salinmas_collector_kelurahan (
    collector_id INTEGER NOT NULL REFERENCES salinmas_collectors(id),
    kelurahan TEXT NOT NULL REFERENCES salinmas_kelurahan(name),
    PRIMARY KEY (collector_id, kelurahan)
);
CREATE INDEX salinmas_collector_kelurahan_k ON salinmas_collector_kelurahan(kelurahan);
CREATE TABLE salinmas_prices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    category TEXT NOT NULL,
    price_per_kg_rp INTEGER NOT NULL CHECK (price_per_kg_rp >= 0),
    valid_from INTEGER NOT NULL,
    set_by TEXT NOT NULL,
    set_at_ms INTEGER NOT NULL
);
CREATE INDEX salinmas_prices_category ON salinmas_prices(category, valid_from, id);
CREATE TABLE salinmas_pickups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES salinmas_accounts(id),
    kelurahan TEXT NOT NULL REFERENCES salinmas_kelurahan(name),
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    address TEXT NOT NULL,
    categories TEXT NOT NULL,
    estimated_g INTEGER NOT NULL CHECK (estimated_g > 0),
    window_start_ms INTEGER NOT NULL,
    window_end_ms INTEGER NOT NULL CHECK (window_end_ms > window_start_ms),
    notes TEXT,
    status TEXT NOT NULL
        CHECK (status IN ('requested', 'accepted', 'collected', 'cancelled', 'rejected')),
    day INTEGER NOT NULL,
    requested_day INTEGER NOT NULL,
    collector_id INTEGER REFERENCES salinmas_collectors(id),
    requested_at_ms INTEGER NOT NULL,
    accepted_at_ms INTEGER,
    collected_at_ms INTEGER,
    collected_day INTEGER,
    credit_rp INTEGER,
    reason TEXT,
    closed_at_ms INTEGER
);
CREATE INDEX salinmas_pickups_status ON salinmas_pickups(status, kelurahan);
CREATE INDEX salinmas_pickups_collector ON salinmas_pickups(collector_id, day);
CREATE INDEX salinmas_pickups_account ON salinmas_pickups(account_id);
CREATE INDEX salinmas_pickups_collected ON salinmas_pickups(collected_day);
CREATE TABLE salinmas_pickup_weights (
    pickup_id INTEGER NOT NULL REFERENCES salinmas_pickups(id),
    category TEXT NOT NULL,
    grams INTEGER NOT NULL CHECK (grams > 0),
    price_per_kg_rp INTEGER NOT NULL CHECK (price_per_kg_rp >= 0),
    amount_rp INTEGER NOT NULL CHECK (amount_rp >= 0),
    PRIMARY KEY (pickup_id, category)
);
CREATE TABLE salinmas_ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES salinmas_accounts(id),
    at_ms INTEGER NOT NULL,
    day INTEGER NOT NULL,
    kind TEXT NOT NULL,
    amount_rp INTEGER NOT NULL,
    balance_rp INTEGER NOT NULL CHECK (balance_rp >= 0),
    pickup_id INTEGER UNIQUE REFERENCES salinmas_pickups(id),
    method TEXT,
    reference TEXT,
    actor TEXT NOT NULL,
    CHECK ((kind = 'credit' AND amount_rp >= 0 AND pickup_id IS NOT NULL)
        OR (kind = 'payout' AND amount_rp < 0 AND pickup_id IS NULL))
);
CREATE INDEX salinmas_ledger_account ON salinmas_ledger(account_id, id);
CREATE INDEX salinmas_ledger_day ON salinmas_ledger(day);
CREATE TABLE salinmas_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX salinmas_history_entity ON salinmas_history(entity, entity_id, id);
CREATE TRIGGER salinmas_ledger_no_update BEFORE UPDATE ON salinmas_ledger
BEGIN SELECT RAISE(ABORT, 'the Salinmas ledger is append-only'); END;
CREATE TRIGGER salinmas_ledger_no_delete BEFORE DELETE ON salinmas_ledger
BEGIN SELECT RAISE(ABORT, 'the Salinmas ledger is append-only'); END;
CREATE TRIGGER salinmas_history_no_update BEFORE UPDATE ON salinmas_history
BEGIN SELECT RAISE(ABORT, 'the Salinmas history is append-only'); END;
CREATE TRIGGER salinmas_history_no_delete BEFORE DELETE ON salinmas_history
BEGIN SELECT RAISE(ABORT, 'the Salinmas history is append-only'); END;
";

/// The Salinmas schema on PostgreSQL.
pub(super) const PG_SCHEMA: PgSchema<'static> = PgSchema {
    name: "salinmas",
    version_table: "salinmas_schema",
    migrations: PG_MIGRATIONS,
    // 'satr', 'smig'
    migration_lock: 0x7361_7472_736d_6967,
    // 'satr', 'salm': every write transaction of the store, so a balance and
    // the entry that depends on it, or a pickup's state and its transition,
    // serialise across nodes.
    write_lock: 0x7361_7472_7361_6c6d,
};

/// The version of the PostgreSQL schema this build writes.
pub const PG_SCHEMA_VERSION: i64 = PG_MIGRATIONS.len() as i64;

/// The PostgreSQL migrations, in order: step `i` brings version `i` to `i + 1`.
/// The tables of SQLite's schema 1, with these differences:
///
/// - kelurahan names, categories and collector names are `COLLATE "C"`, so
///   they sort (and `lower()` folds ASCII only) as SQLite's `BINARY` does;
/// - a collector's name is unique by `lower(name)`, SQLite's `NOCASE`;
/// - `salinmas_pickup_weights` has an identity column named `rowid`, standing
///   for SQLite's implicit one, so weight lines keep their order on both;
/// - the ledger and the history refuse updates, deletes and truncation by
///   trigger.
const PG_MIGRATIONS: &[&str] = &[r#"
CREATE TABLE salinmas_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE salinmas_kelurahan (
    name TEXT COLLATE "C" PRIMARY KEY,
    kecamatan TEXT NOT NULL,
    added_at_ms BIGINT NOT NULL
);
CREATE TABLE salinmas_accounts (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('household', 'dasawisma')),
    name TEXT NOT NULL,
    kelurahan TEXT COLLATE "C" NOT NULL REFERENCES salinmas_kelurahan(name),
    rt TEXT NOT NULL,
    rw TEXT NOT NULL,
    address TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    phone TEXT NOT NULL,
    members BIGINT,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX salinmas_accounts_kelurahan ON salinmas_accounts(kelurahan);
CREATE TABLE salinmas_collectors (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL,
    phone TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX salinmas_collectors_name ON salinmas_collectors(lower(name));
CREATE TABLE salinmas_collector_kelurahan (
    collector_id BIGINT NOT NULL REFERENCES salinmas_collectors(id),
    kelurahan TEXT COLLATE "C" NOT NULL REFERENCES salinmas_kelurahan(name),
    PRIMARY KEY (collector_id, kelurahan)
);
CREATE INDEX salinmas_collector_kelurahan_k ON salinmas_collector_kelurahan(kelurahan);
CREATE TABLE salinmas_prices (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    category TEXT COLLATE "C" NOT NULL,
    price_per_kg_rp BIGINT NOT NULL CHECK (price_per_kg_rp >= 0),
    valid_from BIGINT NOT NULL,
    set_by TEXT NOT NULL,
    set_at_ms BIGINT NOT NULL
);
CREATE INDEX salinmas_prices_category ON salinmas_prices(category, valid_from, id);
CREATE TABLE salinmas_pickups (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES salinmas_accounts(id),
    kelurahan TEXT COLLATE "C" NOT NULL REFERENCES salinmas_kelurahan(name),
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    address TEXT NOT NULL,
    categories TEXT NOT NULL,
    estimated_g BIGINT NOT NULL CHECK (estimated_g > 0),
    window_start_ms BIGINT NOT NULL,
    window_end_ms BIGINT NOT NULL CHECK (window_end_ms > window_start_ms),
    notes TEXT,
    status TEXT NOT NULL
        CHECK (status IN ('requested', 'accepted', 'collected', 'cancelled', 'rejected')),
    day BIGINT NOT NULL,
    requested_day BIGINT NOT NULL,
    collector_id BIGINT REFERENCES salinmas_collectors(id),
    requested_at_ms BIGINT NOT NULL,
    accepted_at_ms BIGINT,
    collected_at_ms BIGINT,
    collected_day BIGINT,
    credit_rp BIGINT,
    reason TEXT,
    closed_at_ms BIGINT
);
CREATE INDEX salinmas_pickups_status ON salinmas_pickups(status, kelurahan);
CREATE INDEX salinmas_pickups_collector ON salinmas_pickups(collector_id, day);
CREATE INDEX salinmas_pickups_account ON salinmas_pickups(account_id);
CREATE INDEX salinmas_pickups_collected ON salinmas_pickups(collected_day);
CREATE TABLE salinmas_pickup_weights (
    rowid BIGINT GENERATED BY DEFAULT AS IDENTITY UNIQUE,
    pickup_id BIGINT NOT NULL REFERENCES salinmas_pickups(id),
    category TEXT COLLATE "C" NOT NULL,
    grams BIGINT NOT NULL CHECK (grams > 0),
    price_per_kg_rp BIGINT NOT NULL CHECK (price_per_kg_rp >= 0),
    amount_rp BIGINT NOT NULL CHECK (amount_rp >= 0),
    PRIMARY KEY (pickup_id, category)
);
CREATE TABLE salinmas_ledger (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES salinmas_accounts(id),
    at_ms BIGINT NOT NULL,
    day BIGINT NOT NULL,
    kind TEXT NOT NULL,
    amount_rp BIGINT NOT NULL,
    balance_rp BIGINT NOT NULL CHECK (balance_rp >= 0),
    pickup_id BIGINT UNIQUE REFERENCES salinmas_pickups(id),
    method TEXT,
    reference TEXT,
    actor TEXT NOT NULL,
    CHECK ((kind = 'credit' AND amount_rp >= 0 AND pickup_id IS NOT NULL)
        OR (kind = 'payout' AND amount_rp < 0 AND pickup_id IS NULL))
);
CREATE INDEX salinmas_ledger_account ON salinmas_ledger(account_id, id);
CREATE INDEX salinmas_ledger_day ON salinmas_ledger(day);
CREATE TABLE salinmas_history (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX salinmas_history_entity ON salinmas_history(entity, entity_id, id);
CREATE FUNCTION salinmas_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the Salinmas % is append-only', TG_ARGV[0];
END $$;
CREATE TRIGGER salinmas_ledger_no_change BEFORE UPDATE OR DELETE ON salinmas_ledger
    FOR EACH ROW EXECUTE FUNCTION salinmas_append_only('ledger');
CREATE TRIGGER salinmas_ledger_no_truncate BEFORE TRUNCATE ON salinmas_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION salinmas_append_only('ledger');
CREATE TRIGGER salinmas_history_no_change BEFORE UPDATE OR DELETE ON salinmas_history
    FOR EACH ROW EXECUTE FUNCTION salinmas_append_only('history');
CREATE TRIGGER salinmas_history_no_truncate BEFORE TRUNCATE ON salinmas_history
    FOR EACH STATEMENT EXECUTE FUNCTION salinmas_append_only('history');
"#];

impl Salinmas {
    /// Opens (creating and migrating if needed) the database at `path` with
    /// [`SalinmasConfig::default`].
    pub fn open(path: &Path) -> Result<Salinmas, SalinmasError> {
        Self::open_with(path, SalinmasConfig::default())
    }

    /// Opens (creating and migrating if needed) the database at `path`.
    pub fn open_with(path: &Path, config: SalinmasConfig) -> Result<Salinmas, SalinmasError> {
        // Money: the shared opener syncs fully, to survive power loss.
        let conn = satria_sqlite::open(path, "salinmas", SCHEMA_VERSION, |tx, from| {
            if from < 1 {
                tx.execute_batch(MIGRATION_1)?;
            }
            Ok::<(), SalinmasError>(())
        })?;
        Salinmas::on(Db::sqlite(conn), config)
    }

    /// Opens the store in the PostgreSQL database at `url` (shared by the
    /// nodes of a cluster), creating or migrating its tables; a newer schema
    /// is refused. The URL's password never shows in an error.
    pub fn open_postgres(url: &str, config: SalinmasConfig) -> Result<Salinmas, SalinmasError> {
        let db = Db::postgres(url, &PG_SCHEMA)?;
        Salinmas::on(db, config)
    }

    /// The store on a migrated database, seeded first if it is new.
    fn on(db: Db, config: SalinmasConfig) -> Result<Salinmas, SalinmasError> {
        let s = Salinmas {
            db,
            config,
            region: satria_region::Region::banyumas(),
        };
        let now = s.config.clock.now_ms();
        s.write(|tx| seed_if_new(tx, now))?;
        Ok(s)
    }

    /// The version of the store's schema: the file's `PRAGMA user_version`
    /// ([`SCHEMA_VERSION`] once open), or the row of `salinmas_schema` on
    /// PostgreSQL ([`PG_SCHEMA_VERSION`]).
    pub fn schema_version(&self) -> Result<i64, SalinmasError> {
        Ok(self.db.schema_version(&PG_SCHEMA)?)
    }
}

/// The seed of a new store: the pilot kelurahan and the default price list,
/// each with its history row (by `migration`). A store is new while its
/// history is empty (every change writes a history row), so the seed is
/// written once, whichever node or process opens the store first.
fn seed_if_new(tx: &mut dyn Tx, now_ms: i64) -> Result<(), SalinmasError> {
    if tx
        .query_one("SELECT EXISTS (SELECT 1 FROM salinmas_history)", &[])?
        .bool(0)?
    {
        return Ok(());
    }
    for (name, kecamatan) in PILOT_KELURAHAN {
        tx.execute(
            "INSERT INTO salinmas_kelurahan (name, kecamatan, added_at_ms) VALUES ($1, $2, $3)",
            &[V::from(name), V::from(kecamatan), V::from(now_ms)],
        )?;
        history_as(
            tx,
            "kelurahan",
            name,
            "add",
            "migration",
            "system",
            now_ms,
            &json!({"kecamatan": kecamatan, "pilot": true}),
        )?;
    }
    let from = crate::time::parse_date(DEFAULT_PRICES_FROM).unwrap_or(0);
    for (cat, price) in DEFAULT_PRICES {
        let id = tx
            .query_one(
                "INSERT INTO salinmas_prices (category, price_per_kg_rp, valid_from, set_by, set_at_ms)
                 VALUES ($1, $2, $3, 'migration', $4) RETURNING id",
                &[V::from(cat), V::from(price), V::from(from), V::from(now_ms)],
            )?
            .i64(0)?;
        history_as(
            tx,
            "price",
            &id.to_string(),
            "set",
            "migration",
            "system",
            now_ms,
            &json!({"category": cat, "price_per_kg_rp": price, "valid_from": DEFAULT_PRICES_FROM}),
        )?;
    }
    Ok(())
}
