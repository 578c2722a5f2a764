//! How the access log names each personal record it records an access to:
//! one spelling per kind, by the numeric id the API's paths use
//! (`incident:42`), whichever way the record was shown (a read, a listing, an
//! event, a snapshot), so one filter finds every access to one record.

use satria_dispatch::{BookingId, Event, IncidentId, ReferralId};

/// `incident:42`.
pub fn incident(id: IncidentId) -> String {
    format!("incident:{}", id.0)
}

/// `referral:7`.
pub fn referral(id: ReferralId) -> String {
    format!("referral:{}", id.0)
}

/// `transport:3`: a scheduled transport (a Pattas patient's booking).
pub fn transport(id: BookingId) -> String {
    format!("transport:{}", id.0)
}

/// What a WebSocket event that carries personal data is recorded as: the
/// record it carries, else its kind.
pub fn of_event(e: &Event) -> String {
    match e {
        Event::IncidentCreated { incident } => self::incident(incident.id),
        Event::ReferralSent { referral } => self::referral(referral.id),
        Event::TransportBooked { booking } => transport(booking.id),
        other => other.kind().to_string(),
    }
}
