//! The `satria` binary as a user runs it: import, route, eta, and refusals of bad input
//! (non-zero exit, a message naming the file, and no output file left behind).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn satria(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_satria"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/osm")
        .join(name)
        .display()
        .to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn imported(dir: &Path, name: &str) -> PathBuf {
    let graph = dir.join(format!("{name}.graph"));
    let o = satria(&["import", &fixture(name), "-o", graph.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    graph
}

#[test]
fn import_prints_a_summary_and_writes_the_artifact() {
    let dir = tempfile::tempdir().unwrap();
    let graph = dir.path().join("g.graph");
    let o = satria(&[
        "import",
        &fixture("island.osm"),
        "-o",
        graph.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("components dropped             1 (2 nodes, 0.1 km)"),
        "{out}"
    );
    assert!(out.contains("ways skipped (missing nodes)   1"), "{out}");
    assert!(out.contains("tertiary"), "{out}");
    assert!(graph.exists());
}

#[test]
fn route_as_json_and_geojson() {
    let dir = tempfile::tempdir().unwrap();
    let g = imported(dir.path(), "oneway.osm");
    let g = g.to_str().unwrap();
    let o = satria(&[
        "route",
        "--graph",
        g,
        "--from=-7.4190,109.2300",
        "--to=-7.4200,109.2300",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    // Against the one-way street: round the block, 333 m at 25 km/h = 48 s.
    let d = v["distance_m"].as_f64().unwrap();
    assert!((d - 332.6).abs() < 1.0, "{v}");
    assert!(
        (v["eta_s"].as_f64().unwrap() - d / (25.0 / 3.6)).abs() < 0.5,
        "{v}"
    );
    let path = v["path"].as_array().unwrap();
    assert_eq!(path.len(), 4, "{v}");
    assert_eq!(path[0], serde_json::json!([109.23, -7.419]));

    let o = satria(&[
        "route",
        "--graph",
        g,
        "--from=-7.4190,109.2300",
        "--to=-7.4200,109.2300",
        "--geojson",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["geometry"]["type"], "LineString");
    assert_eq!(v["geometry"]["coordinates"].as_array().unwrap().len(), 4);
}

#[test]
fn eta_ranks_units_and_reports_the_unplaceable() {
    let dir = tempfile::tempdir().unwrap();
    let g = imported(dir.path(), "bridge.osm");
    let units = dir.path().join("units.csv");
    std::fs::write(
        &units,
        "id,lat,lon\nnorth-west,-7.5400,109.2000\nsouth-west,-7.5420,109.2000\nbridge,-7.5410,109.2100\nfar,-7.9,109.2\n",
    )
    .unwrap();
    let o = satria(&[
        "eta",
        "--graph",
        g.to_str().unwrap(),
        "--incident=-7.5420,109.2010",
        "--units",
        units.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let ids: Vec<&str> = v["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["unit_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["south-west", "bridge", "north-west", "far"]);
    assert_eq!(v["units"][3]["status"], "not_on_road");
    assert!(v["units"][0]["eta_s"].as_u64().unwrap() < v["units"][1]["eta_s"].as_u64().unwrap());

    let o = satria(&[
        "eta",
        "--graph",
        g.to_str().unwrap(),
        "--incident=-7.5420,109.2010",
        "--units",
        units.to_str().unwrap(),
        "--nearest",
        "1",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["units"][0]["unit_id"], "south-west");
    assert_eq!(v["units"][1]["status"], "not_nearest");
}

#[test]
fn bad_input_exits_non_zero_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.graph");
    let out_s = out.to_str().unwrap();

    let broken = dir.path().join("broken.osm");
    std::fs::write(&broken, "<osm><way id=\"1\"><nd ref=\"1\"/>").unwrap();
    let o = satria(&["import", broken.to_str().unwrap(), "-o", out_s]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("broken.osm"), "{}", stderr(&o));

    let o = satria(&[
        "import",
        &fixture("oneway.osm"),
        "-o",
        out_s,
        "--bbox",
        "0,0,1,1",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("inside the bbox"), "{}", stderr(&o));

    let o = satria(&[
        "import",
        &fixture("oneway.osm"),
        "-o",
        out_s,
        "--bbox",
        "1,2,3",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("four numbers"), "{}", stderr(&o));

    let o = satria(&["import", "/nonexistent/file.osm.pbf", "-o", out_s]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("/nonexistent/file.osm.pbf"),
        "{}",
        stderr(&o)
    );

    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only broken.osm is there"
    );

    let g = imported(dir.path(), "oneway.osm");
    let o = satria(&[
        "route",
        "--graph",
        g.to_str().unwrap(),
        "--from=-7.5,109.0",
        "--to=-7.42,109.23",
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cannot place the start on a road"),
        "{}",
        stderr(&o)
    );
    let o = satria(&[
        "route",
        "--graph",
        g.to_str().unwrap(),
        "--from=95,109.0",
        "--to=-7.42,109.23",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("out of range"), "{}", stderr(&o));
}

#[test]
fn mapgen_is_deterministic_and_imports_through_the_real_path() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.osm.pbf");
    let b = dir.path().join("b.osm.pbf");
    for p in [&a, &b] {
        let o = satria(&[
            "mapgen",
            "--seed",
            "5",
            "--scale",
            "0.02",
            "-o",
            p.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(
            out.lines()
                .any(|l| l.starts_with("bridges") && l.trim_end().ends_with(" 5")),
            "{out}"
        );
        // Circuity of a plausible road network.
        let line = out.lines().find(|l| l.starts_with("circuity")).unwrap();
        let median: f64 = line
            .split("median ")
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1.1..1.8).contains(&median), "{line}");
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());

    let g = dir.path().join("a.graph");
    let o = satria(&["import", a.to_str().unwrap(), "-o", g.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Across the Serayu: Purwokerto to Kemranjen (south bank) is routable over a bridge.
    let o = satria(&[
        "route",
        "--graph",
        g.to_str().unwrap(),
        "--from=-7.4245,109.2340",
        "--to=-7.5930,109.2722",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["distance_m"].as_f64().unwrap() > 19_000.0, "{v}");

    let o = satria(&[
        "mapgen",
        "--scale",
        "0",
        "-o",
        dir.path().join("c.osm.pbf").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("--scale 0 is out of range"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn demo_runs_end_to_end() {
    // The README's first command, on a small region so the test stays quick: the demo
    // reuses files already in its data folder, so seed it with a small generated map.
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
    let o = satria(&["demo", "--data-dir", data.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    // The fleet registered (seq 1..=21), the call journaled, the best unit assigned.
    assert!(out.contains("21 units, 23 hospitals"), "{out}");
    assert!(out.contains("journaled as seq 22"), "{out}");
    assert!(out.contains("assigned automatically (merah):"), "{out}");
    assert!(out.contains("busy on another incident"), "{out}");
    assert!(out.contains("== destination hospitals"), "{out}");
    assert!(data.join("banyumas-demo.graph").exists());
    // A second run continues the same journal, and sees the first call as a possible
    // duplicate (same place, minutes apart).
    let o = satria(&["demo", "--data-dir", data.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("21 units, 23 hospitals, journal"), "{out}");
    assert!(out.contains("journaled as seq 24"), "{out}");
    assert!(
        out.contains("possible duplicate of incident INC-000001"),
        "{out}"
    );
    let o = satria(&["audit", "verify", "--data-dir", data.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("rows, hash chain intact"));
}

#[test]
fn truncated_or_corrupt_pbf_is_refused_without_output() {
    let dir = tempfile::tempdir().unwrap();
    let pbf = dir.path().join("small.osm.pbf");
    let o = satria(&["mapgen", "--scale", "0.01", "-o", pbf.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&pbf).unwrap();
    let out = dir.path().join("out.graph");

    let truncated = dir.path().join("truncated.osm.pbf");
    std::fs::write(&truncated, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let o = satria(&[
        "import",
        truncated.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("truncated.osm.pbf: corrupt or truncated PBF"),
        "{}",
        stderr(&o)
    );

    let mut damaged = bytes.clone();
    let mid = damaged.len() / 2;
    for b in &mut damaged[mid..mid + 64] {
        *b ^= 0x5a;
    }
    let corrupt = dir.path().join("corrupt.osm.pbf");
    std::fs::write(&corrupt, &damaged).unwrap();
    let o = satria(&[
        "import",
        corrupt.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("corrupt.osm.pbf"), "{}", stderr(&o));
    assert!(!out.exists());
}

// ---------------------------------------------------------------- user add: bindings must exist (issue 14, item 11)

fn user_add(dir: &Path, username: &str, role: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "user",
        "add",
        "--data-dir",
        dir.to_str().unwrap(),
        "--username",
        username,
        "--password",
        "kata-sandi-uji-119",
        "--role",
        role,
    ];
    args.extend_from_slice(extra);
    satria(&args)
}

fn usernames(dir: &Path) -> String {
    let o = satria(&["user", "list", "--data-dir", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

#[test]
fn user_add_refuses_a_crew_of_a_unit_not_in_the_fleet() {
    let dir = tempfile::tempdir().unwrap();
    // No journal yet: the demo fleet the first `serve` registers.
    let o = user_add(dir.path(), "crewx", "crew", &["--unit", "NOPE-99"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("unit \"NOPE-99\" is not in the fleet"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("auth.sqlite").exists(), "nothing written");
    let o = user_add(dir.path(), "crew1", "crew", &["--unit", "PSC-01"]);
    assert!(o.status.success(), "{}", stderr(&o));

    // With a journal: its registered units are the fleet.
    let dir = tempfile::tempdir().unwrap();
    let mut opts = satria_engine::EngineOptions::new(dir.path());
    let mut unit = satria_dispatch::demo_fleet().remove(0);
    unit.id = satria_dispatch::UnitId("UJI-77".into());
    opts.initial_units = vec![unit];
    let engine = satria_engine::Engine::start(
        opts,
        Box::new(satria_dispatch::StraightLine::default()),
        satria_engine::Clock::system(),
    )
    .unwrap();
    engine.shutdown();
    let o = user_add(dir.path(), "crewy", "crew", &["--unit", "PSC-01"]);
    assert!(!o.status.success(), "PSC-01 is not in this journal");
    assert!(stderr(&o).contains("journal"), "{}", stderr(&o));
    assert!(!usernames(dir.path()).contains("crewy"));
    let o = user_add(dir.path(), "crewy", "crew", &["--unit", "UJI-77"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(usernames(dir.path()).contains("crewy"));
}

#[test]
fn user_add_refuses_a_household_without_a_salinmas_record() {
    let dir = tempfile::tempdir().unwrap();
    for extra in [&[][..], &["--subject", "1"][..], &["--subject", "abc"][..]] {
        let o = user_add(dir.path(), "rumah1", "salinmas_household", extra);
        assert!(!o.status.success(), "{extra:?}");
        assert!(stderr(&o).contains("nothing was added"), "{}", stderr(&o));
    }
    assert!(!dir.path().join("auth.sqlite").exists(), "nothing written");
    let s = satria_salinmas::Salinmas::open(&dir.path().join("salinmas.sqlite")).unwrap();
    let officer = satria_auth::Principal {
        user_id: 1,
        username: "petugas".into(),
        role: satria_auth::Role::SalinmasOfficer,
        unit: None,
        hospital: None,
        subject: None,
    };
    let a = s
        .create_account(
            &officer,
            satria_salinmas::NewAccount {
                kind: "household".into(),
                name: "Rumah Uji".into(),
                kelurahan: "Sokanegara".into(),
                rt: "1".into(),
                rw: "1".into(),
                address: "Jl. Uji".into(),
                lat: -7.42,
                lon: 109.23,
                phone: "081234567890".into(),
                members: Some(4),
            },
            satria_server::now_ms(),
        )
        .unwrap();
    drop(s);
    let o = user_add(
        dir.path(),
        "rumah1",
        "salinmas_household",
        &["--subject", "999"],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no Salinmas household account 999"),
        "{}",
        stderr(&o)
    );
    let id = a.id.to_string();
    let o = user_add(
        dir.path(),
        "rumah1",
        "salinmas_household",
        &["--subject", &id],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(usernames(dir.path()).contains("rumah1"));
}

// ---- journal integrity (issue 14 items 4 and 5): refusing a tampered journal,
// accepting one break, signed checkpoints and their export.

/// Runs `satria drill` on `data` for `commands` commands with `extra` flags.
fn drill(data: &Path, commands: u64, extra: &[&str]) -> Output {
    let mut args = vec!["drill", "--data-dir", data.to_str().unwrap(), "--commands"];
    let n = commands.to_string();
    args.push(&n);
    args.extend_from_slice(extra);
    satria(&args)
}

fn sql(data: &Path, statement: &str) {
    let db = rusqlite::Connection::open(data.join("journal.sqlite")).unwrap();
    db.execute_batch(statement).unwrap();
}

#[test]
fn drill_refuses_a_tampered_journal_naming_the_row_and_accepts_only_that_row() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let o = drill(&data, 20, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    sql(
        &data,
        "UPDATE entries SET payload = payload || ' ' WHERE row = 9",
    );

    let o = drill(&data, 1, &[]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
    assert!(err.contains("hash chain is broken at row 9"), "{err}");
    assert!(!stdout(&o).contains("ready"), "the engine must not start");

    let o = drill(&data, 1, &["--accept-broken-chain", "10"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("the first broken row is 9"),
        "{}",
        stderr(&o)
    );

    // The environment variable works like the flag.
    let o = Command::new(env!("CARGO_BIN_EXE_satria"))
        .args([
            "drill",
            "--data-dir",
            data.to_str().unwrap(),
            "--commands",
            "3",
        ])
        .env("SATRIA_ACCEPT_BROKEN_CHAIN", "9")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    // Accepted once, the next start is clean, and verify reports the acceptance.
    let o = drill(&data, 3, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = satria(&["audit", "verify", "--data-dir", data.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("accepted break at row 9"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn checkpoints_prove_a_cut_tail_against_the_table_and_an_exported_copy() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = dir.path().join("audit.key");
    let o = satria(&["audit", "keygen", "--out", key.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let public = stdout(&o)
        .lines()
        .find_map(|l| l.strip_prefix("public key: ").map(str::to_string))
        .unwrap();
    // Never overwritten.
    let o = satria(&["audit", "keygen", "--out", key.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("refusing to overwrite"),
        "{}",
        stderr(&o)
    );

    // A key inside the data directory, or one that cannot be read, is refused.
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(&key, data.join("audit.key")).unwrap();
    let inside = data.join("audit.key");
    let o = drill(&data, 1, &["--audit-key", inside.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("inside the data directory"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_file(&inside).unwrap();
    let o = drill(&data, 1, &["--audit-key", "/nonexistent/audit.key"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cannot read the audit key"),
        "{}",
        stderr(&o)
    );

    let o = drill(
        &data,
        60,
        &[
            "--audit-key",
            key.to_str().unwrap(),
            "--checkpoint-every-rows",
            "10",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = satria(&[
        "audit",
        "checkpoints",
        "--data-dir",
        data.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let exported = dir.path().join("checkpoints.json");
    std::fs::write(&exported, &o.stdout).unwrap();
    let cps: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let last = cps.as_array().unwrap().last().unwrap()["row"]
        .as_u64()
        .unwrap();
    assert!(last > 21, "checkpoints after the fleet: {cps}");

    let verify = |extra: &[&str]| {
        let mut a = vec!["audit", "verify", "--data-dir", data.to_str().unwrap()];
        a.extend_from_slice(extra);
        satria(&a)
    };
    let o = verify(&[
        "--public-key",
        &public,
        "--checkpoints",
        exported.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Signed by another key: refused.
    let other = dir.path().join("other.key");
    let o = satria(&["audit", "keygen", "--out", other.to_str().unwrap()]);
    let other_public = stdout(&o)
        .lines()
        .find_map(|l| l.strip_prefix("public key: ").map(str::to_string))
        .unwrap();
    let o = verify(&["--public-key", &other_public]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("not by the expected key"),
        "{}",
        stderr(&o)
    );

    // Cut the tail, move the head back, and cut the checkpoint table too.
    let keep = last - 5;
    sql(
        &data,
        &format!(
            "DELETE FROM entries WHERE row > {keep};
             UPDATE chain_head SET row = {keep}, hash = (SELECT hash FROM entries WHERE row = {keep});
             UPDATE verified_point SET row = {keep}, hash = (SELECT hash FROM entries WHERE row = {keep});
             DELETE FROM checkpoints WHERE row > {keep};"
        ),
    );
    let o = verify(&[]);
    assert!(
        o.status.success(),
        "the chain alone cannot see it: {}",
        stderr(&o)
    );
    let o = verify(&["--checkpoints", exported.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = stderr(&o);
    // Named at the first exported checkpoint past the new end.
    let first_cut = cps
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["row"].as_u64())
        .find(|r| *r > keep)
        .unwrap();
    assert!(err.contains(&format!("BROKEN at row {first_cut}")), "{err}");
    assert!(err.contains("exported checkpoint"), "{err}");
}

// ---- newcomers: a port already taken, a password forgotten

#[test]
fn serve_on_a_taken_port_says_so_at_once_and_creates_no_account() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("satria-data");
    // Another program holds the port.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let o = satria(&[
        "serve",
        "--data-dir",
        data.to_str().unwrap(),
        "--addr",
        &addr,
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    assert!(err.contains("--addr"), "the way out is named: {err}");
    let out = stdout(&o);
    assert!(!out.contains("demo accounts"), "no password printed: {out}");
    assert!(!out.contains("generating"), "no map generated first: {out}");
    assert!(
        !data.join("auth.sqlite").exists(),
        "no account created before the port is ours"
    );
}

#[test]
fn user_passwd_sets_a_new_password_and_refuses_an_unknown_account() {
    let dir = tempfile::tempdir().unwrap();
    let o = user_add(dir.path(), "admin1", "admin", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let d = dir.path().to_str().unwrap();
    let o = satria(&[
        "user",
        "passwd",
        "--data-dir",
        d,
        "--username",
        "admin1",
        "--password",
        "sandi-baru-119-psc",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("password of admin1 changed"));
    // The new password logs in, the old one does not.
    let auth = satria_auth::AuthStore::open(&dir.path().join("auth.sqlite")).unwrap();
    assert!(
        auth.login("admin1", "sandi-baru-119-psc", "cli-test", 1)
            .is_ok()
    );
    assert!(
        auth.login("admin1", "kata-sandi-uji-119", "cli-test", 2)
            .is_err()
    );
    // An unknown account, a password too short: refused, nothing changed.
    let o = satria(&[
        "user",
        "passwd",
        "--data-dir",
        d,
        "--username",
        "nobody",
        "--password",
        "sandi-baru-119-psc",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("nobody"), "{}", stderr(&o));
    let o = satria(&[
        "user",
        "passwd",
        "--data-dir",
        d,
        "--username",
        "admin1",
        "--password",
        "x",
    ]);
    assert!(!o.status.success());
    assert!(
        auth.login("admin1", "sandi-baru-119-psc", "cli-test", 3)
            .is_ok()
    );
}
