//! [`Salinmas`]: the SQLite file, its migrations, and every operation with
//! its access rule, checks and history row inside one transaction.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use satria_auth::{Principal, Role};
use serde_json::{Value, json};

use crate::error::SalinmasError;
use crate::model::*;
use crate::route::{DriveTimes, order_stops};
use crate::time::{format_date, format_wib, iso_week, parse_datetime, wib_day};
use crate::validate as v;

/// `PRAGMA user_version` of the newest schema this build knows.
pub const SCHEMA_VERSION: i64 = 1;

/// The pilot kelurahan served from the start, with their kecamatan.
pub const PILOT_KELURAHAN: [(&str, &str); 3] = [
    ("Kedungwuluh", "Purwokerto Barat"),
    ("Sokanegara", "Purwokerto Timur"),
    ("Purwokerto Lor", "Purwokerto Timur"),
];

/// The price list seeded by the first migration: (category, Rp/kg), valid
/// from [`DEFAULT_PRICES_FROM`].
pub const DEFAULT_PRICES: [(&str, i64); 7] = [
    ("organic", 100),
    ("compost", 2_000),
    ("plastic", 1_500),
    ("paper", 1_200),
    ("metal", 3_000),
    ("glass", 300),
    ("residue", 0),
];
pub const DEFAULT_PRICES_FROM: &str = "2026-01-01";

/// Most pickups one list answer carries (newest first).
pub const LIST_LIMIT: usize = 1000;
/// Open (requested or accepted) pickups one account may have at once.
pub const MAX_OPEN_PICKUPS: i64 = 20;
/// Stops one route is planned over.
pub const MAX_ROUTE_STOPS: usize = 200;
/// The longest report range, days.
pub const MAX_REPORT_DAYS: i64 = 366;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Milliseconds since the Unix epoch, now; injectable for tests.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// How a [`Salinmas`] runs.
#[derive(Clone)]
pub struct SalinmasConfig {
    /// Time spent at each stop of a route (weighing, loading), seconds.
    pub service_time_s: u32,
    /// Where the HTTP handlers get "now".
    pub clock: Clock,
}

impl Default for SalinmasConfig {
    fn default() -> Self {
        SalinmasConfig {
            service_time_s: 300,
            clock: Arc::new(satria_http::now_ms),
        }
    }
}

impl std::fmt::Debug for SalinmasConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SalinmasConfig")
            .field("service_time_s", &self.service_time_s)
            .finish_non_exhaustive()
    }
}

/// The Salinmas database: accounts, collector groups, prices, pickups, the
/// ledger and the history of every change. `Send + Sync`; share it in an
/// `Arc`. Every method is blocking (SQLite): from async code call it inside
/// `tokio::task::spawn_blocking`. Give it a file of its own: it owns the
/// file's `PRAGMA user_version`.
pub struct Salinmas {
    conn: Mutex<Connection>,
    config: SalinmasConfig,
    region: satria_region::Region,
}

impl std::fmt::Debug for Salinmas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Salinmas")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

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

/// Who is asking, as far as Salinmas is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    Officer,
    Household(i64),
    Collector(i64),
}

fn not_bound(what: &str, apa: &str) -> SalinmasError {
    SalinmasError::Forbidden {
        code: "not_bound",
        message: format!("this login is not bound to an existing Salinmas {what}"),
        message_id: format!("akun ini tidak terhubung ke {apa} Salinmas yang ada"),
    }
}

fn actor(p: &Principal) -> Result<Actor, SalinmasError> {
    let subject = || {
        p.subject
            .as_deref()
            .and_then(|s| s.trim().parse::<i64>().ok())
    };
    match p.role {
        Role::SalinmasOfficer | Role::Admin => Ok(Actor::Officer),
        Role::SalinmasHousehold => subject()
            .map(Actor::Household)
            .ok_or_else(|| not_bound("household account", "rumah tangga")),
        Role::SalinmasCollector => subject()
            .map(Actor::Collector)
            .ok_or_else(|| not_bound("collector group", "kelompok pengumpul")),
        _ => Err(SalinmasError::forbidden()),
    }
}

fn officer_only(p: &Principal) -> Result<(), SalinmasError> {
    match actor(p)? {
        Actor::Officer => Ok(()),
        _ => Err(SalinmasError::forbidden()),
    }
}

fn history(
    tx: &Transaction,
    entity: &str,
    id: impl ToString,
    action: &str,
    who: &Principal,
    at_ms: i64,
    details: Value,
) -> Result<(), SalinmasError> {
    history_as(
        tx,
        entity,
        &id.to_string(),
        action,
        &who.username,
        who.role.as_str(),
        at_ms,
        &details,
    )
}

#[allow(clippy::too_many_arguments)]
fn history_as(
    tx: &Transaction,
    entity: &str,
    id: &str,
    action: &str,
    actor: &str,
    role: &str,
    at_ms: i64,
    details: &Value,
) -> Result<(), SalinmasError> {
    tx.execute(
        "INSERT INTO salinmas_history (entity, entity_id, action, actor, role, at_ms, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![entity, id, action, actor, role, at_ms, details.to_string()],
    )?;
    Ok(())
}

fn transition(status: &str, action: &str) -> SalinmasError {
    SalinmasError::conflict(
        "invalid_transition",
        format!("a pickup that is {status} cannot be {action}"),
        format!(
            "penjemputan berstatus {} tidak dapat {}",
            status_id(status),
            action_id(action)
        ),
    )
}

fn status_id(s: &str) -> &str {
    match s {
        "requested" => "diminta",
        "accepted" => "diterima",
        "collected" => "terkumpul",
        "cancelled" => "dibatalkan",
        "rejected" => "ditolak",
        other => other,
    }
}

fn action_id(a: &str) -> &str {
    match a {
        "accepted" => "diterima",
        "collected" => "dikumpulkan",
        "cancelled" => "dibatalkan",
        "rejected" => "ditolak",
        other => other,
    }
}

const ACCOUNT_COLS: &str =
    "id, kind, name, kelurahan, rt, rw, address, lat, lon, phone, members, created_at_ms";

fn account_row(r: &Row) -> rusqlite::Result<Account> {
    Ok(Account {
        id: r.get(0)?,
        kind: r.get(1)?,
        name: r.get(2)?,
        kelurahan: r.get(3)?,
        rt: r.get(4)?,
        rw: r.get(5)?,
        address: r.get(6)?,
        lat: r.get(7)?,
        lon: r.get(8)?,
        phone: r.get(9)?,
        members: r.get(10)?,
        created_at_ms: r.get(11)?,
    })
}

const PICKUP_COLS: &str = "id, account_id, kelurahan, lat, lon, address, categories, estimated_g,
    window_start_ms, window_end_ms, notes, status, day, collector_id, requested_at_ms,
    accepted_at_ms, collected_at_ms, collected_day, credit_rp, reason, closed_at_ms";

fn pickup_row(r: &Row) -> rusqlite::Result<Pickup> {
    let categories: String = r.get(6)?;
    let estimated_g: i64 = r.get(7)?;
    let start: i64 = r.get(8)?;
    let end: i64 = r.get(9)?;
    let day: i64 = r.get(12)?;
    let collected_day: Option<i64> = r.get(17)?;
    Ok(Pickup {
        id: r.get(0)?,
        account_id: r.get(1)?,
        kelurahan: r.get(2)?,
        lat: r.get(3)?,
        lon: r.get(4)?,
        address: r.get(5)?,
        categories: serde_json::from_str(&categories).unwrap_or_default(),
        estimated_kg: estimated_g as f64 / 1000.0,
        window_start: format_wib(start),
        window_end: format_wib(end),
        notes: r.get(10)?,
        status: r.get(11)?,
        date: format_date(day),
        collector_id: r.get(13)?,
        requested_at_ms: r.get(14)?,
        accepted_at_ms: r.get(15)?,
        collected_at_ms: r.get(16)?,
        collected_date: collected_day.map(format_date),
        weights: Vec::new(),
        credit_rp: r.get(18)?,
        reason: r.get(19)?,
        closed_at_ms: r.get(20)?,
    })
}

const PRICE_COLS: &str = "id, category, price_per_kg_rp, valid_from, set_by, set_at_ms";

fn price_row(r: &Row) -> rusqlite::Result<Price> {
    let from: i64 = r.get(3)?;
    Ok(Price {
        id: r.get(0)?,
        category: r.get(1)?,
        price_per_kg_rp: r.get(2)?,
        valid_from: format_date(from),
        set_by: r.get(4)?,
        set_at_ms: r.get(5)?,
    })
}

const LEDGER_COLS: &str =
    "id, account_id, at_ms, kind, amount_rp, balance_rp, pickup_id, method, reference, actor";

fn ledger_row(r: &Row) -> rusqlite::Result<LedgerEntry> {
    Ok(LedgerEntry {
        id: r.get(0)?,
        account_id: r.get(1)?,
        at_ms: r.get(2)?,
        kind: r.get(3)?,
        amount_rp: r.get(4)?,
        balance_rp: r.get(5)?,
        pickup_id: r.get(6)?,
        method: r.get(7)?,
        reference: r.get(8)?,
        actor: r.get(9)?,
    })
}

fn history_row(r: &Row) -> rusqlite::Result<HistoryEntry> {
    let details: String = r.get(7)?;
    Ok(HistoryEntry {
        id: r.get(0)?,
        entity: r.get(1)?,
        entity_id: r.get(2)?,
        action: r.get(3)?,
        actor: r.get(4)?,
        role: r.get(5)?,
        at_ms: r.get(6)?,
        details: serde_json::from_str(&details).unwrap_or(Value::Null),
    })
}

fn load_account(c: &Connection, id: i64) -> Result<Option<Account>, SalinmasError> {
    Ok(c.query_row(
        &format!("SELECT {ACCOUNT_COLS} FROM salinmas_accounts WHERE id = ?1"),
        [id],
        account_row,
    )
    .optional()?)
}

fn load_pickup(c: &Connection, id: i64) -> Result<Option<Pickup>, SalinmasError> {
    let Some(mut p) = c
        .query_row(
            &format!("SELECT {PICKUP_COLS} FROM salinmas_pickups WHERE id = ?1"),
            [id],
            pickup_row,
        )
        .optional()?
    else {
        return Ok(None);
    };
    p.weights = load_weights(c, id)?;
    Ok(Some(p))
}

fn load_weights(c: &Connection, pickup_id: i64) -> Result<Vec<WeightLine>, SalinmasError> {
    let mut stmt = c.prepare_cached(
        "SELECT category, grams, price_per_kg_rp, amount_rp FROM salinmas_pickup_weights
         WHERE pickup_id = ?1 ORDER BY rowid",
    )?;
    let rows = stmt.query_map([pickup_id], |r| {
        let grams: i64 = r.get(1)?;
        Ok(WeightLine {
            category: r.get(0)?,
            grams,
            kg: grams as f64 / 1000.0,
            price_per_kg_rp: r.get(2)?,
            amount_rp: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn load_collector(c: &Connection, id: i64) -> Result<Option<Collector>, SalinmasError> {
    let Some((name, phone, created_at_ms)) = c
        .query_row(
            "SELECT name, phone, created_at_ms FROM salinmas_collectors WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
    else {
        return Ok(None);
    };
    Ok(Some(Collector {
        id,
        name,
        phone,
        kelurahan: served(c, id)?,
        created_at_ms,
    }))
}

/// The kelurahan a collector group serves.
fn served(c: &Connection, collector_id: i64) -> Result<Vec<String>, SalinmasError> {
    let mut stmt = c.prepare_cached(
        "SELECT kelurahan FROM salinmas_collector_kelurahan WHERE collector_id = ?1 ORDER BY kelurahan",
    )?;
    let rows = stmt.query_map([collector_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The collector's service kelurahan; refuses a login bound to no group.
fn collector_area(c: &Connection, collector_id: i64) -> Result<Vec<String>, SalinmasError> {
    let exists: bool = c.query_row(
        "SELECT EXISTS (SELECT 1 FROM salinmas_collectors WHERE id = ?1)",
        [collector_id],
        |r| r.get(0),
    )?;
    if !exists {
        return Err(not_bound("collector group", "kelompok pengumpul"));
    }
    served(c, collector_id)
}

fn balance(c: &Connection, account_id: i64) -> Result<i64, SalinmasError> {
    let (sum, last): (i64, Option<i64>) = c.query_row(
        "SELECT COALESCE(SUM(amount_rp), 0),
                (SELECT balance_rp FROM salinmas_ledger WHERE account_id = ?1 ORDER BY id DESC LIMIT 1)
         FROM salinmas_ledger WHERE account_id = ?1",
        [account_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if last.unwrap_or(0) != sum {
        return Err(SalinmasError::Storage(format!(
            "ledger of account {account_id} is inconsistent: entries sum to {sum}, last balance {last:?}"
        )));
    }
    Ok(sum)
}

/// The price of `category` valid on `day`: the latest `valid_from ≤ day`
/// (the later-set row wins between two of the same day).
fn price_on(c: &Connection, category: &str, day: i64) -> Result<Option<i64>, SalinmasError> {
    Ok(c.query_row(
        "SELECT price_per_kg_rp FROM salinmas_prices WHERE category = ?1 AND valid_from <= ?2
         ORDER BY valid_from DESC, id DESC LIMIT 1",
        params![category, day],
        |r| r.get(0),
    )
    .optional()?)
}

impl Salinmas {
    /// Opens (creating and migrating if needed) the database at `path` with
    /// [`SalinmasConfig::default`].
    pub fn open(path: &Path) -> Result<Salinmas, SalinmasError> {
        Self::open_with(path, SalinmasConfig::default())
    }

    /// Opens (creating and migrating if needed) the database at `path`.
    pub fn open_with(path: &Path, config: SalinmasConfig) -> Result<Salinmas, SalinmasError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
            return Err(SalinmasError::Storage(format!(
                "could not switch to WAL (journal_mode is {mode})"
            )));
        }
        // Money: survive power loss, not just crashes.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let now = (config.clock)();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(SalinmasError::Storage(format!(
                "salinmas database schema version {version} is newer than this build ({SCHEMA_VERSION})"
            )));
        }
        if version < 1 {
            migrate_1(&tx, now)?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.commit()?;
        Ok(Salinmas {
            conn: Mutex::new(conn),
            config,
            region: satria_region::Region::banyumas(),
        })
    }

    pub fn config(&self) -> &SalinmasConfig {
        &self.config
    }

    /// Now, by the configured clock.
    pub fn now_ms(&self) -> i64 {
        (self.config.clock)()
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic elsewhere while holding the lock leaves SQLite consistent
        // (transactions roll back on drop), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` in one IMMEDIATE transaction: committed when it returns Ok,
    /// rolled back (nothing changed) when it returns Err.
    fn write<T>(
        &self,
        f: impl FnOnce(&Transaction) -> Result<T, SalinmasError>,
    ) -> Result<T, SalinmasError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// The caller as Salinmas sees it; a household or collector login must be
    /// bound to a record that exists (`not_bound` otherwise).
    fn who(&self, p: &Principal) -> Result<Actor, SalinmasError> {
        let a = actor(p)?;
        let c = self.conn();
        let (sql, id, what, apa) = match a {
            Actor::Officer => return Ok(a),
            Actor::Household(h) => (
                "SELECT EXISTS (SELECT 1 FROM salinmas_accounts WHERE id = ?1)",
                h,
                "household account",
                "rumah tangga",
            ),
            Actor::Collector(k) => (
                "SELECT EXISTS (SELECT 1 FROM salinmas_collectors WHERE id = ?1)",
                k,
                "collector group",
                "kelompok pengumpul",
            ),
        };
        if c.query_row(sql, [id], |r| r.get::<_, bool>(0))? {
            Ok(a)
        } else {
            Err(not_bound(what, apa))
        }
    }

    // ---- kelurahan ---------------------------------------------------------

    /// The kelurahan Salinmas serves. Any Salinmas role.
    pub fn kelurahan(&self, who: &Principal) -> Result<Vec<Kelurahan>, SalinmasError> {
        self.who(who)?;
        let c = self.conn();
        let mut stmt = c.prepare_cached(
            "SELECT name, kecamatan, added_at_ms FROM salinmas_kelurahan ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Kelurahan {
                name: r.get(0)?,
                kecamatan: r.get(1)?,
                added_at_ms: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Adds a served kelurahan: a desa/kelurahan of Banyumas (officer).
    pub fn add_kelurahan(
        &self,
        who: &Principal,
        input: NewKelurahan,
        now_ms: i64,
    ) -> Result<Kelurahan, SalinmasError> {
        officer_only(who)?;
        let name = v::text("name", &input.name, 80)?;
        let kecamatan = v::opt_text("kecamatan", input.kecamatan.as_deref(), 80)?;
        let matches: Vec<&satria_region::Desa> = self
            .region
            .desa
            .iter()
            .filter(|d| d.name.eq_ignore_ascii_case(&name))
            .filter(|d| {
                kecamatan
                    .as_deref()
                    .is_none_or(|k| d.kecamatan.eq_ignore_ascii_case(k))
            })
            .collect();
        let desa = match matches.as_slice() {
            [one] => *one,
            [] => {
                return Err(SalinmasError::invalid(
                    "unknown_kelurahan",
                    format!("{name} is not a desa/kelurahan of Banyumas (check the kecamatan too)"),
                    format!("{name} bukan desa/kelurahan di Banyumas (periksa juga kecamatannya)"),
                ));
            }
            many => {
                let ks: Vec<&str> = many.iter().map(|d| d.kecamatan.as_str()).collect();
                return Err(SalinmasError::invalid(
                    "ambiguous_kelurahan",
                    format!(
                        "{name} exists in several kecamatan ({}): name the kecamatan",
                        ks.join(", ")
                    ),
                    format!(
                        "{name} ada di beberapa kecamatan ({}): sebutkan kecamatannya",
                        ks.join(", ")
                    ),
                ));
            }
        };
        self.write(|tx| {
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM salinmas_kelurahan WHERE name = ?1 COLLATE NOCASE)",
                [&desa.name],
                |r| r.get(0),
            )?;
            if exists {
                return Err(SalinmasError::conflict(
                    "duplicate_kelurahan",
                    format!("a kelurahan named {} is already served", desa.name),
                    format!("kelurahan bernama {} sudah dilayani", desa.name),
                ));
            }
            tx.execute(
                "INSERT INTO salinmas_kelurahan (name, kecamatan, added_at_ms) VALUES (?1, ?2, ?3)",
                params![desa.name, desa.kecamatan, now_ms],
            )?;
            history(
                tx,
                "kelurahan",
                &desa.name,
                "add",
                who,
                now_ms,
                json!({"kecamatan": desa.kecamatan}),
            )?;
            Ok(Kelurahan {
                name: desa.name.clone(),
                kecamatan: desa.kecamatan.clone(),
                added_at_ms: now_ms,
            })
        })
    }

    /// The served kelurahan of that name (exact spelling, any case).
    fn served_kelurahan(c: &Connection, name: &str) -> Result<String, SalinmasError> {
        c.query_row(
            "SELECT name FROM salinmas_kelurahan WHERE name = ?1 COLLATE NOCASE",
            [name.trim()],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| {
            let shown: String = name.chars().filter(|c| !c.is_control()).take(80).collect();
            SalinmasError::invalid(
                "unknown_kelurahan",
                format!("Salinmas does not serve kelurahan '{shown}' (GET /api/salinmas/kelurahan lists them)"),
                format!("Salinmas tidak melayani kelurahan '{shown}' (lihat GET /api/salinmas/kelurahan)"),
            )
        })
    }

    // ---- accounts ----------------------------------------------------------

    /// Registers a household or dasawisma account (officer).
    pub fn create_account(
        &self,
        who: &Principal,
        input: NewAccount,
        now_ms: i64,
    ) -> Result<Account, SalinmasError> {
        officer_only(who)?;
        let kind = match input.kind.as_str() {
            "household" | "dasawisma" => input.kind.clone(),
            _ => {
                return Err(SalinmasError::invalid(
                    "invalid_kind",
                    "kind must be household or dasawisma",
                    "kind harus household atau dasawisma",
                ));
            }
        };
        let name = v::text("name", &input.name, 100)?;
        let rt = v::rt_rw("rt", &input.rt)?;
        let rw = v::rt_rw("rw", &input.rw)?;
        let address = v::text("address", &input.address, 200)?;
        v::position(input.lat, input.lon)?;
        let phone = v::phone(&input.phone)?;
        if let Some(m) = input.members
            && !(1..=100).contains(&m)
        {
            return Err(SalinmasError::invalid(
                "invalid_members",
                "members must be from 1 to 100",
                "members harus 1 sampai 100",
            ));
        }
        self.write(|tx| {
            let kelurahan = Self::served_kelurahan(tx, &input.kelurahan)?;
            tx.execute(
                "INSERT INTO salinmas_accounts
                 (kind, name, kelurahan, rt, rw, address, lat, lon, phone, members, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    kind,
                    name,
                    kelurahan,
                    rt,
                    rw,
                    address,
                    input.lat,
                    input.lon,
                    phone,
                    input.members,
                    now_ms
                ],
            )?;
            let id = tx.last_insert_rowid();
            history(
                tx,
                "account",
                id,
                "create",
                who,
                now_ms,
                json!({"kind": kind, "kelurahan": kelurahan}),
            )?;
            load_account(tx, id)?.ok_or(SalinmasError::NotFound("account", "akun"))
        })
    }

    /// The accounts the caller may see: an officer all (optionally of one
    /// kelurahan), a collector those of its kelurahan, a household itself.
    pub fn accounts(
        &self,
        who: &Principal,
        kelurahan: Option<&str>,
    ) -> Result<Vec<Account>, SalinmasError> {
        let a = self.who(who)?;
        let c = self.conn();
        let (household, collector) = match a {
            Actor::Officer => (None, None),
            Actor::Household(h) => (Some(h), None),
            Actor::Collector(k) => {
                collector_area(&c, k)?;
                (None, Some(k))
            }
        };
        let mut stmt = c.prepare_cached(&format!(
            "SELECT {ACCOUNT_COLS} FROM salinmas_accounts
             WHERE (?1 IS NULL OR kelurahan = ?1 COLLATE NOCASE)
               AND (?2 IS NULL OR id = ?2)
               AND (?3 IS NULL OR kelurahan IN
                    (SELECT kelurahan FROM salinmas_collector_kelurahan WHERE collector_id = ?3))
             ORDER BY id LIMIT {LIST_LIMIT}"
        ))?;
        let rows = stmt.query_map(params![kelurahan, household, collector], account_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One account: an officer any, a household itself, a collector those of
    /// its kelurahan. Others (and a missing one, for non-officers) → 403.
    pub fn account(&self, who: &Principal, id: i64) -> Result<Account, SalinmasError> {
        let a = self.who(who)?;
        let c = self.conn();
        let found = load_account(&c, id)?;
        match (a, found) {
            (Actor::Officer, Some(acc)) => Ok(acc),
            (Actor::Officer, None) => Err(SalinmasError::NotFound("account", "akun")),
            (Actor::Household(h), Some(acc)) if h == id => Ok(acc),
            (Actor::Collector(k), Some(acc)) if collector_area(&c, k)?.contains(&acc.kelurahan) => {
                Ok(acc)
            }
            _ => Err(SalinmasError::forbidden()),
        }
    }

    // ---- collector groups --------------------------------------------------

    /// Registers a collector group (KSM) with its service kelurahan (officer).
    pub fn create_collector(
        &self,
        who: &Principal,
        input: NewCollector,
        now_ms: i64,
    ) -> Result<Collector, SalinmasError> {
        officer_only(who)?;
        let name = v::text("name", &input.name, 100)?;
        let phone = v::phone(&input.phone)?;
        if input.kelurahan.is_empty() || input.kelurahan.len() > 50 {
            return Err(SalinmasError::invalid(
                "invalid_kelurahan",
                "kelurahan must list 1 to 50 served kelurahan",
                "kelurahan harus berisi 1 sampai 50 kelurahan yang dilayani",
            ));
        }
        self.write(|tx| {
            let mut area = Vec::new();
            for k in &input.kelurahan {
                let k = Self::served_kelurahan(tx, k)?;
                if area.contains(&k) {
                    return Err(SalinmasError::invalid(
                        "duplicate_kelurahan",
                        format!("kelurahan {k} is listed twice"),
                        format!("kelurahan {k} tercantum dua kali"),
                    ));
                }
                area.push(k);
            }
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM salinmas_collectors WHERE name = ?1)",
                [&name],
                |r| r.get(0),
            )?;
            if taken {
                return Err(SalinmasError::conflict(
                    "duplicate_collector",
                    format!("a collector group named {name} exists already"),
                    format!("kelompok pengumpul bernama {name} sudah ada"),
                ));
            }
            tx.execute(
                "INSERT INTO salinmas_collectors (name, phone, created_at_ms) VALUES (?1, ?2, ?3)",
                params![name, phone, now_ms],
            )?;
            let id = tx.last_insert_rowid();
            for k in &area {
                tx.execute(
                    "INSERT INTO salinmas_collector_kelurahan (collector_id, kelurahan) VALUES (?1, ?2)",
                    params![id, k],
                )?;
            }
            history(tx, "collector", id, "create", who, now_ms, json!({"name": name, "kelurahan": area}))?;
            load_collector(tx, id)?.ok_or(SalinmasError::NotFound("collector group", "kelompok pengumpul"))
        })
    }

    /// Collector groups: an officer all, a collector itself, a household those
    /// serving its kelurahan.
    pub fn collectors(&self, who: &Principal) -> Result<Vec<Collector>, SalinmasError> {
        let a = self.who(who)?;
        let c = self.conn();
        let ids: Vec<i64> = match a {
            Actor::Officer => {
                let mut stmt =
                    c.prepare_cached("SELECT id FROM salinmas_collectors ORDER BY id")?;
                stmt.query_map([], |r| r.get(0))?
                    .collect::<Result<_, _>>()?
            }
            Actor::Collector(k) => {
                collector_area(&c, k)?;
                vec![k]
            }
            Actor::Household(h) => {
                let Some(acc) = load_account(&c, h)? else {
                    return Err(not_bound("household account", "rumah tangga"));
                };
                let mut stmt = c.prepare_cached(
                    "SELECT collector_id FROM salinmas_collector_kelurahan WHERE kelurahan = ?1 ORDER BY collector_id",
                )?;
                stmt.query_map([acc.kelurahan], |r| r.get(0))?
                    .collect::<Result<_, _>>()?
            }
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(load_collector(&c, id)?);
        }
        Ok(out)
    }

    /// One collector group, if the caller may see it (as in [`Self::collectors`]).
    pub fn collector(&self, who: &Principal, id: i64) -> Result<Collector, SalinmasError> {
        let visible = self.collectors(who)?;
        match (self.who(who)?, visible.into_iter().find(|k| k.id == id)) {
            (_, Some(k)) => Ok(k),
            (Actor::Officer, None) => Err(SalinmasError::NotFound(
                "collector group",
                "kelompok pengumpul",
            )),
            _ => Err(SalinmasError::forbidden()),
        }
    }

    // ---- prices ------------------------------------------------------------

    /// The prices valid on `day` and every price ever set. Any Salinmas role.
    pub fn prices(&self, who: &Principal, day: i64) -> Result<PriceList, SalinmasError> {
        self.who(who)?;
        let c = self.conn();
        let mut current = Vec::new();
        for cat in CATEGORIES {
            let p = c
                .query_row(
                    &format!(
                        "SELECT {PRICE_COLS} FROM salinmas_prices WHERE category = ?1 AND valid_from <= ?2
                         ORDER BY valid_from DESC, id DESC LIMIT 1"
                    ),
                    params![cat, day],
                    price_row,
                )
                .optional()?;
            current.extend(p);
        }
        let mut stmt = c.prepare_cached(&format!(
            "SELECT {PRICE_COLS} FROM salinmas_prices ORDER BY category, valid_from, id"
        ))?;
        let history = stmt.query_map([], price_row)?.collect::<Result<_, _>>()?;
        Ok(PriceList {
            date: format_date(day),
            current,
            history,
        })
    }

    /// Sets the price of a category from a day on (officer). Credits already
    /// made keep the price they were made at.
    pub fn set_price(
        &self,
        who: &Principal,
        input: NewPrice,
        now_ms: i64,
    ) -> Result<Price, SalinmasError> {
        officer_only(who)?;
        let category = v::category(&input.category)?;
        if !(0..=v::MAX_PRICE_RP).contains(&input.price_per_kg_rp) {
            return Err(SalinmasError::invalid(
                "invalid_price",
                format!(
                    "price_per_kg_rp must be whole rupiah from 0 to {}",
                    v::MAX_PRICE_RP
                ),
                format!(
                    "price_per_kg_rp harus rupiah bulat dari 0 sampai {}",
                    v::MAX_PRICE_RP
                ),
            ));
        }
        let from = v::date("valid_from", &input.valid_from)?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO salinmas_prices (category, price_per_kg_rp, valid_from, set_by, set_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![category, input.price_per_kg_rp, from, who.username, now_ms],
            )?;
            let id = tx.last_insert_rowid();
            history(
                tx,
                "price",
                id,
                "set",
                who,
                now_ms,
                json!({"category": category, "price_per_kg_rp": input.price_per_kg_rp, "valid_from": format_date(from)}),
            )?;
            Ok(tx.query_row(
                &format!("SELECT {PRICE_COLS} FROM salinmas_prices WHERE id = ?1"),
                [id],
                price_row,
            )?)
        })
    }

    // ---- pickups -----------------------------------------------------------

    /// Requests a pickup: a household for itself, an officer for any account.
    pub fn request_pickup(
        &self,
        who: &Principal,
        input: NewPickup,
        now_ms: i64,
    ) -> Result<Pickup, SalinmasError> {
        let account_id = match (self.who(who)?, input.account_id) {
            (Actor::Household(h), None) => h,
            (Actor::Household(h), Some(a)) if a == h => h,
            (Actor::Officer, Some(a)) => a,
            (Actor::Officer, None) => {
                return Err(SalinmasError::invalid(
                    "missing_field",
                    "account_id is required when an officer requests a pickup",
                    "account_id wajib diisi bila petugas meminta penjemputan",
                ));
            }
            _ => return Err(SalinmasError::forbidden()),
        };
        v::position(input.lat, input.lon)?;
        let address = v::text("address", &input.address, 200)?;
        if input.categories.is_empty() || input.categories.len() > CATEGORIES.len() {
            return Err(SalinmasError::invalid(
                "invalid_categories",
                "categories must list 1 to 7 waste categories",
                "categories harus berisi 1 sampai 7 kategori sampah",
            ));
        }
        let mut categories: Vec<&str> = Vec::new();
        for c in &input.categories {
            let c = v::category(c)?;
            if categories.contains(&c) {
                return Err(SalinmasError::invalid(
                    "duplicate_category",
                    format!("category {c} is listed twice"),
                    format!("kategori {c} tercantum dua kali"),
                ));
            }
            categories.push(c);
        }
        let estimated_g = v::grams("estimated_kg", input.estimated_kg)?;
        let bad_time = |f: &str| {
            SalinmasError::invalid(
                "invalid_window",
                format!("{f} must be a time YYYY-MM-DDTHH:MM (WIB unless an offset is given)"),
                format!("{f} harus waktu YYYY-MM-DDTHH:MM (WIB kecuali diberi zona)"),
            )
        };
        let start = parse_datetime(&input.window_start).ok_or_else(|| bad_time("window_start"))?;
        let end = parse_datetime(&input.window_end).ok_or_else(|| bad_time("window_end"))?;
        if end <= start || end - start > 7 * DAY_MS {
            return Err(SalinmasError::invalid(
                "invalid_window",
                "window_end must be after window_start, at most 7 days later",
                "window_end harus setelah window_start, paling lama 7 hari kemudian",
            ));
        }
        if end <= now_ms || start > now_ms + 60 * DAY_MS {
            return Err(SalinmasError::invalid(
                "invalid_window",
                "the window must end in the future and start within 60 days",
                "jendela waktu harus berakhir di masa depan dan dimulai dalam 60 hari",
            ));
        }
        let notes = v::opt_text("notes", input.notes.as_deref(), 500)?;
        self.write(|tx| {
            let Some(acc) = load_account(tx, account_id)? else {
                return Err(match actor(who)? {
                    Actor::Officer => SalinmasError::invalid(
                        "unknown_account",
                        format!("there is no account {account_id}"),
                        format!("akun {account_id} tidak ada"),
                    ),
                    _ => not_bound("household account", "rumah tangga"),
                });
            };
            let open: i64 = tx.query_row(
                "SELECT COUNT(*) FROM salinmas_pickups WHERE account_id = ?1 AND status IN ('requested', 'accepted')",
                [account_id],
                |r| r.get(0),
            )?;
            if open >= MAX_OPEN_PICKUPS {
                return Err(SalinmasError::conflict(
                    "too_many_open_pickups",
                    format!("this account has {open} open pickups already; wait for them or cancel some"),
                    format!("akun ini sudah punya {open} penjemputan terbuka; tunggu atau batalkan sebagian"),
                ));
            }
            let cats = serde_json::to_string(&categories).unwrap_or_else(|_| "[]".into());
            tx.execute(
                "INSERT INTO salinmas_pickups
                 (account_id, kelurahan, lat, lon, address, categories, estimated_g, window_start_ms,
                  window_end_ms, notes, status, day, requested_day, requested_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'requested', ?11, ?12, ?13)",
                params![
                    account_id,
                    acc.kelurahan,
                    input.lat,
                    input.lon,
                    address,
                    cats,
                    estimated_g,
                    start,
                    end,
                    notes,
                    wib_day(start),
                    wib_day(now_ms),
                    now_ms
                ],
            )?;
            let id = tx.last_insert_rowid();
            history(
                tx,
                "pickup",
                id,
                "request",
                who,
                now_ms,
                json!({"account_id": account_id, "categories": categories, "estimated_g": estimated_g}),
            )?;
            load_pickup(tx, id)?.ok_or(SalinmasError::NotFound("pickup", "penjemputan"))
        })
    }

    /// The pickup if `a` may see it: an officer any (404 when missing), a
    /// household its own, a collector those of its kelurahan or accepted by
    /// it; otherwise (and when missing, for non-officers) 403.
    fn visible_pickup(c: &Connection, a: Actor, id: i64) -> Result<Pickup, SalinmasError> {
        let found = load_pickup(c, id)?;
        match (a, found) {
            (Actor::Officer, Some(p)) => Ok(p),
            (Actor::Officer, None) => Err(SalinmasError::NotFound("pickup", "penjemputan")),
            (Actor::Household(h), Some(p)) if p.account_id == h => Ok(p),
            (Actor::Collector(k), Some(p))
                if p.collector_id == Some(k) || collector_area(c, k)?.contains(&p.kelurahan) =>
            {
                Ok(p)
            }
            _ => Err(SalinmasError::forbidden()),
        }
    }

    /// Accepts a requested pickup for a collector group serving its kelurahan.
    pub fn accept_pickup(
        &self,
        who: &Principal,
        id: i64,
        input: AcceptPickup,
        now_ms: i64,
    ) -> Result<Pickup, SalinmasError> {
        let a = self.who(who)?;
        let scheduled = input
            .scheduled_date
            .as_deref()
            .map(|d| v::date("scheduled_date", d))
            .transpose()?;
        if let Some(d) = scheduled {
            let today = wib_day(now_ms);
            if d < today || d > today + 60 {
                return Err(SalinmasError::invalid(
                    "invalid_date",
                    "scheduled_date must be from today to 60 days ahead",
                    "scheduled_date harus dari hari ini sampai 60 hari ke depan",
                ));
            }
        }
        self.write(|tx| {
            let collector_id = match (a, input.collector_id) {
                (Actor::Collector(k), None) => k,
                (Actor::Collector(k), Some(x)) if x == k => k,
                (Actor::Officer, Some(x)) => {
                    if load_collector(tx, x)?.is_none() {
                        return Err(SalinmasError::invalid(
                            "unknown_collector",
                            format!("there is no collector group {x}"),
                            format!("kelompok pengumpul {x} tidak ada"),
                        ));
                    }
                    x
                }
                (Actor::Officer, None) => {
                    return Err(SalinmasError::invalid(
                        "missing_field",
                        "collector_id is required when an officer accepts on a group's behalf",
                        "collector_id wajib diisi bila petugas menerima atas nama kelompok",
                    ));
                }
                _ => return Err(SalinmasError::forbidden()),
            };
            // A collector outside the kelurahan learns why it may not accept
            // (the pickup's kelurahan), nothing more.
            let p = match a {
                Actor::Collector(_) => {
                    load_pickup(tx, id)?.ok_or_else(SalinmasError::forbidden)?
                }
                _ => Self::visible_pickup(tx, a, id)?,
            };
            if !collector_area(tx, collector_id)?.contains(&p.kelurahan) {
                let e = SalinmasError::outside_service_area(&p.kelurahan);
                return Err(match (a, e) {
                    (Actor::Officer, SalinmasError::Forbidden { code, message, message_id }) => {
                        SalinmasError::Conflict { code, message, message_id }
                    }
                    (_, e) => e,
                });
            }
            if p.status != "requested" {
                return Err(transition(&p.status, "accepted"));
            }
            let day = scheduled.unwrap_or_else(|| crate::time::parse_date(&p.date).unwrap_or(wib_day(now_ms)));
            tx.execute(
                "UPDATE salinmas_pickups SET status = 'accepted', collector_id = ?2, day = ?3, accepted_at_ms = ?4
                 WHERE id = ?1 AND status = 'requested'",
                params![id, collector_id, day, now_ms],
            )?;
            history(
                tx,
                "pickup",
                id,
                "accept",
                who,
                now_ms,
                json!({"collector_id": collector_id, "date": format_date(day)}),
            )?;
            load_pickup(tx, id)?.ok_or(SalinmasError::NotFound("pickup", "penjemputan"))
        })
    }

    /// Records the weighed kg of an accepted pickup and credits the household
    /// at the prices valid on the (WIB) day of collection, in one transaction.
    pub fn collect_pickup(
        &self,
        who: &Principal,
        id: i64,
        input: CollectPickup,
        now_ms: i64,
    ) -> Result<Pickup, SalinmasError> {
        let a = self.who(who)?;
        if input.weights.is_empty() || input.weights.len() > CATEGORIES.len() {
            return Err(SalinmasError::invalid(
                "invalid_weights",
                "weights must list 1 to 7 categories with their kg",
                "weights harus berisi 1 sampai 7 kategori beserta kg-nya",
            ));
        }
        let mut lines: Vec<(&'static str, i64)> = Vec::new();
        for (i, w) in input.weights.iter().enumerate() {
            let c = v::category(&w.category)?;
            if lines.iter().any(|(x, _)| *x == c) {
                return Err(SalinmasError::invalid(
                    "duplicate_category",
                    format!("category {c} is weighed twice"),
                    format!("kategori {c} ditimbang dua kali"),
                ));
            }
            let g = match (w.kg, w.grams) {
                (Some(kg), None) => v::grams(&format!("weights[{i}].kg"), kg)?,
                (None, Some(g)) if (1..=(v::MAX_KG as i64) * 1000).contains(&g) => g,
                (None, Some(_)) => {
                    return Err(v::grams(&format!("weights[{i}].grams"), 0.0).unwrap_err());
                }
                _ => {
                    return Err(SalinmasError::invalid(
                        "invalid_weight",
                        format!("weights[{i}] needs kg or grams (one of them)"),
                        format!("weights[{i}] perlu kg atau grams (salah satu)"),
                    ));
                }
            };
            lines.push((c, g));
        }
        let day = wib_day(now_ms);
        self.write(|tx| {
            let p = Self::visible_pickup(tx, a, id)?;
            if let Actor::Collector(k) = a
                && p.collector_id != Some(k)
                && p.status == "accepted"
            {
                return Err(SalinmasError::Forbidden {
                    code: "not_your_pickup",
                    message: "another collector group accepted this pickup".into(),
                    message_id: "kelompok pengumpul lain yang menerima penjemputan ini".into(),
                });
            }
            if matches!(a, Actor::Household(_)) {
                return Err(SalinmasError::forbidden());
            }
            if p.status != "accepted" {
                return Err(transition(&p.status, "collected"));
            }
            let mut total = 0i64;
            let mut detail = Vec::new();
            for (cat, g) in &lines {
                let Some(price) = price_on(tx, cat, day)? else {
                    return Err(SalinmasError::conflict(
                        "no_price",
                        format!("no price for {cat} is valid on {}", format_date(day)),
                        format!("belum ada harga {cat} yang berlaku pada {}", format_date(day)),
                    ));
                };
                let amount = v::amount_rp(price, *g);
                total += amount;
                tx.execute(
                    "INSERT INTO salinmas_pickup_weights (pickup_id, category, grams, price_per_kg_rp, amount_rp)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![id, cat, g, price, amount],
                )?;
                detail.push(json!({"category": cat, "grams": g, "price_per_kg_rp": price, "amount_rp": amount}));
            }
            tx.execute(
                "UPDATE salinmas_pickups SET status = 'collected', collected_at_ms = ?2, collected_day = ?3,
                 credit_rp = ?4 WHERE id = ?1 AND status = 'accepted'",
                params![id, now_ms, day, total],
            )?;
            let bal = balance(tx, p.account_id)? + total;
            tx.execute(
                "INSERT INTO salinmas_ledger (account_id, at_ms, day, kind, amount_rp, balance_rp, pickup_id, actor)
                 VALUES (?1, ?2, ?3, 'credit', ?4, ?5, ?6, ?7)",
                params![p.account_id, now_ms, day, total, bal, id, who.username],
            )?;
            let entry = tx.last_insert_rowid();
            history(
                tx,
                "pickup",
                id,
                "collect",
                who,
                now_ms,
                json!({"date": format_date(day), "lines": detail, "credit_rp": total}),
            )?;
            history(
                tx,
                "ledger",
                entry,
                "credit",
                who,
                now_ms,
                json!({"account_id": p.account_id, "pickup_id": id, "amount_rp": total, "balance_rp": bal}),
            )?;
            load_pickup(tx, id)?.ok_or(SalinmasError::NotFound("pickup", "penjemputan"))
        })
    }

    /// Cancels a pickup before collection (its household or an officer).
    pub fn cancel_pickup(
        &self,
        who: &Principal,
        id: i64,
        input: Reason,
        now_ms: i64,
    ) -> Result<Pickup, SalinmasError> {
        let a = self.who(who)?;
        if matches!(a, Actor::Collector(_)) {
            return Err(SalinmasError::forbidden());
        }
        self.close(who, a, id, input, now_ms, "cancelled", "cancel")
    }

    /// Rejects a pickup before collection (a collector group that may take
    /// it or took it, or an officer).
    pub fn reject_pickup(
        &self,
        who: &Principal,
        id: i64,
        input: Reason,
        now_ms: i64,
    ) -> Result<Pickup, SalinmasError> {
        let a = self.who(who)?;
        if matches!(a, Actor::Household(_)) {
            return Err(SalinmasError::forbidden());
        }
        self.close(who, a, id, input, now_ms, "rejected", "reject")
    }

    #[allow(clippy::too_many_arguments)]
    fn close(
        &self,
        who: &Principal,
        a: Actor,
        id: i64,
        input: Reason,
        now_ms: i64,
        status: &str,
        action: &str,
    ) -> Result<Pickup, SalinmasError> {
        let reason = v::text("reason", &input.reason, 500)?;
        self.write(|tx| {
            let p = Self::visible_pickup(tx, a, id)?;
            if let Actor::Collector(k) = a
                && p.collector_id.is_some_and(|c| c != k)
            {
                return Err(SalinmasError::Forbidden {
                    code: "not_your_pickup",
                    message: "another collector group accepted this pickup".into(),
                    message_id: "kelompok pengumpul lain yang menerima penjemputan ini".into(),
                });
            }
            if p.status != "requested" && p.status != "accepted" {
                return Err(transition(&p.status, status));
            }
            tx.execute(
                "UPDATE salinmas_pickups SET status = ?2, reason = ?3, closed_at_ms = ?4
                 WHERE id = ?1 AND status IN ('requested', 'accepted')",
                params![id, status, reason, now_ms],
            )?;
            history(
                tx,
                "pickup",
                id,
                action,
                who,
                now_ms,
                json!({"reason": reason, "from": p.status}),
            )?;
            load_pickup(tx, id)?.ok_or(SalinmasError::NotFound("pickup", "penjemputan"))
        })
    }

    /// Pickups the caller may list, newest first: an officer all, a household
    /// its own, a collector the open ones of its kelurahan and those it
    /// accepted.
    pub fn pickups(
        &self,
        who: &Principal,
        filter: &PickupFilter,
    ) -> Result<Vec<Pickup>, SalinmasError> {
        let a = self.who(who)?;
        if let Some(s) = &filter.status
            && !STATUSES.contains(&s.as_str())
        {
            return Err(SalinmasError::invalid(
                "invalid_status",
                format!("status must be one of {}", STATUSES.join(", ")),
                format!("status harus salah satu dari {}", STATUSES.join(", ")),
            ));
        }
        let c = self.conn();
        let (household, collector) = match a {
            Actor::Officer => (None, None),
            Actor::Household(h) => (Some(h), None),
            Actor::Collector(k) => {
                collector_area(&c, k)?;
                (None, Some(k))
            }
        };
        let mut stmt = c.prepare_cached(&format!(
            "SELECT {PICKUP_COLS} FROM salinmas_pickups
             WHERE (?1 IS NULL OR status = ?1)
               AND (?2 IS NULL OR kelurahan = ?2 COLLATE NOCASE)
               AND (?3 IS NULL OR day = ?3)
               AND (?4 IS NULL OR account_id = ?4)
               AND (?5 IS NULL OR account_id = ?5)
               AND (?6 IS NULL OR collector_id = ?6
                    OR (status = 'requested' AND kelurahan IN
                        (SELECT kelurahan FROM salinmas_collector_kelurahan WHERE collector_id = ?6)))
             ORDER BY id DESC LIMIT {LIST_LIMIT}"
        ))?;
        let rows = stmt.query_map(
            params![
                filter.status,
                filter.kelurahan,
                filter.day,
                filter.account_id,
                household,
                collector
            ],
            pickup_row,
        )?;
        let mut out: Vec<Pickup> = rows.collect::<Result<_, _>>()?;
        for p in &mut out {
            p.weights = load_weights(&c, p.id)?;
        }
        Ok(out)
    }

    /// One pickup with its history.
    pub fn pickup(&self, who: &Principal, id: i64) -> Result<PickupDetail, SalinmasError> {
        let a = self.who(who)?;
        let c = self.conn();
        let pickup = Self::visible_pickup(&c, a, id)?;
        let history = history_of(&c, "pickup", &id.to_string())?;
        Ok(PickupDetail { pickup, history })
    }

    /// The change history of one record (officer).
    pub fn history(
        &self,
        who: &Principal,
        entity: &str,
        id: &str,
    ) -> Result<Vec<HistoryEntry>, SalinmasError> {
        officer_only(who)?;
        history_of(&self.conn(), entity, id)
    }

    // ---- ledger ------------------------------------------------------------

    fn ledger_access(c: &Connection, a: Actor, account_id: i64) -> Result<Account, SalinmasError> {
        let found = load_account(c, account_id)?;
        match (a, found) {
            (Actor::Officer, Some(acc)) => Ok(acc),
            (Actor::Officer, None) => Err(SalinmasError::NotFound("account", "akun")),
            (Actor::Household(h), Some(acc)) if h == account_id => Ok(acc),
            (Actor::Collector(k), Some(acc)) if collector_area(c, k)?.contains(&acc.kelurahan) => {
                Ok(acc)
            }
            _ => Err(SalinmasError::forbidden()),
        }
    }

    /// An account's ledger, oldest first, each entry with the balance after
    /// it: the household itself, a collector of its kelurahan, an officer.
    pub fn ledger(&self, who: &Principal, account_id: i64) -> Result<Ledger, SalinmasError> {
        let a = self.who(who)?;
        let c = self.conn();
        Self::ledger_access(&c, a, account_id)?;
        let mut stmt = c.prepare_cached(&format!(
            "SELECT {LEDGER_COLS} FROM salinmas_ledger WHERE account_id = ?1 ORDER BY id"
        ))?;
        let entries: Vec<LedgerEntry> = stmt
            .query_map([account_id], ledger_row)?
            .collect::<Result<_, _>>()?;
        let balance_rp = balance(&c, account_id)?;
        Ok(Ledger {
            account_id,
            balance_rp,
            entries,
        })
    }

    /// Pays out from an account's balance (an officer, or a collector of its
    /// kelurahan). More than the balance → 409 `insufficient_balance`.
    pub fn payout(
        &self,
        who: &Principal,
        account_id: i64,
        input: NewPayout,
        now_ms: i64,
    ) -> Result<LedgerEntry, SalinmasError> {
        let a = self.who(who)?;
        if matches!(a, Actor::Household(_)) {
            return Err(SalinmasError::forbidden());
        }
        if !(1..=v::MAX_PAYOUT_RP).contains(&input.amount_rp) {
            return Err(SalinmasError::invalid(
                "invalid_amount",
                format!(
                    "amount_rp must be whole rupiah from 1 to {}",
                    v::MAX_PAYOUT_RP
                ),
                format!(
                    "amount_rp harus rupiah bulat dari 1 sampai {}",
                    v::MAX_PAYOUT_RP
                ),
            ));
        }
        if !PAYOUT_METHODS.contains(&input.method.as_str()) {
            return Err(SalinmasError::invalid(
                "invalid_method",
                format!("method must be one of {}", PAYOUT_METHODS.join(", ")),
                format!("method harus salah satu dari {}", PAYOUT_METHODS.join(", ")),
            ));
        }
        let reference = v::opt_text("reference", input.reference.as_deref(), 100)?;
        self.write(|tx| {
            Self::ledger_access(tx, a, account_id)?;
            let bal = balance(tx, account_id)?;
            if input.amount_rp > bal {
                return Err(SalinmasError::conflict(
                    "insufficient_balance",
                    format!("the payout of Rp{} is more than the balance of Rp{bal}", input.amount_rp),
                    format!("pencairan Rp{} melebihi saldo Rp{bal}", input.amount_rp),
                ));
            }
            let after = bal - input.amount_rp;
            tx.execute(
                "INSERT INTO salinmas_ledger (account_id, at_ms, day, kind, amount_rp, balance_rp, method, reference, actor)
                 VALUES (?1, ?2, ?3, 'payout', ?4, ?5, ?6, ?7, ?8)",
                params![account_id, now_ms, wib_day(now_ms), -input.amount_rp, after, input.method, reference, who.username],
            )?;
            let id = tx.last_insert_rowid();
            history(
                tx,
                "ledger",
                id,
                "payout",
                who,
                now_ms,
                json!({"account_id": account_id, "amount_rp": input.amount_rp, "method": input.method, "balance_rp": after}),
            )?;
            Ok(tx.query_row(
                &format!("SELECT {LEDGER_COLS} FROM salinmas_ledger WHERE id = ?1"),
                [id],
                ledger_row,
            )?)
        })
    }

    /// Checks every ledger: each entry's balance is the running sum of the
    /// account's entries and never negative. Returns the entries checked.
    pub fn verify_ledgers(&self) -> Result<u64, String> {
        let c = self.conn();
        let mut stmt = c
            .prepare("SELECT account_id, id, amount_rp, balance_rp FROM salinmas_ledger ORDER BY account_id, id")
            .map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(|e| e.to_string())?;
        let (mut account, mut sum, mut n) = (None, 0i64, 0u64);
        for row in rows {
            let (acc, id, amount, bal) = row.map_err(|e| e.to_string())?;
            if account != Some(acc) {
                account = Some(acc);
                sum = 0;
            }
            sum += amount;
            if bal != sum || bal < 0 {
                return Err(format!(
                    "ledger entry {id} of account {acc}: balance {bal}, running sum {sum}"
                ));
            }
            n += 1;
        }
        Ok(n)
    }

    // ---- routes ------------------------------------------------------------

    /// The collector group's accepted pickups of `day` in driving order, with
    /// the ETA of each stop (the collector itself or an officer).
    pub fn route(
        &self,
        who: &Principal,
        collector_id: i64,
        day: i64,
        start: Option<(f64, f64)>,
        drive: &dyn DriveTimes,
    ) -> Result<Route, SalinmasError> {
        let a = self.who(who)?;
        if let Some((lat, lon)) = start {
            v::position(lat, lon)?;
        }
        let stops: Vec<Pickup> = {
            let c = self.conn();
            match a {
                Actor::Officer if load_collector(&c, collector_id)?.is_none() => {
                    return Err(SalinmasError::NotFound(
                        "collector group",
                        "kelompok pengumpul",
                    ));
                }
                Actor::Officer => {}
                Actor::Collector(k) if k == collector_id => {
                    collector_area(&c, k)?;
                }
                _ => return Err(SalinmasError::forbidden()),
            }
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {PICKUP_COLS} FROM salinmas_pickups
                 WHERE collector_id = ?1 AND day = ?2 AND status = 'accepted' ORDER BY window_start_ms, id"
            ))?;
            stmt.query_map(params![collector_id, day], pickup_row)?
                .collect::<Result<_, _>>()?
        };
        if stops.len() > MAX_ROUTE_STOPS {
            return Err(SalinmasError::conflict(
                "too_many_stops",
                format!(
                    "{} stops in one day is more than a route is planned for ({MAX_ROUTE_STOPS})",
                    stops.len()
                ),
                format!(
                    "{} titik dalam sehari melebihi batas satu rute ({MAX_ROUTE_STOPS})",
                    stops.len()
                ),
            ));
        }
        let service = f64::from(self.config.service_time_s);
        let mut points: Vec<(f64, f64)> = Vec::with_capacity(stops.len() + 1);
        points.extend(start);
        points.extend(stops.iter().map(|p| (p.lat, p.lon)));
        let order: Vec<usize>; // indices into `stops`
        let mut legs: Vec<Option<f64>> = Vec::new();
        if stops.is_empty() {
            order = Vec::new();
        } else {
            let m = drive.matrix(&points).map_err(SalinmasError::Unavailable)?;
            if m.len() != points.len() || m.iter().any(|r| r.len() != points.len()) {
                return Err(SalinmasError::Unavailable(format!(
                    "the drive-time matrix is not {0}x{0}",
                    points.len()
                )));
            }
            let leg =
                |from: usize, to: usize| Some(m[from][to]).filter(|s| s.is_finite() && *s >= 0.0);
            if start.is_some() {
                let path = order_stops(&m, 0);
                order = path[1..].iter().map(|i| i - 1).collect();
                let mut prev = 0;
                for &i in &path[1..] {
                    legs.push(leg(prev, i));
                    prev = i;
                }
            } else {
                // A free start: a virtual depot one second from every stop,
                // unreachable back, so 2-opt also chooses the first stop.
                let n = points.len();
                let mut aug: Vec<Vec<f64>> = m
                    .iter()
                    .map(|r| {
                        let mut r = r.clone();
                        r.push(f64::INFINITY);
                        r
                    })
                    .collect();
                let mut depot = vec![1.0; n];
                depot.push(0.0);
                aug.push(depot);
                let path = order_stops(&aug, n);
                order = path[1..].to_vec();
                legs.push(Some(0.0));
                for w in order.windows(2) {
                    legs.push(leg(w[0], w[1]));
                }
            }
        }
        let mut out = Vec::with_capacity(order.len());
        let mut clock = Some(0.0);
        let mut drive_total = Some(0.0);
        for (seq, (&i, leg)) in order.iter().zip(&legs).enumerate() {
            let p = &stops[i];
            clock = clock
                .zip(*leg)
                .map(|(c, l)| c + l + if seq > 0 { service } else { 0.0 });
            drive_total = drive_total.zip(*leg).map(|(t, l)| t + l);
            out.push(RouteStop {
                seq: seq + 1,
                pickup_id: p.id,
                account_id: p.account_id,
                lat: p.lat,
                lon: p.lon,
                address: p.address.clone(),
                window_start: p.window_start.clone(),
                window_end: p.window_end.clone(),
                drive_s: *leg,
                eta_s: clock,
            });
        }
        let total_s = drive_total.map(|d| d + service * out.len() as f64);
        Ok(Route {
            collector_id,
            date: format_date(day),
            start,
            service_time_s: self.config.service_time_s,
            stops: out,
            total_drive_s: drive_total,
            total_s,
        })
    }

    // ---- reports -----------------------------------------------------------

    /// Kg per category per kelurahan per ISO week of the collection day,
    /// active accounts, credits earned and paid, over `from..=to` (officer).
    pub fn weight_report(
        &self,
        who: &Principal,
        from: i64,
        to: i64,
    ) -> Result<WeightReport, SalinmasError> {
        officer_only(who)?;
        if to < from || to - from >= MAX_REPORT_DAYS {
            return Err(SalinmasError::invalid(
                "invalid_range",
                format!("to must be on or after from, at most {MAX_REPORT_DAYS} days in all"),
                format!(
                    "to harus sama dengan atau setelah from, paling lama {MAX_REPORT_DAYS} hari"
                ),
            ));
        }
        let c = self.conn();
        let mut weights: Vec<WeekWeight> = Vec::new();
        {
            let mut stmt = c.prepare_cached(
                "SELECT p.collected_day, p.kelurahan, w.category, w.grams
                 FROM salinmas_pickups p JOIN salinmas_pickup_weights w ON w.pickup_id = p.id
                 WHERE p.status = 'collected' AND p.collected_day BETWEEN ?1 AND ?2",
            )?;
            let rows = stmt.query_map(params![from, to], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?;
            let mut sums: std::collections::BTreeMap<(String, String, usize), i64> =
                Default::default();
            for row in rows {
                let (day, kel, cat, g) = row?;
                let ci = CATEGORIES
                    .iter()
                    .position(|c| *c == cat)
                    .unwrap_or(CATEGORIES.len());
                *sums.entry((iso_week(day), kel, ci)).or_default() += g;
            }
            for ((week, kelurahan, ci), grams) in sums {
                weights.push(WeekWeight {
                    week,
                    kelurahan,
                    category: CATEGORIES.get(ci).copied().unwrap_or("unknown").to_string(),
                    grams,
                    kg: grams as f64 / 1000.0,
                });
            }
        }
        let active_cond = "(requested_day BETWEEN ?1 AND ?2 OR collected_day BETWEEN ?1 AND ?2)";
        let active_accounts: i64 = c.query_row(
            &format!("SELECT COUNT(DISTINCT account_id) FROM salinmas_pickups WHERE {active_cond}"),
            params![from, to],
            |r| r.get(0),
        )?;
        let (earned, paid): (i64, i64) = c.query_row(
            "SELECT COALESCE(SUM(CASE WHEN kind = 'credit' THEN amount_rp END), 0),
                    COALESCE(-SUM(CASE WHEN kind = 'payout' THEN amount_rp END), 0)
             FROM salinmas_ledger WHERE day BETWEEN ?1 AND ?2",
            params![from, to],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut stmt = c.prepare_cached(&format!(
            "SELECT k.name,
                (SELECT COUNT(DISTINCT account_id) FROM salinmas_pickups WHERE kelurahan = k.name AND {active_cond}),
                (SELECT COUNT(*) FROM salinmas_pickups WHERE kelurahan = k.name AND status = 'collected'
                    AND collected_day BETWEEN ?1 AND ?2),
                (SELECT COALESCE(SUM(credit_rp), 0) FROM salinmas_pickups WHERE kelurahan = k.name
                    AND status = 'collected' AND collected_day BETWEEN ?1 AND ?2)
             FROM salinmas_kelurahan k ORDER BY k.name"
        ))?;
        let kelurahan = stmt
            .query_map(params![from, to], |r| {
                Ok(KelurahanActivity {
                    kelurahan: r.get(0)?,
                    active_accounts: r.get(1)?,
                    collected_pickups: r.get(2)?,
                    credits_earned_rp: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(WeightReport {
            from: format_date(from),
            to: format_date(to),
            weights,
            kelurahan,
            active_accounts,
            credits_earned_rp: earned,
            credits_paid_rp: paid,
        })
    }

    // ---- demo --------------------------------------------------------------

    /// Makes (once) a synthetic dasawisma account and collector group in the
    /// pilot kelurahan, for the demo logins; later calls return the same ids.
    pub fn seed_demo(&self, now_ms: i64) -> Result<DemoIds, SalinmasError> {
        self.write(|tx| {
            let get = |k: &str| -> Result<Option<i64>, SalinmasError> {
                Ok(tx
                    .query_row("SELECT value FROM salinmas_meta WHERE key = ?1", [k], |r| r.get::<_, String>(0))
                    .optional()?
                    .and_then(|v| v.parse().ok()))
            };
            if let (Some(h), Some(c)) = (get("demo_household")?, get("demo_collector")?) {
                return Ok(DemoIds {
                    household_account_id: h,
                    collector_group_id: c,
                });
            }
            let system = |action: &str, entity: &str, id: i64, details: Value| {
                history_as(tx, entity, &id.to_string(), action, "system", "system", now_ms, &details)
            };
            tx.execute(
                "INSERT INTO salinmas_accounts
                 (kind, name, kelurahan, rt, rw, address, lat, lon, phone, members, created_at_ms)
                 VALUES ('dasawisma', 'Dasawisma Melati (demo)', 'Sokanegara', '002', '004',
                         'Jl. Contoh No. 1 (data sintetis)', -7.4192, 109.2338, '081200000119', 10, ?1)",
                [now_ms],
            )?;
            let h = tx.last_insert_rowid();
            system("create", "account", h, json!({"demo": true, "kelurahan": "Sokanegara"}))?;
            let mut name = "KSM Sokanegara Bersih (demo)".to_string();
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM salinmas_collectors WHERE name = ?1)",
                [&name],
                |r| r.get(0),
            )?;
            if taken {
                name = format!("KSM Sokanegara Bersih (demo {h})");
            }
            tx.execute(
                "INSERT INTO salinmas_collectors (name, phone, created_at_ms) VALUES (?1, '081200000120', ?2)",
                params![name, now_ms],
            )?;
            let c = tx.last_insert_rowid();
            for (k, _) in PILOT_KELURAHAN {
                tx.execute(
                    "INSERT OR IGNORE INTO salinmas_collector_kelurahan (collector_id, kelurahan)
                     SELECT ?1, name FROM salinmas_kelurahan WHERE name = ?2",
                    params![c, k],
                )?;
            }
            system("create", "collector", c, json!({"demo": true}))?;
            tx.execute(
                "INSERT OR REPLACE INTO salinmas_meta (key, value) VALUES ('demo_household', ?1), ('demo_collector', ?2)",
                params![h.to_string(), c.to_string()],
            )?;
            Ok(DemoIds {
                household_account_id: h,
                collector_group_id: c,
            })
        })
    }
}

fn history_of(c: &Connection, entity: &str, id: &str) -> Result<Vec<HistoryEntry>, SalinmasError> {
    let mut stmt = c.prepare_cached(
        "SELECT id, entity, entity_id, action, actor, role, at_ms, details FROM salinmas_history
         WHERE entity = ?1 AND entity_id = ?2 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![entity, id], history_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pilot_kelurahan_are_banyumas_kelurahan() {
        let region = satria_region::Region::banyumas();
        for (name, kecamatan) in PILOT_KELURAHAN {
            let d = region
                .desa
                .iter()
                .find(|d| d.name == name && d.kecamatan == kecamatan)
                .unwrap_or_else(|| panic!("{name} in {kecamatan}"));
            assert!(d.urban, "{name} is an urban kelurahan");
        }
        for (cat, price) in DEFAULT_PRICES {
            assert!(CATEGORIES.contains(&cat));
            assert!((0..=v::MAX_PRICE_RP).contains(&price));
        }
        let compost = DEFAULT_PRICES
            .iter()
            .find(|(c, _)| *c == "compost")
            .unwrap()
            .1;
        assert!((2_000..=2_500).contains(&compost));
    }

    #[test]
    fn a_newer_schema_is_refused_and_reopening_does_not_reseed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        drop(Salinmas::open(&path).unwrap());
        let s = Salinmas::open(&path).unwrap();
        let n: i64 = s
            .conn()
            .query_row("SELECT COUNT(*) FROM salinmas_prices", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, DEFAULT_PRICES.len() as i64);
        // The ledger and history refuse edits.
        assert!(
            s.conn()
                .execute("DELETE FROM salinmas_history", [])
                .is_err()
        );
        drop(s);
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(c);
        match Salinmas::open(&path) {
            Err(SalinmasError::Storage(m)) => assert!(m.contains("newer"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
