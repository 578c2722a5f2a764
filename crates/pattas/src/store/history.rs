//! The change history (`pattas_history`): the row every change writes in its
//! own transaction, and the history of one record.
//!
//! Storage keeps what it always kept: `at_ms` and, in `details`, the instants
//! a change fixed as integer ms (`verify_due_ms`, `assistance_due_ms`,
//! `scheduled_for_ms`). Reading turns each into a [`Timestamp`] under its
//! answer name (`verify_due_at`, `assistance_due_at`, `scheduled_for`: see
//! `DETAIL_INSTANTS`), as every record answers.

use satria_auth::Principal;
use satria_calendar::Timestamp;
use satria_sql::{Tx, V};
use serde_json::Value;

use super::{Pattas, json_col, ts_col};
use crate::PattasError;
use crate::model::*;

/// Appends one row to the change history, inside the change's transaction.
pub(super) fn history(
    tx: &mut dyn Tx,
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
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            V::from(entity),
            V::from(entity_id),
            V::from(action),
            V::from(&who.username),
            V::from(who.role.as_str()),
            V::from(at_ms),
            V::from(details.to_string()),
        ],
    )?;
    Ok(())
}

/// The instants `details` stores as integer ms, and the name each has in an
/// answer.
const DETAIL_INSTANTS: [(&str, &str); 3] = [
    ("verify_due_ms", "verify_due_at"),
    ("assistance_due_ms", "assistance_due_at"),
    ("scheduled_for_ms", "scheduled_for"),
];

/// Stored details as answered: each instant of [`DETAIL_INSTANTS`] as an
/// RFC 3339 string under its answer name; everything else as stored.
fn details_out(mut details: Value) -> Value {
    if let Value::Object(m) = &mut details {
        for (stored, shown) in DETAIL_INSTANTS {
            if let Some(ms) = m.get(stored).and_then(Value::as_i64) {
                m.remove(stored);
                m.insert(shown.into(), Value::String(Timestamp(ms).to_rfc3339()));
            }
        }
    }
    details
}

impl Pattas {
    pub(super) fn history_of(
        tx: &mut dyn Tx,
        entity: &str,
        id: i64,
    ) -> Result<Vec<HistoryEntry>, PattasError> {
        tx.query(
            "SELECT id, entity, entity_id, action, actor, role, at_ms, details
             FROM pattas_history WHERE entity = $1 AND entity_id = $2 ORDER BY id",
            &[V::from(entity), V::from(id)],
        )?
        .iter()
        .map(|r| {
            Ok(HistoryEntry {
                id: r.i64(0)?,
                entity: r.text(1)?,
                entity_id: r.i64(2)?,
                action: r.text(3)?,
                actor: r.text(4)?,
                role: r.text(5)?,
                at: ts_col(r, 6)?,
                details: details_out(json_col(r, 7)?),
            })
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn details_answer_instants_as_rfc3339() {
        let stored = json!({"transport_id": "TR-1", "scheduled_for_ms": 1_796_169_600_000_i64,
                            "purpose": "kontrol"});
        assert_eq!(
            details_out(stored),
            json!({"transport_id": "TR-1", "scheduled_for": "2026-12-02T00:00:00.000Z",
                   "purpose": "kontrol"})
        );
        let stored = json!({"note": null, "assistance_due_ms": 0, "verify_due_ms": 86_400_000});
        assert_eq!(
            details_out(stored),
            json!({"note": null, "assistance_due_at": "1970-01-01T00:00:00.000Z",
                   "verify_due_at": "1970-01-02T00:00:00.000Z"})
        );
        // Anything else is answered as stored.
        let other = json!({"reason": "x", "fields": ["phone"]});
        assert_eq!(details_out(other.clone()), other);
    }
}
