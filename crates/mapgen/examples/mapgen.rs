//! Generates the Banyumas demo network and writes it as PBF, printing the summary and
//! timings: `cargo run --release -p satria-mapgen --example mapgen -- [scale] [out.osm.pbf]`.
//! An output name ending in `.osm` gets OSM XML instead.

use satria_mapgen::{Options, generate, summarize, write_pbf, write_xml};
use std::time::Instant;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let scale = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let out = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "banyumas.osm.pbf".into());
    let region = satria_region::Region::banyumas();
    let opts = Options {
        scale,
        ..Options::default()
    };
    let t0 = Instant::now();
    let ds = generate(&region, &opts);
    let t_gen = t0.elapsed();
    let t1 = Instant::now();
    let file = std::io::BufWriter::new(std::fs::File::create(&out)?);
    if out.ends_with(".osm") {
        write_xml(&ds, file)?;
    } else {
        write_pbf(&ds, file)?;
    }
    let t_write = t1.elapsed();
    println!("{}", summarize(&ds));
    let bytes = std::fs::metadata(&out)?.len();
    println!(
        "scale {scale}: generate {:.2} s, write {:.2} s, {out} {:.1} MB",
        t_gen.as_secs_f64(),
        t_write.as_secs_f64(),
        bytes as f64 / 1e6
    );
    Ok(())
}
