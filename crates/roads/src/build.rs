//! From routable OSM ways to the contracted road graph.
//!
//! 1. Split ways into segments between consecutive OSM nodes; merge duplicates.
//! 2. Keep the largest strongly connected component (petgraph's Kosaraju): an ambulance
//!    must be able to drive from anywhere to anywhere, so one-way dead ends and islands go.
//! 3. Contract chains of degree-2 nodes into pieces, keeping their geometry.
//! 4. Number junctions along a Hilbert curve and lay out both CSR directions.

use crate::graph::{Graph, NONE};
use crate::osm::RawOsm;
use crate::tags::RoadClass;
use std::collections::HashMap;

/// What the import kept and dropped.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct BuildStats {
    /// Junction nodes of the routing graph.
    pub nodes: usize,
    /// Directed edges.
    pub edges: usize,
    /// Contracted road pieces (with geometry).
    pub pieces: usize,
    /// OSM nodes on kept roads, before contraction.
    pub osm_nodes: usize,
    /// Kilometres of kept road per class.
    pub km_per_class: Vec<(RoadClass, f64)>,
    /// Strongly connected components other than the largest.
    pub components_dropped: usize,
    pub nodes_dropped: usize,
    pub km_dropped: f64,
    /// Closed loops with no junction (e.g. a lone roundabout), which no route can use.
    pub loops_dropped: usize,
}

struct Segment {
    a: u32,
    b: u32,
    fwd: bool,
    bwd: bool,
    class: RoadClass,
    name: u32,
    len_m: f64,
    weight_ms: u32,
}

/// Great-circle distance in metres between two (lat_e7, lon_e7) points.
pub fn haversine_m(a: (i32, i32), b: (i32, i32)) -> f64 {
    use geo::{Distance, Haversine, Point};
    Haversine.distance(
        Point::new(a.1 as f64 * 1e-7, a.0 as f64 * 1e-7),
        Point::new(b.1 as f64 * 1e-7, b.0 as f64 * 1e-7),
    )
}

/// Builds the routing graph. Returns `None` when no road survives.
pub fn build(raw: &RawOsm) -> Option<(Graph, BuildStats)> {
    let mut stats = BuildStats::default();

    // --- 1. Dense ids for used OSM nodes, names, segments.
    let mut dense: HashMap<i64, u32> = HashMap::new();
    let mut pos: Vec<(i32, i32)> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut name_ids: HashMap<String, u32> = HashMap::new();
    let mut segments: Vec<Segment> = Vec::new();
    let mut seg_index: HashMap<(u32, u32), usize> = HashMap::new();
    for way in &raw.ways {
        let name = match &way.name {
            Some(n) => *name_ids.entry(n.clone()).or_insert_with(|| {
                names.push(n.clone());
                (names.len() - 1) as u32
            }),
            None => NONE,
        };
        let speed_mps = way.policy.speed_kmh / 3.6;
        let mut prev: Option<u32> = None;
        for r in &way.refs {
            let Some(p) = raw.node(*r) else { continue };
            let id = *dense.entry(*r).or_insert_with(|| {
                pos.push(p);
                (pos.len() - 1) as u32
            });
            if let Some(a) = prev.filter(|&a| a != id) {
                let len_m = haversine_m(pos[a as usize], pos[id as usize]);
                let weight_ms = ((len_m / speed_mps) * 1000.0).round().max(1.0) as u32;
                let key = (a.min(id), a.max(id));
                let (fwd, bwd) = if a < id {
                    (way.policy.forward, way.policy.backward)
                } else {
                    (way.policy.backward, way.policy.forward)
                };
                match seg_index.get(&key) {
                    // Two ways over the same pair of nodes: one segment, the union of
                    // their directions, the faster and more important of the two.
                    Some(&i) => {
                        let s = &mut segments[i];
                        s.fwd |= fwd;
                        s.bwd |= bwd;
                        s.class = s.class.min(way.policy.class);
                        s.weight_ms = s.weight_ms.min(weight_ms);
                    }
                    None => {
                        seg_index.insert(key, segments.len());
                        segments.push(Segment {
                            a: key.0,
                            b: key.1,
                            fwd,
                            bwd,
                            class: way.policy.class,
                            name,
                            len_m,
                            weight_ms,
                        });
                    }
                }
            }
            prev = Some(id);
        }
    }
    drop(seg_index);
    let n = pos.len();
    if segments.is_empty() {
        return None;
    }

    // --- 2. Largest strongly connected component.
    let mut pg: petgraph::Graph<(), (), petgraph::Directed, u32> =
        petgraph::Graph::with_capacity(n, segments.len() * 2);
    for _ in 0..n {
        pg.add_node(());
    }
    for s in &segments {
        if s.fwd {
            pg.add_edge(s.a.into(), s.b.into(), ());
        }
        if s.bwd {
            pg.add_edge(s.b.into(), s.a.into(), ());
        }
    }
    // Kosaraju with petgraph's explicit-stack DFS: Tarjan recursed deep enough on a
    // 250,000-node grid to overflow the main thread's stack.
    let sccs = petgraph::algo::kosaraju_scc(&pg);
    drop(pg);
    // Largest by node count; ties broken by the smallest node id for determinism.
    let best = sccs
        .iter()
        .enumerate()
        .max_by_key(|(_, c)| {
            (
                c.len(),
                std::cmp::Reverse(c.iter().map(|x| x.index()).min()),
            )
        })
        .map(|(i, _)| i)?;
    let mut in_main = vec![false; n];
    for v in &sccs[best] {
        in_main[v.index()] = true;
    }
    stats.components_dropped = sccs.len() - 1;
    stats.nodes_dropped = n - sccs[best].len();
    drop(sccs);
    let mut dropped_m = 0.0;
    segments.retain(|s| {
        let keep = in_main[s.a as usize] && in_main[s.b as usize];
        if !keep {
            dropped_m += s.len_m;
        }
        keep
    });
    stats.km_dropped = dropped_m / 1000.0;
    stats.osm_nodes = sccs_count(&in_main);

    // --- 3. Contract degree-2 chains.
    // Undirected incidence lists in CSR form.
    let mut deg = vec![0u32; n + 1];
    for s in &segments {
        deg[s.a as usize] += 1;
        deg[s.b as usize] += 1;
    }
    let mut first = vec![0u32; n + 1];
    for i in 0..n {
        first[i + 1] = first[i] + deg[i];
    }
    let mut fill = first.clone();
    let mut inc = vec![0u32; segments.len() * 2];
    for (i, s) in segments.iter().enumerate() {
        for v in [s.a, s.b] {
            inc[fill[v as usize] as usize] = i as u32;
            fill[v as usize] += 1;
        }
    }
    let incident = |v: u32| &inc[first[v as usize] as usize..first[v as usize + 1] as usize];
    let other = |s: &Segment, v: u32| if s.a == v { s.b } else { s.a };
    // Can the segment be driven leaving `from`?
    let leaves = |s: &Segment, from: u32| if s.a == from { s.fwd } else { s.bwd };
    let arrives = |s: &Segment, to: u32| if s.b == to { s.fwd } else { s.bwd };
    let interior: Vec<bool> = (0..n as u32)
        .map(|v| {
            let inc = incident(v);
            if !in_main[v as usize] || inc.len() != 2 {
                return false;
            }
            let (s1, s2) = (&segments[inc[0] as usize], &segments[inc[1] as usize]);
            let (x, y) = (other(s1, v), other(s2, v));
            // Driving x -> v -> y must be possible exactly when each half is, and the
            // same for y -> v -> x, so the contracted piece has one direction flag each way.
            x != y
                && s1.class == s2.class
                && arrives(s1, v) == leaves(s2, v)
                && arrives(s2, v) == leaves(s1, v)
        })
        .collect();

    struct Piece {
        nodes: Vec<u32>,
        fwd: bool,
        bwd: bool,
        class: RoadClass,
        name: u32,
        len_m: f64,
        weight_ms: u32,
    }
    let mut used = vec![false; segments.len()];
    let mut pieces: Vec<Piece> = Vec::new();
    // Walks the chain that leaves `start` by segment `s0` up to the next junction. A chain
    // that comes back to `start` (a loop street, a roundabout hanging off one junction)
    // is split at its middle node, which becomes a junction: no road is lost.
    let walk = |start: u32, s0: u32, used: &mut Vec<bool>, pieces: &mut Vec<Piece>| {
        let mut nodes = vec![start];
        let mut steps: Vec<u32> = Vec::new();
        let (mut at, mut seg) = (start, s0);
        loop {
            used[seg as usize] = true;
            steps.push(seg);
            let next = other(&segments[seg as usize], at);
            nodes.push(next);
            if !interior[next as usize] || next == start {
                break;
            }
            let inc = incident(next);
            seg = if inc[0] == seg { inc[1] } else { inc[0] };
            at = next;
        }
        let make = |nodes: &[u32], steps: &[u32]| {
            let mut piece = Piece {
                nodes: nodes.to_vec(),
                fwd: true,
                bwd: true,
                class: segments[steps[0] as usize].class,
                name: NONE,
                len_m: 0.0,
                weight_ms: 0,
            };
            for (i, &sid) in steps.iter().enumerate() {
                let s = &segments[sid as usize];
                piece.fwd &= leaves(s, nodes[i]);
                piece.bwd &= arrives(s, nodes[i]);
                piece.len_m += s.len_m;
                piece.weight_ms += s.weight_ms;
                if piece.name == NONE {
                    piece.name = s.name;
                }
            }
            piece
        };
        if nodes.last() == Some(&start) {
            let mid = steps.len() / 2;
            if mid == 0 {
                return 1;
            }
            pieces.push(make(&nodes[..=mid], &steps[..mid]));
            pieces.push(make(&nodes[mid..], &steps[mid..]));
        } else {
            pieces.push(make(&nodes, &steps));
        }
        0
    };
    for start in 0..n as u32 {
        if !in_main[start as usize] || interior[start as usize] {
            continue;
        }
        for &s0 in incident(start) {
            if !used[s0 as usize] {
                stats.loops_dropped += walk(start, s0, &mut used, &mut pieces);
            }
        }
    }
    // Segments never reached form closed rings of interior nodes with no junction at all
    // (a lone roundabout): start a walk at the ring's first node.
    for i in 0..segments.len() {
        if !used[i] {
            let start = segments[i].a;
            stats.loops_dropped += walk(start, i as u32, &mut used, &mut pieces);
        }
    }
    if pieces.is_empty() {
        return None;
    }

    // --- 4. Number junctions along a Hilbert curve.
    let mut junctions: Vec<u32> = pieces
        .iter()
        .flat_map(|p| [p.nodes[0], *p.nodes.last().expect("two nodes")])
        .collect();
    junctions.sort_unstable();
    junctions.dedup();
    let (min_lat, max_lat, min_lon, max_lon) = junctions.iter().fold(
        (i32::MAX, i32::MIN, i32::MAX, i32::MIN),
        |(a, b, c, d), &v| {
            let (lat, lon) = pos[v as usize];
            (a.min(lat), b.max(lat), c.min(lon), d.max(lon))
        },
    );
    let scale = |v: i32, lo: i32, hi: i32| -> u32 {
        let span = (hi as i64 - lo as i64).max(1);
        (((v as i64 - lo as i64) * 65_535) / span) as u32
    };
    junctions.sort_by_key(|&v| {
        let (lat, lon) = pos[v as usize];
        (
            hilbert_d(scale(lon, min_lon, max_lon), scale(lat, min_lat, max_lat)),
            v,
        )
    });
    let mut new_id = vec![NONE; n];
    for (i, &v) in junctions.iter().enumerate() {
        new_id[v as usize] = i as u32;
    }
    let nn = junctions.len();
    // Pieces in order of their first junction, so a node's pieces are close in memory.
    pieces.sort_by_key(|p| {
        (
            new_id[p.nodes[0] as usize],
            new_id[*p.nodes.last().expect("two nodes") as usize],
            p.nodes.get(1).copied(),
        )
    });

    let mut g = Graph {
        node_lat_e7: junctions.iter().map(|&v| pos[v as usize].0).collect(),
        node_lon_e7: junctions.iter().map(|&v| pos[v as usize].1).collect(),
        names,
        ..Graph::default()
    };
    // Directed edges as (tail, piece, reversed).
    let mut edges: Vec<(u32, u32, bool)> = Vec::with_capacity(pieces.len() * 2);
    let mut km = [0.0f64; RoadClass::ALL.len()];
    g.piece_first_coord.push(0);
    for (pi, p) in pieces.iter().enumerate() {
        let (a, b) = (
            new_id[p.nodes[0] as usize],
            new_id[*p.nodes.last().expect("two") as usize],
        );
        for &v in &p.nodes {
            g.coord_lat_e7.push(pos[v as usize].0);
            g.coord_lon_e7.push(pos[v as usize].1);
        }
        g.piece_first_coord.push(g.coord_lat_e7.len() as u32);
        g.piece_from.push(a);
        g.piece_to.push(b);
        g.piece_len_dm.push((p.len_m * 10.0).round() as u32);
        g.piece_weight_ms.push(p.weight_ms);
        g.piece_class.push(p.class as u8);
        g.piece_name.push(p.name);
        km[p.class as usize] += p.len_m / 1000.0;
        if p.fwd {
            edges.push((a, pi as u32, false));
        }
        if p.bwd {
            edges.push((b, pi as u32, true));
        }
    }
    edges.sort_unstable();
    let np = pieces.len();
    g.piece_fwd_edge = vec![NONE; np];
    g.piece_bwd_edge = vec![NONE; np];
    g.first_out = vec![0; nn + 1];
    for (e, &(tail, piece, reversed)) in edges.iter().enumerate() {
        g.first_out[tail as usize + 1] += 1;
        let head = if reversed {
            g.piece_from[piece as usize]
        } else {
            g.piece_to[piece as usize]
        };
        g.head.push(head);
        g.weight_ms.push(g.piece_weight_ms[piece as usize]);
        g.edge_piece.push(piece);
        if reversed {
            g.piece_bwd_edge[piece as usize] = e as u32;
        } else {
            g.piece_fwd_edge[piece as usize] = e as u32;
        }
    }
    for i in 0..nn {
        g.first_out[i + 1] += g.first_out[i];
    }
    // Backward CSR: entries grouped by head, in forward edge order within a head.
    let mut by_head: Vec<(u32, u32)> = g
        .head
        .iter()
        .enumerate()
        .map(|(e, &h)| (h, e as u32))
        .collect();
    by_head.sort_unstable();
    g.first_in = vec![0; nn + 1];
    let mut tail_of = vec![0u32; edges.len()];
    for (e, &(t, _, _)) in edges.iter().enumerate() {
        tail_of[e] = t;
    }
    for &(h, e) in &by_head {
        g.first_in[h as usize + 1] += 1;
        g.in_tail.push(tail_of[e as usize]);
        g.in_weight_ms.push(g.weight_ms[e as usize]);
        g.in_edge.push(e);
    }
    for i in 0..nn {
        g.first_in[i + 1] += g.first_in[i];
    }

    stats.nodes = nn;
    stats.edges = g.edge_count();
    stats.pieces = np;
    stats.km_per_class = RoadClass::ALL
        .iter()
        .filter(|c| km[**c as usize] > 0.0)
        .map(|c| (*c, km[*c as usize]))
        .collect();
    g.ch = Some(crate::ch::Hierarchy::build(&g));
    debug_assert_eq!(g.validate(), Ok(()));
    Some((g, stats))
}

fn sccs_count(in_main: &[bool]) -> usize {
    in_main.iter().filter(|x| **x).count()
}

/// Position of (x, y) along a Hilbert curve over a 2^16 x 2^16 grid.
fn hilbert_d(mut x: u32, mut y: u32) -> u64 {
    let n: u32 = 1 << 16;
    let mut d: u64 = 0;
    let mut s = n / 2;
    while s > 0 {
        let rx = u32::from(x & s > 0);
        let ry = u32::from(y & s > 0);
        d += s as u64 * s as u64 * ((3 * rx) ^ ry) as u64;
        // Rotate the quadrant so the curve stays continuous.
        if ry == 0 {
            if rx == 1 {
                x = n - 1 - x;
                y = n - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hilbert_visits_every_cell_of_a_small_grid_once() {
        // Scaled down: the top 14 bits fixed, check the 4x4 corner is a permutation.
        let mut ds: Vec<u64> = (0..4)
            .flat_map(|x| (0..4).map(move |y| hilbert_d(x, y)))
            .collect();
        ds.sort_unstable();
        ds.dedup();
        assert_eq!(ds.len(), 16);
    }

    #[test]
    fn haversine_one_degree_of_latitude() {
        let d = haversine_m((0, 0), (10_000_000, 0));
        assert!((d - 111_195.0).abs() < 50.0, "{d}");
    }
}
