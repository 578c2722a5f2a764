//! Subcommands over the dispatch engine and its journal: `audit verify`,
//! `audit keygen`, `audit checkpoints` and `drill`, and the journal-integrity
//! options `serve` and `drill` share.

use anyhow::{Context, bail};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use satria_dispatch::{
    Address, AssignmentState, Category, Command, Dispatch, HospitalStatus, StraightLine, Triage,
    UnitStatus, demo_fleet, demo_hospitals,
};
use satria_engine::{Clock, Engine, EngineError, EngineOptions};
use satria_store::Journal;
use std::io::Write;
use std::path::{Path, PathBuf};

/// How the engine treats its journal's integrity: `serve` and `drill` take these
/// as flags or `SATRIA_*` variables (serve also from the `[journal]` section of
/// its configuration file).
#[derive(clap::Args, Debug, Default, Clone)]
pub struct IntegrityArgs {
    /// Start even though the journal's hash chain is broken, when ROW is exactly
    /// the first broken row; recorded, and shown on every console until an admin
    /// acknowledges it.
    #[arg(long, env = "SATRIA_ACCEPT_BROKEN_CHAIN", value_name = "ROW")]
    pub accept_broken_chain: Option<u64>,
    /// Sign the chain head into checkpoints with this ed25519 key (from `satria
    /// audit keygen`); it must live outside the data directory.
    #[arg(long, env = "SATRIA_AUDIT_KEY", value_name = "FILE")]
    pub audit_key: Option<PathBuf>,
    /// Sign a checkpoint every this many rows [default: 1000].
    #[arg(long, env = "SATRIA_CHECKPOINT_EVERY_ROWS", value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub checkpoint_every_rows: Option<u64>,
    /// ... and at least this often while rows wait unsigned, in seconds [default: 60].
    #[arg(long, env = "SATRIA_CHECKPOINT_EVERY_S", value_name = "S",
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub checkpoint_every_s: Option<u64>,
}

impl IntegrityArgs {
    /// These flags over the configuration file's `[journal]` section.
    pub fn or_file(self, f: &crate::config::JournalSection) -> IntegrityArgs {
        IntegrityArgs {
            accept_broken_chain: self.accept_broken_chain.or(f.accept_broken_chain),
            audit_key: self.audit_key.or(f.audit_key.clone()),
            checkpoint_every_rows: self.checkpoint_every_rows.or(f.checkpoint_every_rows),
            checkpoint_every_s: self.checkpoint_every_s.or(f.checkpoint_every_s),
        }
    }

    /// Sets the engine's integrity options: reads the audit key (refused when
    /// unreadable or inside `data_dir`), and names the operator (the OS user).
    pub fn apply(&self, data_dir: &Path, opts: &mut EngineOptions) -> anyhow::Result<()> {
        opts.accept_broken_row = self.accept_broken_chain;
        opts.operator = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "unknown".into());
        // Without a key the checkpoint intervals have nothing to sign with.
        let Some(key_path) = &self.audit_key else {
            return Ok(());
        };
        let key = satria_store::AuditKey::read(key_path).map_err(|e| anyhow::anyhow!(e))?;
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("{}: cannot create the data directory", data_dir.display()))?;
        let key_abs = std::fs::canonicalize(key_path)
            .with_context(|| format!("{}: cannot resolve the audit key", key_path.display()))?;
        let dir_abs = std::fs::canonicalize(data_dir).with_context(|| {
            format!("{}: cannot resolve the data directory", data_dir.display())
        })?;
        if key_abs.starts_with(&dir_abs) {
            bail!(
                "the audit key {} is inside the data directory {}: keep it elsewhere, or whoever can rewrite the journal can also re-sign it",
                key_path.display(),
                data_dir.display()
            );
        }
        let mut signer = satria_store::CheckpointSigner::new(key);
        if let Some(n) = self.checkpoint_every_rows {
            signer.every_rows = n;
        }
        if let Some(s) = self.checkpoint_every_s {
            signer.every_ms = i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX);
        }
        opts.checkpoints = Some(signer);
        Ok(())
    }
}

/// The engine of the demo region on `data_dir`: the demo fleet (registered once, on an
/// empty journal) and the 23 hospitals.
fn demo_options(data_dir: &Path) -> EngineOptions {
    let mut opts = EngineOptions::new(data_dir);
    opts.initial_units = demo_fleet();
    opts.hospitals = demo_hospitals();
    opts
}

/// A public key given as 64 hex digits, or the name of a file holding them.
fn public_key(text: &str) -> anyhow::Result<satria_store::PublicKey> {
    if let Ok(k) = satria_store::parse_public_key(text) {
        return Ok(k);
    }
    let from_file = std::fs::read_to_string(text).with_context(|| {
        format!("--public-key {text:?}: neither 64 hex digits nor a readable file")
    })?;
    satria_store::parse_public_key(&from_file).map_err(|e| anyhow::anyhow!("{text}: {e}"))
}

/// `satria audit verify`: checks the hash chain of the journal in `data_dir` through a
/// read-only connection, and its signed checkpoints (only those by `public_key` when
/// given; plus those exported to `checkpoints`), and names the first broken row. An
/// error (exit 1) when broken.
pub fn audit_verify(
    at: JournalAt<'_>,
    public_key_arg: Option<&str>,
    checkpoints: Option<&Path>,
) -> anyhow::Result<()> {
    let key = public_key_arg.map(public_key).transpose()?;
    let exported: Vec<satria_store::Checkpoint> = match checkpoints {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| {
                format!("{}: cannot read the exported checkpoints", p.display())
            })?;
            serde_json::from_str(&text).with_context(|| {
                format!(
                    "{}: not a checkpoint export (the JSON of `satria audit checkpoints --json`)",
                    p.display()
                )
            })?
        }
        None => Vec::new(),
    };
    let (report, file) = match at {
        JournalAt::Dir(data_dir) => (
            Journal::verify_dir_with(data_dir, key.as_ref(), &exported)
                .with_context(|| format!("{}: cannot verify the journal", data_dir.display()))?,
            data_dir
                .join(satria_store::JOURNAL_FILE)
                .display()
                .to_string(),
        ),
        JournalAt::Postgres(url) => {
            let shown = satria_store::pg::redact(url);
            (
                satria_store::PgJournal::verify_url(url, key.as_ref(), &exported)
                    .with_context(|| format!("{shown}: cannot verify the journal"))?,
                shown,
            )
        }
    };
    for a in &report.accepted {
        println!(
            "accepted break at row {} (rows up to {} taken as found), accepted by {} at {} ms{}: {}",
            a.row,
            a.head_row,
            a.accepted_by,
            a.accepted_at_ms,
            match &a.acknowledged_by {
                Some(by) => format!(", acknowledged by {by}"),
                None => ", not yet acknowledged".into(),
            },
            a.problem
        );
    }
    match report.first_broken {
        None => {
            println!(
                "journal {}: {} rows, hash chain intact; {} signed checkpoints match{}",
                file,
                report.rows,
                report.checkpoints,
                if key.is_some() {
                    " (all signed by the given key)"
                } else {
                    ""
                }
            );
            Ok(())
        }
        Some(b) => bail!(
            "journal {}: BROKEN at row {} (stream {}, seq {}): {}; {} rows checked",
            file,
            b.row,
            b.stream,
            b.seq,
            b.problem,
            report.rows
        ),
    }
}

/// Where a journal is: a data directory's SQLite file, or a PostgreSQL database.
#[derive(Debug, Clone, Copy)]
pub enum JournalAt<'a> {
    Dir(&'a Path),
    Postgres(&'a str),
}

/// `satria migrate --from-sqlite DIR --to URL`: copies the journal, printing
/// progress on stderr and the outcome on stdout.
pub fn migrate(dir: &Path, url: &str, batch: usize) -> anyhow::Result<()> {
    let shown = satria_store::pg::redact(url);
    // The first and last lines always, and one at most every half second between.
    let mut last_shown: Option<std::time::Instant> = None;
    let mut progress = |copied: u64, total: u64| {
        let due = last_shown.is_none_or(|t| t.elapsed() >= std::time::Duration::from_millis(500));
        if copied == total || due {
            last_shown = Some(std::time::Instant::now());
            let pct = (copied * 100).checked_div(total).unwrap_or(100);
            eprintln!("copied {copied} of {total} journal rows ({pct}%)");
        }
    };
    let report = satria_store::migrate::sqlite_to_postgres(dir, url, batch, &mut progress)
        .with_context(|| format!("cannot migrate {} to {shown}", dir.display()))?;
    if report.resumed_from > 0 {
        println!(
            "resumed after row {} that an earlier run had copied",
            report.resumed_from
        );
    }
    println!(
        "journal copied to {shown}: {} rows, hash chain verified before and after (head {}), {} signed checkpoints match",
        report.rows, report.head, report.checkpoints
    );
    // The accounts go with the journal: a cluster's nodes share them, and
    // the access log's chain must continue where the centre's stopped.
    let auth_file = crate::serve_cmd::auth_path(dir);
    if auth_file.exists() {
        let source = satria_auth::AuthStore::open(&auth_file)
            .with_context(|| format!("{}: cannot open the accounts", auth_file.display()))?;
        let target = satria_auth::AuthStore::open_postgres(url, satria_auth::AuthConfig::default())
            .with_context(|| format!("{shown}: cannot open the accounts"))?;
        let r = source
            .copy_into(&target, satria_server::now_ms())
            .with_context(|| format!("cannot copy the accounts of {} to {shown}", dir.display()))?;
        if r.already {
            println!("accounts: {shown} already holds this copy; nothing written");
        } else {
            println!(
                "accounts copied to {shown}: {} accounts, {} live sessions, {} access-log rows (chain verified before and after)",
                r.users, r.sessions, r.access_log
            );
        }
    } else {
        println!("accounts: {} has none to copy", dir.display());
    }
    // Pattas and Salinmas too: the nodes open them in the same database.
    let pattas_file = dir.join("pattas.sqlite");
    if pattas_file.exists() {
        let source =
            satria_pattas::Pattas::open(&pattas_file, satria_pattas::PattasConfig::default())
                .with_context(|| format!("{}: cannot open Pattas", pattas_file.display()))?;
        let target =
            satria_pattas::Pattas::open_postgres(url, satria_pattas::PattasConfig::default())
                .with_context(|| format!("{shown}: cannot open Pattas"))?;
        let r = source
            .copy_into(&target)
            .with_context(|| format!("cannot copy Pattas of {} to {shown}", dir.display()))?;
        if r.already {
            println!("pattas: {shown} already holds this copy; nothing written");
        } else {
            println!(
                "pattas copied to {shown}: {} beneficiaries, {} cases, {} assistance records, {} transports, {} history rows",
                r.beneficiaries, r.cases, r.assistance, r.transports, r.history
            );
        }
    } else {
        println!("pattas: {} has none to copy", dir.display());
    }
    let salinmas_file = dir.join("salinmas.sqlite");
    if salinmas_file.exists() {
        let source = satria_salinmas::Salinmas::open(&salinmas_file)
            .with_context(|| format!("{}: cannot open Salinmas", salinmas_file.display()))?;
        let target = satria_salinmas::Salinmas::open_postgres(
            url,
            satria_salinmas::SalinmasConfig::default(),
        )
        .with_context(|| format!("{shown}: cannot open Salinmas"))?;
        let r = source
            .copy_into(&target)
            .with_context(|| format!("cannot copy Salinmas of {} to {shown}", dir.display()))?;
        if r.already {
            println!("salinmas: {shown} already holds this copy; nothing written");
        } else {
            println!("salinmas copied to {shown}: {r}");
        }
    } else {
        println!("salinmas: {} has none to copy", dir.display());
    }
    Ok(())
}

/// `satria audit keygen`: a new ed25519 audit key in `out` (mode 0600, never
/// overwriting); prints the public key.
pub fn audit_keygen(out: &Path) -> anyhow::Result<()> {
    let key = satria_store::AuditKey::generate();
    key.write_new(out).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{}: already exists; refusing to overwrite a key",
                out.display()
            )
        } else {
            anyhow::anyhow!("{}: cannot write the key: {e}", out.display())
        }
    })?;
    println!(
        "audit key written to {} (mode 0600; keep it outside the data directory)",
        out.display()
    );
    println!("public key: {}", key.public_hex());
    Ok(())
}

/// `satria audit checkpoints`: every signed checkpoint of the journal, as text or JSON
/// (the form `audit verify --checkpoints` reads).
pub fn audit_checkpoints(at: JournalAt<'_>, json: bool) -> anyhow::Result<()> {
    let cps = match at {
        JournalAt::Dir(data_dir) => satria_store::read_checkpoints(data_dir)
            .with_context(|| format!("{}: cannot read the checkpoints", data_dir.display()))?,
        JournalAt::Postgres(url) => {
            let shown = satria_store::pg::redact(url);
            satria_store::PgJournal::open_reader(url)
                .and_then(|j| j.checkpoints())
                .with_context(|| format!("{shown}: cannot read the checkpoints"))?
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&cps)?);
    } else {
        for c in &cps {
            println!(
                "row {} hash {} at_ms {} key {} sig {}",
                c.row, c.hash, c.at_ms, c.public_key, c.signature
            );
        }
        eprintln!("{} checkpoints", cps.len());
    }
    Ok(())
}

/// `satria drill`: the durability drill. Starts the engine on `data_dir` (the demo fleet
/// and hospitals; straight-line drive times, since the drill is about the journal, not
/// the roads), then submits a seeded stream of realistic commands one at a time and
/// prints one line per acknowledgement:
///
/// ```text
/// ready LAST_SEQ
/// ack FIRST_SEQ LAST_SEQ KIND[,KIND...]     (journaled events of one command)
/// volatile                                  (a position report: not journaled)
/// rejected REASON
/// ```
///
/// A line is printed only after the engine acknowledged the command, i.e. after its
/// events were fsynced. Kill the process at any moment (SIGKILL), start it again, and
/// every `ack` line must still be in the journal: `tests/satria/crash.rs` does exactly that.
pub fn drill(
    data_dir: &Path,
    at: JournalAt<'_>,
    node_id: &str,
    seed: u64,
    commands: u64,
    integrity: &IntegrityArgs,
) -> anyhow::Result<()> {
    let mut opts = demo_options(data_dir);
    integrity.apply(data_dir, &mut opts)?;
    let shown = match at {
        JournalAt::Dir(d) => d.display().to_string(),
        JournalAt::Postgres(url) => {
            if integrity.accept_broken_chain.is_some() {
                bail!(
                    "--accept-broken-chain is for a data directory's journal; a cluster journal accepts no break"
                );
            }
            crate::cluster::check_node_id(node_id)?;
            opts.cluster = Some(satria_engine::ClusterOptions::new(url, node_id));
            satria_store::pg::redact(url)
        }
    };
    let lease_ttl = opts
        .cluster
        .as_ref()
        .map_or(std::time::Duration::ZERO, |c| c.lease_ttl);
    let engine = Engine::start(opts, Box::new(StraightLine::default()), Clock::system())
        .map_err(|e| anyhow::anyhow!("{shown}: cannot start the engine: {e}"))?;
    // A cluster's lease may still be held by the drill's previous run (killed,
    // so it did not let go): wait for it to expire, as a standby would.
    let wait = std::time::Instant::now() + lease_ttl * 2;
    while !engine.role().leader && std::time::Instant::now() < wait {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let role = engine.role();
    if !role.leader {
        let leader = role.leader_id.unwrap_or_else(|| "another node".into());
        engine.shutdown();
        bail!("{shown}: {leader} leads the region; the drill must lead it (stop that node first)");
    }
    let journal_seq = engine.last_seq();
    let out = std::io::stdout();
    let mut out = out.lock();
    writeln!(out, "ready {journal_seq}")?;
    out.flush()?;
    // A different stream of commands after every restart, the same for the same seed
    // and journal.
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ journal_seq.wrapping_mul(0x9E37_79B9));
    let region = satria_region::Region::banyumas();
    for _ in 0..commands {
        let state = engine.snapshot();
        let cmd = next_command(&state, &region, &mut rng);
        match engine.submit_blocking(cmd) {
            Ok(published) => {
                let journaled: Vec<_> = published
                    .iter()
                    .filter(|p| p.stream == engine.stream())
                    .collect();
                match (journaled.first(), journaled.last()) {
                    (Some(first), Some(last)) => {
                        let kinds: Vec<&str> = journaled.iter().map(|p| p.event.kind()).collect();
                        writeln!(out, "ack {} {} {}", first.seq, last.seq, kinds.join(","))?
                    }
                    _ => writeln!(out, "volatile")?,
                }
            }
            Err(EngineError::Rejected(r)) => writeln!(out, "rejected {r}")?,
            Err(e) => bail!("the engine failed: {e}"),
        }
        out.flush()?;
    }
    engine.shutdown();
    Ok(())
}

/// A plausible next command for the state: mostly new calls and crews moving through
/// their statuses, some capacity updates and position reports, now and then a command
/// the engine must refuse.
fn next_command(d: &Dispatch, region: &satria_region::Region, rng: &mut ChaCha8Rng) -> Command {
    let roll = rng.gen_range(0..100);
    let open: Vec<_> = d.incidents().filter(|i| i.status.is_open()).collect();
    if roll < 25 || open.is_empty() {
        let desa = region.desa.choose(rng).expect("the region has desa");
        let triage = *[Triage::Merah, Triage::Kuning, Triage::Hijau]
            .choose(rng)
            .expect("non-empty");
        let category = *[Category::Accident, Category::Medical, Category::Maternal]
            .choose(rng)
            .expect("non-empty");
        return Command::CreateIncident {
            caller_name: "Penelepon latihan".into(),
            caller_phone: format!("08{:010}", rng.gen_range(0..10_000_000_000u64)),
            location: satria_dispatch::LatLon {
                lat: desa.centroid.lat + rng.gen_range(-0.003..0.003),
                lon: desa.centroid.lon + rng.gen_range(-0.003..0.003),
            },
            address: Address {
                desa: desa.name.clone(),
                ..Address::default()
            },
            triage,
            category,
            patients: rng.gen_range(1..4),
            notes: "drill".into(),
        };
    }
    let incident = open.choose(rng).expect("non-empty");
    if roll < 35 {
        let hospitals: Vec<_> = d.hospitals().collect();
        let h = hospitals.choose(rng).expect("demo hospitals");
        return Command::UpdateHospitalCapacity {
            hospital: h.id.clone(),
            free_igd_beds: Some(rng.gen_range(0..12)),
            free_icu_beds: Some(rng.gen_range(0..4)),
            status: *[
                HospitalStatus::Open,
                HospitalStatus::Open,
                HospitalStatus::Full,
            ]
            .choose(rng)
            .expect("non-empty"),
        };
    }
    if roll < 45 {
        let units: Vec<_> = d.units().collect();
        let u = units.choose(rng).expect("demo fleet");
        return Command::UpdatePosition {
            unit: u.id.clone(),
            at: satria_dispatch::LatLon {
                lat: u.base.lat + rng.gen_range(-0.01..0.01),
                lon: u.base.lon + rng.gen_range(-0.01..0.01),
            },
            device_at: None,
        };
    }
    // Work an incident: acknowledge a pending assignment, move a crew on, assign a free
    // unit, or close it when nobody works it any more.
    if let Some(a) = incident
        .assignments
        .iter()
        .find(|a| a.state == AssignmentState::Pending)
    {
        return Command::AcknowledgeAssignment {
            incident: incident.id,
            unit: a.unit.clone(),
            device_at: None,
        };
    }
    if let Some(a) = incident.assignments.iter().find(|a| a.is_active()) {
        let status = d
            .unit(&a.unit)
            .map(|u| u.status)
            .unwrap_or(UnitStatus::Available);
        let next = status.crew_next();
        if let Some(s) = next.choose(rng) {
            return Command::ReportStatus {
                unit: a.unit.clone(),
                status: *s,
                device_at: None,
            };
        }
    }
    if roll < 60 || incident.assignments.iter().any(|a| a.is_active()) {
        // Sometimes a busy unit: the engine must refuse it and change nothing.
        let units: Vec<_> = d.units().collect();
        let u = units.choose(rng).expect("demo fleet");
        return Command::AssignUnits {
            incident: incident.id,
            units: vec![u.id.clone()],
        };
    }
    Command::CloseIncident {
        incident: incident.id,
        outcome: "selesai (latihan)".into(),
    }
}

/// The dispatch part of `satria demo`: the engine on the demo region's road graph with
/// the demo fleet and hospitals, journaled in `data_dir`. A merah road accident in
/// Sokaraja is taken; the engine ranks the units by exact drive time, assigns the best,
/// and ranks the destination hospitals.
pub fn dispatch_demo(
    data_dir: &Path,
    graph: &Path,
    net: satria_roads::RoadNetwork,
) -> anyhow::Result<()> {
    let net = std::sync::Arc::new(net);
    let engine = Engine::start(
        demo_options(data_dir),
        Box::new(satria_engine::RoadDriveTimes::new(std::sync::Arc::clone(
            &net,
        ))),
        Clock::system(),
    )
    .map_err(|e| anyhow::anyhow!("{}: cannot start the engine: {e}", data_dir.display()))?;
    let state = engine.snapshot();
    println!(
        "== dispatch engine: {} units, {} hospitals, journal {} at seq {}",
        state.units().count(),
        state.hospitals().count(),
        data_dir.join(satria_store::JOURNAL_FILE).display(),
        engine.last_seq()
    );
    let location = satria_dispatch::LatLon {
        lat: -7.4575,
        lon: 109.2870,
    };
    let t = std::time::Instant::now();
    let published = engine
        .submit_blocking(Command::CreateIncident {
            caller_name: "Budi (demo)".into(),
            caller_phone: "081234567890".into(),
            location,
            address: Address {
                desa: "Sokaraja Kulon".into(),
                rt_rw: "02/04".into(),
                landmark: "depan pasar Sokaraja".into(),
                text: String::new(),
            },
            triage: Triage::Merah,
            category: Category::Accident,
            patients: 2,
            notes: "tabrakan sepeda motor, dua korban".into(),
        })
        .map_err(|e| anyhow::anyhow!("the incident was refused: {e}"))?;
    let took = t.elapsed();
    let mut incident = None;
    for p in &published {
        match &p.event {
            satria_dispatch::Event::IncidentCreated { incident: i } => {
                incident = Some(i.id);
                println!(
                    "== incident {} (merah, accident) at {},{} Sokaraja, journaled as seq {} and acknowledged in {:.1} ms{}",
                    i.id,
                    location.lat,
                    location.lon,
                    p.seq,
                    took.as_secs_f64() * 1e3,
                    i.possible_duplicate_of
                        .map(|d| format!("; possible duplicate of incident {d}"))
                        .unwrap_or_default()
                );
            }
            satria_dispatch::Event::UnitAssigned { unit, .. } => {
                println!("   assigned automatically (merah): {unit}, seq {}", p.seq)
            }
            _ => {}
        }
    }
    let incident = incident.context("the engine created no incident")?;
    let t = std::time::Instant::now();
    let rec = engine
        .recommend_blocking(incident)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "== units for incident {incident}, exact drive time over the road graph ({:.1} ms):",
        t.elapsed().as_secs_f64() * 1e3
    );
    for c in &rec.candidates {
        println!(
            "  {:>5.1} min {:>6.1} km  {:<10} {:<12} {:?}{}",
            c.eta_s as f64 / 60.0,
            c.distance_m as f64 / 1000.0,
            c.unit.to_string(),
            c.call_sign,
            c.unit_type,
            if c.from_base { "  (from base)" } else { "" }
        );
    }
    for x in &rec.excluded {
        println!(
            "  excluded {:<10} {} / {}",
            x.unit.to_string(),
            x.reason.message_id(),
            x.reason.message()
        );
    }
    let hospitals = engine
        .recommend_hospitals_blocking(incident)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("== destination hospitals for the patient:");
    for h in hospitals.ranked.iter().take(5) {
        println!(
            "  {:>5.1} min {:>6.1} km  {} (IGD beds free: {})",
            h.eta_s as f64 / 60.0,
            h.distance_m as f64 / 1000.0,
            h.name,
            h.free_igd_beds
                .map(|b| b.to_string())
                .unwrap_or_else(|| "unknown".into())
        );
    }
    println!(
        "   {} more ranked, {} excluded",
        hospitals.ranked.len().saturating_sub(5),
        hospitals.excluded.len()
    );
    println!(
        "== check the journal: satria audit verify --data-dir {}   (graph: {})",
        data_dir.display(),
        graph.display()
    );
    engine.shutdown();
    Ok(())
}
