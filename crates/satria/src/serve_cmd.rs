//! `satria serve` and `satria user`: the server on the demo region (or a given
//! graph), and the accounts that may use it.

use anyhow::{Context, bail};
use rand::Rng;
use satria_auth::{AuthStore, NewUser, Role};
use satria_engine::{Clock, Engine, EngineOptions, RoadDriveTimes};
use satria_server::AppState;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// The accounts database inside a data directory.
pub fn auth_path(data_dir: &Path) -> PathBuf {
    data_dir.join("auth.sqlite")
}

/// Where the accounts are: the data directory's `auth.sqlite`, or a
/// cluster's PostgreSQL database (shared by every node, with the Salinmas
/// records that household and collector logins are bound to).
#[derive(Debug, Clone, Copy)]
pub struct Accounts<'a> {
    pub data_dir: &'a Path,
    pub database: Option<&'a str>,
}

impl<'a> Accounts<'a> {
    pub fn new(data_dir: &'a Path, database: Option<&'a str>) -> Accounts<'a> {
        Accounts { data_dir, database }
    }

    /// Where, for messages (a URL without its password).
    fn shown(&self) -> String {
        match self.database {
            Some(url) => satria_store::pg::redact(url),
            None => self.data_dir.display().to_string(),
        }
    }

    /// Opens the accounts; `create` makes an empty store where there is none.
    fn open(&self, create: bool) -> anyhow::Result<AuthStore> {
        match self.database {
            Some(url) => AuthStore::open_postgres(url, satria_auth::AuthConfig::default())
                .map_err(|e| anyhow::anyhow!("{}: cannot open the accounts: {e}", self.shown())),
            None => {
                let path = auth_path(self.data_dir);
                if !create && !path.exists() {
                    bail!(
                        "{}: no accounts here (start satria serve once, or give --data-dir or --database)",
                        self.data_dir.display()
                    );
                }
                std::fs::create_dir_all(self.data_dir)?;
                Ok(AuthStore::open(&path)?)
            }
        }
    }
}

/// What `satria serve` was asked for.
#[derive(Debug)]
pub struct ServeArgs {
    pub addr: String,
    pub data_dir: PathBuf,
    pub graph: Option<PathBuf>,
    pub fleet: Option<PathBuf>,
    /// The region this node dispatches (its stream `region:NAME`, its lease).
    pub region: String,
    /// Accepting a broken chain, signing checkpoints.
    pub integrity: crate::engine_cmd::IntegrityArgs,
    /// The journal in PostgreSQL, shared with other nodes (`None`: the data
    /// directory's SQLite file).
    pub cluster: Option<satria_engine::ClusterOptions>,
    /// The rest of the configuration file (already checked).
    pub config: crate::config::ConfigFile,
}

fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..14)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// On an empty accounts database (the first start on a data directory): the
/// modules' demo records and one demo account per role, printed once.
fn demo_users(
    auth: &AuthStore,
    state: &AppState,
    crew_unit: &str,
    hospital: &str,
) -> anyhow::Result<()> {
    if !auth.list_users()?.is_empty() {
        return Ok(());
    }
    let now = satria_server::now_ms();
    let modules = state
        .modules
        .get()
        .context("the modules must be open before the demo accounts")?;
    modules
        .pattas
        .seed_demo(now)
        .map_err(|e| anyhow::anyhow!("pattas demo data: {e}"))?;
    let ids = modules
        .salinmas
        .seed_demo(now)
        .map_err(|e| anyhow::anyhow!("salinmas demo data: {e}"))?;
    println!("== demo accounts (printed once; passwords are stored only as argon2id hashes):");
    let household = ids.household_account_id.to_string();
    let collector = ids.collector_group_id.to_string();
    for (username, role, unit, hosp, subject) in [
        ("dispatcher", Role::Dispatcher, None, None, None),
        ("crew", Role::Crew, Some(crew_unit.to_string()), None, None),
        (
            "hospital",
            Role::Hospital,
            None,
            Some(hospital.to_string()),
            None,
        ),
        ("admin", Role::Admin, None, None, None),
        ("pattas", Role::PattasOfficer, None, None, None),
        (
            satria_pattas::DEMO_MITRA_USERNAME,
            Role::PattasMitra,
            None,
            None,
            None,
        ),
        ("salinmas", Role::SalinmasOfficer, None, None, None),
        (
            "rumahtangga",
            Role::SalinmasHousehold,
            None,
            None,
            Some(household.clone()),
        ),
        (
            "ksm",
            Role::SalinmasCollector,
            None,
            None,
            Some(collector.clone()),
        ),
    ] {
        let password = random_password();
        auth.add_user(
            NewUser {
                username: username.into(),
                password: password.clone(),
                role,
                unit: unit.clone(),
                hospital: hosp.clone(),
                subject: subject.clone(),
            },
            now,
        )?;
        let bound = unit
            .map(|u| format!(" (unit {u})"))
            .or(hosp.map(|h| format!(" (hospital {h})")))
            .or(subject.map(|s| format!(" (record {s})")))
            .unwrap_or_default();
        println!("   {username:<11} {password}  role {role}{bound}");
    }
    Ok(())
}

/// `satria serve`.
pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let t0 = Instant::now();
    // Listen first: a port already taken is said at once, before a first run
    // spends seconds on the map or creates accounts and prints their passwords.
    let listener = std::net::TcpListener::bind(&args.addr).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
            "another program (perhaps another satria serve) already listens there; stop it, \
             or choose another address: satria serve --addr 127.0.0.1:8120 (or SATRIA_ADDR)"
        } else {
            "check the address (HOST:PORT) given with --addr or SATRIA_ADDR"
        };
        anyhow::anyhow!("cannot listen on {}: {e}; {hint}", args.addr)
    })?;
    listener
        .set_nonblocking(true)
        .context("cannot make the listening socket non-blocking")?;
    std::fs::create_dir_all(&args.data_dir).with_context(|| {
        format!(
            "{}: cannot create the data directory",
            args.data_dir.display()
        )
    })?;
    let graph = match &args.graph {
        Some(g) => {
            if !g.exists() {
                bail!(
                    "{}: no such graph file (make one with `satria import`)",
                    g.display()
                );
            }
            g.clone()
        }
        None => crate::roads_cmd::ensure_demo_graph(&args.data_dir)?,
    };
    let t = Instant::now();
    let t_started = t;
    let net = Arc::new(
        satria_roads::RoadNetwork::load(&graph)
            .with_context(|| format!("{}: cannot load the road graph", graph.display()))?,
    );
    println!(
        "== road graph {}: {} junctions, loaded in {:.0} ms",
        graph.display(),
        net.graph.node_count(),
        t.elapsed().as_secs_f64() * 1e3
    );
    let mut opts = EngineOptions::new(&args.data_dir);
    opts.stream = format!("region:{}", args.region);
    args.config.apply_engine(&mut opts);
    // Positions outside the road graph's box (plus the margin) are refused,
    // unless the configuration names the service area itself.
    if opts.config.service_area.is_none() {
        opts.config.service_area = Some(satria_dispatch::ServiceArea::from_bounds(
            net.graph.bounds(),
        ));
    }
    args.integrity.apply(&args.data_dir, &mut opts)?;
    if let Some(c) = &args.cluster {
        // A cluster journal is verified whole at every node's start and
        // accepts no break. With --audit-key the leading node signs its head.
        if opts.accept_broken_row.is_some() {
            bail!(
                "--accept-broken-chain is for a data directory's journal; a cluster journal accepts no break (see satria audit verify --database)"
            );
        }
        println!(
            "== cluster node {} on {} (journal, accounts, Pattas and Salinmas; lease {} ms, renewed every {} ms); fan-out {}",
            c.node_id,
            satria_store::pg::redact(&c.database_url),
            c.lease_ttl.as_millis(),
            c.renew_every.as_millis(),
            match &c.redis {
                Some(r) => format!(
                    "through {} (keys {}…)",
                    crate::cluster::redact_redis(&r.url),
                    r.prefix
                ),
                None => "by reading the journal every tick (no --redis)".into(),
            },
        );
    }
    opts.cluster = match args.cluster.clone() {
        Some(mut c) => {
            let local = listener
                .local_addr()
                .context("cannot read the listening address")?;
            c.advertise = Some(crate::cluster::advertise(c.advertise.as_deref(), local)?);
            Some(c)
        }
        None => None,
    };
    opts.hospitals = satria_dispatch::demo_hospitals();
    opts.initial_units = match &args.fleet {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("{}: cannot read the fleet file", f.display()))?;
            satria_dispatch::parse_fleet_csv(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?
        }
        None => satria_dispatch::demo_fleet(),
    };
    let crew_unit = opts
        .initial_units
        .first()
        .map(|u| u.id.0.clone())
        .unwrap_or_default();
    let hospital = opts
        .hospitals
        .first()
        .map(|h| h.id.0.clone())
        .unwrap_or_default();
    let engine = Arc::new(
        Engine::start(
            opts,
            Box::new(RoadDriveTimes::new(Arc::clone(&net))),
            Clock::system(),
        )
        .map_err(|e| {
            let at = match &args.cluster {
                Some(c) => satria_store::pg::redact(&c.database_url),
                None => args.data_dir.display().to_string(),
            };
            anyhow::anyhow!("{at}: cannot start the engine: {e}")
        })?,
    );
    let role = engine.role();
    if args.cluster.is_some() {
        println!(
            "== {} region {} (term {}; leader {})",
            if role.leader { "leading" } else { "following" },
            args.region,
            role.term,
            role.leader_id.as_deref().unwrap_or("not known yet")
        );
    }
    // A cluster's nodes share their accounts, sessions, lockouts and access
    // log in its database: a console logs in once, on any node.
    let auth = Arc::new(match &args.cluster {
        Some(c) => {
            AuthStore::open_postgres(&c.database_url, args.config.auth_config()).map_err(|e| {
                anyhow::anyhow!(
                    "{}: cannot open the accounts: {e}",
                    satria_store::pg::redact(&c.database_url)
                )
            })?
        }
        None => AuthStore::open_with(&auth_path(&args.data_dir), args.config.auth_config())
            .with_context(|| format!("{}: cannot open the accounts", args.data_dir.display()))?,
    });
    let mut server_options = args.config.server_options();
    // The generated demo region is a demo unless the file says otherwise; a centre's
    // own graph is live service.
    if args.config.server.mode.is_none() && args.graph.is_none() {
        server_options.service = satria_server::ServiceMode::Demo;
    }
    println!("== service mode: {}", server_options.service.as_str());
    let state = AppState::new(
        Arc::clone(&engine),
        auth,
        args.data_dir.clone(),
        server_options,
        true,
    );
    let _ = state.roads.set(Arc::clone(&net));
    // Pattas and Salinmas live with the accounts: in a cluster's database,
    // shared by every node, or in the data directory.
    match &args.cluster {
        Some(c) => state.open_modules_on(Some(&c.database_url)),
        None => state
            .open_modules()
            .map_err(|e| format!("{}: {e}", args.data_dir.display())),
    }
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    demo_users(&state.auth, &state, &crew_unit, &hospital)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::from_std(listener)
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let local = listener.local_addr()?;
        println!(
            "== Satria serving http://{local}/ (journal seq {}, ready in {:.2} s after the graph existed; total {:.1} s)",
            engine.last_seq(),
            t_started.elapsed().as_secs_f64(),
            t0.elapsed().as_secs_f64()
        );
        println!("   API: http://{local}/api/openapi.json   WebSocket: ws://{local}/ws   metrics: http://{local}/metrics");
        println!("   Ctrl-C (or SIGTERM) stops it gracefully.");
        tracing::info!(addr = %local, data_dir = %args.data_dir.display(), graph = %graph.display(), journal_seq = engine.last_seq(), "serving");
        satria_server::serve(listener, state, shutdown_signal())
            .await
            .context("the server failed")
    })?;
    println!("== stopping: finishing queued commands and flushing the journal");
    // Every socket has said goodbye (serve waits for them); ending the runtime
    // drops the finished tasks that still held the shared state.
    rt.shutdown_timeout(std::time::Duration::from_secs(5));
    // Through the shared handle: a task the runtime had not ended yet (with
    // thousands of consoles some still hold the engine) gets `Stopped`, and
    // the queue is flushed, the head signed and the lease released anyway.
    engine.stop();
    println!("== stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// `satria user add`.
pub fn user_add(
    at: &Accounts<'_>,
    username: String,
    password: String,
    role: &str,
    unit: Option<String>,
    hospital: Option<String>,
    subject: Option<String>,
) -> anyhow::Result<()> {
    let role = Role::parse(role).with_context(|| {
        let all: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role {role:?}; one of {}", all.join(", "))
    })?;
    // What the account is bound to must exist, or it could never act: checked
    // before anything is written.
    if let Some(u) = unit.as_deref().filter(|_| role == Role::Crew) {
        check_unit_exists(at, u)?;
    }
    if matches!(role, Role::SalinmasHousehold | Role::SalinmasCollector) {
        check_salinmas_subject(at, role, subject.as_deref())?;
    }
    let auth = at.open(true)?;
    let u = auth.add_user(
        NewUser {
            username,
            password,
            role,
            unit,
            hospital,
            subject,
        },
        satria_server::now_ms(),
    )?;
    println!("added {} ({})", u.username, u.role);
    Ok(())
}

/// Reads a journal stream's entries after a seq.
type ReadSince = Box<dyn Fn(u64) -> Result<Vec<satria_store::Entry>, satria_store::StoreError>>;

/// A crew's unit must be in the fleet: the units registered in the journal
/// (the data directory's, or the cluster's), or, before the first `satria
/// serve`, the demo fleet it will register.
fn check_unit_exists(at: &Accounts<'_>, unit: &str) -> anyhow::Result<()> {
    let stream = EngineOptions::new(at.data_dir).stream;
    let journal: Option<ReadSince> = match at.database {
        Some(url) => match satria_store::PgJournal::open_reader(url) {
            Ok(j) => Some(Box::new(move |after| j.read_since(&stream, after, 10_000))),
            // A database no node has written yet: no journal.
            Err(satria_store::StoreError::ForeignSchema { .. }) => None,
            Err(e) => return Err(e.into()),
        },
        None => {
            if at.data_dir.join(satria_store::JOURNAL_FILE).exists() {
                let reader = satria_store::JournalReader::open(at.data_dir)?;
                Some(Box::new(move |after| {
                    reader.read_since(&stream, after, 10_000)
                }))
            } else {
                None
            }
        }
    };
    let exists = journal.is_some();
    let known: Vec<String> = match journal {
        Some(read) => {
            let mut units = Vec::new();
            let mut after = 0;
            loop {
                let rows = read(after)?;
                let Some(last) = rows.last() else { break };
                after = last.seq;
                for e in rows.iter().filter(|e| e.kind == "unit_registered") {
                    if let Ok(satria_dispatch::Event::UnitRegistered { unit }) =
                        serde_json::from_str::<satria_dispatch::Event>(&e.payload)
                    {
                        units.push(unit.id.0.clone());
                    }
                }
            }
            units
        }
        None => satria_dispatch::demo_fleet()
            .into_iter()
            .map(|u| u.id.0)
            .collect(),
    };
    if !known.iter().any(|k| k == unit) {
        bail!(
            "unit {unit:?} is not in the fleet{}; nothing was added",
            if exists {
                " of the journal"
            } else {
                " (no journal yet: the demo fleet)"
            }
        );
    }
    Ok(())
}

/// A household or collector login is bound (`--subject`) to a Salinmas account
/// or collector group that exists.
fn check_salinmas_subject(
    at: &Accounts<'_>,
    role: Role,
    subject: Option<&str>,
) -> anyhow::Result<()> {
    let what = if role == Role::SalinmasHousehold {
        "household account"
    } else {
        "collector group"
    };
    let Some(raw) = subject else {
        bail!("a {role} login needs --subject, the id of its Salinmas {what}; nothing was added");
    };
    let id: i64 = raw
        .trim()
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .with_context(|| {
            format!("--subject {raw:?} is not a Salinmas {what} id; nothing was added")
        })?;
    let salinmas = match at.database {
        Some(url) => satria_salinmas::Salinmas::open_postgres(
            url,
            satria_salinmas::SalinmasConfig::default(),
        )
        .map_err(|e| anyhow::anyhow!("{}: {e}", at.shown()))?,
        None => {
            let path = at.data_dir.join("salinmas.sqlite");
            if !path.exists() {
                bail!(
                    "no Salinmas {what} {id}: {} does not exist yet; nothing was added",
                    path.display()
                );
            }
            satria_salinmas::Salinmas::open(&path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
    };
    let officer = satria_auth::Principal {
        user_id: 0,
        username: "satria user add".into(),
        role: Role::Admin,
        unit: None,
        hospital: None,
        subject: None,
    };
    let found = if role == Role::SalinmasHousehold {
        salinmas.account(&officer, id).map(|_| ())
    } else {
        salinmas.collector(&officer, id).map(|_| ())
    };
    found.map_err(|e| anyhow::anyhow!("no Salinmas {what} {id} ({e}); nothing was added"))
}

/// `satria user list`.
pub fn user_list(at: &Accounts<'_>) -> anyhow::Result<()> {
    let auth = at.open(true)?;
    for u in auth.list_users()? {
        println!(
            "{:<20} {:<18} {:<10} {}",
            u.username,
            u.role.as_str(),
            if u.disabled_at_ms.is_some() {
                "revoked"
            } else {
                "active"
            },
            u.unit.or(u.hospital).unwrap_or_default()
        );
    }
    Ok(())
}

/// `satria user passwd`: sets a new password and ends the account's sessions (its
/// open consoles close and must log in again).
pub fn user_passwd(at: &Accounts<'_>, username: &str, password: &str) -> anyhow::Result<()> {
    let auth = at.open(false)?;
    auth.set_password(username, password, satria_server::now_ms())
        .with_context(|| format!("cannot set the password of {username}"))?;
    println!("password of {username} changed; its sessions are ended");
    Ok(())
}

/// `satria user revoke`.
pub fn user_revoke(at: &Accounts<'_>, username: &str) -> anyhow::Result<()> {
    let auth = at.open(true)?;
    auth.revoke_user(username, satria_server::now_ms())?;
    println!("revoked {username}: the account is disabled and its sessions ended");
    Ok(())
}
