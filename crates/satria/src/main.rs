//! `satria`: the one binary. Subcommands wire the library crates together; the logic
//! lives in the crates under `crates/`. Errors are reported with their whole chain and
//! a non-zero exit code.

mod cluster;
mod config;
mod engine_cmd;
mod load_cmd;
mod roads_cmd;
mod serve_cmd;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's allocator: the server allocates small, short-lived
/// buffers on every WebSocket message from many threads, where glibc's arenas
/// cost more time (malloc and free were a sixth of the server's CPU under
/// `satria load`) and hold on to more memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use roads_cmd::{OutputFormat, parse_latlon};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "satria",
    version,
    about = "PSC 119 Banyumas emergency dispatch engine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: the HTTP API, the WebSocket and the dispatch engine. With no
    /// arguments it serves the demo region (generated and imported on first run),
    /// with the demo fleet, hospitals and one account per role.
    Serve {
        /// A TOML configuration file (see fixtures/config/satria.toml); flags and
        /// SATRIA_* variables win over it.
        #[arg(long, env = "SATRIA_CONFIG")]
        config: Option<PathBuf>,
        /// Address to listen on [default: 127.0.0.1:8119].
        #[arg(long, env = "SATRIA_ADDR")]
        addr: Option<String>,
        /// Journal, accounts and the demo graph live here [default: satria-data].
        #[arg(long, env = "SATRIA_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// A road graph from `satria import` (default: the demo region's).
        #[arg(long, env = "SATRIA_GRAPH")]
        graph: Option<PathBuf>,
        /// The fleet as CSV (default: the demo fleet); read once, into an empty journal.
        #[arg(long, env = "SATRIA_FLEET")]
        fleet: Option<PathBuf>,
        /// The region this node dispatches [default: banyumas]: its journal
        /// stream (`region:NAME`) and, in a cluster, its lease.
        #[arg(long, env = "SATRIA_REGION", value_name = "NAME")]
        region: Option<String>,
        #[command(flatten)]
        integrity: engine_cmd::IntegrityArgs,
        #[command(flatten)]
        cluster: cluster::ClusterArgs,
    },
    /// Manage the accounts that may use the server.
    User {
        #[command(subcommand)]
        what: UserCommand,
    },
    /// Import an OpenStreetMap file (PBF or XML) into a road graph artifact.
    Import {
        /// The .osm.pbf or .osm file.
        file: PathBuf,
        /// Where to write the graph artifact.
        #[arg(short, long)]
        output: PathBuf,
        /// Keep only roads inside MINLON,MINLAT,MAXLON,MAXLAT.
        #[arg(long, allow_hyphen_values = true)]
        bbox: Option<String>,
        /// Also keep highway=track (unpaved farm tracks).
        #[arg(long)]
        tracks: bool,
    },
    /// Fastest route between two positions.
    Route {
        #[arg(long)]
        graph: PathBuf,
        /// Start as LAT,LON.
        #[arg(long, value_parser = parse_latlon, allow_hyphen_values = true)]
        from: (f64, f64),
        /// Destination as LAT,LON.
        #[arg(long, value_parser = parse_latlon, allow_hyphen_values = true)]
        to: (f64, f64),
        /// Print {"eta_s","distance_m","path":[[lon,lat],..]}.
        #[arg(long, conflicts_with = "geojson")]
        json: bool,
        /// Print a GeoJSON Feature with the route as a LineString.
        #[arg(long)]
        geojson: bool,
        /// Refuse positions farther than this from any road (metres).
        #[arg(long, default_value_t = 1000.0)]
        max_snap_m: f64,
    },
    /// Drive time from every unit to an incident (one backward search).
    Eta {
        #[arg(long)]
        graph: PathBuf,
        /// The incident as LAT,LON.
        #[arg(long, value_parser = parse_latlon, allow_hyphen_values = true)]
        incident: (f64, f64),
        /// CSV of units: id,lat,lon (header optional).
        #[arg(long)]
        units: PathBuf,
        /// Stop once the nearest K units are known.
        #[arg(long)]
        nearest: Option<usize>,
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 1000.0)]
        max_snap_m: f64,
    },
    /// Run the demo: generate and import the demo region if missing, then rank the
    /// ambulance bases for a sample incident by drive time.
    Demo {
        /// Where the demo region's files live.
        #[arg(long, default_value = "satria-data")]
        data_dir: PathBuf,
    },
    /// Generate the Banyumas demo road network as an OSM PBF file.
    Mapgen {
        #[arg(long, default_value_t = 119)]
        seed: u64,
        /// 1.0 gives about 200,000 junctions.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Benchmarks run on a graph.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
    /// Print the region facts the binary carries.
    Facts,
    /// Copy a centre's SQLite journal into PostgreSQL, for a cluster: verifies the
    /// chain first and again after the copy, resumes where an earlier run
    /// stopped, and refuses a target that holds other data.
    Migrate {
        /// The data directory whose journal.sqlite is copied.
        #[arg(long, value_name = "DIR")]
        from_sqlite: PathBuf,
        /// The PostgreSQL database to copy into (postgres://user@host/db).
        #[arg(long, value_name = "URL")]
        to: String,
        /// Rows per transaction.
        #[arg(long, default_value_t = 5000)]
        batch: usize,
    },
    /// Audit the journal.
    Audit {
        #[command(subcommand)]
        what: AuditCommand,
    },
    /// Durability drill: run the engine on DATA_DIR and submit a seeded stream of
    /// commands, printing a line per durable acknowledgement; kill it at any moment
    /// and start it again to check that nothing acknowledged was lost.
    Drill {
        #[arg(long, default_value = "satria-data")]
        data_dir: PathBuf,
        /// Drill a cluster's journal in this PostgreSQL database instead (the
        /// drill leads the region as node --node-id; refused while another
        /// node leads it).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
        /// The drill's node name in the cluster.
        #[arg(long, default_value = "drill", requires = "database")]
        node_id: String,
        #[arg(long, default_value_t = 119)]
        seed: u64,
        /// How many commands to submit before stopping.
        #[arg(long, default_value_t = 1000)]
        commands: u64,
        #[command(flatten)]
        integrity: engine_cmd::IntegrityArgs,
    },
    /// Load test: starts `satria serve` on 127.0.0.1 with a throw-away data
    /// directory and drives it with real WebSocket consoles and crews and an
    /// HTTP call-taker; reports delivery latencies, positions/s, resyncs,
    /// errors and the server's memory, then stops.
    Load {
        /// The road graph to serve (default: the demo region's, made in
        /// DATA_DIR on first use).
        #[arg(long)]
        graph: Option<PathBuf>,
        /// Where the demo graph is kept when --graph is not given.
        #[arg(long, default_value = "satria-data")]
        data_dir: PathBuf,
        /// Dispatcher consoles (WebSockets that see every event).
        #[arg(long, default_value_t = 1000)]
        consoles: usize,
        /// Crews (WebSockets sending positions, each bound to one unit).
        #[arg(long, default_value_t = 60)]
        crews: usize,
        /// Position reports per crew per second.
        #[arg(long, default_value_t = 1.0)]
        rate: f64,
        /// Merah calls per minute (auto-assigned).
        #[arg(long, default_value_t = 10.0)]
        incidents_per_min: f64,
        /// Seconds of warm-up, not measured.
        #[arg(long, default_value_t = 5)]
        warmup: u64,
        /// Seconds measured.
        #[arg(long, default_value_t = 60)]
        duration: u64,
        /// Crews' driving speed (straight line).
        #[arg(long, default_value_t = 120.0)]
        speed_kmh: f64,
        #[arg(long, default_value_t = 119)]
        seed: u64,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Run a cluster of this many nodes on --database (the first leads; consoles
        /// and crews spread over all; calls go to the last, a follower, which forwards them).
        /// Or the addresses of nodes already running, `http://HOST:PORT,…`: consoles and
        /// calls only (--crews 0), logged in as --user with SATRIA_LOAD_PASSWORD.
        #[arg(long, default_value = "1", value_name = "N|URL,…")]
        nodes: String,
        /// The dispatcher account used against running nodes (--nodes URL,…).
        #[arg(long, default_value = "load-dispatcher")]
        user: String,
        /// A throw-away PostgreSQL database for the cluster's journal and accounts
        /// (it must hold no journal yet).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
        /// Redis for the cluster's fan-out (a key prefix of this run's own).
        #[arg(long, value_name = "URL", requires = "database")]
        redis: Option<String>,
        /// Instead of the load: SIGKILL the leading node this many times, starting it
        /// again as a follower each time, and time SIGKILL → the first call the new
        /// leader acknowledges (needs --nodes 2 or more).
        #[arg(long, default_value_t = 0, requires = "database")]
        takeovers: usize,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an account.
    Add {
        #[arg(long, env = "SATRIA_DATA_DIR", default_value = "satria-data")]
        data_dir: PathBuf,
        /// The accounts of a cluster, in its PostgreSQL database
        /// (postgres://user@host/db), instead of the data directory's.
        #[arg(long, env = "SATRIA_DATABASE", value_name = "URL")]
        database: Option<String>,
        #[arg(long)]
        username: String,
        /// The password (or set SATRIA_PASSWORD to keep it out of the shell history).
        #[arg(long, env = "SATRIA_PASSWORD", hide_env_values = true)]
        password: String,
        /// dispatcher, crew, hospital, admin, pattas_officer, pattas_mitra,
        /// salinmas_officer, salinmas_household, salinmas_collector.
        #[arg(long)]
        role: String,
        /// The unit a crew account is bound to.
        #[arg(long)]
        unit: Option<String>,
        /// The hospital a hospital account is bound to.
        #[arg(long)]
        hospital: Option<String>,
        /// The Salinmas household account (or collector group) id a
        /// salinmas_household (or salinmas_collector) login is bound to.
        #[arg(long)]
        subject: Option<String>,
    },
    /// List the accounts (never their passwords).
    List {
        #[arg(long, env = "SATRIA_DATA_DIR", default_value = "satria-data")]
        data_dir: PathBuf,
        /// The accounts of a cluster, in its PostgreSQL database
        /// (postgres://user@host/db), instead of the data directory's.
        #[arg(long, env = "SATRIA_DATABASE", value_name = "URL")]
        database: Option<String>,
    },
    /// Set a new password (a forgotten one, or the demo's printed once) and end the
    /// account's sessions.
    Passwd {
        #[arg(long, env = "SATRIA_DATA_DIR", default_value = "satria-data")]
        data_dir: PathBuf,
        /// The accounts of a cluster, in its PostgreSQL database
        /// (postgres://user@host/db), instead of the data directory's.
        #[arg(long, env = "SATRIA_DATABASE", value_name = "URL")]
        database: Option<String>,
        #[arg(long)]
        username: String,
        /// The new password (or set SATRIA_PASSWORD to keep it out of the shell history).
        #[arg(long, env = "SATRIA_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Disable an account and end its sessions.
    Revoke {
        #[arg(long, env = "SATRIA_DATA_DIR", default_value = "satria-data")]
        data_dir: PathBuf,
        /// The accounts of a cluster, in its PostgreSQL database
        /// (postgres://user@host/db), instead of the data directory's.
        #[arg(long, env = "SATRIA_DATABASE", value_name = "URL")]
        database: Option<String>,
        #[arg(long)]
        username: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the journal's hash chain and its signed checkpoints, and name the
    /// first broken row.
    Verify {
        #[arg(long, default_value = "satria-data")]
        data_dir: PathBuf,
        /// Verify the journal in this PostgreSQL database instead
        /// (postgres://user@host/db); the password never shows in output.
        #[arg(long, value_name = "URL", conflicts_with = "data_dir")]
        database: Option<String>,
        /// Require every checkpoint to be signed by this ed25519 public key (64 hex
        /// digits, or a file holding them).
        #[arg(long, value_name = "KEY")]
        public_key: Option<String>,
        /// Also check the rows against checkpoints exported earlier (the JSON of
        /// `satria audit checkpoints --json`): proves a cut tail even when the
        /// journal's own checkpoint table was cut too.
        #[arg(long, value_name = "FILE")]
        checkpoints: Option<PathBuf>,
    },
    /// Make an ed25519 audit key for signed checkpoints (mode 0600, never
    /// overwritten); prints its public key.
    Keygen {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Print the journal's signed checkpoints (to keep a copy elsewhere).
    Checkpoints {
        #[arg(long, default_value = "satria-data")]
        data_dir: PathBuf,
        /// Read a cluster's journal in this PostgreSQL database instead.
        #[arg(long, value_name = "URL")]
        database: Option<String>,
        /// As JSON, the form `audit verify --checkpoints` reads.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Many-to-one queries through Satria's search and petgraph's dijkstra.
    Eta {
        #[arg(long)]
        graph: PathBuf,
        #[arg(long, default_value_t = 200)]
        units: usize,
        #[arg(long, default_value_t = 200)]
        queries: usize,
        #[arg(long, default_value_t = 119)]
        seed: u64,
        /// Only the nearest K units (default: all).
        #[arg(long)]
        nearest: Option<usize>,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Import {
            file,
            output,
            bbox,
            tracks,
        } => {
            roads_cmd::import(&file, &output, bbox.as_deref(), tracks)?;
        }
        Command::Route {
            graph,
            from,
            to,
            json,
            geojson,
            max_snap_m,
        } => {
            let format = if json {
                OutputFormat::Json
            } else if geojson {
                OutputFormat::Geojson
            } else {
                OutputFormat::Text
            };
            roads_cmd::route(&graph, from, to, format, max_snap_m)?;
        }
        Command::Eta {
            graph,
            incident,
            units,
            nearest,
            json,
            max_snap_m,
        } => roads_cmd::eta(&graph, incident, &units, nearest, json, max_snap_m)?,
        Command::Demo { data_dir } => roads_cmd::demo(&data_dir)?,
        Command::Serve {
            config,
            addr,
            data_dir,
            graph,
            fleet,
            region,
            integrity,
            cluster,
        } => {
            let file = match &config {
                Some(p) => config::ConfigFile::read(p)?,
                None => config::ConfigFile::default(),
            };
            config::init_logs(&file.log);
            serve_cmd::serve(serve_cmd::ServeArgs {
                addr: addr
                    .or(file.addr.clone())
                    .unwrap_or_else(|| "127.0.0.1:8119".into()),
                data_dir: data_dir
                    .or(file.data_dir.clone())
                    .unwrap_or_else(|| "satria-data".into()),
                graph: graph.or(file.graph.clone()),
                fleet: fleet.or(file.fleet.clone()),
                region: crate::cluster::region(region.or(file.region.clone()))?,
                integrity: integrity.or_file(&file.journal),
                cluster: cluster.or_file(&file.cluster).options()?,
                config: file,
            })?
        }
        Command::User { what } => match what {
            UserCommand::Add {
                data_dir,
                database,
                username,
                password,
                role,
                unit,
                hospital,
                subject,
            } => serve_cmd::user_add(
                &serve_cmd::Accounts::new(&data_dir, database.as_deref()),
                username,
                password,
                &role,
                unit,
                hospital,
                subject,
            )?,
            UserCommand::List { data_dir, database } => {
                serve_cmd::user_list(&serve_cmd::Accounts::new(&data_dir, database.as_deref()))?
            }
            UserCommand::Revoke {
                data_dir,
                database,
                username,
            } => serve_cmd::user_revoke(
                &serve_cmd::Accounts::new(&data_dir, database.as_deref()),
                &username,
            )?,
            UserCommand::Passwd {
                data_dir,
                database,
                username,
                password,
            } => serve_cmd::user_passwd(
                &serve_cmd::Accounts::new(&data_dir, database.as_deref()),
                &username,
                &password,
            )?,
        },
        Command::Mapgen {
            seed,
            scale,
            output,
        } => roads_cmd::mapgen(seed, scale, &output)?,
        Command::Bench { what } => match what {
            BenchCommand::Eta {
                graph,
                units,
                queries,
                seed,
                nearest,
            } => roads_cmd::bench_eta(&graph, units, queries, seed, nearest)?,
        },
        Command::Migrate {
            from_sqlite,
            to,
            batch,
        } => engine_cmd::migrate(&from_sqlite, &to, batch)?,
        Command::Audit { what } => match what {
            AuditCommand::Verify {
                data_dir,
                database,
                public_key,
                checkpoints,
            } => engine_cmd::audit_verify(
                match &database {
                    Some(url) => engine_cmd::JournalAt::Postgres(url),
                    None => engine_cmd::JournalAt::Dir(&data_dir),
                },
                public_key.as_deref(),
                checkpoints.as_deref(),
            )?,
            AuditCommand::Keygen { out } => engine_cmd::audit_keygen(&out)?,
            AuditCommand::Checkpoints {
                data_dir,
                database,
                json,
            } => {
                let at = match &database {
                    Some(url) => engine_cmd::JournalAt::Postgres(url),
                    None => engine_cmd::JournalAt::Dir(&data_dir),
                };
                engine_cmd::audit_checkpoints(at, json)?
            }
        },
        Command::Drill {
            data_dir,
            database,
            node_id,
            seed,
            commands,
            integrity,
        } => {
            let at = match &database {
                Some(url) => engine_cmd::JournalAt::Postgres(url),
                None => engine_cmd::JournalAt::Dir(&data_dir),
            };
            engine_cmd::drill(&data_dir, at, &node_id, seed, commands, &integrity)?
        }
        Command::Load {
            graph,
            data_dir,
            consoles,
            crews,
            rate,
            incidents_per_min,
            warmup,
            duration,
            speed_kmh,
            seed,
            json,
            nodes,
            user,
            database,
            redis,
            takeovers,
        } => {
            let (nodes, targets) = match nodes.trim().parse::<usize>() {
                Ok(n) => (n, Vec::new()),
                Err(_) => {
                    let t = load_cmd::parse_targets(&nodes)?;
                    (t.len(), t)
                }
            };
            let graph = match graph {
                Some(g) => g,
                None => roads_cmd::ensure_demo_graph(&data_dir)?,
            };
            load_cmd::run(load_cmd::LoadArgs {
                graph,
                consoles,
                crews,
                rate_hz: rate,
                incidents_per_min,
                warmup_s: warmup,
                duration_s: duration,
                speed_kmh,
                seed,
                json,
                nodes,
                targets,
                user,
                password: std::env::var("SATRIA_LOAD_PASSWORD").ok(),
                database,
                redis,
                takeovers,
            })?
        }
        Command::Facts => {
            let r = satria_region::Region::banyumas();
            println!(
                "{} kecamatan, {} desa/kelurahan, {} hospitals, {} puskesmas",
                r.kecamatan.len(),
                r.desa.len(),
                r.hospitals.len(),
                r.puskesmas.len()
            );
            println!("{}", satria_region::ATTRIBUTION);
        }
    }
    Ok(())
}
