//! Contraction hierarchies: exact many-to-one and one-to-many drive times that touch a
//! few thousand nodes instead of most of the graph.
//!
//! Preprocessing contracts nodes one by one (ordered by edge difference + contracted
//! neighbours + level, with lazy updates); contracting `v` adds a shortcut `u -> x` for
//! each pair of remaining neighbours whose only shortest path (found by a bounded witness
//! search) runs through `v`. Every edge and shortcut ends up stored once, at its
//! lower-ranked end: as an *up* arc (forward search) or a *down* arc (backward search).
//! Shortcuts carry the drive time and the length of the path they stand for, so a
//! query yields `distance_m` without unpacking.
//!
//! A query joins an upward search from one side with an upward search from the other;
//! the shortest path's highest node is settled by both, so the minimum over nodes of
//! (forward + backward) time is exact. Witness searches that give up only add
//! superfluous shortcuts, never wrong ones, so the hierarchy is exact whatever the limits.
//!
//! One file because it is one algorithm: the contraction and the query share one
//! invariant (every arc stored once, at its lower-ranked end), and neither is correct
//! without the other.

use crate::graph::Graph;
use crate::search::{Outcome, Port, Reach, Stop, direct, entries, exits};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

/// One arc of the hierarchy: the other node, the drive time and the driven length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChArc {
    pub node: u32,
    pub time_ms: u32,
    pub len_dm: u32,
}

/// The contracted graph in two CSR halves over the original node ids.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hierarchy {
    /// Arcs `v -> x` with rank(x) > rank(v), stored at `v` as `x`.
    pub up_first: Vec<u32>,
    pub up: Vec<ChArc>,
    /// Arcs `u -> v` with rank(u) > rank(v), stored at `v` as `u`.
    pub down_first: Vec<u32>,
    pub down: Vec<ChArc>,
}

impl Hierarchy {
    #[inline]
    fn up_arcs(&self, v: u32) -> &[ChArc] {
        &self.up[self.up_first[v as usize] as usize..self.up_first[v as usize + 1] as usize]
    }
    #[inline]
    fn down_arcs(&self, v: u32) -> &[ChArc] {
        &self.down[self.down_first[v as usize] as usize..self.down_first[v as usize + 1] as usize]
    }

    /// Number of arcs (original edges + shortcuts, minus dropped duplicates).
    pub fn arc_count(&self) -> usize {
        self.up.len() + self.down.len()
    }

    /// Checks the CSR bounds and node indices against a graph of `n` nodes.
    pub fn validate(&self, n: usize) -> Result<(), String> {
        for (name, first, arcs) in [
            ("ch up", &self.up_first, &self.up),
            ("ch down", &self.down_first, &self.down),
        ] {
            if first.len() != n + 1 || first[0] != 0 || first[n] as usize != arcs.len() {
                return Err(format!("{name} has the wrong length or bounds"));
            }
            if first.windows(2).any(|w| w[0] > w[1]) {
                return Err(format!("{name} decreases"));
            }
            if arcs.iter().any(|a| a.node as usize >= n) {
                return Err(format!("{name} has a node index out of range"));
            }
        }
        Ok(())
    }

    /// Contracts the graph. Deterministic: the same graph gives the same hierarchy.
    pub fn build(g: &Graph) -> Hierarchy {
        Builder::new(g).run()
    }
}

/// Adds `u -> x` or lowers an existing one (ties keep the existing arc).
#[inline]
fn add_or_improve(list: &mut Vec<ChArc>, a: ChArc) {
    for b in list.iter_mut() {
        if b.node == a.node {
            if a.time_ms < b.time_ms {
                *b = a;
            }
            return;
        }
    }
    list.push(a);
}

struct Builder {
    n: usize,
    out: Vec<Vec<ChArc>>,
    inn: Vec<Vec<ChArc>>,
    contracted: Vec<bool>,
    deleted_nb: Vec<u32>,
    level: Vec<u32>,
    // Witness search scratch.
    dist: Vec<u32>,
    touched: Vec<u32>,
    heap: BinaryHeap<Reverse<(u32, u32)>>,
    up_lists: Vec<Vec<ChArc>>,
    down_lists: Vec<Vec<ChArc>>,
}

/// Settled-node limits of the witness searches: when estimating a priority, and when
/// contracting. Low limits cost a few superfluous shortcuts (measured on the demo
/// region: the same query times as 60/400, less than half the import time).
const SIM_SETTLE_LIMIT: usize = 30;
const SETTLE_LIMIT: usize = 100;

impl Builder {
    fn new(g: &Graph) -> Builder {
        let n = g.node_count();
        let mut out = vec![Vec::new(); n];
        let mut inn = vec![Vec::new(); n];
        for v in 0..n as u32 {
            for e in g.out_edges(v) {
                let x = g.head[e];
                if x == v {
                    continue;
                }
                let (t, l) = (g.weight_ms[e], g.edge_len_dm(e));
                add_or_improve(
                    &mut out[v as usize],
                    ChArc {
                        node: x,
                        time_ms: t,
                        len_dm: l,
                    },
                );
                add_or_improve(
                    &mut inn[x as usize],
                    ChArc {
                        node: v,
                        time_ms: t,
                        len_dm: l,
                    },
                );
            }
        }
        Builder {
            n,
            out,
            inn,
            contracted: vec![false; n],
            deleted_nb: vec![0; n],
            level: vec![0; n],
            dist: vec![u32::MAX; n],
            touched: Vec::new(),
            heap: BinaryHeap::new(),
            up_lists: vec![Vec::new(); n],
            down_lists: vec![Vec::new(); n],
        }
    }

    /// Bounded Dijkstra from `u` avoiding `skip`; leaves distances in `dist`.
    fn witness(&mut self, u: u32, skip: u32, max_cost: u32, limit: usize) {
        for v in self.touched.drain(..) {
            self.dist[v as usize] = u32::MAX;
        }
        self.heap.clear();
        self.dist[u as usize] = 0;
        self.touched.push(u);
        self.heap.push(Reverse((0, u)));
        let mut settled = 0;
        while let Some(Reverse((d, v))) = self.heap.pop() {
            if d > self.dist[v as usize] {
                continue;
            }
            if d > max_cost || settled >= limit {
                break;
            }
            settled += 1;
            for a in &self.out[v as usize] {
                if a.node == skip {
                    continue;
                }
                let nd = d + a.time_ms;
                let i = a.node as usize;
                if nd < self.dist[i] {
                    if self.dist[i] == u32::MAX {
                        self.touched.push(a.node);
                    }
                    self.dist[i] = nd;
                    self.heap.push(Reverse((nd, a.node)));
                }
            }
        }
    }

    /// The shortcuts contracting `v` needs now.
    fn shortcuts(&mut self, v: u32, limit: usize, found: &mut Vec<(u32, ChArc)>) {
        found.clear();
        let ins = std::mem::take(&mut self.inn[v as usize]);
        let outs = std::mem::take(&mut self.out[v as usize]);
        if !outs.is_empty() {
            let max_out = outs.iter().map(|a| a.time_ms).max().unwrap_or(0);
            for a in &ins {
                if outs.iter().all(|b| b.node == a.node) {
                    continue;
                }
                self.witness(a.node, v, a.time_ms + max_out, limit);
                for b in &outs {
                    if b.node == a.node {
                        continue;
                    }
                    let c = a.time_ms + b.time_ms;
                    if self.dist[b.node as usize] > c {
                        found.push((
                            a.node,
                            ChArc {
                                node: b.node,
                                time_ms: c,
                                len_dm: a.len_dm + b.len_dm,
                            },
                        ));
                    }
                }
            }
        }
        self.inn[v as usize] = ins;
        self.out[v as usize] = outs;
    }

    fn priority(&mut self, v: u32, scratch: &mut Vec<(u32, ChArc)>) -> i64 {
        self.shortcuts(v, SIM_SETTLE_LIMIT, scratch);
        let removed = (self.inn[v as usize].len() + self.out[v as usize].len()) as i64;
        let added = scratch.len() as i64;
        2 * (added - removed) + self.deleted_nb[v as usize] as i64 + self.level[v as usize] as i64
    }

    fn run(mut self) -> Hierarchy {
        let n = self.n;
        let mut scratch = Vec::new();
        let mut prio = vec![0i64; n];
        let mut queue: BinaryHeap<Reverse<(i64, u32)>> = BinaryHeap::with_capacity(n);
        for v in 0..n as u32 {
            prio[v as usize] = self.priority(v, &mut scratch);
            queue.push(Reverse((prio[v as usize], v)));
        }
        let mut found = Vec::new();
        let mut nbrs: Vec<u32> = Vec::new();
        while let Some(Reverse((p, v))) = queue.pop() {
            let vi = v as usize;
            if self.contracted[vi] || p != prio[vi] {
                continue;
            }
            // Lazy update: re-evaluate, and put back if no longer the smallest.
            let fresh = self.priority(v, &mut scratch);
            if let Some(Reverse((next, _))) = queue.peek()
                && fresh > *next
            {
                prio[vi] = fresh;
                queue.push(Reverse((fresh, v)));
                continue;
            }
            self.shortcuts(v, SETTLE_LIMIT, &mut found);
            self.contracted[vi] = true;
            let ins = std::mem::take(&mut self.inn[vi]);
            let outs = std::mem::take(&mut self.out[vi]);
            nbrs.clear();
            for a in &ins {
                self.out[a.node as usize].retain(|b| b.node != v);
                nbrs.push(a.node);
            }
            for b in &outs {
                self.inn[b.node as usize].retain(|a| a.node != v);
                nbrs.push(b.node);
            }
            for &(u, arc) in &found {
                add_or_improve(&mut self.out[u as usize], arc);
                add_or_improve(
                    &mut self.inn[arc.node as usize],
                    ChArc {
                        node: u,
                        time_ms: arc.time_ms,
                        len_dm: arc.len_dm,
                    },
                );
            }
            self.up_lists[vi] = outs;
            self.down_lists[vi] = ins;
            nbrs.sort_unstable();
            nbrs.dedup();
            for &x in &nbrs {
                let xi = x as usize;
                self.deleted_nb[xi] += 1;
                self.level[xi] = self.level[xi].max(self.level[vi] + 1);
            }
            // Neighbours' priorities are not recomputed here: the lazy check at pop
            // time catches the stale ones, at a fraction of the cost.
        }
        let csr = |lists: Vec<Vec<ChArc>>| {
            let mut first = Vec::with_capacity(n + 1);
            first.push(0u32);
            let mut arcs = Vec::new();
            for l in lists {
                arcs.extend(l);
                first.push(arcs.len() as u32);
            }
            (first, arcs)
        };
        let (up_first, up) = csr(std::mem::take(&mut self.up_lists));
        let (down_first, down) = csr(std::mem::take(&mut self.down_lists));
        Hierarchy {
            up_first,
            up,
            down_first,
            down,
        }
    }
}

/// One upward search's labels, reset lazily.
#[derive(Debug)]
struct Side {
    dist: Vec<u32>,
    len: Vec<u32>,
    touched: Vec<u32>,
    heap: BinaryHeap<Reverse<(u32, u32)>>,
}

impl Side {
    fn new(n: usize) -> Side {
        Side {
            dist: vec![u32::MAX; n],
            len: vec![0; n],
            touched: Vec::new(),
            heap: BinaryHeap::new(),
        }
    }

    fn reset(&mut self) {
        for v in self.touched.drain(..) {
            self.dist[v as usize] = u32::MAX;
        }
        self.heap.clear();
    }

    #[inline]
    fn improve(&mut self, v: u32, d: u32, l: u32) {
        let i = v as usize;
        let old = self.dist[i];
        if d < old {
            if old == u32::MAX {
                self.touched.push(v);
            }
            self.dist[i] = d;
            self.len[i] = l;
            self.heap.push(Reverse((d, v)));
        }
    }
}

/// Which arcs a search climbs: forward searches climb up arcs (and stall on down arcs),
/// backward searches the reverse.
#[derive(Clone, Copy)]
enum Dir {
    Forward,
    Backward,
}

/// Query scratch space for one thread over a [`Hierarchy`].
#[derive(Debug)]
pub struct ChSearch {
    g: Arc<Graph>,
    one: Side,
    each: Side,
    settled: usize,
}

impl ChSearch {
    /// Panics if the graph has no hierarchy.
    pub fn new(g: Arc<Graph>) -> ChSearch {
        assert!(g.ch.is_some(), "the graph has no contraction hierarchy");
        let n = g.node_count();
        ChSearch {
            g,
            one: Side::new(n),
            each: Side::new(n),
            settled: 0,
        }
    }

    /// Nodes settled (popped) by the last query, both sides, all goals.
    pub fn last_settled(&self) -> usize {
        self.settled
    }

    pub(crate) fn clear_settled(&mut self) {
        self.settled = 0;
    }

    /// Complete upward search of `side` from `seeds`, up to drive time `bound`.
    fn full(h: &Hierarchy, side: &mut Side, dir: Dir, seeds: &[Port], bound: u32) -> usize {
        side.reset();
        for s in seeds {
            side.improve(s.node, s.cost_ms, s.len_dm);
        }
        let mut settled = 0;
        while let Some(Reverse((d, v))) = side.heap.pop() {
            if d > side.dist[v as usize] {
                continue;
            }
            if d > bound {
                break;
            }
            settled += 1;
            let (climb, stall) = match dir {
                Dir::Forward => (h.up_arcs(v), h.down_arcs(v)),
                Dir::Backward => (h.down_arcs(v), h.up_arcs(v)),
            };
            // Stall on demand: a shorter way into v from above means v is not on a
            // shortest up-down path, so its arcs need not be climbed.
            if stall
                .iter()
                .any(|a| side.dist[a.node as usize].saturating_add(a.time_ms) < d)
            {
                continue;
            }
            let base = side.len[v as usize];
            for a in climb {
                side.improve(a.node, d + a.time_ms, base + a.len_dm);
            }
        }
        settled
    }

    /// Upward search of `side` from `seeds` meeting the labels of `other`; stops once
    /// nothing below the best meeting (or `bound`) is left. Returns (time, length).
    fn meet(
        h: &Hierarchy,
        side: &mut Side,
        other: &Side,
        dir: Dir,
        seeds: &[Port],
        bound: u32,
        settled: &mut usize,
    ) -> Option<(u32, u32)> {
        side.reset();
        for s in seeds {
            side.improve(s.node, s.cost_ms, s.len_dm);
        }
        let mut best: Option<(u32, u32)> = None;
        while let Some(Reverse((d, v))) = side.heap.pop() {
            if d > side.dist[v as usize] {
                continue;
            }
            if d > bound || best.is_some_and(|b| d >= b.0) {
                break;
            }
            *settled += 1;
            let vi = v as usize;
            let o = other.dist[vi];
            if o != u32::MAX {
                let c = d.saturating_add(o);
                if c <= bound && best.is_none_or(|b| c < b.0) {
                    best = Some((c, side.len[vi] + other.len[vi]));
                }
            }
            let (climb, stall) = match dir {
                Dir::Forward => (h.up_arcs(v), h.down_arcs(v)),
                Dir::Backward => (h.down_arcs(v), h.up_arcs(v)),
            };
            if stall
                .iter()
                .any(|a| side.dist[a.node as usize].saturating_add(a.time_ms) < d)
            {
                continue;
            }
            let base = side.len[vi];
            for a in climb {
                side.improve(a.node, d + a.time_ms, base + a.len_dm);
            }
        }
        best
    }

    /// The shared core. `one_dir` is the direction of the single search (Backward for
    /// many-to-one); each goal is searched the other way and met with it.
    fn multi(
        &mut self,
        one_dir: Dir,
        one_ports: &[Port],
        goals: &[Vec<Port>],
        direct: &[Option<(u32, u32)>],
        stop: Stop,
    ) -> Vec<Outcome> {
        let g = Arc::clone(&self.g);
        let h = g.ch.as_ref().expect("checked in new");
        let k = goals.len();
        let needed = stop.nearest.unwrap_or(k).min(k);
        self.settled = 0;
        if needed == 0 {
            // Like the Dijkstra: nothing requested, nothing searched, nothing final.
            return vec![Outcome::NotSettled; k];
        }
        let limit = stop.max_time_ms.unwrap_or(u32::MAX);
        self.settled += Self::full(h, &mut self.one, one_dir, one_ports, limit);
        let each_dir = match one_dir {
            Dir::Forward => Dir::Backward,
            Dir::Backward => Dir::Forward,
        };
        // Costs within the limit; `None`: beyond the bound searched (or unreachable).
        let mut best: Vec<Option<(u32, u32)>> = Vec::with_capacity(k);
        // The `needed` smallest costs so far (a max-heap), to bound later goals.
        let mut nearest: BinaryHeap<u32> = BinaryHeap::new();
        let bounded = stop.nearest.is_some();
        for (i, ports) in goals.iter().enumerate() {
            let mut bound = limit;
            if bounded && nearest.len() >= needed {
                bound = bound.min(*nearest.peek().expect("non-empty"));
            }
            let mut b = Self::meet(
                h,
                &mut self.each,
                &self.one,
                each_dir,
                ports,
                bound,
                &mut self.settled,
            );
            if let Some((c, l)) = direct[i]
                && c <= bound
                && b.is_none_or(|x| c < x.0)
            {
                b = Some((c, l));
            }
            if let (Some((c, _)), true) = (b, bounded) {
                if nearest.len() < needed {
                    nearest.push(c);
                } else if c < *nearest.peek().expect("non-empty") {
                    nearest.pop();
                    nearest.push(c);
                }
            }
            best.push(b);
        }
        // The Dijkstra stops once `needed` goals are final: those are exactly the ones
        // no dearer than the needed-th cost. With fewer reachable it runs dry, and then
        // (without a time limit) knows the rest are unreachable.
        let stopped_by_nearest = bounded && nearest.len() >= needed;
        let threshold = if stopped_by_nearest {
            *nearest.peek().expect("non-empty")
        } else {
            u32::MAX
        };
        best.iter()
            .map(|b| match b {
                Some((c, l)) if *c <= threshold && *c <= limit => Outcome::Reached(Reach {
                    time_ms: *c,
                    distance_m: *l as f64 / 10.0,
                }),
                None if !stopped_by_nearest && stop.max_time_ms.is_none() => Outcome::Unreachable,
                _ => Outcome::NotSettled,
            })
            .collect()
    }

    /// Drive time from each source to `target`.
    pub fn many_to_one(
        &mut self,
        sources: &[crate::Snap],
        target: &crate::Snap,
        stop: Stop,
    ) -> Vec<Outcome> {
        let g = Arc::clone(&self.g);
        let seeds = entries(&g, target);
        let goals: Vec<Vec<Port>> = sources.iter().map(|s| exits(&g, s)).collect();
        let direct: Vec<_> = sources.iter().map(|s| direct(&g, s, target)).collect();
        self.multi(Dir::Backward, &seeds, &goals, &direct, stop)
    }

    /// Drive time from `source` to each target.
    pub fn one_to_many(
        &mut self,
        source: &crate::Snap,
        targets: &[crate::Snap],
        stop: Stop,
    ) -> Vec<Outcome> {
        let g = Arc::clone(&self.g);
        let seeds = exits(&g, source);
        let goals: Vec<Vec<Port>> = targets.iter().map(|t| entries(&g, t)).collect();
        let direct: Vec<_> = targets.iter().map(|t| direct(&g, source, t)).collect();
        self.multi(Dir::Forward, &seeds, &goals, &direct, stop)
    }

    /// Drive time between two junctions (for tests).
    pub fn node_time(&mut self, from: u32, to: u32) -> Option<u32> {
        let h = self.g.ch.as_ref().expect("checked in new");
        let seed = |node| Port {
            node,
            cost_ms: 0,
            len_dm: 0,
        };
        Self::full(h, &mut self.one, Dir::Backward, &[seed(to)], u32::MAX);
        let mut s = 0;
        Self::meet(
            h,
            &mut self.each,
            &self.one,
            Dir::Forward,
            &[seed(from)],
            u32::MAX,
            &mut s,
        )
        .map(|x| x.0)
    }
}
