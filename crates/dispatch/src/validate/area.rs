//! The service area: the region's box, grown by a margin, outside which no position
//! is accepted.

use crate::ids::LatLon;
use serde::{Deserialize, Serialize};

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
