//! Civil dates as the modules need them, with no calendar crate: day numbers
//! (days since 1970-01-01, proleptic Gregorian, after Howard Hinnant's
//! algorithms), a strict `YYYY-MM-DD`, and Western Indonesia Time (WIB,
//! UTC+7 all year, no daylight saving), the zone that decides which day an
//! instant in Banyumas belongs to.
//!
//! [`Clock`] is the one source of "now" (system or hand-held) of every crate;
//! [`Timestamp`] is an instant as every crate passes it and as the wire writes it
//! (RFC 3339, UTC), with the one parser of the times clients send.
//!
//! Invariants: `civil_from_days` is the inverse of `days_from_civil` for every
//! day number; `parse_ymd` accepts only real dates written with exactly four,
//! two and two digits.

mod clock;
mod timestamp;
pub use clock::{Clock, now_ms};
pub use timestamp::Timestamp;

/// WIB is UTC+7 all year.
pub const WIB_OFFSET_MS: i64 = 7 * 60 * 60 * 1000;
/// One day in milliseconds.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number: (year, month, day); the inverse of
/// [`days_from_civil`].
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days in month `m` of year `y`; 0 for a month that does not exist.
pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// A number written only with ASCII digits (no sign, no spaces).
pub fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A strict `YYYY-MM-DD` that names a real date → (year, month, day).
pub fn parse_ymd(s: &str) -> Option<(i64, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = digits(s.get(0..4)?)?;
    let m: u32 = digits(s.get(5..7)?)?;
    let d: u32 = digits(s.get(8..10)?)?;
    if d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some((y, m, d))
}

/// `YYYY-MM-DD` of a day number.
pub fn format_ymd(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The WIB day (day number) a Unix-millisecond instant falls on.
pub fn wib_day(ms: i64) -> i64 {
    (ms + WIB_OFFSET_MS).div_euclid(DAY_MS)
}

/// Unix milliseconds of 00:00 WIB on a day number.
pub fn wib_midnight_ms(day: i64) -> i64 {
    day * DAY_MS - WIB_OFFSET_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_round_trip() {
        for z in -800_000..800_000 {
            let (y, m, d) = civil_from_days(z);
            assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2026, 1, 1), 20_454);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn strict_dates() {
        assert_eq!(parse_ymd("2024-02-29"), Some((2024, 2, 29)));
        assert_eq!(format_ymd(days_from_civil(2024, 2, 29)), "2024-02-29");
        for bad in [
            "2026-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "26-01-01",
            "2026-01-32",
            "2026-01-00",
            "2026/01/01",
            "2026-01-0a",
            "+026-01-01",
            "2026-01-1é",
            "",
        ] {
            assert_eq!(parse_ymd(bad), None, "{bad}");
        }
        assert!(is_leap(2000) && !is_leap(1900) && is_leap(2024) && !is_leap(2026));
    }

    #[test]
    fn wib_days() {
        // 2026-03-01 17:30 UTC is 2026-03-02 00:30 WIB.
        let ms = days_from_civil(2026, 3, 1) * DAY_MS + (17 * 60 + 30) * 60_000;
        assert_eq!(format_ymd(wib_day(ms)), "2026-03-02");
        let day = days_from_civil(2026, 3, 2);
        assert_eq!(wib_day(wib_midnight_ms(day)), day);
        assert_eq!(wib_day(wib_midnight_ms(day) - 1), day - 1);
        assert_eq!(wib_day(-WIB_OFFSET_MS - 1), -1);
    }
}
