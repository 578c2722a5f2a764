//! The Pattas API over HTTP, through the real `require_principal` middleware
//! with real `AuthStore` tokens, a stepped clock, a fake transport desk and a
//! recording access log; and the store itself. One test binary; its modules
//! by theme, the shared setup in `support`. The store's tests run on SQLite
//! and on PostgreSQL (`support::on_every_backend`); `postgres` holds what is
//! PostgreSQL's own (nodes sharing a database, the copy from SQLite).

mod support;

mod access;
mod forms;
mod generated;
mod lifecycle;
mod openapi;
mod postgres;
mod refusals;
mod reports;
mod storage;
mod transports;
