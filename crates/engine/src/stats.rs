//! What a cluster node counts about its region's lease and its replication,
//! for the server's `/metrics`: plain atomics, written by the actor thread.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Counters of one node's part in its region's cluster (all zero on a single
/// node).
#[derive(Debug, Default)]
pub struct ClusterStats {
    takeovers: AtomicU64,
    renewals: AtomicU64,
    renew_us: AtomicU64,
    last_renew_us: AtomicU64,
    gaps_filled: AtomicU64,
}

impl ClusterStats {
    /// Times this node took its region's lease: at start, or after its
    /// holder stopped renewing it.
    pub fn takeovers(&self) -> u64 {
        self.takeovers.load(Relaxed)
    }

    /// Lease renewals that succeeded, and the seconds they took in all.
    pub fn renewals(&self) -> (u64, f64) {
        (
            self.renewals.load(Relaxed),
            self.renew_us.load(Relaxed) as f64 / 1e6,
        )
    }

    /// How long the last successful renewal took, in seconds.
    pub fn last_renew_seconds(&self) -> f64 {
        self.last_renew_us.load(Relaxed) as f64 / 1e6
    }

    /// Times a follower found a gap in the events Redis brought (a dropped
    /// publication, Redis flushed or restarted) and filled it from the
    /// journal.
    pub fn gaps_filled(&self) -> u64 {
        self.gaps_filled.load(Relaxed)
    }

    pub(crate) fn took_lease(&self) {
        self.takeovers.fetch_add(1, Relaxed);
    }

    pub(crate) fn renewed(&self, took: Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.renewals.fetch_add(1, Relaxed);
        self.renew_us.fetch_add(us, Relaxed);
        self.last_renew_us.store(us, Relaxed);
    }

    pub(crate) fn filled_gap(&self) {
        self.gaps_filled.fetch_add(1, Relaxed);
    }
}
