//! The server end to end, over real sockets on 127.0.0.1 port 0: HTTP with
//! reqwest, WebSockets with tokio-tungstenite. Drive times are a straight line at
//! 40 km/h so the suite needs no road graph; the roads are tested elsewhere.
//!
//! A module per theme, each under ~600 lines; the shared setup is in `support`.

mod support;

mod access_control;
mod access_log;
mod http_errors;
mod incidents;
mod integrity;
mod openapi;
mod pattas_salinmas;
mod roles;
mod sessions;
mod validation;
