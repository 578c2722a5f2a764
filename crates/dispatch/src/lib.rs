//! The dispatch domain of PSC 119 Banyumas: the fleet, incidents, the recommendation
//! of units by exact drive time, assignment and acknowledgement, unit statuses,
//! duplicates and merges, hospitals and their live capacity, and referrals in the shape
//! of SISRUTE with escalation on deadline.
//!
//! Invariants: pure. No async, no I/O, no clock, no threads: time is an argument
//! (`now`), drive times come through the [`DriveTimes`] trait. Every change of state is
//! an [`Event`] applied by [`Dispatch::apply`], so replaying the events rebuilds the
//! state; a rejected [`Command`] changes nothing; a unit is never on two incidents at
//! once ([`Dispatch::check_invariants`]).
//!
//! Modules: [`ids`] (time, typed ids, positions), [`fleet`], [`incident`], [`hospital`],
//! [`referral`], [`policy`] (the tables of who may serve what), [`commands`],
//! [`events`], [`rejection`], [`recommend`], [`state`] (the decision and the apply),
//! [`roads`] (the drive-time interface), [`transport`] (scheduled non-emergency
//! transports, lowest priority), [`validate`] (every check of a command's values and
//! the limits, in one place, first in every decision).

pub mod commands;
pub mod events;
pub mod fleet;
pub mod hospital;
pub mod ids;
pub mod incident;
pub mod policy;
pub mod recommend;
pub mod referral;
pub mod rejection;
pub mod roads;
pub mod state;
pub mod transport;
pub mod validate;

pub use commands::Command;
pub use events::Event;
pub use fleet::{
    DEMO_FLEET_CSV, Fix, FleetError, Owner, Unit, UnitStatus, UnitType, demo_fleet, parse_fleet_csv,
};
pub use hospital::{
    Capability, Capacity, Hospital, HospitalFileError, HospitalStatus, demo_hospitals,
    hospitals_from_region,
};
pub use ids::{HospitalId, IncidentId, LatLon, ReferralId, Timestamp, UnitId};
pub use incident::{
    Address, Assignment, AssignmentState, Category, Incident, IncidentStatus, TimelineEntry, Triage,
};
pub use policy::{
    CandidateNote, HospitalExclusion, HospitalNeeds, HospitalNote, UnitExclusion, UnitPolicy,
    hospital_needs, unit_policy,
};
pub use recommend::{
    Candidate, ExcludedHospital, ExcludedUnit, HospitalOption, HospitalRecommendation,
    UnitRecommendation,
};
pub use referral::{
    Consciousness, GeneralCondition, PatientData, PreArrival, Referral, ReferralForm,
    ReferralStatus, ReferralType, Sex,
};
pub use rejection::Rejection;
pub use roads::{DriveTimes, Eta, StraightLine};
pub use state::{ArchivedIncident, Config, Dispatch};
pub use transport::{Booking, BookingEnd, BookingId, BookingStatus};
pub use validate::ServiceArea;
