//! Shared test fixtures: a small fleet around Purwokerto, command builders, a hand-held
//! clock, and the checks every step must pass (invariants, replay, JSON round trip).

#![allow(dead_code)]

use satria_dispatch::*;

/// Start of every test clock (an arbitrary instant in 2026).
pub const T0: i64 = 1_790_000_000_000;

/// `s` seconds after [`T0`].
pub fn at(s: i64) -> Timestamp {
    Timestamp(T0 + s * 1000)
}

/// A unit id.
pub fn u(id: &str) -> UnitId {
    UnitId(id.into())
}

/// The incident position of most scenarios: Alun-alun Purwokerto.
pub const SCENE: LatLon = LatLon {
    lat: -7.4245,
    lon: 109.2300,
};

/// Where no road goes (for unreachable units).
pub const ISLAND: LatLon = LatLon {
    lat: -7.7000,
    lon: 109.0000,
};

/// The test fleet: A1 (ALS, nearest), B1 (BLS with obstetric kit), B2 (BLS), M1
/// (motorbike, nearer than all), T1 (transport), X1 (BLS based where no road goes).
pub fn fleet() -> Vec<Unit> {
    let p = |lat, lon| LatLon { lat, lon };
    vec![
        Unit::new(
            "A1",
            "Satria 01",
            UnitType::Als,
            Owner::Psc,
            "Dinkes",
            p(-7.4265, 109.2360),
            &[],
        ),
        Unit::new(
            "B1",
            "Satria 04",
            UnitType::Bls,
            Owner::Psc,
            "Dinkes",
            p(-7.4350, 109.2450),
            &["obstetric"],
        ),
        Unit::new(
            "B2",
            "PKM Baturaden",
            UnitType::Bls,
            Owner::Puskesmas,
            "Puskesmas",
            p(-7.3647, 109.2272),
            &[],
        ),
        Unit::new(
            "M1",
            "Satria Motor 07",
            UnitType::Motorbike,
            Owner::Psc,
            "Dinkes",
            p(-7.4250, 109.2310),
            &[],
        ),
        Unit::new(
            "T1",
            "PMI 1",
            UnitType::Transport,
            Owner::Pmi,
            "PMI",
            p(-7.4300, 109.2400),
            &[],
        ),
        Unit::new(
            "X1",
            "Nowhere",
            UnitType::Bls,
            Owner::Volunteer,
            "Island",
            ISLAND,
            &[],
        ),
    ]
}

/// Straight lines at 40 km/h, with [`ISLAND`] off the network.
pub fn roads() -> StraightLine {
    StraightLine {
        unreachable_m: 500.0,
        ..StraightLine::default()
    }
    .with_unreachable(ISLAND)
}

/// A fresh state: the test fleet, the 23 demo hospitals, `config`.
pub fn world(config: Config) -> Dispatch {
    Dispatch::new(config, fleet(), demo_hospitals())
}

/// A call at `location`.
pub fn create_at(triage: Triage, category: Category, location: LatLon) -> Command {
    Command::CreateIncident {
        caller_name: "Budi".into(),
        caller_phone: "081234567890".into(),
        location,
        address: Address {
            desa: "Sokanegara".into(),
            rt_rw: "02/03".into(),
            landmark: "dekat alun-alun".into(),
            text: String::new(),
        },
        triage,
        category,
        patients: 1,
        notes: String::new(),
    }
}

/// A call at [`SCENE`].
pub fn create(triage: Triage, category: Category) -> Command {
    create_at(triage, category, SCENE)
}

/// Assigns units.
pub fn assign(i: u64, units: &[&str]) -> Command {
    Command::AssignUnits {
        incident: IncidentId(i),
        units: units.iter().map(|x| u(x)).collect(),
    }
}

/// The crew acknowledges.
pub fn ack(i: u64, unit: &str) -> Command {
    Command::AcknowledgeAssignment {
        incident: IncidentId(i),
        unit: u(unit),
        device_at: None,
    }
}

/// The crew declines.
pub fn decline(i: u64, unit: &str) -> Command {
    Command::DeclineAssignment {
        incident: IncidentId(i),
        unit: u(unit),
        reason: "ban bocor".into(),
        device_at: None,
    }
}

/// A crew status report.
pub fn status(unit: &str, s: UnitStatus) -> Command {
    Command::ReportStatus {
        unit: u(unit),
        status: s,
        device_at: Some(Timestamp(T0)),
    }
}

/// A position report.
pub fn moved(unit: &str, lat: f64, lon: f64) -> Command {
    Command::UpdatePosition {
        unit: u(unit),
        at: LatLon { lat, lon },
        device_at: None,
    }
}

/// A valid referral of incident `i` to hospital `to`.
pub fn referral(i: u64, to: &str, unit: Option<&str>) -> Command {
    Command::SendReferral {
        incident: IncidentId(i),
        to: HospitalId(to.into()),
        unit: unit.map(u),
        form: ReferralForm {
            from: "PSC 119 Banyumas".into(),
            referral_type: ReferralType::Emergency,
            reason: "cedera kepala, perlu CT scan".into(),
            diagnosis_icd10: "S06.0".into(),
            officer: "dr. Rina".into(),
            condition: GeneralCondition {
                history_exam: "kecelakaan motor, helm lepas".into(),
                consciousness: Consciousness::Voice,
                gcs: Some(13),
                bp_systolic_mmhg: Some(110),
                bp_diastolic_mmhg: Some(70),
                pulse_per_min: Some(104),
                temperature_c: Some(36.8),
                breathing_per_min: Some(22),
                pain_score: Some(6),
                allergies: "tidak ada".into(),
            },
            findings: "luka robek di pelipis".into(),
        },
        patient: PatientData {
            nik: "3302011505900001".into(),
            name: "Slamet".into(),
            sex: Sex::Male,
            date_of_birth: "1990-05-15".into(),
            address: "Sokanegara RT 02/03".into(),
            contact: "081234567891".into(),
        },
    }
}

/// The Kemenkes code of RSUD Prof. Dr. Margono Soekarjo.
pub const MARGONO: &str = "3302026";

/// A dispatch state under test with its journal: every step is checked.
pub struct Run {
    /// The state.
    pub d: Dispatch,
    /// The state it started from (for replay).
    pub initial: Dispatch,
    /// Every event emitted so far.
    pub journal: Vec<Event>,
    /// Drive times.
    pub roads: StraightLine,
}

impl Run {
    /// A run from `d`.
    pub fn new(d: Dispatch) -> Run {
        Run {
            initial: d.clone(),
            d,
            journal: Vec::new(),
            roads: roads(),
        }
    }

    /// Handles `cmd` at second `s`: on `Err` the state must be unchanged.
    pub fn handle(&mut self, s: i64, cmd: Command) -> Result<Vec<Event>, Rejection> {
        let before = self.d.clone();
        let r = self.d.handle(at(s), cmd, &self.roads);
        match &r {
            Ok(ev) => self.journal.extend(ev.iter().cloned()),
            Err(e) => assert!(self.d == before, "rejected {e} but the state changed"),
        }
        self.verify();
        r
    }

    /// Ticks the clock at second `s`.
    pub fn tick(&mut self, s: i64) -> Vec<Event> {
        let ev = self.d.tick(at(s), &self.roads);
        self.journal.extend(ev.iter().cloned());
        self.verify();
        // The ticker scans only the open incidents: checked against every
        // incident held, none is left pending past its deadline, and the next
        // deadline it reports is no later than any pending one.
        let pending: Vec<_> = self
            .d
            .incidents()
            .flat_map(|i| i.assignments.iter())
            .filter(|a| a.state == satria_dispatch::AssignmentState::Pending)
            .map(|a| a.ack_deadline)
            .collect();
        assert!(pending.iter().all(|d| *d > at(s)), "{pending:?} at {s}");
        if let Some(first) = pending.iter().min() {
            assert!(self.d.next_deadline().is_some_and(|d| d <= *first));
        }
        ev
    }

    /// Archives what is due at second `s` (at most `max`), as the engine's tick
    /// does: the events go to the journal, the records are returned.
    pub fn archive(&mut self, s: i64, max: usize) -> Vec<(Event, ArchivedIncident)> {
        let out = self.d.archive_due(at(s), max);
        self.journal.extend(out.iter().map(|(e, _)| e.clone()));
        self.verify();
        out
    }

    /// Handles `cmd`, which must succeed.
    pub fn ok(&mut self, s: i64, cmd: Command) -> Vec<Event> {
        match self.handle(s, cmd) {
            Ok(ev) => ev,
            Err(e) => panic!("unexpected rejection: {e}"),
        }
    }

    /// Invariants hold; replaying the journal (through JSON) rebuilds the state.
    pub fn verify(&self) {
        if let Err(e) = self.d.check_invariants() {
            panic!("invariant broken: {e}");
        }
        let mut replay = self.initial.clone();
        for e in &self.journal {
            let json = serde_json::to_string(e).unwrap();
            let back: Event = serde_json::from_str(&json).unwrap();
            assert_eq!(&back, e, "JSON round trip of {json}");
            replay.apply(&back);
        }
        assert!(
            replay == self.d,
            "replay of {} events differs",
            self.journal.len()
        );
        // A snapshot's image reads back as the same state (live positions aside:
        // they are not journaled, so neither replay nor image keeps them).
        let image = self.d.image_json();
        let back = Dispatch::from_image_json(self.d.config().clone(), &image)
            .unwrap_or_else(|e| panic!("image refused: {e}"));
        assert!(back.image_json() == image, "the image does not read back");
        assert!(back.units().all(|u| u.last_fix.is_none()));
        if self.d.units().all(|u| u.last_fix.is_none()) {
            assert!(back == self.d, "the state read from its image differs");
        }
    }
}

/// One step of a data-driven scenario.
// Test steps live in a short Vec: boxing the command would only add noise.
#[allow(clippy::large_enum_variant)]
pub enum Step {
    /// A command at second `.0`.
    Do(i64, Command),
    /// A tick at second `.0`.
    Tick(i64),
}

/// The kinds of the events a step gave, space-separated, or `rejected:<code>`.
pub fn kinds(r: &Result<Vec<Event>, Rejection>) -> String {
    match r {
        Ok(ev) => ev.iter().map(|e| e.kind()).collect::<Vec<_>>().join(" "),
        Err(e) => {
            let v = serde_json::to_value(e).unwrap();
            format!("rejected:{}", v["code"].as_str().unwrap_or("?"))
        }
    }
}

/// Runs `steps` on a fresh world with `config` and compares the event kinds of every
/// step (joined by ` | `) with `expected`. Returns the run for further assertions.
pub fn check_with(config: Config, steps: Vec<Step>, expected: &str) -> Run {
    let mut run = Run::new(world(config));
    let mut got = Vec::new();
    for step in steps {
        let r = match step {
            Step::Do(s, cmd) => run.handle(s, cmd),
            Step::Tick(s) => Ok(run.tick(s)),
        };
        got.push(kinds(&r));
    }
    let got = got.join(" | ");
    let got = got.split_whitespace().collect::<Vec<_>>().join(" ");
    let want = expected.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(got, want);
    run
}

/// [`check_with`] the default config.
pub fn check(steps: Vec<Step>, expected: &str) -> Run {
    check_with(Config::default(), steps, expected)
}
