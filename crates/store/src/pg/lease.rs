//! Region leases: one writer per region, by a row in `leases` that the holder
//! renews before it expires (database time). Taking an expired (or never
//! held) lease increments its term; the term fences every append.
//!
//! A node that restarts under the same name still waits for its old lease to
//! expire: the old process may be paused, not dead, and a new term is what
//! tells the two apart.

use std::time::Duration;

use super::{Fence, PgJournal, pg};
use crate::StoreError;

/// A lease this handle now holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The region it is for.
    pub region: String,
    /// Who holds it (the node id).
    pub holder: String,
    /// Incremented by every takeover; every append checks it.
    pub term: u64,
}

/// Who holds a region's lease, as the database says now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseHolder {
    /// The node id of the holder.
    pub holder: String,
    /// Its term.
    pub term: u64,
    /// Milliseconds until it expires (negative: expired, free to take).
    pub expires_in_ms: i64,
    /// Where the holder answers HTTP (`http://host:port`), if it said.
    pub addr: Option<String>,
}

/// A node serving a region, as its last announcement said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSeen {
    /// Its node id.
    pub node_id: String,
    /// Where it answers HTTP (`http://host:port`), if it said.
    pub addr: Option<String>,
}

fn ms(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1)
}

impl PgJournal {
    /// Takes `region`'s lease for `holder` when nobody holds it or its holder
    /// let it expire; the term becomes one more than the last. On success,
    /// every later append of this handle is fenced by it. `Ok(None)`: it is
    /// held by someone else (see [`PgJournal::lease_holder`]).
    pub fn try_acquire_lease(
        &mut self,
        region: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        self.try_acquire_lease_at(region, holder, None, ttl)
    }

    /// [`PgJournal::try_acquire_lease`], recording where the holder answers
    /// HTTP (`addr`), for the other nodes to forward commands to.
    pub fn try_acquire_lease_at(
        &mut self,
        region: &str,
        holder: &str,
        addr: Option<&str>,
        ttl: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        self.check_usable()?;
        if region.is_empty() || holder.is_empty() {
            return Err(StoreError::InvalidInput {
                detail: "a lease needs a region and a holder".into(),
            });
        }
        let path = self.location();
        let ttl_ms = ms(ttl);
        let row = self
            .client
            .get_mut()
            .query_opt(
                "INSERT INTO leases AS l (region, holder, term, expires_at, taken_at, holder_addr)
                 VALUES ($1, $2, 1, clock_timestamp() + $3::float8 * interval '1 millisecond', clock_timestamp(), $4)
                 ON CONFLICT (region) DO UPDATE
                   SET holder = excluded.holder, term = l.term + 1,
                       expires_at = excluded.expires_at, taken_at = excluded.taken_at,
                       holder_addr = excluded.holder_addr
                   WHERE l.expires_at < clock_timestamp()
                 RETURNING term",
                &[&region, &holder, &(ttl_ms as f64), &addr],
            )
            .map_err(pg(&path, "take the lease"))?;
        Ok(row.map(|r| {
            let term = r.get::<_, i64>(0) as u64;
            self.fence = Some(Fence {
                region: region.to_string(),
                holder: holder.to_string(),
                term,
                ttl_ms,
            });
            Lease {
                region: region.to_string(),
                holder: holder.to_string(),
                term,
            }
        }))
    }

    /// Extends the lease this handle holds by its TTL from now. Fails with
    /// [`StoreError::Fenced`] when it was taken over: the caller must step down.
    pub fn renew_lease(&mut self) -> Result<(), StoreError> {
        self.check_usable()?;
        let Some(f) = self.fence.clone() else {
            return Err(StoreError::InvalidInput {
                detail: "this handle holds no lease to renew".into(),
            });
        };
        let path = self.location();
        let n = self
            .client
            .get_mut()
            .execute(
                "UPDATE leases SET expires_at = clock_timestamp() + $4::float8 * interval '1 millisecond'
                 WHERE region = $1 AND holder = $2 AND term = $3",
                &[&f.region, &f.holder, &(f.term as i64), &(f.ttl_ms as f64)],
            )
            .map_err(pg(&path, "renew the lease"))?;
        if n == 1 {
            return Ok(());
        }
        let now = self.lease_holder(&f.region)?;
        Err(StoreError::Fenced {
            region: f.region,
            holder: f.holder,
            term: f.term,
            detail: match now {
                Some(h) => format!("{:?} holds it in term {}", h.holder, h.term),
                None => "no lease row".into(),
            },
        })
    }

    /// Lets the lease go at once (a clean shutdown), so another node takes
    /// over without waiting for the TTL. Appends are fenced from now on.
    pub fn release_lease(&mut self) -> Result<(), StoreError> {
        let Some(f) = self.fence.clone() else {
            return Ok(());
        };
        let path = self.location();
        self.client
            .get_mut()
            .execute(
                "UPDATE leases SET expires_at = clock_timestamp() - interval '1 millisecond'
                 WHERE region = $1 AND holder = $2 AND term = $3",
                &[&f.region, &f.holder, &(f.term as i64)],
            )
            .map_err(pg(&path, "release the lease"))?;
        Ok(())
    }

    /// The lease this handle writes under, if any.
    pub fn lease(&self) -> Option<Lease> {
        self.fence.as_ref().map(|f| Lease {
            region: f.region.clone(),
            holder: f.holder.clone(),
            term: f.term,
        })
    }

    /// Who holds `region`'s lease now, as the database says.
    pub fn lease_holder(&self, region: &str) -> Result<Option<LeaseHolder>, StoreError> {
        let path = self.location();
        Ok(self
            .client
            .borrow_mut()
            .query_opt(
                "SELECT holder, term,
                        (extract(epoch FROM expires_at - clock_timestamp()) * 1000)::int8,
                        holder_addr
                 FROM leases WHERE region = $1",
                &[&region],
            )
            .map_err(pg(&path, "read the lease"))?
            .map(|r| LeaseHolder {
                holder: r.get(0),
                term: r.get::<_, i64>(1) as u64,
                expires_in_ms: r.get(2),
                addr: r.get(3),
            }))
    }

    /// Records that `node_id` serves `region` and answers at `addr` (now, by
    /// the database's clock), and returns every node of the region heard from
    /// within `fresh_within`, by node id.
    pub fn announce(
        &mut self,
        region: &str,
        node_id: &str,
        addr: Option<&str>,
        fresh_within: Duration,
    ) -> Result<Vec<NodeSeen>, StoreError> {
        self.check_usable()?;
        let path = self.location();
        let c = self.client.get_mut();
        c.execute(
            "INSERT INTO nodes (region, node_id, addr, seen_at) VALUES ($1, $2, $3, clock_timestamp())
             ON CONFLICT (region, node_id) DO UPDATE SET addr = EXCLUDED.addr, seen_at = EXCLUDED.seen_at",
            &[&region, &node_id, &addr],
        )
        .map_err(pg(&path, "announce the node"))?;
        Ok(c
            .query(
                "SELECT node_id, addr FROM nodes
                 WHERE region = $1 AND seen_at > clock_timestamp() - $2::float8 * interval '1 millisecond'
                 ORDER BY node_id",
                &[&region, &(ms(fresh_within) as f64)],
            )
            .map_err(pg(&path, "list the nodes"))?
            .iter()
            .map(|r| NodeSeen {
                node_id: r.get(0),
                addr: r.get(1),
            })
            .collect())
    }

    /// Forgets `node_id` as a node of `region` (a clean shutdown), so clients
    /// are no longer sent to it.
    pub fn forget_node(&mut self, region: &str, node_id: &str) -> Result<(), StoreError> {
        let path = self.location();
        self.client
            .get_mut()
            .execute(
                "DELETE FROM nodes WHERE region = $1 AND node_id = $2",
                &[&region, &node_id],
            )
            .map_err(pg(&path, "forget the node"))?;
        Ok(())
    }
}
