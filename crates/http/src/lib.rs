//! What every Satria HTTP module shares, so the dispatch API, Pattas and
//! Salinmas answer alike:
//!
//! - [`HttpError`]: the one error shape, `{"code","message","message_id"}` with
//!   the reason in English (`message`) and Bahasa Indonesia (`message_id`);
//! - [`ApiJson`]: `axum::Json`, but every refusal (malformed JSON, unknown or
//!   missing fields, wrong content type, oversized body) is an [`HttpError`];
//! - [`require_principal`]: a middleware that authenticates
//!   `Authorization: Bearer TOKEN` against the
//!   [`AuthStore`](satria_auth::AuthStore) and puts the
//!   [`Principal`](satria_auth::Principal) into the request's extensions, where
//!   module routers take it with `axum::Extension<Principal>`;
//! - [`Operation`]: one row of the OpenAPI operation table each module exports.
//!
//! Invariant: nothing here depends on the dispatch crates; a module that uses
//! this crate can be built and tested without them.

mod auth;
mod body;
mod dialect;
mod error;
mod extract;
pub mod json_int;
mod operation;

pub use auth::{
    authenticate, authorize, authorize_with, bearer, operation_of, require_principal, require_role,
    role_allowed, session_refused,
};
pub use body::{DRAIN_LIMIT, MAX_BODY_BYTES, json_method_not_allowed, limit_body};
pub use dialect::{Page, created, path_id};
pub use error::HttpError;
pub use extract::{ApiJson, ApiQuery};
pub use operation::{
    INTEGER_ID, MAX_PATH_ID, Operation, QueryParam, date_schema, path_id_schema, string_schema,
};

/// Milliseconds since the Unix epoch, now, by the system clock.
pub use satria_calendar::now_ms;

#[cfg(test)]
mod tests;
