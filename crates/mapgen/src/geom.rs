//! Planar geometry for the generator: a local equirectangular projection to metres,
//! segment intersection, and the Serayu river as a barrier polyline.
//!
//! Everything is generated in metres (x east, y north) around a reference point in the
//! middle of the regency; the error of a flat projection over ~60 km is a fraction of a
//! percent, which is irrelevant for a synthetic network.

use satria_region::LatLon;

const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A point in local metres: `x` east, `y` north of the projection origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct P {
    pub x: f64,
    pub y: f64,
}

impl P {
    pub fn new(x: f64, y: f64) -> P {
        P { x, y }
    }
    pub fn add(self, o: P) -> P {
        P::new(self.x + o.x, self.y + o.y)
    }
    pub fn sub(self, o: P) -> P {
        P::new(self.x - o.x, self.y - o.y)
    }
    pub fn scale(self, k: f64) -> P {
        P::new(self.x * k, self.y * k)
    }
    pub fn len(self) -> f64 {
        self.x.hypot(self.y)
    }
    pub fn dist(self, o: P) -> f64 {
        self.sub(o).len()
    }
    /// Unit vector in the same direction; (1, 0) for the zero vector.
    pub fn unit(self) -> P {
        let l = self.len();
        if l > 0.0 {
            self.scale(1.0 / l)
        } else {
            P::new(1.0, 0.0)
        }
    }
    /// Rotated a quarter turn counter-clockwise.
    pub fn perp(self) -> P {
        P::new(-self.y, self.x)
    }
}

/// Equirectangular projection around a fixed origin in the middle of Banyumas.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Proj {
    lat0: f64,
    lon0: f64,
    m_per_deg_lon: f64,
    m_per_deg_lat: f64,
}

impl Proj {
    pub fn banyumas() -> Proj {
        let lat0: f64 = -7.45;
        let m_per_deg_lat = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
        Proj {
            lat0,
            lon0: 109.2,
            m_per_deg_lat,
            m_per_deg_lon: m_per_deg_lat * lat0.to_radians().cos(),
        }
    }
    pub fn to_m(self, ll: LatLon) -> P {
        P::new(
            (ll.lon - self.lon0) * self.m_per_deg_lon,
            (ll.lat - self.lat0) * self.m_per_deg_lat,
        )
    }
    pub fn to_latlon(self, p: P) -> LatLon {
        LatLon {
            lat: self.lat0 + p.y / self.m_per_deg_lat,
            lon: self.lon0 + p.x / self.m_per_deg_lon,
        }
    }
}

/// Degrees to the 1e-7 degree integers OSM stores (the PBF granularity of 100 nanodegrees).
pub(crate) fn to_e7(deg: f64) -> i32 {
    (deg * 1e7).round() as i32
}

fn orient(a: P, b: P, c: P) -> f64 {
    (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
}

/// True if the closed segments `ab` and `cd` share a point (touching counts: a road that
/// merely touches the river bank line is still a crossing for our purposes).
pub(crate) fn segments_intersect(a: P, b: P, c: P, d: P) -> bool {
    let d1 = orient(c, d, a);
    let d2 = orient(c, d, b);
    let d3 = orient(a, b, c);
    let d4 = orient(a, b, d);
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return true;
    }
    let on = |p: P, q: P, r: P| {
        r.x >= p.x.min(q.x) && r.x <= p.x.max(q.x) && r.y >= p.y.min(q.y) && r.y <= p.y.max(q.y)
    };
    (d1 == 0.0 && on(c, d, a))
        || (d2 == 0.0 && on(c, d, b))
        || (d3 == 0.0 && on(a, b, c))
        || (d4 == 0.0 && on(a, b, d))
}

/// Distance from `p` to the segment `ab`.
pub(crate) fn dist_to_segment(p: P, a: P, b: P) -> f64 {
    let ab = b.sub(a);
    let l2 = ab.x * ab.x + ab.y * ab.y;
    if l2 == 0.0 {
        return p.dist(a);
    }
    let t = (((p.x - a.x) * ab.x + (p.y - a.y) * ab.y) / l2).clamp(0.0, 1.0);
    p.dist(a.add(ab.scale(t)))
}

/// The course of the Kali Serayu through the regency, east to west (lat, lon). The first
/// and last points extend beyond the regency so that no road can go around an end of the
/// river: the only way from one bank to the other is a bridge.
const SERAYU_COURSE: [(f64, f64); 11] = [
    (-7.440, 109.500),
    (-7.475, 109.430),
    (-7.510, 109.370),
    (-7.525, 109.330),
    (-7.545, 109.290),
    (-7.550, 109.250),
    (-7.560, 109.210),
    (-7.550, 109.170),
    (-7.570, 109.150),
    (-7.620, 109.140),
    (-7.700, 109.130),
];

/// Shape points added between two course points: the river meanders a little.
const MEANDER_POINTS: usize = 5;
/// Sideways amplitude of the meanders.
const MEANDER_M: f64 = 180.0;

/// The river polyline, densified with small deterministic meanders (no randomness: the
/// river is the same for every seed).
pub(crate) fn serayu_latlon() -> Vec<LatLon> {
    let proj = Proj::banyumas();
    let course: Vec<P> = SERAYU_COURSE
        .iter()
        .map(|&(lat, lon)| proj.to_m(LatLon { lat, lon }))
        .collect();
    let mut out = vec![course[0]];
    for (i, w) in course.windows(2).enumerate() {
        let (a, b) = (w[0], w[1]);
        let side = (b.sub(a)).unit().perp();
        for k in 1..=MEANDER_POINTS {
            let t = k as f64 / (MEANDER_POINTS + 1) as f64;
            // One full wave per stretch, alternating phase between stretches.
            let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
            let off = sign * MEANDER_M * (2.0 * std::f64::consts::PI * t).sin();
            out.push(a.add(b.sub(a).scale(t)).add(side.scale(off)));
        }
        out.push(b);
    }
    out.into_iter().map(|p| proj.to_latlon(p)).collect()
}

/// A polyline barrier in metres with per-segment bounding boxes for fast rejection.
#[derive(Debug, Clone)]
pub(crate) struct Barrier {
    pub pts: Vec<P>,
    /// (min x, min y, max x, max y) of each segment.
    boxes: Vec<(f64, f64, f64, f64)>,
}

impl Barrier {
    pub fn new(pts: Vec<P>) -> Barrier {
        let boxes = pts
            .windows(2)
            .map(|w| {
                (
                    w[0].x.min(w[1].x),
                    w[0].y.min(w[1].y),
                    w[0].x.max(w[1].x),
                    w[0].y.max(w[1].y),
                )
            })
            .collect();
        Barrier { pts, boxes }
    }

    /// True if the segment `ab` touches the barrier.
    pub fn crosses(&self, a: P, b: P) -> bool {
        let (x0, y0, x1, y1) = (a.x.min(b.x), a.y.min(b.y), a.x.max(b.x), a.y.max(b.y));
        self.boxes.iter().enumerate().any(|(i, bx)| {
            x1 >= bx.0
                && x0 <= bx.2
                && y1 >= bx.1
                && y0 <= bx.3
                && segments_intersect(a, b, self.pts[i], self.pts[i + 1])
        })
    }

    /// Distance from `p` to the barrier.
    pub fn dist(&self, p: P) -> f64 {
        self.pts
            .windows(2)
            .map(|w| dist_to_segment(p, w[0], w[1]))
            .fold(f64::INFINITY, f64::min)
    }

    /// True if `p` is on the south (and west) bank: a ray from `p` due north meets the
    /// barrier an odd number of times. The barrier runs across the whole region, so this
    /// splits the plane into the two banks.
    pub fn south(&self, p: P) -> bool {
        let mut n = 0;
        for w in self.pts.windows(2) {
            let (a, b) = (w[0], w[1]);
            // Half-open in x so a ray through a vertex is counted once.
            if (a.x <= p.x) != (b.x <= p.x) {
                let t = (p.x - a.x) / (b.x - a.x);
                if a.y + t * (b.y - a.y) > p.y {
                    n += 1;
                }
            }
        }
        n % 2 == 1
    }

    /// The barrier point at easting `x` (the first one, east to west) and the unit
    /// direction of the barrier there.
    pub fn at_x(&self, x: f64) -> Option<(P, P)> {
        self.pts.windows(2).find_map(|w| {
            let (a, b) = (w[0], w[1]);
            if (a.x <= x) != (b.x <= x) {
                let t = (x - a.x) / (b.x - a.x);
                Some((a.add(b.sub(a).scale(t)), b.sub(a).unit()))
            } else {
                None
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intersection_basics() {
        let o = P::new(0.0, 0.0);
        assert!(segments_intersect(
            o,
            P::new(2.0, 2.0),
            P::new(0.0, 2.0),
            P::new(2.0, 0.0)
        ));
        assert!(!segments_intersect(
            o,
            P::new(1.0, 0.0),
            P::new(0.0, 1.0),
            P::new(1.0, 1.0)
        ));
        // Touching at an end point counts.
        assert!(segments_intersect(
            o,
            P::new(1.0, 1.0),
            P::new(1.0, 1.0),
            P::new(2.0, 0.0)
        ));
    }

    #[test]
    fn banks_of_the_serayu() {
        let proj = Proj::banyumas();
        let river = Barrier::new(serayu_latlon().iter().map(|&l| proj.to_m(l)).collect());
        let at = |lat, lon| proj.to_m(LatLon { lat, lon });
        // Purwokerto is north, Sumpiuh and Tambak south, Wangon (west of the bend) north.
        assert!(!river.south(at(-7.424, 109.234)));
        assert!(river.south(at(-7.596, 109.367)));
        assert!(river.south(at(-7.601, 109.410)));
        assert!(!river.south(at(-7.512, 109.054)));
        assert!(river.crosses(at(-7.424, 109.234), at(-7.596, 109.367)));
        assert!(!river.crosses(at(-7.424, 109.234), at(-7.512, 109.054)));
    }
}
