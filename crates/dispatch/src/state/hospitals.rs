//! Hospitals: their live capacity (beds and status), as the hospital reports it.

use super::Dispatch;
use crate::commands::Command;
use crate::events::Event;
use crate::ids::Timestamp;
use crate::rejection::Rejection;

impl Dispatch {
    /// The events of a hospital command, routed here by `Dispatch::decide`
    /// after validation, without changing anything.
    pub(super) fn decide_hospitals(
        &self,
        now: Timestamp,
        cmd: Command,
    ) -> Result<Vec<Event>, Rejection> {
        match cmd {
            Command::UpdateHospitalCapacity {
                hospital,
                free_igd_beds,
                free_icu_beds,
                status,
            } => {
                if !self.hospitals.contains_key(&hospital) {
                    return Err(Rejection::UnknownHospital { hospital });
                }
                Ok(vec![Event::HospitalCapacityUpdated {
                    hospital,
                    at: now,
                    free_igd_beds,
                    free_icu_beds,
                    status,
                }])
            }
            _ => unreachable!("Dispatch::decide routes only hospital commands here"),
        }
    }

    /// Applies a hospital event, routed here by `Dispatch::apply`.
    pub(super) fn apply_hospitals(&mut self, e: &Event) {
        match e {
            Event::HospitalCapacityUpdated {
                hospital,
                at,
                free_igd_beds,
                free_icu_beds,
                status,
            } => {
                if let Some(h) = self.hospitals.get_mut(hospital) {
                    h.capacity = crate::hospital::Capacity {
                        free_igd_beds: *free_igd_beds,
                        free_icu_beds: *free_icu_beds,
                        status: *status,
                        updated_at: Some(*at),
                    };
                }
            }
            _ => unreachable!("Dispatch::apply routes only hospital events here"),
        }
    }
}
