//! Household and dasawisma accounts: registering them and who may see
//! which.

use rusqlite::{Connection, OptionalExtension, Row, params};
use satria_auth::Principal;
use serde_json::json;

use super::access::{Actor, officer_only};
use super::collectors::collector_area;
use super::history::history;
use super::{LIST_LIMIT, Salinmas};
use crate::error::SalinmasError;
use crate::model::*;
use crate::time::Timestamp;
use crate::validate as v;

pub(super) const ACCOUNT_COLS: &str =
    "id, kind, name, kelurahan, rt, rw, address, lat, lon, phone, members, created_at_ms";

pub(super) fn account_row(r: &Row) -> rusqlite::Result<Account> {
    Ok(Account {
        id: r.get(0)?,
        kind: r.get(1)?,
        name: r.get(2)?,
        kelurahan: r.get(3)?,
        rt: r.get(4)?,
        rw: r.get(5)?,
        address: r.get(6)?,
        lat: r.get(7)?,
        lon: r.get(8)?,
        phone: r.get(9)?,
        members: r.get(10)?,
        created_at: Timestamp(r.get(11)?),
    })
}

pub(super) fn load_account(c: &Connection, id: i64) -> Result<Option<Account>, SalinmasError> {
    Ok(c.query_row(
        &format!("SELECT {ACCOUNT_COLS} FROM salinmas_accounts WHERE id = ?1"),
        [id],
        account_row,
    )
    .optional()?)
}

impl Salinmas {
    /// Registers a household or dasawisma account (officer).
    pub fn create_account(
        &self,
        who: &Principal,
        input: NewAccount,
        now_ms: i64,
    ) -> Result<Account, SalinmasError> {
        officer_only(who)?;
        let kind = match input.kind.as_str() {
            "household" | "dasawisma" => input.kind.clone(),
            _ => {
                return Err(SalinmasError::invalid(
                    "invalid_kind",
                    "kind must be household or dasawisma",
                    "kind harus household atau dasawisma",
                ));
            }
        };
        let name = v::text("name", &input.name, 100)?;
        let rt = v::rt_rw("rt", &input.rt)?;
        let rw = v::rt_rw("rw", &input.rw)?;
        let address = v::text("address", &input.address, 200)?;
        v::position(input.lat, input.lon)?;
        let phone = v::phone(&input.phone)?;
        if let Some(m) = input.members
            && !(1..=100).contains(&m)
        {
            return Err(SalinmasError::invalid(
                "invalid_members",
                "members must be from 1 to 100",
                "members harus 1 sampai 100",
            ));
        }
        self.write(|tx| {
            let kelurahan = Self::served_kelurahan(tx, &input.kelurahan)?;
            tx.execute(
                "INSERT INTO salinmas_accounts
                 (kind, name, kelurahan, rt, rw, address, lat, lon, phone, members, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    kind,
                    name,
                    kelurahan,
                    rt,
                    rw,
                    address,
                    input.lat,
                    input.lon,
                    phone,
                    input.members,
                    now_ms
                ],
            )?;
            let id = tx.last_insert_rowid();
            history(
                tx,
                "account",
                id,
                "create",
                who,
                now_ms,
                json!({"kind": kind, "kelurahan": kelurahan}),
            )?;
            load_account(tx, id)?.ok_or(SalinmasError::NotFound("account", "akun"))
        })
    }

    /// The first [`LIST_LIMIT`] accounts the caller may see (see
    /// [`Salinmas::accounts_page`]).
    pub fn accounts(
        &self,
        who: &Principal,
        kelurahan: Option<&str>,
    ) -> Result<Vec<Account>, SalinmasError> {
        self.accounts_page(who, kelurahan, LIST_LIMIT, 0)
    }

    /// The accounts the caller may see, by id, at most `limit` (and never more
    /// than [`LIST_LIMIT`]) after skipping `offset`: an officer all
    /// (optionally of one kelurahan), a collector those of its kelurahan, a
    /// household itself.
    pub fn accounts_page(
        &self,
        who: &Principal,
        kelurahan: Option<&str>,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<Account>, SalinmasError> {
        let a = self.who(who)?;
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
            "SELECT {ACCOUNT_COLS} FROM salinmas_accounts
             WHERE (?1 IS NULL OR kelurahan = ?1 COLLATE NOCASE)
               AND (?2 IS NULL OR id = ?2)
               AND (?3 IS NULL OR kelurahan IN
                    (SELECT kelurahan FROM salinmas_collector_kelurahan WHERE collector_id = ?3))
             ORDER BY id LIMIT ?4 OFFSET ?5"
        ))?;
        let limit = i64::try_from(limit.min(LIST_LIMIT)).unwrap_or(i64::MAX);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let rows = stmt.query_map(
            params![kelurahan, household, collector, limit, offset],
            account_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One account: an officer any, a household itself, a collector those of
    /// its kelurahan. Others (and a missing one, for non-officers) → 403.
    pub fn account(&self, who: &Principal, id: i64) -> Result<Account, SalinmasError> {
        let a = self.who(who)?;
        let c = self.conn();
        let found = load_account(&c, id)?;
        match (a, found) {
            (Actor::Officer, Some(acc)) => Ok(acc),
            (Actor::Officer, None) => Err(SalinmasError::NotFound("account", "akun")),
            (Actor::Household(h), Some(acc)) if h == id => Ok(acc),
            (Actor::Collector(k), Some(acc)) if collector_area(&c, k)?.contains(&acc.kelurahan) => {
                Ok(acc)
            }
            _ => Err(SalinmasError::forbidden()),
        }
    }
}
