//! What each role may see: the one place that decides, for HTTP and WebSocket
//! alike (UU PDP 27/2022: each role sees only what it needs).
//!
//! - dispatcher, admin: everything of dispatch.
//! - crew (bound to a unit): its own unit, the incidents it is or was assigned
//!   to, the referrals its unit carries, hospitals' capacity.
//! - hospital (bound to a hospital): hospitals' capacity, the referrals
//!   addressed to it (with the patient data it needs) and their pre-arrival
//!   notices; never the caller.
//! - other roles: nothing of dispatch.

use satria_auth::{Principal, Role};
use satria_dispatch::{Dispatch, Event, Incident, IncidentId, Referral, ReferralId, UnitId};
use serde_json::{Value, json};

fn is_dispatch(p: &Principal) -> bool {
    matches!(p.role, Role::Dispatcher | Role::Admin)
}

fn crew_unit(p: &Principal) -> Option<UnitId> {
    (p.role == Role::Crew)
        .then(|| p.unit.clone().map(UnitId))
        .flatten()
}

/// Dispatch roles see every event; true for those that carry personal data.
/// Needs no state (the fan-out path of a thousand consoles).
pub fn dispatch_personal(e: &Event) -> bool {
    matches!(
        e,
        Event::IncidentCreated { .. } | Event::ReferralSent { .. } | Event::TransportBooked { .. }
    )
}

/// Whether `p` follows the live positions of the fleet (the `positions`
/// stream): dispatchers and admins.
pub fn sees_positions(p: &Principal) -> bool {
    is_dispatch(p)
}

/// Whether a unit's live position goes to `p`: dispatch sees every unit, a
/// crew its own. Needs no state and allocates nothing (the hot path: every
/// socket looks at every position report).
pub fn position_for(p: &Principal, unit: &UnitId) -> bool {
    is_dispatch(p) || (p.role == Role::Crew && p.unit.as_deref() == Some(unit.0.as_str()))
}

fn hospital_of(p: &Principal) -> Option<&str> {
    (p.role == Role::Hospital)
        .then_some(p.hospital.as_deref())
        .flatten()
}

/// May `p` see incident `i` (with its caller)?
pub fn may_see_incident(p: &Principal, i: &Incident) -> bool {
    if is_dispatch(p) {
        return true;
    }
    crew_unit(p).is_some_and(|u| i.ever_assigned(&u))
}

/// May `p` see referral `r` (with its patient)?
pub fn may_see_referral(p: &Principal, r: &Referral) -> bool {
    if is_dispatch(p) {
        return true;
    }
    if let Some(h) = hospital_of(p) {
        return r.to.0 == h;
    }
    crew_unit(p).is_some_and(|u| r.unit.as_ref() == Some(&u))
}

/// May `p` see unit `u` and act for it?
pub fn may_act_for_unit(p: &Principal, unit: &UnitId) -> bool {
    is_dispatch(p) || crew_unit(p).is_some_and(|u| &u == unit)
}

/// May `p` act for hospital `h` (capacity, referral answers)?
pub fn may_act_for_hospital(p: &Principal, h: &str) -> bool {
    p.role == Role::Admin || hospital_of(p) == Some(h)
}

fn incident_visible(p: &Principal, state: &Dispatch, id: IncidentId) -> bool {
    state.incident(id).is_some_and(|i| may_see_incident(p, i))
}

fn referral_visible(p: &Principal, state: &Dispatch, id: ReferralId) -> bool {
    state.referral(id).is_some_and(|r| may_see_referral(p, r))
}

/// Whether an event goes to `p`, judged against a state that already includes
/// it. `Some(true)` when it carries personal data (its delivery is recorded).
pub fn event_for(p: &Principal, state: &Dispatch, e: &Event) -> Option<bool> {
    if is_dispatch(p) {
        return Some(dispatch_personal(e));
    }
    let unit = crew_unit(p);
    let mine = |u: &UnitId| unit.as_ref() == Some(u);
    let show = match e {
        Event::HospitalCapacityUpdated { .. } => p.role == Role::Crew || p.role == Role::Hospital,
        Event::UnitRegistered { unit: u } => mine(&u.id),
        Event::UnitMoved { unit: u, .. }
        | Event::UnitStatusChanged { unit: u, .. }
        | Event::UnitOutOfService { unit: u, .. }
        | Event::UnitBackInService { unit: u, .. } => mine(u),
        Event::UnitAssigned { unit: u, .. }
        | Event::AssignmentAcknowledged { unit: u, .. }
        | Event::AssignmentDeclined { unit: u, .. }
        | Event::AssignmentTimedOut { unit: u, .. }
        | Event::AssignmentCancelled { unit: u, .. }
        | Event::AssignmentCompleted { unit: u, .. } => mine(u),
        Event::IncidentCreated { incident } => may_see_incident(p, incident),
        Event::IncidentUpdated { incident, .. }
        | Event::IncidentCancelled { incident, .. }
        | Event::IncidentClosed { incident, .. } => {
            unit.is_some() && incident_visible(p, state, *incident)
        }
        Event::IncidentMerged { from, into, .. } => {
            unit.is_some()
                && (incident_visible(p, state, *from) || incident_visible(p, state, *into))
        }
        Event::NextUnitProposed { .. } => false,
        // Only the dispatch consoles hold ended incidents.
        Event::IncidentArchived { .. } => false,
        Event::ReferralSent { referral } => {
            return may_see_referral(p, referral).then_some(true);
        }
        Event::ReferralAccepted { referral, .. }
        | Event::ReferralDeclined { referral, .. }
        | Event::ReferralExpired { referral, .. }
        | Event::ReferralCancelled { referral, .. } => referral_visible(p, state, *referral),
        Event::ReferralEscalationFailed { .. } => false,
        Event::PreArrivalNoticeSent { referral, .. } => referral_visible(p, state, *referral),
        Event::HandoverRecorded { referral, .. } => referral_visible(p, state, *referral),
        // Scheduled transports are planned by dispatch; a crew sees the incident
        // one becomes once it is sent to it.
        Event::TransportBooked { .. }
        | Event::TransportDispatched { .. }
        | Event::TransportCancelled { .. } => false,
    };
    show.then_some(false)
}

/// The part of the state `p` may see, as sent in a WebSocket snapshot, and the
/// ids of the personal records it contains (for the access log).
pub fn snapshot_for(p: &Principal, state: &Dispatch) -> (Value, Vec<String>) {
    let mut personal = Vec::new();
    let units: Vec<_> = state
        .units()
        .filter(|u| is_dispatch(p) || crew_unit(p).is_some_and(|c| c == u.id))
        .collect();
    let incidents: Vec<_> = state
        .incidents()
        .filter(|i| i.status.is_open() || i.ended_at.is_some_and(|_| is_dispatch(p)))
        .filter(|i| may_see_incident(p, i))
        .inspect(|i| personal.push(crate::subject::incident(i.id)))
        .collect();
    let referrals: Vec<_> = state
        .referrals()
        .filter(|r| may_see_referral(p, r))
        .inspect(|r| personal.push(crate::subject::referral(r.id)))
        .collect();
    // Scheduled transports still to come (dispatch plans them; personal data).
    let transports: Vec<_> = if is_dispatch(p) {
        state
            .bookings()
            .filter(|b| b.status == satria_dispatch::BookingStatus::Scheduled)
            .inspect(|b| personal.push(crate::subject::transport(b.id)))
            .collect()
    } else {
        Vec::new()
    };
    let hospitals: Vec<_> = if matches!(
        p.role,
        Role::Dispatcher | Role::Admin | Role::Crew | Role::Hospital
    ) {
        state.hospitals().collect()
    } else {
        Vec::new()
    };
    (
        json!({
            "units": units,
            "incidents": incidents,
            "referrals": referrals,
            "hospitals": hospitals,
            "transports": transports,
        }),
        personal,
    )
}
