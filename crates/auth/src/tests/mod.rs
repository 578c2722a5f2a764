//! Unit tests of the crate, one module per part of the store (as in
//! `store/`), plus the error codes; `common` holds their shared setup.

mod access_log;
mod accounts;
mod common;
mod errors;
mod lockout;
mod open;
mod postgres;
mod sessions;
