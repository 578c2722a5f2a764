//! The weight report: kg by ISO week, kelurahan and category, active
//! accounts and credits earned and paid over a range of days.

use rusqlite::params;
use satria_auth::Principal;

use super::access::officer_only;
use super::{MAX_REPORT_DAYS, Salinmas};
use crate::error::SalinmasError;
use crate::model::*;
use crate::time::{format_date, iso_week};

impl Salinmas {
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
}
