//! The server end to end, over real sockets on 127.0.0.1 port 0: HTTP with
//! reqwest, WebSockets with tokio-tungstenite. Drive times are a straight line at
//! 40 km/h so the suite needs no road graph; the roads are tested elsewhere.
//!
//! One test binary for the crate (every binary links all dependencies once):
//! the API and WebSocket tests by theme, and the consoles and module pages in
//! headless Chromium (`browser`, `browser_modules`), which are skipped without
//! node, chromium and `tests/browser/node_modules` unless `SATRIA_BROWSER_TESTS=1`.
//! `cargo test -p satria-server --test server browser` runs those two modules alone.

mod support;

mod access_control;
mod access_log;
mod browser;
mod browser_modules;
mod http_errors;
mod incidents;
mod integrity;
mod openapi;
mod paging;
mod pattas_salinmas;
mod roles;
mod sessions;
mod times;
mod validation;
