//! Pattas Sosial "Mitra Kurir Langit": fast, responsive, complete help
//! (Penanganan Cepat, Tanggap dan Tuntas) for poor residents of Banyumas with
//! chronic illness.
//!
//! - [`Pattas`] owns one SQLite file (WAL; schema migrations by
//!   `PRAGMA user_version`, applied in order on open), or its tables in a
//!   PostgreSQL database shared by the nodes of a cluster
//!   ([`Pattas::open_postgres`]; versioned in `pattas_schema`), holding
//!   beneficiaries, cases, assistance actions, booked transports and the
//!   change history. Every query is written once for both;
//!   [`Pattas::copy_into`] copies a SQLite store into a PostgreSQL one.
//! - [`routes`] serves it under `/api/pattas/...`; [`OPERATIONS`] documents
//!   every route for the OpenAPI document (a test walks it against the router).
//! - [`TransportDesk`] is where free ambulance transport is booked; the server
//!   implements it against the dispatch engine, [`NoTransportDesk`] refuses.
//!
//! # Invariants
//!
//! - **One beneficiary per NIK** (a `UNIQUE` column; a second registration is
//!   `409 duplicate_nik`). An NIK is 16 digits whose digits 7–12 are the birth
//!   date DDMMYY (DD + 40 for a woman), consistent with `date_of_birth` and
//!   `sex`; `3302…` marks a Banyumas resident, others are accepted and flagged.
//! - **The case state machine**: `reported → verified → in_assistance →
//!   closed` (tuntas), and `reported → rejected` with a reason. Nothing else:
//!   any other transition is `409 invalid_transition` and changes nothing.
//!   The first assistance (`/assist`, or the first recorded assistance action)
//!   moves `verified → in_assistance`. Deadlines are fixed when a step is
//!   entered: `verify_due = reported_at + verify_within`,
//!   `assistance_due = verified_at + first_assistance_within`; a case past its
//!   due step is overdue until the step is done. A beneficiary has at most
//!   one open (reported, verified or in-assistance) case
//!   (`409 open_case_exists`). Assistance and transport bookings need a
//!   verified or in-assistance case.
//! - **Every change is in the history** (`pattas_history`: entity, id, action,
//!   actor username, role, time, details), written in the same transaction as
//!   the change itself. A change and the checks it depends on run in one
//!   write transaction, serialised with every other writer of the store (on
//!   PostgreSQL across nodes, by an advisory lock).
//! - **Every read of a beneficiary's personal data is recorded** through
//!   [`satria_auth::AccessRecorder`]: `read` for one record (a beneficiary,
//!   a case with its beneficiary, a PATCH's answer, a case reported by NIK),
//!   `list` for each record of a list (beneficiaries, cases, overdue cases),
//!   `export` when it is handed to the transport desk. Refused reads record
//!   nothing.
//! - **Who sees what**: `pattas_officer` and `admin` everything; a
//!   `pattas_mitra` the cases it reported and the beneficiaries it registered
//!   or reported a case for (anything else is 404 to it); every other role 403.
//! - **Refusals change nothing**: every bad input is a 4xx
//!   `{"code","message","message_id"}` (English and Bahasa Indonesia).
//!
//! # Wiring
//!
//! ```ignore
//! let pattas = Arc::new(Pattas::open(&data_dir.join("pattas.sqlite"), PattasConfig::default())?);
//! // or, on a cluster's shared database:
//! // let pattas = Arc::new(Pattas::open_postgres(&database_url, PattasConfig::default())?);
//! pattas.seed_demo(now_ms())?; // demo only; cases of DEMO_MITRA_USERNAME
//! let api = satria_pattas::routes(pattas, access_recorder, transport_desk)
//!     .layer(axum::middleware::from_fn_with_state(auth, satria_http::require_principal));
//! let app = app.merge(api); // and OPERATIONS into the OpenAPI document
//! ```

mod api;
mod desk;
mod model;
mod store;
mod valid;

pub use api::{Clock, OPERATIONS, routes, routes_with_clock};
pub use desk::{
    BoxFuture, NoTransportDesk, TransportDesk, TransportError, TransportRequest, TransportStatus,
    TransportTicket,
};
pub use model::*;
pub use store::{DEMO_MITRA_USERNAME, PG_SCHEMA_VERSION, Pattas, PattasCopyReport, SCHEMA_VERSION};

use axum::http::StatusCode;
use satria_http::HttpError;

/// Deadlines of the case steps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PattasConfig {
    /// A reported case should be verified within this (default 24 h).
    pub verify_within_ms: i64,
    /// A verified case should get its first assistance within this (default 72 h).
    pub first_assistance_within_ms: i64,
}

impl Default for PattasConfig {
    fn default() -> Self {
        PattasConfig {
            verify_within_ms: 24 * 60 * 60 * 1000,
            first_assistance_within_ms: 72 * 60 * 60 * 1000,
        }
    }
}

/// A refused or failed Pattas operation.
#[derive(Debug, thiserror::Error)]
pub enum PattasError {
    /// A value that is not acceptable (422).
    #[error("{code}: {message}")]
    Invalid {
        code: &'static str,
        message: String,
        message_id: String,
    },
    /// Conflicts with the current state: a duplicate, a transition not allowed now (409).
    #[error("{code}: {message}")]
    Conflict {
        code: &'static str,
        message: String,
        message_id: String,
    },
    /// No such record, or not one the caller may see (404). The names are
    /// English and Indonesian (`"case"`, `"kasus"`).
    #[error("no such {0}")]
    NotFound(&'static str, &'static str),
    /// The database failed (500); never caused by client input.
    #[error("storage: {0}")]
    Storage(String),
}

impl PattasError {
    pub fn invalid(
        code: &'static str,
        message: impl Into<String>,
        message_id: impl Into<String>,
    ) -> Self {
        PattasError::Invalid {
            code,
            message: message.into(),
            message_id: message_id.into(),
        }
    }

    pub fn conflict(
        code: &'static str,
        message: impl Into<String>,
        message_id: impl Into<String>,
    ) -> Self {
        PattasError::Conflict {
            code,
            message: message.into(),
            message_id: message_id.into(),
        }
    }

    /// The stable machine code.
    pub fn code(&self) -> &str {
        match self {
            PattasError::Invalid { code, .. } | PattasError::Conflict { code, .. } => code,
            PattasError::NotFound(..) => "not_found",
            PattasError::Storage(_) => "storage_error",
        }
    }

    /// The API error for this failure.
    pub fn to_http(&self) -> HttpError {
        match self {
            // A desa that is not in the Banyumas list, or a beneficiary that
            // does not exist, named in a body: 422 (404 is for the record the
            // path names; docs/http.md).
            PattasError::Invalid {
                code,
                message,
                message_id,
            } => HttpError::invalid(code, message, message_id),
            PattasError::Conflict {
                code,
                message,
                message_id,
            } => HttpError::conflict(code, message, message_id),
            PattasError::NotFound(en, id) => HttpError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no such {en}"),
                format!("{id} tidak ditemukan"),
            ),
            // As every module answers a store that failed: 503, try again.
            PattasError::Storage(_) => HttpError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the Pattas database failed; the change was not made",
                "basis data Pattas gagal; perubahan tidak disimpan",
            ),
        }
    }
}

impl From<satria_sqlite::OpenError> for PattasError {
    fn from(e: satria_sqlite::OpenError) -> Self {
        PattasError::Storage(e.to_string())
    }
}

impl From<rusqlite::Error> for PattasError {
    fn from(e: rusqlite::Error) -> Self {
        PattasError::Storage(e.to_string())
    }
}

impl From<serde_json::Error> for PattasError {
    fn from(e: serde_json::Error) -> Self {
        PattasError::Storage(format!("stored JSON: {e}"))
    }
}

impl From<PattasError> for HttpError {
    fn from(e: PattasError) -> Self {
        e.to_http()
    }
}
