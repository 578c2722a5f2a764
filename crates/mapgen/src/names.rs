//! Indonesian street names and tag values for the generated ways.
//!
//! Names matter because the dispatch UI shows them to call-takers and crews; they follow
//! the conventions of Banyumas: "Jalan Raya A–B" for roads between places, "Jalan Desa X
//! Gang N" for village alleys, flower and hero names for town streets.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Town street names (flowers, heroes, places) used for the urban grids.
const TOWN_STREETS: &[&str] = &[
    "Melati",
    "Kenanga",
    "Mawar",
    "Dahlia",
    "Anggrek",
    "Flamboyan",
    "Cempaka",
    "Bougenville",
    "Teratai",
    "Srikandi",
    "Arjuna",
    "Bima",
    "Gatotkaca",
    "Pahlawan",
    "Merdeka",
    "Diponegoro",
    "Kartini",
    "Cut Nyak Dien",
    "Pangeran Antasari",
    "Dr. Soeparno",
    "Martadireja",
    "Kampus",
    "Pramuka",
    "Sunan Kalijaga",
    "Sunan Bonang",
    "Letjen Pol. Sumarto",
    "Riyanto",
    "Suparjo Rustam",
    "Kolonel Sugiono",
    "Masjid",
];

/// A town street name, e.g. "Jalan Kenanga".
pub(crate) fn town_street(rng: &mut ChaCha8Rng) -> String {
    format!(
        "Jalan {}",
        TOWN_STREETS[rng.gen_range(0..TOWN_STREETS.len())]
    )
}

/// A surface value for a road class, drawn with rough Banyumas proportions (most roads
/// are asphalt or concrete; village alleys are often paving blocks).
pub(crate) fn surface(rng: &mut ChaCha8Rng, class: &str) -> &'static str {
    let pick = |rng: &mut ChaCha8Rng, opts: &[&'static str]| opts[rng.gen_range(0..opts.len())];
    match class {
        "primary" | "secondary" => "asphalt",
        "tertiary" => pick(rng, &["asphalt", "asphalt", "concrete"]),
        "unclassified" => pick(rng, &["asphalt", "concrete", "concrete"]),
        "residential" => pick(rng, &["asphalt", "concrete", "paving_stones", "compacted"]),
        "living_street" => "paving_stones",
        "service" => pick(rng, &["asphalt", "concrete"]),
        "track" => pick(rng, &["ground", "dirt", "gravel"]),
        _ => "asphalt",
    }
}

/// A `maxspeed` value for a road class, or none (most OSM roads carry no limit): plain
/// numbers and the Indonesian implicit zones, so the importer sees both forms.
pub(crate) fn maxspeed(rng: &mut ChaCha8Rng, class: &str, urban: bool) -> Option<&'static str> {
    let x: f64 = rng.gen_range(0.0..1.0);
    match class {
        "primary" if x < 0.5 => Some("60"),
        "primary" if x < 0.8 => Some(if urban { "ID:urban" } else { "ID:rural" }),
        "secondary" if x < 0.3 => Some(if urban { "ID:urban" } else { "ID:rural" }),
        "secondary" if x < 0.5 => Some("60"),
        "tertiary" if x < 0.25 => Some("40"),
        "residential" | "unclassified" if urban && x < 0.08 => Some("ID:urban"),
        "residential" | "unclassified" if x < 0.03 => Some("40"),
        _ => None,
    }
}
