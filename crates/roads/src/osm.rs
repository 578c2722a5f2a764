//! Reading OpenStreetMap files (PBF and XML) into the few things the importer needs:
//! node positions and the routable ways with their policy and name.
//!
//! Both readers produce the same [`RawOsm`]; everything after this module is
//! format-independent.

use crate::ImportError;
use crate::tags::{PolicyOptions, WayPolicy, way_policy};
use std::io::{BufReader, Read};
use std::path::Path;

/// A geographic bounding box in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

impl BBox {
    /// Parses `MINLON,MINLAT,MAXLON,MAXLAT`.
    pub fn parse(s: &str) -> Result<BBox, String> {
        let parts: Vec<f64> = s
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| format!("bbox {s:?} is not four numbers MINLON,MINLAT,MAXLON,MAXLAT"))?;
        let [min_lon, min_lat, max_lon, max_lat] = parts[..] else {
            return Err(format!(
                "bbox {s:?} needs four numbers MINLON,MINLAT,MAXLON,MAXLAT, found {}",
                parts.len()
            ));
        };
        if !(-180.0..=180.0).contains(&min_lon)
            || !(-180.0..=180.0).contains(&max_lon)
            || !(-90.0..=90.0).contains(&min_lat)
            || !(-90.0..=90.0).contains(&max_lat)
        {
            return Err(format!(
                "bbox {s:?} is outside the range of longitudes and latitudes"
            ));
        }
        if min_lon >= max_lon || min_lat >= max_lat {
            return Err(format!(
                "bbox {s:?} is empty: the minimum must be below the maximum"
            ));
        }
        Ok(BBox {
            min_lon,
            min_lat,
            max_lon,
            max_lat,
        })
    }

    fn contains_e7(&self, lat_e7: i32, lon_e7: i32) -> bool {
        let lat = lat_e7 as f64 * 1e-7;
        let lon = lon_e7 as f64 * 1e-7;
        lat >= self.min_lat && lat <= self.max_lat && lon >= self.min_lon && lon <= self.max_lon
    }
}

/// A routable way as read from the file.
#[derive(Debug, Clone)]
pub struct RawWay {
    pub id: i64,
    pub refs: Vec<i64>,
    pub policy: WayPolicy,
    pub name: Option<String>,
}

/// Counts made while reading, reported in the import summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadStats {
    pub nodes_read: u64,
    pub ways_read: u64,
    pub ways_routable: u64,
    /// Routable ways dropped because they reference a node the file does not contain.
    pub ways_missing_nodes: u64,
    /// Routable ways with fewer than two nodes.
    pub ways_degenerate: u64,
}

/// What the importer keeps of an OSM file.
#[derive(Debug, Default)]
pub struct RawOsm {
    /// (id, lat_e7, lon_e7), sorted by id.
    pub nodes: Vec<(i64, i32, i32)>,
    /// Ids of nodes that exist in the file but lie outside the bbox: ways are split there.
    pub outside: Vec<i64>,
    pub ways: Vec<RawWay>,
    pub stats: ReadStats,
}

impl RawOsm {
    /// Position of a node, if the file has it (and it is inside the bbox).
    pub fn node(&self, id: i64) -> Option<(i32, i32)> {
        self.nodes
            .binary_search_by_key(&id, |n| n.0)
            .ok()
            .map(|i| (self.nodes[i].1, self.nodes[i].2))
    }

    fn is_outside(&self, id: i64) -> bool {
        self.outside.binary_search(&id).is_ok()
    }

    /// Splits ways at nodes outside the bbox, and drops ways that reference nodes the
    /// file does not contain (counted in the stats). Sorts nodes for lookup.
    fn finish(mut self) -> RawOsm {
        if !self.nodes.is_sorted_by_key(|n| n.0) {
            self.nodes.sort_unstable_by_key(|n| n.0);
        }
        self.outside.sort_unstable();
        let ways = std::mem::take(&mut self.ways);
        let mut kept = Vec::with_capacity(ways.len());
        for way in ways {
            if way.refs.len() < 2 {
                self.stats.ways_degenerate += 1;
                continue;
            }
            if way
                .refs
                .iter()
                .any(|r| self.node(*r).is_none() && !self.is_outside(*r))
            {
                self.stats.ways_missing_nodes += 1;
                continue;
            }
            // Runs of consecutive nodes inside the bbox.
            let mut run: Vec<i64> = Vec::new();
            for r in way.refs.iter().copied().chain(std::iter::once(i64::MIN)) {
                if r != i64::MIN && self.node(r).is_some() {
                    run.push(r);
                } else {
                    if run.len() >= 2 {
                        kept.push(RawWay {
                            id: way.id,
                            refs: std::mem::take(&mut run),
                            policy: way.policy.clone(),
                            name: way.name.clone(),
                        });
                    }
                    run.clear();
                }
            }
        }
        self.ways = kept;
        self
    }
}

/// The formats the importer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pbf,
    Xml,
}

/// Guesses the format from the first bytes: XML starts with `<` (after an optional BOM
/// and white space); anything else is treated as PBF and validated by its reader.
pub fn sniff(path: &Path) -> Result<Format, ImportError> {
    let mut f = std::fs::File::open(path).map_err(|e| ImportError::io(path, e))?;
    let mut head = [0u8; 64];
    let n = read_up_to(&mut f, &mut head).map_err(|e| ImportError::io(path, e))?;
    if n == 0 {
        return Err(ImportError::invalid(path, "the file is empty"));
    }
    let head = &head[..n];
    let head = head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head);
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    Ok(if first == Some(&b'<') {
        Format::Xml
    } else {
        Format::Pbf
    })
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Reads an OSM file, keeping routable ways and the nodes inside `bbox`.
pub fn read(
    path: &Path,
    bbox: Option<BBox>,
    opts: PolicyOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<RawOsm, ImportError> {
    let raw = match sniff(path)? {
        Format::Pbf => read_pbf(path, bbox, opts, progress)?,
        Format::Xml => read_xml(path, bbox, opts, progress)?,
    };
    Ok(raw.finish())
}

fn keep_node(raw: &mut RawOsm, bbox: Option<BBox>, id: i64, lat_e7: i32, lon_e7: i32) {
    raw.stats.nodes_read += 1;
    match bbox {
        Some(b) if !b.contains_e7(lat_e7, lon_e7) => raw.outside.push(id),
        _ => raw.nodes.push((id, lat_e7, lon_e7)),
    }
}

fn keep_way<'a>(
    raw: &mut RawOsm,
    opts: PolicyOptions,
    id: i64,
    refs: Vec<i64>,
    tags: impl Fn(&str) -> Option<&'a str>,
) {
    raw.stats.ways_read += 1;
    if let Some(policy) = way_policy(&tags, opts) {
        raw.stats.ways_routable += 1;
        raw.ways.push(RawWay {
            id,
            refs,
            policy,
            name: tags("name").map(str::to_string),
        });
    }
}

fn read_pbf(
    path: &Path,
    bbox: Option<BBox>,
    opts: PolicyOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<RawOsm, ImportError> {
    use osmpbf::{BlobDecode, BlobReader};
    let file = std::fs::File::open(path).map_err(|e| ImportError::io(path, e))?;
    let read = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counting = Counting {
        inner: file,
        read: std::sync::Arc::clone(&read),
    };
    let reader = BlobReader::new(BufReader::with_capacity(1 << 20, counting));
    let mut raw = RawOsm::default();
    let mut saw_header = false;
    for blob in reader {
        let blob = blob.map_err(|e| ImportError::invalid(path, &pbf_msg(&e)))?;
        progress(read.load(std::sync::atomic::Ordering::Relaxed));
        match blob
            .decode()
            .map_err(|e| ImportError::invalid(path, &pbf_msg(&e)))?
        {
            BlobDecode::OsmHeader(_) => saw_header = true,
            BlobDecode::OsmData(block) => {
                for element in block.elements() {
                    match element {
                        osmpbf::Element::Node(n) => {
                            keep_node(&mut raw, bbox, n.id(), n.decimicro_lat(), n.decimicro_lon())
                        }
                        osmpbf::Element::DenseNode(n) => {
                            keep_node(&mut raw, bbox, n.id(), n.decimicro_lat(), n.decimicro_lon())
                        }
                        osmpbf::Element::Way(w) => {
                            let tags: Vec<(&str, &str)> = w.tags().collect();
                            keep_way(&mut raw, opts, w.id(), w.refs().collect(), |k| {
                                tags.iter().find(|(key, _)| *key == k).map(|(_, v)| *v)
                            });
                        }
                        osmpbf::Element::Relation(_) => {}
                    }
                }
            }
            BlobDecode::Unknown(kind) => {
                return Err(ImportError::invalid(
                    path,
                    &format!("unknown PBF blob type {kind:?}: not an OpenStreetMap PBF file"),
                ));
            }
        }
    }
    if !saw_header {
        return Err(ImportError::invalid(
            path,
            "no OSMHeader block: not an OpenStreetMap PBF file",
        ));
    }
    Ok(raw)
}

/// A reader that counts the bytes read, for the progress bar.
struct Counting<R> {
    inner: R,
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

fn pbf_msg(e: &osmpbf::Error) -> String {
    format!("corrupt or truncated PBF: {e}")
}

/// A way being read from XML: id, node refs and tags, until its end tag.
type PendingWay = (i64, Vec<i64>, Vec<(String, String)>);

fn read_xml(
    path: &Path,
    bbox: Option<BBox>,
    opts: PolicyOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<RawOsm, ImportError> {
    use quick_xml::events::{BytesStart, Event};
    let file = std::fs::File::open(path).map_err(|e| ImportError::io(path, e))?;
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(file));
    let mut raw = RawOsm::default();
    let mut buf = Vec::new();
    // The way being read: its id, refs and tags until </way>.
    let mut way: Option<PendingWay> = None;
    let mut saw_osm = false;
    let xml_err = |reader: &quick_xml::Reader<BufReader<std::fs::File>>, msg: String| {
        ImportError::invalid(
            path,
            &format!(
                "malformed OSM XML at byte {}: {msg}",
                reader.buffer_position()
            ),
        )
    };
    fn attr(e: &BytesStart, key: &str) -> Result<Option<String>, String> {
        for a in e.attributes() {
            let a = a.map_err(|err| err.to_string())?;
            if a.key.into_inner() == key {
                let v = quick_xml::escape::unescape(&a.value).map_err(|err| err.to_string())?;
                return Ok(Some(v.into_owned()));
            }
        }
        Ok(None)
    }
    fn num<T: std::str::FromStr>(e: &BytesStart, key: &str) -> Result<T, String> {
        let v = attr(e, key)?
            .ok_or_else(|| format!("<{}> has no {} attribute", e.name().into_inner(), key))?;
        v.parse().map_err(|_| {
            format!(
                "<{}> attribute {}={v:?} is not a number",
                e.name().into_inner(),
                key
            )
        })
    }
    let mut events = 0u64;
    // Open elements: a file that ends inside one was truncated.
    let mut depth = 0usize;
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| xml_err(&reader, e.to_string()))?;
        events += 1;
        if events.is_multiple_of(65_536) {
            progress(reader.buffer_position());
        }
        let (start, empty) = match &ev {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            let r: Result<(), String> = (|| {
                match e.name().into_inner() {
                    "osm" => saw_osm = true,
                    "node" => {
                        let id: i64 = num(e, "id")?;
                        let lat: f64 = num(e, "lat")?;
                        let lon: f64 = num(e, "lon")?;
                        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
                            return Err(format!("node {id} has coordinates out of range"));
                        }
                        keep_node(
                            &mut raw,
                            bbox,
                            id,
                            (lat * 1e7).round() as i32,
                            (lon * 1e7).round() as i32,
                        );
                    }
                    "way" => {
                        let id: i64 = num(e, "id")?;
                        if empty {
                            raw.stats.ways_read += 1;
                        } else {
                            way = Some((id, Vec::new(), Vec::new()));
                        }
                    }
                    "nd" => {
                        if let Some(w) = way.as_mut() {
                            w.1.push(num(e, "ref")?);
                        }
                    }
                    "tag" => {
                        if let Some(w) = way.as_mut() {
                            let k = attr(e, "k")?.ok_or("<tag> has no k attribute")?;
                            let v = attr(e, "v")?.ok_or("<tag> has no v attribute")?;
                            w.2.push((k, v));
                        }
                    }
                    _ => {}
                }
                Ok(())
            })();
            r.map_err(|m| xml_err(&reader, m))?;
        }
        match &ev {
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        match ev {
            Event::End(e) if e.name().into_inner() == "way" => {
                if let Some((id, refs, tags)) = way.take() {
                    keep_way(&mut raw, opts, id, refs, |k| {
                        tags.iter()
                            .find(|(key, _)| key == k)
                            .map(|(_, v)| v.as_str())
                    });
                }
            }
            Event::Eof if depth > 0 => {
                return Err(xml_err(
                    &reader,
                    "the file ends inside an element: truncated XML".into(),
                ));
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_osm {
        return Err(ImportError::invalid(
            path,
            "no <osm> element: not an OSM XML file",
        ));
    }
    Ok(raw)
}
