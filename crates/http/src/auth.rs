//! Who is calling and whether they may: the bearer token, its [`Principal`],
//! and the role checks of the [`Operation`] table ([`authorize`],
//! [`require_principal`], [`require_role`]).

use crate::{HttpError, Operation, now_ms};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use satria_auth::{AuthError, AuthStore, Principal, Role};
use std::sync::Arc;

/// Refuses unless `who` has one of `roles`.
pub fn require_role(who: &Principal, roles: &[Role]) -> Result<(), HttpError> {
    if roles.contains(&who.role) {
        Ok(())
    } else {
        Err(HttpError::forbidden())
    }
}

/// The operation of `ops` a request is for: its method and the route it matched.
pub fn operation_of<'a>(
    ops: impl IntoIterator<Item = &'a Operation>,
    req: &Request,
) -> Option<&'a Operation> {
    let path = req
        .extensions()
        .get::<axum::extract::MatchedPath>()?
        .as_str();
    let method = req.method().as_str();
    ops.into_iter()
        .find(|op| op.path == path && op.method.eq_ignore_ascii_case(method))
}

/// Whether `who` may call `op`: its role is among the operation's roles (`any`:
/// every signed-in account).
pub fn role_allowed(op: &Operation, who: &Principal) -> bool {
    op.roles
        .iter()
        .any(|r| *r == "any" || *r == who.role.as_str())
}

/// Middleware: the authorisation of a documented operation, before anything
/// reads the request's body or query. The [`Operation`] table is the policy: a
/// request for an operation with roles needs a [`Principal`] (put in the
/// extensions by [`require_principal`] or [`authorize_with`]) whose role is
/// listed, else 401 or 403. Requests for routes not in `ops` pass untouched (the
/// handler decides). Finer rules (a crew acts only for its own unit) stay with
/// the handlers.
///
/// ```ignore
/// router.route_layer(axum::middleware::from_fn(|req, next| authorize(OPERATIONS, req, next)))
/// ```
pub async fn authorize(ops: &'static [Operation], req: Request, next: Next) -> Response {
    if let Some(op) = operation_of(ops, &req)
        && !op.roles.is_empty()
    {
        match req.extensions().get::<Principal>() {
            None => return HttpError::unauthenticated().into_response(),
            Some(p) if !role_allowed(op, p) => return HttpError::forbidden().into_response(),
            Some(_) => {}
        }
    }
    next.run(req).await
}

/// [`authorize`] for a router that is not behind [`require_principal`]: it
/// authenticates the bearer token itself (only for operations with roles) and
/// leaves the [`Principal`] in the extensions for the handler.
pub async fn authorize_with(
    auth: &Arc<AuthStore>,
    ops: impl IntoIterator<Item = &'static Operation>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(op) = operation_of(ops, &req)
        && !op.roles.is_empty()
    {
        if req.extensions().get::<Principal>().is_none() {
            let Some(token) = bearer_of(req.headers()) else {
                return HttpError::unauthenticated().into_response();
            };
            match authenticate(auth, token).await {
                Ok(p) => {
                    req.extensions_mut().insert(p);
                }
                Err(e) => return e.into_response(),
            }
        }
        if let Some(p) = req.extensions().get::<Principal>()
            && !role_allowed(op, p)
        {
            return HttpError::forbidden().into_response();
        }
    }
    next.run(req).await
}

/// The token of a request: `Authorization: Bearer TOKEN`.
pub fn bearer(parts: &Parts) -> Option<&str> {
    bearer_of(&parts.headers)
}

fn bearer_of(headers: &axum::http::HeaderMap) -> Option<&str> {
    let h = headers.get(axum::http::header::AUTHORIZATION)?;
    let s = h.to_str().ok()?;
    let t = s
        .strip_prefix("Bearer ")
        .or_else(|| s.strip_prefix("bearer "))?;
    let t = t.trim();
    (!t.is_empty() && t.len() <= 256).then_some(t)
}

/// Resolves a bearer token to its principal off the async runtime (the store
/// is SQLite).
pub async fn authenticate(auth: &Arc<AuthStore>, token: &str) -> Result<Principal, HttpError> {
    let auth = Arc::clone(auth);
    let token = token.to_string();
    tokio::task::spawn_blocking(move || auth.authenticate(&token, now_ms()))
        .await
        .map_err(|_| HttpError::unavailable("authentication failed to run"))?
        .map_err(|e| session_refused(&e))
}

/// The answer to a token that was not accepted: 401 when the session is not
/// live, but 503 when the accounts could not be read (the token may well be
/// valid: the client keeps it and tries again, rather than log in anew).
pub fn session_refused(e: &AuthError) -> HttpError {
    match e {
        AuthError::Storage(_) => HttpError::unavailable(
            "the accounts cannot be read now (their database does not answer); nothing was done, try again",
        ),
        _ => HttpError::unauthenticated(),
    }
}

/// Middleware: authenticates the bearer token and inserts the [`Principal`]
/// into the request's extensions; a request without a valid token gets 401 and
/// never reaches the handler.
///
/// ```ignore
/// let app = module_router.layer(axum::middleware::from_fn_with_state(auth, require_principal));
/// ```
pub async fn require_principal(
    State(auth): State<Arc<AuthStore>>,
    mut req: Request,
    next: Next,
) -> Response {
    if req.extensions().get::<Principal>().is_some() {
        return next.run(req).await;
    }
    let Some(token) = bearer_of(req.headers()) else {
        return HttpError::unauthenticated().into_response();
    };
    match authenticate(&auth, token).await {
        Ok(p) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}
