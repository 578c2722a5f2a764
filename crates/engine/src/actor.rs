//! The actor: the one thread that owns the [`Dispatch`] state, the journal and the
//! road search. It takes every request waiting (up to 512) as a batch, decides each
//! command, journals the batch's events in one transaction (group commit), and only
//! then publishes the snapshot, answers the callers and broadcasts the events.

use crate::journal::{entry, reopen, replay, volatile};
use crate::{Clock, EngineError, EngineOptions, Published};
use satria_dispatch::{
    Command, Dispatch, DriveTimes, Event, HospitalRecommendation, IncidentId, ReferralStatus,
    Timestamp, UnitRecommendation, UnitStatus,
};
use satria_store::{Journal, NewEntry};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// Where the actor sends one request's answer.
pub(crate) type Reply<T> = oneshot::Sender<Result<T, EngineError>>;

// One request is alive per caller; boxing the command would cost an allocation on the
// position hot path to save a few hundred bytes of channel slot.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Request {
    Command(Command, Reply<Vec<Published>>),
    Recommend(IncidentId, Reply<UnitRecommendation>),
    RecommendHospitals(IncidentId, Reply<HospitalRecommendation>),
    Tick,
}

/// What one batch of requests produced, waiting for the journal.
struct Pending {
    reply: Option<Reply<Vec<Published>>>,
    events: Vec<Event>,
}

/// The state the actor thread owns, built by [`Engine::start`](crate::Engine::start).
pub(crate) struct Actor {
    /// Set when the journal failed and could not be reopened: every request is refused.
    pub(crate) failed: Option<String>,
    pub(crate) last_seq: Arc<AtomicU64>,
    pub(crate) opts: EngineOptions,
    pub(crate) dispatch: Dispatch,
    pub(crate) journal: Journal,
    pub(crate) roads: Box<dyn DriveTimes + Send>,
    pub(crate) clock: Clock,
    pub(crate) events: broadcast::Sender<Arc<Published>>,
    pub(crate) events_first: broadcast::Sender<Arc<Published>>,
    pub(crate) positions: broadcast::Sender<Arc<Published>>,
    pub(crate) snapshot: watch::Sender<(u64, Arc<Dispatch>)>,
    pub(crate) position_seq: u64,
    pub(crate) last_snapshot: std::time::Instant,
}

impl Actor {
    /// Repeats the pre-arrival notice of every accepted referral whose unit is carrying
    /// the patient, every `pre_arrival_every_s`, so the hospital sees a live ETA.
    fn refresh_pre_arrival(&mut self, now: Timestamp, pending: &mut Vec<Pending>) {
        let every_ms = i64::from(self.opts.pre_arrival_every_s) * 1000;
        let due: Vec<_> = self
            .dispatch
            .referrals()
            .filter(|r| r.status == ReferralStatus::Accepted)
            .filter(|r| {
                r.unit
                    .as_ref()
                    .and_then(|u| self.dispatch.unit(u))
                    .is_some_and(|u| u.status == UnitStatus::Transporting)
            })
            .filter(|r| r.pre_arrival.is_none_or(|p| now.0 - p.at.0 >= every_ms))
            .map(|r| r.id)
            .collect();
        for referral in due {
            let cmd = Command::SendPreArrivalNotice { referral };
            // A refusal here only means the state moved on (e.g. the unit arrived).
            if let Ok(events) = self.dispatch.handle(now, cmd, self.roads.as_ref()) {
                pending.push(Pending {
                    reply: None,
                    events,
                });
            }
        }
    }

    pub(crate) fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        while let Some(first) = rx.blocking_recv() {
            let mut batch = vec![first];
            // Group commit: everything already waiting goes into the same transaction.
            while batch.len() < 512 {
                match rx.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
            self.process(batch);
        }
        // The senders are gone: every queued command was processed and journaled.
        // Sign the head so that the rows since the last checkpoint are anchored too
        // (a failure leaves them for the next start's checkpoints).
        if self.failed.is_none() {
            let _ = self.journal.checkpoint_head(self.clock.now_ms());
        }
    }

    fn process(&mut self, batch: Vec<Request>) {
        if let Some(why) = &self.failed {
            for req in batch {
                let err = EngineError::Journal(why.clone());
                match req {
                    Request::Command(_, reply) => drop(reply.send(Err(err))),
                    Request::Recommend(_, reply) => drop(reply.send(Err(err))),
                    Request::RecommendHospitals(_, reply) => drop(reply.send(Err(err))),
                    Request::Tick => {}
                }
            }
            return;
        }
        let now = Timestamp(self.clock.now_ms());
        let mut pending: Vec<Pending> = Vec::with_capacity(batch.len());
        for req in batch {
            match req {
                Request::Command(cmd, reply) => {
                    match self.dispatch.handle(now, cmd, self.roads.as_ref()) {
                        Ok(events) => pending.push(Pending {
                            reply: Some(reply),
                            events,
                        }),
                        Err(r) => {
                            let _ = reply.send(Err(EngineError::Rejected(r)));
                        }
                    }
                }
                Request::Recommend(incident, reply) => {
                    let r = self
                        .dispatch
                        .recommend_units(now, incident, self.roads.as_ref())
                        .map_err(EngineError::Rejected);
                    let _ = reply.send(r);
                }
                Request::RecommendHospitals(incident, reply) => {
                    let r = self
                        .dispatch
                        .recommend_hospitals(now, incident, self.roads.as_ref())
                        .map_err(EngineError::Rejected);
                    let _ = reply.send(r);
                }
                Request::Tick => {
                    if self.dispatch.next_deadline().is_some_and(|d| d <= now) {
                        let events = self.dispatch.tick(now, self.roads.as_ref());
                        pending.push(Pending {
                            reply: None,
                            events,
                        });
                    }
                    self.refresh_pre_arrival(now, &mut pending);
                    // Rows waiting longer than the interval get their checkpoint. A
                    // failure here changes nothing; the next append meets the same disk.
                    let _ = self.journal.checkpoint_if_due(now.0);
                }
            }
        }
        let entries: Vec<NewEntry> = pending
            .iter()
            .flat_map(|p| p.events.iter())
            .filter(|e| !volatile(e))
            .map(|e| entry(e, now))
            .collect();
        let mut seqs = Vec::new();
        if !entries.is_empty() {
            match self.journal.append(&self.opts.stream, &entries) {
                Ok(written) => {
                    seqs = written.into_iter().map(|w| w.seq).collect();
                    if let Some(last) = seqs.last() {
                        self.last_seq.store(*last, Ordering::SeqCst);
                    }
                }
                Err(e) => {
                    // Not durable, so not done: refuse every command of the batch and
                    // go back to the state the journal holds.
                    let msg = e.to_string();
                    for p in pending {
                        if let Some(reply) = p.reply {
                            let _ = reply.send(Err(EngineError::Journal(msg.clone())));
                        }
                    }
                    // The failed handle is poisoned (nobody knows what reached the disk):
                    // reopen the file and rebuild the state from what it holds. If even
                    // that fails, refuse everything until an operator restarts the engine;
                    // a state that differs from the journal must never be acted on.
                    match reopen(&self.opts).and_then(|j| replay(&j, &self.opts).map(|d| (j, d))) {
                        Ok((j, d)) => {
                            self.journal = j;
                            self.dispatch = d;
                        }
                        Err(e) => self.failed = Some(format!("{msg}; recovery failed: {e}")),
                    }
                    return;
                }
            }
        }
        let mut seqs = seqs.into_iter();
        let mut journaled_any = false;
        let mut done = Vec::with_capacity(pending.len());
        for p in pending {
            let mut published = Vec::with_capacity(p.events.len());
            for event in p.events {
                let (stream, seq) = if volatile(&event) {
                    self.position_seq += 1;
                    ("positions".to_string(), self.position_seq)
                } else {
                    journaled_any = true;
                    (
                        self.opts.stream.clone(),
                        seqs.next().expect("one seq per journaled event"),
                    )
                };
                published.push(Published::new(stream, seq, event));
            }
            done.push((p.reply, published));
        }
        // The snapshot first: a caller that reads it after its acknowledgement sees its
        // own change.
        if journaled_any || self.last_snapshot.elapsed() >= std::time::Duration::from_millis(200) {
            self.snapshot.send_replace((
                self.last_seq.load(Ordering::SeqCst),
                Arc::new(self.dispatch.clone()),
            ));
            self.last_snapshot = std::time::Instant::now();
        }
        // The callers first, then the subscribers: a caller waits for its answer
        // (a call-taker's HTTP request), while waking a thousand consoles first
        // would put that answer behind all of them.
        let mut outgoing = Vec::new();
        for (reply, published) in done {
            outgoing.extend(published.iter().map(|p| Arc::new(p.clone())));
            if let Some(reply) = reply {
                let _ = reply.send(Ok(published));
            }
        }
        // No subscriber is fine: the journal is the record. Those who act on
        // region events are woken before those who watch them.
        for p in outgoing.iter().filter(|p| !volatile(&p.event)) {
            let _ = self.events_first.send(Arc::clone(p));
        }
        for p in outgoing {
            let channel = if volatile(&p.event) {
                &self.positions
            } else {
                &self.events
            };
            let _ = channel.send(p);
        }
    }
}
