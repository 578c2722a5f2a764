//! [`Router`]: the drive-time engine of a network, answering from the contraction
//! hierarchy when the graph carries one and from the Dijkstra otherwise.

use super::{Dijkstra, DriveTimeEngine, Outcome, Port, Route, Stop, direct, entries, exits};
use crate::snap::{Snap, Snapper};
use std::sync::Arc;

/// The search engine of a network: contraction hierarchies for many-to-one and
/// one-to-many (when the graph has them), and a [`Dijkstra`] that also knows the
/// snapper for routes, which need the geometry.
#[derive(Debug)]
pub struct Router {
    pub dijkstra: Dijkstra,
    pub snapper: Arc<Snapper>,
    /// `None`: every query runs on the Dijkstra.
    pub ch: Option<crate::ch::ChSearch>,
}

impl DriveTimeEngine for Router {
    fn route(&mut self, from: &Snap, to: &Snap) -> Option<Route> {
        if let Some(ch) = &mut self.ch {
            ch.clear_settled();
        }
        self.dijkstra.route_with(&self.snapper, from, to)
    }

    fn many_to_one(&mut self, sources: &[Snap], target: &Snap, stop: Stop) -> Vec<Outcome> {
        if let Some(ch) = &mut self.ch {
            self.dijkstra.settled = 0;
            return ch.many_to_one(sources, target, stop);
        }
        let g = Arc::clone(&self.dijkstra.g);
        let seeds = entries(&g, target);
        let goals: Vec<Vec<Port>> = sources.iter().map(|s| exits(&g, s)).collect();
        let direct: Vec<_> = sources.iter().map(|s| direct(&g, s, target)).collect();
        self.dijkstra.search(true, &seeds, &goals, &direct, stop).0
    }

    fn one_to_many(&mut self, source: &Snap, targets: &[Snap], stop: Stop) -> Vec<Outcome> {
        if let Some(ch) = &mut self.ch {
            self.dijkstra.settled = 0;
            return ch.one_to_many(source, targets, stop);
        }
        let g = Arc::clone(&self.dijkstra.g);
        let seeds = exits(&g, source);
        let goals: Vec<Vec<Port>> = targets.iter().map(|t| entries(&g, t)).collect();
        let direct: Vec<_> = targets.iter().map(|t| direct(&g, source, t)).collect();
        self.dijkstra.search(false, &seeds, &goals, &direct, stop).0
    }

    fn last_settled(&self) -> usize {
        self.dijkstra.settled + self.ch.as_ref().map_or(0, |c| c.last_settled())
    }
}
