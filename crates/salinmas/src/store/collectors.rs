//! Collector groups (KSM) and the kelurahan each serves: registering them,
//! who may see which, and the service area the other rules check.

use rusqlite::{Connection, OptionalExtension, params};
use satria_auth::Principal;
use serde_json::json;

use super::Salinmas;
use super::access::{Actor, not_bound, officer_only};
use super::accounts::load_account;
use super::history::history;
use crate::error::SalinmasError;
use crate::model::*;
use crate::time::Timestamp;
use crate::validate as v;

pub(super) fn load_collector(c: &Connection, id: i64) -> Result<Option<Collector>, SalinmasError> {
    let Some((name, phone, created_at_ms)): Option<(String, String, i64)> = c
        .query_row(
            "SELECT name, phone, created_at_ms FROM salinmas_collectors WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
    else {
        return Ok(None);
    };
    Ok(Some(Collector {
        id,
        name,
        phone,
        kelurahan: served(c, id)?,
        created_at: Timestamp(created_at_ms),
    }))
}

/// The kelurahan a collector group serves.
fn served(c: &Connection, collector_id: i64) -> Result<Vec<String>, SalinmasError> {
    let mut stmt = c.prepare_cached(
        "SELECT kelurahan FROM salinmas_collector_kelurahan WHERE collector_id = ?1 ORDER BY kelurahan",
    )?;
    let rows = stmt.query_map([collector_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The collector's service kelurahan; refuses a login bound to no group.
pub(super) fn collector_area(
    c: &Connection,
    collector_id: i64,
) -> Result<Vec<String>, SalinmasError> {
    let exists: bool = c.query_row(
        "SELECT EXISTS (SELECT 1 FROM salinmas_collectors WHERE id = ?1)",
        [collector_id],
        |r| r.get(0),
    )?;
    if !exists {
        return Err(not_bound("collector group", "kelompok pengumpul"));
    }
    served(c, collector_id)
}

impl Salinmas {
    /// Registers a collector group (KSM) with its service kelurahan (officer).
    pub fn create_collector(
        &self,
        who: &Principal,
        input: NewCollector,
        now_ms: i64,
    ) -> Result<Collector, SalinmasError> {
        officer_only(who)?;
        let name = v::text("name", &input.name, 100)?;
        let phone = v::phone(&input.phone)?;
        if input.kelurahan.is_empty() || input.kelurahan.len() > 50 {
            return Err(SalinmasError::invalid(
                "invalid_kelurahan",
                "kelurahan must list 1 to 50 served kelurahan",
                "kelurahan harus berisi 1 sampai 50 kelurahan yang dilayani",
            ));
        }
        self.write(|tx| {
            let mut area = Vec::new();
            for k in &input.kelurahan {
                let k = Self::served_kelurahan(tx, k)?;
                if area.contains(&k) {
                    return Err(SalinmasError::invalid(
                        "repeated_kelurahan",
                        format!("kelurahan {k} is listed twice"),
                        format!("kelurahan {k} tercantum dua kali"),
                    ));
                }
                area.push(k);
            }
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM salinmas_collectors WHERE name = ?1)",
                [&name],
                |r| r.get(0),
            )?;
            if taken {
                return Err(SalinmasError::conflict(
                    "duplicate_collector",
                    format!("a collector group named {name} exists already"),
                    format!("kelompok pengumpul bernama {name} sudah ada"),
                ));
            }
            tx.execute(
                "INSERT INTO salinmas_collectors (name, phone, created_at_ms) VALUES (?1, ?2, ?3)",
                params![name, phone, now_ms],
            )?;
            let id = tx.last_insert_rowid();
            for k in &area {
                tx.execute(
                    "INSERT INTO salinmas_collector_kelurahan (collector_id, kelurahan) VALUES (?1, ?2)",
                    params![id, k],
                )?;
            }
            history(tx, "collector", id, "create", who, now_ms, json!({"name": name, "kelurahan": area}))?;
            load_collector(tx, id)?.ok_or(SalinmasError::NotFound("collector group", "kelompok pengumpul"))
        })
    }

    /// Collector groups: an officer all, a collector itself, a household those
    /// serving its kelurahan.
    pub fn collectors(&self, who: &Principal) -> Result<Vec<Collector>, SalinmasError> {
        let a = self.who(who)?;
        let c = self.conn();
        let ids: Vec<i64> = match a {
            Actor::Officer => {
                let mut stmt =
                    c.prepare_cached("SELECT id FROM salinmas_collectors ORDER BY id")?;
                stmt.query_map([], |r| r.get(0))?
                    .collect::<Result<_, _>>()?
            }
            Actor::Collector(k) => {
                collector_area(&c, k)?;
                vec![k]
            }
            Actor::Household(h) => {
                let Some(acc) = load_account(&c, h)? else {
                    return Err(not_bound("household account", "rumah tangga"));
                };
                let mut stmt = c.prepare_cached(
                    "SELECT collector_id FROM salinmas_collector_kelurahan WHERE kelurahan = ?1 ORDER BY collector_id",
                )?;
                stmt.query_map([acc.kelurahan], |r| r.get(0))?
                    .collect::<Result<_, _>>()?
            }
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(load_collector(&c, id)?);
        }
        Ok(out)
    }

    /// One collector group, if the caller may see it (as in [`Self::collectors`]).
    pub fn collector(&self, who: &Principal, id: i64) -> Result<Collector, SalinmasError> {
        let visible = self.collectors(who)?;
        match (self.who(who)?, visible.into_iter().find(|k| k.id == id)) {
            (_, Some(k)) => Ok(k),
            (Actor::Officer, None) => Err(SalinmasError::NotFound(
                "collector group",
                "kelompok pengumpul",
            )),
            _ => Err(SalinmasError::forbidden()),
        }
    }
}
