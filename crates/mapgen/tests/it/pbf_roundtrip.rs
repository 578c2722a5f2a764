//! The PBF writer against an independent reader (the `osmpbf` crate the importer uses):
//! everything written must come back exactly, and the bytes must be deterministic.

use osmpbf::{BlobDecode, BlobReader, Element, ElementReader};
use satria_mapgen::{Dataset, Options, OsmNode, OsmWay, generate, write_pbf, write_xml};
use satria_region::Region;

fn dataset(seed: u64, scale: f64) -> Dataset {
    generate(&Region::banyumas(), &Options { seed, scale })
}

fn pbf(ds: &Dataset) -> Vec<u8> {
    let mut out = Vec::new();
    write_pbf(ds, &mut out).expect("writing to a Vec cannot fail");
    out
}

fn owned(
    tags: impl Iterator<Item = (impl Into<String>, impl Into<String>)>,
) -> Vec<(String, String)> {
    tags.map(|(k, v)| (k.into(), v.into())).collect()
}

#[test]
fn everything_written_reads_back_exactly() {
    // Large enough for several node and way blocks (8,000 entities each).
    let ds = dataset(119, 0.03);
    assert!(ds.nodes.len() > 8_000, "{} nodes", ds.nodes.len());
    let bytes = pbf(&ds);

    let mut nodes = Vec::new();
    let mut ways = Vec::new();
    let mut other = 0;
    ElementReader::new(&bytes[..])
        .for_each(|e| match e {
            Element::DenseNode(n) => nodes.push(OsmNode {
                id: n.id(),
                lat_e7: n.decimicro_lat(),
                lon_e7: n.decimicro_lon(),
                tags: owned(n.tags()),
            }),
            Element::Way(w) => ways.push(OsmWay {
                id: w.id(),
                refs: w.refs().collect(),
                tags: owned(w.tags()),
            }),
            _ => other += 1,
        })
        .expect("osmpbf reads the file");
    assert_eq!(other, 0, "only dense nodes and ways are written");
    assert_eq!(nodes.len(), ds.nodes.len());
    assert_eq!(ways.len(), ds.ways.len());
    // Spot checks first, for readable failures, then everything.
    let hospital = ds
        .nodes
        .iter()
        .find(|n| n.tag("amenity") == Some("hospital"))
        .expect("a hospital node");
    let back = nodes
        .iter()
        .find(|n| n.id == hospital.id)
        .expect("read back");
    assert_eq!(
        (back.lat_e7, back.lon_e7),
        (hospital.lat_e7, hospital.lon_e7)
    );
    assert_eq!(back.tags, hospital.tags);
    let bridge = ds
        .ways
        .iter()
        .find(|w| w.tag("bridge") == Some("yes"))
        .expect("a bridge");
    let back = ways.iter().find(|w| w.id == bridge.id).expect("read back");
    assert_eq!(back.refs, bridge.refs);
    assert_eq!(back.tags, bridge.tags);
    assert!(nodes == ds.nodes, "all nodes equal");
    assert!(ways == ds.ways, "all ways equal");
}

#[test]
fn header_declares_features_and_bbox() {
    let ds = dataset(119, 0.01);
    let bytes = pbf(&ds);
    let mut blobs = BlobReader::new(&bytes[..]);
    let first = blobs.next().expect("a first blob").expect("readable");
    let BlobDecode::OsmHeader(header) = first.decode().expect("decodes") else {
        panic!("the first blob is not an OSMHeader");
    };
    assert_eq!(header.required_features(), ["OsmSchema-V0.6", "DenseNodes"]);
    assert_eq!(header.writing_program(), Some("satria-mapgen"));
    let bbox = header.bbox().expect("a bbox");
    let min_lon = ds.nodes.iter().map(|n| n.lon_e7).min().unwrap_or(0);
    assert!((bbox.left - min_lon as f64 * 1e-7).abs() < 1e-9);
    let data_blobs = blobs
        .map(|b| b.expect("readable"))
        .filter(|b| matches!(b.decode().expect("decodes"), BlobDecode::OsmData(_)))
        .count();
    assert_eq!(
        data_blobs,
        ds.nodes.len().div_ceil(8_000) + ds.ways.len().div_ceil(8_000)
    );
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = pbf(&dataset(119, 0.02));
    let b = pbf(&dataset(119, 0.02));
    let c = pbf(&dataset(120, 0.02));
    assert!(a == b, "same seed and scale give identical bytes");
    assert!(a != c, "another seed gives another network");
}

#[test]
fn xml_is_well_formed_enough() {
    let ds = dataset(119, 0.005);
    let mut out = Vec::new();
    write_xml(&ds, &mut out).expect("writing to a Vec cannot fail");
    let text = String::from_utf8(out).expect("UTF-8");
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(text.trim_end().ends_with("</osm>"));
    assert_eq!(text.matches("<node ").count(), ds.nodes.len());
    assert_eq!(text.matches("<way ").count(), ds.ways.len());
    assert_eq!(
        text.matches("<way ").count(),
        text.matches("</way>").count()
    );
    let refs: usize = ds.ways.iter().map(|w| w.refs.len()).sum();
    assert_eq!(text.matches("<nd ref=").count(), refs);
    // Names with an en dash survive as UTF-8; no raw ampersand is left unescaped.
    assert!(text.contains("Jalan Raya"));
    assert!(
        !text
            .replace("&amp;", "")
            .replace("&lt;", "")
            .replace("&gt;", "")
            .replace("&quot;", "")
            .replace("&apos;", "")
            .contains('&')
    );
    let first = &ds.nodes[0];
    assert!(text.contains(&format!("<node id=\"{}\" lat=\"", first.id)));
}
