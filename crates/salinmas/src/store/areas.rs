//! The kelurahan Salinmas serves: listing them, adding a Banyumas
//! kelurahan, and resolving a served one by name.

use satria_auth::Principal;
use satria_sql::{Tx, V};
use serde_json::json;

use super::Salinmas;
use super::access::officer_only;
use super::history::history;
use crate::error::SalinmasError;
use crate::model::*;
use crate::time::Timestamp;
use crate::validate as v;

impl Salinmas {
    /// The kelurahan Salinmas serves. Any Salinmas role.
    pub fn kelurahan(&self, who: &Principal) -> Result<Vec<Kelurahan>, SalinmasError> {
        self.who(who)?;
        self.read(|tx| {
            let rows = tx.query(
                "SELECT name, kecamatan, added_at_ms FROM salinmas_kelurahan ORDER BY name",
                &[],
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(Kelurahan {
                    name: r.text(0)?,
                    kecamatan: r.text(1)?,
                    added_at: Timestamp(r.i64(2)?),
                });
            }
            Ok(out)
        })
    }

    /// Adds a served kelurahan: a desa/kelurahan of Banyumas (officer).
    pub fn add_kelurahan(
        &self,
        who: &Principal,
        input: NewKelurahan,
        now_ms: i64,
    ) -> Result<Kelurahan, SalinmasError> {
        officer_only(who)?;
        let name = v::text("name", &input.name, 80)?;
        let kecamatan = v::opt_text("kecamatan", input.kecamatan.as_deref(), 80)?;
        let matches: Vec<&satria_region::Desa> = self
            .region
            .desa
            .iter()
            .filter(|d| d.name.eq_ignore_ascii_case(&name))
            .filter(|d| {
                kecamatan
                    .as_deref()
                    .is_none_or(|k| d.kecamatan.eq_ignore_ascii_case(k))
            })
            .collect();
        let desa = match matches.as_slice() {
            [one] => *one,
            [] => {
                return Err(SalinmasError::invalid(
                    "unknown_kelurahan",
                    format!("{name} is not a desa/kelurahan of Banyumas (check the kecamatan too)"),
                    format!("{name} bukan desa/kelurahan di Banyumas (periksa juga kecamatannya)"),
                ));
            }
            many => {
                let ks: Vec<&str> = many.iter().map(|d| d.kecamatan.as_str()).collect();
                return Err(SalinmasError::invalid(
                    "ambiguous_kelurahan",
                    format!(
                        "{name} exists in several kecamatan ({}): name the kecamatan",
                        ks.join(", ")
                    ),
                    format!(
                        "{name} ada di beberapa kecamatan ({}): sebutkan kecamatannya",
                        ks.join(", ")
                    ),
                ));
            }
        };
        self.write(|tx| {
            let exists = tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM salinmas_kelurahan WHERE lower(name) = $1)",
                    &[V::from(nocase(&desa.name))],
                )?
                .bool(0)?;
            if exists {
                return Err(SalinmasError::conflict(
                    "duplicate_kelurahan",
                    format!("a kelurahan named {} is already served", desa.name),
                    format!("kelurahan bernama {} sudah dilayani", desa.name),
                ));
            }
            tx.execute(
                "INSERT INTO salinmas_kelurahan (name, kecamatan, added_at_ms) VALUES ($1, $2, $3)",
                &[
                    V::from(&desa.name),
                    V::from(&desa.kecamatan),
                    V::from(now_ms),
                ],
            )?;
            history(
                tx,
                "kelurahan",
                &desa.name,
                "add",
                who,
                now_ms,
                json!({"kecamatan": desa.kecamatan}),
            )?;
            Ok(Kelurahan {
                name: desa.name.clone(),
                kecamatan: desa.kecamatan.clone(),
                added_at: Timestamp(now_ms),
            })
        })
    }

    /// The served kelurahan of that name (exact spelling, any case).
    pub(super) fn served_kelurahan(tx: &mut dyn Tx, name: &str) -> Result<String, SalinmasError> {
        tx.query_opt(
            "SELECT name FROM salinmas_kelurahan WHERE lower(name) = $1",
            &[V::from(nocase(name.trim()))],
        )?
        .map(|r| r.text(0))
        .transpose()?
        .ok_or_else(|| {
            let shown: String = name.chars().filter(|c| !c.is_control()).take(80).collect();
            SalinmasError::invalid(
                "unknown_kelurahan",
                format!("Salinmas does not serve kelurahan '{shown}' (GET /api/salinmas/kelurahan lists them)"),
                format!("Salinmas tidak melayani kelurahan '{shown}' (lihat GET /api/salinmas/kelurahan)"),
            )
        })
    }
}

/// `s` as compared case-insensitively: ASCII letters lowered, as SQLite's
/// `NOCASE` and its `lower()` do (and PostgreSQL's `lower()` over the
/// `COLLATE "C"` columns it is compared with). Compare `lower(column) = $n`
/// with this as `$n`.
pub(super) fn nocase(s: &str) -> String {
    s.to_ascii_lowercase()
}
