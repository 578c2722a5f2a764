//! Exact drive-time search: one-to-one with the path, many-to-one (the dispatch
//! question: every unit to one incident, in ONE backward search) and one-to-many
//! (one incident to every hospital).
//!
//! The [`DriveTimeEngine`] trait is what callers use, so a faster engine (contraction
//! hierarchies) can replace [`Dijkstra`] without touching them.
//!
//! Points on the network are [`Snap`]s in the middle of pieces. Leaving a snapped point
//! costs the rest of its piece to the piece's end in the driving direction; arriving
//! costs the part of the target's piece up to the point; two points on the same piece
//! can also be joined directly. Partial costs are rounded to whole milliseconds.
//!
//! Exactness of early stopping: Dijkstra settles nodes in increasing time `d`, and every
//! goal's cost is (settled time + a non-negative offset), so once the smallest unsettled
//! time reaches a goal's best known cost, that cost is final. The search stops as soon
//! as the requested goals are final.
//!
//! The parts: the answers and the [`DriveTimeEngine`] trait are here; `ports.rs` turns
//! snapped points into search seeds and goals; `dijkstra.rs` is the search itself, on
//! `radix_heap.rs`; `router.rs` is what a network's callers query (the hierarchy or the
//! Dijkstra); `reference.rs` the independent petgraph reference for tests and benches.

mod dijkstra;
mod ports;
mod radix_heap;
mod reference;
mod router;

pub use dijkstra::{Adjacency, Dijkstra};
pub(crate) use ports::{Port, direct, entries, exits};
pub use reference::{reference_time_ms, to_petgraph};
pub use router::Router;

use crate::snap::Snap;

/// A drive time and the length of the road driven.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reach {
    pub time_ms: u32,
    pub distance_m: f64,
}

impl Reach {
    /// Drive time in whole seconds, rounded.
    pub fn eta_s(&self) -> u32 {
        (self.time_ms + 500) / 1000
    }
}

/// The answer for one unit (or hospital) of a many-to-one (one-to-many) search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    Reached(Reach),
    /// No road leads there (or from there): a fact about the network, not an error.
    Unreachable,
    /// The search stopped first: not among the nearest k, or beyond the time limit.
    NotSettled,
}

impl Outcome {
    pub fn reach(&self) -> Option<Reach> {
        match self {
            Outcome::Reached(r) => Some(*r),
            _ => None,
        }
    }
}

/// When a multi-target search may stop.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stop {
    /// Stop once this many goals are final (the nearest k). `None`: all of them.
    pub nearest: Option<usize>,
    /// Stop once the search passes this drive time.
    pub max_time_ms: Option<u32>,
}

/// A driven route.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub time_ms: u32,
    pub distance_m: f64,
    /// The road driven, as (lat, lon), from the snapped start to the snapped end.
    pub path: Vec<(f64, f64)>,
}

/// Drive-time queries over one road graph.
pub trait DriveTimeEngine {
    /// The fastest route between two snapped points, or `None` if there is none.
    fn route(&mut self, from: &Snap, to: &Snap) -> Option<Route>;
    /// Drive time from each source to `target` (one backward search).
    fn many_to_one(&mut self, sources: &[Snap], target: &Snap, stop: Stop) -> Vec<Outcome>;
    /// Drive time from `source` to each target (one forward search).
    fn one_to_many(&mut self, source: &Snap, targets: &[Snap], stop: Stop) -> Vec<Outcome>;
    /// Number of nodes the last search settled (for benchmarks).
    fn last_settled(&self) -> usize;
}
