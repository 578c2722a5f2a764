//! The street grids of every desa: jittered, rotated, with dropped links and bends, a
//! hub on the main streets where roads to other places start, farm tracks out of rural
//! villages and now and then a gated estate.

use super::{Builder, Hub, tag};
use crate::geom::P;
use crate::names;
use rand::Rng;
use satria_region::Region;
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

impl Builder {
    /// Street grids of every desa; returns the hub of each desa that has any street.
    pub(super) fn grids(&mut self, region: &Region, scale: f64) -> Vec<Hub> {
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
}
