//! Opening the SQLite file through the shared opener (`satria_sqlite`: WAL,
//! full sync, foreign keys, migrations by `PRAGMA user_version`), and the
//! schema with the seed of its first version.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Transaction, params};
use serde_json::json;

use super::history::history_as;
use super::{DEFAULT_PRICES, DEFAULT_PRICES_FROM, PILOT_KELURAHAN, Salinmas, SalinmasConfig};
use crate::error::SalinmasError;

/// `PRAGMA user_version` of the newest schema this build knows.
pub const SCHEMA_VERSION: i64 = 1;

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

impl Salinmas {
    /// Opens (creating and migrating if needed) the database at `path` with
    /// [`SalinmasConfig::default`].
    pub fn open(path: &Path) -> Result<Salinmas, SalinmasError> {
        Self::open_with(path, SalinmasConfig::default())
    }

    /// Opens (creating and migrating if needed) the database at `path`.
    pub fn open_with(path: &Path, config: SalinmasConfig) -> Result<Salinmas, SalinmasError> {
        // Money: the shared opener syncs fully, to survive power loss.
        let now = config.clock.now_ms();
        let conn = satria_sqlite::open(path, "salinmas", SCHEMA_VERSION, |tx, from| {
            if from < 1 {
                migrate_1(tx, now)?;
            }
            Ok::<(), SalinmasError>(())
        })?;
        Ok(Salinmas {
            conn: Mutex::new(conn),
            config,
            region: satria_region::Region::banyumas(),
        })
    }
}

/// Schema 1 and its seed: the pilot kelurahan and the default price list.
fn migrate_1(tx: &Transaction, now_ms: i64) -> Result<(), SalinmasError> {
    tx.execute_batch(MIGRATION_1)?;
    for (name, kecamatan) in PILOT_KELURAHAN {
        tx.execute(
            "INSERT INTO salinmas_kelurahan (name, kecamatan, added_at_ms) VALUES (?1, ?2, ?3)",
            params![name, kecamatan, now_ms],
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
        tx.execute(
            "INSERT INTO salinmas_prices (category, price_per_kg_rp, valid_from, set_by, set_at_ms)
             VALUES (?1, ?2, ?3, 'migration', ?4)",
            params![cat, price, from, now_ms],
        )?;
        let id = tx.last_insert_rowid();
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
