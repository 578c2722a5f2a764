//! The Banyumas demo region: a generated stand-in road network, built from real facts
//! about the regency (kecamatan, desa/kelurahan, hospitals, puskesmas) and written as a
//! real `.osm.pbf`, so it is imported through exactly the same path as real OSM data.
//!
//! What it generates, in order:
//! - a street grid in every desa/kelurahan whose size follows the desa's area and whose
//!   density follows its urban flag (dense in the four Purwokerto kecamatan), jittered,
//!   rotated, with missing links and curved streets (shape nodes);
//! - one-way couplets in central Purwokerto and two roundabouts;
//! - tertiary and secondary roads between neighbouring desa, primary roads between
//!   kecamatan centres (a spanning tree plus links to near neighbours);
//! - the Serayu river as a barrier: no road crosses it except at five bridges;
//! - a service road to every hospital and puskesmas;
//! - realistic tagging the importer must handle (`maxspeed` forms, `access=private`,
//!   `highway=track`, `access=no` + `emergency=yes`).
//!
//! Deterministic: the same seed and scale give the same dataset and the same bytes.

mod pbf;

pub use pbf::{write_pbf, write_xml};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use satria_region::{LatLon, Region};
use std::collections::HashMap;

/// Generation options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    pub seed: u64,
    /// 1.0 gives about 200,000 junctions; the count scales roughly linearly.
    pub scale: f64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            seed: 119,
            scale: 1.0,
        }
    }
}

/// An OSM node.
#[derive(Debug, Clone, PartialEq)]
pub struct OsmNode {
    pub id: i64,
    pub lat_e7: i32,
    pub lon_e7: i32,
    pub tags: Vec<(String, String)>,
}

/// An OSM way.
#[derive(Debug, Clone, PartialEq)]
pub struct OsmWay {
    pub id: i64,
    pub refs: Vec<i64>,
    pub tags: Vec<(String, String)>,
}

impl OsmWay {
    /// The value of a tag.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A generated dataset; nodes and ways are sorted by id.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dataset {
    pub nodes: Vec<OsmNode>,
    pub ways: Vec<OsmWay>,
}

const M_PER_DEG: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;
const LAT0: f64 = -7.45;
const LON0: f64 = 109.2;
/// Streets keep this far from the river bank (metres).
const RIVER_CLEARANCE_M: f64 = 120.0;

fn cos0() -> f64 {
    LAT0.to_radians().cos()
}

/// Local metric coordinates (x east, y north) of a position.
fn to_xy(p: LatLon) -> (f64, f64) {
    (
        (p.lon - LON0) * M_PER_DEG * cos0(),
        (p.lat - LAT0) * M_PER_DEG,
    )
}

fn to_e7(x: f64, y: f64) -> (i32, i32) {
    let lat = LAT0 + y / M_PER_DEG;
    let lon = LON0 + x / (M_PER_DEG * cos0());
    ((lat * 1e7).round() as i32, (lon * 1e7).round() as i32)
}

/// The approximate course of the Kali Serayu across the south of the regency, west to
/// east... as (lat, lon) from its east entry to where it leaves to the south-west.
pub fn serayu_river() -> Vec<LatLon> {
    [
        (-7.475, 109.43),
        (-7.51, 109.37),
        (-7.525, 109.33),
        (-7.545, 109.29),
        (-7.55, 109.25),
        (-7.56, 109.21),
        (-7.55, 109.17),
        (-7.57, 109.15),
        (-7.62, 109.14),
    ]
    .into_iter()
    .map(|(lat, lon)| LatLon { lat, lon })
    .collect()
}

/// The bridges over the Serayu: (name, longitude where the road crosses).
pub const BRIDGES: [(&str, f64); 5] = [
    ("Rawalo", 109.165),
    ("Kebasen", 109.22),
    ("Banyumas", 109.29),
    ("Somagede", 109.33),
    ("Tambak", 109.40),
];

fn segments_cross(a: (f64, f64), b: (f64, f64), c: (f64, f64), d: (f64, f64)) -> bool {
    let orient = |p: (f64, f64), q: (f64, f64), r: (f64, f64)| {
        (q.0 - p.0) * (r.1 - p.1) - (q.1 - p.1) * (r.0 - p.0)
    };
    let (o1, o2) = (orient(a, b, c), orient(a, b, d));
    let (o3, o4) = (orient(c, d, a), orient(c, d, b));
    (o1 > 0.0) != (o2 > 0.0) && (o3 > 0.0) != (o4 > 0.0)
}

fn point_segment_m(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let l2 = dx * dx + dy * dy;
    let t = if l2 > 0.0 {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    ((p.0 - a.0 - t * dx).powi(2) + (p.1 - a.1 - t * dy).powi(2)).sqrt()
}

struct River {
    pts: Vec<(f64, f64)>,
}

impl River {
    fn crosses(&self, a: (f64, f64), b: (f64, f64)) -> bool {
        self.pts
            .windows(2)
            .any(|w| segments_cross(a, b, w[0], w[1]))
    }
    fn distance(&self, p: (f64, f64)) -> f64 {
        self.pts
            .windows(2)
            .map(|w| point_segment_m(p, w[0], w[1]))
            .fold(f64::INFINITY, f64::min)
    }
}

/// The dataset under construction, with a spatial hash of the nodes roads may join.
struct Builder {
    rng: ChaCha8Rng,
    nodes: Vec<OsmNode>,
    xy: Vec<(f64, f64)>,
    ways: Vec<OsmWay>,
    cells: HashMap<(i32, i32), Vec<usize>>,
    river: River,
}

const CELL_M: f64 = 250.0;

fn tags(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Builder {
    fn node(&mut self, x: f64, y: f64, joinable: bool) -> i64 {
        let (lat_e7, lon_e7) = to_e7(x, y);
        let i = self.nodes.len();
        self.nodes.push(OsmNode {
            id: i as i64 + 1,
            lat_e7,
            lon_e7,
            tags: Vec::new(),
        });
        self.xy.push((x, y));
        if joinable {
            let key = ((x / CELL_M).floor() as i32, (y / CELL_M).floor() as i32);
            self.cells.entry(key).or_default().push(i);
        }
        i as i64 + 1
    }

    fn xy_of(&self, id: i64) -> (f64, f64) {
        self.xy[(id - 1) as usize]
    }

    fn way(&mut self, refs: Vec<i64>, tags: Vec<(String, String)>) {
        if refs.len() < 2 {
            return;
        }
        let id = self.ways.len() as i64 + 1;
        self.ways.push(OsmWay { id, refs, tags });
    }

    /// The nearest joinable node within `max_m` whose link to `p` does not cross the river.
    fn nearest(&self, p: (f64, f64), max_m: f64) -> Option<i64> {
        let (cx, cy) = ((p.0 / CELL_M).floor() as i32, (p.1 / CELL_M).floor() as i32);
        let r = (max_m / CELL_M).ceil() as i32;
        let mut best: Option<(f64, usize)> = None;
        for ring in 0..=r {
            for dx in -ring..=ring {
                for dy in -ring..=ring {
                    if dx.abs() != ring && dy.abs() != ring {
                        continue;
                    }
                    let Some(list) = self.cells.get(&(cx + dx, cy + dy)) else {
                        continue;
                    };
                    for &i in list {
                        let q = self.xy[i];
                        let d = ((q.0 - p.0).powi(2) + (q.1 - p.1).powi(2)).sqrt();
                        if d <= max_m
                            && best.is_none_or(|(bd, bi)| d < bd || (d == bd && i < bi))
                            && !self.river.crosses(p, q)
                        {
                            best = Some((d, i));
                        }
                    }
                }
            }
            // A hit in this ring may still lose to one in the next ring: stop one ring later.
            if let Some((d, _)) = best
                && d < ring as f64 * CELL_M
            {
                break;
            }
        }
        best.map(|(_, i)| i as i64 + 1)
    }

    /// A road from node `a` to node `b` with curved shape nodes every ~`step_m`.
    fn road(&mut self, a: i64, b: i64, step_m: f64, wiggle_m: f64, tags: Vec<(String, String)>) {
        let (pa, pb) = (self.xy_of(a), self.xy_of(b));
        let len = ((pb.0 - pa.0).powi(2) + (pb.1 - pa.1).powi(2)).sqrt();
        let steps = (len / step_m).ceil().max(1.0) as usize;
        let (nx, ny) = if len > 0.0 {
            (-(pb.1 - pa.1) / len, (pb.0 - pa.0) / len)
        } else {
            (0.0, 0.0)
        };
        let mut refs = vec![a];
        let phase = self.rng.gen_range(0.0..std::f64::consts::TAU);
        for i in 1..steps {
            let t = i as f64 / steps as f64;
            let bend = (t * std::f64::consts::PI).sin() * (phase + t * 5.0).sin() * wiggle_m;
            let x = pa.0 + (pb.0 - pa.0) * t + nx * bend;
            let y = pa.1 + (pb.1 - pa.1) * t + ny * bend;
            refs.push(self.node(x, y, false));
        }
        refs.push(b);
        self.way(refs, tags);
    }

    fn polyline_crosses_river(&self, ids: &[i64]) -> bool {
        ids.windows(2)
            .any(|w| self.river.crosses(self.xy_of(w[0]), self.xy_of(w[1])))
    }
}

/// Generates the demo region.
pub fn generate(region: &Region, opts: &Options) -> Dataset {
    let river_pts: Vec<(f64, f64)> = serayu_river().into_iter().map(to_xy).collect();
    let mut b = Builder {
        rng: ChaCha8Rng::seed_from_u64(opts.seed),
        nodes: Vec::new(),
        xy: Vec::new(),
        ways: Vec::new(),
        cells: HashMap::new(),
        river: River {
            pts: river_pts.clone(),
        },
    };
    let scale = opts.scale.clamp(0.0005, 4.0);
    let alun_alun = to_xy(LatLon {
        lat: -7.4245,
        lon: 109.2340,
    });

    // --- Desa street grids.
    let mut desa_centre: Vec<Option<i64>> = Vec::with_capacity(region.desa.len());
    for d in &region.desa {
        let c = to_xy(d.centroid);
        let (spacing, built) = if d.urban { (45.0, 0.9) } else { (62.0, 0.5) };
        let area_m2 = (d.area_km2 * 1e6 * built * scale).min(d.area_km2 * 1e6);
        let m = ((area_m2.sqrt() / spacing).round() as usize + 1).max(2);
        let angle: f64 = b.rng.gen_range(-0.35..0.35);
        let (sa, ca) = angle.sin_cos();
        let half = (m as f64 - 1.0) / 2.0;
        let mut grid: Vec<Option<i64>> = vec![None; m * m];
        for j in 0..m {
            for i in 0..m {
                let u = (i as f64 - half) * spacing + b.rng.gen_range(-0.15..0.15) * spacing;
                let v = (j as f64 - half) * spacing + b.rng.gen_range(-0.15..0.15) * spacing;
                let p = (c.0 + u * ca - v * sa, c.1 + u * sa + v * ca);
                if b.river.distance(p) > RIVER_CLEARANCE_M {
                    grid[j * m + i] = Some(b.node(p.0, p.1, true));
                }
            }
        }
        let near_centre = (c.0 - alun_alun.0).hypot(c.1 - alun_alun.1) < 1_500.0;
        // Rows then columns, each cut into named ways at missing links.
        for dir in 0..2 {
            for line in 0..m {
                let mut run: Vec<i64> = Vec::new();
                let main_street = line % 4 == 0;
                let oneway = if dir == 0 && d.urban && near_centre {
                    match line % 4 {
                        1 => Some("yes"),
                        2 => Some("-1"),
                        _ => None,
                    }
                } else {
                    None
                };
                let flush = |b: &mut Builder, run: &mut Vec<i64>, gang: usize| {
                    if run.len() < 2 {
                        run.clear();
                        return;
                    }
                    let roll: f64 = b.rng.gen_range(0.0..1.0);
                    let class = if main_street {
                        "unclassified"
                    } else if roll < 0.02 {
                        "living_street"
                    } else if !d.urban && roll < 0.03 {
                        "track"
                    } else {
                        "residential"
                    };
                    let name = if main_street {
                        format!("Jalan {} {}", d.name, line / 4 + 1)
                    } else {
                        format!("Gang {} {}", d.name, gang)
                    };
                    let mut t = vec![
                        ("highway".to_string(), class.to_string()),
                        ("name".to_string(), name),
                    ];
                    if let Some(o) = oneway {
                        t.push(("oneway".into(), o.into()));
                    }
                    if roll > 0.99 {
                        t.push(("access".into(), "private".into()));
                    }
                    if d.urban && main_street {
                        t.push(("maxspeed".into(), "ID:urban".into()));
                    }
                    if !d.urban && roll > 0.6 && roll < 0.7 {
                        t.push(("surface".into(), "unpaved".into()));
                    }
                    b.way(std::mem::take(run), t);
                };
                let mut gang = 0;
                for k in 0..m {
                    let (i, j) = if dir == 0 { (k, line) } else { (line, k) };
                    let Some(id) = grid[j * m + i] else {
                        gang += 1;
                        flush(&mut b, &mut run, line * 100 + gang);
                        continue;
                    };
                    if let Some(&prev) = run.last() {
                        let keep = main_street || oneway.is_some() || b.rng.gen_bool(0.88);
                        if !keep || b.river.crosses(b.xy_of(prev), b.xy_of(id)) {
                            gang += 1;
                            flush(&mut b, &mut run, line * 100 + gang);
                        } else if b.rng.gen_bool(0.2) {
                            // A curve: a shape node off the straight line.
                            let (p, q) = (b.xy_of(prev), b.xy_of(id));
                            let off = b.rng.gen_range(-12.0..12.0);
                            let len = (q.0 - p.0).hypot(q.1 - p.1).max(1.0);
                            let mid = (
                                (p.0 + q.0) / 2.0 - (q.1 - p.1) / len * off,
                                (p.1 + q.1) / 2.0 + (q.0 - p.0) / len * off,
                            );
                            let s = b.node(mid.0, mid.1, false);
                            run.push(s);
                        }
                    }
                    run.push(id);
                    if run.len() > 12 && !main_street && oneway.is_none() {
                        gang += 1;
                        let last = *run.last().expect("non-empty");
                        flush(&mut b, &mut run, line * 100 + gang);
                        run.push(last);
                    }
                }
                gang += 1;
                flush(&mut b, &mut run, line * 100 + gang);
            }
        }
        // The desa centre: the grid node nearest the middle.
        let mid = grid.iter().flatten().copied().min_by(|x, y| {
            let (p, q) = (b.xy_of(*x), b.xy_of(*y));
            let dp = (p.0 - c.0).hypot(p.1 - c.1);
            let dq = (q.0 - c.0).hypot(q.1 - c.1);
            dp.partial_cmp(&dq).expect("finite").then(x.cmp(y))
        });
        desa_centre.push(mid);
    }

    // --- Bridges over the Serayu.
    let mut bridge_ends: Vec<(i64, i64)> = Vec::new();
    for (name, lon) in BRIDGES {
        let x = to_xy(LatLon { lat: LAT0, lon }).0;
        let Some(w) = river_pts
            .windows(2)
            .find(|w| (w[0].0.min(w[1].0)..=w[0].0.max(w[1].0)).contains(&x))
        else {
            continue;
        };
        let t = (x - w[0].0) / (w[1].0 - w[0].0);
        let p = (x, w[0].1 + t * (w[1].1 - w[0].1));
        let len = (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1);
        let n = (-(w[1].1 - w[0].1) / len, (w[1].0 - w[0].0) / len);
        let half = RIVER_CLEARANCE_M + 30.0;
        let north = b.node(p.0 + n.0 * half, p.1 + n.1 * half, false);
        let south = b.node(p.0 - n.0 * half, p.1 - n.1 * half, false);
        b.way(
            vec![north, south],
            tags(&[
                ("highway", "secondary"),
                ("bridge", "yes"),
                ("layer", "1"),
                ("name", &format!("Jembatan Serayu {name}")),
                ("maxspeed", "40"),
            ]),
        );
        for end in [north, south] {
            if let Some(to) = b.nearest(b.xy_of(end), 4_000.0) {
                b.road(
                    end,
                    to,
                    250.0,
                    20.0,
                    tags(&[
                        ("highway", "secondary"),
                        ("name", &format!("Jalan Jembatan {name}")),
                    ]),
                );
            }
        }
        bridge_ends.push((north, south));
    }

    // --- Roads between neighbouring desa.
    let centres: Vec<(usize, i64)> = desa_centre
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.map(|c| (i, c)))
        .collect();
    let mut pairs: Vec<(usize, usize, usize)> = Vec::new();
    for &(i, ci) in &centres {
        let p = b.xy_of(ci);
        let mut near: Vec<(f64, usize)> = centres
            .iter()
            .filter(|(j, _)| *j != i)
            .map(|&(j, cj)| {
                let q = b.xy_of(cj);
                ((p.0 - q.0).hypot(p.1 - q.1), j)
            })
            .collect();
        near.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
        for (rank, &(_, j)) in near.iter().take(3).enumerate() {
            pairs.push((i.min(j), i.max(j), rank));
        }
    }
    pairs.sort_unstable();
    pairs.dedup_by_key(|p| (p.0, p.1));
    for (i, j, rank) in pairs {
        let (ci, cj) = (
            desa_centre[i].expect("centre"),
            desa_centre[j].expect("centre"),
        );
        if b.river.crosses(b.xy_of(ci), b.xy_of(cj)) {
            continue;
        }
        let (di, dj) = (&region.desa[i], &region.desa[j]);
        let class = if rank == 2 && di.kecamatan != dj.kecamatan {
            "secondary"
        } else {
            "tertiary"
        };
        let mut t = tags(&[
            ("highway", class),
            ("name", &format!("Jalan {}–{}", di.name, dj.name)),
        ]);
        if di.urban && dj.urban {
            t.push(("maxspeed".into(), "ID:urban".into()));
        } else if class == "secondary" {
            t.push(("maxspeed".into(), "ID:rural".into()));
        }
        let before = b.ways.len();
        b.road(ci, cj, 250.0, 40.0, t);
        // Curves can still clip the river near a bank: then drop the road.
        if b.ways.len() > before && b.polyline_crosses_river(&b.ways[before].refs.clone()) {
            b.ways.truncate(before);
        }
    }

    // --- Primary roads between kecamatan centres: a spanning tree plus near neighbours.
    let hubs: Vec<(usize, i64)> = region
        .kecamatan
        .iter()
        .enumerate()
        .filter_map(|(k, kec)| {
            let c = to_xy(kec.centroid);
            centres
                .iter()
                .filter(|(i, _)| region.desa[*i].kecamatan == kec.name)
                .min_by(|x, y| {
                    let (p, q) = (b.xy_of(x.1), b.xy_of(y.1));
                    (p.0 - c.0)
                        .hypot(p.1 - c.1)
                        .partial_cmp(&(q.0 - c.0).hypot(q.1 - c.1))
                        .expect("finite")
                })
                .map(|&(_, id)| (k, id))
        })
        .collect();
    let dist = |b: &Builder, x: i64, y: i64| {
        let (p, q) = (b.xy_of(x), b.xy_of(y));
        (p.0 - q.0).hypot(p.1 - q.1)
    };
    let mut links: Vec<(usize, usize)> = Vec::new();
    // Prim's spanning tree over the hubs.
    let mut in_tree = vec![false; hubs.len()];
    if !hubs.is_empty() {
        in_tree[0] = true;
    }
    for _ in 1..hubs.len() {
        let mut best: Option<(f64, usize, usize)> = None;
        for a in 0..hubs.len() {
            if !in_tree[a] {
                continue;
            }
            for c in 0..hubs.len() {
                if in_tree[c] {
                    continue;
                }
                let d = dist(&b, hubs[a].1, hubs[c].1);
                if best.is_none_or(|(bd, _, _)| d < bd) {
                    best = Some((d, a, c));
                }
            }
        }
        let (_, a, c) = best.expect("a hub outside the tree");
        in_tree[c] = true;
        links.push((a.min(c), a.max(c)));
    }
    for a in 0..hubs.len() {
        let mut near: Vec<(f64, usize)> = (0..hubs.len())
            .filter(|c| *c != a)
            .map(|c| (dist(&b, hubs[a].1, hubs[c].1), c))
            .collect();
        near.sort_by(|x, y| x.partial_cmp(y).expect("finite"));
        for &(_, c) in near.iter().take(2) {
            links.push((a.min(c), a.max(c)));
        }
    }
    links.sort_unstable();
    links.dedup();
    for (a, c) in links {
        let (ha, hc) = (hubs[a].1, hubs[c].1);
        let (ka, kc) = (&region.kecamatan[hubs[a].0], &region.kecamatan[hubs[c].0]);
        let urban = ka.name.starts_with("Purwokerto") && kc.name.starts_with("Purwokerto");
        let t = tags(&[
            ("highway", "primary"),
            ("name", &format!("Jalan Raya {}–{}", ka.name, kc.name)),
            ("maxspeed", if urban { "ID:urban" } else { "60" }),
        ]);
        if !b.river.crosses(b.xy_of(ha), b.xy_of(hc)) {
            let before = b.ways.len();
            b.road(ha, hc, 400.0, 120.0, t.clone());
            if b.ways.len() > before && !b.polyline_crosses_river(&b.ways[before].refs.clone()) {
                continue;
            }
            b.ways.truncate(before);
        }
        // Across the river: over the bridge nearest the middle of the two hubs.
        let mid = {
            let (p, q) = (b.xy_of(ha), b.xy_of(hc));
            ((p.0 + q.0) / 2.0, (p.1 + q.1) / 2.0)
        };
        let Some(&(north, south)) = bridge_ends.iter().min_by(|x, y| {
            let (p, q) = (b.xy_of(x.0), b.xy_of(y.0));
            (p.0 - mid.0)
                .hypot(p.1 - mid.1)
                .partial_cmp(&(q.0 - mid.0).hypot(q.1 - mid.1))
                .expect("finite")
        }) else {
            continue;
        };
        let (ea, ec) = if b.river.crosses(b.xy_of(ha), b.xy_of(north)) {
            (south, north)
        } else {
            (north, south)
        };
        for (from, to) in [(ha, ea), (ec, hc)] {
            let before = b.ways.len();
            b.road(from, to, 400.0, 60.0, t.clone());
            if b.ways.len() > before && b.polyline_crosses_river(&b.ways[before].refs.clone()) {
                b.ways.truncate(before);
            }
        }
    }

    // --- Roundabouts: the alun-alun of Purwokerto and Sokaraja.
    for (name, centre) in [
        ("Alun-alun Purwokerto", alun_alun),
        (
            "Sokaraja",
            to_xy(LatLon {
                lat: -7.4575,
                lon: 109.2900,
            }),
        ),
    ] {
        let r = 35.0;
        let ring: Vec<i64> = (0..8)
            .map(|k| {
                // Clockwise, as traffic circulates in Indonesia (left-hand traffic).
                let a = -(k as f64) * std::f64::consts::TAU / 8.0;
                b.node(centre.0 + r * a.cos(), centre.1 + r * a.sin(), false)
            })
            .collect();
        let mut closed = ring.clone();
        closed.push(ring[0]);
        b.way(
            closed,
            tags(&[
                ("highway", "primary"),
                ("junction", "roundabout"),
                ("name", &format!("Bundaran {name}")),
            ]),
        );
        for k in [0, 2, 4, 6] {
            let p = b.xy_of(ring[k]);
            let out = (
                centre.0 + (p.0 - centre.0) * 4.0,
                centre.1 + (p.1 - centre.1) * 4.0,
            );
            if let Some(to) = b.nearest(out, 600.0) {
                b.way(
                    vec![ring[k], to],
                    tags(&[
                        ("highway", "primary"),
                        ("name", &format!("Jalan Bundaran {name} {}", k / 2 + 1)),
                    ]),
                );
            }
        }
    }

    // --- Service roads to every hospital and puskesmas.
    let facilities: Vec<(String, LatLon, &str)> = region
        .hospitals
        .iter()
        .map(|h| (h.name.clone(), h.position, "hospital"))
        .chain(
            region
                .puskesmas
                .iter()
                .map(|p| (p.name.clone(), p.position, "clinic")),
        )
        .collect();
    for (k, (name, pos, amenity)) in facilities.iter().enumerate() {
        let p = to_xy(*pos);
        let Some(to) = b.nearest(p, 5_000.0) else {
            continue;
        };
        let f = b.node(p.0, p.1, false);
        b.nodes[(f - 1) as usize].tags = tags(&[("amenity", amenity), ("name", name)]);
        let mut t = tags(&[
            ("highway", "service"),
            ("name", &format!("Jalan Masuk {name}")),
        ]);
        if k < 2 {
            // An ambulance-only gate, as at the IGD entrances of the two largest hospitals.
            t.push(("access".into(), "no".into()));
            t.push(("emergency".into(), "yes".into()));
        }
        b.road(f, to, 100.0, 5.0, t);
    }

    // --- The river itself (not a road; the importer ignores it).
    let river_ids: Vec<i64> = river_pts.iter().map(|p| b.node(p.0, p.1, false)).collect();
    b.way(
        river_ids,
        tags(&[("waterway", "river"), ("name", "Kali Serayu")]),
    );

    Dataset {
        nodes: b.nodes,
        ways: b.ways,
    }
}

/// Counts that describe a generated dataset.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    pub nodes: usize,
    pub ways: usize,
    /// Nodes of undirected degree other than 2 on roads.
    pub junctions: usize,
    pub bridges: usize,
    pub oneway_ways: usize,
    pub roundabouts: usize,
    /// (highway class, ways, km), in a fixed order.
    pub per_class: Vec<(String, usize, f64)>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "osm nodes            {:>10}", self.nodes)?;
        writeln!(f, "osm ways             {:>10}", self.ways)?;
        writeln!(f, "road junctions       {:>10}", self.junctions)?;
        writeln!(f, "bridges              {:>10}", self.bridges)?;
        writeln!(f, "one-way ways         {:>10}", self.oneway_ways)?;
        writeln!(f, "roundabouts          {:>10}", self.roundabouts)?;
        for (class, ways, km) in &self.per_class {
            writeln!(f, "  {class:<18} {ways:>8} ways {km:>9.1} km")?;
        }
        Ok(())
    }
}

/// Summarises a dataset.
pub fn summarize(ds: &Dataset) -> Summary {
    let pos: HashMap<i64, (f64, f64)> = ds
        .nodes
        .iter()
        .map(|n| (n.id, (n.lat_e7 as f64 * 1e-7, n.lon_e7 as f64 * 1e-7)))
        .collect();
    let mut neighbours: HashMap<i64, Vec<i64>> = HashMap::new();
    let classes = [
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "track",
    ];
    let mut per_class: Vec<(String, usize, f64)> =
        classes.iter().map(|c| (c.to_string(), 0, 0.0)).collect();
    let mut s = Summary {
        nodes: ds.nodes.len(),
        ways: ds.ways.len(),
        ..Summary::default()
    };
    for w in &ds.ways {
        let Some(h) = w.tag("highway") else { continue };
        if w.tag("bridge") == Some("yes") {
            s.bridges += 1;
        }
        if w.tag("oneway").is_some() {
            s.oneway_ways += 1;
        }
        if w.tag("junction") == Some("roundabout") {
            s.roundabouts += 1;
        }
        let mut km = 0.0;
        for pair in w.refs.windows(2) {
            neighbours.entry(pair[0]).or_default().push(pair[1]);
            neighbours.entry(pair[1]).or_default().push(pair[0]);
            let (a, b) = (pos[&pair[0]], pos[&pair[1]]);
            km += ((a.0 - b.0).powi(2) + ((a.1 - b.1) * (a.0.to_radians().cos())).powi(2)).sqrt()
                * M_PER_DEG
                / 1000.0;
        }
        if let Some(row) = per_class.iter_mut().find(|r| r.0 == h) {
            row.1 += 1;
            row.2 += km;
        }
    }
    for v in neighbours.values_mut() {
        v.sort_unstable();
        v.dedup();
    }
    s.junctions = neighbours.values().filter(|v| v.len() != 2).count();
    s.per_class = per_class.into_iter().filter(|r| r.1 > 0).collect();
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Dataset {
        generate(
            &Region::banyumas(),
            &Options {
                seed: 7,
                scale: 0.02,
            },
        )
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let region = Region::banyumas();
        let bytes = |seed| {
            let mut v = Vec::new();
            write_pbf(&generate(&region, &Options { seed, scale: 0.01 }), &mut v).unwrap();
            v
        };
        assert_eq!(bytes(1), bytes(1));
        assert_ne!(bytes(1), bytes(2));
    }

    #[test]
    fn pbf_reads_back_with_osmpbf() {
        let ds = small();
        let mut bytes = Vec::new();
        write_pbf(&ds, &mut bytes).unwrap();
        let reader = osmpbf::ElementReader::new(std::io::Cursor::new(bytes));
        let mut nodes = Vec::new();
        let mut ways = Vec::new();
        reader
            .for_each(|e| match e {
                osmpbf::Element::DenseNode(n) => {
                    let tags: Vec<(String, String)> = n
                        .tags()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect();
                    nodes.push((n.id(), n.decimicro_lat(), n.decimicro_lon(), tags));
                }
                osmpbf::Element::Way(w) => {
                    let tags: Vec<(String, String)> = w
                        .tags()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect();
                    ways.push((w.id(), w.refs().collect::<Vec<_>>(), tags));
                }
                _ => {}
            })
            .unwrap();
        assert_eq!(nodes.len(), ds.nodes.len());
        assert_eq!(ways.len(), ds.ways.len());
        for (read, orig) in nodes.iter().zip(&ds.nodes) {
            assert_eq!(
                (read.0, read.1, read.2, &read.3),
                (orig.id, orig.lat_e7, orig.lon_e7, &orig.tags)
            );
        }
        for (read, orig) in ways.iter().zip(&ds.ways) {
            assert_eq!(
                (read.0, &read.1, &read.2),
                (orig.id, &orig.refs, &orig.tags)
            );
        }
    }

    #[test]
    fn only_bridges_cross_the_river() {
        let ds = small();
        let river = River {
            pts: serayu_river().into_iter().map(to_xy).collect(),
        };
        let xy: HashMap<i64, (f64, f64)> = ds
            .nodes
            .iter()
            .map(|n| {
                let (lat, lon) = (n.lat_e7 as f64 * 1e-7, n.lon_e7 as f64 * 1e-7);
                (n.id, to_xy(LatLon { lat, lon }))
            })
            .collect();
        let mut bridges = 0;
        for w in ds.ways.iter().filter(|w| w.tag("highway").is_some()) {
            let crosses = w
                .refs
                .windows(2)
                .any(|p| river.crosses(xy[&p[0]], xy[&p[1]]));
            if w.tag("bridge") == Some("yes") {
                assert!(crosses, "bridge {} crosses the river", w.id);
                bridges += 1;
            } else {
                assert!(
                    !crosses,
                    "way {} {:?} crosses the river",
                    w.id,
                    w.tag("name")
                );
            }
        }
        assert_eq!(bridges, BRIDGES.len());
    }

    #[test]
    fn every_facility_has_a_service_road_and_refs_exist() {
        let region = Region::banyumas();
        let ds = small();
        let ids: std::collections::HashSet<i64> = ds.nodes.iter().map(|n| n.id).collect();
        for w in &ds.ways {
            assert!(w.refs.iter().all(|r| ids.contains(r)), "way {}", w.id);
        }
        let facility_nodes: Vec<&OsmNode> =
            ds.nodes.iter().filter(|n| !n.tags.is_empty()).collect();
        assert_eq!(
            facility_nodes.len(),
            region.hospitals.len() + region.puskesmas.len()
        );
        for n in facility_nodes {
            assert!(
                ds.ways
                    .iter()
                    .any(|w| w.tag("highway") == Some("service") && w.refs[0] == n.id),
                "{:?}",
                n.tags
            );
        }
        assert!(ds.nodes.windows(2).all(|w| w[0].id < w[1].id));
        assert!(ds.ways.windows(2).all(|w| w[0].id < w[1].id));
    }

    #[test]
    fn junctions_scale_with_scale_and_tagging_is_varied() {
        let region = Region::banyumas();
        let a = summarize(&generate(
            &region,
            &Options {
                seed: 3,
                scale: 0.01,
            },
        ));
        let b = summarize(&generate(
            &region,
            &Options {
                seed: 3,
                scale: 0.04,
            },
        ));
        let ratio = b.junctions as f64 / a.junctions as f64;
        assert!(ratio > 2.0 && ratio < 5.0, "{a}\n{b}");
        assert_eq!(b.roundabouts, 2);
        assert!(b.oneway_ways > 0);
        let ds = generate(
            &region,
            &Options {
                seed: 3,
                scale: 0.04,
            },
        );
        let has = |k: &str, v: &str| ds.ways.iter().any(|w| w.tag(k) == Some(v));
        assert!(has("oneway", "-1") && has("oneway", "yes"));
        assert!(has("maxspeed", "ID:urban") && has("maxspeed", "60"));
        assert!(has("emergency", "yes") && has("highway", "track"));
    }
}
