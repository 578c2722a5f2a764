//! The generator itself: builds the road network in local metres, then hands it over as
//! OSM nodes and ways.
//!
//! Order matters and is fixed (determinism): desa street grids, roads between desa,
//! primary roads between kecamatan, the Purwokerto one-way couplets and roundabouts, the
//! Serayu bridges, cutting every other road at the river, keeping only the largest
//! connected part of the routable network, and last the hospital and puskesmas access
//! roads (attached to that largest part so every facility is reachable).
//!
//! The parts, in that order: `grids.rs` (desa street grids, farm tracks, estates),
//! `links.rs` (roads between desa and between kecamatan), `purwokerto.rs` (the one-way
//! couplets and roundabouts), `river.rs` (the bridges, the cuts at the river, the river
//! itself), `facilities.rs` (the largest connected part and the facilities' access
//! roads). Each step is a method of the one `Builder` here, which holds the one
//! random generator: splitting the steps into files changes no call order.

mod facilities;
mod grids;
mod links;
mod purwokerto;
mod river;
mod union_find;

use crate::geom::{Barrier, P, Proj, serayu_latlon, to_e7};
use crate::names;
use crate::{Dataset, Options, OsmNode, OsmWay};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use satria_region::Region;
use std::f64::consts::PI;

type Tags = Vec<(String, String)>;

fn tag(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_string(), v.into())
}

struct Draft {
    refs: Vec<u32>,
    tags: Tags,
}

struct Builder {
    rng: ChaCha8Rng,
    proj: Proj,
    river: Barrier,
    pts: Vec<P>,
    /// Street-grid nodes: what connectors snap to.
    is_grid: Vec<bool>,
    node_tags: Vec<(u32, Tags)>,
    ways: Vec<Draft>,
}

/// The hub of a desa: the grid node where its roads to other places start.
#[derive(Clone, Copy)]
struct Hub {
    desa: usize,
    node: u32,
}

pub(crate) fn generate(region: &Region, opts: &Options) -> Dataset {
    let proj = Proj::banyumas();
    let river = Barrier::new(serayu_latlon().iter().map(|&l| proj.to_m(l)).collect());
    let mut b = Builder {
        rng: ChaCha8Rng::seed_from_u64(opts.seed),
        proj,
        river,
        pts: Vec::new(),
        is_grid: Vec::new(),
        node_tags: Vec::new(),
        ways: Vec::new(),
    };
    let hubs = b.grids(region, opts.scale.max(0.0));
    b.desa_roads(region, &hubs);
    b.kecamatan_roads(region, &hubs);
    b.purwokerto_oneways();
    b.roundabouts();
    b.bridges(region, &hubs);
    b.cut_at_river();
    let main = b.main_component();
    b.facilities(region, &main);
    b.river_way();
    b.finish()
}

impl Builder {
    fn node(&mut self, p: P, grid: bool) -> u32 {
        self.pts.push(p);
        self.is_grid.push(grid);
        (self.pts.len() - 1) as u32
    }

    fn way(&mut self, refs: Vec<u32>, tags: Tags) {
        if refs.len() >= 2 {
            self.ways.push(Draft { refs, tags });
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p.clamp(0.0, 1.0))
    }

    /// Standard tags of a road: class, name, surface, sometimes maxspeed.
    fn road_tags(&mut self, class: &str, name: String, urban: bool) -> Tags {
        let mut t = vec![tag("highway", class), tag("name", name)];
        if let Some(v) = names::maxspeed(&mut self.rng, class, urban) {
            t.push(tag("maxspeed", v));
        }
        t.push(tag("surface", names::surface(&mut self.rng, class)));
        t
    }

    /// Shape nodes between nodes `a` and `b`: a gently curving road, one node per
    /// `step_m`, swinging sideways by up to `wiggle` of its length. Returns the full refs.
    fn curved(&mut self, a: u32, b: u32, step_m: f64, wiggle: f64) -> Vec<u32> {
        let (pa, pb) = (self.pts[a as usize], self.pts[b as usize]);
        let d = pb.sub(pa);
        let len = d.len();
        let n = (len / step_m).floor() as usize;
        let mut refs = vec![a];
        if n >= 2 {
            let side = d.unit().perp();
            let amp = len * wiggle * self.rng.gen_range(0.3..1.0);
            let waves = self.rng.gen_range(1..=2) as f64;
            let sign = if self.chance(0.5) { 1.0 } else { -1.0 };
            for i in 1..n {
                let t = i as f64 / n as f64;
                let jitter = self.rng.gen_range(-0.08..0.08) * step_m;
                let off = sign * amp * (PI * waves * t).sin() + jitter;
                let p = pa.add(d.scale(t)).add(side.scale(off));
                refs.push(self.node(p, false));
            }
        }
        refs.push(b);
        refs
    }

    /// The grid node nearest to `p` that `ok` accepts.
    fn nearest_grid(&self, p: P, ok: impl Fn(u32) -> bool) -> Option<u32> {
        (0..self.pts.len() as u32)
            .filter(|&i| self.is_grid[i as usize] && ok(i))
            .min_by(|&a, &b| {
                self.pts[a as usize]
                    .dist(p)
                    .total_cmp(&self.pts[b as usize].dist(p))
                    .then(a.cmp(&b))
            })
    }

    /// A straight street of evenly spaced new nodes from `a` to `b`.
    fn street_nodes(&mut self, a: P, b: P, step_m: f64) -> Vec<u32> {
        let n = (a.dist(b) / step_m).round().max(1.0) as usize;
        (0..=n)
            .map(|i| {
                let p = a.add(b.sub(a).scale(i as f64 / n as f64));
                self.node(p, false)
            })
            .collect()
    }

    /// Connects `node` to the nearest grid street with a short two-way link.
    fn connect_to_grid(&mut self, node: u32, name: &str) {
        let p = self.pts[node as usize];
        if let Some(g) = self.nearest_grid(p, |_| true) {
            let tags = vec![
                tag("highway", "residential"),
                tag("name", name),
                tag("surface", "asphalt"),
            ];
            self.way(vec![node, g], tags);
        }
    }

    /// Drops unused nodes, numbers nodes and ways from 1 in creation order.
    fn finish(self) -> Dataset {
        let mut used = vec![false; self.pts.len()];
        for w in &self.ways {
            for &r in &w.refs {
                used[r as usize] = true;
            }
        }
        let mut tags_of: Vec<Option<Tags>> = vec![None; self.pts.len()];
        for (n, t) in self.node_tags {
            used[n as usize] = true;
            tags_of[n as usize] = Some(t);
        }
        let mut id_of = vec![0i64; self.pts.len()];
        let mut nodes = Vec::new();
        for (i, p) in self.pts.iter().enumerate() {
            if !used[i] {
                continue;
            }
            let id = nodes.len() as i64 + 1;
            id_of[i] = id;
            let ll = self.proj.to_latlon(*p);
            nodes.push(OsmNode {
                id,
                lat_e7: to_e7(ll.lat),
                lon_e7: to_e7(ll.lon),
                tags: tags_of[i].take().unwrap_or_default(),
            });
        }
        let ways = self
            .ways
            .into_iter()
            .enumerate()
            .map(|(i, w)| OsmWay {
                id: i as i64 + 1,
                refs: w.refs.iter().map(|&r| id_of[r as usize]).collect(),
                tags: w.tags,
            })
            .collect();
        Dataset { nodes, ways }
    }
}
