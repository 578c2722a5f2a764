//! The server under test: the fleet it starts with, the accounts the clients log in
//! with, `satria serve` as a child process, and its memory.

use super::PASSWORD;
use anyhow::{Context, bail};
use rand::Rng;
use satria_auth::{AuthConfig, AuthStore, HashParams, NewUser, Role};
use satria_dispatch::{LatLon, Unit};
use std::io::BufRead;
use std::time::Duration;

/// The demo fleet, then synthetic units at the incident places, up to `n`.
pub(super) fn load_fleet(
    n: usize,
    places: &[LatLon],
    net: &satria_roads::RoadNetwork,
    rng: &mut impl Rng,
) -> Vec<Unit> {
    let mut fleet: Vec<Unit> = satria_dispatch::demo_fleet()
        .into_iter()
        .filter(|u| net.snap(u.base.lat, u.base.lon, 1000.0).is_ok())
        .collect();
    fleet.truncate(n);
    let mut k = 0;
    while fleet.len() < n {
        let base = places
            .get(k % places.len().max(1))
            .copied()
            .unwrap_or(LatLon {
                lat: -7.4245,
                lon: 109.2300,
            });
        let mut jitter = || rng.gen_range(-0.002..0.002);
        let base = LatLon {
            lat: base.lat + jitter(),
            lon: base.lon + jitter(),
        };
        k += 1;
        let id = format!("LOAD-{k:03}");
        let ty = if k % 3 == 0 {
            satria_dispatch::UnitType::Als
        } else {
            satria_dispatch::UnitType::Bls
        };
        fleet.push(Unit::new(
            &id,
            &format!("Uji {k:03}"),
            ty,
            satria_dispatch::Owner::Puskesmas,
            "Puskesmas (uji beban)",
            base,
            &[],
        ));
    }
    fleet
}

pub(super) fn fleet_to_csv(fleet: &[Unit]) -> String {
    let mut s = String::from("id,call_sign,type,owner,base_name,lat,lon,capabilities\n");
    for u in fleet {
        let ty = serde_json::to_value(u.unit_type).unwrap_or_default();
        let owner = serde_json::to_value(u.owner).unwrap_or_default();
        s.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            u.id.0,
            u.call_sign,
            ty.as_str().unwrap_or("bls"),
            owner.as_str().unwrap_or("psc"),
            u.base_name.replace(',', " "),
            u.base.lat,
            u.base.lon,
            u.capabilities.join(";")
        ));
    }
    s
}

/// One dispatcher and one crew account per unit, in the throw-away data
/// directory. The cheap hash is for these accounts only: they live as long as
/// the run.
/// In a cluster, in its database.
pub(super) fn create_accounts(
    dir: &std::path::Path,
    database: Option<&str>,
    crews: &[Unit],
) -> anyhow::Result<()> {
    let config = AuthConfig {
        hash: HashParams::INSECURE_FAST,
        max_failures: 0,
        ..AuthConfig::default()
    };
    let auth = match database {
        Some(url) => AuthStore::open_postgres(url, config)?,
        None => AuthStore::open_with(&dir.join("auth.sqlite"), config)?,
    };
    let now = satria_server::now_ms();
    let add = |username: String, role, unit: Option<String>| {
        auth.add_user(
            NewUser {
                username,
                password: PASSWORD.into(),
                role,
                unit,
                hospital: None,
                subject: None,
            },
            now,
        )
    };
    add("load-dispatcher".into(), Role::Dispatcher, None)?;
    for u in crews {
        add(crew_username(u), Role::Crew, Some(u.id.0.clone()))?;
    }
    Ok(())
}

pub(super) fn crew_username(u: &Unit) -> String {
    format!("crew-{}", u.id.0.to_ascii_lowercase())
}

/// The cluster a `--nodes` run starts: its database and Redis.
pub(super) struct Cluster {
    url: String,
    redis: Option<String>,
    prefix: String,
}

impl Cluster {
    /// Checks that the database is a throw-away one (no journal yet).
    pub(super) fn prepare(url: &str, redis: Option<String>) -> anyhow::Result<Cluster> {
        match satria_store::PgJournal::open_reader(url) {
            Ok(j) if j.stream_head("region:banyumas")? > 0 => bail!(
                "{}: holds a journal already; give satria load a throw-away database",
                satria_store::pg::redact(url)
            ),
            Ok(_) | Err(satria_store::StoreError::ForeignSchema { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(Cluster {
            url: url.to_string(),
            redis,
            prefix: format!("satria-load:{}:", std::process::id()),
        })
    }

    /// The flags of node `k`.
    pub(super) fn args(&self, k: usize) -> Vec<String> {
        let mut a = vec![
            "--database".to_string(),
            self.url.clone(),
            "--node-id".to_string(),
            format!("load-{k}"),
        ];
        if let Some(r) = &self.redis {
            a.extend([
                "--redis".to_string(),
                r.clone(),
                "--redis-prefix".to_string(),
                self.prefix.clone(),
            ]);
        }
        a
    }

    /// Deletes this run's Redis keys.
    pub(super) fn clean(&self) {
        let Some(r) = &self.redis else { return };
        if let Ok(mut c) = redis_client(r) {
            for k in ["events", "positions", "last-positions"] {
                let _ = redis::cmd("DEL")
                    .arg(format!("{}region:banyumas:{k}", self.prefix))
                    .query::<i64>(&mut c);
            }
        }
    }
}

fn redis_client(url: &str) -> redis::RedisResult<redis::Connection> {
    redis::Client::open(url)?.get_connection_with_timeout(Duration::from_secs(2))
}

/// `satria serve` as a child process.
pub(super) struct Spawned {
    child: std::process::Child,
    pub(super) pid: u32,
    pub(super) addr: String,
}

impl Spawned {
    pub(super) fn start(
        dir: &std::path::Path,
        graph: &std::path::Path,
        fleet: &std::path::Path,
        extra: Vec<String>,
    ) -> anyhow::Result<Spawned> {
        let exe = std::env::current_exe()?;
        let mut child = std::process::Command::new(exe)
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .arg("--graph")
            .arg(graph)
            .arg("--fleet")
            .arg(fleet)
            .args(extra)
            .env_remove("SATRIA_CONFIG")
            // The server's log level: warnings unless SATRIA_LOAD_LOG says otherwise.
            .env(
                "RUST_LOG",
                std::env::var("SATRIA_LOAD_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .context("cannot start satria serve")?;
        let pid = child.id();
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = std::io::BufReader::new(stdout).lines();
        let mut addr = None;
        for line in lines.by_ref() {
            let line = line?;
            if let Some(rest) = line.split("serving http://").nth(1) {
                addr = rest.split('/').next().map(String::from);
                break;
            }
        }
        // Keep draining so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let Some(addr) = addr else {
            let _ = child.kill();
            bail!("satria serve did not start (see its messages above)");
        };
        Ok(Spawned { child, pid, addr })
    }

    /// SIGKILL, as when its machine dies.
    pub(super) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub(super) fn stop(&mut self) {
        // SIGTERM through kill(1) for a graceful stop; SIGKILL if it lingers.
        let _ = std::process::Command::new("kill")
            .arg(self.pid.to_string())
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident set size of a process, now and at its peak, in MB.
pub(super) fn rss_mb(pid: u32) -> (f64, f64) {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return (0.0, 0.0);
    };
    let field = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
