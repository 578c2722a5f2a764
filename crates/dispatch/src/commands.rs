//! Commands: what clients (call-takers, dispatchers, crews' phones, hospitals) ask of the
//! dispatch state, in the imperative. JSON: `{"type": "assign_units", ...}`.

use crate::fleet::{Owner, UnitStatus, UnitType};
use crate::hospital::HospitalStatus;
use crate::ids::{HospitalId, IncidentId, LatLon, ReferralId, Timestamp, UnitId};
use crate::incident::{Address, Category, Triage};
use crate::referral::{PatientData, ReferralForm};
use crate::transport::BookingId;
use serde::{Deserialize, Serialize};

/// A request to change the dispatch state. `device_at` is the crew phone's own clock,
/// kept beside the server time and never trusted for ordering or deadlines.
// One command is alive at a time and the referral variant is the rare one: boxing it to
// shrink the enum would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Adds a unit to the fleet, available at its base.
    RegisterUnit {
        /// Unique id.
        id: UnitId,
        /// Radio call sign.
        call_sign: String,
        /// Kind of unit.
        unit_type: UnitType,
        /// Owner.
        owner: Owner,
        /// Home base name.
        base_name: String,
        /// Home base position.
        #[serde(with = "crate::ids::latlon")]
        base: LatLon,
        /// Capabilities, e.g. `obstetric`.
        capabilities: Vec<String>,
    },
    /// A position report from a unit's phone (the hot path).
    UpdatePosition {
        /// The unit.
        unit: UnitId,
        /// Where it is.
        #[serde(with = "crate::ids::latlon")]
        at: LatLon,
        /// Phone time of the fix.
        device_at: Option<Timestamp>,
    },
    /// A crew's status report: en route, on scene, at patient, transporting, at
    /// destination, transfer of care, available (back in service after the job).
    ReportStatus {
        /// The unit.
        unit: UnitId,
        /// The new status.
        status: UnitStatus,
        /// Phone time of the change.
        device_at: Option<Timestamp>,
    },
    /// Takes an idle unit out of service.
    SetOutOfService {
        /// The unit.
        unit: UnitId,
        /// Why (maintenance, no crew, ...).
        reason: String,
        /// Phone time, if reported by the crew.
        device_at: Option<Timestamp>,
    },
    /// Puts an out-of-service unit back in service.
    ReturnToService {
        /// The unit.
        unit: UnitId,
        /// Phone time, if reported by the crew.
        device_at: Option<Timestamp>,
    },
    /// A call taken. With `Config::auto_assign_merah`, a merah incident also gets the
    /// best unit assigned in the same step.
    CreateIncident {
        /// Caller's name.
        caller_name: String,
        /// Caller's phone.
        caller_phone: String,
        /// Verified position.
        #[serde(with = "crate::ids::latlon")]
        location: LatLon,
        /// Address as words.
        address: Address,
        /// Triage colour.
        triage: Triage,
        /// Call type.
        category: Category,
        /// Number of patients (at least 1 unless an information call).
        patients: u32,
        /// Notes.
        notes: String,
    },
    /// Changes the details of an open incident; `None` keeps a field.
    UpdateIncident {
        /// The incident.
        incident: IncidentId,
        /// New triage colour.
        triage: Option<Triage>,
        /// New call type.
        category: Option<Category>,
        /// New number of patients.
        patients: Option<u32>,
        /// New notes.
        notes: Option<String>,
        /// New address text.
        address: Option<Address>,
    },
    /// Sends one or more units (all or none: one busy unit refuses the command).
    AssignUnits {
        /// The incident.
        incident: IncidentId,
        /// The units, at least one, each once.
        units: Vec<UnitId>,
    },
    /// The crew accepts the assignment: the unit is en route.
    AcknowledgeAssignment {
        /// The incident.
        incident: IncidentId,
        /// The unit.
        unit: UnitId,
        /// Phone time.
        device_at: Option<Timestamp>,
    },
    /// The crew refuses the assignment: the unit is free, the next unit is proposed.
    DeclineAssignment {
        /// The incident.
        incident: IncidentId,
        /// The unit.
        unit: UnitId,
        /// Why (required).
        reason: String,
        /// Phone time.
        device_at: Option<Timestamp>,
    },
    /// Takes a unit off an incident; it becomes available.
    CancelAssignment {
        /// The incident.
        incident: IncidentId,
        /// The unit.
        unit: UnitId,
        /// Why.
        reason: String,
    },
    /// Moves a unit that has no patient aboard (notified or en route) to another
    /// incident, e.g. to a merah call that came in while it drove to a hijau one.
    ReassignUnit {
        /// The unit.
        unit: UnitId,
        /// The incident it goes to now.
        to: IncidentId,
        /// Why.
        reason: String,
    },
    /// Joins a duplicate into another incident; the units working `from` move over and
    /// both histories are kept.
    MergeIncidents {
        /// The duplicate.
        from: IncidentId,
        /// The incident that stays.
        into: IncidentId,
    },
    /// Calls an incident off; its units become available, its live referrals cancelled.
    CancelIncident {
        /// The incident.
        incident: IncidentId,
        /// Why.
        reason: String,
    },
    /// Closes an incident no unit is working any more.
    CloseIncident {
        /// The incident.
        incident: IncidentId,
        /// The outcome.
        outcome: String,
    },
    /// A hospital publishes its live capacity.
    UpdateHospitalCapacity {
        /// The hospital.
        hospital: HospitalId,
        /// Free IGD beds, if known.
        free_igd_beds: Option<u32>,
        /// Free ICU beds, if known.
        free_icu_beds: Option<u32>,
        /// Open, full or diversion.
        status: HospitalStatus,
    },
    /// Sends a referral (SISRUTE shape) to a hospital; it must answer before
    /// `Config::referral_deadline_s` or the referral escalates to the next hospital.
    SendReferral {
        /// The patient's incident.
        incident: IncidentId,
        /// Destination hospital.
        to: HospitalId,
        /// The unit carrying the patient (must be working the incident).
        unit: Option<UnitId>,
        /// The referral form.
        form: ReferralForm,
        /// The patient (personal data).
        patient: PatientData,
    },
    /// The hospital accepts a pending referral.
    AcceptReferral {
        /// The referral.
        referral: ReferralId,
        /// The IGD officer who answered.
        officer: String,
    },
    /// The hospital declines a pending referral.
    DeclineReferral {
        /// The referral.
        referral: ReferralId,
        /// Why (required; most often no room).
        reason: String,
    },
    /// The dispatcher withdraws a live referral.
    CancelReferral {
        /// The referral.
        referral: ReferralId,
        /// Why.
        reason: String,
    },
    /// Tells the hospital of an accepted referral when the patient will arrive, from the
    /// unit's live position (the engine repeats it to refresh the ETA).
    SendPreArrivalNotice {
        /// The referral.
        referral: ReferralId,
    },
    /// Books a scheduled non-emergency transport (e.g. to dialysis). It becomes a
    /// hijau inter-facility incident `Config::transport_lead_s` before pickup and
    /// only takes a unit no emergency needs (see [`crate::transport`]).
    BookTransport {
        /// Who asked, in the booking module's terms (e.g. `pattas:case:12`).
        reference: String,
        /// The patient's name.
        patient_name: String,
        /// The patient's phone.
        patient_phone: String,
        /// Pickup position.
        #[serde(with = "crate::ids::latlon")]
        pickup: LatLon,
        /// Pickup address as words.
        pickup_address: String,
        /// The destination hospital, when it is one of the region's.
        destination: Option<HospitalId>,
        /// The destination's name.
        destination_name: String,
        /// The destination's position.
        #[serde(with = "crate::ids::latlon")]
        destination_location: LatLon,
        /// Pickup time.
        scheduled_for: Timestamp,
        /// Why (dialysis, control visit, ...).
        purpose: String,
        /// Notes for the crew.
        notes: String,
    },
    /// Calls a booked transport off; a dispatched one cancels its incident too.
    CancelTransport {
        /// The booking.
        booking: BookingId,
        /// Why.
        reason: String,
    },
}

/// The records a command names directly, for logs and traces: its own `incident`,
/// `unit`, `referral` and `booking` fields (not `units` of an assignment, nor the
/// `from`/`into`/`to` of a merge, reassignment or referral).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Subjects<'a> {
    pub incident: Option<&'a IncidentId>,
    pub unit: Option<&'a UnitId>,
    pub referral: Option<&'a ReferralId>,
    pub booking: Option<&'a BookingId>,
}

impl Command {
    /// The command's kind: the `type` of its JSON form, e.g. `assign_units`.
    pub fn kind(&self) -> &'static str {
        match self {
            Command::RegisterUnit { .. } => "register_unit",
            Command::UpdatePosition { .. } => "update_position",
            Command::ReportStatus { .. } => "report_status",
            Command::SetOutOfService { .. } => "set_out_of_service",
            Command::ReturnToService { .. } => "return_to_service",
            Command::CreateIncident { .. } => "create_incident",
            Command::UpdateIncident { .. } => "update_incident",
            Command::AssignUnits { .. } => "assign_units",
            Command::AcknowledgeAssignment { .. } => "acknowledge_assignment",
            Command::DeclineAssignment { .. } => "decline_assignment",
            Command::CancelAssignment { .. } => "cancel_assignment",
            Command::ReassignUnit { .. } => "reassign_unit",
            Command::MergeIncidents { .. } => "merge_incidents",
            Command::CancelIncident { .. } => "cancel_incident",
            Command::CloseIncident { .. } => "close_incident",
            Command::UpdateHospitalCapacity { .. } => "update_hospital_capacity",
            Command::SendReferral { .. } => "send_referral",
            Command::AcceptReferral { .. } => "accept_referral",
            Command::DeclineReferral { .. } => "decline_referral",
            Command::CancelReferral { .. } => "cancel_referral",
            Command::SendPreArrivalNotice { .. } => "send_pre_arrival_notice",
            Command::BookTransport { .. } => "book_transport",
            Command::CancelTransport { .. } => "cancel_transport",
        }
    }

    /// The records this command names (see [`Subjects`]).
    pub fn subjects(&self) -> Subjects<'_> {
        match self {
            Command::RegisterUnit { .. } => Subjects::default(),
            Command::UpdatePosition { unit, .. } => Subjects {
                unit: Some(unit),
                ..Subjects::default()
            },
            Command::ReportStatus { unit, .. } => Subjects {
                unit: Some(unit),
                ..Subjects::default()
            },
            Command::SetOutOfService { unit, .. } => Subjects {
                unit: Some(unit),
                ..Subjects::default()
            },
            Command::ReturnToService { unit, .. } => Subjects {
                unit: Some(unit),
                ..Subjects::default()
            },
            Command::CreateIncident { .. } => Subjects::default(),
            Command::UpdateIncident { incident, .. } => Subjects {
                incident: Some(incident),
                ..Subjects::default()
            },
            Command::AssignUnits { incident, .. } => Subjects {
                incident: Some(incident),
                ..Subjects::default()
            },
            Command::AcknowledgeAssignment { incident, unit, .. } => Subjects {
                incident: Some(incident),
                unit: Some(unit),
                ..Subjects::default()
            },
            Command::DeclineAssignment { incident, unit, .. } => Subjects {
                incident: Some(incident),
                unit: Some(unit),
                ..Subjects::default()
            },
            Command::CancelAssignment { incident, unit, .. } => Subjects {
                incident: Some(incident),
                unit: Some(unit),
                ..Subjects::default()
            },
            Command::ReassignUnit { unit, .. } => Subjects {
                unit: Some(unit),
                ..Subjects::default()
            },
            Command::MergeIncidents { .. } => Subjects::default(),
            Command::CancelIncident { incident, .. } => Subjects {
                incident: Some(incident),
                ..Subjects::default()
            },
            Command::CloseIncident { incident, .. } => Subjects {
                incident: Some(incident),
                ..Subjects::default()
            },
            Command::UpdateHospitalCapacity { .. } => Subjects::default(),
            Command::SendReferral { incident, unit, .. } => Subjects {
                incident: Some(incident),
                unit: unit.as_ref(),
                ..Subjects::default()
            },
            Command::AcceptReferral { referral, .. } => Subjects {
                referral: Some(referral),
                ..Subjects::default()
            },
            Command::DeclineReferral { referral, .. } => Subjects {
                referral: Some(referral),
                ..Subjects::default()
            },
            Command::CancelReferral { referral, .. } => Subjects {
                referral: Some(referral),
                ..Subjects::default()
            },
            Command::SendPreArrivalNotice { referral, .. } => Subjects {
                referral: Some(referral),
                ..Subjects::default()
            },
            Command::BookTransport { .. } => Subjects::default(),
            Command::CancelTransport { booking, .. } => Subjects {
                booking: Some(booking),
                ..Subjects::default()
            },
        }
    }
}
