//! Household and dasawisma accounts: registering them and who may see
//! which.

use satria_auth::Principal;
use satria_sql::{DbError, Row, Tx, V};
use serde_json::json;

use super::access::{Actor, officer_only};
use super::areas::nocase;
use super::collectors::{collector_area, list_scope};
use super::history::history;
use super::{LIST_LIMIT, Salinmas};
use crate::error::SalinmasError;
use crate::model::*;
use crate::time::Timestamp;
use crate::validate as v;

pub(super) const ACCOUNT_COLS: &str =
    "id, kind, name, kelurahan, rt, rw, address, lat, lon, phone, members, created_at_ms";

pub(super) fn account_row(r: &Row) -> Result<Account, DbError> {
    let members = r
        .opt_i64(10)?
        .map(|m| u32::try_from(m).map_err(|_| DbError::new(format!("column 10: {m} is not a u32"))))
        .transpose()?;
    Ok(Account {
        id: r.i64(0)?,
        kind: r.text(1)?,
        name: r.text(2)?,
        kelurahan: r.text(3)?,
        rt: r.text(4)?,
        rw: r.text(5)?,
        address: r.text(6)?,
        lat: r.f64(7)?,
        lon: r.f64(8)?,
        phone: r.text(9)?,
        members,
        created_at: Timestamp(r.i64(11)?),
    })
}

pub(super) fn load_account(tx: &mut dyn Tx, id: i64) -> Result<Option<Account>, SalinmasError> {
    Ok(tx
        .query_opt(
            &format!("SELECT {ACCOUNT_COLS} FROM salinmas_accounts WHERE id = $1"),
            &[V::from(id)],
        )?
        .map(|r| account_row(&r))
        .transpose()?)
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
            let id = tx
                .query_one(
                    "INSERT INTO salinmas_accounts
                     (kind, name, kelurahan, rt, rw, address, lat, lon, phone, members, created_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                    &[
                        V::from(&kind),
                        V::from(&name),
                        V::from(&kelurahan),
                        V::from(&rt),
                        V::from(&rw),
                        V::from(&address),
                        V::from(input.lat),
                        V::from(input.lon),
                        V::from(&phone),
                        V::from(input.members.map(i64::from)),
                        V::from(now_ms),
                    ],
                )?
                .i64(0)?;
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
        self.read(|tx| {
            let (household, collector) = list_scope(tx, a)?;
            let limit = i64::try_from(limit.min(LIST_LIMIT)).unwrap_or(i64::MAX);
            let offset = i64::try_from(offset).unwrap_or(i64::MAX);
            // An optional filter is `CAST($n AS type) IS NULL OR ...`: PostgreSQL
            // cannot type a parameter it meets first in `IS NULL`.
            let rows = tx.query(
                &format!(
                    "SELECT {ACCOUNT_COLS} FROM salinmas_accounts
                     WHERE (CAST($1 AS TEXT) IS NULL OR lower(kelurahan) = $1)
                       AND (CAST($2 AS BIGINT) IS NULL OR id = $2)
                       AND (CAST($3 AS BIGINT) IS NULL OR kelurahan IN
                            (SELECT kelurahan FROM salinmas_collector_kelurahan WHERE collector_id = $3))
                     ORDER BY id LIMIT $4 OFFSET $5"
                ),
                &[
                    V::from(kelurahan.map(nocase)),
                    V::from(household),
                    V::from(collector),
                    V::from(limit),
                    V::from(offset),
                ],
            )?;
            Ok(rows.iter().map(account_row).collect::<Result<_, _>>()?)
        })
    }

    /// One account: an officer any, a household itself, a collector those of
    /// its kelurahan. Others (and a missing one, for non-officers) → 403.
    pub fn account(&self, who: &Principal, id: i64) -> Result<Account, SalinmasError> {
        let a = self.who(who)?;
        self.read(|tx| {
            let found = load_account(tx, id)?;
            match (a, found) {
                (Actor::Officer, Some(acc)) => Ok(acc),
                (Actor::Officer, None) => Err(SalinmasError::NotFound("account", "akun")),
                (Actor::Household(h), Some(acc)) if h == id => Ok(acc),
                (Actor::Collector(k), Some(acc))
                    if collector_area(tx, k)?.contains(&acc.kelurahan) =>
                {
                    Ok(acc)
                }
                _ => Err(SalinmasError::forbidden()),
            }
        })
    }
}
