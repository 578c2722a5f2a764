//! Collector groups (KSM) and the kelurahan each serves: registering them,
//! who may see which, and the service area the other rules check.

use satria_auth::Principal;
use satria_sql::{Tx, V};
use serde_json::json;

use super::Salinmas;
use super::access::{Actor, not_bound, officer_only};
use super::accounts::load_account;
use super::areas::nocase;
use super::history::history;
use crate::error::SalinmasError;
use crate::model::*;
use crate::time::Timestamp;
use crate::validate as v;

pub(super) fn load_collector(tx: &mut dyn Tx, id: i64) -> Result<Option<Collector>, SalinmasError> {
    let Some(r) = tx.query_opt(
        "SELECT name, phone, created_at_ms FROM salinmas_collectors WHERE id = $1",
        &[V::from(id)],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(Collector {
        id,
        name: r.text(0)?,
        phone: r.text(1)?,
        kelurahan: served(tx, id)?,
        created_at: Timestamp(r.i64(2)?),
    }))
}

/// The kelurahan a collector group serves.
fn served(tx: &mut dyn Tx, collector_id: i64) -> Result<Vec<String>, SalinmasError> {
    let rows = tx.query(
        "SELECT kelurahan FROM salinmas_collector_kelurahan WHERE collector_id = $1 ORDER BY kelurahan",
        &[V::from(collector_id)],
    )?;
    Ok(rows.iter().map(|r| r.text(0)).collect::<Result<_, _>>()?)
}

/// Whose records a list shows: (the household, the collector group) an actor
/// is bound to, neither for an officer; refuses a collector login bound to no
/// group.
pub(super) fn list_scope(
    tx: &mut dyn Tx,
    a: super::access::Actor,
) -> Result<(Option<i64>, Option<i64>), SalinmasError> {
    use super::access::Actor;
    Ok(match a {
        Actor::Officer => (None, None),
        Actor::Household(h) => (Some(h), None),
        Actor::Collector(k) => {
            collector_area(tx, k)?;
            (None, Some(k))
        }
    })
}

/// The collector's service kelurahan; refuses a login bound to no group.
pub(super) fn collector_area(
    tx: &mut dyn Tx,
    collector_id: i64,
) -> Result<Vec<String>, SalinmasError> {
    let exists = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM salinmas_collectors WHERE id = $1)",
            &[V::from(collector_id)],
        )?
        .bool(0)?;
    if !exists {
        return Err(not_bound("collector group", "kelompok pengumpul"));
    }
    served(tx, collector_id)
}

/// Whether a collector group of that name exists, in any case (the name is
/// unique case-insensitively).
pub(super) fn collector_named(tx: &mut dyn Tx, name: &str) -> Result<bool, SalinmasError> {
    Ok(tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM salinmas_collectors WHERE lower(name) = $1)",
            &[V::from(nocase(name))],
        )?
        .bool(0)?)
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
            if collector_named(tx, &name)? {
                return Err(SalinmasError::conflict(
                    "duplicate_collector",
                    format!("a collector group named {name} exists already"),
                    format!("kelompok pengumpul bernama {name} sudah ada"),
                ));
            }
            let id = tx
                .query_one(
                    "INSERT INTO salinmas_collectors (name, phone, created_at_ms) VALUES ($1, $2, $3)
                     RETURNING id",
                    &[V::from(&name), V::from(&phone), V::from(now_ms)],
                )?
                .i64(0)?;
            for k in &area {
                tx.execute(
                    "INSERT INTO salinmas_collector_kelurahan (collector_id, kelurahan) VALUES ($1, $2)",
                    &[V::from(id), V::from(k)],
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
        self.read(|tx| {
            let ids: Vec<i64> = match a {
                Actor::Officer => tx
                    .query("SELECT id FROM salinmas_collectors ORDER BY id", &[])?
                    .iter()
                    .map(|r| r.i64(0))
                    .collect::<Result<_, _>>()?,
                Actor::Collector(k) => {
                    collector_area(tx, k)?;
                    vec![k]
                }
                Actor::Household(h) => {
                    let Some(acc) = load_account(tx, h)? else {
                        return Err(not_bound("household account", "rumah tangga"));
                    };
                    tx.query(
                        "SELECT collector_id FROM salinmas_collector_kelurahan WHERE kelurahan = $1
                         ORDER BY collector_id",
                        &[V::from(acc.kelurahan)],
                    )?
                    .iter()
                    .map(|r| r.i64(0))
                    .collect::<Result<_, _>>()?
                }
            };
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                out.extend(load_collector(tx, id)?);
            }
            Ok(out)
        })
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
