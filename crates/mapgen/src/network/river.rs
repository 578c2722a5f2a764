//! The Kali Serayu: the bridges across it, every other road cut where it crosses, and
//! the river itself as a way.

use super::{Builder, Hub, tag};
use crate::geom::serayu_latlon;
use satria_region::{LatLon, Region};

/// Half the length of a bridge over the Serayu.
const BRIDGE_HALF_M: f64 = 110.0;
/// Bridges: (longitude, name of the crossing).
const BRIDGES: [(f64, &str); 5] = [
    (109.400, "Sumpiuh"),
    (109.330, "Somagede"),
    (109.290, "Banyumas"),
    (109.220, "Kebasen"),
    (109.165, "Rawalo"),
];

impl Builder {
    /// The Serayu bridges: a short `bridge=yes` way across the river and an approach road
    /// on each bank to the nearest desa hub on that bank.
    pub(super) fn bridges(&mut self, region: &Region, hubs: &[Hub]) {
        for (lon, place) in BRIDGES {
            let x = self.proj.to_m(LatLon { lat: -7.5, lon }).x;
            let Some((on_river, dir)) = self.river.at_x(x) else {
                continue;
            };
            let mut n_end = on_river.add(dir.perp().scale(BRIDGE_HALF_M));
            let mut s_end = on_river.add(dir.perp().scale(-BRIDGE_HALF_M));
            if self.river.south(n_end) {
                std::mem::swap(&mut n_end, &mut s_end);
            }
            let n = self.node(n_end, false);
            let s = self.node(s_end, false);
            let mut names_ = Vec::new();
            for (end, p) in [(n, n_end), (s, s_end)] {
                let south = self.river.south(p);
                let mut cands: Vec<&Hub> = hubs
                    .iter()
                    .filter(|h| {
                        let q = self.pts[h.node as usize];
                        self.river.south(q) == south && !self.river.crosses(p, q)
                    })
                    .collect();
                cands.sort_by(|a, b| {
                    self.pts[a.node as usize]
                        .dist(p)
                        .total_cmp(&self.pts[b.node as usize].dist(p))
                });
                if let Some(h) = cands.first() {
                    let desa = region.desa[h.desa].name.clone();
                    let refs = self.curved(end, h.node, 150.0, 0.0);
                    let tags = self.road_tags(
                        "secondary",
                        format!("Jalan Raya Jembatan {place} ({desa})"),
                        false,
                    );
                    self.way(refs, tags);
                    names_.push(desa);
                }
            }
            let tags = vec![
                tag("highway", "secondary"),
                tag("name", format!("Jembatan Serayu {place}")),
                tag("bridge", "yes"),
                tag("layer", "1"),
                tag("maxspeed", "40"),
                tag("surface", "asphalt"),
            ];
            self.way(vec![n, s], tags);
        }
    }

    /// Splits every non-bridge way at each segment that crosses the river, dropping the
    /// crossing segment: only bridges cross the Serayu.
    pub(super) fn cut_at_river(&mut self) {
        let ways = std::mem::take(&mut self.ways);
        for w in ways {
            let is_bridge = w.tags.iter().any(|(k, v)| k == "bridge" && v == "yes");
            if is_bridge {
                self.ways.push(w);
                continue;
            }
            let mut part = vec![w.refs[0]];
            for pair in w.refs.windows(2) {
                let (a, b) = (self.pts[pair[0] as usize], self.pts[pair[1] as usize]);
                if self.river.crosses(a, b) {
                    let done = std::mem::replace(&mut part, vec![pair[1]]);
                    self.way(done, w.tags.clone());
                } else {
                    part.push(pair[1]);
                }
            }
            self.way(part, w.tags);
        }
    }

    /// The river itself, on nodes of its own (no road node lies on it).
    pub(super) fn river_way(&mut self) {
        let refs: Vec<u32> = serayu_latlon()
            .into_iter()
            .map(|l| {
                let p = self.proj.to_m(l);
                self.node(p, false)
            })
            .collect();
        let tags = vec![tag("waterway", "river"), tag("name", "Kali Serayu")];
        self.way(refs, tags);
    }
}
