//! The map data of the consoles, from the server's own road graph:
//! - `GET /api/map/roads`: the road network as polylines by class, simplified and
//!   quantised to 1e-5 degree integer deltas, with the kecamatan and the
//!   hospitals; built once per network and gzip-compressed when the client
//!   accepts it. Without a graph the road layer is empty.
//! - `GET /api/map/places`: desa/kelurahan, puskesmas and hospitals to search a
//!   location by name.

use crate::AppState;
use crate::error::{Caller, HttpError};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use satria_auth::Role;
use satria_roads::RoadNetwork;
use serde_json::json;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// A JSON body, gzip-compressed when the client accepts it, with an ETag.
#[derive(Debug)]
struct Payload {
    json: Vec<u8>,
    gzip: Vec<u8>,
    etag: String,
}

impl Payload {
    fn new(json: Vec<u8>) -> Payload {
        use std::io::Write as _;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        let _ = enc.write_all(&json);
        let gzip = enc.finish().unwrap_or_default();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in &json {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Payload {
            json,
            gzip,
            etag: format!("\"{h:016x}\""),
        }
    }

    fn respond(&self, headers: &HeaderMap) -> Response {
        let mut h = HeaderMap::new();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        if let Ok(v) = HeaderValue::from_str(&self.etag) {
            h.insert(header::ETAG, v);
        }
        let fresh = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == self.etag));
        if fresh {
            return (StatusCode::NOT_MODIFIED, h).into_response();
        }
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let gzip_ok = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',').any(|e| {
                    let mut parts = e.split(';').map(str::trim);
                    parts.next() == Some("gzip")
                        && parts.all(|q| {
                            q.strip_prefix("q=")
                                .and_then(|x| x.parse::<f32>().ok())
                                .is_none_or(|x| x > 0.0)
                        })
                })
            });
        if gzip_ok && !self.gzip.is_empty() {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            (StatusCode::OK, h, self.gzip.clone()).into_response()
        } else {
            (StatusCode::OK, h, self.json.clone()).into_response()
        }
    }
}

const MAP_ROLES: &[Role] = &[Role::Dispatcher, Role::Admin, Role::Crew, Role::Hospital];

/// The payload built for each road network (several servers may share a
/// process in tests); the empty layer is built per request, it is tiny.
type RoadCache = Vec<(Weak<RoadNetwork>, Arc<OnceLock<Payload>>)>;
static ROADS: Mutex<RoadCache> = Mutex::new(Vec::new());

fn class_name(c: u8) -> &'static str {
    [
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "track",
    ]
    .get(usize::from(c))
    .copied()
    .unwrap_or("service")
}

/// Douglas–Peucker on integer points; keeps the ends.
fn simplify(pts: &[(i64, i64)], eps: f64, keep: &mut [bool]) {
    let n = pts.len();
    if n < 3 {
        return;
    }
    let mut stack = vec![(0usize, n - 1)];
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (ax, ay) = (pts[a].0 as f64, pts[a].1 as f64);
        let (bx, by) = (pts[b].0 as f64, pts[b].1 as f64);
        let (dx, dy) = (bx - ax, by - ay);
        let len = (dx * dx + dy * dy).sqrt();
        let mut best = (0.0, a);
        for (i, p) in pts.iter().enumerate().take(b).skip(a + 1) {
            let (px, py) = (p.0 as f64 - ax, p.1 as f64 - ay);
            let d = if len == 0.0 {
                (px * px + py * py).sqrt()
            } else {
                (px * dy - py * dx).abs() / len
            };
            if d > best.0 {
                best = (d, i);
            }
        }
        if best.0 > eps {
            keep[best.1] = true;
            stack.push((a, best.1));
            stack.push((best.1, b));
        }
    }
}

/// The road layer as JSON: per class, polylines as flat integer arrays
/// `[lon0, lat0, dlon1, dlat1, ...]` in units of 1e-5 degree.
fn roads_json(net: &RoadNetwork, out: &mut String) {
    let g = &net.graph;
    let mut by_class: Vec<Vec<u32>> = vec![Vec::new(); 10];
    for p in 0..g.piece_count() as u32 {
        let c = usize::from(g.piece_class[p as usize]).min(9);
        by_class[c].push(p);
    }
    out.push('[');
    let mut first_class = true;
    let mut pts: Vec<(i64, i64)> = Vec::new();
    let mut keep: Vec<bool> = Vec::new();
    for (c, pieces) in by_class.iter().enumerate() {
        if pieces.is_empty() {
            continue;
        }
        if !first_class {
            out.push(',');
        }
        first_class = false;
        // Tolerance in 1e-5 degree (about 1.1 m): major roads keep more shape.
        let eps = if c <= 4 { 1.5 } else { 3.0 };
        let _ = write!(
            out,
            "{{\"class\":\"{}\",\"rank\":{c},\"lines\":[",
            class_name(c as u8)
        );
        let mut first_line = true;
        for &p in pieces {
            pts.clear();
            for (lat, lon) in g.piece_coords(p) {
                let q = (
                    (i64::from(lon) as f64 / 100.0).round() as i64,
                    (i64::from(lat) as f64 / 100.0).round() as i64,
                );
                if pts.last() != Some(&q) {
                    pts.push(q);
                }
            }
            if pts.len() < 2 {
                continue;
            }
            keep.clear();
            keep.resize(pts.len(), false);
            keep[0] = true;
            let last = pts.len() - 1;
            keep[last] = true;
            simplify(&pts, eps, &mut keep);
            if !first_line {
                out.push(',');
            }
            first_line = false;
            out.push('[');
            let mut prev: Option<(i64, i64)> = None;
            for (i, q) in pts.iter().enumerate() {
                if !keep[i] {
                    continue;
                }
                match prev {
                    None => {
                        let _ = write!(out, "{},{}", q.0, q.1);
                    }
                    Some(pq) => {
                        let _ = write!(out, ",{},{}", q.0 - pq.0, q.1 - pq.1);
                    }
                }
                prev = Some(*q);
            }
            out.push(']');
        }
        out.push_str("]}");
    }
    out.push(']');
}

fn map_json(state: &AppState, net: Option<&RoadNetwork>) -> Vec<u8> {
    let region = satria_region::Region::banyumas();
    let kecamatan: Vec<_> = region
        .kecamatan
        .iter()
        .map(|k| json!({"name": k.name, "lat": k.centroid.lat, "lon": k.centroid.lon}))
        .collect();
    let snap = state.engine.snapshot();
    let hospitals: Vec<_> = snap
        .hospitals()
        .map(|h| json!({"id": h.id, "name": h.name, "kind": h.kind, "class": h.class, "lat": h.position.lat, "lon": h.position.lon}))
        .collect();
    let mut out = String::with_capacity(1 << 20);
    out.push_str("{\"scale\":1e-5,\"classes\":");
    match net {
        Some(n) => roads_json(n, &mut out),
        None => out.push_str("[]"),
    }
    let bounds = net.map(|n| {
        let (a, b, c, d) = n.graph.bounds();
        json!([a, b, c, d])
    });
    let _ = write!(
        out,
        ",\"bounds\":{},\"kecamatan\":{},\"hospitals\":{}}}",
        bounds.unwrap_or(serde_json::Value::Null),
        serde_json::Value::Array(kecamatan),
        serde_json::Value::Array(hospitals)
    );
    out.into_bytes()
}

/// With a road network, starts building its map payload now, on a thread of its
/// own, so the first console to open does not wait for it.
pub(super) fn start_building(state: &Arc<AppState>) {
    if let Some(net) = state.roads.get().cloned() {
        let st = Arc::clone(state);
        let _ = std::thread::Builder::new()
            .name("map-payload".into())
            .spawn(move || {
                road_cell(&net).get_or_init(|| Payload::new(map_json(&st, Some(&net))));
            });
    }
}

/// The payload cell of a network, created on first use.
fn road_cell(net: &Arc<RoadNetwork>) -> Arc<OnceLock<Payload>> {
    let mut cache = ROADS.lock().unwrap_or_else(|p| p.into_inner());
    cache.retain(|(w, _)| w.strong_count() > 0);
    if let Some((_, c)) = cache
        .iter()
        .find(|(w, _)| w.upgrade().is_some_and(|n| Arc::ptr_eq(&n, net)))
    {
        return Arc::clone(c);
    }
    let c = Arc::new(OnceLock::new());
    cache.push((Arc::downgrade(net), Arc::clone(&c)));
    c
}

pub(super) async fn map_roads(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    caller.require(MAP_ROLES)?;
    let Some(net) = state.roads.get().cloned() else {
        let st = Arc::clone(&state);
        let p = tokio::task::spawn_blocking(move || Payload::new(map_json(&st, None)))
            .await
            .map_err(|_| HttpError::unavailable("the map failed to build"))?;
        return Ok(p.respond(&headers));
    };
    let cell = road_cell(&net);
    let st = Arc::clone(&state);
    let resp = tokio::task::spawn_blocking(move || {
        cell.get_or_init(|| Payload::new(map_json(&st, Some(&net))))
            .respond(&headers)
    })
    .await
    .map_err(|_| HttpError::unavailable("the map failed to build"))?;
    Ok(resp)
}

static PLACES: OnceLock<Payload> = OnceLock::new();

fn places_json() -> Vec<u8> {
    let region = satria_region::Region::banyumas();
    let mut list = Vec::new();
    for d in &region.desa {
        list.push(json!({"kind": if d.urban {"kelurahan"} else {"desa"}, "name": d.name, "kecamatan": d.kecamatan, "lat": d.centroid.lat, "lon": d.centroid.lon}));
    }
    for k in &region.kecamatan {
        list.push(json!({"kind": "kecamatan", "name": k.name, "kecamatan": k.name, "lat": k.centroid.lat, "lon": k.centroid.lon}));
    }
    for p in &region.puskesmas {
        list.push(json!({"kind": "puskesmas", "name": p.name, "kecamatan": p.kecamatan, "lat": p.position.lat, "lon": p.position.lon}));
    }
    for h in &region.hospitals {
        list.push(json!({"kind": "rumah_sakit", "name": h.name, "kecamatan": h.kecamatan, "lat": h.position.lat, "lon": h.position.lon}));
    }
    serde_json::to_vec(&json!({ "places": list })).unwrap_or_default()
}

pub(super) async fn map_places(caller: Caller, headers: HeaderMap) -> Result<Response, HttpError> {
    caller.require(MAP_ROLES)?;
    let p = match PLACES.get() {
        Some(p) => p,
        None => {
            let built = tokio::task::spawn_blocking(|| Payload::new(places_json()))
                .await
                .map_err(|_| HttpError::unavailable("the places failed to build"))?;
            PLACES.get_or_init(|| built)
        }
    };
    Ok(p.respond(&headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simplify_keeps_corners_and_drops_collinear_points() {
        let pts = [(0, 0), (5, 0), (10, 0), (10, 5), (10, 10)];
        let mut keep = vec![false; pts.len()];
        keep[0] = true;
        keep[4] = true;
        simplify(&pts, 1.0, &mut keep);
        assert_eq!(keep, vec![true, false, true, false, true]);
    }
}
