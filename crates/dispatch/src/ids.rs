//! Time, typed ids and positions: the small values every other module passes around.
//!
//! Ids are typed so that a unit id can never be passed where a hospital code is
//! expected. Incident and referral ids are numbers allocated by the dispatch state in
//! order, so replaying the journal allocates the same ids again.

use serde::{Deserialize, Serialize};

pub use satria_region::LatLon;

/// Milliseconds since the Unix epoch, UTC; RFC 3339 on the wire. Time enters the
/// domain only as this argument.
pub use satria_calendar::Timestamp;

/// A unit's id, e.g. `PSC-01`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UnitId(pub String);

/// A hospital's Kemenkes code, e.g. `3302026`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct HospitalId(pub String);

/// An incident's id, allocated by the dispatch state in order from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IncidentId(pub u64);

/// A referral's id, allocated by the dispatch state in order from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReferralId(pub u64);

impl std::fmt::Display for UnitId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for HospitalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for IncidentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "INC-{:06}", self.0)
    }
}

impl std::fmt::Display for ReferralId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PSC119-BMS/{:06}", self.0)
    }
}

/// Whether `p` is a real latitude/longitude (finite, in range).
pub fn valid_position(p: LatLon) -> bool {
    p.lat.is_finite()
        && p.lon.is_finite()
        && (-90.0..=90.0).contains(&p.lat)
        && (-180.0..=180.0).contains(&p.lon)
}

/// Straight-line distance in metres (equirectangular: exact enough over a regency).
pub fn distance_m(a: LatLon, b: LatLon) -> f64 {
    satria_region::approx_m(a, b)
}

/// Serde for the region crate's [`LatLon`] (which has no serde of its own, and must
/// not grow one for us): `#[serde(with = "crate::ids::latlon")]` on a field.
pub mod latlon {
    use super::LatLon;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Wire {
        lat: f64,
        lon: f64,
    }

    /// Writes `{"lat": .., "lon": ..}`.
    pub fn serialize<S: Serializer>(p: &LatLon, s: S) -> Result<S::Ok, S::Error> {
        Wire {
            lat: p.lat,
            lon: p.lon,
        }
        .serialize(s)
    }

    /// Reads `{"lat": .., "lon": ..}`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<LatLon, D::Error> {
        let w = Wire::deserialize(d)?;
        Ok(LatLon {
            lat: w.lat,
            lon: w.lon,
        })
    }
}
