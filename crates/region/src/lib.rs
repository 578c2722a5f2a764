//! Facts about Banyumas regency that the project carries in `fixtures/banyumas/`:
//! the 27 kecamatan, the 329 desa/kelurahan, the 23 hospitals and the 39 puskesmas.
//!
//! The CSV files are embedded in the binary at build time so that `satria` runs from any
//! directory with no data files beside it. A real deployment can load its own files with
//! [`Region::from_csv`].
//!
//! Facility data: Kementerian Kesehatan RI. Boundaries: Badan Informasi Geospasial (RBI).

use std::collections::HashMap;

/// A WGS84 position in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

/// A kecamatan (district).
#[derive(Debug, Clone, PartialEq)]
pub struct Kecamatan {
    pub name: String,
    pub desa_count: u32,
    pub area_km2: f64,
    pub centroid: LatLon,
}

/// A desa (rural village) or kelurahan (urban village).
#[derive(Debug, Clone, PartialEq)]
pub struct Desa {
    pub name: String,
    pub kecamatan: String,
    /// True for the desa/kelurahan of the four Purwokerto kecamatan.
    pub urban: bool,
    pub centroid: LatLon,
    pub area_km2: f64,
}

/// How far a facility's position can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoordQuality {
    /// Checked against other public points.
    Good,
    Fair,
    /// May be off by kilometres.
    Unverified,
    /// The source has no position; the project placed it (see `fixtures/banyumas/placements.csv`).
    Placed,
}

/// A hospital (rumah sakit).
#[derive(Debug, Clone, PartialEq)]
pub struct Hospital {
    /// Kemenkes hospital code.
    pub code: String,
    pub name: String,
    /// RSU, RSIA, RSK BEDAH, RSK Orthopedi, RSK GM.
    pub kind: String,
    /// Class A to D.
    pub class: String,
    pub owner: String,
    pub beds: u32,
    pub position: LatLon,
    pub kecamatan: String,
    pub coord_quality: CoordQuality,
}

impl Hospital {
    /// General hospitals (RSU/RSUD) run an emergency department for every patient;
    /// special hospitals take only their specialty.
    pub fn is_general(&self) -> bool {
        self.kind == "RSU"
    }
}

/// A puskesmas (community health centre).
#[derive(Debug, Clone, PartialEq)]
pub struct Puskesmas {
    pub code: String,
    pub name: String,
    pub address: String,
    pub position: LatLon,
    pub kecamatan: String,
    /// One of the 10 puskesmas that received a regency ambulance in 2016.
    pub has_ambulance: bool,
}

/// Everything the project knows about the region.
#[derive(Debug, Clone)]
pub struct Region {
    pub kecamatan: Vec<Kecamatan>,
    pub desa: Vec<Desa>,
    pub hospitals: Vec<Hospital>,
    pub puskesmas: Vec<Puskesmas>,
}

/// A fixture file that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{file} line {line}: {message}")]
pub struct FactsError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

const KECAMATAN_CSV: &str = include_str!("../../../fixtures/banyumas/kecamatan.csv");
const DESA_CSV: &str = include_str!("../../../fixtures/banyumas/desa.csv");
const HOSPITALS_CSV: &str = include_str!("../../../fixtures/banyumas/hospitals.csv");
const PUSKESMAS_CSV: &str = include_str!("../../../fixtures/banyumas/puskesmas.csv");
const PLACEMENTS_CSV: &str = include_str!("../../../fixtures/banyumas/placements.csv");

/// The attribution to show wherever these facts are shown.
pub const ATTRIBUTION: &str =
    "Facility data: Kementerian Kesehatan RI. Boundaries: Badan Informasi Geospasial (RBI).";

impl Region {
    /// The Banyumas facts embedded from `fixtures/banyumas/`.
    pub fn banyumas() -> Region {
        Region::from_csv(
            KECAMATAN_CSV,
            DESA_CSV,
            HOSPITALS_CSV,
            PUSKESMAS_CSV,
            PLACEMENTS_CSV,
        )
        .expect("the embedded fixtures are valid (checked by the tests)")
    }

    /// Parses the five CSV files (texts, not paths: the caller does the I/O).
    pub fn from_csv(
        kecamatan: &str,
        desa: &str,
        hospitals: &str,
        puskesmas: &str,
        placements: &str,
    ) -> Result<Region, FactsError> {
        let kecamatan = rows("kecamatan.csv", kecamatan, 5)?
            .into_iter()
            .map(|(line, r)| {
                Ok(Kecamatan {
                    name: r[0].clone(),
                    desa_count: num("kecamatan.csv", line, &r[1])?,
                    area_km2: num("kecamatan.csv", line, &r[2])?,
                    centroid: latlon("kecamatan.csv", line, &r[3], &r[4])?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let desa = rows("desa.csv", desa, 6)?
            .into_iter()
            .map(|(line, r)| {
                Ok(Desa {
                    name: r[0].clone(),
                    kecamatan: r[1].clone(),
                    urban: r[2] == "yes",
                    centroid: latlon("desa.csv", line, &r[3], &r[4])?,
                    area_km2: num("desa.csv", line, &r[5])?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut placed: HashMap<String, (LatLon, String)> = HashMap::new();
        for (line, r) in rows("placements.csv", placements, 5)? {
            placed.insert(
                r[0].clone(),
                (latlon("placements.csv", line, &r[2], &r[3])?, r[4].clone()),
            );
        }
        let hospitals = rows("hospitals.csv", hospitals, 10)?
            .into_iter()
            .map(|(line, r)| {
                let (position, kecamatan, coord_quality) = if r[9] == "missing" {
                    let (p, k) = placed.get(&r[0]).ok_or_else(|| FactsError {
                        file: "hospitals.csv".into(),
                        line,
                        message: format!("hospital {} has no position and no placement", r[0]),
                    })?;
                    (*p, k.clone(), CoordQuality::Placed)
                } else {
                    let q = match r[9].as_str() {
                        "good" => CoordQuality::Good,
                        "fair" => CoordQuality::Fair,
                        _ => CoordQuality::Unverified,
                    };
                    (
                        latlon("hospitals.csv", line, &r[6], &r[7])?,
                        r[8].clone(),
                        q,
                    )
                };
                Ok(Hospital {
                    code: r[0].clone(),
                    name: r[1].clone(),
                    kind: r[2].clone(),
                    class: r[3].clone(),
                    owner: r[4].clone(),
                    beds: num("hospitals.csv", line, &r[5])?,
                    position,
                    kecamatan,
                    coord_quality,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let puskesmas = rows("puskesmas.csv", puskesmas, 8)?
            .into_iter()
            .map(|(line, r)| {
                Ok(Puskesmas {
                    code: r[0].clone(),
                    name: r[1].clone(),
                    address: r[2].split_whitespace().collect::<Vec<_>>().join(" "),
                    position: latlon("puskesmas.csv", line, &r[3], &r[4])?,
                    kecamatan: r[5].clone(),
                    has_ambulance: r[7] == "yes",
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Region {
            kecamatan,
            desa,
            hospitals,
            puskesmas,
        })
    }

    /// The kecamatan of that name, if any.
    pub fn kecamatan(&self, name: &str) -> Option<&Kecamatan> {
        self.kecamatan.iter().find(|k| k.name == name)
    }

    /// The desa/kelurahan whose centroid is nearest to `p`: a cheap stand-in for a
    /// point-in-polygon lookup, good enough to label a report row by area.
    pub fn nearest_desa(&self, p: LatLon) -> &Desa {
        self.desa
            .iter()
            .min_by(|a, b| {
                approx_m(a.centroid, p)
                    .partial_cmp(&approx_m(b.centroid, p))
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
            .expect("the region has desa")
    }
}

/// Equirectangular distance in metres: accurate to a fraction of a percent over the
/// few tens of kilometres of one regency.
pub fn approx_m(a: LatLon, b: LatLon) -> f64 {
    const R: f64 = 6_371_008.8;
    let x = (b.lon - a.lon).to_radians() * ((a.lat + b.lat) / 2.0).to_radians().cos();
    let y = (b.lat - a.lat).to_radians();
    (x * x + y * y).sqrt() * R
}

fn rows(file: &str, text: &str, width: usize) -> Result<Vec<(usize, Vec<String>)>, FactsError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let fields = split_csv(line);
        if fields.len() != width {
            return Err(FactsError {
                file: file.into(),
                line: i + 1,
                message: format!("expected {width} fields, found {}", fields.len()),
            });
        }
        out.push((i + 1, fields));
    }
    Ok(out)
}

/// Splits one CSV line with double-quoted fields (no embedded newlines in our fixtures).
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    fields.push(cur);
    fields.into_iter().map(|f| f.trim().to_string()).collect()
}

fn num<T: std::str::FromStr>(file: &str, line: usize, s: &str) -> Result<T, FactsError> {
    s.parse().map_err(|_| FactsError {
        file: file.into(),
        line,
        message: format!("{s:?} is not a number"),
    })
}

fn latlon(file: &str, line: usize, lat: &str, lon: &str) -> Result<LatLon, FactsError> {
    let p = LatLon {
        lat: num(file, line, lat)?,
        lon: num(file, line, lon)?,
    };
    if !(-90.0..=90.0).contains(&p.lat) || !(-180.0..=180.0).contains(&p.lon) {
        return Err(FactsError {
            file: file.into(),
            line,
            message: format!("position {lat},{lon} is out of range"),
        });
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_facts_have_the_documented_counts() {
        let r = Region::banyumas();
        assert_eq!(r.kecamatan.len(), 27);
        assert_eq!(r.desa.len(), 329);
        assert_eq!(r.hospitals.len(), 23);
        assert_eq!(r.puskesmas.len(), 39);
        assert_eq!(r.puskesmas.iter().filter(|p| p.has_ambulance).count(), 10);
        let desa_per_kec: u32 = r.kecamatan.iter().map(|k| k.desa_count).sum();
        assert_eq!(desa_per_kec, 329);
        // Every desa names a known kecamatan.
        for d in &r.desa {
            assert!(r.kecamatan(&d.kecamatan).is_some(), "{}", d.kecamatan);
        }
        assert_eq!(
            r.desa.iter().filter(|d| d.urban).count(),
            r.kecamatan
                .iter()
                .filter(|k| k.name.starts_with("Purwokerto"))
                .map(|k| k.desa_count as usize)
                .sum::<usize>()
        );
    }

    #[test]
    fn every_hospital_has_a_position_inside_the_regency() {
        let r = Region::banyumas();
        for h in &r.hospitals {
            assert!((-7.75..=-7.15).contains(&h.position.lat), "{}", h.name);
            assert!((108.85..=109.50).contains(&h.position.lon), "{}", h.name);
        }
        let placed = r
            .hospitals
            .iter()
            .filter(|h| h.coord_quality == CoordQuality::Placed)
            .count();
        assert_eq!(placed, 6);
    }

    #[test]
    fn quoted_fields_keep_their_commas() {
        assert_eq!(
            split_csv(r#"a,"b, c",d"#),
            vec!["a".to_string(), "b, c".into(), "d".into()]
        );
    }

    #[test]
    fn a_bad_number_names_file_and_line() {
        let err =
            Region::from_csv("h\nAjibarang,x,1,2,3\n", "h\n", "h\n", "h\n", "h\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "kecamatan.csv line 2: \"x\" is not a number"
        );
    }

    #[test]
    fn nearest_desa_of_a_centroid_is_that_desa() {
        let r = Region::banyumas();
        let d = &r.desa[100];
        assert_eq!(r.nearest_desa(d.centroid).name, d.name);
    }
}
