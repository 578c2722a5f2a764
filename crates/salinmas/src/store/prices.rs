//! The price list: the price of each category by day, its history, and
//! setting a price from a day on.

use rusqlite::{Connection, OptionalExtension, Row, params};
use satria_auth::Principal;
use serde_json::json;

use super::Salinmas;
use super::access::officer_only;
use super::history::history;
use crate::error::SalinmasError;
use crate::model::*;
use crate::time::{Timestamp, format_date};
use crate::validate as v;

const PRICE_COLS: &str = "id, category, price_per_kg_rp, valid_from, set_by, set_at_ms";

fn price_row(r: &Row) -> rusqlite::Result<Price> {
    let from: i64 = r.get(3)?;
    Ok(Price {
        id: r.get(0)?,
        category: r.get(1)?,
        price_per_kg_rp: r.get(2)?,
        valid_from: format_date(from),
        set_by: r.get(4)?,
        set_at: Timestamp(r.get(5)?),
    })
}

/// The price of `category` valid on `day`: the latest `valid_from ≤ day`
/// (the later-set row wins between two of the same day).
pub(super) fn price_on(
    c: &Connection,
    category: &str,
    day: i64,
) -> Result<Option<i64>, SalinmasError> {
    Ok(c.query_row(
        "SELECT price_per_kg_rp FROM salinmas_prices WHERE category = ?1 AND valid_from <= ?2
         ORDER BY valid_from DESC, id DESC LIMIT 1",
        params![category, day],
        |r| r.get(0),
    )
    .optional()?)
}

impl Salinmas {
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
}
