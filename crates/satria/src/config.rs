//! The configuration file of `satria serve` (TOML), and the logs.
//!
//! Precedence, highest first: a command-line flag, its `SATRIA_*` environment
//! variable, the file named by `--config` / `SATRIA_CONFIG`, the built-in
//! default. Every key is optional and an unknown key is an error, so a typo
//! never goes unnoticed. The file holds no secrets (accounts live in the
//! accounts database; passwords are never read from configuration), and the
//! effective configuration may be logged whole. `fixtures/config/satria.toml`
//! lists every key with its default.

use anyhow::Context;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Address to listen on (default `127.0.0.1:8119`).
    pub addr: Option<String>,
    /// Journal, accounts and the demo graph (default `./satria-data`).
    pub data_dir: Option<PathBuf>,
    /// A road graph from `satria import` (default: the demo region's).
    pub graph: Option<PathBuf>,
    /// The fleet CSV, read once into an empty journal (default: the demo fleet).
    pub fleet: Option<PathBuf>,
    /// The region this node dispatches (default `banyumas`).
    pub region: Option<String>,
    #[serde(default)]
    pub log: LogSection,
    #[serde(default)]
    pub server: ServerSection,
    #[serde(default)]
    pub auth: AuthSection,
    #[serde(default)]
    pub engine: EngineSection,
    #[serde(default)]
    pub journal: JournalSection,
    #[serde(default)]
    pub cluster: ClusterSection,
    /// The dispatch policy's tunables (`satria_dispatch::Config`); a missing key
    /// keeps its default.
    pub dispatch: Option<satria_dispatch::Config>,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// `auto` (JSON when standard error is not a terminal), `json` or `text`.
    pub format: Option<String>,
    /// A `RUST_LOG`-style filter, e.g. `info` or `satria_server=debug,info`.
    pub level: Option<String>,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    pub max_body_bytes: Option<usize>,
    pub ping_every_s: Option<u64>,
    pub max_replay: Option<u64>,
    pub max_speed_kmh: Option<f64>,
    pub max_clock_skew_s: Option<i64>,
    /// A WebSocket client further behind than this in reading is dropped.
    pub max_ws_lag_s: Option<u64>,
    /// `live`, `training` or `demo`: the consoles offer practice tools (the crew
    /// app's simulated drive) only outside live service. Default: `demo` on the
    /// generated demo region, `live` with a graph of one's own.
    pub mode: Option<satria_server::ServiceMode>,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    pub session_ttl_h: Option<f64>,
    pub max_failures: Option<u32>,
    pub failure_window_min: Option<f64>,
    pub lockout_min: Option<f64>,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EngineSection {
    pub inbox: Option<usize>,
    pub tick_ms: Option<u64>,
    pub pre_arrival_every_s: Option<u32>,
    /// A snapshot of the state every this many journaled events (0: never).
    pub snapshot_every: Option<u64>,
}

/// The journal's integrity (flags `--accept-broken-chain`, `--audit-key`,
/// `--checkpoint-every-rows`, `--checkpoint-every-s` win over it).
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JournalSection {
    /// Start on a broken chain when this is exactly its first broken row.
    pub accept_broken_chain: Option<u64>,
    /// The ed25519 key that signs checkpoints (outside the data dir).
    pub audit_key: Option<PathBuf>,
    pub checkpoint_every_rows: Option<u64>,
    pub checkpoint_every_s: Option<u64>,
}

/// Several nodes on one PostgreSQL journal (flags `--database`, `--node-id`,
/// `--lease-ttl-ms`, `--lease-renew-ms` win over it). A database URL that
/// carries a password belongs in `SATRIA_DATABASE`, not in this file.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClusterSection {
    /// `postgres://user@host/db`: the journal of every node of the cluster.
    pub database: Option<String>,
    /// This node's name, unique in the cluster.
    pub node_id: Option<String>,
    /// How long a region's lease lives without renewal (default 3000).
    pub lease_ttl_ms: Option<u64>,
    /// How often the leader renews it (default 1000).
    pub lease_renew_ms: Option<u64>,
    /// `redis://host:port/db`: fan-out between the nodes (never the truth).
    pub redis: Option<String>,
    /// Put before every Redis key and channel (default `satria:`).
    pub redis_prefix: Option<String>,
    /// Where the other nodes reach this one (`http://host:port`).
    pub advertise: Option<String>,
}

impl ConfigFile {
    /// Reads and checks a configuration file.
    pub fn read(path: &Path) -> anyhow::Result<ConfigFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read the configuration file", path.display()))?;
        ConfigFile::parse(&text).with_context(|| format!("{}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<ConfigFile> {
        let c: ConfigFile = toml::from_str(text).context("not a valid configuration")?;
        c.check()?;
        Ok(c)
    }

    fn check(&self) -> anyhow::Result<()> {
        let s = &self.server;
        let bad = |what: &str| Err(anyhow::anyhow!("{what}"));
        if s.max_body_bytes
            .is_some_and(|b| !(1024..=16 << 20).contains(&b))
        {
            return bad("server.max_body_bytes must be between 1 KiB and 16 MiB");
        }
        if s.ping_every_s.is_some_and(|p| !(1..=300).contains(&p)) {
            return bad("server.ping_every_s must be between 1 and 300");
        }
        if s.max_speed_kmh
            .is_some_and(|v| !(v.is_finite() && (10.0..=1000.0).contains(&v)))
        {
            return bad("server.max_speed_kmh must be between 10 and 1000");
        }
        if s.max_clock_skew_s.is_some_and(|v| !(0..=3600).contains(&v)) {
            return bad("server.max_clock_skew_s must be between 0 and 3600");
        }
        if s.max_ws_lag_s.is_some_and(|v| !(1..=300).contains(&v)) {
            return bad("server.max_ws_lag_s must be between 1 and 300");
        }
        let a = &self.auth;
        for (name, v) in [
            ("auth.session_ttl_h", a.session_ttl_h),
            ("auth.failure_window_min", a.failure_window_min),
            ("auth.lockout_min", a.lockout_min),
        ] {
            if v.is_some_and(|v| !(v.is_finite() && v > 0.0 && v <= 24.0 * 365.0)) {
                return Err(anyhow::anyhow!("{name} must be a positive number"));
            }
        }
        if self
            .engine
            .inbox
            .is_some_and(|i| !(16..=1 << 20).contains(&i))
        {
            return bad("engine.inbox must be between 16 and 1048576");
        }
        if self
            .engine
            .tick_ms
            .is_some_and(|t| !(10..=10_000).contains(&t))
        {
            return bad("engine.tick_ms must be between 10 and 10000");
        }
        if self
            .engine
            .snapshot_every
            .is_some_and(|n| n != 0 && !(100..=10_000_000).contains(&n))
        {
            return bad("engine.snapshot_every must be 0 (never) or between 100 and 10000000");
        }
        let j = &self.journal;
        if j.checkpoint_every_rows
            .is_some_and(|n| !(1..=1_000_000).contains(&n))
        {
            return bad("journal.checkpoint_every_rows must be between 1 and 1000000");
        }
        if j.checkpoint_every_s
            .is_some_and(|n| !(1..=86_400).contains(&n))
        {
            return bad("journal.checkpoint_every_s must be between 1 and 86400");
        }
        crate::cluster::check_lease(self.cluster.lease_ttl_ms, self.cluster.lease_renew_ms)
            .map_err(|e| anyhow::anyhow!("cluster: {e}"))?;
        if let Some(f) = &self.log.format
            && !matches!(f.as_str(), "auto" | "json" | "text")
        {
            return bad("log.format must be auto, json or text");
        }
        if let Some(l) = &self.log.level {
            tracing_subscriber::EnvFilter::try_new(l)
                .map_err(|e| anyhow::anyhow!("log.level {l:?}: {e}"))?;
        }
        Ok(())
    }

    /// The server's tunables: the file over the defaults.
    pub fn server_options(&self) -> satria_server::ServerOptions {
        let mut o = satria_server::ServerOptions::default();
        let s = &self.server;
        if let Some(v) = s.max_body_bytes {
            o.max_body = v;
        }
        if let Some(v) = s.ping_every_s {
            o.ping_every = std::time::Duration::from_secs(v);
        }
        if let Some(v) = s.max_replay {
            o.max_replay = v;
        }
        if let Some(v) = s.max_speed_kmh {
            o.max_speed_kmh = v;
        }
        if let Some(v) = s.max_ws_lag_s {
            o.max_ws_lag = std::time::Duration::from_secs(v);
        }
        if let Some(m) = s.mode {
            o.service = m;
        }
        o
    }

    /// The accounts' tunables: the file over the defaults.
    pub fn auth_config(&self) -> satria_auth::AuthConfig {
        let mut c = satria_auth::AuthConfig::default();
        let a = &self.auth;
        let ms = |min: f64| (min * 60_000.0) as i64;
        if let Some(h) = a.session_ttl_h {
            c.session_ttl_ms = ms(h * 60.0);
        }
        if let Some(n) = a.max_failures {
            c.max_failures = n;
        }
        if let Some(m) = a.failure_window_min {
            c.failure_window_ms = ms(m);
        }
        if let Some(m) = a.lockout_min {
            c.lockout_ms = ms(m);
        }
        c
    }

    /// Applies the engine and dispatch sections.
    pub fn apply_engine(&self, o: &mut satria_engine::EngineOptions) {
        if let Some(c) = &self.dispatch {
            o.config = c.clone();
        }
        // Every door checks device times in the engine, with this skew.
        if let Some(v) = self.server.max_clock_skew_s {
            o.config.clock_skew_s = u32::try_from(v).unwrap_or(0);
        }
        if let Some(v) = self.engine.inbox {
            o.inbox = v;
        }
        if let Some(v) = self.engine.tick_ms {
            o.tick_ms = v;
        }
        if let Some(v) = self.engine.snapshot_every {
            o.snapshot_every = v;
        }
        if let Some(v) = self.engine.pre_arrival_every_s {
            o.pre_arrival_every_s = v;
        }
    }
}

/// Starts the logs on standard error: JSON lines when it is not a terminal (a
/// service manager or a container collects them), readable text when it is.
/// `RUST_LOG` overrides the configured level.
pub fn init_logs(log: &LogSection) {
    use std::io::IsTerminal;
    let level = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| log.level.clone())
        .unwrap_or_else(|| "info".into());
    let filter = tracing_subscriber::EnvFilter::try_new(&level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = match log.format.as_deref() {
        Some("json") => true,
        Some("text") => false,
        _ => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_lists_valid_keys_and_the_defaults() {
        let text = include_str!("../../../fixtures/config/satria.toml");
        let c = ConfigFile::parse(text).unwrap();
        assert_eq!(c.addr.as_deref(), Some("127.0.0.1:8119"));
        assert_eq!(c.dispatch, Some(satria_dispatch::Config::default()));
        let o = c.server_options();
        let d = satria_server::ServerOptions::default();
        assert_eq!(o.max_body, d.max_body);
        assert_eq!(o.ping_every, d.ping_every);
        assert_eq!(o.max_replay, d.max_replay);
        assert_eq!(o.max_ws_lag, d.max_ws_lag);
        assert_eq!(o.service, d.service);
        assert_eq!(c.auth_config().session_ttl_ms, 12 * 3600 * 1000);
        let t = ConfigFile::parse("[server]\nmode = \"training\"\nmax_ws_lag_s = 30").unwrap();
        assert_eq!(
            t.server_options().service,
            satria_server::ServiceMode::Training
        );
        assert_eq!(t.server_options().max_ws_lag.as_secs(), 30);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_the_key_named() {
        for (text, says) in [
            ("adr = \"x\"", "unknown field `adr`"),
            ("[server]\nping_every_s = 0", "server.ping_every_s"),
            ("[server]\nmax_body_bytes = 10", "server.max_body_bytes"),
            ("[server]\nmax_ws_lag_s = 0", "server.max_ws_lag_s"),
            (
                "[server]\nmode = \"production\"",
                "unknown variant `production`",
            ),
            ("[log]\nformat = \"xml\"", "log.format"),
            ("[auth]\nsession_ttl_h = -1", "auth.session_ttl_h"),
            ("[dispatch]\nack_timeout_s = \"soon\"", "ack_timeout_s"),
            ("[engine]\ntick_ms = 1", "engine.tick_ms"),
            ("[engine]\nsnapshot_every = 5", "engine.snapshot_every"),
            (
                "[journal]\ncheckpoint_every_rows = 0",
                "journal.checkpoint_every_rows",
            ),
            (
                "[journal]\nsigning_key = \"k\"",
                "unknown field `signing_key`",
            ),
        ] {
            let e = format!("{:#}", ConfigFile::parse(text).unwrap_err());
            assert!(e.contains(says), "{text:?} gave {e}");
        }
    }

    #[test]
    fn a_partial_dispatch_section_keeps_the_other_defaults() {
        let c = ConfigFile::parse("[dispatch]\nack_timeout_s = 90\n").unwrap();
        let d = c.dispatch.unwrap();
        assert_eq!(d.ack_timeout_s, 90);
        assert_eq!(
            d.referral_deadline_s,
            satria_dispatch::Config::default().referral_deadline_s
        );
    }
}
