//! An OSM XML 0.6 writer for small debugging outputs (readable, and opens in JOSM).

use crate::Dataset;
use std::io::{self, Write};

/// Degrees from 1e-7 degree integers, exactly (no float formatting).
fn deg(e7: i32) -> String {
    let sign = if e7 < 0 { "-" } else { "" };
    let a = i64::from(e7).abs();
    format!("{sign}{}.{:07}", a / 10_000_000, a % 10_000_000)
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// Writes `ds` as OSM XML 0.6.
pub fn write_xml<W: Write>(ds: &Dataset, out: W) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<osm version="0.6" generator="satria-mapgen">"#)?;
    if !ds.nodes.is_empty() {
        let lat = ds.nodes.iter().map(|n| n.lat_e7);
        let lon = ds.nodes.iter().map(|n| n.lon_e7);
        writeln!(
            out,
            r#"  <bounds minlat="{}" minlon="{}" maxlat="{}" maxlon="{}"/>"#,
            deg(lat.clone().min().unwrap_or(0)),
            deg(lon.clone().min().unwrap_or(0)),
            deg(lat.max().unwrap_or(0)),
            deg(lon.max().unwrap_or(0)),
        )?;
    }
    for n in &ds.nodes {
        let head = format!(
            r#"  <node id="{}" lat="{}" lon="{}""#,
            n.id,
            deg(n.lat_e7),
            deg(n.lon_e7)
        );
        if n.tags.is_empty() {
            writeln!(out, "{head}/>")?;
        } else {
            writeln!(out, "{head}>")?;
            for (k, v) in &n.tags {
                writeln!(out, r#"    <tag k="{}" v="{}"/>"#, escape(k), escape(v))?;
            }
            writeln!(out, "  </node>")?;
        }
    }
    for w in &ds.ways {
        writeln!(out, r#"  <way id="{}">"#, w.id)?;
        for r in &w.refs {
            writeln!(out, r#"    <nd ref="{r}"/>"#)?;
        }
        for (k, v) in &w.tags {
            writeln!(out, r#"    <tag k="{}" v="{}"/>"#, escape(k), escape(v))?;
        }
        writeln!(out, "  </way>")?;
    }
    writeln!(out, "</osm>")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degrees_are_exact() {
        assert_eq!(deg(-74_500_000), "-7.4500000");
        assert_eq!(deg(1_092_345_678), "109.2345678");
        assert_eq!(deg(-5), "-0.0000005");
        assert_eq!(deg(0), "0.0000000");
    }
}
