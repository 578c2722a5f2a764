//! The importer and the search on hand-made OSM fixtures (`fixtures/osm/`), each with
//! routes whose answer is known from the drawing.

use satria_roads::{DriveTimeEngine, ImportError, ImportOptions, RoadNetwork, SnapError, import};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/osm")
        .join(name)
}

fn net(name: &str) -> RoadNetwork {
    let (g, _) =
        import(&fixture(name), ImportOptions::default(), &mut |_| {}).expect("fixture imports");
    RoadNetwork::new(g)
}

/// Drive distance in metres from one position to another.
fn drive_m(net: &RoadNetwork, from: (f64, f64), to: (f64, f64)) -> Option<f64> {
    let a = net.snap(from.0, from.1, 1000.0).expect("start on a road");
    let b = net.snap(to.0, to.1, 1000.0).expect("end on a road");
    net.router().route(&a, &b).map(|r| r.distance_m)
}

fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 2.0,
        "expected about {expected} m, got {actual} m"
    );
}

/// Metres in 0.001 degree of latitude (on the sphere the importer measures on).
const D: f64 = 111.195;
/// Metres in 0.001 degree of longitude at 7.42 S.
const DLON: f64 = 110.264;
/// Metres in 0.001 degree of longitude at 7.54 S.
const DLON_754: f64 = 110.234;

#[test]
fn oneway_street_is_driven_only_one_way() {
    let n = net("oneway.osm");
    close(
        drive_m(&n, (-7.4200, 109.2300), (-7.4190, 109.2300)).unwrap(),
        D,
    );
    close(
        drive_m(&n, (-7.4190, 109.2300), (-7.4200, 109.2300)).unwrap(),
        D + DLON + D,
    );
    // The chain 2-3-4-1 is one piece with two shape points: 3 junction-free corners.
    assert_eq!(n.graph.node_count(), 2);
    assert_eq!(n.graph.piece_count(), 2);
    // The escaped name survives.
    assert!(n.graph.names.iter().any(|s| s == "Jalan Keliling & Pasar"));
}

#[test]
fn roundabout_is_driven_in_its_direction() {
    let n = net("roundabout.osm");
    let east = (-7.4200, 109.2325);
    let north = (-7.4175, 109.2300);
    let quarter = drive_m(&n, east, north).unwrap();
    let three_quarters = drive_m(&n, north, east).unwrap();
    // Arms are 2 x ~276 m; the ring side is ~77 m.
    assert!(
        three_quarters - quarter > 2.0 * 70.0,
        "{quarter} vs {three_quarters}"
    );
}

#[test]
fn private_roads_are_closed_unless_open_to_emergencies() {
    let n = net("private.osm");
    let a = (-7.4200, 109.2300);
    let b = (-7.4200, 109.2320);
    // Not the private 221 m shortcut: a 665 m detour.
    close(drive_m(&n, a, b).unwrap(), 2.0 * 2.0 * D + 2.0 * DLON);
    // The gate road (access=no, emergency=yes) is open: 221 m, not the 1,100 m around.
    close(
        drive_m(&n, (-7.4220, 109.2300), (-7.4220, 109.2320)).unwrap(),
        2.0 * DLON,
    );
    // Area and footway are not roads: a point on the footway snaps to the gate road, 110 m away.
    let s = n.snap(-7.4230, 109.2310, 1000.0).unwrap();
    assert!((s.dist_m - D).abs() < 2.0, "{}", s.dist_m);
}

#[test]
fn island_is_dropped_and_missing_nodes_are_counted() {
    let (g, report) = import(
        &fixture("island.osm"),
        ImportOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(report.read.ways_missing_nodes, 1);
    assert_eq!(report.build.components_dropped, 1);
    assert_eq!(report.build.nodes_dropped, 2);
    assert!(
        (report.build.km_dropped - DLON / 1000.0).abs() < 0.01,
        "{}",
        report.build.km_dropped
    );
    let n = RoadNetwork::new(g);
    // The island is 5 km from the kept roads: outside the map.
    assert!(matches!(
        n.snap(-7.4650, 109.2305, 1000.0),
        Err(SnapError::OutsideBounds { .. })
    ));
    // The middle of the triangle is ~33 m from its slanted streets.
    match n.snap(-7.41967, 109.2305, 10.0) {
        Err(SnapError::TooFar { dist_m, .. }) => assert!((dist_m - 33.1).abs() < 1.0, "{dist_m}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        n.snap(f64::NAN, 109.0, 10.0),
        Err(SnapError::InvalidCoordinate { .. })
    ));
    // A triangle has three junctions once the loop is split.
    assert!(drive_m(&n, (-7.4200, 109.2300), (-7.4190, 109.2305)).is_some());
}

#[test]
fn river_is_crossed_over_the_bridge() {
    let n = net("bridge.osm");
    let d = drive_m(&n, (-7.5400, 109.2000), (-7.5420, 109.2000)).unwrap();
    // West to east along the north bank, over the bridge, back west: 1100 + 221 + 1100 m.
    close(d, 10.0 * DLON_754 + 2.0 * D + 10.0 * DLON_754);
}

#[test]
fn bad_inputs_name_the_file_and_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let opts = ImportOptions::default();
    let err = |p: &PathBuf| import(p, opts, &mut |_| {}).unwrap_err().to_string();

    let empty = write("empty.osm", b"");
    assert!(
        err(&empty).contains("empty.osm: the file is empty"),
        "{}",
        err(&empty)
    );

    let text = std::fs::read_to_string(fixture("oneway.osm")).unwrap();
    let truncated = write("truncated.osm", &text.as_bytes()[..text.len() / 2]);
    let e = err(&truncated);
    assert!(
        e.contains("truncated.osm") && e.contains("malformed OSM XML"),
        "{e}"
    );

    let bad_attr = write(
        "bad.osm",
        b"<osm><node id=\"1\" lat=\"north\" lon=\"1\"/></osm>",
    );
    let e = err(&bad_attr);
    assert!(
        e.contains("bad.osm") && e.contains("lat=\"north\" is not a number"),
        "{e}"
    );

    let garbage = write(
        "garbage.osm.pbf",
        &[0x00, 0x00, 0x00, 0x0d, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3],
    );
    let e = err(&garbage);
    assert!(e.contains("garbage.osm.pbf") && e.contains("PBF"), "{e}");

    let no_roads = write(
        "noroads.osm",
        b"<osm><node id=\"1\" lat=\"0\" lon=\"0\"/></osm>",
    );
    assert!(matches!(
        import(&no_roads, opts, &mut |_| {}),
        Err(ImportError::NoRoads { .. })
    ));

    let bbox = satria_roads::BBox::parse("100,0,101,1").unwrap();
    let e = import(
        &fixture("oneway.osm"),
        ImportOptions {
            bbox: Some(bbox),
            ..opts
        },
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("no roads an ambulance can drive inside the bbox"),
        "{e}"
    );
}

#[test]
fn bbox_clips_ways_at_its_edge() {
    // Keep only the west half of the bridge fixture: the bridge (east) is outside.
    let bbox = satria_roads::BBox::parse("109.195,-7.55,109.205,-7.53").unwrap();
    let r = import(
        &fixture("bridge.osm"),
        ImportOptions {
            bbox: Some(bbox),
            ..Default::default()
        },
        &mut |_| {},
    );
    // Each bank keeps only one node: no segment inside, so no roads.
    assert!(matches!(r, Err(ImportError::NoRoads { .. })));
    assert!(satria_roads::BBox::parse("1,2,3").is_err());
    assert!(satria_roads::BBox::parse("3,2,1,4").is_err());
}

#[test]
fn import_is_deterministic() {
    for f in [
        "oneway.osm",
        "roundabout.osm",
        "private.osm",
        "island.osm",
        "bridge.osm",
    ] {
        let a = import(&fixture(f), ImportOptions::default(), &mut |_| {})
            .unwrap()
            .0
            .to_bytes();
        let b = import(&fixture(f), ImportOptions::default(), &mut |_| {})
            .unwrap()
            .0
            .to_bytes();
        assert_eq!(a, b, "{f}");
    }
}

#[test]
fn artifact_round_trips_and_refuses_damage() {
    let (g, _) = import(
        &fixture("roundabout.osm"),
        ImportOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.graph");
    g.save(&path).unwrap();
    let loaded = satria_roads::Graph::load(&path).unwrap();
    assert_eq!(loaded, g);
    assert!(satria_roads::Graph::is_current_artifact(&path));
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    // An artifact of another version is recognised as such without loading it.
    let good = std::fs::read(&path).unwrap();
    let mut old = good.clone();
    old[8..12].copy_from_slice(&1u32.to_le_bytes());
    std::fs::write(&path, &old).unwrap();
    assert!(!satria_roads::Graph::is_current_artifact(&path));
    let e = satria_roads::Graph::load(&path).unwrap_err().to_string();
    assert!(e.contains("re-import the map"), "{e}");
    assert!(!satria_roads::Graph::is_current_artifact(
        &dir.path().join("missing.graph")
    ));
    std::fs::write(&path, &good).unwrap();

    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let e = satria_roads::Graph::load(&path).unwrap_err().to_string();
    assert!(e.contains("checksum mismatch"), "{e}");

    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let e = satria_roads::Graph::load(&path).unwrap_err().to_string();
    assert!(e.contains("truncated"), "{e}");

    std::fs::write(&path, b"not a graph at all, just text").unwrap();
    let e = satria_roads::Graph::load(&path).unwrap_err().to_string();
    assert!(e.contains("not a Satria road graph artifact"), "{e}");
}
