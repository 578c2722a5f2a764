//! Scenarios: hospital recommendation by capability, capacity and drive time.

use crate::common::*;
use satria_dispatch::*;

// ----- hospitals -----

#[test]
fn hospital_recommendation_by_capability_capacity_and_drive_time() {
    let mut run = Run::new(world(Config::default()));
    run.ok(0, create(Triage::Merah, Category::Accident));
    let cap = |h: &str, igd, icu, status| Command::UpdateHospitalCapacity {
        hospital: HospitalId(h.into()),
        free_igd_beds: igd,
        free_icu_beds: icu,
        status,
    };
    run.ok(1, cap(MARGONO, Some(0), Some(0), HospitalStatus::Full));
    run.ok(
        1,
        cap("3302030", Some(3), Some(1), HospitalStatus::Diversion),
    ); // Wijayakusuma
    run.ok(1, cap("3302041", Some(2), Some(1), HospitalStatus::Open)); // St Elisabeth
    let rec = run
        .d
        .recommend_hospitals(at(2), IncidentId(1), &run.roads)
        .unwrap();
    let why = |h: &str| {
        rec.excluded
            .iter()
            .find(|x| x.hospital.0 == h)
            .map(|x| x.reason)
    };
    assert_eq!(why("3302030"), Some(HospitalExclusion::Diversion));
    assert_eq!(
        why("3302121"),
        Some(HospitalExclusion::Lacks(Capability::SurgeryTrauma))
    ); // RSIA
    assert_eq!(
        why("3302228"),
        Some(HospitalExclusion::Lacks(Capability::SurgeryTrauma))
    ); // dental
    assert_eq!(
        rec.ranked[0].hospital.0, "3302041",
        "open, beds, all capabilities"
    );
    assert_eq!(rec.ranked[0].capacity_updated_at, Some(at(1)));
    let last = rec.ranked.last().unwrap();
    assert_eq!(last.hospital.0, MARGONO, "full ranks last");
    assert!(last.notes.contains(&HospitalNote::Full));
    // Surgical hospitals without a general IGD rank after the general hospitals that
    // have room.
    let bedah = rec
        .ranked
        .iter()
        .position(|h| h.hospital.0 == "3302063")
        .unwrap();
    assert!(
        rec.ranked[bedah]
            .notes
            .contains(&HospitalNote::LacksPreferred(Capability::Igd))
    );
    // Every hospital with room and all capabilities ranks before it.
    let perfect = |h: &HospitalOption| h.notes.iter().all(|n| *n == HospitalNote::CapacityUnknown);
    assert!(rec.ranked[bedah..].iter().all(|h| !perfect(h)));
    assert_eq!(rec.ranked.len() + rec.excluded.len(), 23);
    assert_eq!(HospitalNote::Full.message_id(), "IGD penuh");
}

#[test]
fn maternal_patients_go_where_there_is_obstetrics() {
    let mut run = Run::new(world(Config::default()));
    run.ok(0, create(Triage::Kuning, Category::Maternal));
    let rec = run
        .d
        .recommend_hospitals(at(0), IncidentId(1), &run.roads)
        .unwrap();
    assert!(
        rec.ranked.iter().any(|h| h.hospital.0 == "3302121"),
        "RSIA Amanah"
    );
    let why = rec
        .excluded
        .iter()
        .find(|x| x.hospital.0 == "3302063")
        .unwrap()
        .reason;
    assert_eq!(why, HospitalExclusion::Lacks(Capability::Obstetrics));
}
