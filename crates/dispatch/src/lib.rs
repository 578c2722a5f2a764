//! The dispatch domain of PSC 119: the fleet, incidents, the recommendation of units by
//! exact drive time, assignment, acknowledgement and its timeout, status changes from
//! the crews, duplicates and merges, cancel and close.
//!
//! Invariants: pure. No async, no I/O, no clock, no threads: time is an argument
//! (`now`), drive times come through the [`DriveTimes`] trait. Every change of state is
//! an [`Event`] applied by [`Dispatch::apply`], so replaying the events rebuilds the
//! state; a rejected [`Command`] changes nothing. A unit is never on two incidents at
//! once ([`Dispatch::check_invariants`]).

pub mod model;
pub mod state;

pub use model::*;
pub use state::{
    Candidate, Command, Config, Dispatch, DriveTimes, Eta, Event, Exclusion, Rejection,
    UnitRecommendation,
};
