//! The Pattas API over HTTP, through the real `require_principal` middleware
//! with real `AuthStore` tokens, a stepped clock, a fake transport desk and a
//! recording access log. One test binary; its modules by theme, the shared
//! setup in `support`.

mod support;

mod access;
mod forms;
mod generated;
mod lifecycle;
mod openapi;
mod refusals;
mod reports;
mod storage;
mod transports;
