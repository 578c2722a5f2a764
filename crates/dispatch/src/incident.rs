//! Incidents: the emergency call, its triage, the units sent to it and its history.
//!
//! The lifecycle is `open -> dispatched -> closed`, with `cancelled` and `merged` as the
//! other ends; the transitions are validated in `state/`, the data lives here.

use crate::ids::{IncidentId, LatLon, Timestamp, UnitId};
use serde::{Deserialize, Serialize};

/// Triage colour (KMK 796/2019 practice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Triage {
    /// Immediate.
    Merah,
    /// Urgent.
    Kuning,
    /// Non-urgent.
    Hijau,
    /// Dead.
    Hitam,
}

impl Triage {
    /// The colour's name as the JSON form writes it, e.g. `merah`.
    pub fn as_str(self) -> &'static str {
        match self {
            Triage::Merah => "merah",
            Triage::Kuning => "kuning",
            Triage::Hijau => "hijau",
            Triage::Hitam => "hitam",
        }
    }
}

/// Call type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Traffic or other accident (about 60% of PSC calls).
    Accident,
    /// Medical emergency.
    Medical,
    /// Pregnancy, delivery.
    Maternal,
    /// Moving a patient between facilities.
    InterFacilityTransfer,
    /// Information only: no unit is sent.
    Information,
}

/// Where the patient is, as the caller said it. The verified address wins over a phone
/// GPS fix, which is only a suggestion (domain primer step 1).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Address {
    /// Desa or kelurahan.
    pub desa: String,
    /// RT/RW, e.g. `03/05`.
    pub rt_rw: String,
    /// A landmark ("depan masjid ...").
    pub landmark: String,
    /// Anything else the caller said.
    pub text: String,
}

/// Where an incident is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Received, no unit working it (yet, or any more).
    Open,
    /// At least one unit assigned, or the work done and waiting to be closed.
    Dispatched,
    /// Finished, with an outcome.
    Closed,
    /// Called off, with a reason.
    Cancelled,
    /// Joined into another incident (see `merged_into`).
    Merged,
}

impl IncidentStatus {
    /// Open or dispatched: still being worked.
    pub fn is_open(self) -> bool {
        matches!(self, IncidentStatus::Open | IncidentStatus::Dispatched)
    }
}

/// How one assignment of a unit to an incident ended, or that it goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum AssignmentState {
    /// Waiting for the crew's acknowledgement until `ack_deadline`.
    Pending,
    /// The crew said yes.
    Acknowledged,
    /// The crew said no.
    Declined {
        /// The crew's reason.
        reason: String,
    },
    /// The crew did not answer in time.
    TimedOut,
    /// The dispatcher took the unit off (or the incident was cancelled or merged).
    Cancelled {
        /// Why.
        reason: String,
    },
    /// The unit finished the job and is back in service.
    Completed,
}

/// One unit sent to one incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// The unit.
    pub unit: UnitId,
    /// Server time of the assignment.
    pub assigned_at: Timestamp,
    /// The crew must acknowledge before this.
    pub ack_deadline: Timestamp,
    /// Assigned by the engine (merah auto-assign), not by a dispatcher.
    pub automatic: bool,
    /// Where it stands.
    pub state: AssignmentState,
}

impl Assignment {
    /// Pending or acknowledged: the unit is on this incident.
    pub fn is_active(&self) -> bool {
        matches!(
            self.state,
            AssignmentState::Pending | AssignmentState::Acknowledged
        )
    }
}

/// One line of an incident's history, for the timeline view and the audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Server time.
    pub at: Timestamp,
    /// The incident it happened to (differs from the viewed one after a merge).
    pub incident: IncidentId,
    /// The event kind, e.g. `unit_assigned` (see `Event::kind`).
    pub kind: String,
    /// The unit involved, if any.
    pub unit: Option<UnitId>,
    /// Free text: a reason, an outcome, a status.
    pub detail: String,
}

/// An emergency call and everything done about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Allocated by the state, in order.
    pub id: IncidentId,
    /// Server time the call was taken.
    pub received_at: Timestamp,
    /// The caller's name.
    pub caller_name: String,
    /// The caller's phone number, to call back.
    pub caller_phone: String,
    /// The verified position of the patient.
    #[serde(with = "crate::ids::latlon")]
    pub location: LatLon,
    /// The address as words.
    pub address: Address,
    /// Triage colour.
    pub triage: Triage,
    /// Call type.
    pub category: Category,
    /// Number of patients.
    pub patients: u32,
    /// Call-taker's notes.
    pub notes: String,
    /// Where it is in its life.
    pub status: IncidentStatus,
    /// Every unit ever sent, in order (ended assignments stay, for the audit).
    pub assignments: Vec<Assignment>,
    /// An open incident close in space and time when this one was received.
    pub possible_duplicate_of: Option<IncidentId>,
    /// Set when this incident was merged into another.
    pub merged_into: Option<IncidentId>,
    /// Incidents merged into this one (their histories stay with them).
    pub merged_from: Vec<IncidentId>,
    /// Closing outcome or cancel reason.
    pub outcome: Option<String>,
    /// Server time of close/cancel/merge.
    pub ended_at: Option<Timestamp>,
    /// What happened to this incident, in order.
    pub history: Vec<TimelineEntry>,
}

impl Incident {
    /// The unit's pending or acknowledged assignment to this incident.
    pub fn active_assignment(&self, unit: &UnitId) -> Option<&Assignment> {
        self.assignments
            .iter()
            .find(|a| &a.unit == unit && a.is_active())
    }

    /// Units working this incident now.
    pub fn active_units(&self) -> impl Iterator<Item = &UnitId> {
        self.assignments
            .iter()
            .filter(|a| a.is_active())
            .map(|a| &a.unit)
    }

    /// Whether `unit` was ever sent here (a unit that declined is not proposed again).
    pub fn ever_assigned(&self, unit: &UnitId) -> bool {
        self.assignments.iter().any(|a| &a.unit == unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_triage_names_itself_as_its_json_form_does() {
        for t in [Triage::Merah, Triage::Kuning, Triage::Hijau, Triage::Hitam] {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
    }
}
