//! `satria load` as a user runs it, briefly: against one node, and against a
//! cluster of two on a throw-away PostgreSQL database, and the takeover rounds
//! (skipped without PostgreSQL).

use crate::support::{satria, stderr, stdout};
use satria_store::pg::testing::TestDatabase;

/// A small generated map, imported: what the load test serves.
fn small_graph(dir: &std::path::Path) -> std::path::PathBuf {
    let pbf = dir.join("small.osm.pbf");
    let graph = dir.join("small.graph");
    let o = satria(&["mapgen", "--scale", "0.03", "-o", pbf.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = satria(&[
        "import",
        pbf.to_str().unwrap(),
        "-o",
        graph.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    graph
}

fn load(graph: &std::path::Path, extra: &[&str]) -> String {
    let mut args = vec![
        "load",
        "--graph",
        graph.to_str().unwrap(),
        "--consoles",
        "4",
        "--crews",
        "2",
        "--incidents-per-min",
        "0",
        "--warmup",
        "1",
        "--duration",
        "2",
        "--json",
    ];
    args.extend_from_slice(extra);
    let o = satria(&args);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    out
}

/// The JSON report, after the run's first lines.
fn report(out: &str) -> serde_json::Value {
    let start = out.find("\n{").map_or(0, |i| i + 1);
    serde_json::Deserializer::from_str(&out[start..])
        .into_iter::<serde_json::Value>()
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("no JSON report in {out}"))
}

#[test]
fn a_short_load_run_on_one_node_and_on_a_cluster_reports_acknowledged_positions() {
    let dir = tempfile::tempdir().unwrap();
    let graph = small_graph(dir.path());
    let r = report(&load(&graph, &[]));
    assert!(r["positions_acked"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(r["disconnects"], 0, "{r}");
    let Some(db) = TestDatabase::create("cli_load") else {
        return;
    };
    let out = load(&graph, &["--nodes", "2", "--database", &db.url]);
    assert!(out.contains("2 node(s)"), "{out}");
    let r = report(&out);
    assert!(r["positions_acked"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(r["disconnects"], 0, "{r}");
    // Each node's memory, the first being the one that led.
    let nodes = r["node_rss_mb"].as_array().unwrap();
    assert_eq!(nodes.len(), 2, "{r}");
    assert!(
        nodes.iter().all(|n| n["peak_mb"].as_f64().unwrap() > 0.0),
        "{r}"
    );
    // A database that holds a journal is not a throw-away one.
    let o = satria(&[
        "load",
        "--graph",
        graph.to_str().unwrap(),
        "--nodes",
        "2",
        "--database",
        &db.url,
        "--consoles",
        "1",
        "--crews",
        "1",
        "--duration",
        "1",
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("holds a journal already"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn takeover_rounds_kill_the_leader_and_time_the_next_acknowledged_call() {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = TestDatabase::create("cli_load_takeover") else {
        return;
    };
    let graph = small_graph(dir.path());
    let g = graph.to_str().unwrap();
    let args = |nodes: &'static str| {
        vec![
            "load",
            "--graph",
            g,
            "--nodes",
            nodes,
            "--database",
            &db.url,
            "--takeovers",
            "2",
            "--consoles",
            "0",
            "--crews",
            "2",
            "--json",
        ]
    };
    // One node cannot take over from itself.
    let o = satria(&args("1"));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("--takeovers needs a cluster"),
        "{}",
        stderr(&o)
    );
    let o = satria(&args("2"));
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    // Both rounds killed a node that led, and the other answered a call after it.
    assert_eq!(
        out.matches("killed, a call acknowledged").count(),
        2,
        "{out}"
    );
    let r = report(&out);
    assert_eq!(r["rounds"], 2, "{r}");
    assert_eq!(r["kill_to_ack_ms"]["n"], 2, "{r}");
    // No sooner than a lease can lapse (the default TTL is 3 s, renewed every second).
    assert!(
        r["kill_to_ack_ms"]["p50"].as_f64().unwrap() >= 1000.0,
        "{r}"
    );
}

/// `satria load --nodes URL` against a `satria serve` it did not start: the
/// consoles and calls of a staging centre, as its own dispatcher account.
#[test]
fn a_load_run_against_a_running_node_logs_in_as_the_given_dispatcher() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("satria-data");
    std::fs::create_dir_all(&data).unwrap();
    let o = satria(&[
        "mapgen",
        "--scale",
        "0.03",
        "-o",
        data.join("banyumas-demo.osm.pbf").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_satria"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let mut password = None;
    let mut addr = None;
    for l in lines.by_ref() {
        let l = l.unwrap();
        let mut w = l.split_whitespace();
        if w.next() == Some("dispatcher") {
            password = w.next().map(String::from);
        }
        if let Some(rest) = l.split("serving http://").nth(1) {
            addr = rest.split('/').next().map(String::from);
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let (password, addr) = (password.unwrap(), addr.unwrap());
    let url = format!("http://{addr}");
    let graph = data.join("banyumas-demo.graph");
    let load = |extra: &[&str], password: Option<&str>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_satria"));
        c.args(["load", "--graph", graph.to_str().unwrap(), "--nodes", &url]);
        c.args(["--warmup", "1", "--duration", "3", "--json"]);
        c.args(extra);
        c.env_remove("SATRIA_LOAD_PASSWORD");
        if let Some(p) = password {
            c.env("SATRIA_LOAD_PASSWORD", p);
        }
        c.output().unwrap()
    };
    // Crews need accounts the tool makes itself; the password is not guessed.
    let o = load(&["--crews", "2", "--user", "dispatcher"], Some(&password));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--crews 0"), "{}", stderr(&o));
    let o = load(&["--crews", "0", "--user", "dispatcher"], None);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("SATRIA_LOAD_PASSWORD"),
        "{}",
        stderr(&o)
    );
    let o = load(&["--crews", "0", "--user", "dispatcher"], Some("salah"));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("login of dispatcher refused"),
        "{}",
        stderr(&o)
    );
    let o = satria(&["load", "--nodes", "10.0.0.5:8119", "--crews", "0"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("http://"), "{}", stderr(&o));

    let o = load(
        &[
            "--crews",
            "0",
            "--consoles",
            "3",
            "--incidents-per-min",
            "60",
            "--user",
            "dispatcher",
        ],
        Some(&password),
    );
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(out.contains("1 running node(s)"), "{out}");
    let r = report(&out);
    // Every call the tool made was assigned on all three consoles.
    let created = r["incidents_created"].as_u64().unwrap();
    assert!(created >= 1, "{r}");
    assert_eq!(
        r["console_delivery_ms"]["n"].as_u64().unwrap(),
        3 * created,
        "{r}"
    );
    assert_eq!(r["console_missed"], 0, "{r}");
    // Its memory, from the node's own /metrics.
    assert!(r["node_rss_mb"][0]["rss_mb"].as_f64().unwrap() > 0.0, "{r}");
    let _ = child.kill();
    let _ = child.wait();
}
