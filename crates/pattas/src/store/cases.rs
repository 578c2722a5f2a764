//! Cases: reporting one, the state machine (verify, reject, start assistance,
//! close) with its deadlines, one case with everything recorded on it, the
//! lists and the overdue list.

use satria_auth::Principal;
use satria_sql::{End, Row, Tx, V};
use serde_json::{Value, json};

use super::assistance::{A_COLS, assistance_row};
use super::history::history;
use super::transports::{T_COLS, transport_row};
use super::{
    Pattas, bytewise, invalid_transition, json_col, mitra_of, opt_ts_col, page, parse_need, ts_col,
};
use crate::PattasError;
use crate::model::*;
use crate::valid;

pub(super) const C_COLS: &str =
    "c.id, c.beneficiary_id, b.name, b.desa, b.kecamatan, c.needs, c.description,
    c.reported_via, c.status, c.reported_by, c.reported_by_role, c.reported_at_ms, c.verify_due_ms,
    c.verified_at_ms, c.verified_by, c.assistance_due_ms, c.assistance_started_at_ms,
    c.closed_at_ms, c.closed_by, c.closing_summary, c.rejected_at_ms, c.rejected_by,
    c.rejection_reason, c.updated_at_ms";

pub(super) fn case_row(row: &Row) -> Result<Case, PattasError> {
    Ok(Case {
        id: row.i64(0)?,
        beneficiary_id: row.i64(1)?,
        beneficiary_name: row.text(2)?,
        desa: row.text(3)?,
        kecamatan: row.text(4)?,
        needs: json_col(row, 5)?,
        description: row.text(6)?,
        reported_via: row.opt_text(7)?,
        status: row.text(8)?,
        reported_by: row.text(9)?,
        reported_by_role: row.text(10)?,
        reported_at: ts_col(row, 11)?,
        verify_due_at: ts_col(row, 12)?,
        verified_at: opt_ts_col(row, 13)?,
        verified_by: row.opt_text(14)?,
        assistance_due_at: opt_ts_col(row, 15)?,
        assistance_started_at: opt_ts_col(row, 16)?,
        closed_at: opt_ts_col(row, 17)?,
        closed_by: row.opt_text(18)?,
        closing_summary: row.opt_text(19)?,
        rejected_at: opt_ts_col(row, 20)?,
        rejected_by: row.opt_text(21)?,
        rejection_reason: row.opt_text(22)?,
        updated_at: ts_col(row, 23)?,
        overdue: None,
    })
}

fn parse_status(v: &str) -> Result<&'static str, PattasError> {
    STATUSES
        .iter()
        .find(|s| **s == v.trim())
        .copied()
        .ok_or_else(|| {
            PattasError::invalid(
                "invalid_status",
                format!("status must be one of {}", STATUSES.join(", ")),
                format!("status harus salah satu dari {}", STATUSES.join(", ")),
            )
        })
}

fn note(v: Option<String>) -> Result<Option<String>, PattasError> {
    match v {
        None => Ok(None),
        Some(s) => {
            let t = valid::optional_text("note", &s, limits::NOTES)?;
            Ok((!t.is_empty()).then_some(t))
        }
    }
}

impl Pattas {
    pub(super) fn case_in(tx: &mut dyn Tx, who: &Principal, id: i64) -> Result<Case, PattasError> {
        let case = tx
            .query_opt(
                &format!(
                    "SELECT {C_COLS} FROM pattas_cases c
                     JOIN pattas_beneficiaries b ON b.id = c.beneficiary_id WHERE c.id = $1"
                ),
                &[V::from(id)],
            )?
            .map(|r| case_row(&r))
            .transpose()?;
        match case {
            Some(c) if mitra_of(who).is_none_or(|m| m == c.reported_by) => Ok(c),
            _ => Err(PattasError::NotFound("case", "kasus")),
        }
    }

    /// Reports a case (mitra or officer).
    pub fn report_case(
        &self,
        who: &Principal,
        input: NewCase,
        now_ms: i64,
    ) -> Result<Case, PattasError> {
        let description = valid::text("description", &input.description, limits::DESCRIPTION)?;
        let reported_via = match input.reported_via.as_deref() {
            None => None,
            Some(v) => {
                let v = valid::optional_text("reported_via", v, limits::REPORTED_VIA)?;
                (!v.is_empty()).then_some(v)
            }
        };
        let mut needs: Vec<String> = Vec::new();
        for n in &input.needs {
            let n = parse_need("needs[]", n)?;
            if !needs.contains(&n) {
                needs.push(n);
            }
        }
        if needs.is_empty() {
            return Err(PattasError::invalid(
                "invalid_need",
                format!("needs must name at least one of {}", NEEDS.join(", ")),
                format!(
                    "needs harus berisi paling sedikit satu dari {}",
                    NEEDS.join(", ")
                ),
            ));
        }
        needs.sort_by_key(|n| NEEDS.iter().position(|x| x == n));
        let needs_json = serde_json::to_string(&needs)?;
        let mut case = self.db.write(End::Commit, |tx| {
            let beneficiary_id = match (input.beneficiary_id, input.nik.as_deref()) {
                (Some(id), None) => {
                    if !Self::visible_beneficiary(tx, who, id)? {
                        return Err(unknown_beneficiary());
                    }
                    match Self::beneficiary_in(tx, id) {
                        Err(PattasError::NotFound(..)) => return Err(unknown_beneficiary()),
                        other => other?.id,
                    }
                }
                (None, Some(nik)) => {
                    let nik = nik.trim();
                    valid::nik_form(nik)?;
                    tx.query_opt(
                        "SELECT id FROM pattas_beneficiaries WHERE nik = $1",
                        &[V::from(nik)],
                    )?
                    .ok_or_else(unknown_beneficiary)?
                    .i64(0)?
                }
                _ => {
                    return Err(PattasError::invalid(
                        "invalid_beneficiary",
                        "give exactly one of beneficiary_id and nik",
                        "isi tepat satu dari beneficiary_id dan nik",
                    ));
                }
            };
            let open = tx.query_opt(
                "SELECT id FROM pattas_cases WHERE beneficiary_id = $1
                   AND status IN ('reported', 'verified', 'in_assistance')",
                &[V::from(beneficiary_id)],
            )?;
            if let Some(open) = open {
                let open = open.i64(0)?;
                return Err(PattasError::conflict(
                    "open_case_exists",
                    format!(
                        "this beneficiary already has an open case ({open}); add to it instead of reporting another"
                    ),
                    format!(
                        "penerima manfaat ini sudah punya kasus yang masih berjalan ({open}); tambahkan ke kasus itu"
                    ),
                ));
            }
            let verify_due = now_ms.saturating_add(self.config.verify_within_ms);
            let id = tx
                .query_one(
                    "INSERT INTO pattas_cases (beneficiary_id, needs, description, reported_via,
                        status, reported_by, reported_by_role, reported_at_ms, verify_due_ms,
                        updated_at_ms)
                     VALUES ($1, $2, $3, $4, 'reported', $5, $6, $7, $8, $7)
                     RETURNING id",
                    &[
                        V::from(beneficiary_id),
                        V::from(&needs_json),
                        V::from(&description),
                        V::from(&reported_via),
                        V::from(&who.username),
                        V::from(who.role.as_str()),
                        V::from(now_ms),
                        V::from(verify_due),
                    ],
                )?
                .i64(0)?;
            history(
                tx,
                "case",
                id,
                "reported",
                who,
                now_ms,
                json!({"beneficiary_id": beneficiary_id, "needs": needs, "verify_due_ms": verify_due}),
            )?;
            Self::case_in(tx, who, id)
        })?;
        case.overdue = case.overdue_at(now_ms);
        Ok(case)
    }

    /// `reported → verified`; fixes the first-assistance deadline.
    pub fn verify_case(
        &self,
        who: &Principal,
        id: i64,
        note_text: Option<String>,
        now_ms: i64,
    ) -> Result<Case, PattasError> {
        let note_text = note(note_text)?;
        self.transition(who, id, now_ms, |tx, case| {
            if case.status != "reported" {
                return Err(invalid_transition(case, "verify", "reported"));
            }
            let due = now_ms.saturating_add(self.config.first_assistance_within_ms);
            tx.execute(
                "UPDATE pattas_cases SET status = 'verified', verified_at_ms = $2, verified_by = $3,
                    assistance_due_ms = $4, updated_at_ms = $2 WHERE id = $1",
                &[
                    V::from(id),
                    V::from(now_ms),
                    V::from(&who.username),
                    V::from(due),
                ],
            )?;
            Ok((
                "verified",
                json!({"note": note_text, "assistance_due_ms": due}),
            ))
        })
    }

    /// `reported → rejected`, with a reason.
    pub fn reject_case(
        &self,
        who: &Principal,
        id: i64,
        reason: &str,
        now_ms: i64,
    ) -> Result<Case, PattasError> {
        let reason = valid::text("reason", reason, limits::REASON)?;
        self.transition(who, id, now_ms, |tx, case| {
            if case.status != "reported" {
                return Err(invalid_transition(case, "reject", "reported"));
            }
            tx.execute(
                "UPDATE pattas_cases SET status = 'rejected', rejected_at_ms = $2, rejected_by = $3,
                    rejection_reason = $4, updated_at_ms = $2 WHERE id = $1",
                &[
                    V::from(id),
                    V::from(now_ms),
                    V::from(&who.username),
                    V::from(&reason),
                ],
            )?;
            Ok(("rejected", json!({"reason": reason})))
        })
    }

    /// `verified → in_assistance`: the first assistance has started.
    pub fn start_assistance(
        &self,
        who: &Principal,
        id: i64,
        note_text: Option<String>,
        now_ms: i64,
    ) -> Result<Case, PattasError> {
        let note_text = note(note_text)?;
        self.transition(who, id, now_ms, |tx, case| {
            if case.status != "verified" {
                return Err(invalid_transition(case, "assist", "verified"));
            }
            Self::begin_assistance(tx, id, now_ms)?;
            Ok(("assistance_started", json!({"note": note_text})))
        })
    }

    pub(super) fn begin_assistance(
        tx: &mut dyn Tx,
        id: i64,
        now_ms: i64,
    ) -> Result<(), PattasError> {
        tx.execute(
            "UPDATE pattas_cases SET status = 'in_assistance', assistance_started_at_ms = $2,
                updated_at_ms = $2 WHERE id = $1",
            &[V::from(id), V::from(now_ms)],
        )?;
        Ok(())
    }

    /// `in_assistance → closed` (tuntas), with a closing summary.
    pub fn close_case(
        &self,
        who: &Principal,
        id: i64,
        summary: &str,
        now_ms: i64,
    ) -> Result<Case, PattasError> {
        let summary = valid::text("summary", summary, limits::SUMMARY)?;
        self.transition(who, id, now_ms, |tx, case| {
            if case.status != "in_assistance" {
                return Err(invalid_transition(case, "close", "in_assistance"));
            }
            tx.execute(
                "UPDATE pattas_cases SET status = 'closed', closed_at_ms = $2, closed_by = $3,
                    closing_summary = $4, updated_at_ms = $2 WHERE id = $1",
                &[
                    V::from(id),
                    V::from(now_ms),
                    V::from(&who.username),
                    V::from(&summary),
                ],
            )?;
            Ok(("closed", json!({"summary": summary})))
        })
    }

    /// Runs one change of a case in a transaction with its history row.
    fn transition(
        &self,
        who: &Principal,
        id: i64,
        now_ms: i64,
        change: impl FnOnce(&mut dyn Tx, &Case) -> Result<(&'static str, Value), PattasError>,
    ) -> Result<Case, PattasError> {
        let mut case = self.db.write(End::Commit, |tx| {
            let case = Self::case_in(tx, who, id)?;
            let (action, mut details) = change(tx, &case)?;
            if let Value::Object(m) = &mut details {
                m.insert("from".into(), json!(case.status));
            }
            history(tx, "case", id, action, who, now_ms, details)?;
            Self::case_in(tx, who, id)
        })?;
        case.overdue = case.overdue_at(now_ms);
        Ok(case)
    }

    /// One case the caller may see, with its beneficiary, assistance,
    /// transports (without live status) and history.
    pub fn case(&self, who: &Principal, id: i64, now_ms: i64) -> Result<CaseDetail, PattasError> {
        self.db.read(|tx| {
            let mut case = Self::case_in(tx, who, id)?;
            case.overdue = case.overdue_at(now_ms);
            let beneficiary = Self::beneficiary_in(tx, case.beneficiary_id)?;
            let assistance = tx
                .query(
                    &format!(
                        "SELECT {A_COLS} FROM pattas_assistance WHERE case_id = $1
                         ORDER BY date, id"
                    ),
                    &[V::from(id)],
                )?
                .iter()
                .map(assistance_row)
                .collect::<Result<_, _>>()?;
            let transports = tx
                .query(
                    &format!(
                        "SELECT {T_COLS} FROM pattas_transports WHERE case_id = $1
                         ORDER BY scheduled_for_ms, {}",
                        bytewise(tx, "transport_id")
                    ),
                    &[V::from(id)],
                )?
                .iter()
                .map(transport_row)
                .collect::<Result<_, _>>()?;
            let history = Self::history_of(tx, "case", id)?;
            Ok(CaseDetail {
                case,
                beneficiary,
                assistance,
                transports,
                history,
            })
        })
    }

    /// The cases the caller may see, newest first.
    pub fn list_cases(
        &self,
        who: &Principal,
        q: &CaseQuery,
        now_ms: i64,
    ) -> Result<Vec<Case>, PattasError> {
        let (limit, offset) = page(q.limit, q.offset)?;
        let mut sql = format!(
            "SELECT {C_COLS} FROM pattas_cases c JOIN pattas_beneficiaries b ON b.id = c.beneficiary_id
             WHERE 1 = 1"
        );
        let mut args: Vec<V> = Vec::new();
        if let Some(m) = mitra_of(who) {
            args.push(V::from(m));
            sql.push_str(&format!(" AND c.reported_by = ${}", args.len()));
        }
        if let Some(s) = &q.status {
            args.push(V::from(parse_status(s)?));
            sql.push_str(&format!(" AND c.status = ${}", args.len()));
        }
        if let Some(d) = &q.desa {
            args.push(V::from(valid::text("desa", d, limits::DESA)?));
            sql.push_str(&format!(" AND lower(b.desa) = lower(${})", args.len()));
        }
        if let Some(b) = q.beneficiary_id {
            args.push(V::from(b));
            sql.push_str(&format!(" AND c.beneficiary_id = ${}", args.len()));
        }
        args.push(V::from(limit));
        args.push(V::from(offset));
        sql.push_str(&format!(
            " ORDER BY c.reported_at_ms DESC, c.id DESC LIMIT ${} OFFSET ${}",
            args.len() - 1,
            args.len()
        ));
        let rows = self.db.read(|tx| tx.query(&sql, &args))?;
        let mut out: Vec<Case> = rows.iter().map(case_row).collect::<Result<_, _>>()?;
        for c in &mut out {
            c.overdue = c.overdue_at(now_ms);
        }
        Ok(out)
    }

    /// The cases the caller may see that are past a due step at `now_ms`,
    /// most overdue first.
    pub fn overdue_cases(&self, who: &Principal, now_ms: i64) -> Result<Vec<Case>, PattasError> {
        let mut sql = format!(
            "SELECT {C_COLS} FROM pattas_cases c JOIN pattas_beneficiaries b ON b.id = c.beneficiary_id
             WHERE ((c.status = 'reported' AND c.verify_due_ms < $1)
                 OR (c.status = 'verified' AND c.assistance_due_ms < $1))"
        );
        let mut args = vec![V::from(now_ms)];
        if let Some(m) = mitra_of(who) {
            args.push(V::from(m));
            sql.push_str(" AND c.reported_by = $2");
        }
        let rows = self.db.read(|tx| tx.query(&sql, &args))?;
        let mut out: Vec<Case> = rows.iter().map(case_row).collect::<Result<_, _>>()?;
        for c in &mut out {
            c.overdue = c.overdue_at(now_ms);
        }
        out.retain(|c| c.overdue.is_some());
        out.sort_by_key(|c| (c.overdue.as_ref().map(|o| -o.late_by_ms), c.id));
        Ok(out)
    }
}

/// A case names a beneficiary (by id or NIK) that does not exist, or that the
/// caller may not see (a mitra learns nothing more): 422, the body's reference.
fn unknown_beneficiary() -> PattasError {
    PattasError::invalid(
        "unknown_beneficiary",
        "no such beneficiary: register the beneficiary first",
        "penerima manfaat tidak ditemukan: daftarkan penerima manfaat dahulu",
    )
}
