//! Reading a request's path id and query parameters, with the 400 answers
//! for ids and parameters that do not fit.

use std::collections::HashMap;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use satria_http::HttpError;

use crate::validate as v;

/// A record id from the path: the one rule of every module
/// (`satria_http::path_id`, 400 `invalid_id`).
pub(super) fn id_of(p: Result<Path<String>, PathRejection>, what: &str) -> Result<i64, HttpError> {
    match p {
        Ok(Path(s)) => satria_http::path_id(&s, what),
        Err(_) => satria_http::path_id("", what),
    }
}

/// Query parameters, refusing any not in `allowed`.
pub(super) fn query(
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
    allowed: &[&str],
) -> Result<HashMap<String, String>, HttpError> {
    let Query(q) = q.map_err(|_| {
        HttpError::bad_request(
            "invalid_query",
            "the query string cannot be read",
            "parameter kueri tidak dapat dibaca",
        )
    })?;
    if let Some(k) = q.keys().find(|k| !allowed.contains(&k.as_str())) {
        let shown: String = k.chars().filter(|c| !c.is_control()).take(40).collect();
        return Err(HttpError::bad_request(
            "invalid_query",
            format!(
                "unknown query parameter '{shown}'; allowed: {}",
                allowed.join(", ")
            ),
            format!(
                "parameter kueri '{shown}' tidak dikenal; yang boleh: {}",
                allowed.join(", ")
            ),
        ));
    }
    Ok(q)
}

/// `limit` and `offset` of a list: the one paging rule (`satria_http::Page`),
/// here with the list's cap [`crate::LIST_LIMIT`] as default and maximum.
pub(super) fn page_param(q: &HashMap<String, String>) -> Result<satria_http::Page, HttpError> {
    let int = |key: &str| {
        q.get(key)
            .map(|s| {
                s.parse::<i64>().map_err(|_| {
                    HttpError::bad_request(
                        "invalid_query",
                        format!("{key} must be a whole number"),
                        format!("{key} harus bilangan bulat"),
                    )
                })
            })
            .transpose()
    };
    satria_http::Page::new(
        int("limit")?,
        int("offset")?,
        crate::LIST_LIMIT,
        crate::LIST_LIMIT,
    )
}

pub(super) fn date_param(q: &HashMap<String, String>, key: &str) -> Result<Option<i64>, HttpError> {
    q.get(key)
        .map(|d| v::date(key, d).map_err(HttpError::from))
        .transpose()
}

pub(super) fn f64_param(q: &HashMap<String, String>, key: &str) -> Result<Option<f64>, HttpError> {
    q.get(key)
        .map(|s| {
            s.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    HttpError::bad_request(
                        "invalid_query",
                        format!("{key} must be a number"),
                        format!("{key} harus angka"),
                    )
                })
        })
        .transpose()
}
