//! An OSM PBF writer, protobuf encoded by hand (the format is small and stable; a
//! protobuf code generator would be a heavy build dependency for five messages).
//!
//! File layout: a sequence of (4-byte big-endian length, `BlobHeader`, `Blob`); the first
//! blob is an `OSMHeader` with a `HeaderBlock`, then `OSMData` blobs each holding one
//! `PrimitiveBlock` with one `PrimitiveGroup`: dense nodes first, then ways, at most
//! [`MAX_ENTITIES_PER_BLOCK`] each. Field numbers follow `fileformat.proto` and
//! `osmformat.proto` of the OSM-binary project.

use crate::{Dataset, OsmNode, OsmWay};
use flate2::Compression;
use flate2::write::ZlibEncoder;
use std::collections::HashMap;
use std::io::{self, Write};

/// Entities per block: the spec recommends at most 8,000 per block.
pub const MAX_ENTITIES_PER_BLOCK: usize = 8_000;
/// Fixed zlib level: identical inputs give identical bytes.
const ZLIB_LEVEL: u32 = 6;
/// Coordinates are stored in units of 100 nanodegrees, i.e. exactly the 1e-7 degrees of
/// [`OsmNode::lat_e7`].
const GRANULARITY: i64 = 100;

// Protobuf wire types.
const VARINT: u32 = 0;
const LEN: u32 = 2;

fn varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn key(buf: &mut Vec<u8>, field: u32, wire: u32) {
    varint(buf, u64::from(field << 3 | wire));
}

fn uint_field(buf: &mut Vec<u8>, field: u32, v: u64) {
    key(buf, field, VARINT);
    varint(buf, v);
}

fn sint_field(buf: &mut Vec<u8>, field: u32, v: i64) {
    key(buf, field, VARINT);
    varint(buf, zigzag(v));
}

fn bytes_field(buf: &mut Vec<u8>, field: u32, data: &[u8]) {
    key(buf, field, LEN);
    varint(buf, data.len() as u64);
    buf.extend_from_slice(data);
}

/// A packed repeated field of delta-coded `sint64` values.
fn packed_delta_sint(buf: &mut Vec<u8>, field: u32, values: impl Iterator<Item = i64>) {
    let mut inner = Vec::new();
    let mut prev = 0i64;
    for v in values {
        varint(&mut inner, zigzag(v - prev));
        prev = v;
    }
    bytes_field(buf, field, &inner);
}

/// A packed repeated field of unsigned varints.
fn packed_uint(buf: &mut Vec<u8>, field: u32, values: impl Iterator<Item = u64>) {
    let mut inner = Vec::new();
    for v in values {
        varint(&mut inner, v);
    }
    bytes_field(buf, field, &inner);
}

/// The string table of one block: entry 0 is the empty string (it terminates the tags
/// of each dense node), the rest in order of first use.
#[derive(Default)]
struct Strings<'a> {
    index: HashMap<&'a str, u32>,
    list: Vec<&'a str>,
}

impl<'a> Strings<'a> {
    fn new() -> Strings<'a> {
        Strings {
            index: HashMap::from([("", 0)]),
            list: vec![""],
        }
    }
    fn get(&mut self, s: &'a str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.list.len() as u32;
        self.index.insert(s, i);
        self.list.push(s);
        i
    }
    fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        for s in &self.list {
            bytes_field(&mut buf, 1, s.as_bytes());
        }
        buf
    }
}

/// A `PrimitiveBlock` around one encoded `PrimitiveGroup`.
fn primitive_block(strings: &Strings<'_>, group: &[u8]) -> Vec<u8> {
    let mut block = Vec::new();
    bytes_field(&mut block, 1, &strings.encode());
    bytes_field(&mut block, 2, group);
    uint_field(&mut block, 17, GRANULARITY as u64);
    block
}

fn dense_block(nodes: &[OsmNode]) -> Vec<u8> {
    let mut strings = Strings::new();
    let mut keys_vals = Vec::new();
    for n in nodes {
        for (k, v) in &n.tags {
            keys_vals.push(u64::from(strings.get(k)));
            keys_vals.push(u64::from(strings.get(v)));
        }
        keys_vals.push(0);
    }
    let mut dense = Vec::new();
    packed_delta_sint(&mut dense, 1, nodes.iter().map(|n| n.id));
    packed_delta_sint(&mut dense, 8, nodes.iter().map(|n| i64::from(n.lat_e7)));
    packed_delta_sint(&mut dense, 9, nodes.iter().map(|n| i64::from(n.lon_e7)));
    // keys_vals is `repeated int32`: string indexes are small and non-negative, so their
    // int32 varint encoding equals the unsigned one.
    packed_uint(&mut dense, 10, keys_vals.into_iter());
    let mut group = Vec::new();
    bytes_field(&mut group, 2, &dense);
    primitive_block(&strings, &group)
}

fn way_block(ways: &[OsmWay]) -> Vec<u8> {
    let mut strings = Strings::new();
    let mut group = Vec::new();
    for w in ways {
        let mut way = Vec::new();
        uint_field(&mut way, 1, w.id as u64);
        let keys: Vec<u64> = w
            .tags
            .iter()
            .map(|(k, _)| u64::from(strings.get(k)))
            .collect();
        let vals: Vec<u64> = w
            .tags
            .iter()
            .map(|(_, v)| u64::from(strings.get(v)))
            .collect();
        packed_uint(&mut way, 2, keys.into_iter());
        packed_uint(&mut way, 3, vals.into_iter());
        packed_delta_sint(&mut way, 8, w.refs.iter().copied());
        bytes_field(&mut group, 3, &way);
    }
    primitive_block(&strings, &group)
}

/// Writes one blob: the header length, the `BlobHeader` and the zlib-compressed `Blob`.
fn write_blob<W: Write>(out: &mut W, kind: &str, raw: &[u8]) -> io::Result<()> {
    let mut z = ZlibEncoder::new(Vec::new(), Compression::new(ZLIB_LEVEL));
    z.write_all(raw)?;
    let compressed = z.finish()?;
    let mut blob = Vec::new();
    uint_field(&mut blob, 2, raw.len() as u64);
    bytes_field(&mut blob, 3, &compressed);
    let mut header = Vec::new();
    bytes_field(&mut header, 1, kind.as_bytes());
    uint_field(&mut header, 3, blob.len() as u64);
    out.write_all(&(header.len() as u32).to_be_bytes())?;
    out.write_all(&header)?;
    out.write_all(&blob)
}

fn header_block(ds: &Dataset) -> Vec<u8> {
    let mut block = Vec::new();
    if !ds.nodes.is_empty() {
        let (mut min_lat, mut max_lat) = (i32::MAX, i32::MIN);
        let (mut min_lon, mut max_lon) = (i32::MAX, i32::MIN);
        for n in &ds.nodes {
            min_lat = min_lat.min(n.lat_e7);
            max_lat = max_lat.max(n.lat_e7);
            min_lon = min_lon.min(n.lon_e7);
            max_lon = max_lon.max(n.lon_e7);
        }
        // HeaderBBox is in nanodegrees.
        let nano = |e7: i32| i64::from(e7) * GRANULARITY;
        let mut bbox = Vec::new();
        sint_field(&mut bbox, 1, nano(min_lon));
        sint_field(&mut bbox, 2, nano(max_lon));
        sint_field(&mut bbox, 3, nano(max_lat));
        sint_field(&mut bbox, 4, nano(min_lat));
        bytes_field(&mut block, 1, &bbox);
    }
    bytes_field(&mut block, 4, b"OsmSchema-V0.6");
    bytes_field(&mut block, 4, b"DenseNodes");
    bytes_field(&mut block, 16, b"satria-mapgen");
    block
}

/// Writes `ds` as an OSM PBF file. Nodes and ways are written in the order given, which
/// for a [`Dataset`] is ascending id (readers and importers expect sorted files).
pub fn write_pbf<W: Write>(ds: &Dataset, mut out: W) -> io::Result<()> {
    write_blob(&mut out, "OSMHeader", &header_block(ds))?;
    for chunk in ds.nodes.chunks(MAX_ENTITIES_PER_BLOCK) {
        write_blob(&mut out, "OSMData", &dense_block(chunk))?;
    }
    for chunk in ds.ways.chunks(MAX_ENTITIES_PER_BLOCK) {
        write_blob(&mut out, "OSMData", &way_block(chunk))?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_zigzag() {
        let mut b = Vec::new();
        varint(&mut b, 300);
        assert_eq!(b, [0xac, 0x02]);
        assert_eq!(zigzag(0), 0);
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
        assert_eq!(zigzag(-2), 3);
        assert_eq!(zigzag(i64::MIN), u64::MAX);
    }
}
