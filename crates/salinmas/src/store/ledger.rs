//! The household ledger: reading an account's entries and balance, paying
//! out from it, and re-checking every running balance.

use rusqlite::{Connection, Row, params};
use satria_auth::Principal;
use serde_json::json;

use super::Salinmas;
use super::access::Actor;
use super::accounts::load_account;
use super::collectors::collector_area;
use super::history::history;
use crate::error::SalinmasError;
use crate::model::*;
use crate::time::{Timestamp, wib_day};
use crate::validate as v;

const LEDGER_COLS: &str =
    "id, account_id, at_ms, kind, amount_rp, balance_rp, pickup_id, method, reference, actor";

fn ledger_row(r: &Row) -> rusqlite::Result<LedgerEntry> {
    Ok(LedgerEntry {
        id: r.get(0)?,
        account_id: r.get(1)?,
        at: Timestamp(r.get(2)?),
        kind: r.get(3)?,
        amount_rp: r.get(4)?,
        balance_rp: r.get(5)?,
        pickup_id: r.get(6)?,
        method: r.get(7)?,
        reference: r.get(8)?,
        actor: r.get(9)?,
    })
}

pub(super) fn balance(c: &Connection, account_id: i64) -> Result<i64, SalinmasError> {
    let (sum, last): (i64, Option<i64>) = c.query_row(
        "SELECT COALESCE(SUM(amount_rp), 0),
                (SELECT balance_rp FROM salinmas_ledger WHERE account_id = ?1 ORDER BY id DESC LIMIT 1)
         FROM salinmas_ledger WHERE account_id = ?1",
        [account_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if last.unwrap_or(0) != sum {
        return Err(SalinmasError::Storage(format!(
            "ledger of account {account_id} is inconsistent: entries sum to {sum}, last balance {last:?}"
        )));
    }
    Ok(sum)
}

impl Salinmas {
    fn ledger_access(c: &Connection, a: Actor, account_id: i64) -> Result<Account, SalinmasError> {
        let found = load_account(c, account_id)?;
        match (a, found) {
            (Actor::Officer, Some(acc)) => Ok(acc),
            (Actor::Officer, None) => Err(SalinmasError::NotFound("account", "akun")),
            (Actor::Household(h), Some(acc)) if h == account_id => Ok(acc),
            (Actor::Collector(k), Some(acc)) if collector_area(c, k)?.contains(&acc.kelurahan) => {
                Ok(acc)
            }
            _ => Err(SalinmasError::forbidden()),
        }
    }

    /// An account's ledger, oldest first, each entry with the balance after
    /// it: the household itself, a collector of its kelurahan, an officer.
    pub fn ledger(&self, who: &Principal, account_id: i64) -> Result<Ledger, SalinmasError> {
        let a = self.who(who)?;
        let c = self.conn();
        Self::ledger_access(&c, a, account_id)?;
        let mut stmt = c.prepare_cached(&format!(
            "SELECT {LEDGER_COLS} FROM salinmas_ledger WHERE account_id = ?1 ORDER BY id"
        ))?;
        let entries: Vec<LedgerEntry> = stmt
            .query_map([account_id], ledger_row)?
            .collect::<Result<_, _>>()?;
        let balance_rp = balance(&c, account_id)?;
        Ok(Ledger {
            account_id,
            balance_rp,
            entries,
        })
    }

    /// Pays out from an account's balance (an officer, or a collector of its
    /// kelurahan). More than the balance → 409 `insufficient_balance`.
    pub fn payout(
        &self,
        who: &Principal,
        account_id: i64,
        input: NewPayout,
        now_ms: i64,
    ) -> Result<LedgerEntry, SalinmasError> {
        let a = self.who(who)?;
        if matches!(a, Actor::Household(_)) {
            return Err(SalinmasError::forbidden());
        }
        if !(1..=v::MAX_PAYOUT_RP).contains(&input.amount_rp) {
            return Err(SalinmasError::invalid(
                "invalid_amount",
                format!(
                    "amount_rp must be whole rupiah from 1 to {}",
                    v::MAX_PAYOUT_RP
                ),
                format!(
                    "amount_rp harus rupiah bulat dari 1 sampai {}",
                    v::MAX_PAYOUT_RP
                ),
            ));
        }
        if !PAYOUT_METHODS.contains(&input.method.as_str()) {
            return Err(SalinmasError::invalid(
                "invalid_method",
                format!("method must be one of {}", PAYOUT_METHODS.join(", ")),
                format!("method harus salah satu dari {}", PAYOUT_METHODS.join(", ")),
            ));
        }
        let reference = v::opt_text("reference", input.reference.as_deref(), 100)?;
        self.write(|tx| {
            Self::ledger_access(tx, a, account_id)?;
            let bal = balance(tx, account_id)?;
            if input.amount_rp > bal {
                return Err(SalinmasError::conflict(
                    "insufficient_balance",
                    format!("the payout of Rp{} is more than the balance of Rp{bal}", input.amount_rp),
                    format!("pencairan Rp{} melebihi saldo Rp{bal}", input.amount_rp),
                ));
            }
            let after = bal - input.amount_rp;
            tx.execute(
                "INSERT INTO salinmas_ledger (account_id, at_ms, day, kind, amount_rp, balance_rp, method, reference, actor)
                 VALUES (?1, ?2, ?3, 'payout', ?4, ?5, ?6, ?7, ?8)",
                params![account_id, now_ms, wib_day(now_ms), -input.amount_rp, after, input.method, reference, who.username],
            )?;
            let id = tx.last_insert_rowid();
            history(
                tx,
                "ledger",
                id,
                "payout",
                who,
                now_ms,
                json!({"account_id": account_id, "amount_rp": input.amount_rp, "method": input.method, "balance_rp": after}),
            )?;
            Ok(tx.query_row(
                &format!("SELECT {LEDGER_COLS} FROM salinmas_ledger WHERE id = ?1"),
                [id],
                ledger_row,
            )?)
        })
    }

    /// Checks every ledger: each entry's balance is the running sum of the
    /// account's entries and never negative. Returns the entries checked.
    pub fn verify_ledgers(&self) -> Result<u64, String> {
        let c = self.conn();
        let mut stmt = c
            .prepare("SELECT account_id, id, amount_rp, balance_rp FROM salinmas_ledger ORDER BY account_id, id")
            .map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(|e| e.to_string())?;
        let (mut account, mut sum, mut n) = (None, 0i64, 0u64);
        for row in rows {
            let (acc, id, amount, bal) = row.map_err(|e| e.to_string())?;
            if account != Some(acc) {
                account = Some(acc);
                sum = 0;
            }
            sum += amount;
            if bal != sum || bal < 0 {
                return Err(format!(
                    "ledger entry {id} of account {acc}: balance {bal}, running sum {sum}"
                ));
            }
            n += 1;
        }
        Ok(n)
    }
}
