//! Central Purwokerto's one-way couplets and the two roundabouts: the shapes the
//! importer must handle that a grid does not have.

use super::{Builder, tag};
use crate::geom::{P, Proj};
use satria_region::LatLon;
use std::f64::consts::PI;

impl Builder {
    /// Two one-way couplets in central Purwokerto: an east–west pair (one of them tagged
    /// `oneway=-1`, drawn west to east but driven east to west) and a north–south pair.
    pub(super) fn purwokerto_oneways(&mut self) {
        let at = |proj: &Proj, lat, lon| proj.to_m(LatLon { lat, lon });
        let couplets = [
            // (start, end, name A (forward), name B (reverse), B tagged -1)
            (
                (-7.4232, 109.2255),
                (-7.4232, 109.2410),
                "Jalan Jenderal Sudirman",
                "Jalan Overste Isdiman",
                true,
            ),
            (
                (-7.4150, 109.2350),
                (-7.4300, 109.2350),
                "Jalan Gatot Subroto",
                "Jalan Dr. Angka",
                false,
            ),
        ];
        for (s, e, name_a, name_b, reverse_tag) in couplets {
            let (pa, pb) = (at(&self.proj, s.0, s.1), at(&self.proj, e.0, e.1));
            let gap = pb.sub(pa).unit().perp().scale(-110.0);
            let a = self.street_nodes(pa, pb, 100.0);
            let b = self.street_nodes(pa.add(gap), pb.add(gap), 100.0);
            let mut tags_a = vec![
                tag("highway", "secondary"),
                tag("name", name_a),
                tag("oneway", "yes"),
                tag("maxspeed", "40"),
                tag("surface", "asphalt"),
            ];
            tags_a.push(tag("lanes", "2"));
            let (refs_b, dir_b) = if reverse_tag {
                (b.clone(), "-1")
            } else {
                (b.iter().rev().copied().collect(), "yes")
            };
            let tags_b = vec![
                tag("highway", "secondary"),
                tag("name", name_b),
                tag("oneway", dir_b),
                tag("maxspeed", "40"),
                tag("surface", "asphalt"),
            ];
            let (a0, an, b0, bn) = (a[0], a[a.len() - 1], b[0], b[b.len() - 1]);
            self.way(a.clone(), tags_a);
            self.way(refs_b, tags_b);
            // Two-way cross streets at both ends close the loop.
            for (x, y) in [(a0, b0), (an, bn)] {
                let tags = self.road_tags("tertiary", format!("Jalan Penghubung {}", name_a), true);
                self.way(vec![x, y], tags);
            }
            // Side streets into the surrounding kelurahan.
            for (k, &n) in a.iter().enumerate().chain(b.iter().enumerate()) {
                if k % 4 == 2 {
                    self.connect_to_grid(
                        n,
                        &format!("Gang {} {}", name_a.trim_start_matches("Jalan "), k),
                    );
                }
            }
        }
    }

    /// Two roundabouts: one in Purwokerto, one in Ajibarang. Indonesia drives on the left,
    /// so traffic goes round clockwise, which is the order of the refs.
    pub(super) fn roundabouts(&mut self) {
        let sites = [
            ((-7.4395, 109.2530), "Bundaran Kebondalem"),
            ((-7.4126, 109.0810), "Bundaran Ajibarang"),
        ];
        for ((lat, lon), name) in sites {
            let c = self.proj.to_m(LatLon { lat, lon });
            let ring: Vec<u32> = (0..8)
                .map(|k| {
                    // Clockwise: angle decreasing.
                    let ang = -(k as f64) * PI / 4.0;
                    self.node(c.add(P::new(ang.cos(), ang.sin()).scale(28.0)), false)
                })
                .collect();
            let mut refs = ring.clone();
            refs.push(ring[0]);
            let tags = vec![
                tag("highway", "tertiary"),
                tag("junction", "roundabout"),
                tag("name", name),
                tag("surface", "asphalt"),
            ];
            self.way(refs, tags);
            let mut used: Vec<u32> = Vec::new();
            for k in (0..8).step_by(2) {
                let ang = -(k as f64) * PI / 4.0;
                let target = c.add(P::new(ang.cos(), ang.sin()).scale(220.0));
                if let Some(g) = self.nearest_grid(target, |i| !used.contains(&i)) {
                    used.push(g);
                    let refs = self.curved(ring[k], g, 60.0, 0.03);
                    let tags = self.road_tags("tertiary", format!("Jalan Lingkar {}", name), true);
                    self.way(refs, tags);
                }
            }
        }
    }
}
