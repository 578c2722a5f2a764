//! The roads between places: secondary and tertiary roads between neighbouring desa,
//! primary roads between kecamatan centres, each planned as a spanning network plus
//! some links to near neighbours.

use super::union_find::UnionFind;
use super::{Builder, Hub, tag};
use satria_region::Region;
use std::collections::BTreeSet;

/// Roads between desa are only planned between centres closer than this.
const DESA_LINK_MAX_M: f64 = 8_000.0;

impl Builder {
    /// Kruskal over `edges` (already sorted by length): the spanning forest, as indexes
    /// into `edges`.
    fn spanning(n: usize, edges: &[(f64, usize, usize)]) -> Vec<usize> {
        let mut uf = UnionFind::new(n);
        edges
            .iter()
            .enumerate()
            .filter(|(_, e)| uf.union(e.1, e.2))
            .map(|(i, _)| i)
            .collect()
    }

    /// Candidate links between hub nodes: every pair closer than `max_m` whose straight
    /// line stays on one bank, sorted by length (ties by index, for determinism).
    fn candidate_links(&self, nodes: &[u32], max_m: f64) -> Vec<(f64, usize, usize)> {
        let mut edges = Vec::new();
        for i in 0..nodes.len() {
            for j in i + 1..nodes.len() {
                let (a, b) = (self.pts[nodes[i] as usize], self.pts[nodes[j] as usize]);
                let d = a.dist(b);
                if d < max_m && !self.river.crosses(a, b) {
                    edges.push((d, i, j));
                }
            }
        }
        edges.sort_by(|x, y| x.0.total_cmp(&y.0).then((x.1, x.2).cmp(&(y.1, y.2))));
        edges
    }

    /// A spanning network over `nodes` plus some links to near neighbours: what a real
    /// road network between settlements looks like (not a complete graph, not a tree).
    fn plan_links(
        &mut self,
        nodes: &[u32],
        max_m: f64,
        near: usize,
        p_extra: f64,
    ) -> Vec<(usize, usize)> {
        let edges = self.candidate_links(nodes, max_m);
        let mut chosen: BTreeSet<(usize, usize)> = Self::spanning(nodes.len(), &edges)
            .into_iter()
            .map(|i| (edges[i].1, edges[i].2))
            .collect();
        let mut extra_seen = vec![0usize; nodes.len()];
        for &(_, a, b) in &edges {
            if extra_seen[a] < near && extra_seen[b] < near {
                extra_seen[a] += 1;
                extra_seen[b] += 1;
                if !chosen.contains(&(a, b)) && self.chance(p_extra) {
                    chosen.insert((a, b));
                }
            }
        }
        // Emit in length order so ids grow from short local links to long ones.
        edges
            .iter()
            .filter(|e| chosen.contains(&(e.1, e.2)))
            .map(|e| (e.1, e.2))
            .collect()
    }

    /// Secondary and tertiary roads between neighbouring desa.
    pub(super) fn desa_roads(&mut self, region: &Region, hubs: &[Hub]) {
        let nodes: Vec<u32> = hubs.iter().map(|h| h.node).collect();
        for (i, j) in self.plan_links(&nodes, DESA_LINK_MAX_M, 3, 0.35) {
            let (da, db) = (&region.desa[hubs[i].desa], &region.desa[hubs[j].desa]);
            let (class, name) = if da.kecamatan == db.kecamatan {
                ("tertiary", format!("Jalan {}–{}", da.name, db.name))
            } else {
                ("secondary", format!("Jalan Raya {}–{}", da.name, db.name))
            };
            let urban = da.urban && db.urban;
            let refs = self.curved(nodes[i], nodes[j], 180.0, 0.05);
            let tags = self.road_tags(class, name, urban);
            self.way(refs, tags);
        }
    }

    /// Primary roads between kecamatan centres.
    pub(super) fn kecamatan_roads(&mut self, region: &Region, hubs: &[Hub]) {
        // The hub of a kecamatan: the hub of its desa nearest the kecamatan centroid.
        let mut kec: Vec<(&str, u32)> = Vec::new();
        for k in &region.kecamatan {
            let c = self.proj.to_m(k.centroid);
            let best = hubs
                .iter()
                .filter(|h| region.desa[h.desa].kecamatan == k.name)
                .min_by(|a, b| {
                    self.pts[a.node as usize]
                        .dist(c)
                        .total_cmp(&self.pts[b.node as usize].dist(c))
                });
            if let Some(h) = best {
                kec.push((&k.name, h.node));
            }
        }
        let nodes: Vec<u32> = kec.iter().map(|k| k.1).collect();
        for (i, j) in self.plan_links(&nodes, f64::INFINITY, 3, 0.45) {
            let urban = kec[i].0.starts_with("Purwokerto") && kec[j].0.starts_with("Purwokerto");
            let name = format!("Jalan Raya {}–{}", kec[i].0, kec[j].0);
            let refs = self.curved(nodes[i], nodes[j], 250.0, 0.04);
            let mut tags = self.road_tags("primary", name, urban);
            tags.push(tag("lanes", "2"));
            self.way(refs, tags);
        }
    }
}
