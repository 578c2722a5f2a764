//! Snapping a position to the nearest point on a road segment (not just the nearest
//! junction), with an R-tree (rstar) over every segment of every piece.
//!
//! Positions are projected to a local equirectangular plane in metres around the
//! graph's centre: over one regency the error is a fraction of a percent, and it lets
//! rstar do plain Euclidean nearest-neighbour queries.

use crate::graph::Graph;
use rstar::RTree;
use rstar::primitives::{GeomWithData, Line};

const M_PER_DEG: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;

/// Where a position lies on the road network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snap {
    /// The piece the point lies on.
    pub piece: u32,
    /// Position along the piece, 0 at `piece_from`, 1 at `piece_to` (by length).
    pub frac: f64,
    /// The snapped point on the road.
    pub lat: f64,
    pub lon: f64,
    /// Distance from the requested position to the road, metres.
    pub dist_m: f64,
}

/// Why a position could not be placed on the road network.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SnapError {
    #[error("position {lat},{lon} is not a valid latitude/longitude")]
    InvalidCoordinate { lat: f64, lon: f64 },
    #[error("position {lat},{lon} is outside the road map's area")]
    OutsideBounds { lat: f64, lon: f64 },
    #[error(
        "position {lat},{lon} is {dist_m:.0} m from the nearest road, more than the {limit_m:.0} m allowed"
    )]
    TooFar {
        lat: f64,
        lon: f64,
        dist_m: f64,
        limit_m: f64,
    },
}

type SegmentEntry = GeomWithData<Line<[f64; 2]>, (u32, u32)>;

/// The segment index of one graph. Build once per graph (it is immutable).
#[derive(Debug)]
pub struct Snapper {
    tree: RTree<SegmentEntry>,
    cos0: f64,
    /// Graph bounds (min_lat, min_lon, max_lat, max_lon).
    bounds: (f64, f64, f64, f64),
    /// Cumulative projected length at each coordinate, from its piece's start.
    cum_m: Vec<f32>,
}

/// The cosine of the graph's central latitude, the scale of the local projection.
pub(crate) fn proj_cos(g: &Graph) -> f64 {
    let (min_lat, _, max_lat, _) = g.bounds();
    ((min_lat + max_lat) / 2.0).to_radians().cos()
}

fn project(cos0: f64, lat_e7: i32, lon_e7: i32) -> [f64; 2] {
    [
        lon_e7 as f64 * 1e-7 * M_PER_DEG * cos0,
        lat_e7 as f64 * 1e-7 * M_PER_DEG,
    ]
}

impl Snapper {
    /// Indexes every segment of the graph.
    pub fn new(g: &Graph) -> Snapper {
        let cos0 = proj_cos(g);
        let mut entries = Vec::with_capacity(g.coord_lat_e7.len());
        let mut cum_m = vec![0f32; g.coord_lat_e7.len()];
        for p in 0..g.piece_count() {
            let (lo, hi) = (
                g.piece_first_coord[p] as usize,
                g.piece_first_coord[p + 1] as usize,
            );
            let mut acc = 0.0f64;
            for i in lo..hi - 1 {
                let a = project(cos0, g.coord_lat_e7[i], g.coord_lon_e7[i]);
                let b = project(cos0, g.coord_lat_e7[i + 1], g.coord_lon_e7[i + 1]);
                entries.push(GeomWithData::new(
                    Line::new(a, b),
                    (p as u32, (i - lo) as u32),
                ));
                acc += ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
                cum_m[i + 1] = acc as f32;
            }
        }
        Snapper {
            tree: RTree::bulk_load(entries),
            cos0,
            bounds: g.bounds(),
            cum_m,
        }
    }

    /// Places `lat, lon` on the nearest road segment, refusing invalid positions,
    /// positions outside the graph's bounds (plus `max_dist_m`) and positions farther
    /// than `max_dist_m` from any road.
    pub fn snap(&self, g: &Graph, lat: f64, lon: f64, max_dist_m: f64) -> Result<Snap, SnapError> {
        if !lat.is_finite()
            || !lon.is_finite()
            || !(-90.0..=90.0).contains(&lat)
            || !(-180.0..=180.0).contains(&lon)
        {
            return Err(SnapError::InvalidCoordinate { lat, lon });
        }
        let margin_lat = max_dist_m / M_PER_DEG;
        let margin_lon = margin_lat / self.cos0.max(1e-6);
        let (min_lat, min_lon, max_lat, max_lon) = self.bounds;
        if lat < min_lat - margin_lat
            || lat > max_lat + margin_lat
            || lon < min_lon - margin_lon
            || lon > max_lon + margin_lon
        {
            return Err(SnapError::OutsideBounds { lat, lon });
        }
        let q = [lon * M_PER_DEG * self.cos0, lat * M_PER_DEG];
        let hit = self
            .tree
            .nearest_neighbor(&q)
            .ok_or(SnapError::OutsideBounds { lat, lon })?;
        let line = hit.geom();
        let (a, b) = (line.from, line.to);
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let seg_len2 = dx * dx + dy * dy;
        let t = if seg_len2 > 0.0 {
            (((q[0] - a[0]) * dx + (q[1] - a[1]) * dy) / seg_len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let p = [a[0] + t * dx, a[1] + t * dy];
        let dist_m = ((q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2)).sqrt();
        if dist_m > max_dist_m {
            return Err(SnapError::TooFar {
                lat,
                lon,
                dist_m,
                limit_m: max_dist_m,
            });
        }
        let (piece, seg) = hit.data;
        let first = g.piece_first_coord[piece as usize] as usize;
        let last = g.piece_first_coord[piece as usize + 1] as usize - 1;
        let total = self.cum_m[last] as f64;
        let along = self.cum_m[first + seg as usize] as f64 + t * seg_len2.sqrt();
        let frac = if total > 0.0 {
            (along / total).clamp(0.0, 1.0)
        } else {
            0.0
        };
        Ok(Snap {
            piece,
            frac,
            lat: p[1] / M_PER_DEG,
            lon: p[0] / (M_PER_DEG * self.cos0),
            dist_m,
        })
    }

    /// The points of piece `p` between two fractions of its length, as (lat, lon),
    /// in the order from `from_frac` to `to_frac` (either may be the larger).
    pub fn piece_points_between(
        &self,
        g: &Graph,
        p: u32,
        from_frac: f64,
        to_frac: f64,
    ) -> Vec<(f64, f64)> {
        let first = g.piece_first_coord[p as usize] as usize;
        let last = g.piece_first_coord[p as usize + 1] as usize - 1;
        let total = self.cum_m[last] as f64;
        let at = |frac: f64| -> (f64, f64) {
            let target = frac * total;
            let mut i = first;
            while i < last - 1 && (self.cum_m[i + 1] as f64) < target {
                i += 1;
            }
            let (c0, c1) = (self.cum_m[i] as f64, self.cum_m[i + 1] as f64);
            let t = if c1 > c0 {
                ((target - c0) / (c1 - c0)).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let lat = g.coord_lat_e7[i] as f64 * 1e-7 * (1.0 - t)
                + g.coord_lat_e7[i + 1] as f64 * 1e-7 * t;
            let lon = g.coord_lon_e7[i] as f64 * 1e-7 * (1.0 - t)
                + g.coord_lon_e7[i + 1] as f64 * 1e-7 * t;
            (lat, lon)
        };
        let (lo, hi) = (from_frac.min(to_frac), from_frac.max(to_frac));
        let mut pts = vec![at(lo)];
        for i in first..=last {
            let f = if total > 0.0 {
                self.cum_m[i] as f64 / total
            } else {
                0.0
            };
            if f > lo && f < hi {
                pts.push((
                    g.coord_lat_e7[i] as f64 * 1e-7,
                    g.coord_lon_e7[i] as f64 * 1e-7,
                ));
            }
        }
        pts.push(at(hi));
        if from_frac > to_frac {
            pts.reverse();
        }
        pts
    }
}
