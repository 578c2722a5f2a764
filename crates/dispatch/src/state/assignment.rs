//! Assignment of units to incidents: assign, acknowledge, decline, cancel,
//! reassign, acknowledgement timeouts, and the next unit proposed (or assigned, for
//! a merah call) when one is freed. `release` ends an assignment (declined, timed
//! out, cancelled, completed) and frees its unit; an incident's cancellation uses it
//! too.

use super::Dispatch;
use crate::commands::Command;
use crate::events::Event;
use crate::fleet::UnitStatus;
use crate::ids::{IncidentId, Timestamp, UnitId};
use crate::incident::{Assignment, AssignmentState, IncidentStatus, Triage};
use crate::rejection::Rejection;
use crate::roads::DriveTimes;
use crate::validate::invalid;

impl Dispatch {
    /// The events of an assignment command, routed here by `Dispatch::decide`
    /// after validation, without changing anything.
    pub(super) fn decide_assignment(
        &self,
        now: Timestamp,
        cmd: Command,
        roads: &dyn DriveTimes,
    ) -> Result<Vec<Event>, Rejection> {
        match cmd {
            Command::AssignUnits { incident, units } => {
                self.open_incident(incident)?;
                let mut events = Vec::with_capacity(units.len());
                for (k, unit) in units.iter().enumerate() {
                    let u = self.unit_ref(unit)?;
                    if units[..k].contains(unit) {
                        return Err(invalid(
                            "units",
                            &format!("unit {unit} is listed twice"),
                            &format!("unit {unit} disebut dua kali"),
                        ));
                    }
                    if u.status != UnitStatus::Available {
                        return Err(Rejection::UnitNotAvailable {
                            unit: unit.clone(),
                            status: u.status,
                        });
                    }
                    events.push(Event::UnitAssigned {
                        incident,
                        unit: unit.clone(),
                        at: now,
                        ack_deadline: now.plus_s(self.config.ack_timeout_s),
                        automatic: false,
                    });
                }
                Ok(events)
            }
            Command::AcknowledgeAssignment {
                incident,
                unit,
                device_at,
            } => {
                self.pending_assignment(incident, &unit)?;
                Ok(vec![Event::AssignmentAcknowledged {
                    incident,
                    unit,
                    at: now,
                    device_at,
                }])
            }
            Command::DeclineAssignment {
                incident,
                unit,
                reason,
                device_at,
            } => {
                self.pending_assignment(incident, &unit)?;
                let declined = Event::AssignmentDeclined {
                    incident,
                    unit: unit.clone(),
                    at: now,
                    reason,
                    device_at,
                };
                let mut events = vec![declined];
                events.extend(self.after_release(now, incident, &unit, roads));
                Ok(events)
            }
            Command::CancelAssignment {
                incident,
                unit,
                reason,
            } => {
                let i = self.incident_ref(incident)?;
                self.unit_ref(&unit)?;
                if i.active_assignment(&unit).is_none() {
                    return Err(Rejection::NotAssigned { unit, incident });
                }
                Ok(vec![Event::AssignmentCancelled {
                    incident,
                    unit,
                    at: now,
                    reason,
                }])
            }
            Command::ReassignUnit { unit, to, reason } => {
                let u = self.unit_ref(&unit)?;
                self.open_incident(to)?;
                let Some(from) = u.incident else {
                    return Err(Rejection::UnitNotAvailable {
                        unit,
                        status: u.status,
                    });
                };
                if from == to {
                    return Err(Rejection::SameIncident);
                }
                // Only a unit with no patient aboard can be diverted.
                if !matches!(u.status, UnitStatus::Notified | UnitStatus::EnRoute) {
                    return Err(Rejection::InvalidTransition {
                        unit,
                        from: u.status,
                        to: UnitStatus::Notified,
                    });
                }
                Ok(vec![
                    Event::AssignmentCancelled {
                        incident: from,
                        unit: unit.clone(),
                        at: now,
                        reason: format!("reassigned to {to}: {reason}"),
                    },
                    Event::UnitAssigned {
                        incident: to,
                        unit,
                        at: now,
                        ack_deadline: now.plus_s(self.config.ack_timeout_s),
                        automatic: false,
                    },
                ])
            }
            _ => unreachable!("Dispatch::decide routes only assignment commands here"),
        }
    }

    /// Applies an assignment event, routed here by `Dispatch::apply`.
    pub(super) fn apply_assignment(&mut self, e: &Event) {
        match e {
            Event::UnitAssigned {
                incident,
                unit,
                at,
                ack_deadline,
                automatic,
            } => {
                if let Some(i) = self.incidents_mut(incident) {
                    i.assignments.push(Assignment {
                        unit: unit.clone(),
                        assigned_at: *at,
                        ack_deadline: *ack_deadline,
                        automatic: *automatic,
                        state: AssignmentState::Pending,
                    });
                    i.status = IncidentStatus::Dispatched;
                }
                self.set_unit(unit, UnitStatus::Notified, Some(*incident), *at, None);
                let how = if *automatic {
                    "automatic"
                } else {
                    "by dispatcher"
                };
                self.log(*incident, *at, e, Some(unit), how.into());
            }
            Event::AssignmentAcknowledged {
                incident,
                unit,
                at,
                device_at,
            } => {
                self.set_assignment(*incident, unit, AssignmentState::Acknowledged);
                self.set_unit(unit, UnitStatus::EnRoute, Some(*incident), *at, *device_at);
                self.log(*incident, *at, e, Some(unit), String::new());
            }
            Event::AssignmentDeclined {
                incident,
                unit,
                at,
                reason,
                device_at,
            } => {
                let state = AssignmentState::Declined {
                    reason: reason.clone(),
                };
                self.release(*incident, unit, state, *at, *device_at);
                self.log(*incident, *at, e, Some(unit), reason.clone());
            }
            Event::AssignmentTimedOut { incident, unit, at } => {
                self.release(*incident, unit, AssignmentState::TimedOut, *at, None);
                self.log(*incident, *at, e, Some(unit), String::new());
            }
            Event::AssignmentCancelled {
                incident,
                unit,
                at,
                reason,
            } => {
                let state = AssignmentState::Cancelled {
                    reason: reason.clone(),
                };
                self.release(*incident, unit, state, *at, None);
                self.log(*incident, *at, e, Some(unit), reason.clone());
            }
            Event::AssignmentCompleted {
                incident,
                unit,
                at,
                device_at,
            } => {
                self.release(*incident, unit, AssignmentState::Completed, *at, *device_at);
                self.log(*incident, *at, e, Some(unit), String::new());
            }
            Event::NextUnitProposed {
                incident,
                at,
                candidates,
                ..
            } => {
                let detail = match candidates.first() {
                    Some(c) => format!("next: {} ({} s)", c.unit, c.eta_s),
                    None => "no unit available".into(),
                };
                self.log(*incident, *at, e, None, detail);
            }
            _ => unreachable!("Dispatch::apply routes only assignment events here"),
        }
    }

    fn pending_assignment(&self, incident: IncidentId, unit: &UnitId) -> Result<(), Rejection> {
        let i = self.incident_ref(incident)?;
        self.unit_ref(unit)?;
        match i.active_assignment(unit) {
            Some(a) if a.state == AssignmentState::Pending => Ok(()),
            _ => Err(Rejection::NoPendingAssignment {
                unit: unit.clone(),
                incident,
            }),
        }
    }

    /// What follows when `freed` declined or did not acknowledge: the next units are
    /// proposed and, for a merah call left with no unit while automatic assignment is
    /// on, the best of them is assigned at once. A merah call must never sit without
    /// a unit waiting for someone to read a proposal. Decided before the release is
    /// applied, so `freed` is never chosen again.
    fn after_release(
        &self,
        now: Timestamp,
        incident: IncidentId,
        freed: &UnitId,
        roads: &dyn DriveTimes,
    ) -> Vec<Event> {
        let next = self.propose_after(now, incident, freed, roads);
        let i = &self.incidents[&incident];
        let left_without_unit = !i.assignments.iter().any(|a| {
            &a.unit != freed
                && matches!(
                    a.state,
                    AssignmentState::Pending | AssignmentState::Acknowledged
                )
        });
        let mut out = Vec::with_capacity(2);
        let auto = self.config.auto_assign_merah
            && i.triage == Triage::Merah
            && left_without_unit
            && matches!(i.status, IncidentStatus::Open | IncidentStatus::Dispatched);
        if let (true, Event::NextUnitProposed { candidates, .. }) = (auto, &next) {
            // The fastest unit that can transport; a motorbike only when no ambulance
            // can come at all (as for the first assignment).
            let best = candidates
                .iter()
                .find(|c| c.can_transport)
                .or(candidates.first())
                .map(|c| c.unit.clone());
            out.push(next);
            if let Some(unit) = best {
                out.push(Event::UnitAssigned {
                    incident,
                    unit,
                    at: now,
                    ack_deadline: now.plus_s(self.config.ack_timeout_s),
                    automatic: true,
                });
            }
            return out;
        }
        out.push(next);
        out
    }

    /// The next units to propose after `freed` declined or timed out. Decided before
    /// the release is applied: `freed` is then still busy and was assigned here, so it
    /// is never proposed again for this incident either way.
    fn propose_after(
        &self,
        now: Timestamp,
        incident: IncidentId,
        freed: &UnitId,
        roads: &dyn DriveTimes,
    ) -> Event {
        let i = &self.incidents[&incident];
        let rec = self.recommend_units_for(now, i, roads);
        Event::NextUnitProposed {
            incident,
            after: freed.clone(),
            at: now,
            candidates: rec
                .candidates
                .into_iter()
                .take(self.config.proposals)
                .collect(),
        }
    }

    /// [`Dispatch::tick`]'s timeouts: unacknowledged assignments past their deadline
    /// time out (the unit is freed, the next unit proposed). Each event is applied
    /// as it is pushed.
    pub(super) fn time_out_assignments(
        &mut self,
        now: Timestamp,
        roads: &dyn DriveTimes,
        events: &mut Vec<Event>,
    ) {
        // A pending assignment is active, and active ones sit only on open
        // incidents (`check_invariants`): the open ones are all there is to scan,
        // however long the history.
        let due: Vec<(IncidentId, UnitId)> = self
            .open_incidents_by_id()
            .flat_map(|i| {
                i.assignments
                    .iter()
                    .filter(|a| a.state == AssignmentState::Pending && a.ack_deadline <= now)
                    .map(move |a| (i.id, a.unit.clone()))
            })
            .collect();
        for (incident, unit) in due {
            let timed_out = Event::AssignmentTimedOut {
                incident,
                unit: unit.clone(),
                at: now,
            };
            let follow = self.after_release(now, incident, &unit, roads);
            self.apply(&timed_out);
            events.push(timed_out);
            for e in follow {
                self.apply(&e);
                events.push(e);
            }
        }
    }

    fn set_assignment(&mut self, incident: IncidentId, unit: &UnitId, state: AssignmentState) {
        if let Some(i) = self.incidents_mut(&incident)
            && let Some(a) = i
                .assignments
                .iter_mut()
                .find(|a| &a.unit == unit && a.is_active())
        {
            a.state = state;
        }
    }

    /// Ends a unit's assignment and puts the unit back in service. An incident left
    /// with no unit and no completed work goes back to open (it needs a unit).
    pub(super) fn release(
        &mut self,
        incident: IncidentId,
        unit: &UnitId,
        state: AssignmentState,
        at: Timestamp,
        device_at: Option<Timestamp>,
    ) {
        self.set_assignment(incident, unit, state);
        self.set_unit(unit, UnitStatus::Available, None, at, device_at);
        if let Some(i) = self.incidents_mut(&incident)
            && i.status == IncidentStatus::Dispatched
            && !i.assignments.iter().any(|a| a.is_active())
            && !i
                .assignments
                .iter()
                .any(|a| a.state == AssignmentState::Completed)
        {
            i.status = IncidentStatus::Open;
        }
    }
}
