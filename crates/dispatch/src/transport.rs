//! Scheduled non-emergency transports (for example a Pattas patient's trip to
//! dialysis): booked ahead, turned into a hijau inter-facility incident shortly
//! before pickup, and served only by a unit no emergency needs.
//!
//! The rule that keeps them lowest priority ([`Dispatch::tick`](crate::Dispatch::tick)):
//! - a booking becomes an incident `Config::transport_lead_s` before its pickup
//!   time, never earlier;
//! - it is never given a motorbike or an ALS unit;
//! - it takes a BLS unit only while at least `Config::transport_reserve` other
//!   ambulances able to answer a merah call stay available; a transport-type unit
//!   (no emergency kit) may always take it;
//! - while no unit may take it, it waits and is retried at every tick; the
//!   dispatcher can still assign or reassign by hand.

use crate::ids::{HospitalId, IncidentId, LatLon, Timestamp};
use serde::{Deserialize, Serialize};

/// A booking's id, allocated by the dispatch state in order from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BookingId(pub u64);

impl std::fmt::Display for BookingId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TRX-{:06}", self.0)
    }
}

/// One scheduled transport.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Booking {
    pub id: BookingId,
    /// Who asked, in the booking module's own terms (e.g. `pattas:case:12`).
    pub reference: String,
    pub patient_name: String,
    pub patient_phone: String,
    #[serde(with = "crate::ids::latlon")]
    pub pickup: LatLon,
    pub pickup_address: String,
    /// The destination hospital, when it is one of the region's.
    pub destination: Option<HospitalId>,
    pub destination_name: String,
    #[serde(with = "crate::ids::latlon")]
    pub destination_location: LatLon,
    /// When the patient is to be picked up.
    pub scheduled_for: Timestamp,
    /// Why (dialysis, control visit, discharge home).
    pub purpose: String,
    pub notes: String,
    pub booked_at: Timestamp,
    pub status: BookingStatus,
    /// How its incident ended, kept when the incident is archived out of the
    /// live state ([`crate::Event::IncidentArchived`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<BookingEnd>,
}

/// How a dispatched booking's incident ended, as the booking keeps it once the
/// incident left the live state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingEnd {
    /// The incident was cancelled or merged away rather than closed.
    pub cancelled: bool,
    /// The last unit that completed it.
    pub unit: Option<crate::ids::UnitId>,
    /// When it ended.
    pub at: Timestamp,
}

/// Where a booking stands. Once dispatched, the incident's units tell the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BookingStatus {
    /// Waiting for its time.
    Scheduled,
    /// Turned into an incident.
    Dispatched { incident: IncidentId, at: Timestamp },
    /// Called off before it was dispatched (after, the incident is cancelled).
    Cancelled { reason: String, at: Timestamp },
}
