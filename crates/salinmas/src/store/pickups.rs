//! Pickups: a household's (or an officer's) request with its checks, who may
//! see which pickup, the list and one pickup with its history.

use rusqlite::{Connection, OptionalExtension, Row, params};
use satria_auth::Principal;
use serde_json::json;

use super::access::{Actor, actor, not_bound};
use super::accounts::load_account;
use super::collectors::collector_area;
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

pub(super) fn pickup_row(r: &Row) -> rusqlite::Result<Pickup> {
    let categories: String = r.get(6)?;
    let estimated_g: i64 = r.get(7)?;
    let start: i64 = r.get(8)?;
    let end: i64 = r.get(9)?;
    let day: i64 = r.get(12)?;
    let collected_day: Option<i64> = r.get(17)?;
    Ok(Pickup {
        id: r.get(0)?,
        account_id: r.get(1)?,
        kelurahan: r.get(2)?,
        lat: r.get(3)?,
        lon: r.get(4)?,
        address: r.get(5)?,
        categories: serde_json::from_str(&categories).unwrap_or_default(),
        estimated_kg: estimated_g as f64 / 1000.0,
        window_start: Timestamp(start),
        window_end: Timestamp(end),
        notes: r.get(10)?,
        status: r.get(11)?,
        date: format_date(day),
        collector_id: r.get(13)?,
        requested_at: Timestamp(r.get(14)?),
        accepted_at: r.get::<_, Option<i64>>(15)?.map(Timestamp),
        collected_at: r.get::<_, Option<i64>>(16)?.map(Timestamp),
        collected_date: collected_day.map(format_date),
        weights: Vec::new(),
        credit_rp: r.get(18)?,
        reason: r.get(19)?,
        closed_at: r.get::<_, Option<i64>>(20)?.map(Timestamp),
    })
}

pub(super) fn load_pickup(c: &Connection, id: i64) -> Result<Option<Pickup>, SalinmasError> {
    let Some(mut p) = c
        .query_row(
            &format!("SELECT {PICKUP_COLS} FROM salinmas_pickups WHERE id = ?1"),
            [id],
            pickup_row,
        )
        .optional()?
    else {
        return Ok(None);
    };
    p.weights = load_weights(c, id)?;
    Ok(Some(p))
}

fn load_weights(c: &Connection, pickup_id: i64) -> Result<Vec<WeightLine>, SalinmasError> {
    let mut stmt = c.prepare_cached(
        "SELECT category, grams, price_per_kg_rp, amount_rp FROM salinmas_pickup_weights
         WHERE pickup_id = ?1 ORDER BY rowid",
    )?;
    let rows = stmt.query_map([pickup_id], |r| {
        let grams: i64 = r.get(1)?;
        Ok(WeightLine {
            category: r.get(0)?,
            grams,
            kg: grams as f64 / 1000.0,
            price_per_kg_rp: r.get(2)?,
            amount_rp: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
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
            let open: i64 = tx.query_row(
                "SELECT COUNT(*) FROM salinmas_pickups WHERE account_id = ?1 AND status IN ('requested', 'accepted')",
                [account_id],
                |r| r.get(0),
            )?;
            if open >= MAX_OPEN_PICKUPS {
                return Err(SalinmasError::conflict(
                    "too_many_open_pickups",
                    format!("this account has {open} open pickups already; wait for them or cancel some"),
                    format!("akun ini sudah punya {open} penjemputan terbuka; tunggu atau batalkan sebagian"),
                ));
            }
            let cats = serde_json::to_string(&categories).unwrap_or_else(|_| "[]".into());
            tx.execute(
                "INSERT INTO salinmas_pickups
                 (account_id, kelurahan, lat, lon, address, categories, estimated_g, window_start_ms,
                  window_end_ms, notes, status, day, requested_day, requested_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'requested', ?11, ?12, ?13)",
                params![
                    account_id,
                    acc.kelurahan,
                    input.lat,
                    input.lon,
                    address,
                    cats,
                    estimated_g,
                    start,
                    end,
                    notes,
                    wib_day(start),
                    wib_day(now_ms),
                    now_ms
                ],
            )?;
            let id = tx.last_insert_rowid();
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
        c: &Connection,
        a: Actor,
        id: i64,
    ) -> Result<Pickup, SalinmasError> {
        let found = load_pickup(c, id)?;
        match (a, found) {
            (Actor::Officer, Some(p)) => Ok(p),
            (Actor::Officer, None) => Err(SalinmasError::NotFound("pickup", "penjemputan")),
            (Actor::Household(h), Some(p)) if p.account_id == h => Ok(p),
            (Actor::Collector(k), Some(p))
                if p.collector_id == Some(k) || collector_area(c, k)?.contains(&p.kelurahan) =>
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
        let c = self.conn();
        let (household, collector) = match a {
            Actor::Officer => (None, None),
            Actor::Household(h) => (Some(h), None),
            Actor::Collector(k) => {
                collector_area(&c, k)?;
                (None, Some(k))
            }
        };
        let mut stmt = c.prepare_cached(&format!(
            "SELECT {PICKUP_COLS} FROM salinmas_pickups
             WHERE (?1 IS NULL OR status = ?1)
               AND (?2 IS NULL OR kelurahan = ?2 COLLATE NOCASE)
               AND (?3 IS NULL OR day = ?3)
               AND (?4 IS NULL OR account_id = ?4)
               AND (?5 IS NULL OR account_id = ?5)
               AND (?6 IS NULL OR collector_id = ?6
                    OR (status = 'requested' AND kelurahan IN
                        (SELECT kelurahan FROM salinmas_collector_kelurahan WHERE collector_id = ?6)))
             ORDER BY id DESC LIMIT ?7 OFFSET ?8"
        ))?;
        let limit = filter.limit.unwrap_or(LIST_LIMIT).min(LIST_LIMIT);
        let rows = stmt.query_map(
            params![
                filter.status,
                filter.kelurahan,
                filter.day,
                filter.account_id,
                household,
                collector,
                i64::try_from(limit).unwrap_or(i64::MAX),
                i64::try_from(filter.offset).unwrap_or(i64::MAX)
            ],
            pickup_row,
        )?;
        let mut out: Vec<Pickup> = rows.collect::<Result<_, _>>()?;
        for p in &mut out {
            p.weights = load_weights(&c, p.id)?;
        }
        Ok(out)
    }

    /// One pickup with its history.
    pub fn pickup(&self, who: &Principal, id: i64) -> Result<PickupDetail, SalinmasError> {
        let a = self.who(who)?;
        let c = self.conn();
        let pickup = Self::visible_pickup(&c, a, id)?;
        let history = history_of(&c, "pickup", &id.to_string())?;
        Ok(PickupDetail { pickup, history })
    }
}
