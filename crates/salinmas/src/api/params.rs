//! Reading a request's path id and query parameters, with the 400 answers
//! for ids and parameters that do not fit.

use std::collections::HashMap;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use satria_http::HttpError;

use crate::validate as v;

pub(super) fn id_of(p: Result<Path<String>, PathRejection>, what: &str) -> Result<i64, HttpError> {
    let bad = || {
        HttpError::bad_request(
            "invalid_id",
            format!("the {what} id must be a positive whole number"),
            format!("id {what} harus bilangan bulat positif"),
        )
    };
    let Path(s) = p.map_err(|_| bad())?;
    match s.parse::<i64>() {
        Ok(n) if n > 0 && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(bad()),
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
            "unknown_parameter",
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
