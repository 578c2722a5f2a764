//! The change history (`salinmas_history`): writing a row with each change,
//! and reading the history of one record.

use rusqlite::{Connection, Row, Transaction, params};
use satria_auth::Principal;
use serde_json::Value;

use super::Salinmas;
use super::access::officer_only;
use crate::error::SalinmasError;
use crate::model::*;
use crate::time::Timestamp;

pub(super) fn history(
    tx: &Transaction,
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
    tx: &Transaction,
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
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![entity, id, action, actor, role, at_ms, details.to_string()],
    )?;
    Ok(())
}

fn history_row(r: &Row) -> rusqlite::Result<HistoryEntry> {
    let details: String = r.get(7)?;
    Ok(HistoryEntry {
        id: r.get(0)?,
        entity: r.get(1)?,
        entity_id: r.get(2)?,
        action: r.get(3)?,
        actor: r.get(4)?,
        role: r.get(5)?,
        at: Timestamp(r.get(6)?),
        details: serde_json::from_str(&details).unwrap_or(Value::Null),
    })
}

pub(super) fn history_of(
    c: &Connection,
    entity: &str,
    id: &str,
) -> Result<Vec<HistoryEntry>, SalinmasError> {
    let mut stmt = c.prepare_cached(
        "SELECT id, entity, entity_id, action, actor, role, at_ms, details FROM salinmas_history
         WHERE entity = ?1 AND entity_id = ?2 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![entity, id], history_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
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
        history_of(&self.conn(), entity, id)
    }
}
