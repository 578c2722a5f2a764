//! The demo region's files for the benchmarks, shared by `benches/roads.rs` and
//! `benches/engine.rs` (included with `#[path]`, since they belong to two packages).

use satria_roads::ImportOptions;
use std::path::PathBuf;

/// The demo region's PBF and graph artifact under `target/bench-data`, generated and
/// imported once. Each file is written to a temporary name and renamed, so an
/// interrupted run leaves no half file behind.
pub fn demo_files() -> (PathBuf, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    std::fs::create_dir_all(&dir).expect("bench data folder");
    let pbf = dir.join("banyumas-demo.osm.pbf");
    let graph = dir.join("banyumas-demo.graph");
    if !pbf.exists() {
        let ds = satria_mapgen::generate(
            &satria_region::Region::banyumas(),
            &satria_mapgen::Options::default(),
        );
        let tmp = dir.join("banyumas-demo.osm.pbf.tmp");
        let f = std::fs::File::create(&tmp).expect("create pbf");
        satria_mapgen::write_pbf(&ds, std::io::BufWriter::new(f)).expect("write pbf");
        std::fs::rename(&tmp, &pbf).expect("rename pbf");
    }
    if !satria_roads::Graph::is_current_artifact(&graph) {
        // Missing, or made by an older build. `Graph::save` writes to a
        // temporary file and renames it itself.
        let (g, _) =
            satria_roads::import(&pbf, ImportOptions::default(), &mut |_| {}).expect("import");
        g.save(&graph).expect("save graph");
    }
    (pbf, graph)
}
