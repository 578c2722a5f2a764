//! The road subcommands: `import`, `route`, `eta` and `bench eta`.

use anyhow::{Context, Result, bail};
use satria_roads::{
    BBox, DriveTimeEngine, ImportOptions, ImportReport, Outcome, PolicyOptions, RoadNetwork, Snap,
    Stop,
};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Parses `LAT,LON`.
pub fn parse_latlon(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s
        .split_once(',')
        .ok_or_else(|| format!("{s:?} is not LAT,LON"))?;
    let lat: f64 = a
        .trim()
        .parse()
        .map_err(|_| format!("latitude {a:?} is not a number"))?;
    let lon: f64 = b
        .trim()
        .parse()
        .map_err(|_| format!("longitude {b:?} is not a number"))?;
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err(format!(
            "{s:?} is out of range: latitude -90..90, longitude -180..180"
        ));
    }
    Ok((lat, lon))
}

/// Imports `input` and writes the artifact to `output`; prints the summary.
pub fn import(
    input: &Path,
    output: &Path,
    bbox: Option<&str>,
    tracks: bool,
) -> Result<ImportReport> {
    let bbox = bbox
        .map(BBox::parse)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let started = Instant::now();
    let size = std::fs::metadata(input)
        .with_context(|| format!("{}: cannot read", input.display()))?
        .len();
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(size);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message("reading");
        Some(bar)
    } else {
        eprintln!("import: reading {} ({} bytes)", input.display(), size);
        None
    };
    let mut progress = |n: u64| {
        if let Some(b) = &bar {
            b.set_position(n);
        }
    };
    let opts = ImportOptions {
        bbox,
        policy: PolicyOptions { tracks },
    };
    let result = satria_roads::import(input, opts, &mut progress);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let (graph, report) = result?;
    eprintln!("import: writing {}", output.display());
    graph.save(output)?;
    let bytes = std::fs::metadata(output).map(|m| m.len()).unwrap_or(0);
    print_summary(bytes, &report, started.elapsed().as_secs_f64());
    Ok(report)
}

fn print_summary(artifact_bytes: u64, r: &ImportReport, secs: f64) {
    let b = &r.build;
    println!("nodes (junctions)     {:>10}", b.nodes);
    println!("edges (directed)      {:>10}", b.edges);
    println!("road pieces           {:>10}", b.pieces);
    println!("osm nodes on roads    {:>10}", b.osm_nodes);
    println!(
        "ways read / routable  {:>10} / {}",
        r.read.ways_read, r.read.ways_routable
    );
    println!(
        "ways skipped (missing nodes) {:>3}",
        r.read.ways_missing_nodes
    );
    println!(
        "components dropped    {:>10} ({} nodes, {:.1} km)",
        b.components_dropped, b.nodes_dropped, b.km_dropped
    );
    println!("closed loops dropped  {:>10}", b.loops_dropped);
    let total: f64 = b.km_per_class.iter().map(|(_, km)| km).sum();
    println!("km of road            {total:>10.1}");
    for (class, km) in &b.km_per_class {
        println!("  {:<18}  {km:>10.1}", class.as_str());
    }
    println!("artifact bytes        {artifact_bytes:>10}");
    println!("seconds               {secs:>10.2}");
}

fn snap_or_explain(net: &RoadNetwork, what: &str, p: (f64, f64), max_snap_m: f64) -> Result<Snap> {
    net.snap(p.0, p.1, max_snap_m)
        .with_context(|| format!("cannot place the {what} on a road"))
}

/// `satria route`.
pub fn route(
    graph: &Path,
    from: (f64, f64),
    to: (f64, f64),
    format: OutputFormat,
    max_snap_m: f64,
) -> Result<()> {
    let net = RoadNetwork::load(graph)?;
    let a = snap_or_explain(&net, "start", from, max_snap_m)?;
    let b = snap_or_explain(&net, "destination", to, max_snap_m)?;
    let mut router = net.router();
    let Some(r) = router.route(&a, &b) else {
        bail!(
            "no road route from {},{} to {},{}",
            from.0,
            from.1,
            to.0,
            to.1
        );
    };
    let eta_s = r.time_ms as f64 / 1000.0;
    match format {
        OutputFormat::Text => {
            println!("eta_s       {eta_s:.1}");
            println!("distance_m  {:.0}", r.distance_m);
            println!("points      {}", r.path.len());
        }
        OutputFormat::Json => {
            let v = serde_json::json!({
                "eta_s": eta_s,
                "distance_m": (r.distance_m * 10.0).round() / 10.0,
                "path": r.path.iter().map(|(lat, lon)| [round7(*lon), round7(*lat)]).collect::<Vec<_>>(),
            });
            println!("{v}");
        }
        OutputFormat::Geojson => {
            let v = serde_json::json!({
                "type": "Feature",
                "properties": {"eta_s": eta_s, "distance_m": (r.distance_m * 10.0).round() / 10.0},
                "geometry": {
                    "type": "LineString",
                    "coordinates": r.path.iter().map(|(lat, lon)| [round7(*lon), round7(*lat)]).collect::<Vec<_>>(),
                },
            });
            println!("{v}");
        }
    }
    Ok(())
}

fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7
}

/// Output format of `route` and `eta`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
    Geojson,
}

/// One row of a units CSV (`id,lat,lon`).
#[derive(Debug, Clone)]
pub struct UnitRow {
    pub id: String,
    pub lat: f64,
    pub lon: f64,
}

/// Reads `id,lat,lon` rows (a header line is skipped; `#` comments allowed).
pub fn read_units_csv(path: &Path) -> Result<Vec<UnitRow>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty()
            || line.starts_with('#')
            || (i == 0 && line.to_ascii_lowercase().starts_with("id"))
        {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() != 3 {
            bail!(
                "{} line {}: expected id,lat,lon, found {} fields",
                path.display(),
                i + 1,
                f.len()
            );
        }
        let (lat, lon) = parse_latlon(&format!("{},{}", f[1], f[2]))
            .map_err(|e| anyhow::anyhow!("{} line {}: {e}", path.display(), i + 1))?;
        rows.push(UnitRow {
            id: f[0].to_string(),
            lat,
            lon,
        });
    }
    if rows.is_empty() {
        bail!("{}: no units", path.display());
    }
    Ok(rows)
}

/// `satria eta`: many-to-one from every unit to the incident.
pub fn eta(
    graph: &Path,
    incident: (f64, f64),
    units: &Path,
    nearest: Option<usize>,
    json: bool,
    max_snap_m: f64,
) -> Result<()> {
    let net = RoadNetwork::load(graph)?;
    let rows = read_units_csv(units)?;
    let target = snap_or_explain(&net, "incident", incident, max_snap_m)?;
    let snaps: Vec<Result<Snap, String>> = rows
        .iter()
        .map(|u| {
            net.snap(u.lat, u.lon, max_snap_m)
                .map_err(|e| e.to_string())
        })
        .collect();
    let ok: Vec<Snap> = snaps
        .iter()
        .filter_map(|s| s.as_ref().ok().copied())
        .collect();
    let mut router = net.router();
    let started = Instant::now();
    let outcomes = router.many_to_one(
        &ok,
        &target,
        Stop {
            nearest,
            max_time_ms: None,
        },
    );
    let micros = started.elapsed().as_micros();
    let mut it = outcomes.into_iter();
    let mut results: Vec<(String, Result<Outcome, String>)> = rows
        .iter()
        .zip(&snaps)
        .map(|(u, s)| {
            (
                u.id.clone(),
                s.clone().map(|_| it.next().expect("one outcome per snap")),
            )
        })
        .collect();
    // Reached units first, by drive time.
    results.sort_by_key(|(_, r)| match r {
        Ok(Outcome::Reached(x)) => (0, x.time_ms),
        Ok(Outcome::NotSettled) => (1, 0),
        Ok(Outcome::Unreachable) => (2, 0),
        Err(_) => (3, 0),
    });
    if json {
        let v: Vec<serde_json::Value> = results
            .iter()
            .map(|(id, r)| match r {
                Ok(Outcome::Reached(x)) => serde_json::json!({"unit_id": id, "status": "reached", "eta_s": x.eta_s(), "distance_m": x.distance_m.round()}),
                Ok(Outcome::NotSettled) => serde_json::json!({"unit_id": id, "status": "not_nearest"}),
                Ok(Outcome::Unreachable) => serde_json::json!({"unit_id": id, "status": "unreachable"}),
                Err(e) => serde_json::json!({"unit_id": id, "status": "not_on_road", "error": e}),
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({"incident": [incident.1, incident.0], "search_us": micros, "units": v})
        );
    } else {
        for (id, r) in &results {
            match r {
                Ok(Outcome::Reached(x)) => {
                    println!("{id:<12} {:>6} s {:>8.0} m", x.eta_s(), x.distance_m)
                }
                Ok(Outcome::NotSettled) => println!("{id:<12} not among the nearest"),
                Ok(Outcome::Unreachable) => println!("{id:<12} unreachable"),
                Err(e) => println!("{id:<12} not on a road: {e}"),
            }
        }
        eprintln!(
            "search: {micros} µs, {} nodes settled",
            router.last_settled()
        );
    }
    Ok(())
}

/// `satria bench eta`: the same seeded many-to-one queries through Satria's search and
/// through petgraph's Dijkstra on the same graph, p50/p99 of each and the ratio.
pub fn bench_eta(
    graph: &Path,
    units: usize,
    queries: usize,
    seed: u64,
    nearest: Option<usize>,
) -> Result<()> {
    use rand::{Rng, SeedableRng};
    let t = Instant::now();
    let net = RoadNetwork::load(graph)?;
    println!(
        "graph: {} nodes, {} edges, loaded and indexed in {:.0} ms",
        net.graph.node_count(),
        net.graph.edge_count(),
        t.elapsed().as_secs_f64() * 1e3
    );
    let g = &net.graph;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (min_lat, min_lon, max_lat, max_lon) = g.bounds();
    let random_snap = |rng: &mut rand_chacha::ChaCha8Rng| loop {
        let lat = rng.gen_range(min_lat..max_lat);
        let lon = rng.gen_range(min_lon..max_lon);
        if let Ok(s) = net.snap(lat, lon, 1000.0) {
            return s;
        }
    };
    let mut router = net.router();
    let reversed = satria_roads::search::to_petgraph(g, true);
    let mut ours = Vec::with_capacity(queries);
    let mut theirs = Vec::with_capacity(queries);
    let mut mismatches = 0usize;
    for _ in 0..queries {
        let target = random_snap(&mut rng);
        let sources: Vec<Snap> = (0..units).map(|_| random_snap(&mut rng)).collect();
        let t0 = Instant::now();
        let out = router.many_to_one(
            &sources,
            &target,
            Stop {
                nearest,
                max_time_ms: None,
            },
        );
        ours.push(t0.elapsed().as_secs_f64() * 1e3);
        // petgraph: one full Dijkstra per entry node of the target over the reversed
        // graph (it has no multi-source start), then the same port arithmetic.
        let t1 = Instant::now();
        let p = target.piece as usize;
        let mut from_entry = Vec::new();
        let w = g.piece_weight_ms[p];
        if g.piece_fwd_edge[p] != satria_roads::graph::NONE {
            let off = (w as f64 * target.frac).round() as u32;
            from_entry.push((
                off,
                petgraph::algo::dijkstra(&reversed, g.piece_from[p].into(), None, |e| *e.weight()),
            ));
        }
        if g.piece_bwd_edge[p] != satria_roads::graph::NONE {
            let off = (w as f64 * (1.0 - target.frac)).round() as u32;
            from_entry.push((
                off,
                petgraph::algo::dijkstra(&reversed, g.piece_to[p].into(), None, |e| *e.weight()),
            ));
        }
        let node_time = |v: u32| {
            from_entry
                .iter()
                .filter_map(|(off, m)| {
                    m.get(&petgraph::graph::NodeIndex::<u32>::new(v as usize))
                        .map(|t| t + off)
                })
                .min()
        };
        let reference: Vec<Option<u32>> = sources
            .iter()
            .map(|s| {
                let q = s.piece as usize;
                let wq = g.piece_weight_ms[q];
                let mut best: Option<u32> = None;
                let mut consider = |c: Option<u32>| {
                    if let Some(c) = c {
                        best = Some(best.map_or(c, |b| b.min(c)));
                    }
                };
                if g.piece_fwd_edge[q] != satria_roads::graph::NONE {
                    consider(
                        node_time(g.piece_to[q])
                            .map(|t| t + (wq as f64 * (1.0 - s.frac)).round() as u32),
                    );
                }
                if g.piece_bwd_edge[q] != satria_roads::graph::NONE {
                    consider(
                        node_time(g.piece_from[q]).map(|t| t + (wq as f64 * s.frac).round() as u32),
                    );
                }
                if s.piece == target.piece {
                    let d = target.frac - s.frac;
                    if (d >= 0.0 && g.piece_fwd_edge[q] != satria_roads::graph::NONE)
                        || (d <= 0.0 && g.piece_bwd_edge[q] != satria_roads::graph::NONE)
                    {
                        consider(Some((wq as f64 * d.abs()).round() as u32));
                    }
                }
                best
            })
            .collect();
        theirs.push(t1.elapsed().as_secs_f64() * 1e3);
        for (o, r) in out.iter().zip(&reference) {
            match (o, r) {
                (Outcome::Reached(x), Some(t)) if x.time_ms == *t => {}
                (Outcome::Unreachable, None) | (Outcome::NotSettled, _) => {}
                _ => mismatches += 1,
            }
        }
    }
    let pct = |v: &mut Vec<f64>, q: f64| {
        v.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
        v[((v.len() as f64 - 1.0) * q).round() as usize]
    };
    let (o50, o99) = (pct(&mut ours, 0.5), pct(&mut ours, 0.99));
    let (t50, t99) = (pct(&mut theirs, 0.5), pct(&mut theirs, 0.99));
    let k = nearest.map_or("all".to_string(), |k| format!("nearest {k}"));
    println!("many-to-one, {units} units ({k}), {queries} queries, seed {seed}");
    println!("satria dijkstra    p50 {o50:>8.2} ms   p99 {o99:>8.2} ms");
    println!("petgraph dijkstra  p50 {t50:>8.2} ms   p99 {t99:>8.2} ms");
    println!(
        "ratio (petgraph / satria)  p50 {:.1}x   p99 {:.1}x",
        t50 / o50,
        t99 / o99
    );
    println!("answers that differ from petgraph: {mismatches}");
    if mismatches > 0 {
        bail!("{mismatches} answers differ from petgraph's dijkstra");
    }
    Ok(())
}

/// `satria mapgen`: generates the demo region, writes it as PBF (via a temporary file,
/// renamed), prints its summary, then imports it in memory and reports the routable size
/// and the circuity over 1,000 random pairs.
/// `satria mapgen`: writes the generated region, then imports it once to report
/// what is routable and how direct its roads are.
pub fn mapgen(seed: u64, scale: f64, output: &Path) -> Result<()> {
    write_generated(seed, scale, output)?;
    let t = Instant::now();
    let (graph, report) = satria_roads::import(output, ImportOptions::default(), &mut |_| {})?;
    println!("imported in {:.2} s", t.elapsed().as_secs_f64());
    println!(
        "routable after import: {} junctions, {} edges ({} components dropped)",
        report.build.nodes, report.build.edges, report.build.components_dropped
    );
    let net = RoadNetwork::new(graph);
    let c = circuity(&net, 1000, seed);
    println!(
        "circuity (road / straight distance, 1,000 random pairs over 2 km apart): median {:.2}, mean {:.2}",
        c.0, c.1
    );
    Ok(())
}

/// Generates the demo region and writes it as OSM PBF (temp file, fsync, rename),
/// without importing it: the first `serve` or `demo` imports it once, into the graph.
fn write_generated(seed: u64, scale: f64, output: &Path) -> Result<()> {
    if !(scale > 0.0 && scale <= 4.0) {
        bail!("--scale {scale} is out of range: use a number above 0 and at most 4");
    }
    let started = Instant::now();
    let region = satria_region::Region::banyumas();
    let ds = satria_mapgen::generate(&region, &satria_mapgen::Options { seed, scale });
    let dir = output
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{}: cannot create the folder", dir.display()))?;
    let tmp = dir.join(format!(".mapgen.{}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        let f = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(f);
        satria_mapgen::write_pbf(&ds, &mut w)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, output)
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("{}: cannot write", output.display()));
    }
    println!("demo region of Banyumas (generated), seed {seed}, scale {scale}");
    println!("{}", satria_mapgen::summarize(&ds));
    println!(
        "generated in {:.2} s -> {}",
        started.elapsed().as_secs_f64(),
        output.display()
    );
    Ok(())
}

/// Median and mean of road distance / straight-line distance between random pairs of
/// road points at least 2 km apart: 20 origins, each with one one-to-many search to
/// `pairs / 20` destinations.
pub fn circuity(net: &RoadNetwork, pairs: usize, seed: u64) -> (f64, f64) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (a, b, c, d) = net.graph.bounds();
    let random_snap = |rng: &mut rand_chacha::ChaCha8Rng| loop {
        if let Ok(s) = net.snap(rng.gen_range(a..c), rng.gen_range(b..d), 300.0) {
            return s;
        }
    };
    let straight = |s: &Snap, t: &Snap| {
        satria_roads::build::haversine_m(
            ((s.lat * 1e7).round() as i32, (s.lon * 1e7).round() as i32),
            ((t.lat * 1e7).round() as i32, (t.lon * 1e7).round() as i32),
        )
    };
    let mut router = net.router();
    let mut ratios = Vec::with_capacity(pairs);
    let origins = 20;
    for _ in 0..origins {
        let s = random_snap(&mut rng);
        let mut targets = Vec::new();
        while targets.len() < pairs.div_ceil(origins) {
            let t = random_snap(&mut rng);
            if straight(&s, &t) >= 2000.0 {
                targets.push(t);
            }
        }
        for (t, o) in targets
            .iter()
            .zip(router.one_to_many(&s, &targets, Stop::default()))
        {
            if let Some(r) = o.reach() {
                ratios.push(r.distance_m / straight(&s, t));
            }
        }
    }
    if ratios.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    ratios.sort_by(|x, y| x.partial_cmp(y).expect("finite"));
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    (ratios[ratios.len() / 2], mean)
}

/// `satria demo`: makes sure the demo region exists in `data_dir` (generating and
/// importing it on first run), then answers the dispatch question for a sample incident:
/// which ambulance base is nearest by drive time.
/// The demo region's graph in `data_dir`, generated and imported on first use.
pub fn ensure_demo_graph(data_dir: &Path) -> Result<PathBuf> {
    let pbf = data_dir.join("banyumas-demo.osm.pbf");
    let graph = data_dir.join("banyumas-demo.graph");
    // The demo graph is derived: one made by an older build is imported again.
    if graph.exists() && !satria_roads::Graph::is_current_artifact(&graph) {
        println!(
            "== {} was made by an older build: importing it again",
            graph.display()
        );
    }
    if !satria_roads::Graph::is_current_artifact(&graph) {
        if !pbf.exists() {
            println!("== generating the demo region (first run only)");
            // Written only: the import below is the one import of the first run.
            write_generated(119, 1.0, &pbf)?;
        }
        println!("== importing {}", pbf.display());
        import(&pbf, &graph, None, false)?;
    }
    Ok(graph)
}

pub fn demo(data_dir: &Path) -> Result<()> {
    let graph = ensure_demo_graph(data_dir)?;
    let t = Instant::now();
    let net = RoadNetwork::load(&graph)?;
    println!(
        "== road graph {}: {} junctions, loaded in {:.0} ms",
        graph.display(),
        net.graph.node_count(),
        t.elapsed().as_secs_f64() * 1e3
    );
    crate::engine_cmd::dispatch_demo(data_dir, &graph, net)?;
    println!(
        "The demo region is generated from real Banyumas facts; its roads are not the real roads."
    );
    Ok(())
}
