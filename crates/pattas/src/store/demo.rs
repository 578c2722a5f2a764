//! Synthetic demo data ([`Pattas::seed_demo`]): residents in real Banyumas
//! desa with cases in every state, and the demo usernames it acts as.

use satria_auth::{Principal, Role};
use satria_sql::V;

use super::Pattas;
use crate::PattasError;
use crate::model::*;
use crate::valid::Date;

/// The username [`Pattas::seed_demo`] reports its mitra cases as: a demo
/// `pattas_mitra` account of this name sees them.
pub const DEMO_MITRA_USERNAME: &str = "mitra";
/// The officer [`Pattas::seed_demo`] acts as.
const DEMO_OFFICER_USERNAME: &str = "pattas";

impl Pattas {
    /// Synthetic demo data (no real people: names say "(contoh)", NIKs have a
    /// valid form with serials 99xx): beneficiaries in real Banyumas desa and
    /// cases in every state, reported by [`DEMO_MITRA_USERNAME`] or the demo
    /// officer. Idempotent: a beneficiary whose NIK exists is skipped with
    /// its cases.
    pub fn seed_demo(&self, now_ms: i64) -> Result<(), PattasError> {
        const H: i64 = 60 * 60 * 1000;
        let officer = Principal {
            user_id: 0,
            username: DEMO_OFFICER_USERNAME.into(),
            role: Role::PattasOfficer,
            unit: None,
            hospital: None,
            subject: None,
        };
        let mitra = Principal {
            username: DEMO_MITRA_USERNAME.into(),
            role: Role::PattasMitra,
            ..officer.clone()
        };
        let demo = [
            demo_resident(
                "Sukarti (contoh)",
                (1956, 3, 14),
                "P",
                ("Kedungwuluh", "Purwokerto Barat"),
            )
            .with(&["gagal ginjal kronis"], "pbi", true)
            .case(&["transport", "waiting_costs"], "in_assistance", 100),
            demo_resident(
                "Darsono (contoh)",
                (1961, 8, 12),
                "L",
                ("Sokanegara", "Purwokerto Timur"),
            )
            .with(&["diabetes melitus", "hipertensi"], "none", true)
            .case(&["insurance", "civil_registration"], "reported", 2),
            demo_resident(
                "Waginah (contoh)",
                (1949, 11, 2),
                "P",
                ("Purwokerto Lor", "Purwokerto Timur"),
            )
            .with(&["kanker payudara"], "mandiri", false)
            .case(&["shelter", "family_food", "transport"], "verified", 30),
            demo_resident(
                "Kusnadi (contoh)",
                (1970, 1, 25),
                "L",
                ("Ajibarang Kulon", "Ajibarang"),
            )
            .with(&["stroke"], "pbi", true)
            .case(&["post_discharge"], "closed", 400),
            demo_resident(
                "Rasem (contoh)",
                (1965, 6, 30),
                "P",
                ("Banjarsari", "Ajibarang"),
            )
            .with(&["TBC"], "none", false)
            .case(&["insurance"], "rejected", 60),
            demo_resident(
                "Tarsim (contoh)",
                (1958, 9, 9),
                "L",
                ("Ciberung", "Ajibarang"),
            )
            .with(&["gagal jantung"], "pbi", true)
            .case(&["transport"], "reported", 40),
        ];
        for (i, r) in demo.iter().enumerate() {
            let DemoResident {
                name,
                dob: (y, m, d),
                sex,
                place: (desa, kec),
                conditions: conds,
                bpjs,
                dtks,
                needs,
                state,
                hours_ago: ago,
            } = r;
            let dd = if *sex == "P" { d + 40 } else { *d };
            let nik = format!("330201{dd:02}{m:02}{:02}99{i:02}", y % 100);
            let exists = self.db.read(|tx| {
                tx.query_opt(
                    "SELECT id FROM pattas_beneficiaries WHERE nik = $1",
                    &[V::from(&nik)],
                )
            })?;
            if exists.is_some() {
                continue;
            }
            let t0 = now_ms - ago * H;
            let reporter = if i % 2 == 0 { &mitra } else { &officer };
            let b = self.create_beneficiary(
                reporter,
                NewBeneficiary {
                    nik,
                    name: name.to_string(),
                    date_of_birth: format!("{y:04}-{m:02}-{d:02}"),
                    sex: sex.to_string(),
                    desa: desa.to_string(),
                    kecamatan: Some(kec.to_string()),
                    rt: format!("{}", 1 + i),
                    rw: format!("{}", 2 + i % 3),
                    phone: Some(format!("0812000001{i:02}")),
                    dtks: *dtks,
                    bpjs: bpjs.to_string(),
                    conditions: conds.iter().map(|c| c.to_string()).collect(),
                    family_contact: Some(FamilyContact {
                        name: "Keluarga (contoh)".into(),
                        phone: format!("0813000002{i:02}"),
                        relation: "anak".into(),
                    }),
                },
                t0,
            )?;
            let case = self.report_case(
                reporter,
                NewCase {
                    beneficiary_id: Some(b.id),
                    nik: None,
                    needs: needs.iter().map(|n| n.to_string()).collect(),
                    description: format!(
                        "Data contoh: warga dengan {} membutuhkan bantuan.",
                        conds.join(", ")
                    ),
                    reported_via: Some("kunjungan".into()),
                },
                t0,
            )?;
            match *state {
                "rejected" => {
                    self.reject_case(
                        &officer,
                        case.id,
                        "Data contoh: sudah ditangani program lain.",
                        t0 + 5 * H,
                    )?;
                }
                "verified" | "in_assistance" | "closed" => {
                    self.verify_case(
                        &officer,
                        case.id,
                        Some("Data contoh: kunjungan rumah.".into()),
                        t0 + 6 * H,
                    )?;
                    if *state != "verified" {
                        self.add_assistance(
                            &officer,
                            case.id,
                            NewAssistance {
                                date: Date::wib_of_ms(t0 + 24 * H).to_string(),
                                kind: needs[0].to_string(),
                                amount_rp: 250_000,
                                notes: Some("Data contoh".into()),
                            },
                            t0 + 24 * H,
                        )?;
                    }
                    if *state == "closed" {
                        self.close_case(
                            &officer,
                            case.id,
                            "Data contoh: bantuan tuntas.",
                            t0 + 200 * H,
                        )?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// One synthetic resident of [`Pattas::seed_demo`] and the state its case is taken to.
struct DemoResident {
    name: &'static str,
    dob: (i64, u32, u32),
    sex: &'static str,
    place: (&'static str, &'static str),
    conditions: &'static [&'static str],
    bpjs: &'static str,
    dtks: bool,
    needs: &'static [&'static str],
    state: &'static str,
    hours_ago: i64,
}

fn demo_resident(
    name: &'static str,
    dob: (i64, u32, u32),
    sex: &'static str,
    place: (&'static str, &'static str),
) -> DemoResident {
    DemoResident {
        name,
        dob,
        sex,
        place,
        conditions: &[],
        bpjs: "none",
        dtks: false,
        needs: &[],
        state: "reported",
        hours_ago: 0,
    }
}

impl DemoResident {
    fn with(self, conditions: &'static [&'static str], bpjs: &'static str, dtks: bool) -> Self {
        DemoResident {
            conditions,
            bpjs,
            dtks,
            ..self
        }
    }

    fn case(self, needs: &'static [&'static str], state: &'static str, hours_ago: i64) -> Self {
        DemoResident {
            needs,
            state,
            hours_ago,
            ..self
        }
    }
}
