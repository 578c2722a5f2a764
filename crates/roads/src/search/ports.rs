//! Snapped points as the ends of a search: leaving one costs the rest of its piece to
//! the piece's end in the driving direction, arriving costs the part of the target's
//! piece up to the point, and two points on one piece may be joined directly. Shared
//! by the Dijkstra and the contraction hierarchies.

use crate::graph::{Graph, NONE};
use crate::snap::Snap;

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
