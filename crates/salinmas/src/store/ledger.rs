//! The household ledger: reading an account's entries and balance, paying
//! out from it, and re-checking every running balance.

use satria_auth::Principal;
use satria_sql::{DbError, Row, Tx, V};
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

fn ledger_row(r: &Row) -> Result<LedgerEntry, DbError> {
    Ok(LedgerEntry {
        id: r.i64(0)?,
        account_id: r.i64(1)?,
        at: Timestamp(r.i64(2)?),
        kind: r.text(3)?,
        amount_rp: r.i64(4)?,
        balance_rp: r.i64(5)?,
        pickup_id: r.opt_i64(6)?,
        method: r.opt_text(7)?,
        reference: r.opt_text(8)?,
        actor: r.text(9)?,
    })
}

/// The account's balance: the sum of its entries, which must be the balance
/// its last entry carries. Call it inside the write transaction that appends
/// the entry depending on it.
pub(super) fn balance(tx: &mut dyn Tx, account_id: i64) -> Result<i64, SalinmasError> {
    // PostgreSQL's sum of BIGINT is NUMERIC: cast back.
    let r = tx.query_one(
        "SELECT CAST(COALESCE(SUM(amount_rp), 0) AS BIGINT),
                (SELECT balance_rp FROM salinmas_ledger WHERE account_id = $1 ORDER BY id DESC LIMIT 1)
         FROM salinmas_ledger WHERE account_id = $1",
        &[V::from(account_id)],
    )?;
    let (sum, last) = (r.i64(0)?, r.opt_i64(1)?);
    if last.unwrap_or(0) != sum {
        return Err(SalinmasError::Storage(format!(
            "ledger of account {account_id} is inconsistent: entries sum to {sum}, last balance {last:?}"
        )));
    }
    Ok(sum)
}

impl Salinmas {
    fn ledger_access(tx: &mut dyn Tx, a: Actor, account_id: i64) -> Result<Account, SalinmasError> {
        let found = load_account(tx, account_id)?;
        match (a, found) {
            (Actor::Officer, Some(acc)) => Ok(acc),
            (Actor::Officer, None) => Err(SalinmasError::NotFound("account", "akun")),
            (Actor::Household(h), Some(acc)) if h == account_id => Ok(acc),
            (Actor::Collector(k), Some(acc)) if collector_area(tx, k)?.contains(&acc.kelurahan) => {
                Ok(acc)
            }
            _ => Err(SalinmasError::forbidden()),
        }
    }

    /// An account's ledger, oldest first, each entry with the balance after
    /// it: the household itself, a collector of its kelurahan, an officer.
    pub fn ledger(&self, who: &Principal, account_id: i64) -> Result<Ledger, SalinmasError> {
        let a = self.who(who)?;
        self.read(|tx| {
            Self::ledger_access(tx, a, account_id)?;
            let entries: Vec<LedgerEntry> = tx
                .query(
                    &format!(
                        "SELECT {LEDGER_COLS} FROM salinmas_ledger WHERE account_id = $1 ORDER BY id"
                    ),
                    &[V::from(account_id)],
                )?
                .iter()
                .map(ledger_row)
                .collect::<Result<_, _>>()?;
            let balance_rp = balance(tx, account_id)?;
            Ok(Ledger {
                account_id,
                balance_rp,
                entries,
            })
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
            let id = tx
                .query_one(
                    "INSERT INTO salinmas_ledger (account_id, at_ms, day, kind, amount_rp, balance_rp, method, reference, actor)
                     VALUES ($1, $2, $3, 'payout', $4, $5, $6, $7, $8) RETURNING id",
                    &[
                        V::from(account_id),
                        V::from(now_ms),
                        V::from(wib_day(now_ms)),
                        V::from(-input.amount_rp),
                        V::from(after),
                        V::from(&input.method),
                        V::from(&reference),
                        V::from(&who.username),
                    ],
                )?
                .i64(0)?;
            history(
                tx,
                "ledger",
                id,
                "payout",
                who,
                now_ms,
                json!({"account_id": account_id, "amount_rp": input.amount_rp, "method": input.method, "balance_rp": after}),
            )?;
            Ok(ledger_row(&tx.query_one(
                &format!("SELECT {LEDGER_COLS} FROM salinmas_ledger WHERE id = $1"),
                &[V::from(id)],
            )?)?)
        })
    }

    /// Checks every ledger: each entry's balance is the running sum of the
    /// account's entries and never negative. Returns the entries checked.
    pub fn verify_ledgers(&self) -> Result<u64, String> {
        let rows = self
            .db
            .read(|tx| {
                tx.query(
                    "SELECT account_id, id, amount_rp, balance_rp FROM salinmas_ledger
                     ORDER BY account_id, id",
                    &[],
                )
            })
            .map_err(|e| e.to_string())?;
        let (mut account, mut sum, mut n) = (None, 0i64, 0u64);
        for row in &rows {
            let cell = |i| row.i64(i).map_err(|e| e.to_string());
            let (acc, id, amount, bal) = (cell(0)?, cell(1)?, cell(2)?, cell(3)?);
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
