//! What the forms offer and accept: labels in both languages, the desa list,
//! and a resident from outside Banyumas accepted and flagged.

use axum::http::StatusCode;
use satria_pattas::*;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn form_data_is_labelled_in_both_languages() {
    let w = world();
    let m = w.get("/api/pattas/meta", "mitra1").await;
    let needs: Vec<&str> = m["needs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["value"].as_str().unwrap())
        .collect();
    assert_eq!(needs, NEEDS.to_vec());
    let statuses: Vec<&str> = m["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["value"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, STATUSES.to_vec());
    let actions: Vec<&str> = m["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["value"].as_str().unwrap())
        .collect();
    for a in [
        "registered",
        "reported",
        "verified",
        "assistance_started",
        "transport_booked",
        "transport_cancelled",
        "closed",
    ] {
        assert!(actions.contains(&a), "history action {a} is labelled");
    }
    for list in ["needs", "statuses", "actions", "bpjs", "sex"] {
        for x in m[list].as_array().unwrap() {
            assert!(
                !x["label"].as_str().unwrap().is_empty()
                    && !x["label_id"].as_str().unwrap().is_empty()
            );
        }
    }
    let desa = m["desa"].as_array().unwrap();
    assert!(desa.len() > 300);
    assert!(
        desa.iter()
            .any(|d| d["desa"] == "Kedungwuluh" && d["kecamatan"] == "Purwokerto Barat")
    );
    // Each desa comes with its centre, so a transport can be booked by desa name;
    // the centre is the region's (fixtures/banyumas/desa.csv: -7.42309, 109.22718).
    let k = desa
        .iter()
        .find(|d| d["desa"] == "Kedungwuluh" && d["kecamatan"] == "Purwokerto Barat")
        .unwrap();
    assert!((k["lat"].as_f64().unwrap() + 7.42309).abs() < 1e-6, "{k}");
    assert!((k["lon"].as_f64().unwrap() - 109.22718).abs() < 1e-6, "{k}");
    for d in desa {
        let (lat, lon) = (d["lat"].as_f64().unwrap(), d["lon"].as_f64().unwrap());
        assert!(
            (-7.85..=-7.05).contains(&lat) && (108.7..=109.65).contains(&lon),
            "{d}"
        );
    }
    assert_eq!(m["verify_within_ms"], 24 * H);
    assert!(w.log.entries().is_empty());
}

#[tokio::test]
async fn non_banyumas_nik_is_accepted_and_flagged() {
    let w = world();
    let (s, b) = w
        .call(
            "POST",
            "/api/pattas/beneficiaries",
            "officer",
            Some(json!({"nik": NIK_CILACAP, "name": "Pendatang (uji)", "date_of_birth": "1975-05-20",
                        "sex": "male", "desa": "ajibarang kulon", "rt": "1", "rw": "1", "phone": "+6281234567890",
                        "dtks": false, "bpjs": "mandiri", "conditions": ["asma"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["banyumas_resident"], false);
    assert_eq!(b["sex"], "L");
    assert_eq!(b["desa"], "Ajibarang Kulon");
    assert_eq!(b["kecamatan"], "Ajibarang");
}
