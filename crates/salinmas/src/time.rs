//! The dates Salinmas reads and writes: day numbers and WIB (UTC+7, the zone
//! that decides which day a collection belongs to) from `satria-calendar`,
//! dates bounded to plausible years, and ISO weeks for the reports. Instants
//! are [`Timestamp`]s: RFC 3339 in UTC on the wire, read from requests by
//! `Timestamp::parse_local` (see `validate::window_time`).

pub use satria_calendar::{
    DAY_MS, Timestamp, WIB_OFFSET_MS, civil_from_days, days_from_civil, wib_day, wib_midnight_ms,
};
use satria_calendar::{format_ymd, parse_ymd};

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
    fn wib_days_and_times() {
        // 2026-03-02 00:30 WIB is 2026-03-01 17:30 UTC. (What a request's
        // time may look like is tested with `validate::window_time`.)
        let ms = 1_772_386_200_000;
        assert_eq!(Timestamp(ms).to_rfc3339(), "2026-03-01T17:30:00.000Z");
        assert_eq!(format_date(wib_day(ms)), "2026-03-02");
        assert_eq!(format_date(wib_day(ms - 1_800_001)), "2026-03-01");
        assert_eq!(format_wib(ms), "2026-03-02T00:30:00+07:00");
        assert_eq!(wib_day(wib_midnight_ms(20_500)), 20_500);
        assert_eq!(wib_day(wib_midnight_ms(20_500) - 1), 20_499);
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
