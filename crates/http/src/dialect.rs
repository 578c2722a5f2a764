//! The conventions every Satria HTTP module shares, written once:
//!
//! - a record id in the path is a positive integer, digits only, at most
//!   [`MAX_PATH_ID`]: anything else is `400 invalid_id` ([`path_id`]);
//! - a list is paged with `limit` (1 to the list's maximum) and `offset`
//!   (from 0): a value outside is `422 invalid_limit` / `invalid_offset`
//!   ([`Page`]);
//! - a create answers `201 Created` with the new record and, where it can be
//!   read back, `Location` naming it ([`created`]).

use crate::{HttpError, MAX_PATH_ID};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A record id from the path (`what` names the record in the refusal).
pub fn path_id(raw: &str, what: &str) -> Result<i64, HttpError> {
    let digits = !raw.is_empty() && raw.len() <= 18 && raw.bytes().all(|b| b.is_ascii_digit());
    match raw.parse::<i64>() {
        Ok(n) if digits && (1..=MAX_PATH_ID).contains(&n) => Ok(n),
        _ => {
            let shown: String = raw.chars().filter(|c| !c.is_control()).take(40).collect();
            Err(HttpError::bad_request(
                "invalid_id",
                format!("{what} id must be a positive integer, got {shown:?}"),
                format!("id {what} harus bilangan bulat positif"),
            ))
        }
    }
}

/// One page of a list: skip `offset` records, answer at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: usize,
    pub offset: usize,
}

impl Page {
    /// The page a request asks for: `limit` defaults to `default`, and must
    /// be 1 to `max`; `offset` defaults to 0.
    pub fn new(
        limit: Option<i64>,
        offset: Option<i64>,
        default: usize,
        max: usize,
    ) -> Result<Page, HttpError> {
        let limit = match limit {
            None => default,
            Some(l) => match usize::try_from(l) {
                Ok(l) if (1..=max).contains(&l) => l,
                _ => {
                    return Err(HttpError::invalid(
                        "invalid_limit",
                        format!("limit must be 1 to {max}"),
                        format!("limit harus 1 sampai {max}"),
                    ));
                }
            },
        };
        let offset = match offset {
            None => 0,
            Some(o) => usize::try_from(o).map_err(|_| {
                HttpError::invalid(
                    "invalid_offset",
                    "offset must be 0 or more",
                    "offset harus 0 atau lebih",
                )
            })?,
        };
        Ok(Page { limit, offset })
    }

    /// This page of `items`.
    pub fn of<T>(&self, items: impl IntoIterator<Item = T>) -> Vec<T> {
        items
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect()
    }

    /// The OpenAPI schema of `limit` for a list whose limit defaults to
    /// `default` and may be at most `max`.
    pub fn limit_schema(default: usize, max: usize) -> Value {
        json!({"type": "integer", "minimum": 1, "maximum": max, "default": default,
               "description": format!("at most this many records (1 to {max}, default {default})")})
    }

    /// The OpenAPI schema of `offset`.
    pub fn offset_schema() -> Value {
        json!({"type": "integer", "minimum": 0, "maximum": i64::MAX, "default": 0,
               "description": "skip this many records first"})
    }
}

/// `201 Created` with `body`, and `Location: location` when the new record
/// can be read back there.
pub fn created(location: Option<String>, body: impl serde::Serialize) -> Response {
    let mut r = (StatusCode::CREATED, axum::Json(body)).into_response();
    if let Some(l) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        r.headers_mut().insert(header::LOCATION, l);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_id_is_digits_only_and_positive() {
        assert_eq!(path_id("42", "incident").unwrap(), 42);
        assert_eq!(path_id(&MAX_PATH_ID.to_string(), "x").unwrap(), MAX_PATH_ID);
        for bad in [
            "",
            "0",
            "-1",
            "+1",
            "1.0",
            "abc",
            " 1",
            "1000000000000000000",
        ] {
            let e = path_id(bad, "incident").unwrap_err();
            assert_eq!(
                (e.status.as_u16(), e.code.as_str()),
                (400, "invalid_id"),
                "{bad:?}"
            );
        }
        assert_eq!(
            path_id("x\u{7}y", "case").unwrap_err().message,
            "case id must be a positive integer, got \"xy\""
        );
    }

    #[test]
    fn a_page_is_bounded_and_cut_from_the_list() {
        let p = Page::new(None, None, 2, 5).unwrap();
        assert_eq!(
            p,
            Page {
                limit: 2,
                offset: 0
            }
        );
        assert_eq!(p.of(1..10), vec![1, 2]);
        assert_eq!(
            Page::new(Some(5), Some(7), 2, 5).unwrap().of(1..10),
            vec![8, 9]
        );
        for (l, o, code) in [
            (Some(0), None, "invalid_limit"),
            (Some(6), None, "invalid_limit"),
            (Some(-1), None, "invalid_limit"),
            (None, Some(-1), "invalid_offset"),
        ] {
            let e = Page::new(l, o, 2, 5).unwrap_err();
            assert_eq!((e.status.as_u16(), e.code.as_str()), (422, code));
        }
    }

    #[test]
    fn a_create_names_the_new_record() {
        let r = created(Some("/api/incidents/7".into()), json!({"id": 7}));
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(r.headers()[header::LOCATION], "/api/incidents/7");
        assert!(
            created(None, json!({}))
                .headers()
                .get(header::LOCATION)
                .is_none()
        );
    }
}
