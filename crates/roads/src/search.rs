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

use crate::graph::{Graph, NONE};
use crate::snap::{Snap, Snapper};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

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

/// A node where a search starts or a goal is reached, with the extra cost and length
/// of the partial piece between the node and the snapped point.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Port {
    pub(crate) node: u32,
    pub(crate) cost_ms: u32,
    pub(crate) len_dm: u32,
}

fn part(whole: u32, frac: f64) -> u32 {
    (whole as f64 * frac).round() as u32
}

/// Where one can drive to when leaving a snapped point.
pub(crate) fn exits(g: &Graph, s: &Snap) -> Vec<Port> {
    let p = s.piece as usize;
    let (w, l) = (g.piece_weight_ms[p], g.piece_len_dm[p]);
    let mut v = Vec::with_capacity(2);
    if g.piece_fwd_edge[p] != NONE {
        v.push(Port {
            node: g.piece_to[p],
            cost_ms: part(w, 1.0 - s.frac),
            len_dm: part(l, 1.0 - s.frac),
        });
    }
    if g.piece_bwd_edge[p] != NONE {
        v.push(Port {
            node: g.piece_from[p],
            cost_ms: part(w, s.frac),
            len_dm: part(l, s.frac),
        });
    }
    v
}

/// Where one must come from to arrive at a snapped point.
pub(crate) fn entries(g: &Graph, t: &Snap) -> Vec<Port> {
    let p = t.piece as usize;
    let (w, l) = (g.piece_weight_ms[p], g.piece_len_dm[p]);
    let mut v = Vec::with_capacity(2);
    if g.piece_fwd_edge[p] != NONE {
        v.push(Port {
            node: g.piece_from[p],
            cost_ms: part(w, t.frac),
            len_dm: part(l, t.frac),
        });
    }
    if g.piece_bwd_edge[p] != NONE {
        v.push(Port {
            node: g.piece_to[p],
            cost_ms: part(w, 1.0 - t.frac),
            len_dm: part(l, 1.0 - t.frac),
        });
    }
    v
}

/// Driving from `s` to `t` along their shared piece without passing a junction.
pub(crate) fn direct(g: &Graph, s: &Snap, t: &Snap) -> Option<(u32, u32)> {
    if s.piece != t.piece {
        return None;
    }
    let p = s.piece as usize;
    let (w, l) = (g.piece_weight_ms[p], g.piece_len_dm[p]);
    let d = t.frac - s.frac;
    let ok = (d >= 0.0 && g.piece_fwd_edge[p] != NONE) || (d <= 0.0 && g.piece_bwd_edge[p] != NONE);
    ok.then(|| (part(w, d.abs()), part(l, d.abs())))
}

/// A radix heap: Dijkstra pops keys in non-decreasing order, so an entry only needs to
/// be filed by the highest bit in which its key differs from the last key popped.
/// Pushes are O(1) and each entry moves down at most 32 times; in practice this is
/// markedly faster than a binary heap on road graphs.
#[derive(Debug)]
struct RadixHeap {
    last: u32,
    len: usize,
    buckets: [Vec<(u32, u32)>; 33],
}

impl Default for RadixHeap {
    fn default() -> RadixHeap {
        RadixHeap {
            last: 0,
            len: 0,
            buckets: std::array::from_fn(|_| Vec::new()),
        }
    }
}

impl RadixHeap {
    fn clear(&mut self) {
        self.last = 0;
        self.len = 0;
        for b in &mut self.buckets {
            b.clear();
        }
    }

    #[inline]
    fn bucket(&self, key: u32) -> usize {
        (32 - (key ^ self.last).leading_zeros()) as usize
    }

    /// Files `(key, value)`; `key` must not be below the last key popped.
    #[inline]
    fn push(&mut self, key: u32, value: u32) {
        debug_assert!(key >= self.last);
        let b = self.bucket(key);
        self.buckets[b].push((key, value));
        self.len += 1;
    }

    fn pop(&mut self) -> Option<(u32, u32)> {
        if self.len == 0 {
            return None;
        }
        if self.buckets[0].is_empty() {
            let i = (1..33).find(|&i| !self.buckets[i].is_empty())?;
            let min = self.buckets[i].iter().map(|e| e.0).min()?;
            self.last = min;
            let moved = std::mem::take(&mut self.buckets[i]);
            for (k, v) in &moved {
                let b = self.bucket(*k);
                self.buckets[b].push((*k, *v));
            }
            // Give the emptied bucket its allocation back.
            let mut moved = moved;
            moved.clear();
            self.buckets[i] = moved;
        }
        self.len -= 1;
        self.buckets[0].pop()
    }
}

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
    g: Arc<Graph>,
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
    settled: usize,
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
    fn search(
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

    /// Like [`DriveTimeEngine::route`], with the snapper that made the snaps for geometry.
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

/// The same graph as a petgraph graph (node `i` is node `i`, edge weight in ms), the
/// independent reference for tests and `satria bench eta`.
pub fn to_petgraph(g: &Graph, reversed: bool) -> petgraph::Graph<(), u32, petgraph::Directed, u32> {
    let mut pg = petgraph::Graph::with_capacity(g.node_count(), g.edge_count());
    for _ in 0..g.node_count() {
        pg.add_node(());
    }
    for v in 0..g.node_count() as u32 {
        for e in g.out_edges(v) {
            let (a, b) = if reversed {
                (g.head[e], v)
            } else {
                (v, g.head[e])
            };
            pg.add_edge(a.into(), b.into(), g.weight_ms[e]);
        }
    }
    pg
}

/// The reference answer for a snapped pair, from petgraph's Dijkstra node times:
/// the best over exit port + node-to-node time + entry port, or the direct drive.
pub fn reference_time_ms(
    g: &Graph,
    node_times: &dyn Fn(u32) -> Vec<Option<u32>>,
    from: &Snap,
    to: &Snap,
) -> Option<u32> {
    let mut best = direct(g, from, to).map(|d| d.0);
    for x in exits(g, from) {
        let times = node_times(x.node);
        for y in entries(g, to) {
            if let Some(t) = times[y.node as usize] {
                let c = x.cost_ms + t + y.cost_ms;
                best = Some(best.map_or(c, |b: u32| b.min(c)));
            }
        }
    }
    best
}
