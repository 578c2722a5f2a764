//! Referrals in the SISRUTE shape: sending, the hospital's answer, cancellation,
//! the pre-arrival notice, the handover, and expiry with escalation to the next
//! hospital. A referral's number is its id's display (`referral_number`).

use super::Dispatch;
use crate::commands::Command;
use crate::events::Event;
use crate::ids::{IncidentId, ReferralId, Timestamp};
use crate::referral::{Referral, ReferralStatus};
use crate::rejection::Rejection;
use crate::roads::DriveTimes;
use std::sync::Arc;

fn referral_state(s: &ReferralStatus) -> String {
    match s {
        ReferralStatus::Pending => "pending",
        ReferralStatus::Accepted => "accepted",
        ReferralStatus::Declined { .. } => "declined",
        ReferralStatus::Expired => "expired",
        ReferralStatus::Cancelled { .. } => "cancelled",
        ReferralStatus::HandedOver => "handed_over",
    }
    .to_string()
}

impl Dispatch {
    /// The events of a referral command, routed here by `Dispatch::decide`
    /// after validation, without changing anything.
    pub(super) fn decide_referrals(
        &self,
        now: Timestamp,
        cmd: Command,
        roads: &dyn DriveTimes,
    ) -> Result<Vec<Event>, Rejection> {
        match cmd {
            Command::SendReferral {
                incident,
                to,
                unit,
                form,
                patient,
            } => {
                self.open_incident(incident)?;
                if !self.hospitals.contains_key(&to) {
                    return Err(Rejection::UnknownHospital { hospital: to });
                }
                if let Some(u) = &unit {
                    let un = self.unit_ref(u)?;
                    if un.incident != Some(incident) {
                        return Err(Rejection::NotAssigned {
                            unit: u.clone(),
                            incident,
                        });
                    }
                }
                if self
                    .referrals
                    .values()
                    .any(|r| r.incident == incident && r.to == to && r.status.is_live())
                {
                    return Err(Rejection::AlreadyReferred {
                        incident,
                        hospital: to,
                    });
                }
                let id = ReferralId(self.next_referral);
                let triage = self.incidents.get(&incident).map(|i| i.triage);
                let unit_call_sign = unit
                    .as_ref()
                    .and_then(|u| self.unit(u))
                    .map(|u| u.call_sign.clone());
                Ok(vec![Event::ReferralSent {
                    referral: Box::new(Referral {
                        id,
                        number: referral_number(id),
                        triage,
                        unit_call_sign,
                        incident,
                        to,
                        unit,
                        form,
                        patient,
                        status: ReferralStatus::Pending,
                        sent_at: now,
                        deadline: now.plus_s(self.config.referral_deadline_s),
                        answered_at: None,
                        escalated_from: None,
                        pre_arrival: None,
                        handover_at: None,
                        handover_device_at: None,
                    }),
                }])
            }
            Command::AcceptReferral { referral, officer } => {
                self.pending_referral(referral)?;
                Ok(vec![Event::ReferralAccepted {
                    referral,
                    at: now,
                    officer,
                }])
            }
            Command::DeclineReferral { referral, reason } => {
                self.pending_referral(referral)?;
                Ok(vec![Event::ReferralDeclined {
                    referral,
                    at: now,
                    reason,
                }])
            }
            Command::CancelReferral { referral, reason } => {
                let r = self.referral_ref(referral)?;
                if !r.status.is_live() {
                    return Err(Rejection::ReferralClosed {
                        referral,
                        state: referral_state(&r.status),
                    });
                }
                Ok(vec![Event::ReferralCancelled {
                    referral,
                    at: now,
                    reason,
                }])
            }
            Command::SendPreArrivalNotice { referral } => {
                let r = self.referral_ref(referral)?;
                if r.status != ReferralStatus::Accepted {
                    return Err(Rejection::ReferralNotAccepted { referral });
                }
                let h = &self.hospitals[&r.to];
                // From the carrying unit's live position (its base if stale), else from
                // the incident: the patient is still there.
                let from = match r.unit.as_ref().and_then(|u| self.unit(u)) {
                    Some(u) => self.ranking_position(u, now).0,
                    None => self.incidents[&r.incident].location,
                };
                let eta = roads
                    .one_to_many(from, &[h.position])
                    .first()
                    .copied()
                    .flatten();
                Ok(vec![Event::PreArrivalNoticeSent {
                    referral,
                    hospital: r.to.clone(),
                    unit: r.unit.clone(),
                    at: now,
                    eta_s: eta.map(|e| e.eta_s),
                    distance_m: eta.map(|e| e.distance_m),
                }])
            }
            _ => unreachable!("Dispatch::decide routes only referral commands here"),
        }
    }

    /// Applies a referral event, routed here by `Dispatch::apply`.
    pub(super) fn apply_referrals(&mut self, e: &Event) {
        match e {
            Event::ReferralSent { referral } => {
                let r = (**referral).clone();
                self.next_referral = self.next_referral.max(r.id.0 + 1);
                let detail = match r.escalated_from {
                    Some(old) => format!("{} to {} (escalated from {old})", r.id, r.to),
                    None => format!("{} to {}", r.id, r.to),
                };
                self.log(r.incident, r.sent_at, e, r.unit.as_ref(), detail);
                self.referrals.insert(r.id, Arc::new(r));
            }
            Event::ReferralAccepted { referral, at, .. } => {
                self.set_referral(*referral, ReferralStatus::Accepted, *at, e, String::new());
            }
            Event::ReferralDeclined {
                referral,
                at,
                reason,
            } => {
                let s = ReferralStatus::Declined {
                    reason: reason.clone(),
                };
                self.set_referral(*referral, s, *at, e, reason.clone());
            }
            Event::ReferralExpired { referral, at } => {
                self.set_referral(*referral, ReferralStatus::Expired, *at, e, String::new());
            }
            Event::ReferralCancelled {
                referral,
                at,
                reason,
            } => {
                let s = ReferralStatus::Cancelled {
                    reason: reason.clone(),
                };
                self.set_referral(*referral, s, *at, e, reason.clone());
            }
            Event::ReferralEscalationFailed {
                referral,
                incident,
                at,
            } => {
                self.log(
                    *incident,
                    *at,
                    e,
                    None,
                    format!("{referral}: no other hospital"),
                );
            }
            Event::PreArrivalNoticeSent {
                referral,
                at,
                eta_s,
                distance_m,
                ..
            } => {
                if let Some(r) = self.referrals_mut(referral) {
                    r.pre_arrival = Some(crate::referral::PreArrival {
                        at: *at,
                        eta_s: *eta_s,
                        distance_m: *distance_m,
                    });
                }
            }
            Event::HandoverRecorded {
                referral,
                unit,
                at,
                device_at,
            } => {
                let mut incident = None;
                if let Some(r) = self.referrals_mut(referral) {
                    r.status = ReferralStatus::HandedOver;
                    r.handover_at = Some(*at);
                    r.handover_device_at = *device_at;
                    incident = Some(r.incident);
                }
                if let Some(i) = incident {
                    self.log(i, *at, e, Some(unit), format!("{referral}"));
                }
            }
            _ => unreachable!("Dispatch::apply routes only referral events here"),
        }
    }

    /// A referral to change, copied first if a published state still shares it.
    fn referrals_mut(&mut self, id: &ReferralId) -> Option<&mut Referral> {
        self.referrals.get_mut(id).map(Arc::make_mut)
    }

    fn referral_ref(&self, id: ReferralId) -> Result<&Referral, Rejection> {
        self.referral(id)
            .ok_or(Rejection::UnknownReferral { referral: id })
    }

    fn pending_referral(&self, id: ReferralId) -> Result<&Referral, Rejection> {
        let r = self.referral_ref(id)?;
        if r.status != ReferralStatus::Pending {
            return Err(Rejection::ReferralClosed {
                referral: id,
                state: referral_state(&r.status),
            });
        }
        Ok(r)
    }

    pub(super) fn cancel_live_referrals(
        &self,
        now: Timestamp,
        incident: IncidentId,
        reason: &str,
    ) -> Vec<Event> {
        self.referrals
            .values()
            .filter(|r| r.incident == incident && r.status.is_live())
            .map(|r| Event::ReferralCancelled {
                referral: r.id,
                at: now,
                reason: reason.to_string(),
            })
            .collect()
    }

    /// [`Dispatch::tick`]'s escalations: unanswered referrals past their deadline
    /// expire and escalate to the next recommended hospital without a live referral
    /// for the incident (or `ReferralEscalationFailed`). Each event is applied as it
    /// is pushed.
    pub(super) fn expire_referrals(
        &mut self,
        now: Timestamp,
        roads: &dyn DriveTimes,
        events: &mut Vec<Event>,
    ) {
        let expired: Vec<ReferralId> = self
            .referrals
            .values()
            .filter(|r| r.status == ReferralStatus::Pending && r.deadline <= now)
            .map(|r| r.id)
            .collect();
        for id in expired {
            let e = Event::ReferralExpired {
                referral: id,
                at: now,
            };
            self.apply(&e);
            events.push(e);
            let old = &self.referrals[&id];
            let i = &self.incidents[&old.incident];
            let rec = self.recommend_hospitals_for(now, i, roads);
            // Skip hospitals with a live referral for this incident already.
            let next = rec.ranked.iter().find(|h| {
                !self
                    .referrals
                    .values()
                    .any(|r| r.incident == i.id && r.to == h.hospital && r.status.is_live())
            });
            let e = match next {
                Some(h) => {
                    let nid = ReferralId(self.next_referral);
                    Event::ReferralSent {
                        referral: Box::new(Referral {
                            id: nid,
                            number: referral_number(nid),
                            incident: old.incident,
                            to: h.hospital.clone(),
                            unit: old.unit.clone(),
                            form: old.form.clone(),
                            patient: old.patient.clone(),
                            status: ReferralStatus::Pending,
                            sent_at: now,
                            deadline: now.plus_s(self.config.referral_deadline_s),
                            answered_at: None,
                            escalated_from: Some(id),
                            pre_arrival: None,
                            handover_at: None,
                            handover_device_at: None,
                            triage: old.triage,
                            unit_call_sign: old.unit_call_sign.clone(),
                        }),
                    }
                }
                None => Event::ReferralEscalationFailed {
                    referral: id,
                    incident: old.incident,
                    at: now,
                },
            };
            self.apply(&e);
            events.push(e);
        }
    }

    fn set_referral(
        &mut self,
        id: ReferralId,
        s: ReferralStatus,
        at: Timestamp,
        e: &Event,
        detail: String,
    ) {
        let Some(r) = self.referrals_mut(&id) else {
            return;
        };
        if matches!(
            s,
            ReferralStatus::Accepted | ReferralStatus::Declined { .. }
        ) {
            r.answered_at = Some(at);
        }
        r.status = s;
        let incident = r.incident;
        self.log(
            incident,
            at,
            e,
            None,
            format!("{id} {detail}").trim_end().to_string(),
        );
    }
}

/// The referral's number on paper, to SISRUTE and on every console: the id's own
/// display, so no screen shows another number for the same referral.
fn referral_number(id: ReferralId) -> String {
    id.to_string()
}
