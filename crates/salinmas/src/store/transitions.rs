//! A pickup's state changes after its request: accept (by a collector group
//! serving its kelurahan), collect (weights, and the household's credit at
//! the day's prices), cancel and reject, each with its allowed transitions.

use satria_auth::Principal;
use satria_sql::V;
use serde_json::json;

use super::Salinmas;
use super::access::Actor;
use super::collectors::{collector_area, load_collector};
use super::history::history;
use super::ledger::balance;
use super::pickups::load_pickup;
use super::prices::price_on;
use crate::error::SalinmasError;
use crate::model::*;
use crate::time::{format_date, wib_day};
use crate::validate as v;

fn transition(status: &str, action: &str) -> SalinmasError {
    SalinmasError::conflict(
        "invalid_transition",
        format!("a pickup that is {status} cannot be {action}"),
        format!(
            "penjemputan berstatus {} tidak dapat {}",
            status_id(status),
            action_id(action)
        ),
    )
}

fn status_id(s: &str) -> &str {
    match s {
        "requested" => "diminta",
        "accepted" => "diterima",
        "collected" => "terkumpul",
        "cancelled" => "dibatalkan",
        "rejected" => "ditolak",
        other => other,
    }
}

fn action_id(a: &str) -> &str {
    match a {
        "accepted" => "diterima",
        "collected" => "dikumpulkan",
        "cancelled" => "dibatalkan",
        "rejected" => "ditolak",
        other => other,
    }
}

impl Salinmas {
    /// Accepts a requested pickup for a collector group serving its kelurahan.
    pub fn accept_pickup(
        &self,
        who: &Principal,
        id: i64,
        input: AcceptPickup,
        now_ms: i64,
    ) -> Result<Pickup, SalinmasError> {
        let a = self.who(who)?;
        let scheduled = input
            .scheduled_date
            .as_deref()
            .map(|d| v::date("scheduled_date", d))
            .transpose()?;
        if let Some(d) = scheduled {
            let today = wib_day(now_ms);
            if d < today || d > today + 60 {
                return Err(SalinmasError::invalid(
                    "invalid_date",
                    "scheduled_date must be from today to 60 days ahead",
                    "scheduled_date harus dari hari ini sampai 60 hari ke depan",
                ));
            }
        }
        self.write(|tx| {
            let collector_id = match (a, input.collector_id) {
                (Actor::Collector(k), None) => k,
                (Actor::Collector(k), Some(x)) if x == k => k,
                (Actor::Officer, Some(x)) => {
                    if load_collector(tx, x)?.is_none() {
                        return Err(SalinmasError::invalid(
                            "unknown_collector",
                            format!("there is no collector group {x}"),
                            format!("kelompok pengumpul {x} tidak ada"),
                        ));
                    }
                    x
                }
                (Actor::Officer, None) => {
                    return Err(SalinmasError::invalid(
                        "missing_field",
                        "collector_id is required when an officer accepts on a group's behalf",
                        "collector_id wajib diisi bila petugas menerima atas nama kelompok",
                    ));
                }
                _ => return Err(SalinmasError::forbidden()),
            };
            // A collector outside the kelurahan learns why it may not accept
            // (the pickup's kelurahan), nothing more.
            let p = match a {
                Actor::Collector(_) => {
                    load_pickup(tx, id)?.ok_or_else(SalinmasError::forbidden)?
                }
                _ => Self::visible_pickup(tx, a, id)?,
            };
            if !collector_area(tx, collector_id)?.contains(&p.kelurahan) {
                let e = SalinmasError::kelurahan_not_served(&p.kelurahan);
                return Err(match (a, e) {
                    (Actor::Officer, SalinmasError::Forbidden { code, message, message_id }) => {
                        SalinmasError::Conflict { code, message, message_id }
                    }
                    (_, e) => e,
                });
            }
            if p.status != "requested" {
                return Err(transition(&p.status, "accepted"));
            }
            let day = scheduled.unwrap_or_else(|| crate::time::parse_date(&p.date).unwrap_or(wib_day(now_ms)));
            tx.execute(
                "UPDATE salinmas_pickups SET status = 'accepted', collector_id = $2, day = $3, accepted_at_ms = $4
                 WHERE id = $1 AND status = 'requested'",
                &[V::from(id), V::from(collector_id), V::from(day), V::from(now_ms)],
            )?;
            history(
                tx,
                "pickup",
                id,
                "accept",
                who,
                now_ms,
                json!({"collector_id": collector_id, "date": format_date(day)}),
            )?;
            load_pickup(tx, id)?.ok_or(SalinmasError::NotFound("pickup", "penjemputan"))
        })
    }

    /// Records the weighed kg of an accepted pickup and credits the household
    /// at the prices valid on the (WIB) day of collection, in one transaction.
    pub fn collect_pickup(
        &self,
        who: &Principal,
        id: i64,
        input: CollectPickup,
        now_ms: i64,
    ) -> Result<Pickup, SalinmasError> {
        let a = self.who(who)?;
        if input.weights.is_empty() || input.weights.len() > CATEGORIES.len() {
            return Err(SalinmasError::invalid(
                "invalid_weights",
                "weights must list 1 to 7 categories with their kg",
                "weights harus berisi 1 sampai 7 kategori beserta kg-nya",
            ));
        }
        let mut lines: Vec<(&'static str, i64)> = Vec::new();
        for (i, w) in input.weights.iter().enumerate() {
            let c = v::category(&w.category)?;
            if lines.iter().any(|(x, _)| *x == c) {
                return Err(SalinmasError::invalid(
                    "duplicate_category",
                    format!("category {c} is weighed twice"),
                    format!("kategori {c} ditimbang dua kali"),
                ));
            }
            let g = match (w.kg, w.grams) {
                (Some(kg), None) => v::grams(&format!("weights[{i}].kg"), kg)?,
                (None, Some(g)) if (1..=(v::MAX_KG as i64) * 1000).contains(&g) => g,
                (None, Some(_)) => {
                    return Err(v::grams(&format!("weights[{i}].grams"), 0.0).unwrap_err());
                }
                _ => {
                    return Err(SalinmasError::invalid(
                        "invalid_weight",
                        format!("weights[{i}] needs kg or grams (one of them)"),
                        format!("weights[{i}] perlu kg atau grams (salah satu)"),
                    ));
                }
            };
            lines.push((c, g));
        }
        let day = wib_day(now_ms);
        self.write(|tx| {
            let p = Self::visible_pickup(tx, a, id)?;
            if let Actor::Collector(k) = a
                && p.collector_id != Some(k)
                && p.status == "accepted"
            {
                return Err(SalinmasError::Forbidden {
                    code: "not_your_pickup",
                    message: "another collector group accepted this pickup".into(),
                    message_id: "kelompok pengumpul lain yang menerima penjemputan ini".into(),
                });
            }
            if matches!(a, Actor::Household(_)) {
                return Err(SalinmasError::forbidden());
            }
            if p.status != "accepted" {
                return Err(transition(&p.status, "collected"));
            }
            let mut total = 0i64;
            let mut detail = Vec::new();
            for (cat, g) in &lines {
                let Some(price) = price_on(tx, cat, day)? else {
                    return Err(SalinmasError::conflict(
                        "no_price",
                        format!("no price for {cat} is valid on {}", format_date(day)),
                        format!("belum ada harga {cat} yang berlaku pada {}", format_date(day)),
                    ));
                };
                let amount = v::amount_rp(price, *g);
                total += amount;
                tx.execute(
                    "INSERT INTO salinmas_pickup_weights (pickup_id, category, grams, price_per_kg_rp, amount_rp)
                     VALUES ($1, $2, $3, $4, $5)",
                    &[V::from(id), V::from(*cat), V::from(*g), V::from(price), V::from(amount)],
                )?;
                detail.push(json!({"category": cat, "grams": g, "price_per_kg_rp": price, "amount_rp": amount}));
            }
            tx.execute(
                "UPDATE salinmas_pickups SET status = 'collected', collected_at_ms = $2, collected_day = $3,
                 credit_rp = $4 WHERE id = $1 AND status = 'accepted'",
                &[V::from(id), V::from(now_ms), V::from(day), V::from(total)],
            )?;
            let bal = balance(tx, p.account_id)? + total;
            let entry = tx
                .query_one(
                    "INSERT INTO salinmas_ledger (account_id, at_ms, day, kind, amount_rp, balance_rp, pickup_id, actor)
                     VALUES ($1, $2, $3, 'credit', $4, $5, $6, $7) RETURNING id",
                    &[
                        V::from(p.account_id),
                        V::from(now_ms),
                        V::from(day),
                        V::from(total),
                        V::from(bal),
                        V::from(id),
                        V::from(&who.username),
                    ],
                )?
                .i64(0)?;
            history(
                tx,
                "pickup",
                id,
                "collect",
                who,
                now_ms,
                json!({"date": format_date(day), "lines": detail, "credit_rp": total}),
            )?;
            history(
                tx,
                "ledger",
                entry,
                "credit",
                who,
                now_ms,
                json!({"account_id": p.account_id, "pickup_id": id, "amount_rp": total, "balance_rp": bal}),
            )?;
            load_pickup(tx, id)?.ok_or(SalinmasError::NotFound("pickup", "penjemputan"))
        })
    }

    /// Cancels a pickup before collection (its household or an officer).
    pub fn cancel_pickup(
        &self,
        who: &Principal,
        id: i64,
        input: Reason,
        now_ms: i64,
    ) -> Result<Pickup, SalinmasError> {
        let a = self.who(who)?;
        if matches!(a, Actor::Collector(_)) {
            return Err(SalinmasError::forbidden());
        }
        self.close(who, a, id, input, now_ms, "cancelled", "cancel")
    }

    /// Rejects a pickup before collection (a collector group that may take
    /// it or took it, or an officer).
    pub fn reject_pickup(
        &self,
        who: &Principal,
        id: i64,
        input: Reason,
        now_ms: i64,
    ) -> Result<Pickup, SalinmasError> {
        let a = self.who(who)?;
        if matches!(a, Actor::Household(_)) {
            return Err(SalinmasError::forbidden());
        }
        self.close(who, a, id, input, now_ms, "rejected", "reject")
    }

    #[allow(clippy::too_many_arguments)]
    fn close(
        &self,
        who: &Principal,
        a: Actor,
        id: i64,
        input: Reason,
        now_ms: i64,
        status: &str,
        action: &str,
    ) -> Result<Pickup, SalinmasError> {
        let reason = v::text("reason", &input.reason, 500)?;
        self.write(|tx| {
            let p = Self::visible_pickup(tx, a, id)?;
            if let Actor::Collector(k) = a
                && p.collector_id.is_some_and(|c| c != k)
            {
                return Err(SalinmasError::Forbidden {
                    code: "not_your_pickup",
                    message: "another collector group accepted this pickup".into(),
                    message_id: "kelompok pengumpul lain yang menerima penjemputan ini".into(),
                });
            }
            if p.status != "requested" && p.status != "accepted" {
                return Err(transition(&p.status, status));
            }
            tx.execute(
                "UPDATE salinmas_pickups SET status = $2, reason = $3, closed_at_ms = $4
                 WHERE id = $1 AND status IN ('requested', 'accepted')",
                &[
                    V::from(id),
                    V::from(status),
                    V::from(&reason),
                    V::from(now_ms),
                ],
            )?;
            history(
                tx,
                "pickup",
                id,
                action,
                who,
                now_ms,
                json!({"reason": reason, "from": p.status}),
            )?;
            load_pickup(tx, id)?.ok_or(SalinmasError::NotFound("pickup", "penjemputan"))
        })
    }
}
