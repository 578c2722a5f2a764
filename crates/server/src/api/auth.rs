//! Signing in and out, and who the caller is: `/api/auth/login`, `/api/auth/logout`, `/api/me`.

use super::{ApiResult, ok};
use crate::error::{ApiJson, Caller, HttpError};
use crate::{AppState, now_ms};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/me", get(me))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
}

async fn login(
    State(state): State<Arc<AppState>>,
    parts: axum::http::request::Parts,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult {
    if body.username.len() > 64 || body.password.len() > 256 {
        return Err(HttpError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "wrong username or password",
            "nama pengguna atau kata sandi salah",
        ));
    }
    // Failed logins are limited per username and per peer address. A proxy's
    // X-Forwarded-For is not trusted: any client could forge it.
    let client = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".to_string());
    let auth = Arc::clone(&state.auth);
    let session = tokio::task::spawn_blocking(move || {
        auth.login(&body.username, &body.password, &client, now_ms())
    })
    .await
    .map_err(|_| HttpError::unavailable("login failed to run"))?;
    let session = match session {
        Ok(s) => s,
        // Locked out: say for how long, in whole seconds (rounded up).
        Err(e @ satria_auth::AuthError::RateLimited { retry_after_ms }) => {
            let secs = u64::try_from(retry_after_ms.saturating_add(999) / 1000)
                .unwrap_or(1)
                .max(1);
            let mut res = HttpError::from(e).into_response();
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
            return Ok(res);
        }
        Err(e) => return Err(e.into()),
    };
    ok(json!({
        "token": session.token,
        "expires_at": satria_calendar::Timestamp(session.expires_at_ms),
        "user": session.principal,
    }))
}

async fn logout(
    State(state): State<Arc<AppState>>,
    parts: axum::http::request::Parts,
) -> ApiResult {
    let token = crate::error::bearer(&parts).ok_or_else(HttpError::unauthenticated)?;
    let token = token.to_string();
    let session = satria_auth::SessionId::of(&token);
    let auth = Arc::clone(&state.auth);
    tokio::task::spawn_blocking(move || auth.logout(&token))
        .await
        .map_err(|_| HttpError::unavailable("logout failed to run"))??;
    // The session's open sockets say goodbye and close now.
    state
        .sessions
        .end(session, satria_auth::SessionEnd::LoggedOut);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn me(caller: Caller) -> ApiResult {
    ok(caller.0)
}
