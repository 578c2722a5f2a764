//! Snapshot images: a state read back from its image is the state (checked after
//! every step of every scenario by `Run::verify`); here, what a damaged image
//! gets: a refusal that says what is wrong, so the engine replays the journal.

use crate::common::*;
use satria_dispatch::*;

/// A state with a unit committed to an open incident.
fn busy() -> Dispatch {
    let mut run = Run::new(world(Config::default()));
    run.ok(0, create(Triage::Merah, Category::Accident));
    assert!(run.d.units().any(|u| u.incident == Some(IncidentId(1))));
    run.d
}

fn edit(d: &Dispatch, f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&d.image_json()).unwrap();
    f(&mut v);
    serde_json::to_vec(&v).unwrap()
}

fn refused(bytes: &[u8]) -> String {
    match Dispatch::from_image_json(Config::default(), bytes) {
        Ok(_) => panic!("a damaged image was accepted"),
        Err(e) => e,
    }
}

#[test]
fn an_image_holds_every_record_and_reads_back_whole() {
    let d = busy();
    let back = Dispatch::from_image_json(Config::default(), &d.image_json()).unwrap();
    assert!(back == d);
    assert_eq!(back.incidents().count(), 1);
    assert_eq!(back.units().count(), d.units().count());
    assert_eq!(back.hospitals().count(), d.hospitals().count());
    // The next id continues where the image stopped.
    let mut run = Run::new(back);
    let ev = run.ok(60, create(Triage::Kuning, Category::Medical));
    assert!(matches!(&ev[0], Event::IncidentCreated { incident } if incident.id == IncidentId(2)));
}

#[test]
fn a_damaged_image_is_refused_saying_what_is_wrong() {
    let d = busy();
    assert!(refused(b"{not json").contains("does not parse"));
    assert!(refused(&d.image_json()[..40]).contains("does not parse"));
    // The incident its unit is committed to is missing.
    let e = refused(&edit(&d, |v| v["incidents"] = serde_json::json!([])));
    assert!(e.contains("unit"), "{e}");
    // An incident twice.
    let e = refused(&edit(&d, |v| {
        let i = v["incidents"][0].clone();
        v["incidents"].as_array_mut().unwrap().push(i);
    }));
    assert!(e.contains("appears twice"), "{e}");
    // An id the next id has not reached.
    let e = refused(&edit(&d, |v| v["next_incident"] = 1.into()));
    assert!(e.contains("next id"), "{e}");
    // A field it does not know (an image from another version).
    let e = refused(&edit(&d, |v| v["archive"] = 1.into()));
    assert!(e.contains("unknown field"), "{e}");
}
