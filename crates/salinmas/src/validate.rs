//! Input checks shared by every operation: each refusal names the field in
//! English and Bahasa Indonesia.

use crate::error::SalinmasError;
use crate::model::CATEGORIES;
use crate::time::Timestamp;

/// Banyumas regency with a margin: every desa centroid lies well inside.
pub const LAT_RANGE: (f64, f64) = (-7.80, -7.15);
pub const LON_RANGE: (f64, f64) = (108.80, 109.55);

/// Largest weight of one category in one pickup, kg (a small truck's load).
pub const MAX_KG: f64 = 5_000.0;
/// The least weight recorded: 1 g (what the OpenAPI document states).
pub const MIN_KG: f64 = 0.001;
/// Highest price per kg, rupiah.
pub const MAX_PRICE_RP: i64 = 1_000_000;
/// Largest single payout, rupiah.
pub const MAX_PAYOUT_RP: i64 = 100_000_000;

/// A required text: trimmed, not empty, at most `max` characters, no control
/// characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, SalinmasError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(SalinmasError::invalid(
            "missing_field",
            format!("{field} must not be empty"),
            format!("{field} wajib diisi"),
        ));
    }
    if v.chars().count() > max {
        return Err(SalinmasError::invalid(
            "too_long",
            format!("{field} is longer than {max} characters"),
            format!("{field} lebih dari {max} karakter"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(SalinmasError::invalid(
            "invalid_text",
            format!("{field} contains control characters"),
            format!("{field} berisi karakter kendali"),
        ));
    }
    Ok(v.to_string())
}

/// An optional text; empty counts as absent.
pub fn opt_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, SalinmasError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v, max).map(Some),
    }
}

/// RT or RW: one to three digits, not zero; stored as three digits (`004`).
pub fn rt_rw(field: &str, value: &str) -> Result<String, SalinmasError> {
    let v = value.trim();
    match v.parse::<u16>() {
        Ok(n)
            if (1..=999).contains(&n)
                && !v.is_empty()
                && v.len() <= 3
                && v.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Ok(format!("{n:03}"))
        }
        _ => Err(SalinmasError::invalid(
            "invalid_rt_rw",
            format!("{field} must be a number from 1 to 999, e.g. 004"),
            format!("{field} harus angka 1 sampai 999, misalnya 004"),
        )),
    }
}

/// An Indonesian phone number: `08…`, `628…` or `+628…`, 9 to 15 digits;
/// spaces and dashes are dropped.
pub fn phone(value: &str) -> Result<String, SalinmasError> {
    let v: String = value.chars().filter(|c| *c != ' ' && *c != '-').collect();
    let digits = v.strip_prefix('+').unwrap_or(&v);
    let ok = digits.bytes().all(|b| b.is_ascii_digit())
        && (9..=15).contains(&digits.len())
        && (digits.starts_with("08") || digits.starts_with("628"))
        && (!v.starts_with('+') || digits.starts_with("62"));
    if ok {
        Ok(v)
    } else {
        Err(SalinmasError::invalid(
            "invalid_phone",
            "phone must be an Indonesian number such as 081234567890 or +6281234567890",
            "nomor telepon harus nomor Indonesia seperti 081234567890 atau +6281234567890",
        ))
    }
}

/// A position inside Banyumas.
pub fn position(lat: f64, lon: f64) -> Result<(), SalinmasError> {
    let inside = lat.is_finite()
        && lon.is_finite()
        && (LAT_RANGE.0..=LAT_RANGE.1).contains(&lat)
        && (LON_RANGE.0..=LON_RANGE.1).contains(&lon);
    if inside {
        Ok(())
    } else {
        Err(SalinmasError::invalid(
            "outside_region",
            "lat/lon must be a position in Banyumas regency",
            "lat/lon harus posisi di Kabupaten Banyumas",
        ))
    }
}

/// A known waste category.
pub fn category(value: &str) -> Result<&'static str, SalinmasError> {
    CATEGORIES
        .iter()
        .copied()
        .find(|c| *c == value)
        .ok_or_else(|| {
            let mut shown: String = value.chars().take(40).collect();
            shown.retain(|c| !c.is_control());
            SalinmasError::invalid(
                "unknown_category",
                format!(
                    "unknown waste category '{shown}': use one of {}",
                    CATEGORIES.join(", ")
                ),
                format!(
                    "kategori sampah '{shown}' tidak dikenal: gunakan salah satu dari {}",
                    CATEGORIES.join(", ")
                ),
            )
        })
}

/// A weight in kg → whole grams: finite, more than zero, at most [`MAX_KG`].
pub fn grams(field: &str, kg: f64) -> Result<i64, SalinmasError> {
    if kg.is_finite() && (MIN_KG..=MAX_KG).contains(&kg) {
        let g = (kg * 1000.0).round() as i64;
        if g >= 1 {
            return Ok(g);
        }
    }
    Err(SalinmasError::invalid(
        "invalid_weight",
        format!("{field} must be more than 0 kg (at least 1 g) and at most {MAX_KG} kg"),
        format!("{field} harus lebih dari 0 kg (minimal 1 g) dan paling banyak {MAX_KG} kg"),
    ))
}

/// A `YYYY-MM-DD` date → day number.
pub fn date(field: &str, value: &str) -> Result<i64, SalinmasError> {
    crate::time::parse_date(value).ok_or_else(|| {
        SalinmasError::invalid(
            "invalid_date",
            format!("{field} must be a date YYYY-MM-DD between 2000 and 2100"),
            format!("{field} harus tanggal YYYY-MM-DD antara 2000 dan 2100"),
        )
    })
}

/// A time of a pickup window as people type it (`Timestamp::parse_local`):
/// `YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]]`, WIB unless an offset (`Z`,
/// `±HH:MM`, `±HHMM`, `±HH`) is given; the RFC 3339 form the responses carry
/// is one of them. Whether the window is plausible (in the future, within 60
/// days, at most 7 days long) the pickup request checks.
pub fn window_time(field: &str, value: &str) -> Result<Timestamp, SalinmasError> {
    Timestamp::parse_local(value).ok_or_else(|| {
        SalinmasError::invalid(
            "invalid_window",
            format!("{field} must be a time YYYY-MM-DDTHH:MM (WIB unless an offset is given)"),
            format!("{field} harus waktu YYYY-MM-DDTHH:MM (WIB kecuali diberi zona)"),
        )
    })
}

/// Rupiah for `grams` at `price_per_kg_rp`, rounded half up.
pub fn amount_rp(price_per_kg_rp: i64, grams: i64) -> i64 {
    (price_per_kg_rp * grams + 500) / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        assert_eq!(rt_rw("rt", "4").unwrap(), "004");
        assert_eq!(rt_rw("rt", " 012 ").unwrap(), "012");
        for bad in ["0", "1000", "-1", "+4", "a", "", "0004"] {
            assert!(rt_rw("rt", bad).is_err(), "{bad}");
        }
        assert_eq!(phone("0812-3456-7890").unwrap(), "081234567890");
        assert!(phone("+6281234567890").is_ok());
        for bad in [
            "12345",
            "+0812345678",
            "08123abc890",
            "0712345678901234567",
            "",
        ] {
            assert!(phone(bad).is_err(), "{bad}");
        }
        assert_eq!(grams("kg", 1.2345).unwrap(), 1235);
        // At least 1 g, as the OpenAPI document states: 0.0009 kg would round
        // to 1 g but is below the stated minimum.
        assert_eq!(grams("kg", MIN_KG).unwrap(), 1);
        for bad in [0.0, -1.0, 0.0004, 0.0009, f64::NAN, f64::INFINITY, 5000.1] {
            assert!(grams("kg", bad).is_err(), "{bad}");
        }
        assert_eq!(amount_rp(2000, 1500), 3000);
        assert_eq!(amount_rp(100, 1005), 101); // 100.5 rounds up
        assert_eq!(amount_rp(100, 1004), 100);
        assert!(text("name", "  ", 10).is_err());
        assert!(text("name", "a\u{7}", 10).is_err());
        assert!(text("name", &"x".repeat(11), 10).is_err());
        assert!(position(-7.42, 109.23).is_ok());
        assert!(position(-6.2, 106.8).is_err()); // Jakarta
        assert!(position(f64::NAN, 109.0).is_err());
        assert!(category("plastic").is_ok());
        assert_eq!(category("gold").unwrap_err().code(), "unknown_category");
    }

    #[test]
    fn window_times_are_wib_unless_an_offset_is_given() {
        let ms = |s: &str| window_time("window_start", s).map(Timestamp::ms);
        // 2026-03-02 00:30 WIB is 2026-03-01 17:30 UTC.
        let wib_0030 = Ok(1_772_386_200_000);
        assert_eq!(ms("2026-03-02T00:30"), wib_0030);
        assert_eq!(ms("2026-03-01T17:30:00Z"), wib_0030);
        assert_eq!(ms("2026-03-02T00:30:00+07:00"), wib_0030);
        // The form every response carries reads back as the same instant.
        assert_eq!(ms("2026-03-01T17:30:00.000Z"), wib_0030);
        // Accepted since the one parser (`Timestamp::parse_local`) replaced
        // Salinmas's own: a space for the T, seconds with a fraction, offsets
        // as ±HHMM or ±HH or beyond ±14:00.
        assert_eq!(ms("2026-03-02 00:30"), wib_0030);
        assert_eq!(ms("2026-03-02T00:30:00.5"), Ok(1_772_386_200_500));
        assert_eq!(ms("2026-03-02T00:30+0700"), wib_0030);
        assert_eq!(ms("2026-03-02T00:30+07"), wib_0030);
        assert_eq!(ms("2026-03-02T08:00+15:00"), Ok(1_772_384_400_000));
        for bad in [
            "2026-03-02",
            "2026-03-02T24:00",
            "2026-03-02T08:0",
            "2026-03-02T08:00+7",
            "2026-03-02T08:00.5",
            "2026-03-02T08:00Zx",
            "2026-03-02T08:00+24:00",
            "2026-02-30T08:00",
            "\u{e9}026-03-02T08:00",
            "tomorrow",
            "1772386200000",
        ] {
            let e = window_time("window_end", bad).unwrap_err();
            assert_eq!(e.code(), "invalid_window", "{bad}");
            assert!(e.to_string().contains("window_end"), "{bad}: {e}");
        }
    }
}
