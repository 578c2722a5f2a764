//! The dates Salinmas reads and writes: day numbers and WIB (UTC+7, the zone
//! that decides which day a collection belongs to) from `satria-calendar`,
//! dates bounded to plausible years, date-times, and ISO weeks for the reports.

pub use satria_calendar::{
    DAY_MS, WIB_OFFSET_MS, civil_from_days, days_from_civil, wib_day, wib_midnight_ms,
};
use satria_calendar::{digits, format_ymd, parse_ymd};

/// Earliest and latest year a date may name (anything else is a typo).
pub const MIN_YEAR: i64 = 2000;
pub const MAX_YEAR: i64 = 2100;

/// A strict `YYYY-MM-DD` between [`MIN_YEAR`] and [`MAX_YEAR`] → day number.
pub fn parse_date(s: &str) -> Option<i64> {
    let (y, m, d) = parse_ymd(s)?;
    (MIN_YEAR..=MAX_YEAR)
        .contains(&y)
        .then(|| days_from_civil(y, m, d))
}

/// `YYYY-MM-DD` of a day number.
pub fn format_date(day: i64) -> String {
    format_ymd(day)
}

/// `YYYY-MM-DDTHH:MM:SS+07:00` of an instant, in WIB.
pub fn format_wib(ms: i64) -> String {
    let local = ms + WIB_OFFSET_MS;
    let day = local.div_euclid(DAY_MS);
    let secs = local.rem_euclid(DAY_MS) / 1000;
    format!(
        "{}T{:02}:{:02}:{:02}+07:00",
        format_date(day),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]` → Unix milliseconds; without an offset
/// the time is WIB.
pub fn parse_datetime(s: &str) -> Option<i64> {
    if s.len() < 16 || !s.is_ascii() || s.as_bytes()[10] != b'T' {
        return None;
    }
    let day = parse_date(&s[..10])?;
    let rest = &s[11..];
    let (clock, zone) = match rest.find(['Z', '+', '-']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2) {
        return None;
    }
    let h = digits::<i64>(parts[0])?;
    let mi = digits::<i64>(parts[1])?;
    let sec = if parts.len() == 3 {
        digits::<i64>(parts[2])?
    } else {
        0
    };
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let offset_ms = match zone {
        "" => WIB_OFFSET_MS,
        "Z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let z = &z[1..];
            if z.len() != 5 || z.as_bytes()[2] != b':' {
                return None;
            }
            let oh = digits::<i64>(&z[..2])?;
            let om = digits::<i64>(&z[3..])?;
            if oh > 14 || om > 59 {
                return None;
            }
            sign * (oh * 60 + om) * 60 * 1000
        }
    };
    Some(day * DAY_MS + ((h * 60 + mi) * 60 + sec) * 1000 - offset_ms)
}

/// ISO 8601 week of a day: `YYYY-Www`.
pub fn iso_week(day: i64) -> String {
    // 1970-01-01 was a Thursday; 0 = Monday.
    let weekday = (day + 3).rem_euclid(7);
    let thursday = day - weekday + 3;
    let (year, _, _) = civil_from_days(thursday);
    let week = (thursday - days_from_civil(year, 1, 1)) / 7 + 1;
    format!("{year:04}-W{week:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_bounded_and_refuse_nonsense() {
        // Day-number arithmetic itself is tested in satria-calendar.
        assert_eq!(parse_date("1970-01-01"), None, "before MIN_YEAR");
        assert_eq!(parse_date("2026-01-01"), Some(20_454));
        assert_eq!(format_date(20_454), "2026-01-01");
        assert_eq!(
            parse_date("2024-02-29").map(format_date).as_deref(),
            Some("2024-02-29")
        );
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-1-01",
            "26-01-01",
            "2026-01-32",
            "2026/01/01",
            "2026-01-0a",
            "",
            "+026-01-01",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn wib_days_and_datetimes() {
        // 2026-03-02 00:30 WIB is 2026-03-01 17:30 UTC.
        let ms = parse_datetime("2026-03-02T00:30").unwrap();
        assert_eq!(ms, parse_datetime("2026-03-01T17:30:00Z").unwrap());
        assert_eq!(ms, parse_datetime("2026-03-02T00:30:00+07:00").unwrap());
        assert_eq!(format_date(wib_day(ms)), "2026-03-02");
        assert_eq!(format_wib(ms), "2026-03-02T00:30:00+07:00");
        assert_eq!(wib_day(wib_midnight_ms(20_500)), 20_500);
        assert_eq!(wib_day(wib_midnight_ms(20_500) - 1), 20_499);
        for bad in [
            "2026-03-02",
            "2026-03-02T24:00",
            "2026-03-02 08:00",
            "2026-03-02T08:0",
            "2026-03-02T08:00+7",
            "2026-03-02T08:00:00.5",
            "2026-03-02T08:00Zx",
            "2026-03-02T08:00+15:00",
            "é026-03-02T08:00",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn iso_weeks() {
        let w = |s| iso_week(parse_date(s).unwrap());
        assert_eq!(w("2026-01-01"), "2026-W01"); // Thursday
        assert_eq!(w("2025-12-29"), "2026-W01"); // Monday of that week
        assert_eq!(w("2025-12-28"), "2025-W52");
        assert_eq!(w("2021-01-03"), "2020-W53");
        assert_eq!(w("2026-03-02"), "2026-W10");
    }
}
