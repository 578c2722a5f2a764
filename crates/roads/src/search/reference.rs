//! The independent reference: the same graph as a petgraph graph, and the answer for a
//! snapped pair from petgraph's node times, for tests and `satria bench eta`.

use super::{direct, entries, exits};
use crate::graph::Graph;
use crate::snap::Snap;

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
