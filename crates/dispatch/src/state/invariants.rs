//! The invariants of the whole state, checked by the property test after every
//! command.

use super::Dispatch;
use crate::fleet::UnitStatus;
use crate::ids::{IncidentId, UnitId};
use crate::incident::AssignmentState;
use std::collections::BTreeMap;

impl Dispatch {
    /// The invariants the property test checks after every command: a unit works at
    /// most one incident, and only an open one; a unit's status and incident agree with
    /// its assignments; the R-trees hold exactly the units' positions and the open
    /// incidents.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut active: BTreeMap<&UnitId, IncidentId> = BTreeMap::new();
        for i in self.incidents.values() {
            for a in i.assignments.iter().filter(|a| a.is_active()) {
                if !i.status.is_open() {
                    return Err(format!(
                        "{} is {:?} but unit {} is still active on it",
                        i.id, i.status, a.unit
                    ));
                }
                if let Some(other) = active.insert(&a.unit, i.id) {
                    return Err(format!(
                        "unit {} is assigned to {other} and {}",
                        a.unit, i.id
                    ));
                }
            }
        }
        for u in &self.units {
            let pending = active.get(&u.id).and_then(|i| {
                self.incidents[i]
                    .active_assignment(&u.id)
                    .map(|a| a.state == AssignmentState::Pending)
            });
            let ok = match (active.get(&u.id), u.incident) {
                (Some(i), Some(j)) if *i == j => {
                    u.status.is_committed()
                        && (pending == Some(true)) == (u.status == UnitStatus::Notified)
                }
                (None, None) => !u.status.is_committed(),
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "unit {} has status {:?}, incident {:?}, active assignment {:?}",
                    u.id,
                    u.status,
                    u.incident,
                    active.get(&u.id)
                ));
            }
        }
        let fixes = self.units.iter().filter(|u| u.last_fix.is_some()).count();
        if self.positions.size() != fixes {
            return Err(format!(
                "{} points for {fixes} positions",
                self.positions.size()
            ));
        }
        if let Some(id) = self
            .archived
            .keys()
            .find(|id| self.incidents.contains_key(*id))
        {
            return Err(format!("{id} is archived and live"));
        }
        let open = self
            .incidents
            .values()
            .filter(|i| i.status.is_open())
            .count();
        if self.open_incidents.size() != open {
            return Err(format!(
                "{} points for {open} open incidents",
                self.open_incidents.size()
            ));
        }
        Ok(())
    }
}
