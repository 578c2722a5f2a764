//! Unit tests of the store: the seed constants, and reopening a database
//! (no reseed, append-only tables, a newer schema refused).

use super::*;
use crate::model::CATEGORIES;
use crate::validate as v;

#[test]
fn the_pilot_kelurahan_are_banyumas_kelurahan() {
    let region = satria_region::Region::banyumas();
    for (name, kecamatan) in PILOT_KELURAHAN {
        let d = region
            .desa
            .iter()
            .find(|d| d.name == name && d.kecamatan == kecamatan)
            .unwrap_or_else(|| panic!("{name} in {kecamatan}"));
        assert!(d.urban, "{name} is an urban kelurahan");
    }
    for (cat, price) in DEFAULT_PRICES {
        assert!(CATEGORIES.contains(&cat));
        assert!((0..=v::MAX_PRICE_RP).contains(&price));
    }
    let compost = DEFAULT_PRICES
        .iter()
        .find(|(c, _)| *c == "compost")
        .unwrap()
        .1;
    assert!((2_000..=2_500).contains(&compost));
}

#[test]
fn a_newer_schema_is_refused_and_reopening_does_not_reseed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    drop(Salinmas::open(&path).unwrap());
    let s = Salinmas::open(&path).unwrap();
    assert_eq!(s.schema_version(), Ok(SCHEMA_VERSION));
    let n = s
        .read(|tx| {
            Ok(tx
                .query_one("SELECT COUNT(*) FROM salinmas_prices", &[])?
                .i64(0)?)
        })
        .unwrap();
    assert_eq!(n, DEFAULT_PRICES.len() as i64);
    // The ledger and history refuse edits.
    assert!(
        s.write(|tx| Ok(tx.execute("DELETE FROM salinmas_history", &[])?))
            .is_err()
    );
    drop(s);
    let c = rusqlite::Connection::open(&path).unwrap();
    c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(c);
    match Salinmas::open(&path) {
        Err(SalinmasError::Storage(m)) => assert!(m.contains("newer"), "{m}"),
        other => panic!("{other:?}"),
    }
}
