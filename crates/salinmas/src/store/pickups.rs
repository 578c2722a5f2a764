//! Pickups: a household's (or an officer's) request with its checks, who may
//! see which pickup, the list and one pickup with its history.

use satria_auth::Principal;
use satria_sql::{DbError, Row, Tx, V};
use serde_json::json;

use super::access::{Actor, actor, not_bound};
use super::accounts::load_account;
use super::areas::nocase;
use super::collectors::{collector_area, list_scope};
use super::history::{history, history_of};
use super::{DAY_MS, LIST_LIMIT, MAX_OPEN_PICKUPS, Salinmas};
use crate::error::SalinmasError;
use crate::model::*;
use crate::time::{Timestamp, format_date, wib_day};
use crate::validate as v;

pub(super) const PICKUP_COLS: &str =
    "id, account_id, kelurahan, lat, lon, address, categories, estimated_g,
    window_start_ms, window_end_ms, notes, status, day, collector_id, requested_at_ms,
    accepted_at_ms, collected_at_ms, collected_day, credit_rp, reason, closed_at_ms";

pub(super) fn pickup_row(r: &Row) -> Result<Pickup, DbError> {
    let categories = r.text(6)?;
    let estimated_g = r.i64(7)?;
    Ok(Pickup {
        id: r.i64(0)?,
        account_id: r.i64(1)?,
        kelurahan: r.text(2)?,
        lat: r.f64(3)?,
        lon: r.f64(4)?,
        address: r.text(5)?,
        categories: serde_json::from_str(&categories).unwrap_or_default(),
        estimated_kg: estimated_g as f64 / 1000.0,
        window_start: Timestamp(r.i64(8)?),
        window_end: Timestamp(r.i64(9)?),
        notes: r.opt_text(10)?,
        status: r.text(11)?,
        date: format_date(r.i64(12)?),
        collector_id: r.opt_i64(13)?,
        requested_at: Timestamp(r.i64(14)?),
        accepted_at: r.opt_i64(15)?.map(Timestamp),
        collected_at: r.opt_i64(16)?.map(Timestamp),
        collected_date: r.opt_i64(17)?.map(format_date),
        weights: Vec::new(),
        credit_rp: r.opt_i64(18)?,
        reason: r.opt_text(19)?,
        closed_at: r.opt_i64(20)?.map(Timestamp),
    })
}

pub(super) fn load_pickup(tx: &mut dyn Tx, id: i64) -> Result<Option<Pickup>, SalinmasError> {
    let Some(r) = tx.query_opt(
        &format!("SELECT {PICKUP_COLS} FROM salinmas_pickups WHERE id = $1"),
        &[V::from(id)],
    )?
    else {
        return Ok(None);
    };
    let mut p = pickup_row(&r)?;
    p.weights = load_weights(tx, id)?;
    Ok(Some(p))
}

/// A pickup's weight lines in the order they were weighed (`rowid`: SQLite's
/// implicit one, an identity column of that name on PostgreSQL).
fn load_weights(tx: &mut dyn Tx, pickup_id: i64) -> Result<Vec<WeightLine>, SalinmasError> {
    let rows = tx.query(
        "SELECT category, grams, price_per_kg_rp, amount_rp FROM salinmas_pickup_weights
         WHERE pickup_id = $1 ORDER BY rowid",
        &[V::from(pickup_id)],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let grams = r.i64(1)?;
        out.push(WeightLine {
            category: r.text(0)?,
            grams,
            kg: grams as f64 / 1000.0,
            price_per_kg_rp: r.i64(2)?,
            amount_rp: r.i64(3)?,
        });
    }
    Ok(out)
}

impl Salinmas {
    /// Requests a pickup: a household for itself, an officer for any account.
    pub fn request_pickup(
        &self,
        who: &Principal,
        input: NewPickup,
        now_ms: i64,
    ) -> Result<Pickup, SalinmasError> {
        let account_id = match (self.who(who)?, input.account_id) {
            (Actor::Household(h), None) => h,
            (Actor::Household(h), Some(a)) if a == h => h,
            (Actor::Officer, Some(a)) => a,
            (Actor::Officer, None) => {
                return Err(SalinmasError::invalid(
                    "missing_field",
                    "account_id is required when an officer requests a pickup",
                    "account_id wajib diisi bila petugas meminta penjemputan",
                ));
            }
            _ => return Err(SalinmasError::forbidden()),
        };
        v::position(input.lat, input.lon)?;
        let address = v::text("address", &input.address, 200)?;
        if input.categories.is_empty() || input.categories.len() > CATEGORIES.len() {
            return Err(SalinmasError::invalid(
                "invalid_categories",
                "categories must list 1 to 7 waste categories",
                "categories harus berisi 1 sampai 7 kategori sampah",
            ));
        }
        let mut categories: Vec<&str> = Vec::new();
        for c in &input.categories {
            let c = v::category(c)?;
            if categories.contains(&c) {
                return Err(SalinmasError::invalid(
                    "duplicate_category",
                    format!("category {c} is listed twice"),
                    format!("kategori {c} tercantum dua kali"),
                ));
            }
            categories.push(c);
        }
        let estimated_g = v::grams("estimated_kg", input.estimated_kg)?;
        let start = v::window_time("window_start", &input.window_start)?.ms();
        let end = v::window_time("window_end", &input.window_end)?.ms();
        if end <= start || end - start > 7 * DAY_MS {
            return Err(SalinmasError::invalid(
                "invalid_window",
                "window_end must be after window_start, at most 7 days later",
                "window_end harus setelah window_start, paling lama 7 hari kemudian",
            ));
        }
        if end <= now_ms || start > now_ms + 60 * DAY_MS {
            return Err(SalinmasError::invalid(
                "invalid_window",
                "the window must end in the future and start within 60 days",
                "jendela waktu harus berakhir di masa depan dan dimulai dalam 60 hari",
            ));
        }
        let notes = v::opt_text("notes", input.notes.as_deref(), 500)?;
        self.write(|tx| {
            let Some(acc) = load_account(tx, account_id)? else {
                return Err(match actor(who)? {
                    Actor::Officer => SalinmasError::invalid(
                        "unknown_account",
                        format!("there is no account {account_id}"),
                        format!("akun {account_id} tidak ada"),
                    ),
                    _ => not_bound("household account", "rumah tangga"),
                });
            };
            let open = tx
                .query_one(
                    "SELECT COUNT(*) FROM salinmas_pickups
                     WHERE account_id = $1 AND status IN ('requested', 'accepted')",
                    &[V::from(account_id)],
                )?
                .i64(0)?;
            if open >= MAX_OPEN_PICKUPS {
                return Err(SalinmasError::conflict(
                    "too_many_open_pickups",
                    format!("this account has {open} open pickups already; wait for them or cancel some"),
                    format!("akun ini sudah punya {open} penjemputan terbuka; tunggu atau batalkan sebagian"),
                ));
            }
            let cats = serde_json::to_string(&categories).unwrap_or_else(|_| "[]".into());
            let id = tx
                .query_one(
                    "INSERT INTO salinmas_pickups
                     (account_id, kelurahan, lat, lon, address, categories, estimated_g, window_start_ms,
                      window_end_ms, notes, status, day, requested_day, requested_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'requested', $11, $12, $13)
                     RETURNING id",
                    &[
                        V::from(account_id),
                        V::from(&acc.kelurahan),
                        V::from(input.lat),
                        V::from(input.lon),
                        V::from(&address),
                        V::from(cats),
                        V::from(estimated_g),
                        V::from(start),
                        V::from(end),
                        V::from(&notes),
                        V::from(wib_day(start)),
                        V::from(wib_day(now_ms)),
                        V::from(now_ms),
                    ],
                )?
                .i64(0)?;
            history(
                tx,
                "pickup",
                id,
                "request",
                who,
                now_ms,
                json!({"account_id": account_id, "categories": categories, "estimated_g": estimated_g}),
            )?;
            load_pickup(tx, id)?.ok_or(SalinmasError::NotFound("pickup", "penjemputan"))
        })
    }

    /// The pickup if `a` may see it: an officer any (404 when missing), a
    /// household its own, a collector those of its kelurahan or accepted by
    /// it; otherwise (and when missing, for non-officers) 403.
    pub(super) fn visible_pickup(
        tx: &mut dyn Tx,
        a: Actor,
        id: i64,
    ) -> Result<Pickup, SalinmasError> {
        let found = load_pickup(tx, id)?;
        match (a, found) {
            (Actor::Officer, Some(p)) => Ok(p),
            (Actor::Officer, None) => Err(SalinmasError::NotFound("pickup", "penjemputan")),
            (Actor::Household(h), Some(p)) if p.account_id == h => Ok(p),
            (Actor::Collector(k), Some(p))
                if p.collector_id == Some(k) || collector_area(tx, k)?.contains(&p.kelurahan) =>
            {
                Ok(p)
            }
            _ => Err(SalinmasError::forbidden()),
        }
    }

    /// Pickups the caller may list, newest first: an officer all, a household
    /// its own, a collector the open ones of its kelurahan and those it
    /// accepted.
    pub fn pickups(
        &self,
        who: &Principal,
        filter: &PickupFilter,
    ) -> Result<Vec<Pickup>, SalinmasError> {
        let a = self.who(who)?;
        if let Some(s) = &filter.status
            && !STATUSES.contains(&s.as_str())
        {
            return Err(SalinmasError::invalid(
                "invalid_status",
                format!("status must be one of {}", STATUSES.join(", ")),
                format!("status harus salah satu dari {}", STATUSES.join(", ")),
            ));
        }
        self.read(|tx| {
            let (household, collector) = list_scope(tx, a)?;
            let limit = filter.limit.unwrap_or(LIST_LIMIT).min(LIST_LIMIT);
            // An optional filter is `CAST($n AS type) IS NULL OR ...`: PostgreSQL
            // cannot type a parameter it meets first in `IS NULL`.
            let rows = tx.query(
                &format!(
                    "SELECT {PICKUP_COLS} FROM salinmas_pickups
                     WHERE (CAST($1 AS TEXT) IS NULL OR status = $1)
                       AND (CAST($2 AS TEXT) IS NULL OR lower(kelurahan) = $2)
                       AND (CAST($3 AS BIGINT) IS NULL OR day = $3)
                       AND (CAST($4 AS BIGINT) IS NULL OR account_id = $4)
                       AND (CAST($5 AS BIGINT) IS NULL OR account_id = $5)
                       AND (CAST($6 AS BIGINT) IS NULL OR collector_id = $6
                            OR (status = 'requested' AND kelurahan IN
                                (SELECT kelurahan FROM salinmas_collector_kelurahan WHERE collector_id = $6)))
                     ORDER BY id DESC LIMIT $7 OFFSET $8"
                ),
                &[
                    V::from(&filter.status),
                    V::from(filter.kelurahan.as_deref().map(nocase)),
                    V::from(filter.day),
                    V::from(filter.account_id),
                    V::from(household),
                    V::from(collector),
                    V::from(i64::try_from(limit).unwrap_or(i64::MAX)),
                    V::from(i64::try_from(filter.offset).unwrap_or(i64::MAX)),
                ],
            )?;
            let mut out: Vec<Pickup> = rows.iter().map(pickup_row).collect::<Result<_, _>>()?;
            for p in &mut out {
                p.weights = load_weights(tx, p.id)?;
            }
            Ok(out)
        })
    }

    /// One pickup with its history.
    pub fn pickup(&self, who: &Principal, id: i64) -> Result<PickupDetail, SalinmasError> {
        let a = self.who(who)?;
        self.read(|tx| {
            let pickup = Self::visible_pickup(tx, a, id)?;
            let history = history_of(tx, "pickup", &id.to_string())?;
            Ok(PickupDetail { pickup, history })
        })
    }
}
