//! [`Dijkstra`]: one search core for one-to-one (with the path), many-to-one (backward)
//! and one-to-many (forward), stopping as soon as the requested goals are final, over
//! an [`Adjacency`] packed for it.

use super::radix_heap::RadixHeap;
use super::{Outcome, Port, Reach, Route, Stop, direct, entries, exits};
use crate::graph::{Graph, NONE};
use crate::snap::{Snap, Snapper};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

/// One arc of the search adjacency: everything a relaxation reads, in 16 bytes, so
/// relaxing an arc costs one cache line instead of three array lookups.
#[derive(Debug, Clone, Copy)]
struct Arc4 {
    /// Head (forward adjacency) or tail (backward adjacency).
    node: u32,
    weight_ms: u32,
    len_dm: u32,
    /// The forward edge id, for paths.
    edge: u32,
}

/// The graph's two CSR directions packed for searching. Built once per network and
/// shared by every [`Dijkstra`] over it.
#[derive(Debug)]
pub struct Adjacency {
    first_out: Vec<u32>,
    out: Vec<Arc4>,
    first_in: Vec<u32>,
    inn: Vec<Arc4>,
}

impl Adjacency {
    pub fn new(g: &Graph) -> Adjacency {
        let out = (0..g.edge_count())
            .map(|e| Arc4 {
                node: g.head[e],
                weight_ms: g.weight_ms[e],
                len_dm: g.edge_len_dm(e),
                edge: e as u32,
            })
            .collect();
        let inn = (0..g.edge_count())
            .map(|j| Arc4 {
                node: g.in_tail[j],
                weight_ms: g.in_weight_ms[j],
                len_dm: g.edge_len_dm(g.in_edge[j] as usize),
                edge: g.in_edge[j],
            })
            .collect();
        Adjacency {
            first_out: g.first_out.clone(),
            out,
            first_in: g.first_in.clone(),
            inn,
        }
    }

    #[inline]
    fn arcs(&self, v: u32, backward: bool) -> &[Arc4] {
        let (first, arcs) = if backward {
            (&self.first_in, &self.inn)
        } else {
            (&self.first_out, &self.out)
        };
        &arcs[first[v as usize] as usize..first[v as usize + 1] as usize]
    }
}

/// Dijkstra over flat arrays with reusable buffers. The hot array is `dist`, 4 bytes a
/// node (the whole demo region's fits in a core's L2 cache: the search is bound by the
/// random reads of neighbours' distances, so its size is what matters). Instead of
/// clearing it, each query resets only the nodes the previous one touched.
#[derive(Debug)]
pub struct Dijkstra {
    pub(super) g: Arc<Graph>,
    adj: Arc<Adjacency>,
    /// Tentative drive time; `u32::MAX` = not reached.
    dist: Vec<u32>,
    /// Length of the path that gave `dist`, decimetres.
    len_dm: Vec<u32>,
    /// Edge by which the node was reached, [`NONE`] at a start.
    parent: Vec<u32>,
    /// Nodes whose `dist` the current query set, to reset before the next one.
    touched: Vec<u32>,
    generation: u32,
    goal_stamp: Vec<u32>,
    /// (node, goal index, port cost, port length) for the current query, sorted by node.
    goal_ports: Vec<(u32, u32, u32, u32)>,
    heap: RadixHeap,
    pub(super) settled: usize,
}

impl Dijkstra {
    /// A search over `g`, building its own adjacency (prefer [`Dijkstra::with_adjacency`]
    /// when several searches share a graph).
    pub fn new(g: Arc<Graph>) -> Dijkstra {
        let adj = Arc::new(Adjacency::new(&g));
        Dijkstra::with_adjacency(g, adj)
    }

    /// A search sharing a prepared adjacency of the same graph.
    pub fn with_adjacency(g: Arc<Graph>, adj: Arc<Adjacency>) -> Dijkstra {
        let n = g.node_count();
        Dijkstra {
            g,
            adj,
            dist: vec![u32::MAX; n],
            len_dm: vec![0; n],
            parent: vec![NONE; n],
            touched: Vec::new(),
            generation: 0,
            goal_stamp: vec![0; n],
            goal_ports: Vec::new(),
            heap: RadixHeap::default(),
            settled: 0,
        }
    }

    pub fn graph(&self) -> &Arc<Graph> {
        &self.g
    }

    fn next_generation(&mut self) {
        for v in self.touched.drain(..) {
            self.dist[v as usize] = u32::MAX;
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // Wrapped after 4 billion queries: reset the goal stamps once.
            self.goal_stamp.fill(0);
            self.generation = 1;
        }
        self.heap.clear();
        self.settled = 0;
    }

    #[inline]
    fn dist_of(&self, v: u32) -> u32 {
        self.dist[v as usize]
    }

    #[inline]
    fn improve(&mut self, v: u32, d: u32, len: u32, parent: u32) {
        let i = v as usize;
        let old = self.dist[i];
        if d < old {
            if old == u32::MAX {
                self.touched.push(v);
            }
            self.dist[i] = d;
            self.len_dm[i] = len;
            self.parent[i] = parent;
            self.heap.push(d, v);
        }
    }

    /// The core search. `goals[i]` lists the ports through which goal `i` is reached;
    /// `direct[i]` is a cost that needs no search. Returns each goal's outcome and the
    /// port node its best cost came through (`NONE` for direct).
    pub(super) fn search(
        &mut self,
        backward: bool,
        seeds: &[Port],
        goals: &[Vec<Port>],
        direct: &[Option<(u32, u32)>],
        stop: Stop,
    ) -> (Vec<Outcome>, Vec<u32>) {
        self.next_generation();
        let generation = self.generation;
        // One reference count for the whole search, not one per settled node.
        let adj = Arc::clone(&self.adj);
        let k = goals.len();
        let needed = stop.nearest.unwrap_or(k).min(k);
        let limit = stop.max_time_ms.unwrap_or(u32::MAX);
        let mut best: Vec<(u32, u32)> = direct.iter().map(|d| d.unwrap_or((u32::MAX, 0))).collect();
        let mut via: Vec<u32> = vec![NONE; k];
        let mut is_final = vec![false; k];
        let mut finals = 0usize;
        let mut cands: BinaryHeap<Reverse<(u32, u32)>> = BinaryHeap::new();
        for (i, b) in best.iter().enumerate() {
            if b.0 != u32::MAX {
                cands.push(Reverse((b.0, i as u32)));
            }
        }
        self.goal_ports.clear();
        for (i, ports) in goals.iter().enumerate() {
            for p in ports {
                self.goal_ports
                    .push((p.node, i as u32, p.cost_ms, p.len_dm));
                self.goal_stamp[p.node as usize] = generation;
            }
        }
        self.goal_ports.sort_unstable();
        for s in seeds {
            self.improve(s.node, s.cost_ms, s.len_dm, NONE);
        }
        // With nothing requested there is nothing to search for. `exhausted` stays true
        // only if the queue runs dry, i.e. everything reachable was settled.
        let mut exhausted = needed > 0;
        while exhausted {
            let Some((d, v)) = self.heap.pop() else {
                break;
            };
            if d > self.dist_of(v) {
                continue;
            }
            while let Some(&Reverse((c, i))) = cands.peek() {
                if c > d {
                    break;
                }
                cands.pop();
                let i = i as usize;
                if !is_final[i] && best[i].0 == c {
                    is_final[i] = true;
                    finals += 1;
                }
            }
            if finals >= needed || d > limit {
                exhausted = false;
                break;
            }
            self.settled += 1;
            if self.goal_stamp[v as usize] == generation {
                let start = self.goal_ports.partition_point(|gp| gp.0 < v);
                for j in start..self.goal_ports.len() {
                    let (node, i, pc, pl) = self.goal_ports[j];
                    if node != v {
                        break;
                    }
                    let c = d.saturating_add(pc);
                    if c < best[i as usize].0 {
                        best[i as usize] = (c, self.len_dm[v as usize] + pl);
                        via[i as usize] = v;
                        cands.push(Reverse((c, i)));
                    }
                }
            }
            let base_len = self.len_dm[v as usize];
            for a in adj.arcs(v, backward) {
                self.improve(a.node, d + a.weight_ms, base_len + a.len_dm, a.edge);
            }
        }
        let outcomes = (0..k)
            .map(|i| {
                let (c, l) = best[i];
                let reach = Outcome::Reached(Reach {
                    time_ms: c,
                    distance_m: l as f64 / 10.0,
                });
                if (is_final[i] || (exhausted && c != u32::MAX)) && c <= limit {
                    reach
                } else if exhausted && c == u32::MAX {
                    Outcome::Unreachable
                } else {
                    Outcome::NotSettled
                }
            })
            .collect();
        (outcomes, via)
    }

    /// Like [`DriveTimeEngine::route`](super::DriveTimeEngine::route), with the snapper
    /// that made the snaps for geometry.
    pub fn route_with(&mut self, snapper: &Snapper, from: &Snap, to: &Snap) -> Option<Route> {
        let g = Arc::clone(&self.g);
        let seeds = exits(&g, from);
        let (out, via) = self.search(
            false,
            &seeds,
            &[entries(&g, to)],
            &[direct(&g, from, to)],
            Stop::default(),
        );
        let reach = out[0].reach()?;
        let mut path: Vec<(f64, f64)> = Vec::new();
        let push = |path: &mut Vec<(f64, f64)>, pts: Vec<(f64, f64)>| {
            for p in pts {
                if path.last() != Some(&p) {
                    path.push(p);
                }
            }
        };
        if via[0] == NONE {
            push(
                &mut path,
                snapper.piece_points_between(&g, from.piece, from.frac, to.frac),
            );
        } else {
            // Walk parents back from the port node to the start junction.
            let mut edges = Vec::new();
            let mut v = via[0];
            while self.parent[v as usize] != NONE {
                let e = self.parent[v as usize] as usize;
                edges.push(e);
                let p = g.edge_piece[e] as usize;
                v = if g.edge_reversed(e) {
                    g.piece_to[p]
                } else {
                    g.piece_from[p]
                };
            }
            edges.reverse();
            let start = v;
            let p = from.piece as usize;
            let exit_frac = if start == g.piece_to[p] && g.piece_fwd_edge[p] != NONE {
                1.0
            } else {
                0.0
            };
            push(
                &mut path,
                snapper.piece_points_between(&g, from.piece, from.frac, exit_frac),
            );
            for e in edges {
                let piece = g.edge_piece[e];
                let (a, b) = if g.edge_reversed(e) {
                    (1.0, 0.0)
                } else {
                    (0.0, 1.0)
                };
                push(&mut path, snapper.piece_points_between(&g, piece, a, b));
            }
            let p = to.piece as usize;
            let entry_frac = if via[0] == g.piece_from[p] && g.piece_fwd_edge[p] != NONE {
                0.0
            } else {
                1.0
            };
            push(
                &mut path,
                snapper.piece_points_between(&g, to.piece, entry_frac, to.frac),
            );
        }
        Some(Route {
            time_ms: reach.time_ms,
            distance_m: reach.distance_m,
            path,
        })
    }

    /// Drive times from one junction to every junction (for tests and references).
    pub fn node_times_from(&mut self, source: u32) -> Vec<u32> {
        self.next_generation();
        self.improve(source, 0, 0, NONE);
        while let Some((d, v)) = self.heap.pop() {
            if d > self.dist_of(v) {
                continue;
            }
            let adj = Arc::clone(&self.adj);
            for a in adj.arcs(v, false) {
                self.improve(a.node, d + a.weight_ms, 0, a.edge);
            }
        }
        (0..self.g.node_count() as u32)
            .map(|v| self.dist_of(v))
            .collect()
    }
}
