//! Refusals answered before a handler runs, in the one error shape: a body
//! over the limit ([`limit_body`], 413) and a method the route does not serve
//! ([`json_method_not_allowed`], 405).

use crate::HttpError;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// How much of an oversized body [`limit_body`] reads and throws away so the
/// client, still sending, reads the 413 instead of a reset connection.
pub const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

/// The largest JSON body a module accepts, the same for every module (the
/// dispatch server's `max_body` defaults to it).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Middleware: a body larger than `max` bytes gets 413 in the error shape. The
/// body is read and discarded first, up to [`DRAIN_LIMIT`], so a client that
/// sends it all still reads the answer: closing a socket with unread data makes
/// the kernel reset the connection, and the client would never see the 413. A
/// declared length (`Content-Length`) is judged before reading; a chunked body is
/// read here up to `max` bytes and handed on whole.
pub async fn limit_body(max: usize, req: Request, next: Next) -> Response {
    use http_body_util::BodyExt;
    let headers = req.headers();
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let chunked = headers.contains_key(axum::http::header::TRANSFER_ENCODING);
    match declared {
        Some(n) if n > max as u64 => {
            let body = req.into_body();
            return too_large_after_draining(max, body, 0).await;
        }
        Some(_) => return next.run(req).await,
        None if !chunked => return next.run(req).await,
        None => {}
    }
    let (parts, mut body) = req.into_parts();
    let mut buf: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return HttpError::bad_request(
                "bad_body",
                "the body could not be read",
                "isi permintaan tidak dapat dibaca",
            )
            .into_response();
        };
        if let Some(data) = frame.data_ref() {
            if buf.len() + data.len() > max {
                let seen = buf.len() + data.len();
                return too_large_after_draining(max, body, seen).await;
            }
            buf.extend_from_slice(data);
        }
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(buf)))
        .await
}

/// Reads and discards the rest of `body` (up to [`DRAIN_LIMIT`] in all), then
/// answers 413; beyond the limit it answers at once and closes the connection.
async fn too_large_after_draining(max: usize, mut body: axum::body::Body, seen: usize) -> Response {
    use http_body_util::BodyExt;
    let mut seen = seen;
    let mut drained = true;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                seen += f.data_ref().map_or(0, |d| d.len());
                if seen > DRAIN_LIMIT {
                    drained = false;
                    break;
                }
            }
            Err(_) => {
                drained = false;
                break;
            }
        }
    }
    let mut res = body_too_large(max).into_response();
    if !drained {
        res.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    res
}

fn body_too_large(max: usize) -> HttpError {
    HttpError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the body is too large: at most {max} bytes"),
        format!("isi permintaan terlalu besar: paling banyak {max} byte"),
    )
}

/// Middleware: a method the route does not serve gets 405 in the error shape,
/// with the router's `Allow` header kept.
pub async fn json_method_not_allowed(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let res = next.run(req).await;
    if res.status() != StatusCode::METHOD_NOT_ALLOWED {
        return res;
    }
    let allow = res.headers().get(axum::http::header::ALLOW).cloned();
    let allowed = allow
        .as_ref()
        .and_then(|a| a.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut out = HttpError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed here; allowed: {allowed}"),
        format!("metode {method} tidak diizinkan di sini; yang diizinkan: {allowed}"),
    )
    .into_response();
    if let Some(a) = allow {
        out.headers_mut().insert(axum::http::header::ALLOW, a);
    }
    out
}
