//! Recommendations: which units should go to an incident, and which hospital should
//! receive its patient. Read-only: a recommendation changes nothing, and costs exactly
//! one drive-time search (`many_to_one` for units, `one_to_many` for hospitals).

use crate::fleet::{Unit, UnitStatus, UnitType};
use crate::hospital::HospitalStatus;
use crate::ids::{HospitalId, IncidentId, LatLon, Timestamp, UnitId};
use crate::incident::Incident;
use crate::policy::{
    CandidateNote, HospitalExclusion, HospitalNeeds, HospitalNote, UnitExclusion, hospital_needs,
    unit_policy,
};
use crate::rejection::Rejection;
use crate::roads::DriveTimes;
use crate::state::Dispatch;
use serde::{Deserialize, Serialize};

/// A unit that can serve an incident, with its drive time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The unit.
    pub unit: UnitId,
    /// Its call sign.
    pub call_sign: String,
    /// Its type.
    pub unit_type: UnitType,
    /// Drive time to the incident.
    pub eta_s: u32,
    /// Road distance to the incident.
    pub distance_m: u32,
    /// Ranked from its base because the live position is stale or missing.
    pub from_base: bool,
    /// Can carry the patient (not a motorbike).
    pub can_transport: bool,
    /// Remarks (stale position, first responder only, preferred equipment).
    pub notes: Vec<CandidateNote>,
}

/// A unit left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExcludedUnit {
    /// The unit.
    pub unit: UnitId,
    /// Why.
    pub reason: UnitExclusion,
}

/// The answer to "which unit should go?". Empty `candidates` = no unit available: an
/// outcome to show, not an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitRecommendation {
    /// The incident.
    pub incident: IncidentId,
    /// Server time of the recommendation (positions age).
    pub at: Timestamp,
    /// Best first: by drive time, with the preferred capability worth
    /// `Config::preference_margin_s`.
    pub candidates: Vec<Candidate>,
    /// Every other unit with its reason, by unit id.
    pub excluded: Vec<ExcludedUnit>,
    /// Information call: no unit is needed.
    pub no_unit_needed: bool,
}

/// A hospital that can receive the patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HospitalOption {
    /// The hospital.
    pub hospital: HospitalId,
    /// Its name.
    pub name: String,
    /// Drive time from the incident.
    pub eta_s: u32,
    /// Road distance from the incident.
    pub distance_m: u32,
    /// Free IGD beds last reported.
    pub free_igd_beds: Option<u32>,
    /// Free ICU beds last reported.
    pub free_icu_beds: Option<u32>,
    /// Open or full (diversion is excluded).
    pub status: HospitalStatus,
    /// When the capacity was last reported (show its age).
    pub capacity_updated_at: Option<Timestamp>,
    /// Remarks that explain the rank.
    pub notes: Vec<HospitalNote>,
}

/// A hospital left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExcludedHospital {
    /// The hospital.
    pub hospital: HospitalId,
    /// Why.
    pub reason: HospitalExclusion,
}

/// The answer to "where should the patient go?". Empty `ranked` = nowhere to go: an
/// outcome for the dispatcher.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HospitalRecommendation {
    /// The incident.
    pub incident: IncidentId,
    /// Server time.
    pub at: Timestamp,
    /// What the patient needs (from the policy table).
    pub needs: HospitalNeeds,
    /// Best first: reported room, then unknown capacity, then no room (full or no free
    /// IGD bed); among equals fewer missing preferences, a free ICU bed when merah,
    /// then drive time.
    pub ranked: Vec<HospitalOption>,
    /// The others, with their reasons.
    pub excluded: Vec<ExcludedHospital>,
}

impl Dispatch {
    /// Ranks the available units that may serve the incident by exact drive time from
    /// their live position (one `many_to_one` for all) and says why the others are out.
    pub fn recommend_units(
        &self,
        now: Timestamp,
        incident: IncidentId,
        roads: &dyn DriveTimes,
    ) -> Result<UnitRecommendation, Rejection> {
        let i = self
            .incident(incident)
            .ok_or(Rejection::UnknownIncident { incident })?;
        Ok(self.recommend_units_for(now, i, roads))
    }

    /// The position a unit is ranked from: the live one while fresh, else its base.
    pub(crate) fn ranking_position(
        &self,
        u: &Unit,
        now: Timestamp,
    ) -> (LatLon, Option<CandidateNote>) {
        let stale_ms = i64::from(self.config().stale_position_s) * 1000;
        match u.last_fix {
            Some(f) if now.0 - f.received.0 <= stale_ms => (f.at, None),
            Some(_) => (u.base, Some(CandidateNote::PositionStaleRankedFromBase)),
            None => (u.base, Some(CandidateNote::NoPositionRankedFromBase)),
        }
    }

    pub(crate) fn recommend_units_for(
        &self,
        now: Timestamp,
        i: &Incident,
        roads: &dyn DriveTimes,
    ) -> UnitRecommendation {
        let policy = unit_policy(i.triage, i.category);
        let no_unit_needed = policy.types.is_empty();
        let mut excluded = Vec::new();
        let mut eligible: Vec<(&Unit, LatLon, Option<CandidateNote>)> = Vec::new();
        for u in self.units() {
            let reason = if u.status == UnitStatus::OutOfService {
                Some(UnitExclusion::OutOfService)
            } else if u.status != UnitStatus::Available {
                Some(UnitExclusion::Busy)
            } else if no_unit_needed {
                Some(UnitExclusion::NoUnitNeeded)
            } else if !policy.types.contains(&u.unit_type) {
                Some(UnitExclusion::WrongType)
            } else if i.ever_assigned(&u.id) {
                Some(UnitExclusion::AlreadyTried)
            } else {
                None
            };
            match reason {
                Some(reason) => excluded.push(ExcludedUnit {
                    unit: u.id.clone(),
                    reason,
                }),
                None => {
                    let (p, note) = self.ranking_position(u, now);
                    eligible.push((u, p, note));
                }
            }
        }
        // One search for every candidate: the road graph answers many-to-one in the
        // time of a single query, so ranking is by exact drive time, not by distance.
        let origins: Vec<LatLon> = eligible.iter().map(|e| e.1).collect();
        let etas = if origins.is_empty() {
            Vec::new()
        } else {
            roads.many_to_one(&origins, i.location)
        };
        let margin = self.config().preference_margin_s;
        let mut ranked: Vec<(u32, Candidate)> = Vec::new();
        for (k, (u, _, note)) in eligible.into_iter().enumerate() {
            let Some(e) = etas.get(k).copied().flatten() else {
                excluded.push(ExcludedUnit {
                    unit: u.id.clone(),
                    reason: UnitExclusion::Unreachable,
                });
                continue;
            };
            let mut notes: Vec<CandidateNote> = note.into_iter().collect();
            if !u.unit_type.can_transport() {
                notes.push(CandidateNote::FirstResponderOnly);
            }
            let preferred = policy
                .preferred_capability
                .is_some_and(|c| u.has_capability(c));
            if preferred {
                notes.push(CandidateNote::PreferredCapability);
            }
            // A unit lacking the preferred equipment must be `margin` seconds faster
            // to rank ahead of one that has it.
            let penalty = if policy.preferred_capability.is_some() && !preferred {
                margin
            } else {
                0
            };
            ranked.push((
                e.eta_s.saturating_add(penalty),
                Candidate {
                    unit: u.id.clone(),
                    call_sign: u.call_sign.clone(),
                    unit_type: u.unit_type,
                    eta_s: e.eta_s,
                    distance_m: e.distance_m,
                    from_base: note.is_some(),
                    can_transport: u.unit_type.can_transport(),
                    notes,
                },
            ));
        }
        ranked.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.unit.cmp(&b.1.unit)));
        excluded.sort_by(|a, b| a.unit.cmp(&b.unit));
        UnitRecommendation {
            incident: i.id,
            at: now,
            candidates: ranked.into_iter().map(|r| r.1).collect(),
            excluded,
            no_unit_needed,
        }
    }

    /// Ranks the destination hospitals for the incident's patient by capability match,
    /// diversion, free beds and drive time from the incident (one `one_to_many`), with
    /// the reasons per hospital.
    pub fn recommend_hospitals(
        &self,
        now: Timestamp,
        incident: IncidentId,
        roads: &dyn DriveTimes,
    ) -> Result<HospitalRecommendation, Rejection> {
        let i = self
            .incident(incident)
            .ok_or(Rejection::UnknownIncident { incident })?;
        Ok(self.recommend_hospitals_for(now, i, roads))
    }

    pub(crate) fn recommend_hospitals_for(
        &self,
        now: Timestamp,
        i: &Incident,
        roads: &dyn DriveTimes,
    ) -> HospitalRecommendation {
        let needs = hospital_needs(i.triage, i.category);
        let mut excluded = Vec::new();
        let mut eligible = Vec::new();
        // Hospitals that declined or did not answer for this incident are not tried
        // again by escalation (they stay visible, with the reason).
        let tried: Vec<&HospitalId> = self
            .referrals()
            .filter(|r| r.incident == i.id && !r.status.is_live())
            .map(|r| &r.to)
            .collect();
        for h in self.hospitals() {
            let reason = if needs.none {
                None
            } else if h.capacity.status == HospitalStatus::Diversion {
                Some(HospitalExclusion::Diversion)
            } else if let Some(c) = needs.required.iter().find(|c| !h.has(**c)) {
                Some(HospitalExclusion::Lacks(*c))
            } else if tried.contains(&&h.id) {
                Some(HospitalExclusion::AlreadyTried)
            } else {
                None
            };
            match reason {
                Some(reason) => excluded.push(ExcludedHospital {
                    hospital: h.id.clone(),
                    reason,
                }),
                None if needs.none => {}
                None => eligible.push(h),
            }
        }
        let targets: Vec<LatLon> = eligible.iter().map(|h| h.position).collect();
        let etas = if targets.is_empty() {
            Vec::new()
        } else {
            roads.one_to_many(i.location, &targets)
        };
        let mut ranked: Vec<((u8, usize, bool, u32), HospitalOption)> = Vec::new();
        for (k, h) in eligible.into_iter().enumerate() {
            let Some(e) = etas.get(k).copied().flatten() else {
                excluded.push(ExcludedHospital {
                    hospital: h.id.clone(),
                    reason: HospitalExclusion::Unreachable,
                });
                continue;
            };
            let c = &h.capacity;
            let mut notes = Vec::new();
            let full = c.status == HospitalStatus::Full;
            if full {
                notes.push(HospitalNote::Full);
            }
            let no_igd = c.free_igd_beds == Some(0);
            if no_igd {
                notes.push(HospitalNote::NoFreeIgdBed);
            }
            let no_icu = needs.icu_bed
                && h.has(crate::hospital::Capability::Icu)
                && c.free_icu_beds == Some(0);
            if no_icu {
                notes.push(HospitalNote::NoFreeIcuBed);
            }
            let unknown = c.updated_at.is_none();
            if unknown {
                notes.push(HospitalNote::CapacityUnknown);
            }
            // Said it has room, before never said, before said it has none.
            let room = if full || no_igd {
                2
            } else if unknown {
                1
            } else {
                0
            };
            let mut missing = 0;
            for p in needs.preferred.iter().filter(|p| !h.has(**p)) {
                missing += 1;
                notes.push(HospitalNote::LacksPreferred(*p));
            }
            ranked.push((
                (room, missing, no_icu, e.eta_s),
                HospitalOption {
                    hospital: h.id.clone(),
                    name: h.name.clone(),
                    eta_s: e.eta_s,
                    distance_m: e.distance_m,
                    free_igd_beds: c.free_igd_beds,
                    free_icu_beds: c.free_icu_beds,
                    status: c.status,
                    capacity_updated_at: c.updated_at,
                    notes,
                },
            ));
        }
        ranked.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.hospital.cmp(&b.1.hospital)));
        HospitalRecommendation {
            incident: i.id,
            at: now,
            needs,
            ranked: ranked.into_iter().map(|r| r.1).collect(),
            excluded,
        }
    }
}
