//! Who the caller is to Salinmas: an officer, a household account or a
//! collector group, from the login's role and bound `subject`.

use satria_auth::{Principal, Role};
use satria_sql::V;

use super::Salinmas;
use crate::error::SalinmasError;

/// Who is asking, as far as Salinmas is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Actor {
    Officer,
    Household(i64),
    Collector(i64),
}

pub(super) fn not_bound(what: &str, apa: &str) -> SalinmasError {
    SalinmasError::Forbidden {
        code: "not_bound",
        message: format!("this login is not bound to an existing Salinmas {what}"),
        message_id: format!("akun ini tidak terhubung ke {apa} Salinmas yang ada"),
    }
}

pub(super) fn actor(p: &Principal) -> Result<Actor, SalinmasError> {
    let subject = || {
        p.subject
            .as_deref()
            .and_then(|s| s.trim().parse::<i64>().ok())
    };
    match p.role {
        Role::SalinmasOfficer | Role::Admin => Ok(Actor::Officer),
        Role::SalinmasHousehold => subject()
            .map(Actor::Household)
            .ok_or_else(|| not_bound("household account", "rumah tangga")),
        Role::SalinmasCollector => subject()
            .map(Actor::Collector)
            .ok_or_else(|| not_bound("collector group", "kelompok pengumpul")),
        _ => Err(SalinmasError::forbidden()),
    }
}

pub(super) fn officer_only(p: &Principal) -> Result<(), SalinmasError> {
    match actor(p)? {
        Actor::Officer => Ok(()),
        _ => Err(SalinmasError::forbidden()),
    }
}

impl Salinmas {
    /// The caller as Salinmas sees it; a household or collector login must be
    /// bound to a record that exists (`not_bound` otherwise).
    pub(super) fn who(&self, p: &Principal) -> Result<Actor, SalinmasError> {
        let a = actor(p)?;
        let (sql, id, what, apa) = match a {
            Actor::Officer => return Ok(a),
            Actor::Household(h) => (
                "SELECT EXISTS (SELECT 1 FROM salinmas_accounts WHERE id = $1)",
                h,
                "household account",
                "rumah tangga",
            ),
            Actor::Collector(k) => (
                "SELECT EXISTS (SELECT 1 FROM salinmas_collectors WHERE id = $1)",
                k,
                "collector group",
                "kelompok pengumpul",
            ),
        };
        if self.read(|tx| Ok(tx.query_one(sql, &[V::from(id)])?.bool(0)?))? {
            Ok(a)
        } else {
            Err(not_bound(what, apa))
        }
    }
}
