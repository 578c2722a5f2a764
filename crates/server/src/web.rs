//! The web consoles served by the server itself: every file under
//! `crates/server/web/` is embedded at compile time (see `build.rs`) and served at
//! its path, with its content type and an ETag (`Cache-Control: no-cache`, so a
//! browser revalidates and gets `304` until the binary changes). A directory with
//! an `index.html` (`/pattas/`, `/salinmas/`) is served at its path too.
//!
//! The map data of the consoles comes from the server's own road graph:
//! - `GET /api/map/roads`: the road network as polylines by class, simplified and
//!   quantised to 1e-5 degree integer deltas, with the kecamatan and the
//!   hospitals; built once per network and gzip-compressed when the client
//!   accepts it. Without a graph the road layer is empty.
//! - `GET /api/map/places`: desa/kelurahan, puskesmas and hospitals to search a
//!   location by name.
//! - `GET /api/incidents/{id}/route`: the drive from a unit to the incident (or,
//!   with `?to=hospital`, to the hospital of its live referral) on the roads (a
//!   straight line when the server runs without a graph).

use crate::error::{Caller, HttpError};
use crate::view;
use crate::{AppState, now_ms};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use satria_auth::Role;
use satria_dispatch::{IncidentId, UnitId};
use satria_http::ApiQuery;
use satria_roads::{DriveTimeEngine, RoadNetwork};
use serde::Deserialize;
use serde_json::json;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock, Weak};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/web_files.rs"));
}

/// The embedded files: (URL path, bytes, ETag).
pub fn files() -> &'static [(&'static str, &'static [u8], &'static str)] {
    embedded::FILES
}

/// The content type of a file, by its extension.
pub fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("");
    match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "webmanifest" => "application/manifest+json",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// Pages may load only what this server serves: no CDN, no inline script.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn serve_file(
    headers: &HeaderMap,
    path: &str,
    bytes: &'static [u8],
    etag: &'static str,
) -> Response {
    let mut h = HeaderMap::new();
    h.insert(header::ETAG, HeaderValue::from_static(etag));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if path.ends_with(".html") {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if fresh {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    (StatusCode::OK, h, bytes).into_response()
}

/// The routes of the consoles and of the map data. With a road network, the
/// map payload starts building now, off the async runtime, so the first console
/// to open does not wait for it.
pub fn routes(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    if let Some(net) = state.roads.get().cloned() {
        let st = Arc::clone(state);
        let _ = std::thread::Builder::new()
            .name("map-payload".into())
            .spawn(move || {
                road_cell(&net).get_or_init(|| Payload::new(map_json(&st, Some(&net))));
            });
    }
    let mut r = Router::new()
        .route("/api/map/roads", get(map_roads))
        .route("/api/map/places", get(map_places))
        .route("/api/incidents/{id}/route", get(incident_route));
    for &(path, bytes, etag) in files() {
        // A name axum would read as a pattern (or that no URL carries) is not served.
        if path.contains(['{', '}', '*', ' ', '?', '#']) {
            continue;
        }
        let handler =
            move |headers: HeaderMap| async move { serve_file(&headers, path, bytes, etag) };
        r = r.route(path, get(handler));
        if let Some(dir) = path.strip_suffix("index.html") {
            // `/` and `/pattas/`; `/pattas` too, redirected so relative links work.
            r = r.route(dir, get(handler));
            if dir.len() > 1 {
                let to = dir.to_string();
                let bare = dir.trim_end_matches('/').to_string();
                r =
                    r.route(
                        &bare,
                        get(move || async move {
                            axum::response::Redirect::permanent(&to).into_response()
                        }),
                    );
            }
        }
    }
    r
}

// ---------------------------------------------------------------- map data

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

async fn map_roads(
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

async fn map_places(caller: Caller, headers: HeaderMap) -> Result<Response, HttpError> {
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

// ---------------------------------------------------------------- routes

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteQuery {
    /// The unit driving; default: the incident's latest active assignment.
    #[serde(default)]
    unit: Option<String>,
    /// `incident` (default) or `hospital`: the hospital of the incident's live
    /// referral, where the patient is carried.
    #[serde(default)]
    to: Option<String>,
}

/// How far a position may be from the nearest road and still be routed, in m.
const SNAP_LIMIT_M: f64 = 3_000.0;

async fn incident_route(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RouteQuery>,
) -> Result<Response, HttpError> {
    caller.require(&[Role::Dispatcher, Role::Admin, Role::Crew])?;
    let id = crate::api::numeric_id(&id, "incident")?;
    let snap = state.engine.snapshot();
    let incident = match snap.incident(IncidentId(id)) {
        Some(i) if view::may_see_incident(&caller.0, i) => i,
        None if caller.is_dispatch() => return Err(HttpError::not_found("incident")),
        _ => return Err(HttpError::forbidden()),
    };
    let unit_id = match q.unit {
        Some(u) => UnitId(u),
        None => incident
            .assignments
            .iter()
            .rev()
            .find(|a| a.is_active())
            .or(incident.assignments.last())
            .map(|a| a.unit.clone())
            .ok_or_else(|| {
                HttpError::new(
                    StatusCode::CONFLICT,
                    "no_unit",
                    "the incident has no unit; give ?unit=",
                    "insiden belum punya unit; isi ?unit=",
                )
            })?,
    };
    if !view::may_act_for_unit(&caller.0, &unit_id) && !caller.is_dispatch() {
        return Err(HttpError::forbidden());
    }
    let unit = snap
        .unit(&unit_id)
        .ok_or_else(|| HttpError::not_found("unit"))?;
    let from = unit.last_fix.map(|f| f.at).unwrap_or(unit.base);
    let to = match q.to.as_deref() {
        None | Some("incident") => incident.location,
        Some("hospital") => snap
            .referrals()
            .filter(|r| r.incident == incident.id && r.status.is_live())
            .filter(|r| r.unit.as_ref().is_none_or(|u| *u == unit_id))
            .max_by_key(|r| r.id)
            .and_then(|r| snap.hospital(&r.to))
            .map(|h| h.position)
            .ok_or_else(|| {
                HttpError::new(
                    StatusCode::CONFLICT,
                    "no_referral",
                    "the incident has no live referral for this unit",
                    "insiden belum punya rujukan aktif untuk unit ini",
                )
            })?,
        Some(_) => {
            return Err(HttpError::bad_request(
                "invalid_query",
                "to must be incident or hospital",
                "to harus incident atau hospital",
            ));
        }
    };
    let straight = || {
        json!({
            "incident": id, "unit": unit_id, "road": false, "to": [to.lat, to.lon],
            "path": [[from.lat, from.lon], [to.lat, to.lon]],
            "distance_m": satria_region::approx_m(
                satria_region::LatLon { lat: from.lat, lon: from.lon },
                satria_region::LatLon { lat: to.lat, lon: to.lon }).round(),
            "time_s": null, "at": now_ms(),
        })
    };
    let Some(net) = state.roads.get().cloned() else {
        return Ok(axum::Json(straight()).into_response());
    };
    let route = tokio::task::spawn_blocking(move || {
        let a = net.snap(from.lat, from.lon, SNAP_LIMIT_M).ok()?;
        let b = net.snap(to.lat, to.lon, SNAP_LIMIT_M).ok()?;
        net.router().route(&a, &b)
    })
    .await
    .map_err(|_| HttpError::unavailable("the route failed to run"))?;
    let body = match route {
        Some(r) => {
            let path: Vec<[f64; 2]> = r
                .path
                .iter()
                .map(|&(la, lo)| [(la * 1e5).round() / 1e5, (lo * 1e5).round() / 1e5])
                .collect();
            json!({
                "incident": id, "unit": unit_id, "road": true, "path": path, "to": [to.lat, to.lon],
                "distance_m": r.distance_m.round(), "time_s": r.time_ms / 1000, "at": now_ms(),
            })
        }
        None => straight(),
    };
    Ok(axum::Json(body).into_response())
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

    /// The crew app shows only the statuses the dispatch crate accepts next: its
    /// table must be `UnitStatus::crew_next`, status for status.
    #[test]
    fn the_crew_apps_status_table_is_the_dispatch_crates() {
        use satria_dispatch::UnitStatus::{self, *};
        let js = include_str!("../web/crew.js");
        let start = js
            .find("const CREW_NEXT = ")
            .expect("crew.js declares CREW_NEXT")
            + 18;
        let end = start + js[start..].find(';').expect("CREW_NEXT ends with ;");
        let table: std::collections::BTreeMap<String, Vec<String>> =
            serde_json::from_str(&js[start..end]).expect("CREW_NEXT is a JSON object");
        let name = |s: UnitStatus| {
            serde_json::to_value(s)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        };
        let all = [
            Available,
            Notified,
            EnRoute,
            OnScene,
            AtPatient,
            Transporting,
            AtDestination,
            TransferOfCare,
            OutOfService,
        ];
        assert_eq!(table.len(), all.len(), "one row per status: {table:?}");
        for s in all {
            let want: Vec<String> = s.crew_next().iter().map(|&n| name(n)).collect();
            assert_eq!(table.get(&name(s)), Some(&want), "{s:?}");
        }
    }

    /// The keys of one language's dictionary in `i18n.js`.
    fn dictionary(js: &str, lang: &str) -> std::collections::BTreeSet<String> {
        let start = js
            .find(&format!("\n  {lang}: {{"))
            .unwrap_or_else(|| panic!("i18n.js has a {lang} dictionary"));
        let body = &js[start + 6..];
        let body = &body[..body.find("\n  },").expect("the dictionary closes")];
        let mut keys = std::collections::BTreeSet::new();
        // `key: 'text'` pairs; a key is an identifier right before ": '".
        for (at, _) in body.match_indices(": '") {
            let before = &body[..at];
            let key: String = before
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            // A key written twice: the second silently replaces the first.
            if !key.is_empty() {
                assert!(keys.insert(key.clone()), "{lang}: {key} is defined twice");
            }
        }
        keys
    }

    /// Literal keys a console asks for: `t('key')`, `data-i18n="key"` (and the
    /// placeholder and title forms), `dataset.i18n = 'key'`.
    fn keys_used(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for open in [
            "t('",
            "data-i18n=\"",
            "data-i18n-ph=\"",
            "data-i18n-title=\"",
            "i18n = '",
        ] {
            for (at, _) in text.match_indices(open) {
                // `t(` is the function, not the end of `getContext(` or `test(`.
                let prev = text[..at].chars().next_back().unwrap_or(' ');
                if open == "t('" && (prev.is_ascii_alphanumeric() || "_.$".contains(prev)) {
                    continue;
                }
                let rest = &text[at + open.len()..];
                let key: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !key.is_empty() && rest[key.len()..].starts_with(['\'', '"']) {
                    out.push(key);
                }
            }
        }
        out
    }

    /// No English left in the Bahasa consoles and no Bahasa in the English ones:
    /// both dictionaries hold the same keys; every key a console asks for is in
    /// them; every event kind, status, triage colour and category the server sends
    /// has its words.
    #[test]
    fn every_word_the_consoles_show_is_translated() {
        use satria_dispatch::{
            AssignmentState as A, Category as C, IncidentStatus as I, ReferralType as R,
            Triage as T, UnitStatus as U,
        };
        let js = include_str!("../web/i18n.js");
        let (id, en) = (dictionary(js, "id"), dictionary(js, "en"));
        assert!(id.len() > 100, "{} keys read from i18n.js", id.len());
        let only_id: Vec<_> = id.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&id).collect();
        assert!(
            only_id.is_empty() && only_en.is_empty(),
            "untranslated: only in Bahasa {only_id:?}, only in English {only_en:?}"
        );
        let files = [
            ("app.js", include_str!("../web/app.js")),
            ("crew.js", include_str!("../web/crew.js")),
            ("dispatch.js", include_str!("../web/dispatch.js")),
            ("hospital.js", include_str!("../web/hospital.js")),
            ("login.js", include_str!("../web/login.js")),
            ("map.js", include_str!("../web/map.js")),
            ("crew.html", include_str!("../web/crew.html")),
            ("dispatch.html", include_str!("../web/dispatch.html")),
            ("hospital.html", include_str!("../web/hospital.html")),
            ("index.html", include_str!("../web/index.html")),
        ];
        let mut missing = Vec::new();
        for (name, text) in files {
            for key in keys_used(text) {
                if !id.contains(&key) {
                    missing.push(format!("{name}: {key}"));
                }
            }
        }
        // Names the server sends that the consoles show through a prefix.
        let name = |v: serde_json::Value| match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Object(o) => o
                .get("state")
                .and_then(|s| s.as_str())
                .expect("a tagged state")
                .to_string(),
            other => panic!("{other}"),
        };
        let j = |v: &dyn erased::Ser| v.value();
        let mut sent: Vec<String> = Vec::new();
        for s in [
            U::Available,
            U::Notified,
            U::EnRoute,
            U::OnScene,
            U::AtPatient,
            U::Transporting,
            U::AtDestination,
            U::TransferOfCare,
            U::OutOfService,
        ] {
            sent.push(format!("st_{}", name(j(&s))));
        }
        for s in [I::Open, I::Dispatched, I::Closed, I::Cancelled, I::Merged] {
            sent.push(format!("inc_{}", name(j(&s))));
        }
        for s in [T::Merah, T::Kuning, T::Hijau, T::Hitam] {
            sent.push(format!("tr_{}", name(j(&s))));
        }
        for s in [
            C::Accident,
            C::Medical,
            C::Maternal,
            C::InterFacilityTransfer,
            C::Information,
        ] {
            sent.push(format!("cat_{}", name(j(&s))));
        }
        for s in [R::Emergency, R::NonEmergency, R::Partial] {
            sent.push(format!("rt_{}", name(j(&s))));
        }
        for s in [A::Pending, A::Acknowledged, A::TimedOut] {
            sent.push(format!("as_{}", name(j(&s))));
        }
        // Every event kind, read from `Event::kind` itself.
        let events = include_str!("../../dispatch/src/events.rs");
        let kinds: Vec<&str> = events
            .lines()
            .filter(|l| l.trim_start().starts_with("Event::") && l.contains("=> \""))
            .filter_map(|l| l.split('"').nth(1))
            .collect();
        assert!(kinds.len() >= 29, "event kinds read: {kinds:?}");
        sent.extend(kinds.iter().map(|k| format!("ev_{k}")));
        for key in sent {
            if !id.contains(&key) {
                missing.push(format!("sent by the server: {key}"));
            }
        }
        assert!(missing.is_empty(), "keys without words: {missing:#?}");
    }

    /// Serialises any of the status enums for the test above.
    mod erased {
        pub trait Ser {
            fn value(&self) -> serde_json::Value;
        }
        impl<T: serde::Serialize> Ser for T {
            fn value(&self) -> serde_json::Value {
                serde_json::to_value(self).expect("serialisable")
            }
        }
    }

    #[test]
    fn every_console_file_is_embedded_with_a_type() {
        for p in [
            "/index.html",
            "/app.js",
            "/dispatch.html",
            "/crew.html",
            "/hospital.html",
        ] {
            let f = files().iter().find(|f| f.0 == p);
            assert!(f.is_some(), "{p} is embedded");
            assert_ne!(content_type(p), "application/octet-stream");
        }
    }
}
