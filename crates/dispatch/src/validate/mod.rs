//! Every check of a command's own values, in one place: `Dispatch::decide` calls
//! [`Dispatch::validate`](crate::Dispatch::validate) first, so a command gets the same
//! refusal whichever door it came through (HTTP, WebSocket, the drill, the modules'
//! bookings).
//!
//! The limits are constants here, and the OpenAPI schema is generated from the same
//! constants, so what the document promises is what the engine enforces.
//!
//! Checks that need the state beyond "does it exist" (is the unit free, is the
//! referral pending) stay with the decision in `state/`; a device time is checked
//! here against the assignment it answers, because that is a plausibility check of
//! the value, not a rule of the lifecycle.
//!
//! The parts: the limits and the checks of single values are here; `area.rs` is the
//! [`ServiceArea`]; `command.rs` is `Dispatch::validate`, command by command.

mod area;
mod command;
#[cfg(test)]
mod tests;

pub use area::ServiceArea;

use crate::ids::{HospitalId, LatLon, Timestamp, UnitId, valid_position};
use crate::incident::{Address, Category};
use crate::rejection::Rejection;

/// Most characters of an id (unit, hospital, client id, username).
pub const MAX_ID: usize = 64;
/// Most characters of free text without a tighter limit (findings, history, ...).
pub const MAX_TEXT: usize = 2000;
/// Most characters of an incident's notes (the engine's and the API's one limit).
pub const MAX_NOTES: usize = 2000;
/// Most characters of a person's name (caller, patient, officer) or a place's.
pub const MAX_NAME: usize = 200;
/// Most characters of a phone number.
pub const MAX_PHONE: usize = 40;
/// Most characters of each part of an address.
pub const MAX_ADDRESS_PART: usize = 500;
/// Most characters of a reason or an outcome.
pub const MAX_REASON: usize = 1000;
/// Most characters of a call sign.
pub const MAX_CALL_SIGN: usize = 64;
/// Most capabilities of a unit, and characters of each.
pub const MAX_CAPABILITIES: usize = 20;
/// Patients of one incident: at least one (an information call may have none) ...
pub const MIN_PATIENTS: u32 = 1;
/// ... and at most this many (beyond: a mass-casualty incident).
pub const MAX_PATIENTS: u32 = 500;
/// Most free beds a hospital may report.
pub const MAX_BEDS: u32 = 10_000;
/// Most units one assignment names.
pub const MAX_ASSIGN_UNITS: usize = 20;
/// The margin around the region's box, by default (10 km).
pub const DEFAULT_SERVICE_MARGIN_M: f64 = 10_000.0;

pub(crate) fn invalid(field: &str, why: &str, why_id: &str) -> Rejection {
    Rejection::InvalidField {
        field: field.into(),
        why: why.into(),
        why_id: why_id.into(),
    }
}

/// At most `max` characters.
pub fn text(field: &str, v: &str, max: usize) -> Result<(), Rejection> {
    if v.chars().count() > max {
        return Err(invalid(
            field,
            &format!("longer than {max} characters"),
            &format!("lebih dari {max} karakter"),
        ));
    }
    Ok(())
}

/// Not blank, at most `max` characters.
pub fn required(field: &str, v: &str, max: usize) -> Result<(), Rejection> {
    text(field, v, max)?;
    if v.trim().is_empty() {
        return Err(invalid(field, "is required", "wajib diisi"));
    }
    Ok(())
}

/// An id: 1 to [`MAX_ID`] characters, no control characters. Shared with the server for client ids and usernames.
pub fn id(field: &str, v: &str) -> Result<(), Rejection> {
    let n = v.chars().count();
    if n == 0 || n > MAX_ID {
        return Err(invalid(
            field,
            &format!("must be 1 to {MAX_ID} characters"),
            &format!("harus 1 sampai {MAX_ID} karakter"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(invalid(
            field,
            "must not contain control characters",
            "tidak boleh berisi karakter kontrol",
        ));
    }
    Ok(())
}

fn unit_id(field: &str, u: &UnitId) -> Result<(), Rejection> {
    id(field, &u.0)
}

fn hospital_id(field: &str, h: &HospitalId) -> Result<(), Rejection> {
    id(field, &h.0)
}

/// A device (phone) time: not negative, not later than `now` plus the clock skew,
/// and, when it answers something the server sent at `earliest`, not before that
/// minus the skew.
pub fn device_time(
    device_at: Option<Timestamp>,
    now: Timestamp,
    skew_s: u32,
    earliest: Option<Timestamp>,
) -> Result<(), Rejection> {
    let Some(t) = device_at else {
        return Ok(());
    };
    let latest = now.plus_s(skew_s);
    if t > latest {
        return Err(Rejection::DeviceTimeInFuture {
            device_at: t,
            latest,
        });
    }
    let earliest = earliest
        .map(|e| Timestamp(e.0.saturating_sub(i64::from(skew_s) * 1000).max(0)))
        .unwrap_or(Timestamp(0));
    if t < earliest {
        return Err(Rejection::DeviceTimeTooEarly {
            device_at: t,
            earliest,
        });
    }
    Ok(())
}

/// A real latitude/longitude (finite, in range). Whether it lies in the service
/// area is [`Dispatch::check_position`](crate::Dispatch::check_position)'s question.
pub fn position(p: LatLon) -> Result<(), Rejection> {
    if valid_position(p) {
        Ok(())
    } else {
        Err(Rejection::InvalidPosition {
            lat: p.lat,
            lon: p.lon,
        })
    }
}

/// Each part within its limit and, when `needed`, at least one part given.
fn check_address(a: &Address, needed: bool) -> Result<(), Rejection> {
    for (f, v) in [
        ("address.desa", &a.desa),
        ("address.rt_rw", &a.rt_rw),
        ("address.landmark", &a.landmark),
        ("address.text", &a.text),
    ] {
        text(f, v, MAX_ADDRESS_PART)?;
    }
    if needed
        && [&a.desa, &a.rt_rw, &a.landmark, &a.text]
            .iter()
            .all(|v| v.trim().is_empty())
    {
        return Err(invalid(
            "address",
            "is required (the desa, a landmark or the address as words)",
            "wajib diisi (desa, patokan atau alamat)",
        ));
    }
    Ok(())
}

fn check_patients(p: u32, category: Category) -> Result<(), Rejection> {
    if p < MIN_PATIENTS && category != Category::Information {
        return Err(invalid(
            "patients",
            "at least 1 patient (only an information call has none)",
            "paling sedikit 1 pasien (hanya panggilan informasi tanpa pasien)",
        ));
    }
    if p > MAX_PATIENTS {
        return Err(invalid(
            "patients",
            &format!("more than {MAX_PATIENTS} patients: declare a mass-casualty incident instead"),
            &format!("lebih dari {MAX_PATIENTS} pasien: nyatakan kejadian korban massal"),
        ));
    }
    Ok(())
}
