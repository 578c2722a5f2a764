//! The change history (`salinmas_history`): writing a row with each change,
//! and reading the history of one record.

use satria_auth::Principal;
use satria_sql::{DbError, Row, Tx, V};
use serde_json::Value;

use super::Salinmas;
use super::access::officer_only;
use crate::error::SalinmasError;
use crate::model::*;
use crate::time::Timestamp;

pub(super) fn history(
    tx: &mut dyn Tx,
    entity: &str,
    id: impl ToString,
    action: &str,
    who: &Principal,
    at_ms: i64,
    details: Value,
) -> Result<(), SalinmasError> {
    history_as(
        tx,
        entity,
        &id.to_string(),
        action,
        &who.username,
        who.role.as_str(),
        at_ms,
        &details,
    )
}

#[allow(clippy::too_many_arguments)]
pub(super) fn history_as(
    tx: &mut dyn Tx,
    entity: &str,
    id: &str,
    action: &str,
    actor: &str,
    role: &str,
    at_ms: i64,
    details: &Value,
) -> Result<(), SalinmasError> {
    tx.execute(
        "INSERT INTO salinmas_history (entity, entity_id, action, actor, role, at_ms, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            V::from(entity),
            V::from(id),
            V::from(action),
            V::from(actor),
            V::from(role),
            V::from(at_ms),
            V::from(details.to_string()),
        ],
    )?;
    Ok(())
}

fn history_row(r: &Row) -> Result<HistoryEntry, DbError> {
    let details = r.text(7)?;
    Ok(HistoryEntry {
        id: r.i64(0)?,
        entity: r.text(1)?,
        entity_id: r.text(2)?,
        action: r.text(3)?,
        actor: r.text(4)?,
        role: r.text(5)?,
        at: Timestamp(r.i64(6)?),
        details: serde_json::from_str(&details).unwrap_or(Value::Null),
    })
}

pub(super) fn history_of(
    tx: &mut dyn Tx,
    entity: &str,
    id: &str,
) -> Result<Vec<HistoryEntry>, SalinmasError> {
    let rows = tx.query(
        "SELECT id, entity, entity_id, action, actor, role, at_ms, details FROM salinmas_history
         WHERE entity = $1 AND entity_id = $2 ORDER BY id",
        &[V::from(entity), V::from(id)],
    )?;
    Ok(rows.iter().map(history_row).collect::<Result<_, _>>()?)
}

impl Salinmas {
    /// The change history of one record (officer).
    pub fn history(
        &self,
        who: &Principal,
        entity: &str,
        id: &str,
    ) -> Result<Vec<HistoryEntry>, SalinmasError> {
        officer_only(who)?;
        self.read(|tx| history_of(tx, entity, id))
    }
}
