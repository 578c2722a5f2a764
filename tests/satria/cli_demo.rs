//! The generated region end to end: `satria mapgen` is deterministic and its map goes
//! through the real importer, and the README's first command (`satria demo`) runs.

use crate::support::{satria, stderr, stdout};

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
