//! Assistance actions recorded on a case; the first one on a verified case
//! moves it to `in_assistance`.

use satria_auth::Principal;
use satria_sql::{End, Row, V};
use serde_json::json;

use super::history::history;
use super::{Pattas, invalid_transition, parse_need, ts_col};
use crate::PattasError;
use crate::model::*;
use crate::valid::{self, Date};

pub(super) const A_COLS: &str =
    "id, case_id, date, kind, amount_rp, notes, officer, recorded_at_ms";

pub(super) fn assistance_row(row: &Row) -> Result<Assistance, PattasError> {
    Ok(Assistance {
        id: row.i64(0)?,
        case_id: row.i64(1)?,
        date: row.text(2)?,
        kind: row.text(3)?,
        amount_rp: row.i64(4)?,
        notes: row.text(5)?,
        officer: row.text(6)?,
        recorded_at: ts_col(row, 7)?,
    })
}

impl Pattas {
    /// Records an assistance action (officer). The first one on a verified
    /// case moves it to `in_assistance`.
    pub fn add_assistance(
        &self,
        who: &Principal,
        id: i64,
        input: NewAssistance,
        now_ms: i64,
    ) -> Result<Assistance, PattasError> {
        let date = Date::parse(input.date.trim()).ok_or_else(|| {
            PattasError::invalid(
                "invalid_date",
                "date must be a date YYYY-MM-DD",
                "date harus tanggal YYYY-MM-DD",
            )
        })?;
        let kind = parse_need("kind", &input.kind)?;
        if input.amount_rp < 0 || input.amount_rp > limits::AMOUNT_RP {
            return Err(PattasError::invalid(
                "invalid_amount",
                format!(
                    "amount_rp must be whole rupiah from 0 to {}",
                    limits::AMOUNT_RP
                ),
                format!(
                    "amount_rp harus rupiah bulat dari 0 sampai {}",
                    limits::AMOUNT_RP
                ),
            ));
        }
        let notes =
            valid::optional_text("notes", input.notes.as_deref().unwrap_or(""), limits::NOTES)?;
        self.db.write(End::Commit, |tx| {
            let case = Self::case_in(tx, who, id)?;
            if case.status != "verified" && case.status != "in_assistance" {
                return Err(invalid_transition(
                    &case,
                    "recording assistance",
                    "verified or in_assistance",
                ));
            }
            let reported = Date::wib_of_ms(case.reported_at.ms());
            if date > Date::wib_of_ms(now_ms) || date < reported {
                return Err(PattasError::invalid(
                    "invalid_date",
                    format!(
                        "date must be between the day the case was reported ({reported}) and today"
                    ),
                    format!("date harus antara tanggal kasus dilaporkan ({reported}) dan hari ini"),
                ));
            }
            if case.status == "verified" {
                Self::begin_assistance(tx, id, now_ms)?;
                history(
                    tx,
                    "case",
                    id,
                    "assistance_started",
                    who,
                    now_ms,
                    json!({"from": "verified", "by": "first assistance action"}),
                )?;
            }
            let aid = tx
                .query_one(
                    "INSERT INTO pattas_assistance (case_id, date, kind, amount_rp, notes, officer,
                        recorded_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)
                     RETURNING id",
                    &[
                        V::from(id),
                        V::from(date.to_string()),
                        V::from(&kind),
                        V::from(input.amount_rp),
                        V::from(&notes),
                        V::from(&who.username),
                        V::from(now_ms),
                    ],
                )?
                .i64(0)?;
            history(
                tx,
                "case",
                id,
                "assistance_recorded",
                who,
                now_ms,
                json!({"assistance_id": aid, "date": date.to_string(), "kind": kind, "amount_rp": input.amount_rp}),
            )?;
            tx.execute(
                "UPDATE pattas_cases SET updated_at_ms = $2 WHERE id = $1",
                &[V::from(id), V::from(now_ms)],
            )?;
            assistance_row(&tx.query_one(
                &format!("SELECT {A_COLS} FROM pattas_assistance WHERE id = $1"),
                &[V::from(aid)],
            )?)
        })
    }
}
