//! Free ambulance transports of a case: checking a booking and building the
//! desk's request, storing what the desk booked, reading and cancelling.

use satria_auth::Principal;
use satria_sql::{End, Row, Tx, V};
use serde_json::json;

use super::history::history;
use super::{Pattas, invalid_transition, opt_ts_col, ts_col};
use crate::PattasError;
use crate::desk::{TransportRequest, TransportTicket};
use crate::model::*;
use crate::valid;

pub(super) const T_COLS: &str =
    "transport_id, case_id, scheduled_for_ms, purpose, notes, pickup_lat,
    pickup_lon, pickup_address, destination_hospital_id, destination_name, destination_lat,
    destination_lon, booked_by, booked_at_ms, cancelled_at_ms, cancelled_by, cancel_reason";

pub(super) fn transport_row(row: &Row) -> Result<Transport, PattasError> {
    let cancelled_at = opt_ts_col(row, 14)?;
    Ok(Transport {
        transport_id: row.text(0)?,
        case_id: row.i64(1)?,
        scheduled_for: ts_col(row, 2)?,
        purpose: row.text(3)?,
        notes: row.text(4)?,
        pickup: Pickup {
            lat: row.f64(5)?,
            lon: row.f64(6)?,
            address: row.text(7)?,
        },
        destination: Destination {
            hospital_id: row.opt_text(8)?,
            name: row.text(9)?,
            lat: row.f64(10)?,
            lon: row.f64(11)?,
        },
        booked_by: row.text(12)?,
        booked_at: ts_col(row, 13)?,
        cancelled_at,
        cancelled_by: row.opt_text(15)?,
        cancel_reason: row.opt_text(16)?,
        state: if cancelled_at.is_some() {
            "cancelled".into()
        } else {
            "booked".into()
        },
        live: None,
    })
}

impl Pattas {
    /// Checks a transport booking and builds the desk's request (and names
    /// the beneficiary whose data it carries). The case must be verified or
    /// in assistance.
    pub fn transport_request(
        &self,
        who: &Principal,
        case_id: i64,
        input: NewTransport,
        now_ms: i64,
    ) -> Result<(TransportRequest, i64), PattasError> {
        let address = valid::text("pickup.address", &input.pickup.address, limits::ADDRESS)?;
        valid::banyumas_latlon("pickup", input.pickup.lat, input.pickup.lon)?;
        let destination_name =
            valid::text("destination.name", &input.destination.name, limits::NAME)?;
        valid::banyumas_latlon("destination", input.destination.lat, input.destination.lon)?;
        let hospital_id = match input.destination.hospital_id.as_deref() {
            None => None,
            Some(h) => {
                let h = valid::optional_text("destination.hospital_id", h, limits::HOSPITAL_ID)?;
                (!h.is_empty()).then_some(h)
            }
        };
        let scheduled = valid::client_time(&input.scheduled_for).ok_or_else(|| {
            PattasError::invalid(
                "invalid_time",
                "scheduled_for must be a time like 2026-12-01T08:00:00+07:00 (no offset = WIB) or integer ms since the epoch",
                "scheduled_for harus waktu seperti 2026-12-01T08:00:00+07:00 (tanpa zona = WIB) atau milidetik sejak epoch",
            )
        })?;
        if scheduled.ms() <= now_ms
            || scheduled.ms() > now_ms.saturating_add(limits::TRANSPORT_AHEAD_MS)
        {
            return Err(PattasError::invalid(
                "invalid_time",
                "scheduled_for must be in the future and within 30 days",
                "scheduled_for harus di masa depan dan paling lama 30 hari lagi",
            ));
        }
        let purpose = valid::text("purpose", &input.purpose, limits::PURPOSE)?;
        let notes =
            valid::optional_text("notes", input.notes.as_deref().unwrap_or(""), limits::NOTES)?;
        let b = self.db.read(|tx| {
            let case = Self::case_in(tx, who, case_id)?;
            if case.status != "verified" && case.status != "in_assistance" {
                return Err(invalid_transition(
                    &case,
                    "booking transport",
                    "verified or in_assistance",
                ));
            }
            Self::beneficiary_in(tx, case.beneficiary_id)
        })?;
        let beneficiary_id = b.id;
        let req = TransportRequest {
            case_id,
            patient_name: b.name,
            patient_phone: b.phone.or(b.family_contact.map(|f| f.phone)),
            pickup_lat: input.pickup.lat,
            pickup_lon: input.pickup.lon,
            pickup_address: address,
            destination_hospital_id: hospital_id,
            destination_name,
            destination_lat: input.destination.lat,
            destination_lon: input.destination.lon,
            scheduled_for: scheduled,
            purpose,
            notes,
        };
        Ok((req, beneficiary_id))
    }

    /// Stores a transport the desk booked. Refuses (and the caller cancels the
    /// booking) if the case left the states that may book meanwhile.
    pub fn record_transport(
        &self,
        who: &Principal,
        req: &TransportRequest,
        ticket: &TransportTicket,
        now_ms: i64,
    ) -> Result<Transport, PattasError> {
        self.db.write(End::Commit, |tx| {
            let case = Self::case_in(tx, who, req.case_id)?;
            if case.status != "verified" && case.status != "in_assistance" {
                return Err(invalid_transition(
                    &case,
                    "booking transport",
                    "verified or in_assistance",
                ));
            }
            let exists = tx.query_opt(
                "SELECT 1 FROM pattas_transports WHERE transport_id = $1",
                &[V::from(&ticket.transport_id)],
            )?;
            if exists.is_some() {
                return Err(PattasError::conflict(
                    "duplicate_transport",
                    "the transport desk returned an id already used",
                    "meja transportasi mengembalikan id yang sudah dipakai",
                ));
            }
            tx.execute(
                &format!(
                    "INSERT INTO pattas_transports ({T_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7,
                     $8, $9, $10, $11, $12, $13, $14, NULL, NULL, NULL)"
                ),
                &[
                    V::from(&ticket.transport_id),
                    V::from(req.case_id),
                    V::from(req.scheduled_for.ms()),
                    V::from(&req.purpose),
                    V::from(&req.notes),
                    V::from(req.pickup_lat),
                    V::from(req.pickup_lon),
                    V::from(&req.pickup_address),
                    V::from(&req.destination_hospital_id),
                    V::from(&req.destination_name),
                    V::from(req.destination_lat),
                    V::from(req.destination_lon),
                    V::from(&who.username),
                    V::from(now_ms),
                ],
            )?;
            history(
                tx,
                "case",
                req.case_id,
                "transport_booked",
                who,
                now_ms,
                json!({"transport_id": ticket.transport_id, "scheduled_for_ms": req.scheduled_for.ms(),
                       "purpose": req.purpose, "destination": req.destination_name}),
            )?;
            tx.execute(
                "UPDATE pattas_cases SET updated_at_ms = $2 WHERE id = $1",
                &[V::from(req.case_id), V::from(now_ms)],
            )?;
            Self::transport_in(tx, req.case_id, &ticket.transport_id)
        })
    }

    fn transport_in(tx: &mut dyn Tx, case_id: i64, tid: &str) -> Result<Transport, PattasError> {
        tx.query_opt(
            &format!(
                "SELECT {T_COLS} FROM pattas_transports WHERE case_id = $1 AND transport_id = $2"
            ),
            &[V::from(case_id), V::from(tid)],
        )?
        .map(|r| transport_row(&r))
        .transpose()?
        .ok_or(PattasError::NotFound("transport", "transportasi"))
    }

    /// A transport of a case the caller may see.
    pub fn transport(
        &self,
        who: &Principal,
        case_id: i64,
        tid: &str,
    ) -> Result<Transport, PattasError> {
        self.db.read(|tx| {
            Self::case_in(tx, who, case_id)?;
            Self::transport_in(tx, case_id, tid)
        })
    }

    /// Marks a transport cancelled (after the desk cancelled it).
    pub fn mark_transport_cancelled(
        &self,
        who: &Principal,
        case_id: i64,
        tid: &str,
        reason: &str,
        now_ms: i64,
    ) -> Result<Transport, PattasError> {
        let reason = valid::text("reason", reason, limits::REASON)?;
        self.db.write(End::Commit, |tx| {
            Self::case_in(tx, who, case_id)?;
            let t = Self::transport_in(tx, case_id, tid)?;
            if t.cancelled_at.is_some() {
                return Err(already_cancelled());
            }
            tx.execute(
                "UPDATE pattas_transports SET cancelled_at_ms = $3, cancelled_by = $4,
                    cancel_reason = $5
                 WHERE case_id = $1 AND transport_id = $2",
                &[
                    V::from(case_id),
                    V::from(tid),
                    V::from(now_ms),
                    V::from(&who.username),
                    V::from(&reason),
                ],
            )?;
            history(
                tx,
                "case",
                case_id,
                "transport_cancelled",
                who,
                now_ms,
                json!({"transport_id": tid, "reason": reason}),
            )?;
            Self::transport_in(tx, case_id, tid)
        })
    }
}

pub(crate) fn already_cancelled() -> PattasError {
    PattasError::conflict(
        "already_cancelled",
        "this transport is already cancelled",
        "transportasi ini sudah dibatalkan",
    )
}
