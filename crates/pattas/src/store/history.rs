//! The change history (`pattas_history`): the row every change writes in its
//! own transaction, and the history of one record.

use rusqlite::{Connection, Transaction, params};
use satria_auth::Principal;
use serde_json::Value;

use super::{Pattas, json_col};
use crate::PattasError;
use crate::model::*;

/// Appends one row to the change history, inside the change's transaction.
pub(super) fn history(
    tx: &Transaction<'_>,
    entity: &str,
    entity_id: i64,
    action: &str,
    who: &Principal,
    at_ms: i64,
    details: Value,
) -> Result<(), PattasError> {
    debug_assert!(
        crate::model::ACTION_LABELS
            .iter()
            .any(|(a, _, _)| *a == action),
        "history action {action:?} has no label in ACTION_LABELS"
    );
    tx.execute(
        "INSERT INTO pattas_history (entity, entity_id, action, actor, role, at_ms, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            entity,
            entity_id,
            action,
            who.username,
            who.role.as_str(),
            at_ms,
            details.to_string()
        ],
    )?;
    Ok(())
}

impl Pattas {
    pub(super) fn history_of(
        conn: &Connection,
        entity: &str,
        id: i64,
    ) -> Result<Vec<HistoryEntry>, PattasError> {
        let mut stmt = conn.prepare(
            "SELECT id, entity, entity_id, action, actor, role, at_ms, details
             FROM pattas_history WHERE entity = ?1 AND entity_id = ?2 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![entity, id], |r| {
            Ok(HistoryEntry {
                id: r.get(0)?,
                entity: r.get(1)?,
                entity_id: r.get(2)?,
                action: r.get(3)?,
                actor: r.get(4)?,
                role: r.get(5)?,
                at_ms: r.get(6)?,
                details: json_col(r, 7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
