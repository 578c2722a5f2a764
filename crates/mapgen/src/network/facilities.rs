//! The largest connected part of the routable network, and the hospitals and
//! puskesmas attached to it by their access roads (so every facility is reachable).

use super::union_find::UnionFind;
use super::{Builder, Tags, tag};
use crate::is_routable;
use satria_region::{LatLon, Region};

impl Builder {
    /// Keeps only the largest connected part of the routable network (and non-routable
    /// ways hanging off it); returns which nodes are in it.
    pub(super) fn main_component(&mut self) -> Vec<bool> {
        let mut uf = UnionFind::new(self.pts.len());
        for w in &self.ways {
            if is_routable(&w.tags) {
                for pair in w.refs.windows(2) {
                    uf.union(pair[0] as usize, pair[1] as usize);
                }
            }
        }
        let mut size = vec![0u32; self.pts.len()];
        for w in &self.ways {
            if is_routable(&w.tags) {
                for &r in &w.refs {
                    size[uf.find(r as usize)] += 1;
                }
            }
        }
        let root = (0..size.len()).max_by_key(|&i| (size[i], std::cmp::Reverse(i)));
        let mut main = vec![false; self.pts.len()];
        let Some(root) = root else {
            return main;
        };
        for w in &self.ways {
            if is_routable(&w.tags) && uf.find(w.refs[0] as usize) == root {
                for &r in &w.refs {
                    main[r as usize] = true;
                }
            }
        }
        self.ways
            .retain(|w| w.refs.iter().any(|&r| main[r as usize]));
        main
    }

    /// The hospital and puskesmas nodes and their access roads to the nearest road of the
    /// main network on the same bank. The two largest hospitals also get an
    /// ambulance-only entrance (`access=no` + `emergency=yes`).
    pub(super) fn facilities(&mut self, region: &Region, main: &[bool]) {
        let mut sites: Vec<(LatLon, Tags, String, u32)> = Vec::new();
        for h in &region.hospitals {
            let tags = vec![
                tag("amenity", "hospital"),
                tag("healthcare", "hospital"),
                tag("name", h.name.clone()),
                tag("ref", h.code.clone()),
                tag("beds", h.beds.to_string()),
            ];
            sites.push((h.position, tags, h.name.clone(), h.beds));
        }
        for p in &region.puskesmas {
            let tags = vec![
                tag("amenity", "clinic"),
                tag("healthcare", "centre"),
                tag("name", p.name.clone()),
                tag("ref", p.code.clone()),
            ];
            sites.push((p.position, tags, p.name.clone(), 0));
        }
        let mut by_beds: Vec<usize> = (0..region.hospitals.len()).collect();
        by_beds.sort_by_key(|&i| (std::cmp::Reverse(region.hospitals[i].beds), i));
        let emergency_gate: Vec<usize> = by_beds.into_iter().take(2).collect();

        let candidates: Vec<u32> = (0..self.pts.len() as u32)
            .filter(|&i| main[i as usize])
            .collect();
        for (si, (pos, tags, name, _)) in sites.into_iter().enumerate() {
            let p = self.proj.to_m(pos);
            let f = self.node(p, false);
            self.node_tags.push((f, tags));
            // The nearest few, then the first whose access road stays on this bank.
            let mut near: Vec<(f64, u32)> = candidates
                .iter()
                .map(|&i| (self.pts[i as usize].dist(p), i))
                .collect();
            let k = near.len().min(40);
            if k == 0 {
                continue;
            }
            near.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            near.truncate(k);
            near.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let ok: Vec<u32> = near
                .iter()
                .filter(|(_, i)| !self.river.crosses(p, self.pts[*i as usize]))
                .map(|&(_, i)| i)
                .collect();
            let Some(&target) = ok.first() else {
                continue;
            };
            let refs = self.curved(f, target, 120.0, 0.05);
            let tags = self.road_tags("service", format!("Jalan Masuk {name}"), false);
            self.way(refs, tags);
            if emergency_gate.contains(&si)
                && let Some(&second) = ok.get(1)
            {
                let tags = vec![
                    tag("highway", "service"),
                    tag("name", format!("Jalur Ambulans {name}")),
                    tag("access", "no"),
                    tag("emergency", "yes"),
                    tag("surface", "concrete"),
                ];
                self.way(vec![f, second], tags);
            }
        }
    }
}
