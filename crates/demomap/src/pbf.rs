//! A writer for the OpenStreetMap PBF format (`fileformat.proto`, `osmformat.proto`),
//! protobuf encoded by hand: an `OSMHeader` blob, then `OSMData` blobs of dense nodes and
//! ways, zlib-compressed at a fixed level so the same data gives the same bytes.

use crate::{Dataset, OsmWay};
use flate2::Compression;
use flate2::write::ZlibEncoder;
use std::io::{self, Write};

/// Entities per block; the format recommends at most 8,000.
const BLOCK: usize = 8_000;

/// A protobuf message being encoded.
#[derive(Default)]
struct Pb(Vec<u8>);

impl Pb {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn key(&mut self, field: u32, wire: u32) {
        self.varint(((field << 3) | wire) as u64);
    }
    fn uint(&mut self, field: u32, v: u64) {
        self.key(field, 0);
        self.varint(v);
    }
    fn sint(&mut self, field: u32, v: i64) {
        self.uint(field, zigzag(v));
    }
    fn bytes(&mut self, field: u32, b: &[u8]) {
        self.key(field, 2);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    fn packed(&mut self, field: u32, values: impl IntoIterator<Item = u64>) {
        let mut inner = Pb::default();
        for v in values {
            inner.varint(v);
        }
        self.bytes(field, &inner.0);
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn delta(values: impl IntoIterator<Item = i64>) -> Vec<u64> {
    let mut prev = 0i64;
    values
        .into_iter()
        .map(|v| {
            let d = v - prev;
            prev = v;
            zigzag(d)
        })
        .collect()
}

fn write_blob<W: Write>(out: &mut W, kind: &str, payload: &[u8]) -> io::Result<()> {
    let mut z = ZlibEncoder::new(Vec::new(), Compression::new(6));
    z.write_all(payload)?;
    let zdata = z.finish()?;
    let mut blob = Pb::default();
    blob.uint(2, payload.len() as u64);
    blob.bytes(3, &zdata);
    let mut header = Pb::default();
    header.bytes(1, kind.as_bytes());
    header.uint(3, blob.0.len() as u64);
    out.write_all(&(header.0.len() as u32).to_be_bytes())?;
    out.write_all(&header.0)?;
    out.write_all(&blob.0)
}

/// A string table for one block; index 0 is the empty string by convention.
#[derive(Default)]
struct Strings {
    list: Vec<String>,
    index: std::collections::HashMap<String, u32>,
}

impl Strings {
    fn new() -> Strings {
        let mut s = Strings::default();
        s.get("");
        s
    }
    fn get(&mut self, v: &str) -> u32 {
        if let Some(i) = self.index.get(v) {
            return *i;
        }
        let i = self.list.len() as u32;
        self.list.push(v.to_string());
        self.index.insert(v.to_string(), i);
        i
    }
    fn encode(&self) -> Vec<u8> {
        let mut t = Pb::default();
        for s in &self.list {
            t.bytes(1, s.as_bytes());
        }
        t.0
    }
}

fn primitive_block(strings: &Strings, group: &[u8]) -> Vec<u8> {
    let mut block = Pb::default();
    block.bytes(1, &strings.encode());
    block.bytes(2, group);
    block.uint(17, 100);
    block.0
}

/// Writes the dataset as `.osm.pbf`.
pub fn write_pbf<W: Write>(ds: &Dataset, mut out: W) -> io::Result<()> {
    // Header with the bounding box in nanodegrees.
    let (mut min_lat, mut max_lat, mut min_lon, mut max_lon) =
        (i64::MAX, i64::MIN, i64::MAX, i64::MIN);
    for n in &ds.nodes {
        min_lat = min_lat.min(n.lat_e7 as i64);
        max_lat = max_lat.max(n.lat_e7 as i64);
        min_lon = min_lon.min(n.lon_e7 as i64);
        max_lon = max_lon.max(n.lon_e7 as i64);
    }
    let mut header = Pb::default();
    if !ds.nodes.is_empty() {
        let mut bbox = Pb::default();
        bbox.sint(1, min_lon * 100);
        bbox.sint(2, max_lon * 100);
        bbox.sint(3, max_lat * 100);
        bbox.sint(4, min_lat * 100);
        header.bytes(1, &bbox.0);
    }
    header.bytes(4, b"OsmSchema-V0.6");
    header.bytes(4, b"DenseNodes");
    header.bytes(16, b"satria-demomap");
    write_blob(&mut out, "OSMHeader", &header.0)?;

    for chunk in ds.nodes.chunks(BLOCK) {
        let mut strings = Strings::new();
        let mut keys_vals = Vec::new();
        for n in chunk {
            for (k, v) in &n.tags {
                keys_vals.push(strings.get(k) as u64);
                keys_vals.push(strings.get(v) as u64);
            }
            keys_vals.push(0);
        }
        let mut dense = Pb::default();
        dense.packed(1, delta(chunk.iter().map(|n| n.id)));
        dense.packed(8, delta(chunk.iter().map(|n| n.lat_e7 as i64)));
        dense.packed(9, delta(chunk.iter().map(|n| n.lon_e7 as i64)));
        dense.packed(10, keys_vals);
        let mut group = Pb::default();
        group.bytes(2, &dense.0);
        write_blob(&mut out, "OSMData", &primitive_block(&strings, &group.0))?;
    }
    for chunk in ds.ways.chunks(BLOCK) {
        let mut strings = Strings::new();
        let mut group = Pb::default();
        for w in chunk {
            group.bytes(3, &encode_way(w, &mut strings));
        }
        write_blob(&mut out, "OSMData", &primitive_block(&strings, &group.0))?;
    }
    out.flush()
}

fn encode_way(w: &OsmWay, strings: &mut Strings) -> Vec<u8> {
    let mut way = Pb::default();
    way.uint(1, w.id as u64);
    let keys: Vec<u64> = w.tags.iter().map(|(k, _)| strings.get(k) as u64).collect();
    let vals: Vec<u64> = w.tags.iter().map(|(_, v)| strings.get(v) as u64).collect();
    way.packed(2, keys);
    way.packed(3, vals);
    way.packed(8, delta(w.refs.iter().copied()));
    way.0
}

/// Writes the dataset as OSM XML 0.6 (for small outputs one wants to read).
pub fn write_xml<W: Write>(ds: &Dataset, mut out: W) -> io::Result<()> {
    fn esc(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    }
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(out, "<osm version=\"0.6\" generator=\"satria-demomap\">")?;
    for n in &ds.nodes {
        let (lat, lon) = (n.lat_e7 as f64 * 1e-7, n.lon_e7 as f64 * 1e-7);
        if n.tags.is_empty() {
            writeln!(
                out,
                "  <node id=\"{}\" lat=\"{lat:.7}\" lon=\"{lon:.7}\"/>",
                n.id
            )?;
        } else {
            writeln!(
                out,
                "  <node id=\"{}\" lat=\"{lat:.7}\" lon=\"{lon:.7}\">",
                n.id
            )?;
            for (k, v) in &n.tags {
                writeln!(out, "    <tag k=\"{}\" v=\"{}\"/>", esc(k), esc(v))?;
            }
            writeln!(out, "  </node>")?;
        }
    }
    for w in &ds.ways {
        writeln!(out, "  <way id=\"{}\">", w.id)?;
        for r in &w.refs {
            writeln!(out, "    <nd ref=\"{r}\"/>")?;
        }
        for (k, v) in &w.tags {
            writeln!(out, "    <tag k=\"{}\" v=\"{}\"/>", esc(k), esc(v))?;
        }
        writeln!(out, "  </way>")?;
    }
    writeln!(out, "</osm>")?;
    out.flush()
}
