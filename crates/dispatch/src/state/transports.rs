//! Scheduled non-emergency transports: booking, cancelling, and turning a booking
//! into an incident with a unit when its time comes, under the rule of
//! [`crate::transport`].

use super::Dispatch;
use crate::commands::Command;
use crate::events::Event;
use crate::fleet::{Unit, UnitStatus, UnitType};
use crate::ids::{IncidentId, Timestamp};
use crate::incident::{Incident, IncidentStatus, Triage};
use crate::rejection::Rejection;
use crate::roads::DriveTimes;
use crate::transport::{Booking, BookingId, BookingStatus};
use crate::validate::invalid;
use std::sync::Arc;

impl Dispatch {
    /// The events of a transport command, routed here by `Dispatch::decide`
    /// after validation, without changing anything.
    pub(super) fn decide_transports(
        &self,
        now: Timestamp,
        cmd: Command,
        roads: &dyn DriveTimes,
    ) -> Result<Vec<Event>, Rejection> {
        match cmd {
            Command::BookTransport {
                reference,
                patient_name,
                patient_phone,
                pickup,
                pickup_address,
                destination,
                destination_name,
                destination_location,
                scheduled_for,
                purpose,
                notes,
            } => {
                if let Some(h) = &destination
                    && !self.hospitals.contains_key(h)
                {
                    return Err(Rejection::UnknownHospital {
                        hospital: h.clone(),
                    });
                }
                if scheduled_for < now {
                    return Err(invalid("scheduled_for", "is in the past", "sudah lewat"));
                }
                if scheduled_for > now.plus_s(self.config.transport_horizon_s) {
                    return Err(invalid(
                        "scheduled_for",
                        "is too far ahead",
                        "terlalu jauh ke depan",
                    ));
                }
                Ok(vec![Event::TransportBooked {
                    booking: Box::new(Booking {
                        id: BookingId(self.next_booking),
                        reference,
                        patient_name,
                        patient_phone,
                        pickup,
                        pickup_address,
                        destination,
                        destination_name,
                        destination_location,
                        scheduled_for,
                        purpose,
                        notes,
                        booked_at: now,
                        status: BookingStatus::Scheduled,
                        ended: None,
                    }),
                }])
            }
            Command::CancelTransport { booking, reason } => {
                let b = self
                    .bookings
                    .get(&booking)
                    .ok_or(Rejection::UnknownBooking { booking })?;
                let mut events = vec![Event::TransportCancelled {
                    booking,
                    at: now,
                    reason: reason.clone(),
                }];
                match &b.status {
                    BookingStatus::Scheduled => {}
                    BookingStatus::Cancelled { .. } => {
                        return Err(Rejection::BookingClosed { booking });
                    }
                    BookingStatus::Dispatched { incident, .. } => {
                        // Its incident goes with it, unless it already ended.
                        // (An archived incident ended long ago.)
                        if self.incident(*incident).is_some_and(|i| i.status.is_open()) {
                            events.extend(self.decide(
                                now,
                                Command::CancelIncident {
                                    incident: *incident,
                                    reason,
                                },
                                roads,
                            )?);
                        }
                    }
                }
                Ok(events)
            }
            _ => unreachable!("Dispatch::decide routes only transport commands here"),
        }
    }

    /// Applies a transport event, routed here by `Dispatch::apply`.
    pub(super) fn apply_transports(&mut self, e: &Event) {
        match e {
            Event::TransportBooked { booking } => {
                self.next_booking = self.next_booking.max(booking.id.0 + 1);
                self.bookings
                    .insert(booking.id, Arc::new((**booking).clone()));
            }
            Event::TransportDispatched {
                booking,
                incident,
                at,
            } => {
                if let Some(b) = self.bookings.get_mut(booking).map(Arc::make_mut) {
                    b.status = BookingStatus::Dispatched {
                        incident: *incident,
                        at: *at,
                    };
                    let detail = format!("{booking} ({})", b.reference);
                    self.log(*incident, *at, e, None, detail);
                }
            }
            Event::TransportCancelled {
                booking,
                at,
                reason,
            } => {
                if let Some(b) = self.bookings.get_mut(booking).map(Arc::make_mut) {
                    b.status = BookingStatus::Cancelled {
                        reason: reason.clone(),
                        at: *at,
                    };
                }
            }
            _ => unreachable!("Dispatch::apply routes only transport events here"),
        }
    }

    /// When a booked transport becomes an incident: its pickup time less
    /// `Config::transport_lead_s`.
    pub(super) fn transport_due_at(&self, b: &Booking) -> Timestamp {
        Timestamp(
            b.scheduled_for
                .0
                .saturating_sub(i64::from(self.config.transport_lead_s) * 1000),
        )
    }

    /// The scheduled transports whose time has come, as incidents, and a unit for
    /// each dispatched one still without one, under the rule of
    /// [`crate::transport`]: never an ALS unit or a motorbike, a BLS unit only while
    /// `Config::transport_reserve` other merah-capable ambulances stay available.
    pub(super) fn schedule_transports(
        &mut self,
        now: Timestamp,
        roads: &dyn DriveTimes,
    ) -> Vec<Event> {
        let mut events = Vec::new();
        let due: Vec<BookingId> = self
            .bookings
            .values()
            .filter(|b| b.status == BookingStatus::Scheduled && now >= self.transport_due_at(b))
            .map(|b| b.id)
            .collect();
        for id in due {
            let b = &self.bookings[&id];
            let incident = Incident {
                id: IncidentId(self.next_incident),
                received_at: now,
                caller_name: b.patient_name.clone(),
                caller_phone: b.patient_phone.clone(),
                location: b.pickup,
                address: crate::incident::Address {
                    text: b.pickup_address.clone(),
                    ..Default::default()
                },
                triage: Triage::Hijau,
                category: crate::incident::Category::InterFacilityTransfer,
                patients: 1,
                notes: format!(
                    "Transport terjadwal / scheduled transport {} ({}) → {}: {}. {}",
                    b.id, b.reference, b.destination_name, b.purpose, b.notes
                ),
                status: IncidentStatus::Open,
                assignments: Vec::new(),
                possible_duplicate_of: None,
                merged_into: None,
                merged_from: Vec::new(),
                outcome: None,
                ended_at: None,
                history: Vec::new(),
            };
            let iid = incident.id;
            for e in [
                Event::IncidentCreated {
                    incident: Box::new(incident),
                },
                Event::TransportDispatched {
                    booking: id,
                    incident: iid,
                    at: now,
                },
            ] {
                self.apply(&e);
                events.push(e);
            }
        }
        let waiting: Vec<IncidentId> = self
            .bookings
            .values()
            .filter_map(|b| match b.status {
                BookingStatus::Dispatched { incident, .. } => Some(incident),
                _ => None,
            })
            .filter(|i| {
                self.incident(*i)
                    .is_some_and(|i| i.status.is_open() && i.active_units().next().is_none())
            })
            .collect();
        for iid in waiting {
            let rec = self.recommend_units_for(now, &self.incidents[&iid], roads);
            let merah_capable = |u: &Unit| {
                u.status == UnitStatus::Available
                    && matches!(u.unit_type, UnitType::Als | UnitType::Bls)
            };
            let spare = self.units.iter().filter(|u| merah_capable(u)).count();
            let pick = rec.candidates.iter().find(|c| match c.unit_type {
                UnitType::Transport => true,
                // Taking it leaves `spare - 1` for emergencies.
                UnitType::Bls => spare > self.config.transport_reserve,
                UnitType::Als | UnitType::Motorbike => false,
            });
            if let Some(c) = pick {
                let e = Event::UnitAssigned {
                    incident: iid,
                    unit: c.unit.clone(),
                    at: now,
                    ack_deadline: now.plus_s(self.config.ack_timeout_s),
                    automatic: true,
                };
                self.apply(&e);
                events.push(e);
            }
        }
        events
    }
}
