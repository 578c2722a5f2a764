//! The generator itself: builds the road network in local metres, then hands it over as
//! OSM nodes and ways.
//!
//! Order matters and is fixed (determinism): desa street grids, roads between desa,
//! primary roads between kecamatan, the Purwokerto one-way couplets and roundabouts, the
//! Serayu bridges, cutting every other road at the river, keeping only the largest
//! connected part of the routable network, and last the hospital and puskesmas access
//! roads (attached to that largest part so every facility is reachable).

use crate::geom::{Barrier, P, Proj, serayu_latlon, to_e7};
use crate::names;
use crate::{Dataset, Options, OsmNode, OsmWay, is_routable};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use satria_region::{LatLon, Region};
use std::collections::BTreeSet;
use std::f64::consts::PI;

/// Grid nodes over the whole regency at scale 1.0. Nearly every grid node is a junction;
/// dropped links and river cuts turn some into degree-2 or remove them, the roads between
/// places add a few thousand, so this lands near 200,000 junctions.
const GRID_NODES_AT_SCALE_1: f64 = 226_000.0;
/// How much denser (per km²) the Purwokerto kelurahan are than rural desa.
const URBAN_DENSITY_FACTOR: f64 = 4.0;
/// Every desa has a settled core whatever its area: the weight of that core, in km².
const CORE_KM2: f64 = 1.5;
/// No grid node closer than this to the river (riverbanks are fields and bamboo, and it
/// keeps the crossing check trivially true for grid links).
const RIVER_BUFFER_M: f64 = 180.0;
/// Roads between desa are only planned between centres closer than this.
const DESA_LINK_MAX_M: f64 = 8_000.0;
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

    /// Street grids of every desa; returns the hub of each desa that has any street.
    fn grids(&mut self, region: &Region, scale: f64) -> Vec<Hub> {
        let weight = |urban: bool, area: f64| {
            area * if urban { URBAN_DENSITY_FACTOR } else { 1.0 } + CORE_KM2
        };
        let total: f64 = region
            .desa
            .iter()
            .map(|d| weight(d.urban, d.area_km2))
            .sum();
        let mut hubs = Vec::new();
        for (i, d) in region.desa.iter().enumerate() {
            let n = (GRID_NODES_AT_SCALE_1 * scale * weight(d.urban, d.area_km2) / total)
                .round()
                .max(4.0);
            if let Some(node) = self.desa_grid(region, i, n) {
                hubs.push(Hub { desa: i, node });
            }
        }
        hubs
    }

    fn desa_grid(&mut self, region: &Region, di: usize, n: f64) -> Option<u32> {
        let d = &region.desa[di];
        let name = d.name.clone();
        let urban = d.urban;
        let c = self.proj.to_m(d.centroid);
        let south = self.river.south(c);
        // Settlements cover most of a kelurahan but only part of a rural desa (the rest
        // is sawah, forest and gardens).
        let cover = if urban { 0.9 } else { 0.6 };
        let side_m = (cover * d.area_km2 * 1e6).sqrt();
        let aspect: f64 = self.rng.gen_range(0.6..1.6);
        let (w, h) = (side_m * aspect.sqrt(), side_m / aspect.sqrt());
        let cols = ((n * aspect).sqrt().round() as usize).max(2);
        let rows = ((n / cols as f64).round() as usize).max(2);
        let (sx, sy) = (w / (cols - 1) as f64, h / (rows - 1) as f64);
        let (sin, cos) = self.rng.gen_range(0.0..PI).sin_cos();
        // Only grids near the river need the per-node bank checks.
        let near_river = self.river.dist(c) < w.hypot(h) + RIVER_BUFFER_M;

        let mut grid: Vec<Option<u32>> = vec![None; rows * cols];
        for r in 0..rows {
            for col in 0..cols {
                let lx = -w / 2.0 + (col as f64 + self.rng.gen_range(-0.22..0.22)) * sx;
                let ly = -h / 2.0 + (r as f64 + self.rng.gen_range(-0.22..0.22)) * sy;
                let p = c.add(P::new(lx * cos - ly * sin, lx * sin + ly * cos));
                if near_river
                    && (self.river.dist(p) < RIVER_BUFFER_M || self.river.south(p) != south)
                {
                    continue;
                }
                grid[r * cols + col] = Some(self.node(p, true));
            }
        }

        // The middle row and column are the village's main streets: never broken, so the
        // hub on them reaches most of the grid.
        let (mid_r, mid_c) = (rows / 2, cols / 2);
        let p_drop = if urban { 0.07 } else { 0.13 };
        let mut gang = 0;
        let mut run_ways = |b: &mut Builder, line: Vec<Option<u32>>, main: bool, first: bool| {
            let mut runs: Vec<Vec<u32>> = Vec::new();
            let mut cur: Vec<u32> = Vec::new();
            for k in 0..line.len() {
                let keep_link = k + 1 < line.len()
                    && line[k].is_some()
                    && line[k + 1].is_some()
                    && (main || !b.chance(p_drop));
                if let Some(a) = line[k]
                    && cur.is_empty()
                    && keep_link
                {
                    cur.push(a);
                }
                if keep_link {
                    let (a, z) = (line[k].unwrap_or(0), line[k + 1].unwrap_or(0));
                    // A bend in some street segments: degree-2 chains for the importer.
                    if b.chance(0.2) {
                        let (pa, pz) = (b.pts[a as usize], b.pts[z as usize]);
                        let off = pz.sub(pa).perp().scale(b.rng.gen_range(-0.15..0.15));
                        let mid = pa.add(pz.sub(pa).scale(0.5)).add(off);
                        let s = b.node(mid, false);
                        cur.push(s);
                    }
                    cur.push(z);
                } else if !cur.is_empty() {
                    runs.push(std::mem::take(&mut cur));
                }
            }
            for refs in runs {
                let class = if main {
                    "unclassified"
                } else if urban && b.chance(0.04) {
                    "living_street"
                } else if !urban && b.chance(0.06) {
                    "unclassified"
                } else {
                    "residential"
                };
                let street = if main && urban {
                    names::town_street(&mut b.rng)
                } else if main {
                    format!("Jalan {} {}", if first { "Raya" } else { "Desa" }, name)
                } else if urban {
                    gang += 1;
                    format!("{} Gang {}", names::town_street(&mut b.rng), gang)
                } else {
                    gang += 1;
                    format!("Jalan Desa {} Gang {}", name, gang)
                };
                let tags = b.road_tags(class, street, urban);
                b.way(refs, tags);
            }
        };
        for r in 0..rows {
            let line = (0..cols).map(|col| grid[r * cols + col]).collect();
            run_ways(self, line, r == mid_r, true);
        }
        for col in 0..cols {
            let line = (0..rows).map(|r| grid[r * cols + col]).collect();
            run_ways(self, line, col == mid_c, false);
        }

        let kept: Vec<u32> = grid.iter().flatten().copied().collect();
        if kept.is_empty() {
            return None;
        }
        let nearest = |cands: &mut dyn Iterator<Item = u32>, pts: &[P]| {
            cands.min_by(|&a, &b| {
                pts[a as usize]
                    .dist(c)
                    .total_cmp(&pts[b as usize].dist(c))
                    .then(a.cmp(&b))
            })
        };
        let mut on_main = (0..cols)
            .filter_map(|col| grid[mid_r * cols + col])
            .chain((0..rows).filter_map(|r| grid[r * cols + mid_c]));
        let hub = nearest(&mut on_main, &self.pts)
            .or_else(|| nearest(&mut kept.iter().copied(), &self.pts))?;

        // Farm tracks (jalan usaha tani) out of rural villages into the fields.
        if !urban {
            let tracks = self.rng.gen_range(0..=2);
            for k in 0..tracks {
                let start = kept[self.rng.gen_range(0..kept.len())];
                let ps = self.pts[start as usize];
                let dir = ps.sub(c).unit();
                let len_m = self.rng.gen_range(150.0..450.0);
                let mut refs = vec![start];
                let segs = self.rng.gen_range(2..=4);
                for s in 1..=segs {
                    let t = len_m * s as f64 / segs as f64;
                    let wob = dir.perp().scale(self.rng.gen_range(-25.0..25.0));
                    refs.push(self.node(ps.add(dir.scale(t)).add(wob), false));
                }
                let grade = ["grade2", "grade3", "grade4"][self.rng.gen_range(0..3)];
                let mut tags = vec![
                    tag("highway", "track"),
                    tag("name", format!("Jalan Usaha Tani {} {}", name, k + 1)),
                    tag("tracktype", grade),
                ];
                tags.push(tag("surface", names::surface(&mut self.rng, "track")));
                self.way(refs, tags);
            }
        }
        // A gated housing estate now and then: access=private, the importer drops it.
        if self.chance(if urban { 0.3 } else { 0.04 }) {
            let start = kept[self.rng.gen_range(0..kept.len())];
            let ps = self.pts[start as usize];
            let dir = P::new(self.rng.gen_range(-1.0..1.0), self.rng.gen_range(-1.0..1.0)).unit();
            let len_m = self.rng.gen_range(60.0..150.0);
            let mid = self.node(ps.add(dir.scale(len_m * 0.5)), false);
            let end = self.node(ps.add(dir.scale(len_m)), false);
            let tags = vec![
                tag("highway", "residential"),
                tag("name", format!("Jalan Perumahan Griya {}", name)),
                tag("access", "private"),
                tag("surface", "paving_stones"),
            ];
            self.way(vec![start, mid, end], tags);
        }
        Some(hub)
    }

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
    fn desa_roads(&mut self, region: &Region, hubs: &[Hub]) {
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
    fn kecamatan_roads(&mut self, region: &Region, hubs: &[Hub]) {
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

    /// Two one-way couplets in central Purwokerto: an east–west pair (one of them tagged
    /// `oneway=-1`, drawn west to east but driven east to west) and a north–south pair.
    fn purwokerto_oneways(&mut self) {
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
    fn roundabouts(&mut self) {
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

    /// The Serayu bridges: a short `bridge=yes` way across the river and an approach road
    /// on each bank to the nearest desa hub on that bank.
    fn bridges(&mut self, region: &Region, hubs: &[Hub]) {
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
    fn cut_at_river(&mut self) {
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

    /// Keeps only the largest connected part of the routable network (and non-routable
    /// ways hanging off it); returns which nodes are in it.
    fn main_component(&mut self) -> Vec<bool> {
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
    fn facilities(&mut self, region: &Region, main: &[bool]) {
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

    /// The river itself, on nodes of its own (no road node lies on it).
    fn river_way(&mut self) {
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

/// Disjoint sets with path halving.
pub(crate) struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    pub fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n).collect(),
        }
    }
    pub fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }
    /// Joins the sets of `a` and `b`; false if they were already one.
    pub fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        // Smaller index as root keeps the result independent of call order details.
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[hi] = lo;
        true
    }
}
