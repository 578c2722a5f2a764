//! The dispatch state of one region: `handle` decides, `apply` changes.
//!
//! This module holds the state (`Dispatch`, its `Config`), the read-only queries, the
//! lookups every rule shares (`incident_ref`, `unit_ref`, `open_incident`,
//! `incidents_mut`, `log`), and `decide` and `apply` as routers. Each command's rule
//! and each event's effect sit side by side in the module of their aggregate:
//! `fleet` (units, positions, statuses, out of service), `incidents` (create, update,
//! duplicates, merge, cancel, close), `assignment` (assign, acknowledge, decline,
//! cancel, reassign, timeouts, the next unit), `hospitals` (capacity), `referrals`
//! (send, answer, cancel, pre-arrival, handover, expiry and escalation), `transports`
//! (bookings and their scheduling), and `invariants` (`check_invariants`).
//!
//! A new command: its rule goes into its aggregate's `decide_*` and the effect of
//! each new event into the same module's `apply_*`; then name the variant in that
//! aggregate's arm of `decide` (and of `apply`) here. Both routers match every
//! variant, so the compiler points at them; an aggregate's own match ends in
//! `unreachable!` for the variants the router sends elsewhere.
//!
//! `handle(now, command, roads)` validates a command against the state and decides the
//! events it causes without touching the state; only then are the events applied. So a
//! rejected command changes nothing, and because `apply` is the only code that mutates
//! the state, replaying the journal of events into a fresh state (built by `new` from
//! the same fleet and hospitals) rebuilds it exactly.
//!
//! Why a unit can never be on two incidents: every assignment event is decided against
//! the current state (the unit must be available) and the single owner of the state
//! (the engine's actor) applies them one command at a time. `check_invariants` states
//! it and the property test checks it after every command.

mod archive;
mod assignment;
mod fleet;
mod hospitals;
mod image;
mod incidents;
mod invariants;
mod referrals;
mod transports;

pub use archive::ArchivedIncident;

use crate::commands::Command;
use crate::events::Event;
use crate::fleet::Unit;
use crate::hospital::Hospital;
use crate::ids::{HospitalId, IncidentId, LatLon, ReferralId, Timestamp, UnitId, distance_m};
use crate::incident::{AssignmentState, Incident, TimelineEntry};
use crate::referral::{Referral, ReferralStatus};
use crate::rejection::Rejection;
use crate::roads::DriveTimes;
use crate::transport::{Booking, BookingId, BookingStatus};
use crate::validate::ServiceArea;
use imbl::OrdMap;
use rstar::RTree;
use rstar::primitives::GeomWithData;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Tunables of the dispatch policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Time a crew has to acknowledge an assignment (default 60 s).
    pub ack_timeout_s: u32,
    /// A live position older than this is stale: the unit is ranked from its base.
    pub stale_position_s: u32,
    /// A new incident this close to an open one (default 300 m) ...
    pub duplicate_radius_m: f64,
    /// ... received this soon after it (default 15 min) is flagged as a possible duplicate.
    pub duplicate_window_s: u32,
    /// Assign the best unit to a merah incident as soon as it is created (default on).
    pub auto_assign_merah: bool,
    /// A unit without the preferred equipment must be this much faster to rank first.
    pub preference_margin_s: u32,
    /// Time a hospital has to answer a referral before it escalates (default 5 min).
    pub referral_deadline_s: u32,
    /// How many candidates a `NextUnitProposed` event carries.
    pub proposals: usize,
    /// A scheduled transport becomes an incident this long before pickup
    /// (default 45 min).
    pub transport_lead_s: u32,
    /// A scheduled transport may take a BLS ambulance only while at least this
    /// many other ambulances able to answer a merah call stay available
    /// (default 2).
    pub transport_reserve: usize,
    /// How far ahead a transport may be booked (default 30 days).
    pub transport_horizon_s: u32,
    /// How far a phone's clock may run ahead of the server's (default 60 s): a
    /// device time later than now plus this, or earlier than what it answers
    /// minus this, is refused. Set from the configuration's
    /// `server.max_clock_skew_s` (one key for every door), so not read here.
    #[serde(skip)]
    pub clock_skew_s: u32,
    /// The region's box (`satria serve` sets it from the road graph's bounds, or
    /// the region's facts without a graph); `None` accepts any position on Earth.
    pub service_area: Option<ServiceArea>,
    /// How far outside the box a position is still served (default 10 km).
    pub service_margin_m: f64,
    /// An incident that ended this long ago leaves the live state for the
    /// region's archive stream, where the API still reads it (default 24 h;
    /// 0 keeps every incident live).
    pub archive_after_s: u32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            ack_timeout_s: 60,
            stale_position_s: 120,
            duplicate_radius_m: 300.0,
            duplicate_window_s: 15 * 60,
            auto_assign_merah: true,
            preference_margin_s: 180,
            referral_deadline_s: 5 * 60,
            proposals: 3,
            transport_lead_s: 45 * 60,
            transport_reserve: 2,
            transport_horizon_s: 30 * 24 * 3600,
            clock_skew_s: 60,
            service_area: None,
            service_margin_m: crate::validate::DEFAULT_SERVICE_MARGIN_M,
            archive_after_s: 24 * 3600,
        }
    }
}

type Point<T> = GeomWithData<[f64; 2], T>;

fn point<T>(p: LatLon, data: T) -> Point<T> {
    // rstar points are [x, y] = [lon, lat].
    GeomWithData::new([p.lon, p.lat], data)
}

/// The whole dispatch state of one region.
#[derive(Debug, Clone)]
pub struct Dispatch {
    config: Config,
    /// In registration order (dense index = position in this vector).
    units: Vec<Unit>,
    unit_index: HashMap<UnitId, u32>,
    /// Live positions by dense unit index. A dense `u32` rather than the `UnitId`
    /// keeps a position update free of allocation: removing the old point needs an
    /// equal key, and comparing a `u32` is free.
    positions: RTree<Point<u32>>,
    /// Incidents, referrals and bookings grow with history, so they are
    /// persistent maps (`imbl::OrdMap`, a B+tree whose nodes are shared) of
    /// `Arc`s: the copy of the state published after every change costs O(1)
    /// for them, whatever the years hold, and a change copies one record
    /// (`Arc::make_mut`) and the O(log n) nodes above it, never the map.
    incidents: OrdMap<IncidentId, Arc<Incident>>,
    /// Open incidents by position, for the duplicate check.
    open_incidents: RTree<Point<u64>>,
    next_incident: u64,
    hospitals: BTreeMap<HospitalId, Hospital>,
    referrals: OrdMap<ReferralId, Arc<Referral>>,
    next_referral: u64,
    bookings: OrdMap<BookingId, Arc<Booking>>,
    next_booking: u64,
    /// Archived incidents (merged ones too) by the archive entry holding them.
    archived: OrdMap<IncidentId, u64>,
    next_archive: u64,
}

impl PartialEq for Dispatch {
    /// Equal content; the R-trees are compared as sets of points since their inner
    /// shape may depend on history.
    fn eq(&self, o: &Dispatch) -> bool {
        fn pts<T: Clone + Ord>(t: &RTree<Point<T>>) -> Vec<(T, u64, u64)> {
            let mut v: Vec<_> = t
                .iter()
                .map(|g| (g.data.clone(), g.geom()[0].to_bits(), g.geom()[1].to_bits()))
                .collect();
            v.sort();
            v
        }
        self.config == o.config
            && self.units == o.units
            && self.unit_index == o.unit_index
            && pts(&self.positions) == pts(&o.positions)
            && self.incidents == o.incidents
            && pts(&self.open_incidents) == pts(&o.open_incidents)
            && self.next_incident == o.next_incident
            && self.hospitals == o.hospitals
            && self.referrals == o.referrals
            && self.next_referral == o.next_referral
            && self.bookings == o.bookings
            && self.next_booking == o.next_booking
            && self.archived == o.archived
            && self.next_archive == o.next_archive
    }
}

impl Dispatch {
    /// A region's state with its fleet and hospitals and no incident. Units keep the
    /// status they are given; a duplicate unit id keeps the first unit.
    pub fn new(config: Config, units: Vec<Unit>, hospitals: Vec<Hospital>) -> Dispatch {
        let mut d = Dispatch {
            config,
            units: Vec::new(),
            unit_index: HashMap::new(),
            positions: RTree::new(),
            incidents: OrdMap::new(),
            open_incidents: RTree::new(),
            next_incident: 1,
            hospitals: hospitals.into_iter().map(|h| (h.id.clone(), h)).collect(),
            referrals: OrdMap::new(),
            next_referral: 1,
            bookings: OrdMap::new(),
            next_booking: 1,
            archived: OrdMap::new(),
            next_archive: 1,
        };
        for u in units {
            if !d.unit_index.contains_key(&u.id) {
                d.insert_unit(u);
            }
        }
        d
    }

    // ----- read accessors -----

    /// The policy tunables.
    pub fn config(&self) -> &Config {
        &self.config
    }
    /// All units, in registration order.
    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.units.iter()
    }
    /// One unit.
    pub fn unit(&self, id: &UnitId) -> Option<&Unit> {
        self.unit_index.get(id).map(|k| &self.units[*k as usize])
    }
    /// All incidents, by id.
    pub fn incidents(&self) -> impl Iterator<Item = &Incident> {
        self.incidents.values().map(|i| &**i)
    }
    /// One incident.
    pub fn incident(&self, id: IncidentId) -> Option<&Incident> {
        self.incidents.get(&id).map(|i| &**i)
    }
    /// All hospitals, by code.
    pub fn hospitals(&self) -> impl Iterator<Item = &Hospital> {
        self.hospitals.values()
    }
    /// One hospital.
    pub fn hospital(&self, id: &HospitalId) -> Option<&Hospital> {
        self.hospitals.get(id)
    }
    /// All referrals, by id.
    pub fn referrals(&self) -> impl Iterator<Item = &Referral> {
        self.referrals.values().map(|r| &**r)
    }
    /// Every booked transport (Pattas and other scheduled transfers).
    pub fn bookings(&self) -> impl Iterator<Item = &Booking> {
        self.bookings.values().map(|b| &**b)
    }

    /// One booked transport.
    pub fn booking(&self, id: BookingId) -> Option<&Booking> {
        self.bookings.get(&id).map(|b| &**b)
    }

    /// One referral.
    pub fn referral(&self, id: ReferralId) -> Option<&Referral> {
        self.referrals.get(&id).map(|r| &**r)
    }

    /// The history of an incident and of every incident merged into it, in time order
    /// (each entry names the incident it happened to).
    pub fn timeline(&self, incident: IncidentId) -> Result<Vec<TimelineEntry>, Rejection> {
        self.incident_ref(incident)?;
        Ok(archive::timeline_of(incident, |id| self.incident(id)))
    }

    /// Units whose last live position lies within `radius_m` of `p` (from the R-tree),
    /// nearest first.
    pub fn units_near(&self, p: LatLon, radius_m: f64) -> Vec<&Unit> {
        let dlat = radius_m / 111_195.0;
        let dlon = dlat / p.lat.to_radians().cos().max(1e-6);
        let env =
            rstar::AABB::from_corners([p.lon - dlon, p.lat - dlat], [p.lon + dlon, p.lat + dlat]);
        let mut v: Vec<(f64, &Unit)> = self
            .positions
            .locate_in_envelope(&env)
            .map(|g| {
                let at = LatLon {
                    lat: g.geom()[1],
                    lon: g.geom()[0],
                };
                (distance_m(at, p), &self.units[g.data as usize])
            })
            .filter(|(d, _)| *d <= radius_m)
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
        v.into_iter().map(|x| x.1).collect()
    }

    /// The open incidents in id order, from the R-tree that holds exactly them
    /// (`check_invariants`): what the ticker scans costs the open calls, not the
    /// years of closed ones.
    fn open_incidents_by_id(&self) -> impl Iterator<Item = &Incident> {
        let mut ids: Vec<IncidentId> = self
            .open_incidents
            .iter()
            .map(|g| IncidentId(g.data))
            .collect();
        ids.sort_unstable();
        ids.into_iter().filter_map(|id| self.incident(id))
    }

    /// An incident to change, copied first if a published state still shares it.
    fn incidents_mut(&mut self, id: &IncidentId) -> Option<&mut Incident> {
        self.incidents.get_mut(id).map(Arc::make_mut)
    }

    fn incident_ref(&self, id: IncidentId) -> Result<&Incident, Rejection> {
        self.incident(id)
            .ok_or(Rejection::UnknownIncident { incident: id })
    }
    fn unit_ref(&self, id: &UnitId) -> Result<&Unit, Rejection> {
        self.unit(id)
            .ok_or_else(|| Rejection::UnknownUnit { unit: id.clone() })
    }
    fn open_incident(&self, id: IncidentId) -> Result<&Incident, Rejection> {
        let i = self.incident_ref(id)?;
        if !i.status.is_open() {
            return Err(Rejection::IncidentNotOpen {
                incident: id,
                status: i.status,
            });
        }
        Ok(i)
    }

    // ----- commands -----

    /// Validates `cmd`; on `Ok` its events have already been applied, on `Err` the
    /// state is unchanged.
    pub fn handle(
        &mut self,
        now: Timestamp,
        cmd: Command,
        roads: &dyn DriveTimes,
    ) -> Result<Vec<Event>, Rejection> {
        let events = self.decide(now, cmd, roads)?;
        for e in &events {
            self.apply(e);
        }
        Ok(events)
    }

    /// The events `cmd` causes, without changing anything.
    fn decide(
        &self,
        now: Timestamp,
        cmd: Command,
        roads: &dyn DriveTimes,
    ) -> Result<Vec<Event>, Rejection> {
        self.validate(now, &cmd)?;
        match cmd {
            Command::UpdatePosition { .. }
            | Command::RegisterUnit { .. }
            | Command::ReportStatus { .. }
            | Command::SetOutOfService { .. }
            | Command::ReturnToService { .. } => self.decide_fleet(now, cmd),
            Command::CreateIncident { .. }
            | Command::UpdateIncident { .. }
            | Command::MergeIncidents { .. }
            | Command::CancelIncident { .. }
            | Command::CloseIncident { .. } => self.decide_incidents(now, cmd, roads),
            Command::AssignUnits { .. }
            | Command::AcknowledgeAssignment { .. }
            | Command::DeclineAssignment { .. }
            | Command::CancelAssignment { .. }
            | Command::ReassignUnit { .. } => self.decide_assignment(now, cmd, roads),
            Command::UpdateHospitalCapacity { .. } => self.decide_hospitals(now, cmd),
            Command::SendReferral { .. }
            | Command::AcceptReferral { .. }
            | Command::DeclineReferral { .. }
            | Command::CancelReferral { .. }
            | Command::SendPreArrivalNotice { .. } => self.decide_referrals(now, cmd, roads),
            Command::BookTransport { .. } | Command::CancelTransport { .. } => {
                self.decide_transports(now, cmd, roads)
            }
        }
    }

    // ----- time -----

    /// Timeouts and escalations due at `now`: unacknowledged assignments time out (the
    /// unit is freed, the next unit proposed); unanswered referrals expire and escalate
    /// to the next recommended hospital (or `ReferralEscalationFailed`). The returned
    /// events are already applied.
    pub fn tick(&mut self, now: Timestamp, roads: &dyn DriveTimes) -> Vec<Event> {
        let mut events = self.schedule_transports(now, roads);
        self.time_out_assignments(now, roads, &mut events);
        self.expire_referrals(now, roads, &mut events);
        events
    }

    /// The earliest pending acknowledgement deadline, referral deadline or transport
    /// due time, so the engine knows when to call [`Dispatch::tick`].
    pub fn next_deadline(&self) -> Option<Timestamp> {
        let acks = self
            .open_incidents_by_id()
            .flat_map(|i| i.assignments.iter())
            .filter(|a| a.state == AssignmentState::Pending)
            .map(|a| a.ack_deadline);
        let refs = self
            .referrals
            .values()
            .filter(|r| r.status == ReferralStatus::Pending)
            .map(|r| r.deadline);
        // A booking comes due at its lead time; a dispatched one still without a
        // unit is due at once (it is retried at every tick until one may go).
        let transports = self.bookings.values().filter_map(|b| match b.status {
            BookingStatus::Scheduled => Some(self.transport_due_at(b)),
            BookingStatus::Dispatched { incident, at } => self
                .incident(incident)
                .is_some_and(|i| i.status.is_open() && i.active_units().next().is_none())
                .then_some(at),
            BookingStatus::Cancelled { .. } => None,
        });
        acks.chain(refs).chain(transports).min()
    }

    // ----- events -----

    /// Applies one event: the only place the state changes. Events come from
    /// [`Dispatch::handle`], [`Dispatch::tick`], or the journal on replay; an event
    /// naming something unknown is ignored (it cannot come from this state).
    pub fn apply(&mut self, e: &Event) {
        match e {
            Event::UnitMoved { .. }
            | Event::UnitRegistered { .. }
            | Event::UnitStatusChanged { .. }
            | Event::UnitOutOfService { .. }
            | Event::UnitBackInService { .. } => self.apply_fleet(e),
            Event::IncidentCreated { .. }
            | Event::IncidentUpdated { .. }
            | Event::IncidentMerged { .. }
            | Event::IncidentCancelled { .. }
            | Event::IncidentClosed { .. } => self.apply_incidents(e),
            Event::IncidentArchived { .. } => self.apply_archive(e),
            Event::UnitAssigned { .. }
            | Event::AssignmentAcknowledged { .. }
            | Event::AssignmentDeclined { .. }
            | Event::AssignmentTimedOut { .. }
            | Event::AssignmentCancelled { .. }
            | Event::AssignmentCompleted { .. }
            | Event::NextUnitProposed { .. } => self.apply_assignment(e),
            Event::HospitalCapacityUpdated { .. } => self.apply_hospitals(e),
            Event::ReferralSent { .. }
            | Event::ReferralAccepted { .. }
            | Event::ReferralDeclined { .. }
            | Event::ReferralExpired { .. }
            | Event::ReferralCancelled { .. }
            | Event::ReferralEscalationFailed { .. }
            | Event::PreArrivalNoticeSent { .. }
            | Event::HandoverRecorded { .. } => self.apply_referrals(e),
            Event::TransportBooked { .. }
            | Event::TransportDispatched { .. }
            | Event::TransportCancelled { .. } => self.apply_transports(e),
        }
    }

    fn log(
        &mut self,
        incident: IncidentId,
        at: Timestamp,
        e: &Event,
        unit: Option<&UnitId>,
        detail: String,
    ) {
        if let Some(i) = self.incidents_mut(&incident) {
            i.history.push(TimelineEntry {
                at,
                incident,
                kind: e.kind().to_string(),
                unit: unit.cloned(),
                detail,
            });
        }
    }
}
