//! Copying a store into another (`satria migrate`: a centre's SQLite Pattas
//! into its cluster's PostgreSQL): every table row for row with its ids, so
//! the ids in URLs, history rows and access-log subjects
//! (`pattas_beneficiary:{id}`) keep meaning the same records.

use satria_sql::{End, Row, Tx, V};

use super::Pattas;
use crate::PattasError;

/// What [`Pattas::copy_into`] did: the rows copied per table (all 0 when the
/// target already held this copy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PattasCopyReport {
    pub beneficiaries: u64,
    pub cases: u64,
    pub assistance: u64,
    pub transports: u64,
    pub history: u64,
    /// The target held exactly this copy already (an earlier run): nothing was written.
    pub already: bool,
}

/// A table as it is copied.
struct Table {
    name: &'static str,
    /// Its columns, in the order read and written.
    cols: &'static str,
    /// Whether `id` is an identity column (every table but the transports,
    /// keyed by the desk's id).
    identity: bool,
    /// The columns (by position in `cols`) that hold floats.
    floats: &'static [usize],
}

/// The tables, each after those it references.
const TABLES: [Table; 5] = [
    Table {
        name: "pattas_beneficiaries",
        cols: "id, nik, name, date_of_birth, sex, desa, kecamatan, rt, rw, phone, dtks, bpjs,
               conditions, family_contact, banyumas_resident, registered_by, created_at_ms,
               updated_at_ms",
        identity: true,
        floats: &[],
    },
    Table {
        name: "pattas_cases",
        cols: "id, beneficiary_id, needs, description, reported_via, status, reported_by,
               reported_by_role, reported_at_ms, verify_due_ms, verified_at_ms, verified_by,
               assistance_due_ms, assistance_started_at_ms, closed_at_ms, closed_by,
               closing_summary, rejected_at_ms, rejected_by, rejection_reason, updated_at_ms",
        identity: true,
        floats: &[],
    },
    Table {
        name: "pattas_assistance",
        cols: super::assistance::A_COLS,
        identity: true,
        floats: &[],
    },
    Table {
        name: "pattas_transports",
        cols: super::transports::T_COLS,
        identity: false,
        floats: &[5, 6, 10, 11],
    },
    Table {
        name: "pattas_history",
        cols: "id, entity, entity_id, action, actor, role, at_ms, details",
        identity: true,
        floats: &[],
    },
];

impl Table {
    fn width(&self) -> usize {
        self.cols.split(',').count()
    }

    fn select(&self) -> String {
        let key = if self.identity { "id" } else { "transport_id" };
        format!("SELECT {} FROM {} ORDER BY {key}", self.cols, self.name)
    }

    fn insert(&self) -> String {
        let params: Vec<String> = (1..=self.width()).map(|i| format!("${i}")).collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            self.name,
            self.cols,
            params.join(", ")
        )
    }

    /// A row's values as written: floats as floats (SQLite may hand back a
    /// whole float as an integer; PostgreSQL takes only a float there).
    fn values(&self, r: &Row) -> Result<Vec<V>, PattasError> {
        (0..self.width())
            .map(|i| {
                Ok(if self.floats.contains(&i) {
                    V::F(r.f64(i)?)
                } else {
                    r.value(i)
                })
            })
            .collect()
    }
}

/// How much a table holds: its rows and its largest id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Extent {
    rows: i64,
    max_id: Option<i64>,
}

impl std::fmt::Display for Extent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} rows", self.rows)?;
        if let Some(id) = self.max_id {
            write!(f, " up to id {id}")?;
        }
        Ok(())
    }
}

/// Each table's [`Extent`], in the order of [`TABLES`].
fn extents(tx: &mut dyn Tx) -> Result<Vec<Extent>, PattasError> {
    TABLES
        .iter()
        .map(|t| {
            let r = if t.identity {
                tx.query_one(&format!("SELECT count(*), max(id) FROM {}", t.name), &[])?
            } else {
                tx.query_one(&format!("SELECT count(*) FROM {}", t.name), &[])?
            };
            Ok(Extent {
                rows: r.i64(0)?,
                max_id: if t.identity { r.opt_i64(1)? } else { None },
            })
        })
        .collect()
}

impl Pattas {
    /// Copies this store into `target`, every table row for row with its
    /// ids, in one write transaction of the target. The target must be
    /// empty, or hold exactly this copy already (the same row count and the
    /// same largest id in every table: nothing is written, `already`).
    /// Anything else is refused, naming what differs, and the target is left
    /// unchanged. On PostgreSQL, new ids continue after the copied ones.
    pub fn copy_into(&self, target: &Pattas) -> Result<PattasCopyReport, PattasError> {
        let (rows, source) = self.db.read(|tx| {
            let rows = TABLES
                .iter()
                .map(|t| tx.query(&t.select(), &[]))
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, PattasError>((rows, extents(tx)?))
        })?;
        target.db.write(End::Commit, |tx| {
            let theirs = extents(tx)?;
            if theirs.iter().any(|e| e.rows > 0) {
                if theirs == source {
                    return Ok(PattasCopyReport {
                        beneficiaries: 0,
                        cases: 0,
                        assistance: 0,
                        transports: 0,
                        history: 0,
                        already: true,
                    });
                }
                let differ: Vec<String> = TABLES
                    .iter()
                    .zip(theirs.iter().zip(&source))
                    .filter(|(_, (t, s))| t != s)
                    .map(|(table, (t, s))| format!("{}: {t}, the source {s}", table.name))
                    .collect();
                return Err(PattasError::Storage(format!(
                    "the target holds other Pattas data ({}); nothing was copied",
                    differ.join("; ")
                )));
            }
            for (table, rows) in TABLES.iter().zip(&rows) {
                let insert = table.insert();
                for r in rows {
                    tx.execute(&insert, &table.values(r)?)?;
                }
            }
            let identity: Vec<&str> = TABLES
                .iter()
                .filter(|t| t.identity)
                .map(|t| t.name)
                .collect();
            target.db.after_explicit_ids(tx, &identity)?;
            let n = |i: usize| rows[i].len() as u64;
            Ok(PattasCopyReport {
                beneficiaries: n(0),
                cases: n(1),
                assistance: n(2),
                transports: n(3),
                history: n(4),
                already: false,
            })
        })
    }
}
