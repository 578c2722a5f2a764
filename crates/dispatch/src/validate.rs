//! Every check of a command's own values, in one place: `Dispatch::decide` calls
//! [`Dispatch::validate`] first, so a command gets the same refusal whichever door it
//! came through (HTTP, WebSocket, the drill, the modules' bookings).
//!
//! The limits are constants here, and the OpenAPI schema is generated from the same
//! constants, so what the document promises is what the engine enforces.
//!
//! Checks that need the state beyond "does it exist" (is the unit free, is the
//! referral pending) stay with the decision in `state/`; a device time is checked
//! here against the assignment it answers, because that is a plausibility check of
//! the value, not a rule of the lifecycle.

use crate::commands::Command;
use crate::ids::{HospitalId, LatLon, Timestamp, UnitId, valid_position};
use crate::incident::{Address, Category};
use crate::rejection::Rejection;
use crate::state::Dispatch;
use serde::{Deserialize, Serialize};

/// Most characters of an id (unit, hospital, client id, username).
pub const MAX_ID: usize = 64;
/// Most characters of free text without a tighter limit (findings, history, ...).
pub const MAX_TEXT: usize = 2000;
/// Most characters of an incident's notes (the engine's and the API's one limit).
pub const MAX_NOTES: usize = 2000;
/// Most characters of a person's name (caller, patient, officer) or a place's.
pub const MAX_NAME: usize = 200;
/// Most characters of a phone number.
pub const MAX_PHONE: usize = 40;
/// Most characters of each part of an address.
pub const MAX_ADDRESS_PART: usize = 500;
/// Most characters of a reason or an outcome.
pub const MAX_REASON: usize = 1000;
/// Most characters of a call sign.
pub const MAX_CALL_SIGN: usize = 64;
/// Most capabilities of a unit, and characters of each.
pub const MAX_CAPABILITIES: usize = 20;
/// Patients of one incident: at least one (an information call may have none) ...
pub const MIN_PATIENTS: u32 = 1;
/// ... and at most this many (beyond: a mass-casualty incident).
pub const MAX_PATIENTS: u32 = 500;
/// Most free beds a hospital may report.
pub const MAX_BEDS: u32 = 10_000;
/// Most units one assignment names.
pub const MAX_ASSIGN_UNITS: usize = 20;
/// The margin around the region's box, by default (10 km).
pub const DEFAULT_SERVICE_MARGIN_M: f64 = 10_000.0;

/// The region's bounding box, in degrees. With [`crate::Config::service_margin_m`]
/// around it, it is the service area: positions outside are refused.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceArea {
    /// Southern edge.
    pub min_lat: f64,
    /// Western edge.
    pub min_lon: f64,
    /// Northern edge.
    pub max_lat: f64,
    /// Eastern edge.
    pub max_lon: f64,
}

impl ServiceArea {
    /// From bounds `(min_lat, min_lon, max_lat, max_lon)`, e.g. a road graph's.
    pub fn from_bounds(b: (f64, f64, f64, f64)) -> ServiceArea {
        ServiceArea {
            min_lat: b.0,
            min_lon: b.1,
            max_lat: b.2,
            max_lon: b.3,
        }
    }

    /// The box around every desa, kecamatan, hospital and puskesmas of a region.
    pub fn of_region(r: &satria_region::Region) -> ServiceArea {
        let points = r
            .desa
            .iter()
            .map(|d| d.centroid)
            .chain(r.kecamatan.iter().map(|k| k.centroid))
            .chain(r.hospitals.iter().map(|h| h.position))
            .chain(r.puskesmas.iter().map(|p| p.position));
        let mut b = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for p in points {
            b = (
                b.0.min(p.lat),
                b.1.min(p.lon),
                b.2.max(p.lat),
                b.3.max(p.lon),
            );
        }
        ServiceArea::from_bounds(b)
    }

    /// Whether `p` lies in the box grown by `margin_m` on every side.
    pub fn contains(&self, p: LatLon, margin_m: f64) -> bool {
        let g = self.grown(margin_m);
        (g.min_lat..=g.max_lat).contains(&p.lat) && (g.min_lon..=g.max_lon).contains(&p.lon)
    }

    /// The box grown by `margin_m` on every side: exactly the positions
    /// [`ServiceArea::contains`] accepts (the OpenAPI document states it).
    pub fn grown(&self, margin_m: f64) -> ServiceArea {
        let dlat = margin_m / 111_195.0;
        let mid = ((self.min_lat + self.max_lat) / 2.0)
            .to_radians()
            .cos()
            .max(1e-6);
        let dlon = dlat / mid;
        ServiceArea {
            min_lat: self.min_lat - dlat,
            min_lon: self.min_lon - dlon,
            max_lat: self.max_lat + dlat,
            max_lon: self.max_lon + dlon,
        }
    }
}

pub(crate) fn invalid(field: &str, why: &str, why_id: &str) -> Rejection {
    Rejection::InvalidField {
        field: field.into(),
        why: why.into(),
        why_id: why_id.into(),
    }
}

/// At most `max` characters.
pub fn text(field: &str, v: &str, max: usize) -> Result<(), Rejection> {
    if v.chars().count() > max {
        return Err(invalid(
            field,
            &format!("longer than {max} characters"),
            &format!("lebih dari {max} karakter"),
        ));
    }
    Ok(())
}

/// Not blank, at most `max` characters.
pub fn required(field: &str, v: &str, max: usize) -> Result<(), Rejection> {
    text(field, v, max)?;
    if v.trim().is_empty() {
        return Err(invalid(field, "is required", "wajib diisi"));
    }
    Ok(())
}

/// An id: 1 to [`MAX_ID`] characters, no control characters. Shared with the server for client ids and usernames.
pub fn id(field: &str, v: &str) -> Result<(), Rejection> {
    let n = v.chars().count();
    if n == 0 || n > MAX_ID {
        return Err(invalid(
            field,
            &format!("must be 1 to {MAX_ID} characters"),
            &format!("harus 1 sampai {MAX_ID} karakter"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(invalid(
            field,
            "must not contain control characters",
            "tidak boleh berisi karakter kontrol",
        ));
    }
    Ok(())
}

fn unit_id(field: &str, u: &UnitId) -> Result<(), Rejection> {
    id(field, &u.0)
}

fn hospital_id(field: &str, h: &HospitalId) -> Result<(), Rejection> {
    id(field, &h.0)
}

/// A device (phone) time: not negative, not later than `now` plus the clock skew,
/// and, when it answers something the server sent at `earliest`, not before that
/// minus the skew.
pub fn device_time(
    device_at: Option<Timestamp>,
    now: Timestamp,
    skew_s: u32,
    earliest: Option<Timestamp>,
) -> Result<(), Rejection> {
    let Some(t) = device_at else {
        return Ok(());
    };
    let latest = now.plus_s(skew_s);
    if t > latest {
        return Err(Rejection::DeviceTimeInFuture {
            device_at: t,
            latest,
        });
    }
    let earliest = earliest
        .map(|e| Timestamp(e.0.saturating_sub(i64::from(skew_s) * 1000).max(0)))
        .unwrap_or(Timestamp(0));
    if t < earliest {
        return Err(Rejection::DeviceTimeTooEarly {
            device_at: t,
            earliest,
        });
    }
    Ok(())
}

/// A real latitude/longitude (finite, in range). Whether it lies in the service
/// area is [`Dispatch::check_position`]'s question.
pub fn position(p: LatLon) -> Result<(), Rejection> {
    if valid_position(p) {
        Ok(())
    } else {
        Err(Rejection::InvalidPosition {
            lat: p.lat,
            lon: p.lon,
        })
    }
}

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

/// Each part within its limit and, when `needed`, at least one part given.
fn check_address(a: &Address, needed: bool) -> Result<(), Rejection> {
    for (f, v) in [
        ("address.desa", &a.desa),
        ("address.rt_rw", &a.rt_rw),
        ("address.landmark", &a.landmark),
        ("address.text", &a.text),
    ] {
        text(f, v, MAX_ADDRESS_PART)?;
    }
    if needed
        && [&a.desa, &a.rt_rw, &a.landmark, &a.text]
            .iter()
            .all(|v| v.trim().is_empty())
    {
        return Err(invalid(
            "address",
            "is required (the desa, a landmark or the address as words)",
            "wajib diisi (desa, patokan atau alamat)",
        ));
    }
    Ok(())
}

fn check_patients(p: u32, category: Category) -> Result<(), Rejection> {
    if p < MIN_PATIENTS && category != Category::Information {
        return Err(invalid(
            "patients",
            "at least 1 patient (only an information call has none)",
            "paling sedikit 1 pasien (hanya panggilan informasi tanpa pasien)",
        ));
    }
    if p > MAX_PATIENTS {
        return Err(invalid(
            "patients",
            &format!("more than {MAX_PATIENTS} patients: declare a mass-casualty incident instead"),
            &format!("lebih dari {MAX_PATIENTS} pasien: nyatakan kejadian korban massal"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, DriveTimes, IncidentId, StraightLine, Triage, demo_fleet, demo_hospitals};

    fn region() -> Dispatch {
        let config = Config {
            service_area: Some(ServiceArea::of_region(&satria_region::Region::banyumas())),
            auto_assign_merah: false,
            ..Config::default()
        };
        Dispatch::new(config, demo_fleet(), demo_hospitals())
    }

    fn incident(lat: f64, lon: f64, name: &str, patients: u32) -> Command {
        Command::CreateIncident {
            caller_name: name.into(),
            caller_phone: "0813".into(),
            location: LatLon { lat, lon },
            address: Address {
                desa: "Sokanegara".into(),
                rt_rw: String::new(),
                landmark: String::new(),
                text: String::new(),
            },
            triage: Triage::Kuning,
            category: Category::Medical,
            patients,
            notes: String::new(),
        }
    }

    fn code(r: Result<Vec<crate::Event>, Rejection>) -> String {
        match r {
            Ok(_) => "ok".into(),
            Err(e) => serde_json::to_value(&e).unwrap()["code"]
                .as_str()
                .unwrap()
                .to_string(),
        }
    }

    #[test]
    fn positions_outside_the_service_area_are_refused_and_change_nothing() {
        let roads: &dyn DriveTimes = &StraightLine::default();
        let mut d = region();
        let before = d.clone();
        let now = Timestamp(1_000_000);
        for (lat, lon) in [(0.0, 0.0), (-75.0, 0.0), (-7.42, 110.5), (-6.0, 109.2)] {
            assert_eq!(
                code(d.handle(now, incident(lat, lon, "Siti", 1), roads)),
                "outside_service_area"
            );
        }
        let moved = Command::UpdatePosition {
            unit: UnitId("PSC-01".into()),
            at: LatLon { lat: 0.0, lon: 0.0 },
            device_at: None,
        };
        assert_eq!(code(d.handle(now, moved, roads)), "outside_service_area");
        assert_eq!(d, before);
        // Just inside the margin: 5 km south of the southernmost point.
        let area = d.config().service_area.unwrap();
        let south = area.min_lat - 5_000.0 / 111_195.0;
        assert_eq!(
            code(d.handle(now, incident(south, 109.2, "Siti", 1), roads)),
            "ok"
        );
        assert_eq!(
            code(d.handle(now, incident(south - 0.1, 109.2, "Siti", 1), roads)),
            "outside_service_area"
        );
    }

    #[test]
    fn required_fields_patients_and_ids() {
        let roads: &dyn DriveTimes = &StraightLine::default();
        let mut d = region();
        let now = Timestamp(1_000_000);
        assert_eq!(
            code(d.handle(now, incident(-7.42, 109.23, " ", 1), roads)),
            "invalid_field"
        );
        assert_eq!(
            code(d.handle(now, incident(-7.42, 109.23, "Siti", 0), roads)),
            "invalid_field"
        );
        assert_eq!(
            code(d.handle(
                now,
                incident(-7.42, 109.23, "Siti", MAX_PATIENTS + 1),
                roads
            )),
            "invalid_field"
        );
        let mut info = incident(-7.42, 109.23, "Siti", 0);
        if let Command::CreateIncident { category, .. } = &mut info {
            *category = Category::Information;
        }
        assert_eq!(
            code(d.handle(now, info, roads)),
            "ok",
            "an information call has no patient"
        );
        let capacity = Command::UpdateHospitalCapacity {
            hospital: HospitalId("RS\u{0}X".into()),
            free_igd_beds: None,
            free_icu_beds: None,
            status: crate::HospitalStatus::Open,
        };
        assert_eq!(code(d.handle(now, capacity, roads)), "invalid_field");
    }

    #[test]
    fn device_times_are_checked_against_the_clock_and_the_assignment_they_answer() {
        let roads: &dyn DriveTimes = &StraightLine::default();
        let mut d = region();
        let t0 = Timestamp(10_000_000);
        d.handle(t0, incident(-7.42, 109.23, "Siti", 1), roads)
            .unwrap();
        let unit = UnitId("PSC-01".into());
        let incident = IncidentId(1);
        d.handle(
            t0,
            Command::AssignUnits {
                incident,
                units: vec![unit.clone()],
            },
            roads,
        )
        .unwrap();
        let now = t0.plus_s(10);
        let ack = |t: i64| Command::AcknowledgeAssignment {
            incident,
            unit: unit.clone(),
            device_at: Some(Timestamp(t)),
        };
        let before = d.clone();
        assert_eq!(
            code(d.handle(now, ack(now.0 + 61_000), roads)),
            "device_time_in_future"
        );
        assert_eq!(
            code(d.handle(now, ack(t0.0 - 61_000), roads)),
            "device_time_too_early"
        );
        assert_eq!(code(d.handle(now, ack(-5), roads)), "device_time_too_early");
        assert_eq!(d, before);
        // Within the skew either side: a phone a little fast or slow.
        assert_eq!(code(d.handle(now, ack(t0.0 - 59_000), roads)), "ok");
        let status = |t: i64| Command::ReportStatus {
            unit: unit.clone(),
            status: crate::UnitStatus::OnScene,
            device_at: Some(Timestamp(t)),
        };
        assert_eq!(
            code(d.handle(now, status(-5), roads)),
            "device_time_too_early"
        );
        assert_eq!(
            code(d.handle(now, status(32_503_680_000_000), roads)),
            "device_time_in_future"
        );
        assert_eq!(code(d.handle(now, status(now.0 + 60_000), roads)), "ok");
    }
}
