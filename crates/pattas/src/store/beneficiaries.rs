//! Beneficiaries: the checks a record must pass (NIK consistent with birth
//! date and sex, a Banyumas desa), registering, reading, listing, changing,
//! and which of them a mitra may see.

use satria_auth::Principal;
use satria_sql::{End, Row, Tx, V};
use serde_json::json;

use super::history::history;
use super::{Pattas, bytewise, json_col, mitra_of, page, ts_col};
use crate::PattasError;
use crate::model::*;
use crate::valid::{self, Date};

const B_COLS: &str =
    "id, nik, name, date_of_birth, sex, desa, kecamatan, rt, rw, phone, dtks, bpjs,
    conditions, family_contact, banyumas_resident, registered_by, created_at_ms, updated_at_ms";

/// A beneficiary's values, checked and normalised.
struct CleanBeneficiary {
    nik: String,
    name: String,
    date_of_birth: String,
    sex: &'static str,
    desa: String,
    kecamatan: String,
    rt: String,
    rw: String,
    phone: Option<String>,
    dtks: bool,
    bpjs: String,
    conditions: Vec<String>,
    family_contact: Option<FamilyContact>,
    banyumas_resident: bool,
}

pub(super) fn beneficiary_row(row: &Row) -> Result<Beneficiary, PattasError> {
    let family_contact = match row.opt_text(13)? {
        Some(s) => Some(serde_json::from_str(&s)?),
        None => None,
    };
    Ok(Beneficiary {
        id: row.i64(0)?,
        nik: row.text(1)?,
        name: row.text(2)?,
        date_of_birth: row.text(3)?,
        sex: row.text(4)?,
        desa: row.text(5)?,
        kecamatan: row.text(6)?,
        rt: row.text(7)?,
        rw: row.text(8)?,
        phone: row.opt_text(9)?,
        dtks: row.bool(10)?,
        bpjs: row.text(11)?,
        conditions: json_col(row, 12)?,
        family_contact,
        banyumas_resident: row.bool(14)?,
        registered_by: row.text(15)?,
        created_at: ts_col(row, 16)?,
        updated_at: ts_col(row, 17)?,
    })
}

fn parse_sex(v: &str) -> Result<&'static str, PattasError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "l" | "male" | "laki-laki" => Ok("L"),
        "p" | "female" | "perempuan" => Ok("P"),
        _ => Err(PattasError::invalid(
            "invalid_sex",
            "sex must be L (male) or P (female)",
            "jenis kelamin harus L (laki-laki) atau P (perempuan)",
        )),
    }
}

fn parse_bpjs(v: &str) -> Result<String, PattasError> {
    let v = v.trim().to_ascii_lowercase();
    if BPJS.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(PattasError::invalid(
            "invalid_bpjs",
            "bpjs must be pbi, mandiri or none",
            "bpjs harus pbi, mandiri atau none",
        ))
    }
}

impl Pattas {
    fn find_desa(
        &self,
        desa: &str,
        kecamatan: Option<&str>,
    ) -> Result<(String, String), PattasError> {
        let desa = valid::text("desa", desa, limits::DESA)?;
        let matches: Vec<(String, String)> = self
            .desa
            .iter()
            .filter(|(d, k, _, _)| {
                d.eq_ignore_ascii_case(&desa)
                    && kecamatan.is_none_or(|want| k.eq_ignore_ascii_case(want.trim()))
            })
            .map(|(d, k, _, _)| (d.clone(), k.clone()))
            .collect();
        match matches.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(PattasError::invalid(
                "unknown_desa",
                format!(
                    "{desa:?}{} is not a desa/kelurahan of Kabupaten Banyumas",
                    kecamatan
                        .map(|k| format!(" in kecamatan {k:?}"))
                        .unwrap_or_default()
                ),
                format!(
                    "{desa:?}{} bukan desa/kelurahan di Kabupaten Banyumas",
                    kecamatan
                        .map(|k| format!(" di kecamatan {k:?}"))
                        .unwrap_or_default()
                ),
            )),
            many => {
                let ks: Vec<&str> = many.iter().map(|(_, k)| k.as_str()).collect();
                Err(PattasError::invalid(
                    "ambiguous_desa",
                    format!(
                        "there is a desa {desa:?} in kecamatan {}: give kecamatan too",
                        ks.join(" and ")
                    ),
                    format!(
                        "desa {desa:?} ada di kecamatan {}: isi juga kecamatan",
                        ks.join(" dan ")
                    ),
                ))
            }
        }
    }

    fn clean_beneficiary(
        &self,
        b: NewBeneficiary,
        now_ms: i64,
    ) -> Result<CleanBeneficiary, PattasError> {
        let nik = b.nik.trim().to_string();
        let form = valid::nik_form(&nik)?;
        let name = valid::text("name", &b.name, limits::NAME)?;
        let dob = Date::parse(b.date_of_birth.trim()).ok_or_else(|| {
            PattasError::invalid(
                "invalid_date_of_birth",
                "date_of_birth must be a date YYYY-MM-DD",
                "date_of_birth harus tanggal YYYY-MM-DD",
            )
        })?;
        let today = Date::wib_of_ms(now_ms);
        if dob > today || dob.y < 1900 {
            return Err(PattasError::invalid(
                "invalid_date_of_birth",
                "date_of_birth must not be in the future nor before 1900",
                "date_of_birth tidak boleh di masa depan atau sebelum 1900",
            ));
        }
        let sex = parse_sex(&b.sex)?;
        let mut mismatches_en = Vec::new();
        let mut mismatches_id = Vec::new();
        if form.day != dob.d || form.month != dob.m || i64::from(form.yy) != dob.y % 100 {
            mismatches_en.push(format!(
                "its birth date digits say {:02}-{:02}-..{:02} but date_of_birth is {dob}",
                form.day, form.month, form.yy
            ));
            mismatches_id.push(format!(
                "angka tanggal lahirnya {:02}-{:02}-..{:02} tetapi date_of_birth {dob}",
                form.day, form.month, form.yy
            ));
        }
        if form.female != (sex == "P") {
            let (en, id) = if form.female {
                (
                    "its day + 40 says female but sex is L",
                    "tanggalnya + 40 (perempuan) tetapi jenis kelamin L",
                )
            } else {
                (
                    "its day says male but sex is P (a woman's day has 40 added)",
                    "tanggalnya laki-laki tetapi jenis kelamin P (perempuan ditambah 40)",
                )
            };
            mismatches_en.push(en.to_string());
            mismatches_id.push(id.to_string());
        }
        if !mismatches_en.is_empty() {
            return Err(PattasError::invalid(
                "nik_mismatch",
                format!("the NIK does not match: {}", mismatches_en.join("; ")),
                format!("NIK tidak cocok: {}", mismatches_id.join("; ")),
            ));
        }
        let (desa, kecamatan) = self.find_desa(&b.desa, b.kecamatan.as_deref())?;
        let rt = valid::rt_rw("rt", &b.rt)?;
        let rw = valid::rt_rw("rw", &b.rw)?;
        let phone = match b.phone.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => Some(valid::phone("phone", p)?),
        };
        let bpjs = parse_bpjs(&b.bpjs)?;
        if b.conditions.len() > limits::CONDITIONS {
            return Err(PattasError::invalid(
                "invalid_conditions",
                format!("at most {} conditions", limits::CONDITIONS),
                format!("paling banyak {} penyakit", limits::CONDITIONS),
            ));
        }
        let mut conditions: Vec<String> = Vec::new();
        for c in &b.conditions {
            let c = valid::text("conditions[]", c, limits::CONDITION)?;
            if !conditions.iter().any(|x| x.eq_ignore_ascii_case(&c)) {
                conditions.push(c);
            }
        }
        if conditions.is_empty() {
            return Err(PattasError::invalid(
                "invalid_conditions",
                "conditions must name at least one chronic condition",
                "conditions harus berisi paling sedikit satu penyakit kronis",
            ));
        }
        let family_contact = match b.family_contact {
            None => None,
            Some(f) => Some(FamilyContact {
                name: valid::text("family_contact.name", &f.name, limits::NAME)?,
                phone: valid::phone("family_contact.phone", &f.phone)?,
                relation: valid::text("family_contact.relation", &f.relation, limits::RELATION)?,
            }),
        };
        Ok(CleanBeneficiary {
            nik,
            name,
            date_of_birth: dob.to_string(),
            sex,
            desa,
            kecamatan,
            rt,
            rw,
            phone,
            dtks: b.dtks,
            bpjs,
            conditions,
            family_contact,
            banyumas_resident: form.banyumas,
        })
    }

    fn duplicate_nik(tx: &mut dyn Tx, nik: &str, except: i64) -> Result<(), PattasError> {
        let existing = tx.query_opt(
            "SELECT id FROM pattas_beneficiaries WHERE nik = $1 AND id != $2",
            &[V::from(nik), V::from(except)],
        )?;
        match existing {
            None => Ok(()),
            Some(_) => Err(PattasError::conflict(
                "duplicate_nik",
                "a beneficiary with this NIK is already registered; report the case with its NIK",
                "penerima manfaat dengan NIK ini sudah terdaftar; laporkan kasusnya dengan NIK tersebut",
            )),
        }
    }

    /// Registers a beneficiary. One per NIK.
    pub fn create_beneficiary(
        &self,
        who: &Principal,
        input: NewBeneficiary,
        now_ms: i64,
    ) -> Result<Beneficiary, PattasError> {
        let b = self.clean_beneficiary(input, now_ms)?;
        let mut values = record_values(&b)?;
        values.extend([V::from(&who.username), V::from(now_ms)]);
        self.db.write(End::Commit, |tx| {
            Self::duplicate_nik(tx, &b.nik, -1)?;
            let id = tx
                .query_one(
                    "INSERT INTO pattas_beneficiaries (nik, name, date_of_birth, sex, desa,
                        kecamatan, rt, rw, phone, dtks, bpjs, conditions, family_contact,
                        banyumas_resident, registered_by, created_at_ms, updated_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                        $16, $16)
                     RETURNING id",
                    &values,
                )?
                .i64(0)?;
            history(
                tx,
                "beneficiary",
                id,
                "registered",
                who,
                now_ms,
                json!({"banyumas_resident": b.banyumas_resident, "desa": b.desa, "kecamatan": b.kecamatan}),
            )?;
            Self::beneficiary_in(tx, id)
        })
    }

    pub(super) fn beneficiary_in(tx: &mut dyn Tx, id: i64) -> Result<Beneficiary, PattasError> {
        tx.query_opt(
            &format!("SELECT {B_COLS} FROM pattas_beneficiaries WHERE id = $1"),
            &[V::from(id)],
        )?
        .map(|r| beneficiary_row(&r))
        .transpose()?
        .ok_or(PattasError::NotFound("beneficiary", "penerima manfaat"))
    }

    /// The SQL condition (on `pattas_beneficiaries` aliased `b`) a mitra is
    /// limited to, the mitra's username bound to `$n`.
    fn mitra_beneficiary(n: usize) -> String {
        format!(
            "(b.registered_by = ${n} OR EXISTS (SELECT 1 FROM pattas_cases c
              WHERE c.beneficiary_id = b.id AND c.reported_by = ${n}))"
        )
    }

    pub(super) fn visible_beneficiary(
        tx: &mut dyn Tx,
        who: &Principal,
        id: i64,
    ) -> Result<bool, PattasError> {
        match mitra_of(who) {
            None => Ok(true),
            Some(m) => Ok(tx
                .query_opt(
                    &format!(
                        "SELECT 1 FROM pattas_beneficiaries b WHERE b.id = $2 AND {}",
                        Self::mitra_beneficiary(1)
                    ),
                    &[V::from(m), V::from(id)],
                )?
                .is_some()),
        }
    }

    /// One beneficiary the caller may see, with its history.
    pub fn beneficiary(&self, who: &Principal, id: i64) -> Result<BeneficiaryDetail, PattasError> {
        self.db.read(|tx| {
            if !Self::visible_beneficiary(tx, who, id)? {
                return Err(PattasError::NotFound("beneficiary", "penerima manfaat"));
            }
            let beneficiary = Self::beneficiary_in(tx, id)?;
            let history = Self::history_of(tx, "beneficiary", id)?;
            Ok(BeneficiaryDetail {
                beneficiary,
                history,
            })
        })
    }

    /// The beneficiaries the caller may see, by name.
    pub fn list_beneficiaries(
        &self,
        who: &Principal,
        q: &BeneficiaryQuery,
    ) -> Result<Vec<Beneficiary>, PattasError> {
        let (limit, offset) = page(q.limit, q.offset)?;
        let mut sql = format!(
            "SELECT {} FROM pattas_beneficiaries b WHERE 1 = 1",
            B_COLS
                .split(',')
                .map(|c| format!("b.{}", c.trim()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut args: Vec<V> = Vec::new();
        if let Some(m) = mitra_of(who) {
            args.push(V::from(m));
            sql.push_str(&format!(" AND {}", Self::mitra_beneficiary(args.len())));
        }
        if let Some(s) = &q.q {
            let s = valid::optional_text("q", s, limits::SEARCH)?;
            if !s.is_empty() {
                let escaped = s
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                args.push(V::from(format!("%{escaped}%")));
                let name_arg = args.len();
                args.push(V::from(format!("{escaped}%")));
                // SQLite's LIKE ignores ASCII case, PostgreSQL's does not:
                // both sides lowered, the same on both. (An NIK is digits.)
                sql.push_str(&format!(
                    " AND (lower(b.name) LIKE lower(${name_arg}) ESCAPE '\\'
                       OR b.nik LIKE ${} ESCAPE '\\')",
                    name_arg + 1
                ));
            }
        }
        if let Some(d) = &q.desa {
            let d = valid::text("desa", d, limits::DESA)?;
            args.push(V::from(d));
            sql.push_str(&format!(" AND lower(b.desa) = lower(${})", args.len()));
        }
        args.push(V::from(limit));
        args.push(V::from(offset));
        self.db.read(|tx| {
            // By name ignoring ASCII case, as SQLite's NOCASE ordered it.
            sql.push_str(&format!(
                " ORDER BY {}, b.id LIMIT ${} OFFSET ${}",
                bytewise(tx, "lower(b.name)"),
                args.len() - 1,
                args.len()
            ));
            tx.query(&sql, &args)?.iter().map(beneficiary_row).collect()
        })
    }

    /// Changes a beneficiary (officer). The whole record is checked again, so
    /// the NIK stays consistent with the birth date and sex.
    pub fn update_beneficiary(
        &self,
        who: &Principal,
        id: i64,
        patch: BeneficiaryPatch,
        now_ms: i64,
    ) -> Result<Beneficiary, PattasError> {
        self.db.write(End::Commit, |tx| {
            self.update_beneficiary_in(tx, who, id, patch, now_ms)
        })
    }

    /// [`Pattas::update_beneficiary`] inside its write transaction.
    fn update_beneficiary_in(
        &self,
        tx: &mut dyn Tx,
        who: &Principal,
        id: i64,
        patch: BeneficiaryPatch,
        now_ms: i64,
    ) -> Result<Beneficiary, PattasError> {
        if !Self::visible_beneficiary(tx, who, id)? {
            return Err(PattasError::NotFound("beneficiary", "penerima manfaat"));
        }
        let old = Self::beneficiary_in(tx, id)?;
        let mut changed: Vec<&str> = Vec::new();
        let desa_changed = patch.desa.is_some();
        macro_rules! pick {
            ($field:ident) => {
                match patch.$field {
                    Some(v) => {
                        changed.push(stringify!($field));
                        v
                    }
                    None => old.$field.clone(),
                }
            };
        }
        let input = NewBeneficiary {
            nik: pick!(nik),
            name: pick!(name),
            date_of_birth: pick!(date_of_birth),
            sex: pick!(sex),
            desa: pick!(desa),
            kecamatan: match patch.kecamatan {
                Some(k) => {
                    changed.push("kecamatan");
                    k
                }
                // The stored kecamatan disambiguates the stored desa; a new
                // desa without a kecamatan is looked up on its own.
                None if !desa_changed => Some(old.kecamatan.clone()),
                None => None,
            },
            rt: pick!(rt),
            rw: pick!(rw),
            phone: match patch.phone {
                Some(p) => {
                    changed.push("phone");
                    p
                }
                None => old.phone.clone(),
            },
            dtks: pick!(dtks),
            bpjs: pick!(bpjs),
            conditions: pick!(conditions),
            family_contact: match patch.family_contact {
                Some(f) => {
                    changed.push("family_contact");
                    f
                }
                None => old.family_contact.clone(),
            },
        };
        if changed.is_empty() {
            return Err(PattasError::invalid(
                "empty_patch",
                "nothing to change: send at least one field",
                "tidak ada yang diubah: kirim paling sedikit satu isian",
            ));
        }
        let b = self.clean_beneficiary(input, now_ms)?;
        Self::duplicate_nik(tx, &b.nik, id)?;
        tx.execute(
            "UPDATE pattas_beneficiaries SET nik = $2, name = $3, date_of_birth = $4, sex = $5,
                desa = $6, kecamatan = $7, rt = $8, rw = $9, phone = $10, dtks = $11, bpjs = $12,
                conditions = $13, family_contact = $14, banyumas_resident = $15,
                updated_at_ms = $16
             WHERE id = $1",
            &[vec![V::from(id)], record_values(&b)?, vec![V::from(now_ms)]].concat(),
        )?;
        history(
            tx,
            "beneficiary",
            id,
            "updated",
            who,
            now_ms,
            json!({ "fields": changed }),
        )?;
        Self::beneficiary_in(tx, id)
    }
}

/// The stored columns of a beneficiary's record, `nik` to `banyumas_resident`,
/// in the order the insert and the update name them.
fn record_values(b: &CleanBeneficiary) -> Result<Vec<V>, PattasError> {
    Ok(vec![
        V::from(&b.nik),
        V::from(&b.name),
        V::from(&b.date_of_birth),
        V::from(b.sex),
        V::from(&b.desa),
        V::from(&b.kecamatan),
        V::from(&b.rt),
        V::from(&b.rw),
        V::from(&b.phone),
        V::from(b.dtks),
        V::from(&b.bpjs),
        V::from(serde_json::to_string(&b.conditions)?),
        V::from(
            b.family_contact
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?,
        ),
        V::from(b.banyumas_resident),
    ])
}
