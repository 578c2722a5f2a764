//! Drive times for the dispatch domain from the real road graph: positions are snapped
//! to the nearest road segment, then one many-to-one search answers for every unit.

use satria_dispatch::{DriveTimes, Eta, LatLon};
use satria_roads::{DriveTimeEngine, RoadNetwork, Router, Stop};
use std::cell::RefCell;
use std::sync::Arc;

/// [`DriveTimes`] over a [`RoadNetwork`]. A position farther than `max_snap_m` from any
/// road counts as unreachable.
#[derive(Debug)]
pub struct RoadDriveTimes {
    pub net: Arc<RoadNetwork>,
    /// The search keeps its scratch buffers between calls (one per engine thread).
    router: RefCell<Router>,
    pub max_snap_m: f64,
}

impl RoadDriveTimes {
    pub fn new(net: Arc<RoadNetwork>) -> RoadDriveTimes {
        let router = net.router();
        RoadDriveTimes {
            net,
            router: RefCell::new(router),
            max_snap_m: 1000.0,
        }
    }
}

impl DriveTimes for RoadDriveTimes {
    fn many_to_one(&self, origins: &[LatLon], target: LatLon) -> Vec<Option<Eta>> {
        let Ok(t) = self.net.snap(target.lat, target.lon, self.max_snap_m) else {
            return vec![None; origins.len()];
        };
        let snaps: Vec<Option<satria_roads::Snap>> = origins
            .iter()
            .map(|o| self.net.snap(o.lat, o.lon, self.max_snap_m).ok())
            .collect();
        let placed: Vec<satria_roads::Snap> = snaps.iter().flatten().copied().collect();
        let mut out = self
            .router
            .borrow_mut()
            .many_to_one(&placed, &t, Stop::default())
            .into_iter();
        snaps
            .iter()
            .map(|s| {
                s.and_then(|_| out.next()).and_then(|o| {
                    o.reach().map(|r| Eta {
                        eta_s: r.eta_s(),
                        distance_m: r.distance_m.round() as u32,
                    })
                })
            })
            .collect()
    }

    fn one_to_many(&self, origin: LatLon, targets: &[LatLon]) -> Vec<Option<Eta>> {
        let Ok(o) = self.net.snap(origin.lat, origin.lon, self.max_snap_m) else {
            return vec![None; targets.len()];
        };
        let snaps: Vec<Option<satria_roads::Snap>> = targets
            .iter()
            .map(|t| self.net.snap(t.lat, t.lon, self.max_snap_m).ok())
            .collect();
        let placed: Vec<satria_roads::Snap> = snaps.iter().flatten().copied().collect();
        let mut out = self
            .router
            .borrow_mut()
            .one_to_many(&o, &placed, Stop::default())
            .into_iter();
        snaps
            .iter()
            .map(|s| {
                s.and_then(|_| out.next()).and_then(|o| {
                    o.reach().map(|r| Eta {
                        eta_s: r.eta_s(),
                        distance_m: r.distance_m.round() as u32,
                    })
                })
            })
            .collect()
    }
}
