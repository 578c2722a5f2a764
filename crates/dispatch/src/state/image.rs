//! The state written out as data and read back: what a journal snapshot holds,
//! so that a start replays the events after it instead of the region's whole
//! history.
//!
//! An image holds exactly what replaying the journal rebuilds: the units (without
//! their live positions, which are not journaled: a replayed unit ranks from its
//! base until it reports again), the incidents, hospitals, referrals and bookings,
//! the index of archived incidents, and the next ids. The indexes (unit index, R-trees of positions and of open
//! incidents) are rebuilt from them. The configuration is not in it: like a
//! replay, a state read from an image takes the configuration it is given.

use super::Dispatch;
use crate::fleet::Unit;
use crate::hospital::Hospital;
use crate::incident::Incident;
use crate::referral::Referral;
use crate::state::{Config, point};
use crate::transport::Booking;
use imbl::OrdMap;
use rstar::RTree;
use serde::{Deserialize, Serialize, Serializer};
use std::sync::Arc;

/// The image as written: borrowed from the state, so writing one copies no incident.
#[derive(Serialize)]
struct ImageOut<'a> {
    units: Vec<Unit>,
    #[serde(serialize_with = "values")]
    incidents: &'a OrdMap<crate::IncidentId, Arc<Incident>>,
    next_incident: u64,
    hospitals: Vec<&'a Hospital>,
    #[serde(serialize_with = "values")]
    referrals: &'a OrdMap<crate::ReferralId, Arc<Referral>>,
    next_referral: u64,
    #[serde(serialize_with = "values")]
    bookings: &'a OrdMap<crate::BookingId, Arc<Booking>>,
    next_booking: u64,
    /// `[incident, archive entry]` pairs.
    #[serde(serialize_with = "pairs")]
    archived: &'a OrdMap<crate::IncidentId, u64>,
    next_archive: u64,
}

/// The image as read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageIn {
    units: Vec<Unit>,
    incidents: Vec<Incident>,
    next_incident: u64,
    hospitals: Vec<Hospital>,
    referrals: Vec<Referral>,
    next_referral: u64,
    bookings: Vec<Booking>,
    next_booking: u64,
    #[serde(default)]
    archived: Vec<(crate::IncidentId, u64)>,
    #[serde(default = "first_archive")]
    next_archive: u64,
}

fn first_archive() -> u64 {
    1
}

fn pairs<S: Serializer>(m: &OrdMap<crate::IncidentId, u64>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(m.iter())
}

fn values<K: Ord + Clone, V: Serialize, S: Serializer>(
    m: &OrdMap<K, Arc<V>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(m.values().map(|v| &**v))
}

impl Dispatch {
    /// The state as JSON, for a snapshot: what a replay of the journal up to
    /// now would rebuild (live positions are left out, as they are not journaled).
    pub fn image_json(&self) -> Vec<u8> {
        let units = self
            .units
            .iter()
            .map(|u| Unit {
                last_fix: None,
                ..u.clone()
            })
            .collect();
        let out = ImageOut {
            units,
            incidents: &self.incidents,
            next_incident: self.next_incident,
            hospitals: self.hospitals.values().collect(),
            referrals: &self.referrals,
            next_referral: self.next_referral,
            bookings: &self.bookings,
            next_booking: self.next_booking,
            archived: &self.archived,
            next_archive: self.next_archive,
        };
        serde_json::to_vec(&out).expect("the state serialises")
    }

    /// The state an image written by [`Dispatch::image_json`] holds, with
    /// `config`. Refused, saying why, when the image does not parse, repeats an
    /// id, or breaks an invariant ([`Dispatch::check_invariants`]): the caller
    /// then replays the journal instead.
    pub fn from_image_json(config: Config, bytes: &[u8]) -> Result<Dispatch, String> {
        let image: ImageIn =
            serde_json::from_slice(bytes).map_err(|e| format!("the image does not parse: {e}"))?;
        let mut d = Dispatch::new(config, Vec::new(), Vec::new());
        d.next_incident = image.next_incident;
        d.next_referral = image.next_referral;
        d.next_booking = image.next_booking;
        for mut u in image.units {
            if d.unit_index.contains_key(&u.id) {
                return Err(format!("unit {} appears twice", u.id));
            }
            u.last_fix = None;
            d.insert_unit(u);
        }
        let mut open = Vec::new();
        for i in image.incidents {
            if i.id.0 >= d.next_incident {
                return Err(format!(
                    "{} is not below the next id {}",
                    i.id, d.next_incident
                ));
            }
            if i.status.is_open() {
                open.push(point(i.location, i.id.0));
            }
            let id = i.id;
            if d.incidents.insert(id, Arc::new(i)).is_some() {
                return Err(format!("{id} appears twice"));
            }
        }
        d.open_incidents = RTree::bulk_load(open);
        for h in image.hospitals {
            let id = h.id.clone();
            if d.hospitals.insert(id.clone(), h).is_some() {
                return Err(format!("hospital {id} appears twice"));
            }
        }
        for r in image.referrals {
            if r.id.0 >= d.next_referral {
                return Err(format!(
                    "{} is not below the next id {}",
                    r.id, d.next_referral
                ));
            }
            let id = r.id;
            if d.referrals.insert(id, Arc::new(r)).is_some() {
                return Err(format!("{id} appears twice"));
            }
        }
        for b in image.bookings {
            if b.id.0 >= d.next_booking {
                return Err(format!(
                    "{} is not below the next id {}",
                    b.id, d.next_booking
                ));
            }
            let id = b.id;
            if d.bookings.insert(id, Arc::new(b)).is_some() {
                return Err(format!("{id} appears twice"));
            }
        }
        for (id, entry) in image.archived {
            if entry >= image.next_archive {
                return Err(format!(
                    "{id} is archived at {entry}, not below the next entry {}",
                    image.next_archive
                ));
            }
            if d.incidents.contains_key(&id) || d.archived.insert(id, entry).is_some() {
                return Err(format!("{id} appears twice"));
            }
        }
        d.next_archive = image.next_archive;
        d.check_invariants()?;
        Ok(d)
    }
}
