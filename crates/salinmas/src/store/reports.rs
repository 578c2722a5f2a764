//! The weight report: kg by ISO week, kelurahan and category, active
//! accounts and credits earned and paid over a range of days.

use satria_auth::Principal;
use satria_sql::V;

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
        // PostgreSQL's sum of BIGINT is NUMERIC: every sum is cast back.
        let range = [V::from(from), V::from(to)];
        let (rows, active_accounts, totals, kelurahan) = self.read(|tx| {
            let rows = tx.query(
                "SELECT p.collected_day, p.kelurahan, w.category, w.grams
                 FROM salinmas_pickups p JOIN salinmas_pickup_weights w ON w.pickup_id = p.id
                 WHERE p.status = 'collected' AND p.collected_day BETWEEN $1 AND $2",
                &range,
            )?;
            let active_cond =
                "(requested_day BETWEEN $1 AND $2 OR collected_day BETWEEN $1 AND $2)";
            let active_accounts = tx
                .query_one(
                    &format!(
                        "SELECT COUNT(DISTINCT account_id) FROM salinmas_pickups WHERE {active_cond}"
                    ),
                    &range,
                )?
                .i64(0)?;
            let totals = tx.query_one(
                "SELECT CAST(COALESCE(SUM(CASE WHEN kind = 'credit' THEN amount_rp END), 0) AS BIGINT),
                        CAST(COALESCE(-SUM(CASE WHEN kind = 'payout' THEN amount_rp END), 0) AS BIGINT)
                 FROM salinmas_ledger WHERE day BETWEEN $1 AND $2",
                &range,
            )?;
            let kelurahan = tx.query(
                &format!(
                    "SELECT k.name,
                        (SELECT COUNT(DISTINCT account_id) FROM salinmas_pickups
                            WHERE kelurahan = k.name AND {active_cond}),
                        (SELECT COUNT(*) FROM salinmas_pickups WHERE kelurahan = k.name
                            AND status = 'collected' AND collected_day BETWEEN $1 AND $2),
                        (SELECT CAST(COALESCE(SUM(credit_rp), 0) AS BIGINT) FROM salinmas_pickups
                            WHERE kelurahan = k.name AND status = 'collected'
                            AND collected_day BETWEEN $1 AND $2)
                     FROM salinmas_kelurahan k ORDER BY k.name"
                ),
                &range,
            )?;
            Ok::<_, SalinmasError>((rows, active_accounts, totals, kelurahan))
        })?;
        let mut sums: std::collections::BTreeMap<(String, String, usize), i64> = Default::default();
        for r in &rows {
            let (day, kel, cat, g) = (r.i64(0)?, r.text(1)?, r.text(2)?, r.i64(3)?);
            let ci = CATEGORIES
                .iter()
                .position(|c| *c == cat)
                .unwrap_or(CATEGORIES.len());
            *sums.entry((iso_week(day), kel, ci)).or_default() += g;
        }
        let weights: Vec<WeekWeight> = sums
            .into_iter()
            .map(|((week, kelurahan, ci), grams)| WeekWeight {
                week,
                kelurahan,
                category: CATEGORIES.get(ci).copied().unwrap_or("unknown").to_string(),
                grams,
                kg: grams as f64 / 1000.0,
            })
            .collect();
        let (earned, paid) = (totals.i64(0)?, totals.i64(1)?);
        let kelurahan = kelurahan
            .iter()
            .map(|r| {
                Ok(KelurahanActivity {
                    kelurahan: r.text(0)?,
                    active_accounts: r.i64(1)?,
                    collected_pickups: r.i64(2)?,
                    credits_earned_rp: r.i64(3)?,
                })
            })
            .collect::<Result<_, satria_sql::DbError>>()?;
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
