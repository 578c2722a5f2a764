//! Events: what happened, in the past tense. Every change of the dispatch state is one
//! event; the engine journals them (JSON: `{"type": "unit_assigned", ...}`) before it
//! acknowledges a command, and replays them on restart.

use crate::fleet::{Unit, UnitStatus};
use crate::hospital::HospitalStatus;
use crate::ids::{HospitalId, IncidentId, LatLon, ReferralId, Timestamp, UnitId};
use crate::incident::{Address, Category, Incident, Triage};
use crate::recommend::Candidate;
use crate::referral::Referral;
use crate::transport::{Booking, BookingId};
use serde::{Deserialize, Serialize};

/// Something that happened. Large payloads are boxed so that the common events (the
/// position update above all) stay small.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A unit joined the fleet.
    UnitRegistered {
        /// The unit as registered.
        unit: Box<Unit>,
    },
    /// A unit's position report (the hot path: no allocation beyond the id).
    UnitMoved {
        /// The unit.
        unit: UnitId,
        /// Where.
        #[serde(with = "crate::ids::latlon")]
        at: LatLon,
        /// Server time.
        received: Timestamp,
        /// Phone time.
        device_at: Option<Timestamp>,
    },
    /// A crew reported a status on its incident.
    UnitStatusChanged {
        /// The unit.
        unit: UnitId,
        /// The new status.
        status: UnitStatus,
        /// Server time.
        at: Timestamp,
        /// Phone time.
        device_at: Option<Timestamp>,
    },
    /// An idle unit went out of service.
    UnitOutOfService {
        /// The unit.
        unit: UnitId,
        /// Server time.
        at: Timestamp,
        /// Why.
        reason: String,
        /// Phone time.
        device_at: Option<Timestamp>,
    },
    /// A unit came back into service.
    UnitBackInService {
        /// The unit.
        unit: UnitId,
        /// Server time.
        at: Timestamp,
        /// Phone time.
        device_at: Option<Timestamp>,
    },
    /// A call was taken (the incident carries its id and any possible duplicate).
    IncidentCreated {
        /// The new incident.
        incident: Box<Incident>,
    },
    /// An incident's details changed (the full new values).
    IncidentUpdated {
        /// The incident.
        incident: IncidentId,
        /// Server time.
        at: Timestamp,
        /// Triage colour.
        triage: Triage,
        /// Call type.
        category: Category,
        /// Number of patients.
        patients: u32,
        /// Notes.
        notes: String,
        /// Address.
        address: Address,
    },
    /// A unit was sent; the crew must acknowledge before `ack_deadline`.
    UnitAssigned {
        /// The incident.
        incident: IncidentId,
        /// The unit.
        unit: UnitId,
        /// Server time.
        at: Timestamp,
        /// Acknowledge before this.
        ack_deadline: Timestamp,
        /// Chosen by the engine (merah auto-assign), not a dispatcher.
        automatic: bool,
    },
    /// The crew accepted; the unit is en route.
    AssignmentAcknowledged {
        /// The incident.
        incident: IncidentId,
        /// The unit.
        unit: UnitId,
        /// Server time.
        at: Timestamp,
        /// Phone time.
        device_at: Option<Timestamp>,
    },
    /// The crew refused; the unit is available.
    AssignmentDeclined {
        /// The incident.
        incident: IncidentId,
        /// The unit.
        unit: UnitId,
        /// Server time.
        at: Timestamp,
        /// Why.
        reason: String,
        /// Phone time.
        device_at: Option<Timestamp>,
    },
    /// The crew did not acknowledge in time; the unit is available.
    AssignmentTimedOut {
        /// The incident.
        incident: IncidentId,
        /// The unit.
        unit: UnitId,
        /// Server time.
        at: Timestamp,
    },
    /// The unit was taken off the incident; it is available.
    AssignmentCancelled {
        /// The incident.
        incident: IncidentId,
        /// The unit.
        unit: UnitId,
        /// Server time.
        at: Timestamp,
        /// Why.
        reason: String,
    },
    /// The unit finished and is back in service.
    AssignmentCompleted {
        /// The incident.
        incident: IncidentId,
        /// The unit.
        unit: UnitId,
        /// Server time.
        at: Timestamp,
        /// Phone time.
        device_at: Option<Timestamp>,
    },
    /// After a decline or a timeout: the units proposed next, for the dispatcher (no
    /// state change; empty `candidates` = no unit available, an outcome to alert on).
    NextUnitProposed {
        /// The incident.
        incident: IncidentId,
        /// The unit that declined or timed out.
        after: UnitId,
        /// Server time.
        at: Timestamp,
        /// The best few candidates, best first.
        candidates: Vec<Candidate>,
    },
    /// `from` was joined into `into`.
    IncidentMerged {
        /// The duplicate.
        from: IncidentId,
        /// The incident that stays.
        into: IncidentId,
        /// Server time.
        at: Timestamp,
    },
    /// The incident was called off.
    IncidentCancelled {
        /// The incident.
        incident: IncidentId,
        /// Server time.
        at: Timestamp,
        /// Why.
        reason: String,
    },
    /// The incident was closed.
    IncidentClosed {
        /// The incident.
        incident: IncidentId,
        /// Server time.
        at: Timestamp,
        /// The outcome.
        outcome: String,
    },
    /// A closed or cancelled incident left the live state, with the incidents
    /// merged into it and their referrals: their record went to the region's
    /// archive stream (`archive:` and the stream's name) in the same transaction,
    /// as entry `archive`, where the API still reads it.
    IncidentArchived {
        /// The incident.
        incident: IncidentId,
        /// Server time.
        at: Timestamp,
        /// Its record's seq in the archive stream.
        archive: u64,
        /// The incidents merged into it (directly or not), archived with it.
        merged: Vec<IncidentId>,
        /// The referrals of all of them, archived with them.
        referrals: Vec<ReferralId>,
    },
    /// A hospital published its capacity.
    HospitalCapacityUpdated {
        /// The hospital.
        hospital: HospitalId,
        /// Server time.
        at: Timestamp,
        /// Free IGD beds.
        free_igd_beds: Option<u32>,
        /// Free ICU beds.
        free_icu_beds: Option<u32>,
        /// Open, full or diversion.
        status: HospitalStatus,
    },
    /// A referral was sent (by a dispatcher, or by escalation: see `escalated_from`).
    ReferralSent {
        /// The referral, pending.
        referral: Box<Referral>,
    },
    /// The hospital accepted.
    ReferralAccepted {
        /// The referral.
        referral: ReferralId,
        /// Server time.
        at: Timestamp,
        /// The IGD officer.
        officer: String,
    },
    /// The hospital declined.
    ReferralDeclined {
        /// The referral.
        referral: ReferralId,
        /// Server time.
        at: Timestamp,
        /// Why.
        reason: String,
    },
    /// The hospital did not answer before the deadline.
    ReferralExpired {
        /// The referral.
        referral: ReferralId,
        /// Server time.
        at: Timestamp,
    },
    /// The referral was withdrawn.
    ReferralCancelled {
        /// The referral.
        referral: ReferralId,
        /// Server time.
        at: Timestamp,
        /// Why.
        reason: String,
    },
    /// A referral expired and no other hospital can take the patient: the dispatcher
    /// must act (an outcome, not an error).
    ReferralEscalationFailed {
        /// The expired referral.
        referral: ReferralId,
        /// Its incident.
        incident: IncidentId,
        /// Server time.
        at: Timestamp,
    },
    /// The hospital was told when the patient arrives.
    PreArrivalNoticeSent {
        /// The referral.
        referral: ReferralId,
        /// The hospital.
        hospital: HospitalId,
        /// The unit carrying the patient.
        unit: Option<UnitId>,
        /// Server time.
        at: Timestamp,
        /// Drive time left, if routable.
        eta_s: Option<u32>,
        /// Road distance left, if routable.
        distance_m: Option<u32>,
    },
    /// The patient was handed over at the IGD (the unit reported transfer of care).
    HandoverRecorded {
        /// The referral.
        referral: ReferralId,
        /// The unit.
        unit: UnitId,
        /// Server time.
        at: Timestamp,
        /// Phone time.
        device_at: Option<Timestamp>,
    },
    /// A scheduled transport was booked.
    TransportBooked {
        /// The booking as made.
        booking: Box<Booking>,
    },
    /// A booked transport's time came: it is now this incident.
    TransportDispatched {
        /// The booking.
        booking: BookingId,
        /// The incident created for it.
        incident: IncidentId,
        /// Server time.
        at: Timestamp,
    },
    /// A booked transport was called off.
    TransportCancelled {
        /// The booking.
        booking: BookingId,
        /// Server time.
        at: Timestamp,
        /// Why.
        reason: String,
    },
}

impl Event {
    /// The event's type name as journaled (`unit_assigned`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Event::UnitRegistered { .. } => "unit_registered",
            Event::UnitMoved { .. } => "unit_moved",
            Event::UnitStatusChanged { .. } => "unit_status_changed",
            Event::UnitOutOfService { .. } => "unit_out_of_service",
            Event::UnitBackInService { .. } => "unit_back_in_service",
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
            Event::IncidentArchived { .. } => "incident_archived",
            Event::HospitalCapacityUpdated { .. } => "hospital_capacity_updated",
            Event::ReferralSent { .. } => "referral_sent",
            Event::ReferralAccepted { .. } => "referral_accepted",
            Event::ReferralDeclined { .. } => "referral_declined",
            Event::ReferralExpired { .. } => "referral_expired",
            Event::ReferralCancelled { .. } => "referral_cancelled",
            Event::ReferralEscalationFailed { .. } => "referral_escalation_failed",
            Event::PreArrivalNoticeSent { .. } => "pre_arrival_notice_sent",
            Event::HandoverRecorded { .. } => "handover_recorded",
            Event::TransportBooked { .. } => "transport_booked",
            Event::TransportDispatched { .. } => "transport_dispatched",
            Event::TransportCancelled { .. } => "transport_cancelled",
        }
    }
}
