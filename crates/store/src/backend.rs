//! [`EventStore`]: what the engine and the tools need of a journal, whatever
//! holds it. Two backends implement it: [`Journal`] (one SQLite file, the
//! embedded default) and [`PgJournal`] (PostgreSQL, for a cluster). Both
//! compute the same hash chain over the same rows, so a journal copied from
//! one to the other verifies unchanged; the conformance suite
//! (`tests/conformance.rs`) runs the same checks against both.

use std::time::Duration;

use crate::pg::{Lease, LeaseHolder, NodeSeen};
use crate::{Entry, Journal, NewEntry, PgJournal, StoreError, VerifyReport};

/// A durable, hash-chained, append-only event journal.
///
/// Invariants every backend keeps:
/// - an append is durable when it returns `Ok` (fsynced, or committed with
///   `synchronous_commit = on`), and all-or-nothing across its groups;
/// - rows are numbered 1, 2, 3, … in global order and each stream's seqs
///   1, 2, 3, …, with no gap;
/// - each row's hash chains from the one before it ([`crate::chain`]);
/// - a failed commit whose outcome is unknown makes every later call fail
///   with [`StoreError::Poisoned`] until the journal is reopened.
pub trait EventStore: Send {
    /// Where the journal is: a file path, or a database URL without its password.
    fn location(&self) -> String;

    /// Appends each group's entries to its stream, all in one transaction.
    fn append_groups(&mut self, groups: &[(&str, &[NewEntry])]) -> Result<Vec<Entry>, StoreError>;

    /// Appends `entries` to `stream` in one transaction.
    fn append_entries(
        &mut self,
        stream: &str,
        entries: &[NewEntry],
    ) -> Result<Vec<Entry>, StoreError> {
        self.append_groups(&[(stream, entries)])
    }

    /// Last sequence number of `stream` (0 when it has no entries).
    fn stream_seq(&self, stream: &str) -> u64;

    /// The last global row number (0 for an empty journal).
    fn head_row(&self) -> u64;

    /// Hex chain hash of the last row (64 zeros for an empty journal).
    fn head(&self) -> String;

    /// Up to `limit` entries of `stream` with `seq > after_seq`, in order.
    fn entries_since(
        &self,
        stream: &str,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError>;

    /// Up to `limit` entries of all streams with `row > after_row`, in order.
    fn rows_since(&self, after_row: u64, limit: usize) -> Result<Vec<Entry>, StoreError>;

    /// Stores a snapshot of `stream` as of `seq` (derived data, not chained).
    fn put_snapshot(&mut self, stream: &str, seq: u64, data: &[u8]) -> Result<(), StoreError>;

    /// The newest snapshot of `stream`, if any.
    fn newest_snapshot(&self, stream: &str) -> Result<Option<(u64, Vec<u8>)>, StoreError>;

    /// Walks the stored rows and reports the first that does not check out.
    fn verify_chain(&self) -> Result<VerifyReport, StoreError>;

    /// Re-reads the head and the streams' seqs from the store (another
    /// writer may have appended since). A single-writer backend has nothing
    /// to re-read.
    fn refresh(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Takes `region`'s write lease for `holder`, who answers HTTP at `addr`
    /// (see [`crate::pg`]): `Ok(None)`
    /// while another holder's lease is live. An embedded journal has one
    /// writer by construction, the process that opened it, so it grants
    /// term 0 at once.
    fn take_lease(
        &mut self,
        region: &str,
        holder: &str,
        _addr: Option<&str>,
        _ttl: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        Ok(Some(Lease {
            region: region.to_string(),
            holder: holder.to_string(),
            term: 0,
        }))
    }

    /// Extends the lease this handle holds; [`StoreError::Fenced`] when
    /// another node took it over (the caller must stop writing).
    fn renew_lease(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Lets the lease go now (a clean shutdown), so another node takes over
    /// without waiting for it to expire.
    fn release_lease(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Who holds `region`'s lease now (`None`: nobody, or no leases here).
    fn lease_holder(&self, _region: &str) -> Result<Option<LeaseHolder>, StoreError> {
        Ok(None)
    }

    /// Records that `node_id` serves `region` at `addr` and returns every
    /// node of the region heard from within `fresh_within`. An embedded
    /// journal has one node, the caller.
    fn announce(
        &mut self,
        _region: &str,
        node_id: &str,
        addr: Option<&str>,
        _fresh_within: Duration,
    ) -> Result<Vec<NodeSeen>, StoreError> {
        Ok(vec![NodeSeen {
            node_id: node_id.to_string(),
            addr: addr.map(str::to_string),
        }])
    }

    /// Forgets `node_id` as a node of `region` (a clean shutdown).
    fn forget_node(&mut self, _region: &str, _node_id: &str) -> Result<(), StoreError> {
        Ok(())
    }

    /// Signs the head into a checkpoint when enough rows or time have passed
    /// since the last one (`Ok(false)`: not due, or no signer).
    fn checkpoint_if_due(&mut self, _now_ms: i64) -> Result<bool, StoreError> {
        Ok(false)
    }

    /// Signs the head now if rows are unsigned (at a clean shutdown).
    fn checkpoint_head(&mut self, _now_ms: i64) -> Result<bool, StoreError> {
        Ok(false)
    }
}

impl EventStore for Journal {
    fn location(&self) -> String {
        self.path().display().to_string()
    }
    fn append_groups(&mut self, groups: &[(&str, &[NewEntry])]) -> Result<Vec<Entry>, StoreError> {
        self.append_batch(groups)
    }
    fn stream_seq(&self, stream: &str) -> u64 {
        self.last_seq(stream)
    }
    fn head_row(&self) -> u64 {
        self.last_row()
    }
    fn head(&self) -> String {
        self.head_hash()
    }
    fn entries_since(
        &self,
        stream: &str,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.read_since(stream, after_seq, limit)
    }
    fn rows_since(&self, after_row: u64, limit: usize) -> Result<Vec<Entry>, StoreError> {
        self.read_rows(after_row, limit)
    }
    fn put_snapshot(&mut self, stream: &str, seq: u64, data: &[u8]) -> Result<(), StoreError> {
        self.save_snapshot(stream, seq, data)
    }
    fn newest_snapshot(&self, stream: &str) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        self.latest_snapshot(stream)
    }
    fn verify_chain(&self) -> Result<VerifyReport, StoreError> {
        self.verify()
    }
    fn checkpoint_if_due(&mut self, now_ms: i64) -> Result<bool, StoreError> {
        Journal::checkpoint_if_due(self, now_ms)
    }
    fn checkpoint_head(&mut self, now_ms: i64) -> Result<bool, StoreError> {
        Journal::checkpoint_head(self, now_ms)
    }
}

impl EventStore for PgJournal {
    fn location(&self) -> String {
        self.url().to_string()
    }
    fn append_groups(&mut self, groups: &[(&str, &[NewEntry])]) -> Result<Vec<Entry>, StoreError> {
        self.append_batch(groups)
    }
    fn stream_seq(&self, stream: &str) -> u64 {
        self.last_seq(stream)
    }
    fn head_row(&self) -> u64 {
        self.last_row()
    }
    fn head(&self) -> String {
        self.head_hash()
    }
    fn entries_since(
        &self,
        stream: &str,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.read_since(stream, after_seq, limit)
    }
    fn rows_since(&self, after_row: u64, limit: usize) -> Result<Vec<Entry>, StoreError> {
        self.read_rows(after_row, limit)
    }
    fn put_snapshot(&mut self, stream: &str, seq: u64, data: &[u8]) -> Result<(), StoreError> {
        self.save_snapshot(stream, seq, data)
    }
    fn newest_snapshot(&self, stream: &str) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        self.latest_snapshot(stream)
    }
    fn verify_chain(&self) -> Result<VerifyReport, StoreError> {
        self.verify()
    }
    fn refresh(&mut self) -> Result<(), StoreError> {
        self.load_state()
    }
    fn take_lease(
        &mut self,
        region: &str,
        holder: &str,
        addr: Option<&str>,
        ttl: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        self.try_acquire_lease_at(region, holder, addr, ttl)
    }
    fn renew_lease(&mut self) -> Result<(), StoreError> {
        PgJournal::renew_lease(self)
    }
    fn release_lease(&mut self) -> Result<(), StoreError> {
        PgJournal::release_lease(self)
    }
    fn lease_holder(&self, region: &str) -> Result<Option<LeaseHolder>, StoreError> {
        PgJournal::lease_holder(self, region)
    }
    fn announce(
        &mut self,
        region: &str,
        node_id: &str,
        addr: Option<&str>,
        fresh_within: Duration,
    ) -> Result<Vec<NodeSeen>, StoreError> {
        PgJournal::announce(self, region, node_id, addr, fresh_within)
    }
    fn forget_node(&mut self, region: &str, node_id: &str) -> Result<(), StoreError> {
        PgJournal::forget_node(self, region, node_id)
    }
    fn checkpoint_if_due(&mut self, now_ms: i64) -> Result<bool, StoreError> {
        PgJournal::checkpoint_if_due(self, now_ms)
    }
    fn checkpoint_head(&mut self, now_ms: i64) -> Result<bool, StoreError> {
        PgJournal::checkpoint_head(self, now_ms)
    }
}
