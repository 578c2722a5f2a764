//! The strict extractors: [`ApiJson`] and [`ApiQuery`], `axum`'s `Json` and
//! `Query` with every refusal in the one error shape.

use crate::HttpError;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// `axum::Json`, but every refusal is an [`HttpError`].
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(HttpError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
                "kirim isi permintaan sebagai JSON dengan Content-Type: application/json",
            )),
            Err(JsonRejection::JsonSyntaxError(e)) => Err(HttpError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("the body is not valid JSON: {}", e.body_text()),
                "isi permintaan bukan JSON yang valid",
            )),
            Err(JsonRejection::JsonDataError(e)) => Err(HttpError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                e.body_text(),
                format!("isi permintaan tidak sesuai: {}", e.body_text()),
            )),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(HttpError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the body is too large",
                "isi permintaan terlalu besar",
            )),
            Err(e) => Err(HttpError::new(
                StatusCode::BAD_REQUEST,
                "bad_body",
                e.body_text(),
                "isi permintaan tidak dapat dibaca",
            )),
        }
    }
}

/// `axum::extract::Query`, but strict and in the one error shape: an unknown
/// parameter (with `deny_unknown_fields`), a missing one or a value of the wrong
/// type is a 400 `invalid_query` naming the problem, never a `text/plain` answer.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or_default();
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(v)| ApiQuery(v))
            .map_err(|e| {
                let why = e.body_text();
                let why = why
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&why)
                    .to_string();
                HttpError::bad_request(
                    "invalid_query",
                    format!("the query string {q:?} is not acceptable: {why}"),
                    format!("parameter kueri {q:?} tidak dapat diterima: {why}"),
                )
            })
    }
}
