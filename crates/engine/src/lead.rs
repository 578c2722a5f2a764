//! Leading a region, or following it: the lease, the tail, takeover and
//! stepping down, and getting back to the journal after a failed write.
//!
//! On a single node (the data directory's SQLite file) the actor always
//! leads. In a cluster the actor leads while its journal handle holds the
//! region's lease: it renews the lease every `renew_every`, and steps down
//! when the store says another node took it (`StoreError::Fenced`, on a
//! renewal or on an append) or when it could not renew for a whole TTL. A
//! follower tails the journal on every tick, applying and publishing what the
//! leader wrote, and tries to take the lease every `renew_every`; once it has
//! it, it reads what the old leader wrote last and leads. The deadlines it
//! then enforces are the journaled ones, so none is lost and none fires twice:
//! a deadline the old leader fired is in the journal, with its events.

use crate::actor::{Actor, Pending};
use crate::journal::{PAGE, entry, event, reopen, replay};
use crate::{EngineError, NodeRole, Published, register_command};
use satria_dispatch::{Event, Timestamp};
use satria_store::StoreError;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Records this node as serving `stream` and lists the region's nodes heard
/// from within three lease TTLs (a node that missed two renewals is still
/// offered to clients; one gone longer is not).
pub(crate) fn announce(
    journal: &mut dyn satria_store::EventStore,
    stream: &str,
    c: &crate::ClusterOptions,
) -> Result<Vec<crate::ClusterNode>, StoreError> {
    Ok(journal
        .announce(stream, &c.node_id, c.advertise.as_deref(), c.lease_ttl * 3)?
        .into_iter()
        .map(|n| crate::ClusterNode {
            node_id: n.node_id,
            addr: n.addr,
        })
        .collect())
}

impl Actor {
    /// This node's name in the cluster (`local` on a single node).
    pub(crate) fn node_id(&self) -> String {
        self.opts
            .cluster
            .as_ref()
            .map_or_else(|| "local".to_string(), |c| c.node_id.clone())
    }

    /// Publishes the role: leading in `term`, or following `leader` (its
    /// node id and the HTTP address it advertised).
    pub(crate) fn set_role(
        &mut self,
        leading: bool,
        term: u64,
        leader: Option<(String, Option<String>)>,
    ) {
        self.leading = leading;
        let (leader_id, leader_addr) = match leader {
            Some((id, addr)) => (Some(id), addr),
            None => (None, None),
        };
        let role = NodeRole {
            node_id: self.node_id(),
            leader: leading,
            term,
            leader_id,
            leader_addr,
            nodes: self.role.borrow().nodes.clone(),
        };
        self.role.send_if_modified(|r| {
            let changed = *r != role;
            *r = role;
            changed
        });
    }

    pub(crate) fn step_down(&mut self, why: &str) {
        tracing::warn!(node = %self.node_id(), stream = %self.opts.stream, "stepping down as leader: {why}");
        let term = self.role.borrow().term;
        self.set_role(false, term, None);
    }

    /// The events that register the configured fleet, when the region's
    /// stream is still empty (the first leader of a new region).
    pub(crate) fn initial_fleet(&mut self, now: Timestamp) -> Result<Vec<Event>, EngineError> {
        if self.last_seq.load(Ordering::SeqCst) != 0 {
            return Ok(Vec::new());
        }
        let mut events = Vec::new();
        for u in &self.opts.initial_units {
            events.extend(
                self.dispatch
                    .handle(now, register_command(u), self.roads.as_ref())
                    .map_err(|r| EngineError::InitialFleet(r.to_string()))?,
            );
        }
        Ok(events)
    }

    /// [`Actor::initial_fleet`] journaled at once, at start (nobody listens yet).
    pub(crate) fn register_initial_fleet(&mut self, now: Timestamp) -> Result<(), EngineError> {
        let events = self.initial_fleet(now)?;
        if events.is_empty() {
            return Ok(());
        }
        let entries: Vec<_> = events.iter().map(|e| entry(e, now)).collect();
        let written = self
            .journal
            .append_entries(&self.opts.stream, &entries)
            .map_err(|e| EngineError::Journal(e.to_string()))?;
        if let Some(w) = written.last() {
            self.last_seq.store(w.seq, Ordering::SeqCst);
        }
        Ok(())
    }

    /// On a tick: a leader renews its lease when due; a follower tails the
    /// journal and tries to take the lease when due. Events a new leader must
    /// journal first (the fleet of an empty region) go into `pending`.
    pub(crate) fn keep_role(&mut self, now: Timestamp, pending: &mut Vec<Pending>) {
        let Some(c) = self.opts.cluster.clone() else {
            return;
        };
        if self.announced_at.elapsed() >= c.renew_every {
            self.announced_at = Instant::now();
            match announce(self.journal.as_mut(), &self.opts.stream, &c) {
                Ok(nodes) => {
                    self.role.send_if_modified(|r| {
                        let changed = r.nodes != nodes;
                        r.nodes = nodes;
                        changed
                    });
                }
                Err(e) => tracing::warn!("announcing the node failed, will retry: {e}"),
            }
        }
        if self.leading {
            if self.lease_at.elapsed() < c.renew_every {
                return;
            }
            let asked = Instant::now();
            match self.journal.renew_lease() {
                Ok(()) => {
                    self.stats.renewed(asked.elapsed());
                    self.lease_at = Instant::now();
                }
                Err(e @ StoreError::Fenced { .. }) => self.step_down(&e.to_string()),
                Err(e) if self.lease_at.elapsed() >= c.lease_ttl => {
                    // Not renewed for a whole TTL: another node may lead by now.
                    self.step_down(&format!("the lease could not be renewed: {e}"));
                    self.reconnect = true;
                }
                Err(e) => tracing::warn!("lease renewal failed, will retry: {e}"),
            }
            return;
        }
        if let Err(e) = self.follow() {
            self.follow_failed(e);
            return;
        }
        if self.lease_at.elapsed() < c.renew_every {
            return;
        }
        self.lease_at = Instant::now();
        match self.journal.take_lease(
            &self.opts.stream,
            &c.node_id,
            c.advertise.as_deref(),
            c.lease_ttl,
        ) {
            Ok(Some(lease)) => {
                // The old leader can write nothing more: read what it wrote last.
                let caught_up = self
                    .journal
                    .refresh()
                    .map_err(|e| EngineError::Open(e.to_string()))
                    .and_then(|()| self.follow());
                if let Err(e) = caught_up {
                    let _ = self.journal.release_lease();
                    self.follow_failed(e);
                    return;
                }
                self.lease_at = Instant::now();
                self.stats.took_lease();
                tracing::info!(
                    node = %c.node_id,
                    stream = %self.opts.stream,
                    term = lease.term,
                    seq = self.last_seq.load(Ordering::SeqCst),
                    "leading the region"
                );
                self.restore_positions();
                self.set_role(
                    true,
                    lease.term,
                    Some((c.node_id.clone(), c.advertise.clone())),
                );
                match self.initial_fleet(now) {
                    Ok(events) if !events.is_empty() => pending.push(Pending {
                        reply: None,
                        events,
                        tag: None,
                    }),
                    Ok(_) => {}
                    Err(e) => self.failed = Some(e.to_string()),
                }
            }
            Ok(None) => {
                if let Ok(holder) = self.journal.lease_holder(&self.opts.stream) {
                    let (term, leader) = match holder {
                        Some(h) if h.expires_in_ms >= 0 => (h.term, Some((h.holder, h.addr))),
                        Some(h) => (h.term, None),
                        None => (0, None),
                    };
                    self.set_role(false, term, leader);
                }
            }
            Err(e) => {
                tracing::warn!("taking the lease failed, reconnecting: {e}");
                self.reconnect = true;
            }
        }
    }

    fn follow_failed(&mut self, e: EngineError) {
        match e {
            // A journaled event this build cannot read, or a gap: never act on
            // a state that differs from the journal.
            EngineError::Replay(why) => self.failed = Some(why),
            other => {
                tracing::warn!("reading the journal failed, reconnecting: {other}");
                self.reconnect = true;
            }
        }
    }

    /// Applies and publishes every event of the region stream after the last
    /// one this node has, in seq order.
    pub(crate) fn follow(&mut self) -> Result<(), EngineError> {
        let stream = self.opts.stream.clone();
        let mut any = false;
        loop {
            let after = self.last_seq.load(Ordering::SeqCst);
            let rows = self
                .journal
                .entries_since(&stream, after, PAGE)
                .map_err(|e| EngineError::Open(e.to_string()))?;
            let n = rows.len();
            for e in rows {
                let expected = self.last_seq.load(Ordering::SeqCst) + 1;
                if e.seq != expected {
                    return Err(EngineError::Replay(format!(
                        "{stream}: expected seq {expected}, the journal gave {}",
                        e.seq
                    )));
                }
                let ev = event(&e)?;
                self.apply_journaled(e.seq, ev);
                any = true;
            }
            if n < PAGE {
                break;
            }
        }
        if any {
            self.publish_snapshot();
        }
        self.answers
            .load(self.journal.as_ref(), &self.opts.stream)?;
        Ok(())
    }

    fn publish_snapshot(&mut self) {
        self.snapshot.send_replace((
            self.last_seq.load(Ordering::SeqCst),
            Arc::new(self.dispatch.clone()),
        ));
        self.last_snapshot = Instant::now();
    }

    /// Applies the journaled event `seq` (the next one) and publishes it.
    fn apply_journaled(&mut self, seq: u64, ev: Event) {
        self.dispatch.apply(&ev);
        self.last_seq.store(seq, Ordering::SeqCst);
        let p = Arc::new(Published::new(self.opts.stream.clone(), seq, ev));
        let _ = self.events_first.send(Arc::clone(&p));
        let _ = self.events.send(p);
    }

    /// Events the leader published through Redis: those after the last seq
    /// are applied in order; a gap (a publication dropped, Redis flushed or
    /// restarted) is filled from the journal first.
    pub(crate) fn replicate(&mut self, events: Vec<(u64, Event)>) {
        let mut any = false;
        for (seq, ev) in events {
            if seq > self.last_seq.load(Ordering::SeqCst) + 1 {
                if let Err(e) = self.follow() {
                    self.follow_failed(e);
                    return;
                }
                self.stats.filled_gap();
            }
            // Seen already (or still missing from the journal, which the
            // next tick reads again).
            if seq != self.last_seq.load(Ordering::SeqCst) + 1 {
                continue;
            }
            self.apply_journaled(seq, ev);
            any = true;
        }
        if any {
            self.publish_snapshot();
        }
    }

    /// A unit's position the leader published: applied and passed on to
    /// this node's subscribers (never journaled).
    pub(crate) fn remote_position(&mut self, ev: Event) {
        self.dispatch.apply(&ev);
        self.position_seq += 1;
        let _ = self.positions.send(Arc::new(Published::new(
            "positions".into(),
            self.position_seq,
            ev,
        )));
        if self.last_snapshot.elapsed() >= std::time::Duration::from_millis(200) {
            self.publish_snapshot();
        }
    }

    /// Each unit's last position kept in Redis, applied to the state: a new
    /// leader ranks units from where they were, not from their bases.
    pub(crate) fn restore_positions(&mut self) {
        let Some(r) = self.opts.cluster.as_ref().and_then(|c| c.redis.clone()) else {
            return;
        };
        let keys = crate::fanout::Keys::new(&r, &self.opts.stream);
        for ev in crate::fanout::last_positions(&r, &keys) {
            let known = match &ev {
                Event::UnitMoved { unit, .. } => self.dispatch.unit(unit).is_some(),
                _ => false,
            };
            if known {
                self.dispatch.apply(&ev);
            }
        }
        self.publish_snapshot();
    }

    /// A fresh journal handle, and the state rebuilt from the journal: up to
    /// what subscribers were sent, then every later event applied and
    /// published (a write whose outcome was unknown may have landed).
    pub(crate) fn recover(&mut self) -> Result<(), EngineError> {
        self.journal = reopen(&self.opts)?;
        let published = self.last_seq.load(Ordering::SeqCst);
        let (d, at) = replay(self.journal.as_ref(), &self.opts, published)?;
        self.dispatch = d;
        self.last_seq.store(at, Ordering::SeqCst);
        self.follow()?;
        self.reconnect = false;
        Ok(())
    }

    /// A journal write failed (`fenced`: because another node leads now; a
    /// cluster node has stepped down already).
    /// The state may hold the batch that was not journaled: rebuild it. On a
    /// single node a journal that cannot be reopened stops the engine (an
    /// operator restarts it); in a cluster the node follows and reconnects on
    /// the next ticks, and leads again once it holds the lease.
    pub(crate) fn journal_failed(&mut self, msg: &str, fenced: bool) {
        if fenced {
            // The handle is fine (the append was rolled back); the state is not.
            let published = self.last_seq.load(Ordering::SeqCst);
            let rebuilt =
                replay(self.journal.as_ref(), &self.opts, published).and_then(|(d, at)| {
                    self.dispatch = d;
                    self.last_seq.store(at, Ordering::SeqCst);
                    self.follow()
                });
            if rebuilt.is_ok() {
                return;
            }
        }
        if let Err(e) = self.recover() {
            if self.opts.cluster.is_some() {
                self.reconnect = true;
            } else {
                self.failed = Some(format!("{msg}; recovery failed: {e}"));
            }
        }
    }
}
