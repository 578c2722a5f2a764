//! The dispatch state of one region, its commands and events.
//!
//! `handle(now, command, roads)` validates a command against the state and returns the
//! events it causes, already applied; a rejected command returns a [`Rejection`] and
//! changes nothing. `apply(event)` is the only code that mutates the state, so replaying
//! the journal of events into a fresh state rebuilds it exactly.

use crate::model::*;
use rstar::RTree;
use rstar::primitives::GeomWithData;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Drive times over the road network. Implemented over the real road graph by the
/// engine; tests use a simple straight-line implementation.
pub trait DriveTimes {
    /// Drive time from each origin to `target`; `None` = unreachable (or off the roads).
    fn many_to_one(&mut self, origins: &[LatLon], target: LatLon) -> Vec<Option<Eta>>;
}

/// A drive time and distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eta {
    pub eta_s: u32,
    pub distance_m: u32,
}

/// Tunables of the dispatch policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Time a crew has to acknowledge an assignment.
    pub ack_timeout_s: u32,
    /// A position older than this is stale: the unit is ranked from its base.
    pub stale_position_s: u32,
    /// A new incident this close to an open one ...
    pub duplicate_radius_m: f64,
    /// ... received this soon after it is flagged as a possible duplicate.
    pub duplicate_window_s: u32,
    /// Assign the best unit to a merah incident as soon as it is created.
    pub auto_assign_merah: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            ack_timeout_s: 60,
            stale_position_s: 300,
            duplicate_radius_m: 300.0,
            duplicate_window_s: 15 * 60,
            auto_assign_merah: true,
        }
    }
}

/// What a client asks of the dispatch state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    RegisterUnit {
        id: UnitId,
        call_sign: String,
        unit_type: UnitType,
        owner: Owner,
        base_name: String,
        base: LatLon,
        capabilities: Vec<String>,
    },
    UpdatePosition {
        unit: UnitId,
        at: LatLon,
    },
    CreateIncident {
        caller_name: String,
        caller_phone: String,
        location: LatLon,
        address: Address,
        triage: Triage,
        category: Category,
        patients: u32,
        notes: String,
    },
    UpdateIncident {
        incident: IncidentId,
        triage: Option<Triage>,
        category: Option<Category>,
        patients: Option<u32>,
        notes: Option<String>,
    },
    AssignUnit {
        incident: IncidentId,
        unit: UnitId,
    },
    AcknowledgeAssignment {
        incident: IncidentId,
        unit: UnitId,
        device_at: Option<Timestamp>,
    },
    DeclineAssignment {
        incident: IncidentId,
        unit: UnitId,
        reason: String,
    },
    /// Takes a unit off an incident (to reassign it, or because it is not needed).
    CancelAssignment {
        incident: IncidentId,
        unit: UnitId,
        reason: String,
    },
    /// A crew's status report: en route, on scene, ..., available (back in service);
    /// or out of service / available for an idle unit.
    ReportStatus {
        unit: UnitId,
        status: UnitStatus,
        device_at: Option<Timestamp>,
    },
    MergeIncidents {
        from: IncidentId,
        into: IncidentId,
    },
    CancelIncident {
        incident: IncidentId,
        reason: String,
    },
    CloseIncident {
        incident: IncidentId,
        outcome: String,
    },
}

/// What happened. Every change of state is one of these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    UnitRegistered {
        unit: Unit,
    },
    UnitMoved {
        unit: UnitId,
        at: LatLon,
        received: Timestamp,
    },
    UnitStatusChanged {
        unit: UnitId,
        status: UnitStatus,
        at: Timestamp,
        device_at: Option<Timestamp>,
    },
    IncidentCreated {
        incident: Incident,
    },
    IncidentUpdated {
        incident: IncidentId,
        triage: Triage,
        category: Category,
        patients: u32,
        notes: String,
    },
    UnitAssigned {
        incident: IncidentId,
        unit: UnitId,
        at: Timestamp,
        ack_deadline: Timestamp,
    },
    AssignmentAcknowledged {
        incident: IncidentId,
        unit: UnitId,
        at: Timestamp,
        device_at: Option<Timestamp>,
    },
    AssignmentDeclined {
        incident: IncidentId,
        unit: UnitId,
        at: Timestamp,
        reason: String,
    },
    AssignmentTimedOut {
        incident: IncidentId,
        unit: UnitId,
        at: Timestamp,
    },
    AssignmentCancelled {
        incident: IncidentId,
        unit: UnitId,
        at: Timestamp,
        reason: String,
    },
    AssignmentCompleted {
        incident: IncidentId,
        unit: UnitId,
        at: Timestamp,
        device_at: Option<Timestamp>,
    },
    /// After a decline or timeout: the unit the engine proposes next, for the dispatcher.
    NextUnitProposed {
        incident: IncidentId,
        unit: Option<UnitId>,
        eta_s: Option<u32>,
    },
    IncidentMerged {
        from: IncidentId,
        into: IncidentId,
        at: Timestamp,
    },
    IncidentCancelled {
        incident: IncidentId,
        at: Timestamp,
        reason: String,
    },
    IncidentClosed {
        incident: IncidentId,
        at: Timestamp,
        outcome: String,
    },
}

impl Event {
    /// The event's type name as journaled (`unit_assigned`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Event::UnitRegistered { .. } => "unit_registered",
            Event::UnitMoved { .. } => "unit_moved",
            Event::UnitStatusChanged { .. } => "unit_status_changed",
            Event::IncidentCreated { .. } => "incident_created",
            Event::IncidentUpdated { .. } => "incident_updated",
            Event::UnitAssigned { .. } => "unit_assigned",
            Event::AssignmentAcknowledged { .. } => "assignment_acknowledged",
            Event::AssignmentDeclined { .. } => "assignment_declined",
            Event::AssignmentTimedOut { .. } => "assignment_timed_out",
            Event::AssignmentCancelled { .. } => "assignment_cancelled",
            Event::AssignmentCompleted { .. } => "assignment_completed",
            Event::NextUnitProposed { .. } => "next_unit_proposed",
            Event::IncidentMerged { .. } => "incident_merged",
            Event::IncidentCancelled { .. } => "incident_cancelled",
            Event::IncidentClosed { .. } => "incident_closed",
        }
    }
}

/// Why a command was refused. It changed nothing.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Rejection {
    #[error("unit {0} does not exist")]
    UnknownUnit(UnitId),
    #[error("incident {0} does not exist")]
    UnknownIncident(IncidentId),
    #[error("unit {0} is already registered")]
    DuplicateUnit(UnitId),
    #[error("position {lat},{lon} is not a valid latitude/longitude")]
    InvalidPosition { lat: f64, lon: f64 },
    #[error("{field}: {why}")]
    InvalidField { field: String, why: String },
    #[error("unit {unit} is not available (status {status:?})")]
    UnitNotAvailable { unit: UnitId, status: UnitStatus },
    #[error("incident {incident} is {status:?}, not open")]
    IncidentNotOpen {
        incident: IncidentId,
        status: IncidentStatus,
    },
    #[error("unit {unit} has no assignment to incident {incident} waiting for acknowledgement")]
    NoPendingAssignment { unit: UnitId, incident: IncidentId },
    #[error("unit {unit} is not assigned to incident {incident}")]
    NotAssigned { unit: UnitId, incident: IncidentId },
    #[error("unit {unit} cannot go from {from:?} to {to:?}")]
    InvalidTransition {
        unit: UnitId,
        from: UnitStatus,
        to: UnitStatus,
    },
    #[error("incident {incident} still has {count} unit(s) working it")]
    UnitsStillAssigned { incident: IncidentId, count: usize },
    #[error("an incident cannot be merged into itself")]
    SameIncident,
}

impl Rejection {
    /// The reason in Bahasa Indonesia, for the consoles.
    pub fn message_id(&self) -> String {
        match self {
            Rejection::UnknownUnit(u) => format!("unit {u} tidak ada"),
            Rejection::UnknownIncident(i) => format!("kejadian {i} tidak ada"),
            Rejection::DuplicateUnit(u) => format!("unit {u} sudah terdaftar"),
            Rejection::InvalidPosition { lat, lon } => {
                format!("posisi {lat},{lon} bukan lintang/bujur yang sah")
            }
            Rejection::InvalidField { field, why } => format!("{field}: {why}"),
            Rejection::UnitNotAvailable { unit, .. } => format!("unit {unit} tidak tersedia"),
            Rejection::IncidentNotOpen { incident, .. } => {
                format!("kejadian {incident} tidak terbuka")
            }
            Rejection::NoPendingAssignment { unit, incident } => {
                format!("unit {unit} tidak punya penugasan ke {incident} yang menunggu konfirmasi")
            }
            Rejection::NotAssigned { unit, incident } => {
                format!("unit {unit} tidak ditugaskan ke {incident}")
            }
            Rejection::InvalidTransition { unit, from, to } => {
                format!("unit {unit} tidak bisa berpindah dari {from:?} ke {to:?}")
            }
            Rejection::UnitsStillAssigned { incident, count } => {
                format!("kejadian {incident} masih ditangani {count} unit")
            }
            Rejection::SameIncident => "kejadian tidak bisa digabung dengan dirinya sendiri".into(),
        }
    }
}

/// A unit that can serve an incident, with its drive time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub unit: UnitId,
    pub call_sign: String,
    pub unit_type: UnitType,
    pub eta_s: u32,
    pub distance_m: u32,
    /// The live position is stale or missing: ranked from the unit's base.
    pub from_base: bool,
    pub can_transport: bool,
}

/// Why a unit is not among the candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    Busy,
    OutOfService,
    WrongType,
    Unreachable,
}

/// The answer to "which unit should go?".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitRecommendation {
    pub incident: IncidentId,
    /// In order of drive time (obstetric-capable units first among equals for maternal calls).
    pub candidates: Vec<Candidate>,
    pub excluded: Vec<(UnitId, Exclusion)>,
}

/// The dispatch state of one region.
#[derive(Debug, Clone)]
pub struct Dispatch {
    config: Config,
    units: BTreeMap<UnitId, Unit>,
    incidents: BTreeMap<IncidentId, Incident>,
    next_incident: u64,
    /// Live unit positions (lon, lat), for spatial questions about the fleet.
    positions: RTree<GeomWithData<[f64; 2], UnitId>>,
}

impl PartialEq for Dispatch {
    fn eq(&self, o: &Dispatch) -> bool {
        let pos = |d: &Dispatch| {
            let mut v: Vec<(UnitId, [u64; 2])> = d
                .positions
                .iter()
                .map(|g| {
                    (
                        g.data.clone(),
                        [g.geom()[0].to_bits(), g.geom()[1].to_bits()],
                    )
                })
                .collect();
            v.sort();
            v
        };
        self.config == o.config
            && self.units == o.units
            && self.incidents == o.incidents
            && self.next_incident == o.next_incident
            && pos(self) == pos(o)
    }
}

const MAX_TEXT: usize = 2000;

fn text(field: &str, v: &str) -> Result<(), Rejection> {
    if v.chars().count() > MAX_TEXT {
        return Err(Rejection::InvalidField {
            field: field.into(),
            why: format!("longer than {MAX_TEXT} characters"),
        });
    }
    Ok(())
}

fn position(p: LatLon) -> Result<(), Rejection> {
    if p.is_valid() {
        Ok(())
    } else {
        Err(Rejection::InvalidPosition {
            lat: p.lat,
            lon: p.lon,
        })
    }
}

impl Dispatch {
    pub fn new(config: Config) -> Dispatch {
        Dispatch {
            config,
            units: BTreeMap::new(),
            incidents: BTreeMap::new(),
            next_incident: 1,
            positions: RTree::new(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }
    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.units.values()
    }
    pub fn unit(&self, id: &UnitId) -> Option<&Unit> {
        self.units.get(id)
    }
    pub fn incidents(&self) -> impl Iterator<Item = &Incident> {
        self.incidents.values()
    }
    pub fn incident(&self, id: IncidentId) -> Option<&Incident> {
        self.incidents.get(&id)
    }

    /// Units whose live position lies within `radius_m` of `p` (from the R-tree).
    pub fn units_near(&self, p: LatLon, radius_m: f64) -> Vec<UnitId> {
        // Degrees of longitude are shorter near the equator's south; a box query in
        // degrees, then an exact distance check.
        let dlat = radius_m / 111_195.0;
        let dlon = dlat / p.lat.to_radians().cos().max(1e-6);
        let env =
            rstar::AABB::from_corners([p.lon - dlon, p.lat - dlat], [p.lon + dlon, p.lat + dlat]);
        let mut v: Vec<UnitId> = self
            .positions
            .locate_in_envelope(&env)
            .filter(|g| {
                LatLon {
                    lat: g.geom()[1],
                    lon: g.geom()[0],
                }
                .distance_m(&p)
                    <= radius_m
            })
            .map(|g| g.data.clone())
            .collect();
        v.sort();
        v
    }

    fn incident_ref(&self, id: IncidentId) -> Result<&Incident, Rejection> {
        self.incidents
            .get(&id)
            .ok_or(Rejection::UnknownIncident(id))
    }
    fn unit_ref(&self, id: &UnitId) -> Result<&Unit, Rejection> {
        self.units
            .get(id)
            .ok_or_else(|| Rejection::UnknownUnit(id.clone()))
    }
    fn open_incident(&self, id: IncidentId) -> Result<&Incident, Rejection> {
        let i = self.incident_ref(id)?;
        if !i.status.is_open() {
            return Err(Rejection::IncidentNotOpen {
                incident: id,
                status: i.status,
            });
        }
        Ok(i)
    }

    /// Validates `cmd`; on success its events are applied and returned.
    pub fn handle(
        &mut self,
        now: Timestamp,
        cmd: Command,
        roads: &mut dyn DriveTimes,
    ) -> Result<Vec<Event>, Rejection> {
        let events = self.decide(now, cmd, roads)?;
        for e in &events {
            self.apply(e);
        }
        Ok(events)
    }

    fn decide(
        &self,
        now: Timestamp,
        cmd: Command,
        roads: &mut dyn DriveTimes,
    ) -> Result<Vec<Event>, Rejection> {
        match cmd {
            Command::RegisterUnit {
                id,
                call_sign,
                unit_type,
                owner,
                base_name,
                base,
                capabilities,
            } => {
                if self.units.contains_key(&id) {
                    return Err(Rejection::DuplicateUnit(id));
                }
                if id.0.trim().is_empty() || id.0.len() > 64 {
                    return Err(Rejection::InvalidField {
                        field: "id".into(),
                        why: "must be 1 to 64 characters".into(),
                    });
                }
                position(base)?;
                text("call_sign", &call_sign)?;
                text("base_name", &base_name)?;
                Ok(vec![Event::UnitRegistered {
                    unit: Unit {
                        id,
                        call_sign,
                        unit_type,
                        owner,
                        base_name,
                        base,
                        capabilities,
                        status: UnitStatus::Available,
                        status_at: now,
                        status_device_at: None,
                        incident: None,
                        last_fix: None,
                    },
                }])
            }
            Command::UpdatePosition { unit, at } => {
                self.unit_ref(&unit)?;
                position(at)?;
                Ok(vec![Event::UnitMoved {
                    unit,
                    at,
                    received: now,
                }])
            }
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
                position(location)?;
                for (f, v) in [
                    ("caller_name", &caller_name),
                    ("caller_phone", &caller_phone),
                    ("notes", &notes),
                    ("address.desa", &address.desa),
                    ("address.rt_rw", &address.rt_rw),
                    ("address.landmark", &address.landmark),
                    ("address.text", &address.text),
                ] {
                    text(f, v)?;
                }
                if patients > 500 {
                    return Err(Rejection::InvalidField {
                        field: "patients".into(),
                        why: "more than 500 patients: declare a mass-casualty incident instead"
                            .into(),
                    });
                }
                let id = IncidentId(self.next_incident);
                let window_ms = self.config.duplicate_window_s as i64 * 1000;
                let possible_duplicate_of = self
                    .incidents
                    .values()
                    .filter(|o| {
                        o.status.is_open()
                            && now.0 - o.received_at.0 <= window_ms
                            && o.location.distance_m(&location) <= self.config.duplicate_radius_m
                    })
                    .min_by(|a, b| {
                        a.location
                            .distance_m(&location)
                            .partial_cmp(&b.location.distance_m(&location))
                            .unwrap_or(std::cmp::Ordering::Equal)
                            .then(a.id.cmp(&b.id))
                    })
                    .map(|o| o.id);
                let incident = Incident {
                    id,
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
                    outcome: None,
                };
                let mut events = vec![Event::IncidentCreated {
                    incident: incident.clone(),
                }];
                // A possible duplicate is left for the dispatcher to merge or keep, so it
                // never takes a second unit automatically.
                if self.config.auto_assign_merah
                    && triage == Triage::Merah
                    && possible_duplicate_of.is_none()
                {
                    let rec = self.recommend_for(now, &incident, roads);
                    if let Some(best) = rec.candidates.iter().find(|c| c.can_transport) {
                        events.push(Event::UnitAssigned {
                            incident: id,
                            unit: best.unit.clone(),
                            at: now,
                            ack_deadline: now.plus_s(self.config.ack_timeout_s),
                        });
                    }
                }
                Ok(events)
            }
            Command::UpdateIncident {
                incident,
                triage,
                category,
                patients,
                notes,
            } => {
                let i = self.open_incident(incident)?;
                if let Some(n) = &notes {
                    text("notes", n)?;
                }
                Ok(vec![Event::IncidentUpdated {
                    incident,
                    triage: triage.unwrap_or(i.triage),
                    category: category.unwrap_or(i.category),
                    patients: patients.unwrap_or(i.patients),
                    notes: notes.unwrap_or_else(|| i.notes.clone()),
                }])
            }
            Command::AssignUnit { incident, unit } => {
                self.open_incident(incident)?;
                let u = self.unit_ref(&unit)?;
                if u.status != UnitStatus::Available {
                    return Err(Rejection::UnitNotAvailable {
                        unit,
                        status: u.status,
                    });
                }
                Ok(vec![Event::UnitAssigned {
                    incident,
                    unit,
                    at: now,
                    ack_deadline: now.plus_s(self.config.ack_timeout_s),
                }])
            }
            Command::AcknowledgeAssignment {
                incident,
                unit,
                device_at,
            } => {
                self.pending(incident, &unit)?;
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
            } => {
                self.pending(incident, &unit)?;
                text("reason", &reason)?;
                if reason.trim().is_empty() {
                    return Err(Rejection::InvalidField {
                        field: "reason".into(),
                        why: "a decline needs a reason".into(),
                    });
                }
                let mut events = vec![Event::AssignmentDeclined {
                    incident,
                    unit: unit.clone(),
                    at: now,
                    reason,
                }];
                events.push(self.propose_next(now, incident, &unit, roads));
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
                text("reason", &reason)?;
                Ok(vec![Event::AssignmentCancelled {
                    incident,
                    unit,
                    at: now,
                    reason,
                }])
            }
            Command::ReportStatus {
                unit,
                status,
                device_at,
            } => {
                let u = self.unit_ref(&unit)?;
                let from = u.status;
                let invalid = || Rejection::InvalidTransition {
                    unit: unit.clone(),
                    from,
                    to: status,
                };
                match (u.incident, from, status) {
                    // Idle units go out of and back into service.
                    (None, UnitStatus::Available, UnitStatus::OutOfService)
                    | (None, UnitStatus::OutOfService, UnitStatus::Available) => {
                        Ok(vec![Event::UnitStatusChanged {
                            unit,
                            status,
                            at: now,
                            device_at,
                        }])
                    }
                    (Some(incident), _, _) if from.crew_next().contains(&status) => {
                        if status == UnitStatus::Available {
                            Ok(vec![Event::AssignmentCompleted {
                                incident,
                                unit,
                                at: now,
                                device_at,
                            }])
                        } else {
                            Ok(vec![Event::UnitStatusChanged {
                                unit,
                                status,
                                at: now,
                                device_at,
                            }])
                        }
                    }
                    _ => Err(invalid()),
                }
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
                text("reason", &reason)?;
                Ok(vec![Event::IncidentCancelled {
                    incident,
                    at: now,
                    reason,
                }])
            }
            Command::CloseIncident { incident, outcome } => {
                let i = self.open_incident(incident)?;
                text("outcome", &outcome)?;
                let count = i.assignments.iter().filter(|a| a.is_active()).count();
                if count > 0 {
                    return Err(Rejection::UnitsStillAssigned { incident, count });
                }
                Ok(vec![Event::IncidentClosed {
                    incident,
                    at: now,
                    outcome,
                }])
            }
        }
    }

    fn pending(&self, incident: IncidentId, unit: &UnitId) -> Result<(), Rejection> {
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

    /// The best remaining unit after `freed` declined or timed out (it is not proposed
    /// again for the same incident).
    fn propose_next(
        &self,
        now: Timestamp,
        incident: IncidentId,
        freed: &UnitId,
        roads: &mut dyn DriveTimes,
    ) -> Event {
        let i = &self.incidents[&incident];
        let rec = self.recommend_for(now, i, roads);
        let next = rec
            .candidates
            .iter()
            .find(|c| &c.unit != freed && !i.assignments.iter().any(|a| a.unit == c.unit));
        Event::NextUnitProposed {
            incident,
            unit: next.map(|c| c.unit.clone()),
            eta_s: next.map(|c| c.eta_s),
        }
    }

    /// Timeouts due at `now`: every assignment whose acknowledgement deadline passed
    /// times out, frees its unit and proposes the next one. The events are applied.
    pub fn tick(&mut self, now: Timestamp, roads: &mut dyn DriveTimes) -> Vec<Event> {
        let due: Vec<(IncidentId, UnitId)> = self
            .incidents
            .values()
            .flat_map(|i| {
                i.assignments
                    .iter()
                    .filter(|a| a.state == AssignmentState::Pending && a.ack_deadline <= now)
                    .map(move |a| (i.id, a.unit.clone()))
            })
            .collect();
        let mut events = Vec::new();
        for (incident, unit) in due {
            let timed_out = Event::AssignmentTimedOut {
                incident,
                unit: unit.clone(),
                at: now,
            };
            self.apply(&timed_out);
            events.push(timed_out);
            let next = self.propose_next(now, incident, &unit, roads);
            events.push(next);
        }
        events
    }

    /// The earliest acknowledgement deadline still pending, so the engine knows when
    /// to call [`Dispatch::tick`].
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.incidents
            .values()
            .flat_map(|i| i.assignments.iter())
            .filter(|a| a.state == AssignmentState::Pending)
            .map(|a| a.ack_deadline)
            .min()
    }

    /// Ranks the units that can serve the incident by exact drive time (one
    /// many-to-one search for all candidates) and says why the others are excluded.
    pub fn recommend_units(
        &self,
        now: Timestamp,
        incident: IncidentId,
        roads: &mut dyn DriveTimes,
    ) -> Result<UnitRecommendation, Rejection> {
        let i = self.incident_ref(incident)?;
        Ok(self.recommend_for(now, i, roads))
    }

    fn recommend_for(
        &self,
        now: Timestamp,
        i: &Incident,
        roads: &mut dyn DriveTimes,
    ) -> UnitRecommendation {
        let types = eligible_types(i.triage, i.category);
        let stale_ms = self.config.stale_position_s as i64 * 1000;
        let mut excluded = Vec::new();
        let mut eligible: Vec<(&Unit, LatLon, bool)> = Vec::new();
        for u in self.units.values() {
            if u.status == UnitStatus::OutOfService {
                excluded.push((u.id.clone(), Exclusion::OutOfService));
            } else if u.status != UnitStatus::Available {
                excluded.push((u.id.clone(), Exclusion::Busy));
            } else if !types.contains(&u.unit_type) {
                excluded.push((u.id.clone(), Exclusion::WrongType));
            } else {
                match u.last_fix {
                    Some(f) if now.0 - f.received.0 <= stale_ms => eligible.push((u, f.at, false)),
                    _ => eligible.push((u, u.base, true)),
                }
            }
        }
        let origins: Vec<LatLon> = eligible.iter().map(|e| e.1).collect();
        let etas = if origins.is_empty() {
            Vec::new()
        } else {
            roads.many_to_one(&origins, i.location)
        };
        let mut candidates = Vec::new();
        for ((u, _, from_base), eta) in eligible.into_iter().zip(etas) {
            match eta {
                Some(e) => candidates.push(Candidate {
                    unit: u.id.clone(),
                    call_sign: u.call_sign.clone(),
                    unit_type: u.unit_type,
                    eta_s: e.eta_s,
                    distance_m: e.distance_m,
                    from_base,
                    can_transport: u.unit_type.can_transport(),
                }),
                None => excluded.push((u.id.clone(), Exclusion::Unreachable)),
            }
        }
        let obstetric = |c: &Candidate| {
            i.category == Category::Maternal
                && self.units[&c.unit]
                    .capabilities
                    .iter()
                    .any(|k| k == "obstetric")
        };
        candidates.sort_by(|a, b| {
            a.eta_s
                .cmp(&b.eta_s)
                .then(obstetric(b).cmp(&obstetric(a)))
                .then(a.unit.cmp(&b.unit))
        });
        excluded.sort_by(|a, b| a.0.cmp(&b.0));
        UnitRecommendation {
            incident: i.id,
            candidates,
            excluded,
        }
    }

    /// Applies one event. The only place the state changes; events come from
    /// [`Dispatch::handle`], [`Dispatch::tick`] or the journal on replay.
    pub fn apply(&mut self, e: &Event) {
        match e {
            Event::UnitRegistered { unit } => {
                self.units.insert(unit.id.clone(), unit.clone());
            }
            Event::UnitMoved { unit, at, received } => {
                if let Some(u) = self.units.get_mut(unit) {
                    if let Some(old) = u.last_fix {
                        self.positions
                            .remove(&GeomWithData::new([old.at.lon, old.at.lat], unit.clone()));
                    }
                    u.last_fix = Some(Fix {
                        at: *at,
                        received: *received,
                    });
                    self.positions
                        .insert(GeomWithData::new([at.lon, at.lat], unit.clone()));
                }
            }
            Event::UnitStatusChanged {
                unit,
                status,
                at,
                device_at,
            } => {
                if let Some(u) = self.units.get_mut(unit) {
                    u.status = *status;
                    u.status_at = *at;
                    u.status_device_at = *device_at;
                }
            }
            Event::IncidentCreated { incident } => {
                self.next_incident = self.next_incident.max(incident.id.0 + 1);
                self.incidents.insert(incident.id, incident.clone());
            }
            Event::IncidentUpdated {
                incident,
                triage,
                category,
                patients,
                notes,
            } => {
                if let Some(i) = self.incidents.get_mut(incident) {
                    i.triage = *triage;
                    i.category = *category;
                    i.patients = *patients;
                    i.notes = notes.clone();
                }
            }
            Event::UnitAssigned {
                incident,
                unit,
                at,
                ack_deadline,
            } => {
                if let Some(i) = self.incidents.get_mut(incident) {
                    i.assignments.push(Assignment {
                        unit: unit.clone(),
                        assigned_at: *at,
                        ack_deadline: *ack_deadline,
                        state: AssignmentState::Pending,
                    });
                    i.status = IncidentStatus::Dispatched;
                }
                self.set_unit(unit, UnitStatus::Notified, Some(*incident), *at, None);
            }
            Event::AssignmentAcknowledged {
                incident,
                unit,
                at,
                device_at,
            } => {
                self.set_assignment(*incident, unit, AssignmentState::Acknowledged);
                self.set_unit(unit, UnitStatus::EnRoute, Some(*incident), *at, *device_at);
            }
            Event::AssignmentDeclined {
                incident,
                unit,
                at,
                reason,
            } => {
                self.release(
                    *incident,
                    unit,
                    AssignmentState::Declined {
                        reason: reason.clone(),
                    },
                    *at,
                    None,
                );
            }
            Event::AssignmentTimedOut { incident, unit, at } => {
                self.release(*incident, unit, AssignmentState::TimedOut, *at, None);
            }
            Event::AssignmentCancelled {
                incident,
                unit,
                at,
                reason,
            } => {
                self.release(
                    *incident,
                    unit,
                    AssignmentState::Cancelled {
                        reason: reason.clone(),
                    },
                    *at,
                    None,
                );
            }
            Event::AssignmentCompleted {
                incident,
                unit,
                at,
                device_at,
            } => {
                self.release(*incident, unit, AssignmentState::Completed, *at, *device_at);
                // Work done: the incident stays dispatched until the dispatcher closes it.
                if let Some(i) = self.incidents.get_mut(incident)
                    && i.status == IncidentStatus::Open
                {
                    i.status = IncidentStatus::Dispatched;
                }
            }
            Event::NextUnitProposed { .. } => {}
            Event::IncidentMerged { from, into, at: _ } => {
                let moved: Vec<Assignment> = match self.incidents.get_mut(from) {
                    Some(f) => {
                        f.status = IncidentStatus::Merged;
                        f.merged_into = Some(*into);
                        f.assignments
                            .iter()
                            .filter(|a| a.is_active())
                            .cloned()
                            .collect()
                    }
                    None => Vec::new(),
                };
                if let Some(f) = self.incidents.get_mut(from) {
                    // Both histories are kept: the source keeps its record of the units,
                    // marked as moved.
                    for a in f.assignments.iter_mut().filter(|a| a.is_active()) {
                        a.state = AssignmentState::Cancelled {
                            reason: format!("merged into {into}"),
                        };
                    }
                }
                for a in &moved {
                    if let Some(u) = self.units.get_mut(&a.unit) {
                        u.incident = Some(*into);
                    }
                }
                if let Some(t) = self.incidents.get_mut(into) {
                    if !moved.is_empty() {
                        t.status = IncidentStatus::Dispatched;
                    }
                    t.assignments.extend(moved);
                }
            }
            Event::IncidentCancelled {
                incident,
                at,
                reason,
            } => {
                let units: Vec<UnitId> = self
                    .incidents
                    .get(incident)
                    .map(|i| {
                        i.assignments
                            .iter()
                            .filter(|a| a.is_active())
                            .map(|a| a.unit.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                for u in units {
                    self.release(
                        *incident,
                        &u,
                        AssignmentState::Cancelled {
                            reason: reason.clone(),
                        },
                        *at,
                        None,
                    );
                }
                if let Some(i) = self.incidents.get_mut(incident) {
                    i.status = IncidentStatus::Cancelled;
                    i.outcome = Some(reason.clone());
                }
            }
            Event::IncidentClosed {
                incident,
                at: _,
                outcome,
            } => {
                if let Some(i) = self.incidents.get_mut(incident) {
                    i.status = IncidentStatus::Closed;
                    i.outcome = Some(outcome.clone());
                }
            }
        }
    }

    fn set_unit(
        &mut self,
        unit: &UnitId,
        status: UnitStatus,
        incident: Option<IncidentId>,
        at: Timestamp,
        device_at: Option<Timestamp>,
    ) {
        if let Some(u) = self.units.get_mut(unit) {
            u.status = status;
            u.incident = incident;
            u.status_at = at;
            u.status_device_at = device_at;
        }
    }

    fn set_assignment(&mut self, incident: IncidentId, unit: &UnitId, state: AssignmentState) {
        if let Some(i) = self.incidents.get_mut(&incident)
            && let Some(a) = i
                .assignments
                .iter_mut()
                .find(|a| &a.unit == unit && a.is_active())
        {
            a.state = state;
        }
    }

    /// Ends a unit's assignment and puts the unit back in service.
    fn release(
        &mut self,
        incident: IncidentId,
        unit: &UnitId,
        state: AssignmentState,
        at: Timestamp,
        device_at: Option<Timestamp>,
    ) {
        self.set_assignment(incident, unit, state);
        self.set_unit(unit, UnitStatus::Available, None, at, device_at);
        if let Some(i) = self.incidents.get_mut(&incident)
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

    /// Checks the invariants the property tests hold after every command: a unit works
    /// at most one incident, its status agrees with its assignment, and every active
    /// assignment's unit points back at the incident.
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
                        "unit {} is assigned to {} and {}",
                        a.unit, other, i.id
                    ));
                }
            }
        }
        for u in self.units.values() {
            match (active.get(&u.id), u.incident) {
                (Some(i), Some(j)) if *i == j && u.status.is_committed() => {}
                (None, None) if !u.status.is_committed() => {}
                _ => {
                    return Err(format!(
                        "unit {} has status {:?}, incident {:?}, active assignment {:?}",
                        u.id,
                        u.status,
                        u.incident,
                        active.get(&u.id)
                    ));
                }
            }
        }
        Ok(())
    }
}
