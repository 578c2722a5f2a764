//! [`Dispatch::validate`]: the values of each command, checked with the limits and
//! the field checks of this module, plus the state's two plausibility checks (a
//! position in the service area, a device time after what it answers).

use super::{
    MAX_ADDRESS_PART, MAX_ASSIGN_UNITS, MAX_BEDS, MAX_CALL_SIGN, MAX_CAPABILITIES, MAX_NAME,
    MAX_NOTES, MAX_PHONE, MAX_REASON, MAX_TEXT, check_address, check_patients, device_time,
    hospital_id, id, invalid, position, required, text, unit_id,
};
use crate::commands::Command;
use crate::ids::{LatLon, Timestamp, UnitId};
use crate::incident::Category;
use crate::rejection::Rejection;
use crate::state::Dispatch;

impl Dispatch {
    /// A position on Earth, and inside the service area when one is configured.
    pub fn check_position(&self, field: &str, p: LatLon) -> Result<(), Rejection> {
        position(p)?;
        let c = self.config();
        if let Some(area) = c.service_area
            && !area.contains(p, c.service_margin_m)
        {
            return Err(Rejection::OutsideServiceArea {
                field: field.to_string(),
                lat: p.lat,
                lon: p.lon,
                area,
                margin_m: c.service_margin_m,
            });
        }
        Ok(())
    }

    /// A device time, against this region's clock skew.
    pub fn check_device_time(
        &self,
        device_at: Option<Timestamp>,
        now: Timestamp,
        earliest: Option<Timestamp>,
    ) -> Result<(), Rejection> {
        device_time(device_at, now, self.config().clock_skew_s, earliest)
    }

    /// When the unit's current assignment was made (what a status report or an
    /// acknowledgement answers).
    fn assigned_at(
        &self,
        unit: &UnitId,
        incident: Option<crate::ids::IncidentId>,
    ) -> Option<Timestamp> {
        let u = self.unit(unit)?;
        let i = self.incident(incident.or(u.incident)?)?;
        i.assignments
            .iter()
            .rev()
            .find(|a| a.unit == *unit)
            .map(|a| a.assigned_at)
    }

    /// The values of `cmd` alone (and the time of what it answers): called first by
    /// `decide`, so every door gets the same refusal. Changes nothing.
    pub fn validate(&self, now: Timestamp, cmd: &Command) -> Result<(), Rejection> {
        match cmd {
            Command::UpdatePosition {
                unit,
                at,
                device_at,
            } => {
                // The hot path: no allocation unless refused.
                self.check_position("at", *at)?;
                self.check_device_time(*device_at, now, None)?;
                unit_id("unit", unit)
            }
            Command::RegisterUnit {
                id: u,
                call_sign,
                base_name,
                base,
                capabilities,
                ..
            } => {
                unit_id("id", u)?;
                required("call_sign", call_sign, MAX_CALL_SIGN)?;
                text("base_name", base_name, MAX_NAME)?;
                self.check_position("base", *base)?;
                if capabilities.len() > MAX_CAPABILITIES {
                    return Err(invalid(
                        "capabilities",
                        &format!("more than {MAX_CAPABILITIES}"),
                        &format!("lebih dari {MAX_CAPABILITIES}"),
                    ));
                }
                for c in capabilities {
                    id("capabilities", c)?;
                }
                Ok(())
            }
            Command::ReportStatus {
                unit, device_at, ..
            } => {
                unit_id("unit", unit)?;
                self.check_device_time(*device_at, now, self.assigned_at(unit, None))
            }
            Command::SetOutOfService {
                unit,
                reason,
                device_at,
            } => {
                unit_id("unit", unit)?;
                required("reason", reason, MAX_REASON)?;
                self.check_device_time(*device_at, now, None)
            }
            Command::ReturnToService { unit, device_at } => {
                unit_id("unit", unit)?;
                self.check_device_time(*device_at, now, None)
            }
            Command::CreateIncident {
                caller_name,
                caller_phone,
                location,
                address,
                category,
                patients,
                notes,
                ..
            } => {
                self.check_position("location", *location)?;
                required("caller_name", caller_name, MAX_NAME)?;
                required("caller_phone", caller_phone, MAX_PHONE)?;
                check_address(address, true)?;
                text("notes", notes, MAX_NOTES)?;
                check_patients(*patients, *category)
            }
            Command::UpdateIncident {
                incident,
                category,
                patients,
                notes,
                address,
                ..
            } => {
                if let Some(n) = notes {
                    text("notes", n, MAX_NOTES)?;
                }
                if let Some(a) = address {
                    check_address(a, true)?;
                }
                if let Some(p) = patients {
                    let cat = category
                        .or_else(|| self.incident(*incident).map(|i| i.category))
                        .unwrap_or(Category::Medical);
                    check_patients(*p, cat)?;
                }
                Ok(())
            }
            Command::AssignUnits { units, .. } => {
                if units.is_empty() || units.len() > MAX_ASSIGN_UNITS {
                    return Err(invalid(
                        "units",
                        &format!("name 1 to {MAX_ASSIGN_UNITS} units"),
                        &format!("sebutkan 1 sampai {MAX_ASSIGN_UNITS} unit"),
                    ));
                }
                units.iter().try_for_each(|u| unit_id("units", u))
            }
            Command::AcknowledgeAssignment {
                incident,
                unit,
                device_at,
            } => {
                unit_id("unit", unit)?;
                self.check_device_time(*device_at, now, self.assigned_at(unit, Some(*incident)))
            }
            Command::DeclineAssignment {
                incident,
                unit,
                reason,
                device_at,
            } => {
                unit_id("unit", unit)?;
                required("reason", reason, MAX_REASON)?;
                self.check_device_time(*device_at, now, self.assigned_at(unit, Some(*incident)))
            }
            Command::CancelAssignment { unit, reason, .. }
            | Command::ReassignUnit { unit, reason, .. } => {
                unit_id("unit", unit)?;
                required("reason", reason, MAX_REASON)
            }
            Command::MergeIncidents { .. } | Command::SendPreArrivalNotice { .. } => Ok(()),
            Command::CancelIncident { reason, .. }
            | Command::DeclineReferral { reason, .. }
            | Command::CancelReferral { reason, .. }
            | Command::CancelTransport { reason, .. } => required("reason", reason, MAX_REASON),
            Command::CloseIncident { outcome, .. } => required("outcome", outcome, MAX_REASON),
            Command::AcceptReferral { officer, .. } => required("officer", officer, MAX_NAME),
            Command::UpdateHospitalCapacity {
                hospital,
                free_igd_beds,
                free_icu_beds,
                ..
            } => {
                hospital_id("hospital", hospital)?;
                for (f, v) in [
                    ("free_igd_beds", free_igd_beds),
                    ("free_icu_beds", free_icu_beds),
                ] {
                    if v.is_some_and(|n| n > MAX_BEDS) {
                        return Err(invalid(
                            f,
                            &format!("more than {MAX_BEDS} beds"),
                            &format!("lebih dari {MAX_BEDS} tempat tidur"),
                        ));
                    }
                }
                Ok(())
            }
            Command::SendReferral {
                to,
                unit,
                form,
                patient,
                ..
            } => {
                hospital_id("to", to)?;
                if let Some(u) = unit {
                    unit_id("unit", u)?;
                }
                form.validate()?;
                patient.validate()?;
                for (f, v, max) in [
                    ("form.from", &form.from, MAX_NAME),
                    ("form.reason", &form.reason, MAX_REASON),
                    ("form.officer", &form.officer, MAX_NAME),
                    ("form.findings", &form.findings, MAX_TEXT),
                    (
                        "form.condition.history_exam",
                        &form.condition.history_exam,
                        MAX_TEXT,
                    ),
                    (
                        "form.condition.allergies",
                        &form.condition.allergies,
                        MAX_TEXT,
                    ),
                    ("patient.name", &patient.name, MAX_NAME),
                    ("patient.address", &patient.address, MAX_ADDRESS_PART),
                    ("patient.contact", &patient.contact, MAX_PHONE),
                ] {
                    text(f, v, max)?;
                }
                Ok(())
            }
            Command::BookTransport {
                reference,
                patient_name,
                patient_phone,
                pickup,
                pickup_address,
                destination,
                destination_name,
                destination_location,
                purpose,
                notes,
                ..
            } => {
                self.check_position("pickup", *pickup)?;
                self.check_position("destination_location", *destination_location)?;
                if let Some(h) = destination {
                    hospital_id("destination", h)?;
                }
                required("reference", reference, MAX_NAME)?;
                required("patient_name", patient_name, MAX_NAME)?;
                required("destination_name", destination_name, MAX_NAME)?;
                text("patient_phone", patient_phone, MAX_PHONE)?;
                text("pickup_address", pickup_address, MAX_ADDRESS_PART)?;
                text("purpose", purpose, MAX_REASON)?;
                text("notes", notes, MAX_NOTES)
            }
        }
    }
}
