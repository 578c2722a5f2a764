//! Why a command was refused. A rejection changes nothing: `Dispatch::handle` decides
//! every event before applying any.
//!
//! Outcomes such as "no ambulance available" or "hospital full" are not rejections:
//! they are answers, carried by recommendations and events.

use crate::fleet::UnitStatus;
use crate::ids::{HospitalId, IncidentId, ReferralId, Timestamp, UnitId};
use crate::incident::IncidentStatus;
use crate::transport::BookingId;
use crate::validate::ServiceArea;
use serde::Serialize;

/// Why a command was refused (English by `Display`, Bahasa Indonesia by
/// [`Rejection::message_id`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Rejection {
    /// No such unit.
    #[error("unit {unit} does not exist")]
    UnknownUnit {
        /// The id given.
        unit: UnitId,
    },
    /// No such incident.
    #[error("incident {incident} does not exist")]
    UnknownIncident {
        /// The id given.
        incident: IncidentId,
    },
    /// No such hospital.
    #[error("hospital {hospital} does not exist")]
    UnknownHospital {
        /// The id given.
        hospital: HospitalId,
    },
    /// No such referral.
    #[error("referral {referral} does not exist")]
    UnknownReferral {
        /// The id given.
        referral: ReferralId,
    },
    /// A unit with this id is already registered.
    #[error("unit {unit} is already registered")]
    DuplicateUnit {
        /// The id given.
        unit: UnitId,
    },
    /// Coordinates out of range or not finite.
    #[error("position {lat},{lon} is not a valid latitude/longitude")]
    InvalidPosition {
        /// Latitude given.
        lat: f64,
        /// Longitude given.
        lon: f64,
    },
    /// A position outside the region's service area (its box plus the margin).
    #[error(
        "{field} {lat},{lon} is outside the service area (lat {:.4}..{:.4}, lon {:.4}..{:.4}, plus {:.0} km)",
        area.min_lat, area.max_lat, area.min_lon, area.max_lon, margin_m / 1000.0
    )]
    OutsideServiceArea {
        /// The field, e.g. `location`.
        field: String,
        /// Latitude given.
        lat: f64,
        /// Longitude given.
        lon: f64,
        /// The region's box.
        area: ServiceArea,
        /// The margin around it, in metres.
        margin_m: f64,
    },
    /// A device time later than the server's clock plus the allowed skew.
    #[error("device_at {device_at} is in the future (latest {latest}); check the phone's clock")]
    DeviceTimeInFuture {
        /// The time given.
        device_at: Timestamp,
        /// The latest accepted now.
        latest: Timestamp,
    },
    /// A device time before what it answers (or before 1970).
    #[error("device_at {device_at} is too early (earliest {earliest}); check the phone's clock")]
    DeviceTimeTooEarly {
        /// The time given.
        device_at: Timestamp,
        /// The earliest accepted.
        earliest: Timestamp,
    },
    /// A field is missing, too long or implausible.
    #[error("{field}: {why}")]
    InvalidField {
        /// The field, e.g. `patient.nik`.
        field: String,
        /// What is wrong, in English.
        why: String,
        /// What is wrong, in Bahasa Indonesia.
        why_id: String,
    },
    /// The unit is busy or out of service.
    #[error("unit {unit} is not available (it is {status:?})")]
    UnitNotAvailable {
        /// The unit.
        unit: UnitId,
        /// Its status.
        status: UnitStatus,
    },
    /// The incident is closed, cancelled or merged.
    #[error("incident {incident} is {status:?}, not open")]
    IncidentNotOpen {
        /// The incident.
        incident: IncidentId,
        /// Its status.
        status: IncidentStatus,
    },
    /// Acknowledge or decline without a pending assignment.
    #[error("unit {unit} has no assignment to incident {incident} waiting for acknowledgement")]
    NoPendingAssignment {
        /// The unit.
        unit: UnitId,
        /// The incident.
        incident: IncidentId,
    },
    /// The unit is not working this incident.
    #[error("unit {unit} is not assigned to incident {incident}")]
    NotAssigned {
        /// The unit.
        unit: UnitId,
        /// The incident.
        incident: IncidentId,
    },
    /// A status change the lifecycle does not allow (e.g. on scene before assigned).
    #[error("unit {unit} cannot go from {from:?} to {to:?}")]
    InvalidTransition {
        /// The unit.
        unit: UnitId,
        /// Its status.
        from: UnitStatus,
        /// The status asked for.
        to: UnitStatus,
    },
    /// Closing an incident that units are still working.
    #[error("incident {incident} still has {count} unit(s) working it")]
    UnitsStillAssigned {
        /// The incident.
        incident: IncidentId,
        /// How many units.
        count: usize,
    },
    /// Merging an incident into itself.
    #[error("an incident cannot be merged into itself")]
    SameIncident,
    /// Answering or changing a referral that is no longer pending.
    #[error("referral {referral} is closed ({state})")]
    ReferralClosed {
        /// The referral.
        referral: ReferralId,
        /// Its state, e.g. `expired`.
        state: String,
    },
    /// A pre-arrival notice for a referral the hospital has not accepted.
    #[error("referral {referral} has not been accepted")]
    ReferralNotAccepted {
        /// The referral.
        referral: ReferralId,
    },
    /// No such scheduled transport.
    #[error("transport booking {booking} does not exist")]
    UnknownBooking {
        /// The id given.
        booking: BookingId,
    },
    /// Cancelling a booking that is already cancelled.
    #[error("transport booking {booking} is already cancelled")]
    BookingClosed {
        /// The booking.
        booking: BookingId,
    },
    /// A live referral of this incident to this hospital already exists.
    #[error("incident {incident} already has a live referral to hospital {hospital}")]
    AlreadyReferred {
        /// The incident.
        incident: IncidentId,
        /// The hospital.
        hospital: HospitalId,
    },
}

impl Rejection {
    /// The stable machine code (the `code` of the JSON form), e.g. `unknown_unit`.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::UnknownUnit { .. } => "unknown_unit",
            Rejection::UnknownIncident { .. } => "unknown_incident",
            Rejection::UnknownHospital { .. } => "unknown_hospital",
            Rejection::UnknownReferral { .. } => "unknown_referral",
            Rejection::DuplicateUnit { .. } => "duplicate_unit",
            Rejection::InvalidPosition { .. } => "invalid_position",
            Rejection::OutsideServiceArea { .. } => "outside_service_area",
            Rejection::DeviceTimeInFuture { .. } => "device_time_in_future",
            Rejection::DeviceTimeTooEarly { .. } => "device_time_too_early",
            Rejection::InvalidField { .. } => "invalid_field",
            Rejection::UnitNotAvailable { .. } => "unit_not_available",
            Rejection::IncidentNotOpen { .. } => "incident_not_open",
            Rejection::NoPendingAssignment { .. } => "no_pending_assignment",
            Rejection::NotAssigned { .. } => "not_assigned",
            Rejection::InvalidTransition { .. } => "invalid_transition",
            Rejection::UnitsStillAssigned { .. } => "units_still_assigned",
            Rejection::SameIncident => "same_incident",
            Rejection::ReferralClosed { .. } => "referral_closed",
            Rejection::ReferralNotAccepted { .. } => "referral_not_accepted",
            Rejection::UnknownBooking { .. } => "unknown_booking",
            Rejection::BookingClosed { .. } => "booking_closed",
            Rejection::AlreadyReferred { .. } => "already_referred",
        }
    }

    /// The reason in Bahasa Indonesia, for the consoles.
    pub fn message_id(&self) -> String {
        match self {
            Rejection::UnknownUnit { unit: u } => format!("unit {u} tidak ada"),
            Rejection::UnknownIncident { incident: i } => format!("kejadian {i} tidak ada"),
            Rejection::UnknownHospital { hospital: h } => format!("rumah sakit {h} tidak ada"),
            Rejection::UnknownReferral { referral: r } => format!("rujukan {r} tidak ada"),
            Rejection::DuplicateUnit { unit: u } => format!("unit {u} sudah terdaftar"),
            Rejection::InvalidPosition { lat, lon } => {
                format!("posisi {lat},{lon} bukan lintang/bujur yang sah")
            }
            Rejection::OutsideServiceArea {
                field,
                lat,
                lon,
                area,
                margin_m,
            } => format!(
                "{field} {lat},{lon} di luar wilayah layanan (lat {:.4}..{:.4}, lon {:.4}..{:.4}, ditambah {:.0} km)",
                area.min_lat,
                area.max_lat,
                area.min_lon,
                area.max_lon,
                margin_m / 1000.0
            ),
            Rejection::DeviceTimeInFuture { .. } => {
                "device_at ada di masa depan; periksa jam ponsel".into()
            }
            Rejection::DeviceTimeTooEarly { .. } => {
                "device_at terlalu awal, sebelum yang dijawabnya; periksa jam ponsel".into()
            }
            Rejection::InvalidField { field, why_id, .. } => format!("{field}: {why_id}"),
            Rejection::UnitNotAvailable { unit, status } => {
                format!("unit {unit} tidak tersedia ({})", status.label_id())
            }
            Rejection::IncidentNotOpen { incident, .. } => {
                format!("kejadian {incident} sudah tidak terbuka")
            }
            Rejection::NoPendingAssignment { unit, incident } => {
                format!("unit {unit} tidak punya penugasan ke {incident} yang menunggu konfirmasi")
            }
            Rejection::NotAssigned { unit, incident } => {
                format!("unit {unit} tidak ditugaskan ke {incident}")
            }
            Rejection::InvalidTransition { unit, from, to } => format!(
                "unit {unit} tidak bisa berpindah dari \"{}\" ke \"{}\"",
                from.label_id(),
                to.label_id()
            ),
            Rejection::UnitsStillAssigned { incident, count } => {
                format!("kejadian {incident} masih ditangani {count} unit")
            }
            Rejection::SameIncident => "kejadian tidak bisa digabung dengan dirinya sendiri".into(),
            Rejection::ReferralClosed { referral, .. } => {
                format!("rujukan {referral} sudah ditutup")
            }
            Rejection::ReferralNotAccepted { referral } => {
                format!("rujukan {referral} belum diterima rumah sakit")
            }
            Rejection::UnknownBooking { booking } => {
                format!("pesanan transport {booking} tidak ada")
            }
            Rejection::BookingClosed { booking } => {
                format!("pesanan transport {booking} sudah dibatalkan")
            }
            Rejection::AlreadyReferred { incident, hospital } => {
                format!("kejadian {incident} sudah punya rujukan aktif ke rumah sakit {hospital}")
            }
        }
    }
}
