//! Copying a store into another (`satria migrate`: a centre's SQLite file
//! into its cluster's PostgreSQL): every table row for row with its ids (and
//! the weight lines' `rowid`), so balances, histories and the ids logins are
//! bound to (`subject`) stay as they were. All of it in one write transaction
//! of the target; on PostgreSQL the identities then continue after the
//! copied ids.
//!
//! The target must be as a new store is: empty but for the seed every store
//! starts with (the pilot kelurahan, the default price list, and their history
//! rows), which the target wrote when it was opened. Those rows are not copied
//! again but compared: each must equal the source's row of the same key in
//! everything but its time (when each store was first opened), and the
//! target's is kept. Any other row in the target, or a seed row that differs,
//! is refused, naming it, and nothing is written. A target holding exactly
//! this copy already (the same row count and largest id in every table) is
//! reported `already` and nothing is written, so a second run is harmless.

use std::collections::BTreeSet;

use satria_sql::{Dialect, Row, Tx, V};

use super::Salinmas;
use crate::error::SalinmasError;

/// What [`Salinmas::copy_into`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalinmasCopyReport {
    /// Rows written, per table, in the order they were copied (every table,
    /// 0 included; all 0 when `already`).
    pub rows: Vec<(&'static str, u64)>,
    /// Seed rows the target held already, equal to the source's: kept, not
    /// written again.
    pub seed_kept: u64,
    /// The target held exactly this copy already (an earlier run): nothing
    /// was written.
    pub already: bool,
}

impl SalinmasCopyReport {
    /// Rows written into `table`.
    pub fn rows_of(&self, table: &str) -> u64 {
        self.rows
            .iter()
            .find(|(t, _)| *t == table)
            .map_or(0, |(_, n)| *n)
    }
}

/// One line for a person: `1 kelurahan, 3 accounts, …, 12 history (20 seed
/// rows kept)`, or that the target held this copy already.
impl std::fmt::Display for SalinmasCopyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.already {
            return f.write_str("the target held this copy already; nothing written");
        }
        let rows: Vec<String> = self
            .rows
            .iter()
            .map(|(t, n)| format!("{n} {}", t.trim_start_matches("salinmas_")))
            .collect();
        write!(f, "{}", rows.join(", "))?;
        if self.seed_kept > 0 {
            write!(f, " ({} seed rows kept)", self.seed_kept)?;
        }
        Ok(())
    }
}

/// A table as the copy sees it.
struct Table {
    name: &'static str,
    /// The columns copied, its key first.
    cols: &'static str,
    /// The order rows are read and written in (its key).
    order: &'static str,
    /// Its identity column, if it has one.
    id: Option<&'static str>,
    /// For a table a new store is seeded in: the columns compared with the
    /// source's (the key first; every column but the time).
    seed: Option<&'static str>,
}

/// Every table, parents before children (the order the foreign keys need).
const TABLES: [Table; 10] = [
    Table {
        name: "salinmas_kelurahan",
        cols: "name, kecamatan, added_at_ms",
        order: "name",
        id: None,
        seed: Some("name, kecamatan"),
    },
    Table {
        name: "salinmas_accounts",
        cols: "id, kind, name, kelurahan, rt, rw, address, lat, lon, phone, members, created_at_ms",
        order: "id",
        id: Some("id"),
        seed: None,
    },
    Table {
        name: "salinmas_collectors",
        cols: "id, name, phone, created_at_ms",
        order: "id",
        id: Some("id"),
        seed: None,
    },
    Table {
        name: "salinmas_collector_kelurahan",
        cols: "collector_id, kelurahan",
        order: "collector_id, kelurahan",
        id: None,
        seed: None,
    },
    Table {
        name: "salinmas_prices",
        cols: "id, category, price_per_kg_rp, valid_from, set_by, set_at_ms",
        order: "id",
        id: Some("id"),
        seed: Some("id, category, price_per_kg_rp, valid_from, set_by"),
    },
    Table {
        name: "salinmas_pickups",
        cols: "id, account_id, kelurahan, lat, lon, address, categories, estimated_g, \
               window_start_ms, window_end_ms, notes, status, day, requested_day, collector_id, \
               requested_at_ms, accepted_at_ms, collected_at_ms, collected_day, credit_rp, reason, \
               closed_at_ms",
        order: "id",
        id: Some("id"),
        seed: None,
    },
    Table {
        // `rowid`: SQLite's implicit one, an identity column of that name on
        // PostgreSQL; it orders a pickup's weight lines.
        name: "salinmas_pickup_weights",
        cols: "rowid, pickup_id, category, grams, price_per_kg_rp, amount_rp",
        order: "rowid",
        id: Some("rowid"),
        seed: None,
    },
    Table {
        name: "salinmas_ledger",
        cols: "id, account_id, at_ms, day, kind, amount_rp, balance_rp, pickup_id, method, \
               reference, actor",
        order: "id",
        id: Some("id"),
        seed: None,
    },
    Table {
        name: "salinmas_history",
        cols: "id, entity, entity_id, action, actor, role, at_ms, details",
        order: "id",
        id: Some("id"),
        seed: Some("id, entity, entity_id, action, actor, role, details"),
    },
    Table {
        name: "salinmas_meta",
        cols: "key, value",
        order: "key",
        id: None,
        seed: None,
    },
];

/// A table's row count and largest id: what tells a finished copy.
type Stats = (i64, Option<i64>);

fn stats(tx: &mut dyn Tx, t: &Table) -> Result<Stats, SalinmasError> {
    Ok(match t.id {
        Some(id) => {
            let r = tx.query_one(&format!("SELECT COUNT(*), MAX({id}) FROM {}", t.name), &[])?;
            (r.i64(0)?, r.opt_i64(1)?)
        }
        None => (
            tx.query_one(&format!("SELECT COUNT(*) FROM {}", t.name), &[])?
                .i64(0)?,
            None,
        ),
    })
}

fn all_stats(tx: &mut dyn Tx) -> Result<Vec<Stats>, SalinmasError> {
    TABLES.iter().map(|t| stats(tx, t)).collect()
}

/// The seed columns of every row of a seeded table, by key.
fn seed_rows(tx: &mut dyn Tx, t: &Table) -> Result<Vec<Vec<V>>, SalinmasError> {
    let Some(cols) = t.seed else {
        return Ok(Vec::new());
    };
    let rows = tx.query(
        &format!("SELECT {cols} FROM {} ORDER BY {}", t.name, t.order),
        &[],
    )?;
    let n = cols.split(',').count();
    Ok(rows.iter().map(|r| values(r, n)).collect())
}

/// A row's first `n` values.
fn values(r: &Row, n: usize) -> Vec<V> {
    (0..n).map(|i| r.value(i)).collect()
}

/// A key as a message shows it.
fn shown(v: &V) -> String {
    match v {
        V::I(i) => i.to_string(),
        V::T(t) => t.clone(),
        other => format!("{other:?}"),
    }
}

/// What the source holds, read in one transaction.
struct Source {
    rows: Vec<Vec<Row>>,
    seed: Vec<Vec<Vec<V>>>,
    stats: Vec<Stats>,
}

impl Salinmas {
    /// Copies this store into `target` (see the module's doc): every row of
    /// every table with its ids, in one transaction of the target. Refused,
    /// naming what differs and changing nothing, when the target holds other
    /// Salinmas data; `already` when it holds exactly this copy.
    pub fn copy_into(&self, target: &Salinmas) -> Result<SalinmasCopyReport, SalinmasError> {
        self.verify_ledgers()
            .map_err(|e| SalinmasError::Storage(format!("the source's {e}; nothing was copied")))?;
        let source = self.read(|tx| {
            let mut rows = Vec::with_capacity(TABLES.len());
            let mut seed = Vec::with_capacity(TABLES.len());
            for t in &TABLES {
                rows.push(tx.query(
                    &format!("SELECT {} FROM {} ORDER BY {}", t.cols, t.name, t.order),
                    &[],
                )?);
                seed.push(seed_rows(tx, t)?);
            }
            Ok(Source {
                rows,
                seed,
                stats: all_stats(tx)?,
            })
        })?;
        let report = target.write(|tx| {
            if all_stats(tx)? == source.stats {
                return Ok(SalinmasCopyReport {
                    rows: TABLES.iter().map(|t| (t.name, 0)).collect(),
                    seed_kept: 0,
                    already: true,
                });
            }
            // What the target holds: only seed rows equal to the source's.
            let mut kept: Vec<BTreeSet<String>> = Vec::with_capacity(TABLES.len());
            let mut differs = Vec::new();
            for (i, t) in TABLES.iter().enumerate() {
                let mut keys = BTreeSet::new();
                if t.seed.is_some() {
                    for row in seed_rows(tx, t)? {
                        let key = shown(&row[0]);
                        if source.seed[i].contains(&row) {
                            keys.insert(key);
                        } else {
                            differs.push(format!("{} row {key} is not the source's", t.name));
                        }
                    }
                } else {
                    let (n, _) = stats(tx, t)?;
                    if n > 0 {
                        differs.push(format!("{} has {n} rows", t.name));
                    }
                }
                kept.push(keys);
            }
            if !differs.is_empty() {
                let more = differs.len().saturating_sub(5);
                differs.truncate(5);
                if more > 0 {
                    differs.push(format!("{more} more"));
                }
                return Err(SalinmasError::Storage(format!(
                    "the target holds other Salinmas data ({}); nothing was copied",
                    differs.join("; ")
                )));
            }
            let mut report = SalinmasCopyReport {
                rows: Vec::with_capacity(TABLES.len()),
                seed_kept: 0,
                already: false,
            };
            for (i, t) in TABLES.iter().enumerate() {
                let n = t.cols.split(',').count();
                let placeholders: Vec<String> = (1..=n).map(|k| format!("${k}")).collect();
                let insert = format!(
                    "INSERT INTO {} ({}) VALUES ({})",
                    t.name,
                    t.cols,
                    placeholders.join(", ")
                );
                let mut written = 0;
                for row in &source.rows[i] {
                    if kept[i].contains(&shown(&row.value(0))) {
                        continue;
                    }
                    tx.execute(&insert, &values(row, n))?;
                    written += 1;
                }
                report.rows.push((t.name, written));
                report.seed_kept += kept[i].len() as u64;
            }
            let identities: Vec<&str> = TABLES
                .iter()
                .filter(|t| t.id == Some("id"))
                .map(|t| t.name)
                .collect();
            target.db.after_explicit_ids(tx, &identities)?;
            after_explicit_rowids(tx)?;
            Ok(report)
        })?;
        if !report.already {
            target
                .verify_ledgers()
                .map_err(|e| SalinmasError::Storage(format!("after the copy, the target's {e}")))?;
            let copied = target.read(all_stats)?;
            if copied != source.stats {
                return Err(SalinmasError::Storage(format!(
                    "after the copy the target's tables (rows, largest id) are {copied:?}, the source's {:?}",
                    source.stats
                )));
            }
        }
        Ok(report)
    }
}

/// [`satria_sql::Db::after_explicit_ids`] for the weight lines' identity,
/// which is named `rowid` (that helper knows identities named `id` only):
/// on PostgreSQL it continues after the largest copied; SQLite's rowids
/// always do.
fn after_explicit_rowids(tx: &mut dyn Tx) -> Result<(), SalinmasError> {
    if tx.dialect() == Dialect::Postgres {
        tx.query(
            "SELECT setval(pg_get_serial_sequence('salinmas_pickup_weights', 'rowid'),
                           GREATEST((SELECT max(rowid) FROM salinmas_pickup_weights), 1),
                           (SELECT max(rowid) FROM salinmas_pickup_weights) IS NOT NULL)",
            &[],
        )?;
    }
    Ok(())
}
