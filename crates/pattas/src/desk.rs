//! The free ambulance transport a case can book, as seen from Pattas: a desk
//! that takes a scheduled, non-emergency trip and reports its state. The
//! server implements it against the dispatch engine (lowest-priority
//! scheduled work that never takes a unit an emergency needs); this crate
//! never depends on the dispatch crates.

use satria_calendar::Timestamp;
use serde::{Deserialize, Serialize};

/// A boxed, sendable future, so the trait stays object-safe.
pub type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;

/// One scheduled non-emergency trip, as booked by an officer for a case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransportRequest {
    pub case_id: i64,
    pub patient_name: String,
    /// The beneficiary's phone, else the family contact's; `None` if neither.
    pub patient_phone: Option<String>,
    pub pickup_lat: f64,
    pub pickup_lon: f64,
    pub pickup_address: String,
    /// The facility id as the dispatch side knows it, when the officer chose one.
    pub destination_hospital_id: Option<String>,
    pub destination_name: String,
    pub destination_lat: f64,
    pub destination_lon: f64,
    /// When the patient should be picked up (in the future).
    pub scheduled_for: Timestamp,
    pub purpose: String,
    pub notes: String,
}

/// The desk's receipt for a booking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransportTicket {
    /// The desk's id for the trip; at most 128 characters.
    pub transport_id: String,
}

/// The live state of a booked trip.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransportStatus {
    pub transport_id: String,
    /// `scheduled | assigned | en_route | on_scene | transporting | completed | cancelled`.
    pub state: String,
    pub unit_id: Option<String>,
    /// When the trip last changed state.
    pub updated_at: Timestamp,
}

/// A refusal from the desk. `code` decides the HTTP status Pattas answers
/// with: `transport_unavailable` → 503, `not_found` → 404, codes starting
/// with `invalid` → 422, anything else → 409.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct TransportError {
    pub code: String,
    pub message: String,
    pub message_id: String,
}

impl TransportError {
    pub fn new(
        code: &str,
        message: impl Into<String>,
        message_id: impl Into<String>,
    ) -> TransportError {
        TransportError {
            code: code.into(),
            message: message.into(),
            message_id: message_id.into(),
        }
    }

    pub(crate) fn to_http(&self) -> satria_http::HttpError {
        use axum::http::StatusCode;
        let status = match self.code.as_str() {
            "transport_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            "not_found" => StatusCode::NOT_FOUND,
            c if c.starts_with("invalid") => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::CONFLICT,
        };
        satria_http::HttpError::new(status, &self.code, &self.message, &self.message_id)
    }
}

/// Where Pattas books, follows and cancels free ambulance transport.
///
/// Contract Pattas relies on:
/// - `book` either returns a ticket whose `transport_id` is unique and stable
///   (Pattas stores it and asks `status`/`cancel` with it later, also after a
///   restart), or an error, in which case nothing was booked;
/// - `status` answers `None` for an id the desk does not know; Pattas bounds
///   each call with a timeout and shows `unknown` when it passes;
/// - `cancel` of an already cancelled trip succeeds (idempotent); a trip that
///   has started or ended cannot be cancelled (an error, e.g. `not_cancellable`).
pub trait TransportDesk: Send + Sync {
    fn book(&self, req: TransportRequest) -> BoxFuture<Result<TransportTicket, TransportError>>;
    fn status(&self, transport_id: &str) -> BoxFuture<Option<TransportStatus>>;
    fn cancel(&self, transport_id: &str, reason: &str) -> BoxFuture<Result<(), TransportError>>;
}

/// A desk for setups without dispatch: refuses every booking with
/// `transport_unavailable` (503) and knows no trips.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTransportDesk;

impl NoTransportDesk {
    fn refusal() -> TransportError {
        TransportError::new(
            "transport_unavailable",
            "free ambulance transport is not available on this server (no dispatch connected)",
            "transportasi ambulans gratis tidak tersedia di server ini (dispatch tidak terhubung)",
        )
    }
}

impl TransportDesk for NoTransportDesk {
    fn book(&self, _req: TransportRequest) -> BoxFuture<Result<TransportTicket, TransportError>> {
        Box::pin(async { Err(NoTransportDesk::refusal()) })
    }

    fn status(&self, _transport_id: &str) -> BoxFuture<Option<TransportStatus>> {
        Box::pin(async { None })
    }

    fn cancel(&self, _transport_id: &str, _reason: &str) -> BoxFuture<Result<(), TransportError>> {
        Box::pin(async { Err(NoTransportDesk::refusal()) })
    }
}
