//! Archiving: an incident that ended long enough ago (`Config::archive_after_s`)
//! leaves the live state, with the incidents merged into it and their referrals,
//! so that what the engine holds, publishes and snapshots is the region's recent
//! work and not its years.
//!
//! The engine asks [`Dispatch::archive_due`] on its tick. Each archived incident
//! is one [`Event::IncidentArchived`] in the region stream (small: ids only) and
//! one [`ArchivedIncident`] record, the incidents and referrals as they were,
//! journaled in the same transaction as entry `archive` of the region's archive
//! stream. The state keeps only which entry holds which incident
//! ([`Dispatch::archived`]), so the API still answers for it from the store.
//!
//! The archive numbers are decided here, one after the other, so that replaying
//! the region stream rebuilds the same index the archive stream's seqs give.

use super::Dispatch;
use crate::events::Event;
use crate::ids::{IncidentId, Timestamp};
use crate::incident::{AssignmentState, Incident, IncidentStatus, TimelineEntry};
use crate::referral::{Referral, ReferralStatus};
use crate::transport::{BookingEnd, BookingStatus};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// An archived incident as its archive entry holds it: the incident, every
/// incident merged into it, and the referrals of all of them, as they were when
/// it left the live state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchivedIncident {
    /// The incident the others were merged into.
    pub incident: IncidentId,
    /// When it was archived.
    pub archived_at: Timestamp,
    /// The incident first, then those merged into it.
    pub incidents: Vec<Incident>,
    /// Their referrals, by id.
    pub referrals: Vec<Referral>,
}

impl ArchivedIncident {
    /// One of the archived incidents.
    pub fn get(&self, id: IncidentId) -> Option<&Incident> {
        self.incidents.iter().find(|i| i.id == id)
    }

    /// The history of `id` and of every incident merged into it, in time order,
    /// as [`Dispatch::timeline`] gives it for a live incident.
    pub fn timeline(&self, id: IncidentId) -> Option<Vec<TimelineEntry>> {
        self.get(id)?;
        Some(timeline_of(id, |i| self.get(i)))
    }
}

/// The history of `root` and of every incident merged into it, in time order
/// (each entry names the incident it happened to).
pub(crate) fn timeline_of<'a>(
    root: IncidentId,
    get: impl Fn(IncidentId) -> Option<&'a Incident>,
) -> Vec<TimelineEntry> {
    let mut out = Vec::new();
    let mut todo = vec![root];
    while let Some(id) = todo.pop() {
        if let Some(i) = get(id) {
            out.extend(i.history.iter().cloned());
            todo.extend(i.merged_from.iter().copied());
        }
    }
    // Stable: entries of one incident at the same millisecond keep their order.
    out.sort_by_key(|e| e.at);
    out
}

impl Dispatch {
    /// The archive entry (its seq in the archive stream) holding incident `id`,
    /// once it left the live state.
    pub fn archived(&self, id: IncidentId) -> Option<u64> {
        self.archived.get(&id).copied()
    }

    /// How many incidents were archived (merged ones included).
    pub fn archived_count(&self) -> usize {
        self.archived.len()
    }

    /// Archives at most `max` incidents that ended at least `archive_after_s`
    /// before `now` (none when it is 0): closed or cancelled, not merged into
    /// another (those go with the one they were merged into), and with no referral
    /// still waiting for its hospital. Returns each event with the record to
    /// journal beside it; the events are already applied.
    pub fn archive_due(&mut self, now: Timestamp, max: usize) -> Vec<(Event, ArchivedIncident)> {
        let after_ms = i64::from(self.config.archive_after_s) * 1000;
        if self.config.archive_after_s == 0 || max == 0 {
            return Vec::new();
        }
        let due: Vec<IncidentId> = self
            .incidents
            .values()
            .filter(|i| i.merged_into.is_none() && !i.status.is_open())
            .filter(|i| i.ended_at.is_some_and(|t| now.0 - t.0 >= after_ms))
            .map(|i| i.id)
            .collect();
        if due.is_empty() {
            return Vec::new();
        }
        let mut referrals_of: HashMap<IncidentId, Vec<&Referral>> = HashMap::new();
        for r in self.referrals.values() {
            referrals_of.entry(r.incident).or_default().push(r);
        }
        let mut decided = Vec::new();
        for root in due {
            let mut ids = vec![root];
            let mut k = 0;
            while k < ids.len() {
                if let Some(i) = self.incidents.get(&ids[k]) {
                    ids.extend(i.merged_from.iter().copied());
                }
                k += 1;
            }
            let referrals: Vec<&Referral> = ids
                .iter()
                .flat_map(|i| referrals_of.get(i).into_iter().flatten().copied())
                .collect();
            if referrals
                .iter()
                .any(|r| r.status == ReferralStatus::Pending)
            {
                continue;
            }
            let mut referrals: Vec<Referral> = referrals.into_iter().cloned().collect();
            referrals.sort_by_key(|r| r.id);
            let record = ArchivedIncident {
                incident: root,
                archived_at: now,
                incidents: ids
                    .iter()
                    .filter_map(|i| self.incidents.get(i).map(|i| (**i).clone()))
                    .collect(),
                referrals,
            };
            decided.push((ids, record));
            if decided.len() == max {
                break;
            }
        }
        let mut out = Vec::with_capacity(decided.len());
        for (ids, record) in decided {
            let e = Event::IncidentArchived {
                incident: record.incident,
                at: now,
                archive: self.next_archive,
                merged: ids[1..].to_vec(),
                referrals: record.referrals.iter().map(|r| r.id).collect(),
            };
            self.apply(&e);
            out.push((e, record));
        }
        out
    }

    /// The effect of [`Event::IncidentArchived`]: the incidents and referrals
    /// leave, the index remembers where they went, and a booking whose incident
    /// leaves keeps how it ended.
    pub(super) fn apply_archive(&mut self, e: &Event) {
        let Event::IncidentArchived {
            incident,
            archive,
            merged,
            referrals,
            ..
        } = e
        else {
            unreachable!("routed here by Dispatch::apply")
        };
        let ids: BTreeSet<IncidentId> = std::iter::once(*incident)
            .chain(merged.iter().copied())
            .collect();
        let ends: Vec<(crate::transport::BookingId, BookingEnd)> = self
            .bookings
            .values()
            .filter_map(|b| match b.status {
                BookingStatus::Dispatched { incident, .. } if ids.contains(&incident) => {
                    let i = self.incidents.get(&incident)?;
                    Some((b.id, booking_end(i)))
                }
                _ => None,
            })
            .collect();
        for (id, end) in ends {
            if let Some(b) = self.bookings.get_mut(&id) {
                Arc::make_mut(b).ended = Some(end);
            }
        }
        for id in &ids {
            if let Some(i) = self.incidents.remove(id) {
                // Only an ended incident is archived; an open one keeps its point.
                if i.status.is_open() {
                    let p = super::point(i.location, i.id.0);
                    self.open_incidents.remove(&p);
                }
            }
            self.archived.insert(*id, *archive);
        }
        for r in referrals {
            self.referrals.remove(r);
        }
        self.next_archive = self.next_archive.max(archive + 1);
    }
}

/// How a booking's incident ended.
fn booking_end(i: &Incident) -> BookingEnd {
    let last = i.history.last().map(|h| h.at).unwrap_or(i.received_at);
    BookingEnd {
        cancelled: matches!(i.status, IncidentStatus::Cancelled | IncidentStatus::Merged),
        unit: i
            .assignments
            .iter()
            .rev()
            .find(|a| a.state == AssignmentState::Completed)
            .map(|a| a.unit.clone()),
        at: i.ended_at.unwrap_or(last),
    }
}
