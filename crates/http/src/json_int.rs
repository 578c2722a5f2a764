//! Serde helpers for integer fields of request bodies. JSON Schema (and so the
//! OpenAPI document) counts `3.0` as the integer 3, but serde refuses it for an
//! integer type; these accept every JSON number with no fractional part that
//! fits the field, and refuse anything else with a clear message.
//!
//! Use: `#[serde(deserialize_with = "satria_http::json_int::int")]`, and for an
//! `Option` field `#[serde(default, deserialize_with = "satria_http::json_int::opt")]`.

use serde::de::Error;
use serde::{Deserialize, Deserializer};
use serde_json::Number;

fn whole<T: TryFrom<i128>>(n: &Number) -> Option<T> {
    let i: i128 = if let Some(i) = n.as_i64() {
        i.into()
    } else if let Some(u) = n.as_u64() {
        u.into()
    } else {
        let f = n.as_f64()?;
        // Beyond 2^64 a float is never a value any field takes.
        if f.fract() != 0.0 || f.abs() > 1.9e19 {
            return None;
        }
        f as i128
    };
    T::try_from(i).ok()
}

fn refuse<E: Error>(n: &Number) -> E {
    E::custom(format!("expected a whole number in range, got {n}"))
}

/// An integer field.
pub fn int<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<T, D::Error> {
    let n = Number::deserialize(d)?;
    whole(&n).ok_or_else(|| refuse(&n))
}

/// An optional integer field (`null` is `None`).
pub fn opt<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<Option<T>, D::Error> {
    match Option::<Number>::deserialize(d)? {
        None => Ok(None),
        Some(n) => whole(&n).map(Some).ok_or_else(|| refuse(&n)),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    struct B {
        #[serde(deserialize_with = "super::int")]
        n: u64,
        #[serde(default, deserialize_with = "super::opt")]
        m: Option<i64>,
    }

    fn parse(s: &str) -> Result<B, String> {
        serde_json::from_str::<B>(s).map_err(|e| e.to_string())
    }

    #[test]
    fn integral_floats_are_integers_and_everything_else_is_refused() {
        let b = parse(r#"{"n": 474.0, "m": -3.0}"#).unwrap();
        assert_eq!((b.n, b.m), (474, Some(-3)));
        let b = parse(r#"{"n": 18446744073709551615}"#).unwrap();
        assert_eq!((b.n, b.m), (u64::MAX, None));
        assert_eq!(parse(r#"{"n": 1, "m": null}"#).unwrap().m, None);
        for bad in [
            r#"{"n": 1.5}"#,
            r#"{"n": -1}"#,
            r#"{"n": 1e30}"#,
            r#"{"n": "1"}"#,
            r#"{"n": 1, "m": 9223372036854775808}"#,
        ] {
            let e = parse(bad).unwrap_err();
            assert!(
                e.contains("whole number") || e.contains("invalid type"),
                "{bad}: {e}"
            );
        }
    }
}
