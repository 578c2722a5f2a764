//! [`Pattas`]: the module's database (one SQLite file, or a PostgreSQL
//! database shared by the nodes of a cluster) and every rule that keeps it
//! consistent. Methods are blocking; from async code call them inside
//! `tokio::task::spawn_blocking` (the router does).
//!
//! This file holds the handle and the helpers its parts share; each
//! aggregate's rules and SQL live in a module of their own: `open` (open,
//! migrations of both databases), `beneficiaries`, `cases`, `assistance`,
//! `transports`, `history`, `reports`, `demo` and `copy` (a SQLite store
//! into a PostgreSQL one).
//!
//! Every query is written once for both databases (`satria_sql`: `$n`
//! parameters, rows of values) and runs in a transaction: a change, and the
//! reads it depends on, in one write transaction (serialised with every other
//! writer of the store, on any node); a read in one read transaction.
//!
//! Instants are stored as integer milliseconds since the epoch (`..._ms`
//! columns) and become [`Timestamp`]s as a row is read (`ts_col`).

mod assistance;
mod beneficiaries;
mod cases;
mod copy;
mod demo;
mod history;
mod open;
mod reports;
mod transports;

use satria_auth::{Principal, Role};
use satria_calendar::Timestamp;
use satria_sql::{Db, DbError, Dialect, Row, Tx};

use crate::model::*;
use crate::{PattasConfig, PattasError};

pub use copy::PattasCopyReport;
pub use demo::DEMO_MITRA_USERNAME;
pub use open::{PG_SCHEMA_VERSION, SCHEMA_VERSION};
pub(crate) use transports::already_cancelled;

/// Beneficiaries, cases, assistance and transports, in one SQLite file
/// ([`Pattas::open`]) or a PostgreSQL database ([`Pattas::open_postgres`]).
///
/// `Send + Sync`; share it in an `Arc`. Give it a file of its own (e.g.
/// `pattas.sqlite`): it owns the file's `PRAGMA user_version`. On PostgreSQL
/// its tables are named `pattas_*` and its schema version is kept in
/// `pattas_schema`.
pub struct Pattas {
    db: Db,
    config: PattasConfig,
    /// (desa, kecamatan, latitude, longitude of its centre) of Kabupaten Banyumas.
    desa: Vec<(String, String, f64, f64)>,
}

impl std::fmt::Debug for Pattas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pattas")
            .field("config", &self.config)
            .field("dialect", &self.db.dialect())
            .finish_non_exhaustive()
    }
}

impl From<DbError> for PattasError {
    fn from(e: DbError) -> Self {
        PattasError::Storage(e.message)
    }
}

/// The mitra username a caller is limited to, if it is a mitra.
fn mitra_of(who: &Principal) -> Option<&str> {
    (who.role == Role::PattasMitra).then_some(who.username.as_str())
}

/// An instant column: the database keeps integer ms, the records carry a [`Timestamp`].
fn ts_col(row: &Row, idx: usize) -> Result<Timestamp, DbError> {
    row.i64(idx).map(Timestamp)
}

/// A nullable instant column.
fn opt_ts_col(row: &Row, idx: usize) -> Result<Option<Timestamp>, DbError> {
    Ok(row.opt_i64(idx)?.map(Timestamp))
}

/// A column holding JSON text.
fn json_col<T: serde::de::DeserializeOwned>(row: &Row, idx: usize) -> Result<T, PattasError> {
    Ok(serde_json::from_str(&row.text(idx)?)?)
}

/// `expr` in a byte-wise order, as SQLite orders text: PostgreSQL would
/// order it by the database's collation (a locale's, which ignores
/// punctuation), so there it is ordered in the `C` collation.
fn bytewise(tx: &dyn Tx, expr: &str) -> String {
    match tx.dialect() {
        Dialect::Sqlite => expr.to_string(),
        Dialect::Postgres => format!("{expr} COLLATE \"C\""),
    }
}

fn parse_need(field: &str, v: &str) -> Result<String, PattasError> {
    let v = v.trim();
    if NEEDS.contains(&v) {
        Ok(v.to_string())
    } else {
        Err(PattasError::invalid(
            "invalid_need",
            format!("{field} must be one of {}", NEEDS.join(", ")),
            format!("{field} harus salah satu dari {}", NEEDS.join(", ")),
        ))
    }
}

fn page(limit: Option<u32>, offset: Option<u32>) -> Result<(i64, i64), PattasError> {
    let limit = limit.unwrap_or(limits::PAGE_DEFAULT);
    if limit == 0 || limit > limits::PAGE_MAX {
        return Err(PattasError::invalid(
            "invalid_limit",
            format!("limit must be 1 to {}", limits::PAGE_MAX),
            format!("limit harus 1 sampai {}", limits::PAGE_MAX),
        ));
    }
    Ok((i64::from(limit), i64::from(offset.unwrap_or(0))))
}

fn invalid_transition(case: &Case, action: &str, needs: &str) -> PattasError {
    PattasError::conflict(
        "invalid_transition",
        format!(
            "case {} is {}; {action} needs a case that is {needs}",
            case.id, case.status
        ),
        format!(
            "kasus {} berstatus {}; {action} hanya untuk kasus berstatus {needs}",
            case.id, case.status
        ),
    )
}

impl Pattas {
    /// The desa/kelurahan of Kabupaten Banyumas a beneficiary may live in,
    /// as (desa, kecamatan), by kecamatan then desa.
    pub fn desa_list(&self) -> Vec<(String, String)> {
        self.desa_places()
            .into_iter()
            .map(|(d, k, _, _)| (d, k))
            .collect()
    }

    /// The same desa with the position of their centre, to place a pickup by name.
    pub fn desa_places(&self) -> Vec<(String, String, f64, f64)> {
        let mut v = self.desa.clone();
        v.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
        v
    }

    pub fn config(&self) -> &PattasConfig {
        &self.config
    }
}
