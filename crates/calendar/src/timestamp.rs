//! [`Timestamp`]: an instant as every module passes it around (UTC epoch
//! milliseconds) and as the wire carries it (RFC 3339, UTC, millisecond
//! precision: `2026-03-02T01:15:00.000Z`), and the one parser of the times a
//! client may send.
//!
//! Invariants: `Timestamp::parse(&t.to_rfc3339()) == Some(t)` for every instant
//! from year 0 to 9999; serialising writes only the RFC 3339 form; reading takes
//! that form or integer milliseconds, the form journals written before RFC 3339
//! hold (their rows are replayed as written, never rewritten).

use crate::{DAY_MS, WIB_OFFSET_MS, civil_from_days, digits, parse_ymd};

/// An instant: milliseconds since the Unix epoch, UTC. On the wire it is an
/// RFC 3339 string in UTC (`…Z`); the consoles show it in WIB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

/// The earliest instant RFC 3339 can write (0000-01-01T00:00:00Z).
const MIN_MS: i64 = -62_167_219_200_000;
/// The latest instant RFC 3339 can write (9999-12-31T23:59:59.999Z).
const MAX_MS: i64 = 253_402_300_799_999;

impl Timestamp {
    /// Milliseconds since the epoch.
    pub const fn ms(self) -> i64 {
        self.0
    }

    /// This time plus `s` seconds.
    pub fn plus_s(self, s: u32) -> Timestamp {
        Timestamp(self.0.saturating_add(i64::from(s) * 1000))
    }

    /// This time plus `ms` milliseconds (saturating).
    pub fn plus_ms(self, ms: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms))
    }

    /// Whole seconds from `earlier` to `self` (negative if `earlier` is later).
    pub fn secs_since(self, earlier: Timestamp) -> i64 {
        (self.0 - earlier.0) / 1000
    }

    /// `YYYY-MM-DDTHH:MM:SS.sssZ` in UTC. Instants outside years 0–9999 (which
    /// no clock or client can produce: parsing refuses them) are clamped to the
    /// nearest year RFC 3339 can write.
    pub fn to_rfc3339(self) -> String {
        let ms = self.0.clamp(MIN_MS, MAX_MS);
        let day = ms.div_euclid(DAY_MS);
        let in_day = ms.rem_euclid(DAY_MS);
        let (y, m, d) = civil_from_days(day);
        let (h, rest) = (in_day / 3_600_000, in_day % 3_600_000);
        let (mi, rest) = (rest / 60_000, rest % 60_000);
        let (s, milli) = (rest / 1000, rest % 1000);
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
    }

    /// A strict RFC 3339 time: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`,
    /// the offset required. `None` for anything else.
    pub fn parse(s: &str) -> Option<Timestamp> {
        parse_time(s, TimeForm::Rfc3339).map(Timestamp)
    }

    /// A wall-clock time as people type it into a form:
    /// `YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]]` with an optional offset (`Z`,
    /// `±HH:MM`, `±HHMM`, `±HH`); no offset means WIB. `None` for anything else.
    pub fn parse_local(s: &str) -> Option<Timestamp> {
        parse_time(s, TimeForm::Local).map(Timestamp)
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TimeForm {
    Rfc3339,
    Local,
}

fn parse_time(s: &str, form: TimeForm) -> Option<i64> {
    if s.len() < 16 || s.len() > 64 || !s.is_ascii() {
        return None;
    }
    let (y, m, d) = parse_ymd(&s[0..10])?;
    let sep = s.as_bytes()[10];
    let sep_ok = match form {
        TimeForm::Rfc3339 => sep == b'T' || sep == b't',
        TimeForm::Local => sep == b'T' || sep == b't' || sep == b' ',
    };
    if !sep_ok {
        return None;
    }
    let rest = &s[11..];
    // Split the offset off the clock time.
    let (clock, offset_ms) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else if let Some(pos) = rest.rfind(['+', '-']) {
        let (c, off) = rest.split_at(pos);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let off = &off[1..];
        let (hh, mm) = match (off.len(), form) {
            (5, _) if off.as_bytes()[2] == b':' => (&off[0..2], &off[3..5]),
            (4, TimeForm::Local) => (&off[0..2], &off[2..4]),
            (2, TimeForm::Local) => (off, "00"),
            _ => return None,
        };
        let hh: i64 = digits(hh)?;
        let mm: i64 = digits(mm)?;
        if hh > 23 || mm > 59 {
            return None;
        }
        (c, sign * (hh * 60 + mm) * 60_000)
    } else if form == TimeForm::Local {
        (rest, WIB_OFFSET_MS)
    } else {
        return None;
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (clock, None),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    let min_parts = if form == TimeForm::Rfc3339 { 3 } else { 2 };
    if parts.len() < min_parts || parts.len() > 3 || parts.iter().any(|p| p.len() != 2) {
        return None;
    }
    let h: i64 = digits(parts[0])?;
    let mi: i64 = digits(parts[1])?;
    let se: i64 = match parts.get(2) {
        Some(p) => digits(p)?,
        None => 0,
    };
    if h > 23 || mi > 59 || se > 59 {
        return None;
    }
    let milli = match frac {
        None => 0,
        Some(f) if parts.len() == 3 && !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
            // The first three digits are the milliseconds; finer ones are dropped.
            let v: i64 = digits(&f[..f.len().min(3)])?;
            v * 10_i64.pow(3_u32.saturating_sub(f.len() as u32))
        }
        Some(_) => return None,
    };
    let days = crate::days_from_civil(y, m, d);
    let ms = days * DAY_MS + ((h * 60 + mi) * 60 + se) * 1000 + milli - offset_ms;
    (MIN_MS..=MAX_MS).contains(&ms).then_some(ms)
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TimestampVisitor)
    }
}

struct TimestampVisitor;

impl serde::de::Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an RFC 3339 time with its offset, e.g. 2026-03-02T01:15:00Z")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Timestamp, E> {
        Timestamp::parse(v).ok_or_else(|| {
            E::custom(format_args!(
                "{v:?} is not an RFC 3339 time with its offset, e.g. 2026-03-02T01:15:00Z"
            ))
        })
    }

    // Integer milliseconds: what journals and clients wrote before RFC 3339.
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Timestamp, E> {
        Ok(Timestamp(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Timestamp, E> {
        i64::try_from(v)
            .map(Timestamp)
            .map_err(|_| E::custom(format_args!("{v} ms is out of range")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_utc_with_milliseconds() {
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp(1_772_414_100_123).to_rfc3339(),
            "2026-03-02T01:15:00.123Z"
        );
        assert_eq!(Timestamp(-1).to_rfc3339(), "1969-12-31T23:59:59.999Z");
        assert_eq!(Timestamp(i64::MAX).to_rfc3339(), "9999-12-31T23:59:59.999Z");
        assert_eq!(Timestamp(i64::MIN).to_rfc3339(), "0000-01-01T00:00:00.000Z");
    }

    #[test]
    fn round_trips_every_sample() {
        let mut ms = MIN_MS;
        while ms <= MAX_MS {
            let t = Timestamp(ms);
            assert_eq!(Timestamp::parse(&t.to_rfc3339()), Some(t), "{ms}");
            ms += 7_777_777_777_777 / 1000 + 123;
        }
    }

    #[test]
    fn strict_form_needs_seconds_and_offset() {
        let t = Timestamp::parse;
        assert_eq!(
            t("2026-03-02T08:15:00+07:00"),
            Some(Timestamp(1_772_414_100_000))
        );
        assert_eq!(
            t("2026-03-02T01:15:00Z"),
            Some(Timestamp(1_772_414_100_000))
        );
        assert_eq!(
            t("2026-03-02t01:15:00.5z"),
            Some(Timestamp(1_772_414_100_500))
        );
        assert_eq!(
            t("2026-03-02T01:15:00.123456789Z"),
            Some(Timestamp(1_772_414_100_123))
        );
        assert_eq!(
            t("2026-03-02T01:15:00.9999999999999Z"),
            Some(Timestamp(1_772_414_100_999))
        );
        assert_eq!(
            t("2026-03-02T01:15:00.05Z"),
            Some(Timestamp(1_772_414_100_050))
        );
        for bad in [
            "2026-03-02T08:15:00",
            "2026-03-02T08:15Z",
            "2026-03-02 08:15:00Z",
            "2026-03-02T08:15:00+0700",
            "2026-03-02T08:15:00+07",
            "2026-02-30T08:15:00Z",
            "2026-03-02T24:00:00Z",
            "2026-03-02T08:15:00.Z",
            "2026-03-02T08:15:00.12a4Z",
            "2026-03-02T08:15:00+24:00",
            "",
            "1772414100000",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }

    #[test]
    fn local_form_defaults_to_wib() {
        let t = Timestamp::parse_local;
        let wib_0815 = Some(Timestamp(1_772_414_100_000));
        assert_eq!(t("2026-03-02T08:15"), wib_0815);
        assert_eq!(t("2026-03-02 08:15:00"), wib_0815);
        assert_eq!(t("2026-03-02T08:15+07"), wib_0815);
        assert_eq!(t("2026-03-02T08:15+0700"), wib_0815);
        assert_eq!(t("2026-03-02T01:15Z"), wib_0815);
        assert_eq!(t("2026-03-02T08:15.5"), None);
        assert_eq!(t("2026-03-02X08:15"), None);
    }

    #[test]
    fn serde_writes_the_string_and_reads_both_forms() {
        let t = Timestamp(1_772_414_100_000);
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2026-03-02T01:15:00.000Z\""
        );
        assert_eq!(
            serde_json::from_str::<Timestamp>("\"2026-03-02T08:15:00+07:00\"").unwrap(),
            t
        );
        assert_eq!(
            serde_json::from_str::<Timestamp>("1772414100000").unwrap(),
            t
        );
        let err = serde_json::from_str::<Timestamp>("\"2026-03-02T08:15\"").unwrap_err();
        assert!(err.to_string().contains("not an RFC 3339 time"), "{err}");
        assert!(serde_json::from_str::<Timestamp>("1.5").is_err());
        assert!(serde_json::from_str::<Timestamp>("true").is_err());
    }
}
