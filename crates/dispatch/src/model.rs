//! The nouns of PSC 119 dispatch: units and their statuses, incidents, triage colours,
//! categories, assignments, and the policy of which unit may serve which incident.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC. Time enters the domain only as this argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn plus_s(self, s: u32) -> Timestamp {
        Timestamp(self.0 + s as i64 * 1000)
    }
}

/// A unit's id, e.g. `PSC-01`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UnitId(pub String);

/// An incident's id, allocated by the dispatch state in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IncidentId(pub u64);

impl std::fmt::Display for UnitId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for IncidentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "INC-{:06}", self.0)
    }
}

/// A WGS84 position in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

impl LatLon {
    /// Whether this is a real latitude/longitude.
    pub fn is_valid(&self) -> bool {
        self.lat.is_finite()
            && self.lon.is_finite()
            && (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon)
    }

    /// Equirectangular distance in metres (accurate over a regency).
    pub fn distance_m(&self, o: &LatLon) -> f64 {
        satria_region::approx_m(
            satria_region::LatLon {
                lat: self.lat,
                lon: self.lon,
            },
            satria_region::LatLon {
                lat: o.lat,
                lon: o.lon,
            },
        )
    }
}

/// Kind of unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitType {
    /// Patient transport ambulance, no life-support crew.
    Transport,
    /// Basic life support ambulance.
    Bls,
    /// Advanced life support ambulance.
    Als,
    /// Motorbike first responder: arrives first, cannot transport.
    Motorbike,
}

impl UnitType {
    pub fn can_transport(self) -> bool {
        self != UnitType::Motorbike
    }
}

/// Who owns and crews a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    Psc,
    Puskesmas,
    Hospital,
    Pmi,
    Volunteer,
}

/// Unit status, matching the NEMSIS eTimes set the domain uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitStatus {
    Available,
    /// Assigned, waiting for the crew to acknowledge.
    Notified,
    EnRoute,
    OnScene,
    AtPatient,
    /// Left the scene with the patient.
    Transporting,
    AtDestination,
    TransferOfCare,
    OutOfService,
}

impl UnitStatus {
    /// Whether the unit is working an incident.
    pub fn is_committed(self) -> bool {
        !matches!(self, UnitStatus::Available | UnitStatus::OutOfService)
    }

    /// The statuses a crew may report next from this one. Available at the end of the
    /// list means "back in service": the assignment is complete.
    pub fn crew_next(self) -> &'static [UnitStatus] {
        use UnitStatus::*;
        match self {
            EnRoute => &[OnScene],
            OnScene => &[AtPatient, Available],
            AtPatient => &[Transporting, Available],
            Transporting => &[AtDestination],
            AtDestination => &[TransferOfCare],
            TransferOfCare => &[Available],
            Available | Notified | OutOfService => &[],
        }
    }
}

/// A position report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    pub at: LatLon,
    /// Server time of the report.
    pub received: Timestamp,
}

/// An ambulance or responder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub id: UnitId,
    pub call_sign: String,
    pub unit_type: UnitType,
    pub owner: Owner,
    pub base_name: String,
    pub base: LatLon,
    /// Free-form capabilities, e.g. `obstetric`, `ventilator`, `paediatric`.
    pub capabilities: Vec<String>,
    pub status: UnitStatus,
    /// Server time of the last status change.
    pub status_at: Timestamp,
    /// Device (phone) time of the last status change, if the crew sent one.
    pub status_device_at: Option<Timestamp>,
    /// The incident the unit is committed to, if any.
    pub incident: Option<IncidentId>,
    pub last_fix: Option<Fix>,
}

/// Triage colour (KMK 796/2019 practice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Triage {
    /// Immediate.
    Merah,
    /// Urgent.
    Kuning,
    /// Non-urgent.
    Hijau,
    /// Dead.
    Hitam,
}

/// Call type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Accident,
    Medical,
    Maternal,
    InterFacilityTransfer,
    Information,
}

/// Where the patient is.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Address {
    /// Desa or kelurahan.
    pub desa: String,
    /// RT/RW, e.g. `03/05`.
    pub rt_rw: String,
    pub landmark: String,
    /// Anything else the caller said.
    pub text: String,
}

/// Where an incident is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Received, no unit working it.
    Open,
    /// At least one unit assigned.
    Dispatched,
    Closed,
    Cancelled,
    /// Joined into another incident (see `merged_into`).
    Merged,
}

impl IncidentStatus {
    pub fn is_open(self) -> bool {
        matches!(self, IncidentStatus::Open | IncidentStatus::Dispatched)
    }
}

/// How one assignment of a unit to an incident ended, or that it goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum AssignmentState {
    /// Waiting for the crew's acknowledgement until `ack_deadline`.
    Pending,
    Acknowledged,
    Declined {
        reason: String,
    },
    TimedOut,
    Cancelled {
        reason: String,
    },
    /// The unit finished the job and is back in service.
    Completed,
}

/// One unit sent to one incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub unit: UnitId,
    pub assigned_at: Timestamp,
    pub ack_deadline: Timestamp,
    pub state: AssignmentState,
}

impl Assignment {
    /// Pending or acknowledged: the unit is on this incident.
    pub fn is_active(&self) -> bool {
        matches!(
            self.state,
            AssignmentState::Pending | AssignmentState::Acknowledged
        )
    }
}

/// An emergency call and everything done about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub received_at: Timestamp,
    pub caller_name: String,
    pub caller_phone: String,
    pub location: LatLon,
    pub address: Address,
    pub triage: Triage,
    pub category: Category,
    pub patients: u32,
    pub notes: String,
    pub status: IncidentStatus,
    pub assignments: Vec<Assignment>,
    /// An open incident close in space and time when this one was received.
    pub possible_duplicate_of: Option<IncidentId>,
    pub merged_into: Option<IncidentId>,
    pub outcome: Option<String>,
}

impl Incident {
    pub fn active_assignment(&self, unit: &UnitId) -> Option<&Assignment> {
        self.assignments
            .iter()
            .find(|a| &a.unit == unit && a.is_active())
    }
}

/// Which unit types may serve an incident, best first; empty means no unit is sent.
///
/// | triage / category | unit types |
/// |---|---|
/// | information call | none |
/// | merah | ALS, BLS, motorbike (first responder only) |
/// | kuning | ALS, BLS |
/// | hijau, inter-facility transfer | BLS, transport, ALS |
/// | hitam | transport, BLS |
///
/// A maternal call additionally prefers units with the `obstetric` capability (ranked
/// first among equals by the recommendation).
pub fn eligible_types(triage: Triage, category: Category) -> &'static [UnitType] {
    use UnitType::*;
    if category == Category::Information {
        return &[];
    }
    match (triage, category) {
        (Triage::Merah, _) => &[Als, Bls, Motorbike],
        (Triage::Kuning, _) => &[Als, Bls],
        (Triage::Hitam, _) => &[Transport, Bls],
        (Triage::Hijau, _) => &[Bls, Transport, Als],
    }
}
