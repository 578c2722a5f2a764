//! Drive times, the one thing the domain asks of the road network.
//!
//! The engine implements [`DriveTimes`] over the real road graph. [`StraightLine`] is a
//! stand-in from straight-line distance at a fixed speed, for tests and demos without a
//! graph: it is not a routing model.

use crate::ids::{LatLon, distance_m};
use serde::{Deserialize, Serialize};

/// A drive time and road distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eta {
    /// Seconds.
    pub eta_s: u32,
    /// Metres.
    pub distance_m: u32,
}

/// Drive times over the road network. The domain calls each method at most once per
/// recommendation (one search for all candidates), so an implementation may be a
/// full graph search per call.
pub trait DriveTimes {
    /// Drive time from each origin to `target`; `None` = unreachable (or off the road network).
    fn many_to_one(&self, origins: &[LatLon], target: LatLon) -> Vec<Option<Eta>>;
    /// Drive time from `origin` to each target; `None` = unreachable.
    fn one_to_many(&self, origin: LatLon, targets: &[LatLon]) -> Vec<Option<Eta>>;
}

/// Straight-line distance at a fixed speed; positions within `unreachable_m` of a
/// listed point count as off the road network (unreachable from and to).
#[derive(Debug, Clone)]
pub struct StraightLine {
    /// Speed in metres per second.
    pub speed_m_per_s: f64,
    /// Points that are off the network.
    pub unreachable: Vec<LatLon>,
    /// How close to an unreachable point counts as that point.
    pub unreachable_m: f64,
}

impl Default for StraightLine {
    /// 40 km/h, every point reachable.
    fn default() -> StraightLine {
        StraightLine {
            speed_m_per_s: 40.0 / 3.6,
            unreachable: Vec::new(),
            unreachable_m: 1.0,
        }
    }
}

impl StraightLine {
    /// Marks `p` unreachable.
    pub fn with_unreachable(mut self, p: LatLon) -> StraightLine {
        self.unreachable.push(p);
        self
    }

    fn off(&self, p: LatLon) -> bool {
        self.unreachable
            .iter()
            .any(|u| distance_m(*u, p) <= self.unreachable_m)
    }

    fn eta(&self, a: LatLon, b: LatLon) -> Option<Eta> {
        if self.off(a) || self.off(b) {
            return None;
        }
        let d = distance_m(a, b);
        Some(Eta {
            eta_s: (d / self.speed_m_per_s).round() as u32,
            distance_m: d.round() as u32,
        })
    }
}

impl DriveTimes for StraightLine {
    fn many_to_one(&self, origins: &[LatLon], target: LatLon) -> Vec<Option<Eta>> {
        origins.iter().map(|o| self.eta(*o, target)).collect()
    }
    fn one_to_many(&self, origin: LatLon, targets: &[LatLon]) -> Vec<Option<Eta>> {
        targets.iter().map(|t| self.eta(origin, *t)).collect()
    }
}
