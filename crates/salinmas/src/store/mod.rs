//! [`Salinmas`]: the database (one SQLite file, or a PostgreSQL database
//! shared by the nodes of a cluster), its migrations, and every operation
//! with its access rule, checks and history row inside one transaction.
//! Every query is written once, for both databases (`satria_sql`).
//!
//! This file holds the handle, its configuration, the limits and seed
//! constants, and the transaction helpers; each aggregate's operations live
//! in a module of their own:
//!
//! - `open`: opening the file or the database, the schema of each, and the
//!   seed a new store starts with;
//! - `access`: who the caller is to Salinmas (officer, household, collector);
//! - `history`: the append-only change history;
//! - `areas`: the served kelurahan;
//! - `accounts` and `collectors`: households/dasawisma and collector groups;
//! - `prices`: the price list by day;
//! - `pickups`: requesting, listing and reading pickups;
//! - `transitions`: accepting, collecting (and crediting), cancelling and
//!   rejecting a pickup;
//! - `ledger`: balances, payouts and the ledger check;
//! - `route` and `reports`: a collector's day route and the weight report;
//! - `demo`: the demo records;
//! - `copy`: copying a store into another (a centre's SQLite file into its
//!   cluster's PostgreSQL).

use satria_sql::{Db, DbError, End, Tx};

use crate::error::SalinmasError;

mod access;
mod accounts;
mod areas;
mod collectors;
mod copy;
mod demo;
mod history;
mod ledger;
mod open;
mod pickups;
mod prices;
mod reports;
mod route;
mod transitions;

#[cfg(test)]
mod tests;

pub use copy::SalinmasCopyReport;
pub use open::{PG_SCHEMA_VERSION, SCHEMA_VERSION};

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

/// Where "now" comes from: the system clock, or a hand-held one in tests.
pub use satria_calendar::Clock;

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
            clock: Clock::system(),
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
/// ledger and the history of every change, in one SQLite file
/// ([`Salinmas::open`]) or a PostgreSQL database ([`Salinmas::open_postgres`]).
/// `Send + Sync`; share it in an `Arc`. Every method is blocking: from async
/// code call it inside `tokio::task::spawn_blocking`. Give it a file of its
/// own: it owns the file's `PRAGMA user_version` (on PostgreSQL its tables are
/// prefixed `salinmas_` and versioned in `salinmas_schema`).
pub struct Salinmas {
    db: Db,
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

impl Salinmas {
    pub fn config(&self) -> &SalinmasConfig {
        &self.config
    }

    /// Now, by the configured clock.
    pub fn now_ms(&self) -> i64 {
        self.config.clock.now_ms()
    }

    /// Runs `f` in one write transaction, serialised with every other writer
    /// of the store (SQLite's `BEGIN IMMEDIATE`; on PostgreSQL the store's
    /// advisory lock, across nodes): committed when it returns Ok, rolled
    /// back (nothing changed) when it returns Err.
    fn write<T>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, SalinmasError>,
    ) -> Result<T, SalinmasError> {
        self.db.write(End::Commit, f)
    }

    /// Runs `f` in one read transaction (one consistent view) that changes
    /// nothing.
    fn read<T>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, SalinmasError>,
    ) -> Result<T, SalinmasError> {
        self.db.read(f)
    }
}

impl From<DbError> for SalinmasError {
    fn from(e: DbError) -> Self {
        SalinmasError::Storage(e.message)
    }
}
