//! The cluster options of `satria serve`: the shared PostgreSQL journal, the
//! node's name, and the region lease's timing.

use anyhow::bail;
use satria_engine::{ClusterOptions, RedisOptions};
use std::time::Duration;

/// Several `satria serve` nodes on one PostgreSQL journal: flags, or their
/// `SATRIA_*` variables, over the `[cluster]` section of the configuration.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct ClusterArgs {
    /// Keep the dispatch journal in this PostgreSQL database, shared by every
    /// node of a cluster (postgres://user@host/db; the password never shows
    /// in output). Without it the journal is the data directory's SQLite file.
    #[arg(long, env = "SATRIA_DATABASE", value_name = "URL")]
    pub database: Option<String>,
    /// This node's name, unique in the cluster (needed with --database).
    #[arg(long, env = "SATRIA_NODE_ID", value_name = "NAME")]
    pub node_id: Option<String>,
    /// How long the region's lease lives without renewal, in ms [default: 3000]:
    /// how long a region waits for a new leader after its leader died.
    #[arg(long, env = "SATRIA_LEASE_TTL_MS", value_name = "MS")]
    pub lease_ttl_ms: Option<u64>,
    /// How often the leader renews the lease, in ms [default: 1000].
    #[arg(long, env = "SATRIA_LEASE_RENEW_MS", value_name = "MS")]
    pub lease_renew_ms: Option<u64>,
    /// Fan events and positions out to the other nodes through this Redis
    /// (redis://host:port/db); never the truth. Without it, followers read
    /// the journal on every tick.
    #[arg(long, env = "SATRIA_REDIS", value_name = "URL")]
    pub redis: Option<String>,
    /// Put before every Redis key and channel [default: satria:], so that
    /// several clusters can share one Redis.
    #[arg(long, env = "SATRIA_REDIS_PREFIX", value_name = "PREFIX")]
    pub redis_prefix: Option<String>,
    /// Where the other nodes reach this one over HTTP (http://host:port), to
    /// forward commands while it leads [default: http:// and the --addr it
    /// listens on, unless that is 0.0.0.0 or ::].
    #[arg(long, env = "SATRIA_ADVERTISE", value_name = "URL")]
    pub advertise: Option<String>,
}

/// Checks the lease timing: a TTL of 0.5–60 s, renewed at least twice per TTL.
pub fn check_lease(ttl_ms: Option<u64>, renew_ms: Option<u64>) -> anyhow::Result<()> {
    let ttl = ttl_ms.unwrap_or(3000);
    let renew = renew_ms.unwrap_or(1000);
    if !(500..=60_000).contains(&ttl) {
        bail!("lease_ttl_ms must be between 500 and 60000, not {ttl}");
    }
    if renew < 100 || renew.saturating_mul(2) > ttl {
        bail!(
            "lease_renew_ms must be at least 100 and at most half of lease_ttl_ms ({ttl}), not {renew}: a leader renews at least twice per lease"
        );
    }
    Ok(())
}

/// The region's name (default `banyumas`): 1 to 40 lowercase letters, digits
/// and `-`, starting with a letter. Its journal stream is `region:NAME`.
pub fn region(name: Option<String>) -> anyhow::Result<String> {
    let name = name.unwrap_or_else(|| "banyumas".to_string());
    let ok = name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        bail!(
            "--region {name:?} is not a region name: 1 to 40 lowercase letters, digits or '-', starting with a letter (e.g. banyumas)"
        );
    }
    Ok(name)
}

/// A node name: letters, digits, `-`, `_` and `.`, 1–64 of them.
pub(crate) fn check_node_id(id: &str) -> anyhow::Result<()> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        bail!("--node-id {id:?} is not a node name: 1 to 64 letters, digits, '-', '_' or '.'");
    }
    Ok(())
}

impl ClusterArgs {
    /// These flags over the configuration file's `[cluster]` section.
    pub fn or_file(self, f: &crate::config::ClusterSection) -> ClusterArgs {
        ClusterArgs {
            database: self.database.or(f.database.clone()),
            node_id: self.node_id.or(f.node_id.clone()),
            lease_ttl_ms: self.lease_ttl_ms.or(f.lease_ttl_ms),
            lease_renew_ms: self.lease_renew_ms.or(f.lease_renew_ms),
            redis: self.redis.or(f.redis.clone()),
            redis_prefix: self.redis_prefix.or(f.redis_prefix.clone()),
            advertise: self.advertise.or(f.advertise.clone()),
        }
    }

    /// The engine's cluster options (`None`: one node on its data directory),
    /// refusing a half-given or inconsistent configuration.
    pub fn options(&self) -> anyhow::Result<Option<ClusterOptions>> {
        let Some(url) = &self.database else {
            if self.node_id.is_some() {
                bail!("--node-id names a node of a cluster: give the cluster's --database too");
            }
            if self.redis.is_some() {
                bail!("--redis fans a cluster's events out: give the cluster's --database too");
            }
            return Ok(None);
        };
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            bail!(
                "--database {}: a PostgreSQL URL, postgres://user@host/db",
                satria_store::pg::redact(url)
            );
        }
        let Some(node_id) = &self.node_id else {
            bail!("--database needs --node-id NAME, this node's name, unique in the cluster");
        };
        check_node_id(node_id)?;
        check_lease(self.lease_ttl_ms, self.lease_renew_ms)?;
        let mut c = ClusterOptions::new(url.clone(), node_id.clone());
        if let Some(ms) = self.lease_ttl_ms {
            c.lease_ttl = Duration::from_millis(ms);
        }
        if let Some(ms) = self.lease_renew_ms {
            c.renew_every = Duration::from_millis(ms);
        }
        if let Some(r) = &self.redis {
            if !(r.starts_with("redis://") || r.starts_with("rediss://")) {
                bail!(
                    "--redis {}: a Redis URL, redis://host:port/db",
                    redact_redis(r)
                );
            }
            let mut o = RedisOptions::new(r.clone());
            if let Some(p) = &self.redis_prefix {
                if p.is_empty() || p.len() > 64 || p.chars().any(char::is_whitespace) {
                    bail!("--redis-prefix {p:?}: 1 to 64 characters without spaces");
                }
                o.prefix = p.clone();
            }
            c.redis = Some(o);
        } else if self.redis_prefix.is_some() {
            bail!("--redis-prefix names keys in Redis: give --redis too");
        }
        if let Some(a) = &self.advertise {
            let ok = (a.starts_with("http://") || a.starts_with("https://"))
                && a.len() > 8
                && !a.contains(char::is_whitespace);
            if !ok {
                bail!(
                    "--advertise {a:?}: the URL the other nodes reach this one at, e.g. http://10.0.0.5:8119"
                );
            }
            c.advertise = Some(a.trim_end_matches('/').to_string());
        }
        Ok(Some(c))
    }
}

/// Where the other nodes reach this one: `advertise`, or the address it
/// listens on when that is a specific one.
pub fn advertise(given: Option<&str>, local: std::net::SocketAddr) -> anyhow::Result<String> {
    match given {
        Some(a) => Ok(a.to_string()),
        None if local.ip().is_unspecified() => bail!(
            "this node listens on {local}, which the other nodes cannot dial: give --advertise http://HOST:{} (or SATRIA_ADVERTISE), where they reach it",
            local.port()
        ),
        None => Ok(format!("http://{local}")),
    }
}

/// A Redis URL without its password, for messages.
pub fn redact_redis(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(db: Option<&str>, node: Option<&str>) -> ClusterArgs {
        ClusterArgs {
            database: db.map(str::to_string),
            node_id: node.map(str::to_string),
            ..ClusterArgs::default()
        }
    }

    #[test]
    fn no_database_is_one_node() {
        assert_eq!(args(None, None).options().unwrap(), None);
    }

    #[test]
    fn a_database_needs_a_node_name_and_a_postgres_url() {
        let e = args(Some("postgres://u:secret@h/db"), None)
            .options()
            .unwrap_err()
            .to_string();
        assert!(e.contains("--node-id"), "{e}");
        let e = args(Some("mysql://u:secret@h/db"), Some("a"))
            .options()
            .unwrap_err()
            .to_string();
        assert!(e.contains("PostgreSQL URL") && !e.contains("secret"), "{e}");
        let e = args(None, Some("a")).options().unwrap_err().to_string();
        assert!(e.contains("--database"), "{e}");
        let e = args(Some("postgres://h/db"), Some("node one"))
            .options()
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a node name"), "{e}");
    }

    #[test]
    fn redis_goes_with_a_database_and_hides_its_password() {
        let mut a = args(Some("postgres://h/db"), Some("n1"));
        a.redis = Some("http://u:hunter2@h".into());
        let e = a.options().unwrap_err().to_string();
        assert!(e.contains("Redis URL") && !e.contains("hunter2"), "{e}");
        a.redis = Some("redis://127.0.0.1:6379/0".into());
        a.redis_prefix = Some("psc119:".into());
        let r = a.options().unwrap().unwrap().redis.unwrap();
        assert_eq!(
            (r.url.as_str(), r.prefix.as_str()),
            ("redis://127.0.0.1:6379/0", "psc119:")
        );
        let mut b = args(None, None);
        b.redis = Some("redis://h".into());
        assert!(b.options().unwrap_err().to_string().contains("--database"));
        assert_eq!(redact_redis("redis://u:pw@h:1/0"), "redis://u:***@h:1/0");
    }

    #[test]
    fn region_names_are_checked() {
        assert_eq!(region(None).unwrap(), "banyumas");
        assert_eq!(
            region(Some("banyumas-latihan".into())).unwrap(),
            "banyumas-latihan"
        );
        for bad in ["", "Banyumas", "1st", "a b", "region:x", &"x".repeat(41)] {
            assert!(region(Some(bad.to_string())).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_advertised_address_is_given_or_dialable() {
        let local: std::net::SocketAddr = "127.0.0.1:8119".parse().unwrap();
        assert_eq!(advertise(None, local).unwrap(), "http://127.0.0.1:8119");
        let any: std::net::SocketAddr = "0.0.0.0:8119".parse().unwrap();
        assert!(
            advertise(None, any)
                .unwrap_err()
                .to_string()
                .contains("--advertise")
        );
        assert_eq!(
            advertise(Some("http://10.0.0.5:8119"), any).unwrap(),
            "http://10.0.0.5:8119"
        );
        let mut a = args(Some("postgres://h/db"), Some("n1"));
        a.advertise = Some("10.0.0.5:8119".into());
        assert!(a.options().is_err());
    }

    #[test]
    fn lease_timing_is_checked() {
        let c = args(Some("postgres://h/db"), Some("node-1"))
            .options()
            .unwrap()
            .unwrap();
        assert_eq!(c.lease_ttl, Duration::from_secs(3));
        assert_eq!(c.renew_every, Duration::from_secs(1));
        assert!(check_lease(Some(3000), Some(2000)).is_err());
        assert!(check_lease(Some(100), None).is_err());
        assert!(check_lease(Some(2000), Some(1000)).is_ok());
    }
}
