//! [`Pattas`]: the SQLite database of the module and every rule that keeps
//! it consistent. Methods are blocking; from async code call them inside
//! `tokio::task::spawn_blocking` (the router does).
//!
//! This file holds the handle and the helpers its parts share; each
//! aggregate's rules and SQL live in a module of their own: `open` (open and
//! migrations), `beneficiaries`, `cases`, `assistance`, `transports`,
//! `history`, `reports` and `demo`.
//!
//! Instants are stored as integer milliseconds since the epoch (`..._ms`
//! columns) and become [`Timestamp`]s as a row is read (`ts_col`).

mod assistance;
mod beneficiaries;
mod cases;
mod demo;
mod history;
mod open;
mod reports;
mod transports;

use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, Row};
use satria_auth::{Principal, Role};
use satria_calendar::Timestamp;

use crate::model::*;
use crate::{PattasConfig, PattasError};

pub use demo::DEMO_MITRA_USERNAME;
pub use open::SCHEMA_VERSION;
pub(crate) use transports::already_cancelled;

/// Beneficiaries, cases, assistance and transports in one SQLite file.
///
/// `Send + Sync`; share it in an `Arc`. Give it a file of its own (e.g.
/// `pattas.sqlite`): it owns the file's `PRAGMA user_version`.
pub struct Pattas {
    conn: Mutex<Connection>,
    config: PattasConfig,
    /// (desa, kecamatan, latitude, longitude of its centre) of Kabupaten Banyumas.
    desa: Vec<(String, String, f64, f64)>,
}

impl std::fmt::Debug for Pattas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pattas")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The mitra username a caller is limited to, if it is a mitra.
fn mitra_of(who: &Principal) -> Option<&str> {
    (who.role == Role::PattasMitra).then_some(who.username.as_str())
}

/// An instant column: SQLite keeps integer ms, the records carry a [`Timestamp`].
fn ts_col(row: &Row<'_>, idx: usize) -> rusqlite::Result<Timestamp> {
    row.get(idx).map(Timestamp)
}

/// A nullable instant column.
fn opt_ts_col(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<Timestamp>> {
    Ok(row.get::<_, Option<i64>>(idx)?.map(Timestamp))
}

fn json_col<T: serde::de::DeserializeOwned>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let s: String = row.get(idx)?;
    serde_json::from_str(&s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
    })
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

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // Transactions roll back on drop, so a poisoned lock is still consistent.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
