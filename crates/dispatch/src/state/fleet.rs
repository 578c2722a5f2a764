//! The fleet: a unit's registration, its live positions, the statuses its crew
//! reports (the last of which completes its assignment or hands its patient over),
//! out of service and back. The helpers that change a unit's record (`insert_unit`,
//! `unit_mut`, `set_unit`) live here; assignment and merge events use them too.

use super::Dispatch;
use super::point;
use crate::commands::Command;
use crate::events::Event;
use crate::fleet::{Unit, UnitStatus};
use crate::ids::{IncidentId, Timestamp, UnitId};
use crate::referral::ReferralStatus;
use crate::rejection::Rejection;

impl Dispatch {
    /// The events of a fleet command, routed here by `Dispatch::decide`
    /// after validation, without changing anything.
    pub(super) fn decide_fleet(
        &self,
        now: Timestamp,
        cmd: Command,
    ) -> Result<Vec<Event>, Rejection> {
        match cmd {
            Command::UpdatePosition {
                unit,
                at,
                device_at,
            } => {
                // The hot path: one hash lookup and a range check; the id moves into
                // the event, nothing is cloned.
                if !self.unit_index.contains_key(&unit) {
                    return Err(Rejection::UnknownUnit { unit });
                }
                Ok(vec![Event::UnitMoved {
                    unit,
                    at,
                    received: now,
                    device_at,
                }])
            }
            Command::RegisterUnit {
                id,
                call_sign,
                unit_type,
                owner,
                base_name,
                base,
                capabilities,
            } => {
                if self.unit_index.contains_key(&id) {
                    return Err(Rejection::DuplicateUnit { unit: id });
                }
                let caps: Vec<&str> = capabilities.iter().map(String::as_str).collect();
                let mut u = Unit::new(&id.0, &call_sign, unit_type, owner, &base_name, base, &caps);
                u.status_at = now;
                Ok(vec![Event::UnitRegistered { unit: Box::new(u) }])
            }
            Command::ReportStatus {
                unit,
                status,
                device_at,
            } => self.decide_status(now, unit, status, device_at),
            Command::SetOutOfService {
                unit,
                reason,
                device_at,
            } => {
                let u = self.unit_ref(&unit)?;
                if u.status != UnitStatus::Available {
                    return Err(Rejection::InvalidTransition {
                        unit,
                        from: u.status,
                        to: UnitStatus::OutOfService,
                    });
                }
                Ok(vec![Event::UnitOutOfService {
                    unit,
                    at: now,
                    reason,
                    device_at,
                }])
            }
            Command::ReturnToService { unit, device_at } => {
                let u = self.unit_ref(&unit)?;
                if u.status != UnitStatus::OutOfService {
                    return Err(Rejection::InvalidTransition {
                        unit,
                        from: u.status,
                        to: UnitStatus::Available,
                    });
                }
                Ok(vec![Event::UnitBackInService {
                    unit,
                    at: now,
                    device_at,
                }])
            }
            _ => unreachable!("Dispatch::decide routes only fleet commands here"),
        }
    }

    /// Applies a fleet event, routed here by `Dispatch::apply`.
    pub(super) fn apply_fleet(&mut self, e: &Event) {
        match e {
            Event::UnitMoved {
                unit,
                at,
                received,
                device_at,
            } => {
                let Some(&k) = self.unit_index.get(unit) else {
                    return;
                };
                let u = &mut self.units[k as usize];
                if let Some(old) = u.last_fix {
                    self.positions.remove(&point(old.at, k));
                }
                u.last_fix = Some(crate::fleet::Fix {
                    at: *at,
                    received: *received,
                    device_at: *device_at,
                });
                self.positions.insert(point(*at, k));
            }
            Event::UnitRegistered { unit } => {
                if !self.unit_index.contains_key(&unit.id) {
                    self.insert_unit((**unit).clone());
                }
            }
            Event::UnitStatusChanged {
                unit,
                status,
                at,
                device_at,
            } => {
                if let Some(u) = self.unit_mut(unit) {
                    u.status = *status;
                    u.status_at = *at;
                    u.status_device_at = *device_at;
                    if let Some(i) = u.incident {
                        self.log(i, *at, e, Some(unit), format!("{status:?}"));
                    }
                }
            }
            Event::UnitOutOfService {
                unit,
                at,
                reason,
                device_at,
            } => {
                if let Some(u) = self.unit_mut(unit) {
                    u.status = UnitStatus::OutOfService;
                    u.status_at = *at;
                    u.status_device_at = *device_at;
                    u.out_of_service_reason = Some(reason.clone());
                }
            }
            Event::UnitBackInService {
                unit,
                at,
                device_at,
            } => {
                if let Some(u) = self.unit_mut(unit) {
                    u.status = UnitStatus::Available;
                    u.status_at = *at;
                    u.status_device_at = *device_at;
                    u.out_of_service_reason = None;
                }
            }
            _ => unreachable!("Dispatch::apply routes only fleet events here"),
        }
    }

    pub(super) fn insert_unit(&mut self, u: Unit) {
        let k = self.units.len() as u32;
        if let Some(f) = u.last_fix {
            self.positions.insert(point(f.at, k));
        }
        self.unit_index.insert(u.id.clone(), k);
        self.units.push(u);
    }

    fn decide_status(
        &self,
        now: Timestamp,
        unit: UnitId,
        status: UnitStatus,
        device_at: Option<Timestamp>,
    ) -> Result<Vec<Event>, Rejection> {
        let u = self.unit_ref(&unit)?;
        let from = u.status;
        let Some(incident) = u.incident else {
            // An idle unit reports nothing here: out of and back into service have
            // their own commands, on-scene before being assigned is refused.
            return Err(Rejection::InvalidTransition {
                unit,
                from,
                to: status,
            });
        };
        if !from.crew_next().contains(&status) {
            return Err(Rejection::InvalidTransition {
                unit,
                from,
                to: status,
            });
        }
        if status == UnitStatus::Available {
            return Ok(vec![Event::AssignmentCompleted {
                incident,
                unit,
                at: now,
                device_at,
            }]);
        }
        let mut events = vec![Event::UnitStatusChanged {
            unit: unit.clone(),
            status,
            at: now,
            device_at,
        }];
        if status == UnitStatus::TransferOfCare {
            // The handover closes the accepted referral this unit carries (or the
            // incident's accepted referral that names no unit).
            let r = self.referrals.values().find(|r| {
                r.incident == incident
                    && r.status == ReferralStatus::Accepted
                    && r.unit.as_ref().is_none_or(|x| *x == unit)
            });
            if let Some(r) = r {
                events.push(Event::HandoverRecorded {
                    referral: r.id,
                    unit,
                    at: now,
                    device_at,
                });
            }
        }
        Ok(events)
    }

    pub(super) fn unit_mut(&mut self, id: &UnitId) -> Option<&mut Unit> {
        let k = *self.unit_index.get(id)?;
        Some(&mut self.units[k as usize])
    }

    pub(super) fn set_unit(
        &mut self,
        unit: &UnitId,
        status: UnitStatus,
        incident: Option<IncidentId>,
        at: Timestamp,
        device_at: Option<Timestamp>,
    ) {
        if let Some(u) = self.unit_mut(unit) {
            u.status = status;
            u.incident = incident;
            u.status_at = at;
            u.status_device_at = device_at;
        }
    }
}
