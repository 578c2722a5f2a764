//! The web consoles served by the server itself: every file under
//! `crates/server/web/` is embedded at compile time (see `build.rs`) and served at
//! its path, with its content type and an ETag (`Cache-Control: no-cache`, so a
//! browser revalidates and gets `304` until the binary changes). A directory with
//! an `index.html` (`/pattas/`, `/salinmas/`) is served at its path too.
//!
//! Next to the files, the data of the consoles' maps (`map.rs`) and the
//! incident route the crews drive (`route.rs`).

use crate::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;

mod map;
mod route;

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
/// They connect to this server and, in a cluster, to the region's other
/// nodes (`connect` is that list, `crate::cluster::connect_src`).
fn csp(connect: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src {connect}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
}

/// [`csp`] of this server alone.
const SELF_ONLY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn serve_file(
    connect: &str,
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
        let policy = HeaderValue::from_str(&csp(connect))
            .unwrap_or_else(|_| HeaderValue::from_static(SELF_ONLY));
        h.insert(header::CONTENT_SECURITY_POLICY, policy);
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
    map::start_building(state);
    let mut r = Router::new()
        .route("/api/map/roads", get(map::map_roads))
        .route("/api/map/places", get(map::map_places))
        .route("/api/incidents/{id}/route", get(route::incident_route));
    for &(path, bytes, etag) in files() {
        // A name axum would read as a pattern (or that no URL carries) is not served.
        if path.contains(['{', '}', '*', ' ', '?', '#']) {
            continue;
        }
        let handler = move |State(state): State<Arc<AppState>>, headers: HeaderMap| async move {
            serve_file(
                &crate::cluster::connect_src(&state),
                &headers,
                path,
                bytes,
                etag,
            )
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The crew app shows only the statuses the dispatch crate accepts next: its
    /// table must be `UnitStatus::crew_next`, status for status.
    #[test]
    fn the_crew_apps_status_table_is_the_dispatch_crates() {
        use satria_dispatch::UnitStatus::{self, *};
        let js = include_str!("../../web/crew.js");
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
        let js = include_str!("../../web/i18n.js");
        let (id, en) = (dictionary(js, "id"), dictionary(js, "en"));
        assert!(id.len() > 100, "{} keys read from i18n.js", id.len());
        let only_id: Vec<_> = id.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&id).collect();
        assert!(
            only_id.is_empty() && only_en.is_empty(),
            "untranslated: only in Bahasa {only_id:?}, only in English {only_en:?}"
        );
        let files = [
            ("app.js", include_str!("../../web/app.js")),
            ("crew.js", include_str!("../../web/crew.js")),
            ("dispatch.js", include_str!("../../web/dispatch.js")),
            ("hospital.js", include_str!("../../web/hospital.js")),
            ("login.js", include_str!("../../web/login.js")),
            ("map.js", include_str!("../../web/map.js")),
            ("crew.html", include_str!("../../web/crew.html")),
            ("dispatch.html", include_str!("../../web/dispatch.html")),
            ("hospital.html", include_str!("../../web/hospital.html")),
            ("index.html", include_str!("../../web/index.html")),
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
        let events = include_str!("../../../dispatch/src/events.rs");
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
