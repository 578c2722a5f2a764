//! The actor: the one thread that owns the [`Dispatch`] state, the journal and the
//! road search. It takes every request waiting (up to 512) as a batch, decides each
//! command, journals the batch's events in one transaction (group commit), and only
//! then publishes the snapshot, answers the callers and broadcasts the events.

use crate::journal::{entry, volatile};
use crate::{Clock, EngineError, EngineOptions, NodeRole, Published};
use satria_dispatch::{
    Command, Dispatch, DriveTimes, Event, HospitalRecommendation, IncidentId, ReferralStatus,
    Timestamp, UnitRecommendation, UnitStatus,
};
use satria_store::{EventStore, NewEntry, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// At most this many incidents leave the live state per tick: a first start on
/// years of history archives them over a few minutes instead of in one batch.
const ARCHIVE_PER_TICK: usize = 200;

/// The archive stream of a region stream: `archive:region:banyumas`.
pub fn archive_stream_of(stream: &str) -> String {
    format!("archive:{stream}")
}

/// Where the actor sends one request's answer.
pub(crate) type Reply<T> = oneshot::Sender<Result<T, EngineError>>;

// One request is alive per caller; boxing the command would cost an allocation on the
// position hot path to save a few hundred bytes of channel slot.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Request {
    Command(Command, Option<crate::ClientTag>, Reply<Vec<Published>>),
    Recommend(IncidentId, Reply<UnitRecommendation>),
    RecommendHospitals(IncidentId, Reply<HospitalRecommendation>),
    Tick,
    /// Journaled events of the region as the leader published them (a
    /// follower's Redis reader): applied after the last seq, gaps filled
    /// from the journal.
    Replicate(Vec<(u64, Event)>),
    /// A unit's position as the leader published it (a follower's Redis reader).
    RemotePosition(Event),
    /// [`crate::Engine::stop`]: take nothing new, finish what is queued, and end.
    Stop,
}

/// What one batch of requests produced, waiting for the journal.
pub(crate) struct Pending {
    pub(crate) reply: Option<Reply<Vec<Published>>>,
    pub(crate) events: Vec<Event>,
    /// The client's id for the command, journaled with its answer.
    pub(crate) tag: Option<crate::ClientTag>,
}

/// The state the actor thread owns, built by [`Engine::start`](crate::Engine::start).
pub(crate) struct Actor {
    /// Set when the journal failed and could not be reopened: every request is refused.
    pub(crate) failed: Option<String>,
    pub(crate) last_seq: Arc<AtomicU64>,
    /// What `/metrics` reads of the lease and the replication.
    pub(crate) stats: Arc<crate::ClusterStats>,
    pub(crate) opts: EngineOptions,
    pub(crate) dispatch: Dispatch,
    pub(crate) journal: Box<dyn EventStore>,
    /// Leading the region: holding its lease (always, on a single node).
    pub(crate) leading: bool,
    /// What this node is, as published to [`crate::Engine::role`].
    pub(crate) role: watch::Sender<NodeRole>,
    /// When the lease was last renewed (leader) or last tried (follower).
    pub(crate) lease_at: std::time::Instant,
    /// When this node last announced itself as serving the region.
    pub(crate) announced_at: std::time::Instant,
    /// The journal handle failed: reconnect (and rebuild the state from the
    /// journal) before anything else.
    pub(crate) reconnect: bool,
    /// Commands remembered by their client id (journaled with their events).
    pub(crate) answers: crate::answers::Answers,
    /// The leader's queue to Redis (a cluster with Redis only).
    pub(crate) fanout: Option<crate::fanout::Publisher>,
    pub(crate) roads: Box<dyn DriveTimes + Send>,
    pub(crate) clock: Clock,
    pub(crate) events: broadcast::Sender<Arc<Published>>,
    pub(crate) events_first: broadcast::Sender<Arc<Published>>,
    pub(crate) positions: broadcast::Sender<Arc<Published>>,
    pub(crate) snapshot: watch::Sender<(u64, Arc<Dispatch>)>,
    pub(crate) position_seq: u64,
    pub(crate) last_snapshot: std::time::Instant,
    /// The leader's journal snapshots (`None`: off).
    pub(crate) snapshots: Option<crate::snapshots::Maker>,
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
                    tag: None,
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
            let taken = batch.len();
            batch.retain(|r| !matches!(r, Request::Stop));
            if batch.len() < taken {
                // Nothing new comes in; what is queued is still taken and done.
                rx.close();
            }
            if !batch.is_empty() {
                self.process(batch);
            }
        }
        // The senders are gone, or the engine was stopped: every queued command was
        // processed and journaled.
        // Sign the head so that the rows since the last checkpoint are anchored too
        // (a failure leaves them for the next start's checkpoints).
        if self.failed.is_none() && self.leading {
            let _ = self.journal.checkpoint_head(self.clock.now_ms());
            // Another node may take over at once instead of after the lease's TTL.
            let _ = self.journal.release_lease();
        }
        // Clients are no longer sent here.
        if let Some(c) = &self.opts.cluster {
            let _ = self.journal.forget_node(&self.opts.stream, &c.node_id);
        }
    }

    fn process(&mut self, batch: Vec<Request>) {
        let ticked = batch.iter().any(|r| matches!(r, Request::Tick));
        if self.reconnect
            && ticked
            && self.failed.is_none()
            && let Err(e) = self.recover()
        {
            tracing::warn!("the journal is still unreachable: {e}");
        }
        let refused = match &self.failed {
            Some(why) => Some(why.clone()),
            None if self.reconnect => {
                Some("the journal is unreachable; this node is reconnecting".to_string())
            }
            None => None,
        };
        if let Some(why) = refused {
            for req in batch {
                let err = EngineError::Journal(why.clone());
                match req {
                    Request::Command(_, _, reply) => drop(reply.send(Err(err))),
                    Request::Recommend(_, reply) => drop(reply.send(Err(err))),
                    Request::RecommendHospitals(_, reply) => drop(reply.send(Err(err))),
                    Request::Tick
                    | Request::Replicate(_)
                    | Request::RemotePosition(_)
                    | Request::Stop => {}
                }
            }
            return;
        }
        // A snapshot the writer finished goes into the journal between batches.
        if let Some(m) = &mut self.snapshots {
            m.store(self.journal.as_mut(), &self.opts.stream);
        }
        let now = Timestamp(self.clock.now_ms());
        let mut pending: Vec<Pending> = Vec::with_capacity(batch.len());
        // Records of incidents leaving the live state, journaled in the archive
        // stream with the events that say so.
        let mut archive_entries: Vec<NewEntry> = Vec::new();
        let mut archive_numbers: Vec<u64> = Vec::new();
        // The lease and the tail first, so that the commands of this batch meet
        // the role they will be journaled under.
        if batch.iter().any(|r| matches!(r, Request::Tick)) {
            self.keep_role(now, &mut pending);
        }
        for req in batch {
            match req {
                Request::Command(_, _, reply) if !self.leading => {
                    let _ = reply.send(Err(EngineError::NotLeader {
                        leader: self.role.borrow().leader_id.clone(),
                    }));
                }
                Request::Command(cmd, tag, reply) => {
                    if let Some(t) = &tag {
                        // Applied before (durably): answer as then, apply nothing.
                        if let Some(seqs) = self.answers.get(t) {
                            let _ = reply.send(Err(EngineError::Duplicate {
                                stream: self.opts.stream.clone(),
                                seqs: seqs.clone(),
                            }));
                            continue;
                        }
                        // The same command twice in one batch: the second waits
                        // for the first's answer to be journaled.
                        if pending.iter().any(|p| p.tag.as_ref() == Some(t)) {
                            let _ = reply.send(Err(EngineError::Busy));
                            continue;
                        }
                    }
                    match self.dispatch.handle(now, cmd, self.roads.as_ref()) {
                        Ok(events) => pending.push(Pending {
                            reply: Some(reply),
                            events,
                            tag,
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
                Request::Replicate(events) => {
                    if !self.leading {
                        self.replicate(events);
                    }
                }
                Request::RemotePosition(event) => {
                    if !self.leading {
                        self.remote_position(event);
                    }
                }
                Request::Stop | Request::Tick if !self.leading => {}
                Request::Stop => {}
                Request::Tick => {
                    if self.dispatch.next_deadline().is_some_and(|d| d <= now) {
                        let events = self.dispatch.tick(now, self.roads.as_ref());
                        pending.push(Pending {
                            reply: None,
                            events,
                            tag: None,
                        });
                    }
                    self.refresh_pre_arrival(now, &mut pending);
                    let archived = self.dispatch.archive_due(now, ARCHIVE_PER_TICK);
                    if !archived.is_empty() {
                        let mut events = Vec::with_capacity(archived.len());
                        for (e, record) in archived {
                            if let Event::IncidentArchived { archive, .. } = &e {
                                archive_numbers.push(*archive);
                            }
                            archive_entries.push(NewEntry {
                                kind: "incident_record".to_string(),
                                payload: serde_json::to_string(&record).expect("records serialise"),
                                recorded_at_ms: now.0,
                            });
                            events.push(e);
                        }
                        pending.push(Pending {
                            reply: None,
                            events,
                            tag: None,
                        });
                    }
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
        // Each tagged command's answer, journaled with its events: the single
        // writer knows the seqs they will get.
        let mut next = self.last_seq.load(Ordering::SeqCst);
        let mut answered = Vec::new();
        for p in &pending {
            let n = p.events.iter().filter(|e| !volatile(e)).count() as u64;
            let seqs: Vec<u64> = (next + 1..=next + n).collect();
            next += n;
            if let (Some(tag), false) = (&p.tag, seqs.is_empty()) {
                answered.push((tag.clone(), seqs));
            }
        }
        let answer_entries: Vec<NewEntry> = answered
            .iter()
            .map(|(t, seqs)| crate::answers::Answers::entry(t, seqs, now.0))
            .collect();
        let answers_stream = crate::answers::stream_of(&self.opts.stream);
        let archive_stream = archive_stream_of(&self.opts.stream);
        let mut seqs = Vec::new();
        if !entries.is_empty() {
            let mut groups: Vec<(&str, &[NewEntry])> = vec![(self.opts.stream.as_str(), &entries)];
            if !answer_entries.is_empty() {
                groups.push((answers_stream.as_str(), &answer_entries));
            }
            if !archive_entries.is_empty() {
                groups.push((archive_stream.as_str(), &archive_entries));
            }
            match self.journal.append_groups(&groups) {
                Ok(written) => {
                    let mut filed = Vec::new();
                    for w in written {
                        if w.stream == self.opts.stream {
                            seqs.push(w.seq);
                        } else if w.stream == answers_stream {
                            self.answers.seq = w.seq;
                        } else if w.stream == archive_stream {
                            filed.push(w.seq);
                        }
                    }
                    if filed != archive_numbers {
                        // The index would point at the wrong records: say so
                        // loudly (the records themselves are journaled and chained).
                        tracing::error!(
                            "archive entries {filed:?} were journaled for the numbers {archive_numbers:?} the state decided"
                        );
                    }
                    if let Some(last) = seqs.last() {
                        self.last_seq.store(*last, Ordering::SeqCst);
                    }
                    for (tag, s) in answered {
                        self.answers.put(tag, s);
                    }
                }
                Err(e) => {
                    // Not durable, so not done: refuse every command of the batch and
                    // go back to the state the journal holds.
                    let fenced = matches!(e, StoreError::Fenced { .. });
                    let msg = e.to_string();
                    if self.opts.cluster.is_some() {
                        // Step down before answering: whoever hears "not the
                        // leader" finds the role already changed.
                        self.step_down(&msg);
                    }
                    for p in pending {
                        if let Some(reply) = p.reply {
                            let err = if fenced {
                                EngineError::NotLeader { leader: None }
                            } else {
                                EngineError::Journal(msg.clone())
                            };
                            let _ = reply.send(Err(err));
                        }
                    }
                    self.journal_failed(&msg, fenced);
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
            let seq = self.last_seq.load(Ordering::SeqCst);
            let state = Arc::new(self.dispatch.clone());
            if journaled_any
                && self.leading
                && let Some(m) = &mut self.snapshots
            {
                m.offer(seq, &state);
            }
            self.snapshot.send_replace((seq, state));
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
        // Then the other nodes, through Redis (queued: never waited for).
        if let Some(f) = &self.fanout {
            for p in &outgoing {
                f.send(p, volatile(&p.event));
            }
        }
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
