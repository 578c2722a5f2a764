//! The road commands as a user runs them: import, route, eta, and refusals of bad input
//! (non-zero exit, a message naming the file, and no output file left behind).

use crate::support::{satria, stderr, stdout};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/osm")
        .join(name)
        .display()
        .to_string()
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
