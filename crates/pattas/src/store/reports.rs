//! Reports over a date range: cases by status and desa with the overdue
//! count, and assistance totals by kind and month.

use std::collections::BTreeMap;

use satria_calendar::Timestamp;
use satria_sql::V;

use super::Pattas;
use super::cases::{C_COLS, case_row};
use crate::PattasError;
use crate::model::*;
use crate::valid::{self, Date};

/// `from`/`to` dates (inclusive, WIB).
fn range(q: &RangeQuery) -> Result<(Option<Date>, Option<Date>), PattasError> {
    let one = |field: &str, v: &Option<String>| -> Result<Option<Date>, PattasError> {
        match v {
            None => Ok(None),
            Some(s) => Date::parse(s.trim()).map(Some).ok_or_else(|| {
                PattasError::invalid(
                    "invalid_date",
                    format!("{field} must be a date YYYY-MM-DD"),
                    format!("{field} harus tanggal YYYY-MM-DD"),
                )
            }),
        }
    };
    let from = one("from", &q.from)?;
    let to = one("to", &q.to)?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(PattasError::invalid(
            "invalid_range",
            "from must not be after to",
            "from tidak boleh setelah to",
        ));
    }
    Ok((from, to))
}

impl Pattas {
    /// Cases reported between `from` and `to` (WIB dates, inclusive): by
    /// status, by desa, and how many are overdue at `now_ms`.
    pub fn case_report(&self, q: &RangeQuery, now_ms: i64) -> Result<CaseReport, PattasError> {
        let (from, to) = range(q)?;
        let lo = from.map_or(i64::MIN, Date::wib_start_ms);
        let hi = to.map_or(i64::MAX, |t| t.wib_start_ms() + valid::DAY_MS);
        let rows = self.db.read(|tx| {
            tx.query(
                &format!(
                    "SELECT {C_COLS} FROM pattas_cases c
                     JOIN pattas_beneficiaries b ON b.id = c.beneficiary_id
                     WHERE c.reported_at_ms >= $1 AND c.reported_at_ms < $2"
                ),
                &[V::from(lo), V::from(hi)],
            )
        })?;
        let cases: Vec<Case> = rows.iter().map(case_row).collect::<Result<_, _>>()?;
        let zero: BTreeMap<String, i64> = STATUSES.iter().map(|s| (s.to_string(), 0)).collect();
        let mut by_status = zero.clone();
        let mut by_desa: BTreeMap<(String, String), DesaCount> = BTreeMap::new();
        let mut overdue_by_step: BTreeMap<String, i64> = [
            ("verify".to_string(), 0),
            ("first_assistance".to_string(), 0),
        ]
        .into();
        let mut overdue = 0;
        for c in &cases {
            *by_status.entry(c.status.clone()).or_default() += 1;
            let row = by_desa
                .entry((c.kecamatan.clone(), c.desa.clone()))
                .or_insert_with(|| DesaCount {
                    desa: c.desa.clone(),
                    kecamatan: c.kecamatan.clone(),
                    total: 0,
                    by_status: zero.clone(),
                });
            row.total += 1;
            *row.by_status.entry(c.status.clone()).or_default() += 1;
            if let Some(o) = c.overdue_at(now_ms) {
                overdue += 1;
                *overdue_by_step.entry(o.step).or_default() += 1;
            }
        }
        Ok(CaseReport {
            from: from.map(|d| d.to_string()),
            to: to.map(|d| d.to_string()),
            total: cases.len() as i64,
            by_status,
            by_desa: by_desa.into_values().collect(),
            overdue,
            overdue_by_step,
            as_of: Timestamp(now_ms),
        })
    }

    /// Assistance dated between `from` and `to` (inclusive): totals by kind
    /// and by month and kind.
    pub fn assistance_report(&self, q: &RangeQuery) -> Result<AssistanceReport, PattasError> {
        let (from, to) = range(q)?;
        let lo = from.map_or_else(|| "0000-00-00".to_string(), |d| d.to_string());
        let hi = to.map_or_else(|| "9999-99-99".to_string(), |d| d.to_string());
        // PostgreSQL's sum of a BIGINT is a NUMERIC: cast back. Ordered here,
        // byte-wise, as SQLite orders text (PostgreSQL's order follows the
        // database's collation).
        let mut rows: Vec<MonthKind> = self
            .db
            .read(|tx| {
                tx.query(
                    "SELECT substr(date, 1, 7), kind, count(*), CAST(sum(amount_rp) AS BIGINT)
                     FROM pattas_assistance WHERE date >= $1 AND date <= $2 GROUP BY 1, 2",
                    &[V::from(lo), V::from(hi)],
                )
            })?
            .iter()
            .map(|r| {
                Ok(MonthKind {
                    month: r.text(0)?,
                    kind: r.text(1)?,
                    count: r.i64(2)?,
                    amount_rp: r.i64(3)?,
                })
            })
            .collect::<Result<_, PattasError>>()?;
        rows.sort_by(|a, b| (&a.month, &a.kind).cmp(&(&b.month, &b.kind)));
        let mut by_kind: BTreeMap<String, Totals> = NEEDS
            .iter()
            .map(|k| (k.to_string(), Totals::default()))
            .collect();
        let mut total = Totals::default();
        for r in &rows {
            let t = by_kind.entry(r.kind.clone()).or_default();
            t.count += r.count;
            t.amount_rp += r.amount_rp;
            total.count += r.count;
            total.amount_rp += r.amount_rp;
        }
        Ok(AssistanceReport {
            from: from.map(|d| d.to_string()),
            to: to.map(|d| d.to_string()),
            total,
            by_kind,
            by_month: rows,
        })
    }
}
