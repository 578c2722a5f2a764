//! Drive times for the dispatch domain from the real road graph: positions are snapped
//! to the nearest road segment, then one many-to-one search answers for every unit.

use satria_dispatch::{DriveTimes, Eta, LatLon};
use satria_roads::{DriveTimeEngine, RoadNetwork, Router, Snap, Stop};
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

impl RoadDriveTimes {
    /// Snaps `one` and `many`, runs `search` over the snapped points of `many`, and gives
    /// one answer per point of `many` (`None` where it could not be snapped or reached).
    fn one_search(
        &self,
        one: LatLon,
        many: &[LatLon],
        search: impl FnOnce(&mut Router, &Snap, &[Snap]) -> Vec<satria_roads::Outcome>,
    ) -> Vec<Option<Eta>> {
        let Ok(one) = self.net.snap(one.lat, one.lon, self.max_snap_m) else {
            return vec![None; many.len()];
        };
        let snaps: Vec<Option<Snap>> = many
            .iter()
            .map(|p| self.net.snap(p.lat, p.lon, self.max_snap_m).ok())
            .collect();
        let placed: Vec<Snap> = snaps.iter().flatten().copied().collect();
        let mut out = search(&mut self.router.borrow_mut(), &one, &placed).into_iter();
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

impl DriveTimes for RoadDriveTimes {
    fn many_to_one(&self, origins: &[LatLon], target: LatLon) -> Vec<Option<Eta>> {
        self.one_search(target, origins, |r, t, from| {
            r.many_to_one(from, t, Stop::default())
        })
    }

    fn one_to_many(&self, origin: LatLon, targets: &[LatLon]) -> Vec<Option<Eta>> {
        self.one_search(origin, targets, |r, o, to| {
            r.one_to_many(o, to, Stop::default())
        })
    }
}
