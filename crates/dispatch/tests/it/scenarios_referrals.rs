//! Scenarios: SISRUTE-shaped referrals: validation, rules, escalation when the
//! hospital does not answer, and the next deadline.

use crate::common::*;
use Step::{Do, Tick};
use satria_dispatch::*;

// ----- referrals -----

#[test]
fn referral_escalates_when_the_hospital_does_not_answer() {
    let run = check(
        vec![
            Do(0, create(Triage::Kuning, Category::Accident)),
            Do(1, referral(1, MARGONO, None)),
            Tick(300),
            Tick(301),
            Do(
                302,
                Command::AcceptReferral {
                    referral: ReferralId(1),
                    officer: "terlambat".into(),
                },
            ),
            Do(
                303,
                Command::DeclineReferral {
                    referral: ReferralId(2),
                    reason: "ICU penuh".into(),
                },
            ),
        ],
        "incident_created | referral_sent | | referral_expired referral_sent \
         | rejected:referral_closed | referral_declined",
    );
    let r2 = run.d.referral(ReferralId(2)).unwrap();
    assert_eq!(r2.escalated_from, Some(ReferralId(1)));
    assert_ne!(r2.to.0, MARGONO);
    assert_eq!(r2.patient, run.d.referral(ReferralId(1)).unwrap().patient);
    assert_eq!(r2.deadline, at(301 + 300));
    assert_eq!(
        run.d.referral(ReferralId(1)).unwrap().status,
        ReferralStatus::Expired
    );
    // The hospitals that expired or declined are not recommended again.
    let rec = run
        .d
        .recommend_hospitals(at(304), IncidentId(1), &run.roads)
        .unwrap();
    for h in [MARGONO, r2.to.0.as_str()] {
        assert!(
            rec.excluded
                .iter()
                .any(|x| x.hospital.0 == h && x.reason == HospitalExclusion::AlreadyTried)
        );
    }
}

#[test]
fn referral_escalation_with_nowhere_to_go_is_an_outcome() {
    let margono: Vec<Hospital> = demo_hospitals()
        .into_iter()
        .filter(|h| h.id.0 == MARGONO)
        .collect();
    let mut run = Run::new(Dispatch::new(Config::default(), fleet(), margono));
    run.ok(0, create(Triage::Kuning, Category::Accident));
    run.ok(1, referral(1, MARGONO, None));
    assert_eq!(run.d.next_deadline(), Some(at(301)));
    let ev = run.tick(301);
    assert_eq!(
        kinds(&Ok(ev)),
        "referral_expired referral_escalation_failed"
    );
    assert_eq!(run.d.next_deadline(), None);
}

#[test]
fn referral_validation() {
    let bad = |f: &dyn Fn(&mut ReferralForm, &mut PatientData)| {
        let Command::SendReferral {
            incident,
            to,
            unit,
            mut form,
            mut patient,
        } = referral(1, MARGONO, None)
        else {
            unreachable!()
        };
        f(&mut form, &mut patient);
        let mut run = Run::new(world(Config::default()));
        run.ok(0, create(Triage::Kuning, Category::Accident));
        match run.handle(
            1,
            Command::SendReferral {
                incident,
                to,
                unit,
                form,
                patient,
            },
        ) {
            Err(Rejection::InvalidField { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(bad(&|_, p| p.nik = "33020115059000".into()), "patient.nik");
    assert_eq!(
        bad(&|_, p| p.nik = "33020115059000AB".into()),
        "patient.nik"
    );
    assert_eq!(
        bad(&|_, p| p.date_of_birth = "1990-02-30".into()),
        "patient.date_of_birth"
    );
    assert_eq!(bad(&|_, p| p.name = " ".into()), "patient.name");
    assert_eq!(
        bad(&|f, _| f.diagnosis_icd10 = "kepala".into()),
        "form.diagnosis_icd10"
    );
    assert_eq!(
        bad(&|f, _| f.condition.pulse_per_min = Some(400)),
        "condition.pulse_per_min"
    );
    assert_eq!(
        bad(&|f, _| f.condition.temperature_c = Some(52.0)),
        "condition.temperature_c"
    );
    assert_eq!(
        bad(&|f, _| f.condition.temperature_c = Some(f64::NAN)),
        "condition.temperature_c"
    );
    assert_eq!(
        bad(&|f, _| f.condition.bp_diastolic_mmhg = Some(120)),
        "condition.bp_diastolic_mmhg"
    );
    assert_eq!(bad(&|f, _| f.condition.gcs = Some(2)), "condition.gcs");
    assert_eq!(
        bad(&|f, _| f.condition.breathing_per_min = Some(0)),
        "condition.breathing_per_min"
    );
    assert_eq!(
        bad(&|f, _| f.condition.pain_score = Some(11)),
        "condition.pain_score"
    );
    assert_eq!(bad(&|f, _| f.officer = String::new()), "form.officer");
}

#[test]
fn referral_rules() {
    check(
        vec![
            Do(0, create(Triage::Kuning, Category::Accident)),
            Do(1, referral(1, "9999999", None)),
            Do(1, referral(1, MARGONO, Some("B1"))),
            Do(2, referral(1, MARGONO, None)),
            Do(3, referral(1, MARGONO, None)),
            Do(
                4,
                Command::SendPreArrivalNotice {
                    referral: ReferralId(1),
                },
            ),
            Do(
                5,
                Command::DeclineReferral {
                    referral: ReferralId(1),
                    reason: String::new(),
                },
            ),
            Do(
                6,
                Command::CancelReferral {
                    referral: ReferralId(1),
                    reason: "pasien menolak".into(),
                },
            ),
            Do(
                7,
                Command::CancelReferral {
                    referral: ReferralId(1),
                    reason: "lagi".into(),
                },
            ),
            Do(8, referral(1, MARGONO, None)),
            Do(
                9,
                Command::CancelIncident {
                    incident: IncidentId(1),
                    reason: "batal".into(),
                },
            ),
        ],
        "incident_created | rejected:unknown_hospital | rejected:not_assigned | referral_sent \
         | rejected:already_referred | rejected:referral_not_accepted | rejected:invalid_field \
         | referral_cancelled | rejected:referral_closed | referral_sent \
         | referral_cancelled incident_cancelled",
    );
}

#[test]
fn next_deadline_is_the_earliest_of_acks_and_referrals() {
    let mut run = Run::new(world(Config::default()));
    assert_eq!(run.d.next_deadline(), None);
    run.ok(0, create(Triage::Kuning, Category::Accident));
    run.ok(10, referral(1, MARGONO, None));
    assert_eq!(run.d.next_deadline(), Some(at(310)));
    run.ok(20, assign(1, &["B1"]));
    assert_eq!(run.d.next_deadline(), Some(at(80)));
    run.ok(21, ack(1, "B1"));
    assert_eq!(run.d.next_deadline(), Some(at(310)));
}
