//! Checks of client values and the dates they name (civil-date arithmetic,
//! WIB and the parser of client times from `satria-calendar`).

use crate::PattasError;
pub use satria_calendar::{DAY_MS, civil_from_days, days_from_civil, days_in_month};
use satria_calendar::{Timestamp, digits, parse_ymd, wib_day, wib_midnight_ms};

/// A calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub y: i64,
    pub m: u32,
    pub d: u32,
}

impl Date {
    /// `YYYY-MM-DD`, a real date.
    pub fn parse(s: &str) -> Option<Date> {
        let (y, m, d) = parse_ymd(s)?;
        Some(Date { y, m, d })
    }

    pub fn days(self) -> i64 {
        days_from_civil(self.y, self.m, self.d)
    }

    /// The WIB date at `ms` since the epoch.
    pub fn wib_of_ms(ms: i64) -> Date {
        let (y, m, d) = civil_from_days(wib_day(ms));
        Date { y, m, d }
    }

    /// Milliseconds of 00:00 WIB on this date.
    pub fn wib_start_ms(self) -> i64 {
        wib_midnight_ms(self.days())
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.y, self.m, self.d)
    }
}

/// A time as the client may send it: integer milliseconds since the epoch, or
/// a string [`Timestamp::parse_local`] reads (`YYYY-MM-DD[T| ]HH:MM[:SS[.f]]`
/// with an optional offset `Z`/`±HH:MM`/`±HHMM`/`±HH`; no offset = WIB).
pub fn client_time(v: &serde_json::Value) -> Option<Timestamp> {
    match v {
        serde_json::Value::Number(n) => n.as_i64().map(Timestamp),
        serde_json::Value::String(s) => Timestamp::parse_local(s),
        _ => None,
    }
}

/// What an NIK's form says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NikForm {
    /// Day of birth (the raw digits minus 40 for a woman).
    pub day: u32,
    pub month: u32,
    /// Two-digit year of birth.
    pub yy: u32,
    pub female: bool,
    /// The first four digits are 3302: registered in Kabupaten Banyumas.
    pub banyumas: bool,
}

/// Checks the form of a Nomor Induk Kependudukan: 16 digits; digits 1–6 a
/// region code (province 11–99, not zero); 7–12 the birth date DDMMYY with 40
/// added to DD for a woman, a date that exists in 19YY or 20YY; 13–16 a
/// serial that is not 0000.
pub fn nik_form(nik: &str) -> Result<NikForm, PattasError> {
    let bad = |why_en: &str, why_id: &str| {
        PattasError::invalid(
            "invalid_nik",
            format!("the NIK is not valid: {why_en}"),
            format!("NIK tidak valid: {why_id}"),
        )
    };
    if nik.len() != 16 || !nik.bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad("it must be exactly 16 digits", "harus tepat 16 angka"));
    }
    let province: u32 = nik[0..2].parse().unwrap_or(0);
    if province < 11 || &nik[2..4] == "00" || &nik[4..6] == "00" {
        return Err(bad(
            "the first six digits are not a region code",
            "enam angka pertama bukan kode wilayah",
        ));
    }
    let raw_day: u32 = nik[6..8].parse().unwrap_or(0);
    let month: u32 = nik[8..10].parse().unwrap_or(0);
    let yy: u32 = nik[10..12].parse().unwrap_or(0);
    let (day, female) = if raw_day > 40 {
        (raw_day - 40, true)
    } else {
        (raw_day, false)
    };
    let exists = |century: i64| {
        let y = century + i64::from(yy);
        (1..=12).contains(&month) && day >= 1 && day <= days_in_month(y, month)
    };
    if !(exists(1900) || exists(2000)) {
        return Err(bad(
            "digits 7-12 are not a birth date DDMMYY (DD + 40 for a woman)",
            "angka ke-7 sampai ke-12 bukan tanggal lahir DDMMYY (DD + 40 untuk perempuan)",
        ));
    }
    if &nik[12..16] == "0000" {
        return Err(bad(
            "the last four digits (serial) cannot be 0000",
            "empat angka terakhir (nomor urut) tidak boleh 0000",
        ));
    }
    Ok(NikForm {
        day,
        month,
        yy,
        female,
        banyumas: &nik[0..4] == "3302",
    })
}

/// A trimmed text of 1..=max characters without control characters.
pub fn text(field: &str, v: &str, max: usize) -> Result<String, PattasError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(PattasError::invalid(
            "invalid_field",
            format!("{field} must not be empty"),
            format!("{field} wajib diisi"),
        ));
    }
    optional_text(field, t, max)
}

/// A trimmed text of 0..=max characters without control characters (other
/// than line breaks and tabs).
pub fn optional_text(field: &str, v: &str, max: usize) -> Result<String, PattasError> {
    let t = v.trim();
    if t.chars().count() > max {
        return Err(PattasError::invalid(
            "invalid_field",
            format!("{field} is longer than {max} characters"),
            format!("{field} lebih dari {max} karakter"),
        ));
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(PattasError::invalid(
            "invalid_field",
            format!("{field} contains control characters"),
            format!("{field} berisi karakter kontrol"),
        ));
    }
    Ok(t.to_string())
}

/// An Indonesian phone number: `08…` or `+628…` (also `628…`), 10–15 digits;
/// spaces and hyphens are dropped; otherwise kept as written, so officers
/// recognise it.
pub fn phone(field: &str, v: &str) -> Result<String, PattasError> {
    let cleaned: String = v
        .trim()
        .chars()
        .filter(|c| *c != ' ' && *c != '-')
        .collect();
    let digits_part = cleaned.strip_prefix('+').unwrap_or(&cleaned);
    let ok_prefix = (cleaned.starts_with("08") || cleaned.starts_with("+628"))
        || (!cleaned.starts_with('+') && cleaned.starts_with("628"));
    let n = digits_part.len();
    if !ok_prefix || !digits_part.bytes().all(|c| c.is_ascii_digit()) || !(10..=15).contains(&n) {
        return Err(PattasError::invalid(
            "invalid_phone",
            format!("{field} must be an Indonesian mobile number: 08… or +628…, 10 to 15 digits"),
            format!("{field} harus nomor seluler Indonesia: 08… atau +628…, 10 sampai 15 angka"),
        ));
    }
    Ok(cleaned)
}

/// RT or RW: 1–3 digits, 1..=999, stored as three digits ("003").
pub fn rt_rw(field: &str, v: &str) -> Result<String, PattasError> {
    let t = v.trim();
    match digits::<u32>(t) {
        Some(n) if t.len() <= 3 && (1..=999).contains(&n) => Ok(format!("{n:03}")),
        _ => Err(PattasError::invalid(
            "invalid_field",
            format!("{field} must be a number from 1 to 999"),
            format!("{field} harus angka 1 sampai 999"),
        )),
    }
}

/// A position in and around Kabupaten Banyumas, where the fleet drives.
pub fn banyumas_latlon(field: &str, lat: f64, lon: f64) -> Result<(), PattasError> {
    const LAT: (f64, f64) = (-7.85, -7.05);
    const LON: (f64, f64) = (108.70, 109.65);
    if lat.is_finite()
        && lon.is_finite()
        && (LAT.0..=LAT.1).contains(&lat)
        && (LON.0..=LON.1).contains(&lon)
    {
        Ok(())
    } else {
        Err(PattasError::invalid(
            "invalid_position",
            format!(
                "{field} must be a position in or near Kabupaten Banyumas (lat {}..{}, lon {}..{})",
                LAT.0, LAT.1, LON.0, LON.1
            ),
            format!(
                "{field} harus lokasi di dalam atau dekat Kabupaten Banyumas (lat {}..{}, lon {}..{})",
                LAT.0, LAT.1, LON.0, LON.1
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_strictly_and_know_their_wib_day() {
        // Day-number arithmetic itself is tested in satria-calendar.
        let d = Date::parse("2024-02-29").unwrap();
        assert_eq!(d.to_string(), "2024-02-29");
        assert_eq!(Date::wib_of_ms(d.wib_start_ms()), d);
        assert_eq!(
            Date::wib_of_ms(d.wib_start_ms() - 1),
            Date::parse("2024-02-28").unwrap()
        );
        assert!(Date::parse("2023-02-29").is_none());
        assert!(Date::parse("2023-13-01").is_none());
        assert!(Date::parse("2023-1-01").is_none());
        assert!(Date::parse("２０２３-01-01").is_none());
    }

    #[test]
    fn client_times_are_ms_or_a_local_time() {
        // The string forms themselves are tested in satria-calendar; these are
        // the cases Pattas has always accepted or refused for scheduled_for.
        let t = Timestamp(days_from_civil(2026, 12, 1) * DAY_MS + 3_600_000); // 01:00Z
        let at = |s: &str| client_time(&serde_json::json!(s));
        assert_eq!(at("2026-12-01T01:00:00Z"), Some(t));
        assert_eq!(at("2026-12-01T08:00:00+07:00"), Some(t));
        assert_eq!(at("2026-12-01T08:00+0700"), Some(t));
        assert_eq!(at("2026-12-01T08:00"), Some(t));
        assert_eq!(at("2026-12-01 08:00"), Some(t));
        assert_eq!(at("2026-12-01T01:00:00.250Z"), Some(t.plus_ms(250)));
        assert_eq!(at("2026-12-01T01:00:00.25Z"), Some(t.plus_ms(250)));
        assert_eq!(at("2026-11-30T20:00:00-05:00"), Some(t));
        // Any offset up to ±23:59 (Pattas' own parser stopped at ±14:59).
        assert_eq!(at("2026-12-01T16:00+15:00"), Some(t));
        for bad in [
            "2026-12-01",
            "2026-12-01T25:00Z",
            "2026-12-01T01:00:00+99:00",
            "2026-12-01X01:00Z",
            "2026-02-30T01:00Z",
            "2026-12-01T01:00:00.Z",
            "2026-12-01T01:00.5Z",
        ] {
            assert_eq!(at(bad), None, "{bad}");
        }
        assert_eq!(client_time(&serde_json::json!(5)), Some(Timestamp(5)));
        assert_eq!(client_time(&serde_json::json!(1.5)), None);
        assert_eq!(client_time(&serde_json::json!(true)), None);
        assert_eq!(client_time(&serde_json::Value::Null), None);
    }

    #[test]
    fn nik_forms() {
        // Man born 12-08-1961, Banyumas.
        let f = nik_form("3302011208610001").unwrap();
        assert_eq!(
            (f.day, f.month, f.yy, f.female, f.banyumas),
            (12, 8, 61, false, true)
        );
        // Woman born 05-03-1958 (45 = 5 + 40), Cilacap.
        let f = nik_form("3301014503580002").unwrap();
        assert!(f.female && !f.banyumas && f.day == 5);
        // 29 Feb exists in 2000 (YY 00).
        assert!(nik_form("3302012902000001").is_ok());
        for bad in [
            "330201120861000",   // 15 digits
            "33020112086100011", // 17
            "33020112086100a1",
            "3302013208610001", // day 32
            "3302017208610001", // day 72 - 40 = 32
            "3302011213610001", // month 13
            "3302013102610001", // 31 Feb
            "3302011208610000", // serial 0000
            "0902011208610001", // province 09
            "3300011208610001", // regency 00
        ] {
            assert!(nik_form(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_and_rt() {
        assert_eq!(phone("p", "0812-3456-7890").unwrap(), "081234567890");
        assert!(phone("p", "+6281234567890").is_ok());
        assert!(phone("p", "6281234567890").is_ok());
        assert!(phone("p", "081234").is_err());
        assert!(phone("p", "02811234567").is_err());
        assert!(phone("p", "+6581234567890").is_err());
        assert!(phone("p", "0812345678901234").is_err());
        assert_eq!(rt_rw("rt", "3").unwrap(), "003");
        assert!(rt_rw("rt", "0").is_err());
        assert!(rt_rw("rt", "1000").is_err());
        assert!(rt_rw("rt", "-1").is_err());
    }
}
