//! Incidents: creation (with the duplicate check and the automatic assignment of a
//! merah call), updates, merges, cancellation and closing.

use super::Dispatch;
use super::point;
use crate::commands::Command;
use crate::events::Event;
use crate::ids::{IncidentId, LatLon, ReferralId, Timestamp, UnitId, distance_m};
use crate::incident::{
    Assignment, AssignmentState, Incident, IncidentStatus, TimelineEntry, Triage,
};
use crate::rejection::Rejection;
use crate::roads::DriveTimes;
use std::sync::Arc;

impl Dispatch {
    /// The events of an incident command, routed here by `Dispatch::decide`
    /// after validation, without changing anything.
    pub(super) fn decide_incidents(
        &self,
        now: Timestamp,
        cmd: Command,
        roads: &dyn DriveTimes,
    ) -> Result<Vec<Event>, Rejection> {
        match cmd {
            Command::CreateIncident {
                caller_name,
                caller_phone,
                location,
                address,
                triage,
                category,
                patients,
                notes,
            } => {
                let possible_duplicate_of = self.find_duplicate(now, location);
                let incident = Incident {
                    id: IncidentId(self.next_incident),
                    received_at: now,
                    caller_name,
                    caller_phone,
                    location,
                    address,
                    triage,
                    category,
                    patients,
                    notes,
                    status: IncidentStatus::Open,
                    assignments: Vec::new(),
                    possible_duplicate_of,
                    merged_into: None,
                    merged_from: Vec::new(),
                    outcome: None,
                    ended_at: None,
                    history: Vec::new(),
                };
                let mut events = Vec::new();
                // A possible duplicate waits for the dispatcher to merge or keep it, so
                // it never takes a second ambulance automatically.
                if self.config.auto_assign_merah
                    && triage == Triage::Merah
                    && possible_duplicate_of.is_none()
                {
                    let rec = self.recommend_units_for(now, &incident, roads);
                    // The fastest unit that can transport; a motorbike only when no
                    // ambulance can come at all.
                    let best = rec
                        .candidates
                        .iter()
                        .find(|c| c.can_transport)
                        .or(rec.candidates.first());
                    if let Some(best) = best {
                        events.push(Event::UnitAssigned {
                            incident: incident.id,
                            unit: best.unit.clone(),
                            at: now,
                            ack_deadline: now.plus_s(self.config.ack_timeout_s),
                            automatic: true,
                        });
                    }
                }
                events.insert(
                    0,
                    Event::IncidentCreated {
                        incident: Box::new(incident),
                    },
                );
                Ok(events)
            }
            Command::UpdateIncident {
                incident,
                triage,
                category,
                patients,
                notes,
                address,
            } => {
                let i = self.open_incident(incident)?;
                Ok(vec![Event::IncidentUpdated {
                    incident,
                    at: now,
                    triage: triage.unwrap_or(i.triage),
                    category: category.unwrap_or(i.category),
                    patients: patients.unwrap_or(i.patients),
                    notes: notes.unwrap_or_else(|| i.notes.clone()),
                    address: address.unwrap_or_else(|| i.address.clone()),
                }])
            }
            Command::MergeIncidents { from, into } => {
                if from == into {
                    return Err(Rejection::SameIncident);
                }
                self.open_incident(from)?;
                self.open_incident(into)?;
                Ok(vec![Event::IncidentMerged {
                    from,
                    into,
                    at: now,
                }])
            }
            Command::CancelIncident { incident, reason } => {
                self.open_incident(incident)?;
                let mut events = self.cancel_live_referrals(now, incident, &reason);
                events.push(Event::IncidentCancelled {
                    incident,
                    at: now,
                    reason,
                });
                Ok(events)
            }
            Command::CloseIncident { incident, outcome } => {
                let i = self.open_incident(incident)?;
                let count = i.active_units().count();
                if count > 0 {
                    return Err(Rejection::UnitsStillAssigned { incident, count });
                }
                let mut events = self.cancel_live_referrals(
                    now,
                    incident,
                    &format!("incident closed: {outcome}"),
                );
                events.push(Event::IncidentClosed {
                    incident,
                    at: now,
                    outcome,
                });
                Ok(events)
            }
            _ => unreachable!("Dispatch::decide routes only incident commands here"),
        }
    }

    /// Applies an incident event, routed here by `Dispatch::apply`.
    pub(super) fn apply_incidents(&mut self, e: &Event) {
        match e {
            Event::IncidentCreated { incident } => {
                let mut i = (**incident).clone();
                self.next_incident = self.next_incident.max(i.id.0 + 1);
                let detail = match i.possible_duplicate_of {
                    Some(d) => {
                        format!("{:?} {:?}, possible duplicate of {d}", i.triage, i.category)
                    }
                    None => format!("{:?} {:?}", i.triage, i.category),
                };
                i.history.push(TimelineEntry {
                    at: i.received_at,
                    incident: i.id,
                    kind: e.kind().into(),
                    unit: None,
                    detail,
                });
                if i.status.is_open() {
                    self.open_incidents.insert(point(i.location, i.id.0));
                }
                self.incidents.insert(i.id, Arc::new(i));
            }
            Event::IncidentUpdated {
                incident,
                at,
                triage,
                category,
                patients,
                notes,
                address,
            } => {
                if let Some(i) = self.incidents_mut(incident) {
                    i.triage = *triage;
                    i.category = *category;
                    i.patients = *patients;
                    i.notes = notes.clone();
                    i.address = address.clone();
                }
                self.log(
                    *incident,
                    *at,
                    e,
                    None,
                    format!("{triage:?} {category:?}, {patients} patient(s)"),
                );
            }
            Event::IncidentMerged { from, into, at } => self.merge(*from, *into, *at, e),
            Event::IncidentCancelled {
                incident,
                at,
                reason,
            } => {
                let units: Vec<UnitId> = self
                    .incidents
                    .get(incident)
                    .map(|i| i.active_units().cloned().collect())
                    .unwrap_or_default();
                for u in units {
                    let state = AssignmentState::Cancelled {
                        reason: reason.clone(),
                    };
                    self.release(*incident, &u, state, *at, None);
                }
                self.end(*incident, IncidentStatus::Cancelled, reason, *at);
                self.log(*incident, *at, e, None, reason.clone());
            }
            Event::IncidentClosed {
                incident,
                at,
                outcome,
            } => {
                self.end(*incident, IncidentStatus::Closed, outcome, *at);
                self.log(*incident, *at, e, None, outcome.clone());
            }
            _ => unreachable!("Dispatch::apply routes only incident events here"),
        }
    }

    /// An open incident within the duplicate radius and window of `location`, the
    /// nearest (then the oldest) if several.
    fn find_duplicate(&self, now: Timestamp, location: LatLon) -> Option<IncidentId> {
        let r = self.config.duplicate_radius_m;
        let window_ms = i64::from(self.config.duplicate_window_s) * 1000;
        let dlat = r / 111_195.0;
        let dlon = dlat / location.lat.to_radians().cos().max(1e-6);
        let env = rstar::AABB::from_corners(
            [location.lon - dlon, location.lat - dlat],
            [location.lon + dlon, location.lat + dlat],
        );
        self.open_incidents
            .locate_in_envelope(&env)
            .filter_map(|g| {
                let i = &self.incidents[&IncidentId(g.data)];
                let d = distance_m(i.location, location);
                (d <= r && now.0 - i.received_at.0 <= window_ms).then_some((d, i.id))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
            .map(|x| x.1)
    }

    fn end(&mut self, incident: IncidentId, status: IncidentStatus, outcome: &str, at: Timestamp) {
        if let Some(i) = self.incidents.get_mut(&incident).map(Arc::make_mut) {
            if i.status.is_open() {
                self.open_incidents.remove(&point(i.location, i.id.0));
            }
            i.status = status;
            i.outcome = Some(outcome.to_string());
            i.ended_at = Some(at);
        }
    }

    fn merge(&mut self, from: IncidentId, into: IncidentId, at: Timestamp, e: &Event) {
        // The units working `from` move over with their assignment state; `from` keeps
        // its record of them, marked as moved, so both histories stay whole.
        let moved: Vec<Assignment> = match self.incidents_mut(&from) {
            Some(f) => {
                let moved = f
                    .assignments
                    .iter()
                    .filter(|a| a.is_active())
                    .cloned()
                    .collect();
                for a in f.assignments.iter_mut().filter(|a| a.is_active()) {
                    a.state = AssignmentState::Cancelled {
                        reason: format!("merged into {into}"),
                    };
                }
                f.merged_into = Some(into);
                moved
            }
            None => return,
        };
        self.end(
            from,
            IncidentStatus::Merged,
            &format!("merged into {into}"),
            at,
        );
        for a in &moved {
            if let Some(u) = self.unit_mut(&a.unit) {
                u.incident = Some(into);
            }
        }
        // Only the live referrals of `from` are copied (and the tree nodes above
        // them): a published state keeps sharing every other record.
        let live: Vec<ReferralId> = self
            .referrals
            .values()
            .filter(|r| r.incident == from && r.status.is_live())
            .map(|r| r.id)
            .collect();
        for id in live {
            if let Some(r) = self.referrals.get_mut(&id) {
                Arc::make_mut(r).incident = into;
            }
        }
        if let Some(t) = self.incidents_mut(&into) {
            if !moved.is_empty() {
                t.status = IncidentStatus::Dispatched;
            }
            t.assignments.extend(moved);
            t.merged_from.push(from);
        }
        self.log(from, at, e, None, format!("into {into}"));
        self.log(into, at, e, None, format!("from {from}"));
    }
}
