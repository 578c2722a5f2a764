//! The price list: the price of each category by day, its history, and
//! setting a price from a day on.

use satria_auth::Principal;
use satria_sql::{DbError, Row, Tx, V};
use serde_json::json;

use super::Salinmas;
use super::access::officer_only;
use super::history::history;
use crate::error::SalinmasError;
use crate::model::*;
use crate::time::{Timestamp, format_date};
use crate::validate as v;

const PRICE_COLS: &str = "id, category, price_per_kg_rp, valid_from, set_by, set_at_ms";

fn price_row(r: &Row) -> Result<Price, DbError> {
    Ok(Price {
        id: r.i64(0)?,
        category: r.text(1)?,
        price_per_kg_rp: r.i64(2)?,
        valid_from: format_date(r.i64(3)?),
        set_by: r.text(4)?,
        set_at: Timestamp(r.i64(5)?),
    })
}

/// The price of `category` valid on `day`: the latest `valid_from ≤ day`
/// (the later-set row wins between two of the same day).
pub(super) fn price_on(
    tx: &mut dyn Tx,
    category: &str,
    day: i64,
) -> Result<Option<i64>, SalinmasError> {
    Ok(tx
        .query_opt(
            "SELECT price_per_kg_rp FROM salinmas_prices WHERE category = $1 AND valid_from <= $2
             ORDER BY valid_from DESC, id DESC LIMIT 1",
            &[V::from(category), V::from(day)],
        )?
        .map(|r| r.i64(0))
        .transpose()?)
}

impl Salinmas {
    /// The prices valid on `day` and every price ever set. Any Salinmas role.
    pub fn prices(&self, who: &Principal, day: i64) -> Result<PriceList, SalinmasError> {
        self.who(who)?;
        self.read(|tx| {
            let mut current = Vec::new();
            for cat in CATEGORIES {
                let p = tx.query_opt(
                    &format!(
                        "SELECT {PRICE_COLS} FROM salinmas_prices WHERE category = $1 AND valid_from <= $2
                         ORDER BY valid_from DESC, id DESC LIMIT 1"
                    ),
                    &[V::from(cat), V::from(day)],
                )?;
                current.extend(p.map(|r| price_row(&r)).transpose()?);
            }
            let history = tx
                .query(
                    &format!(
                        "SELECT {PRICE_COLS} FROM salinmas_prices ORDER BY category, valid_from, id"
                    ),
                    &[],
                )?
                .iter()
                .map(price_row)
                .collect::<Result<_, _>>()?;
            Ok(PriceList {
                date: format_date(day),
                current,
                history,
            })
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
            let id = tx
                .query_one(
                    "INSERT INTO salinmas_prices (category, price_per_kg_rp, valid_from, set_by, set_at_ms)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    &[
                        V::from(category),
                        V::from(input.price_per_kg_rp),
                        V::from(from),
                        V::from(&who.username),
                        V::from(now_ms),
                    ],
                )?
                .i64(0)?;
            history(
                tx,
                "price",
                id,
                "set",
                who,
                now_ms,
                json!({"category": category, "price_per_kg_rp": input.price_per_kg_rp, "valid_from": format_date(from)}),
            )?;
            Ok(price_row(&tx.query_one(
                &format!("SELECT {PRICE_COLS} FROM salinmas_prices WHERE id = $1"),
                &[V::from(id)],
            )?)?)
        })
    }
}
