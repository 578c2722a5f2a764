//! The Salinmas integration tests, one binary (fewer test binaries link
//! faster): the HTTP API by theme, and the ledger invariant under random
//! operations, each on SQLite and on PostgreSQL (`name::sqlite`,
//! `name::postgres`; see `support::on_each_backend!`); and what only
//! PostgreSQL does: a shared schema, the copy of a centre's store, two nodes.

mod support;

mod http_access;
mod http_flow;
mod http_openapi;
mod http_paging;
mod http_refusals;
mod http_reports;
mod http_restart;
mod http_routes;
mod http_times;
mod ledger;
mod postgres;
