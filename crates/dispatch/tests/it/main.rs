//! The dispatch integration tests, one binary (each test binary links every
//! dependency once, so fewer binaries build faster on CI's two cores).
//!
//! The `scenarios_*` modules are data-driven scenarios of the dispatch lifecycle,
//! one theme each. Each case is a list of timed steps and the event kinds each step
//! must give (` | ` between steps, `rejected:<code>` for a refused command), on a
//! hand-held clock. After every step `Run` checks the invariants, that a rejection
//! changed nothing, and that replaying the journal through JSON rebuilds the same
//! state. `property` runs random command sequences under the same checks;
//! `transport` covers scheduled non-emergency transports; `archive` the
//! incidents that leave the live state. The shared fixtures are
//! in `common`.

mod common;

mod archive;
mod image;
mod property;
mod scenarios_assignment;
mod scenarios_duplicates;
mod scenarios_hospitals;
mod scenarios_lifecycle;
mod scenarios_referrals;
mod scenarios_rejections;
mod scenarios_units;
mod transport;
