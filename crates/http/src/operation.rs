//! One row of the OpenAPI operation table each module exports ([`Operation`])
//! and the schema helpers its rows share.

use serde_json::Value;

/// One documented operation of the OpenAPI table.
#[derive(Debug)]
pub struct Operation {
    /// Lower-case HTTP method: `get`, `post`, `patch`, `delete`.
    pub method: &'static str,
    /// The path as routed, path parameters as `{name}`.
    pub path: &'static str,
    pub summary: &'static str,
    /// Roles allowed (`Role::as_str`); empty = no token needed.
    pub roles: &'static [&'static str],
    /// JSON schema of the request body, if any.
    pub body: Option<fn() -> Value>,
    /// Query parameters: (name, JSON schema of the value, required). The
    /// schema states every rule the handler checks on the value by itself
    /// (enum, pattern, minimum, maximum), from the constants it checks with.
    pub query: &'static [QueryParam],
    /// The status of a success: 200, 201 (created) or 204 (no content).
    pub status: u16,
    /// Path parameters that are not strings: (name, JSON type), e.g.
    /// `("id", "integer")`.
    pub path_types: &'static [(&'static str, &'static str)],
}

/// `path_types` of an operation whose `{id}` is an integer.
pub const INTEGER_ID: &[(&str, &str)] = &[("id", "integer")];

/// A query parameter of an [`Operation`]: (name, JSON schema, required).
pub type QueryParam = (&'static str, fn() -> Value, bool);

/// The largest integer path id every module accepts: 18 decimal digits (ids
/// are SQLite/engine integers; a longer number is refused before any lookup).
pub const MAX_PATH_ID: i64 = 999_999_999_999_999_999;

/// Schema of an integer path id: 1 to [`MAX_PATH_ID`].
pub fn path_id_schema() -> Value {
    serde_json::json!({"type": "integer", "minimum": 1, "maximum": MAX_PATH_ID})
}

/// Schema of a `YYYY-MM-DD` calendar day (a real date), the year matching
/// `year_pattern` (a regex alternative such as `[0-9]{4}`).
pub fn date_schema(year_pattern: &str) -> Value {
    serde_json::json!({"type": "string", "format": "date",
        "pattern": format!("^({year_pattern})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"),
        "example": "2026-03-02"})
}

/// Schema of a plain string query value.
pub fn string_schema() -> Value {
    serde_json::json!({"type": "string"})
}

impl Operation {
    /// The path parameters in order, with their JSON types.
    pub fn path_params(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| {
                let ty = self
                    .path_types
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or("string", |(_, t)| *t);
                (name, ty)
            })
    }

    /// Every status this operation may answer: its success, then the refusals
    /// that apply to it (each in the error shape).
    pub fn statuses(&self) -> Vec<u16> {
        let mut v = vec![self.status];
        let has_params = self.path_params().next().is_some();
        if has_params || !self.query.is_empty() || self.body.is_some() {
            v.push(400);
        }
        if !self.roles.is_empty() {
            v.extend([401, 403]);
        }
        if self.path == "/api/auth/login" || self.path == "/api/auth/logout" {
            // A wrong password; a logout without a (valid) token.
            v.push(401);
        }
        if has_params || self.method != "get" {
            v.push(404);
        }
        if (self.method != "get" || has_params) && !self.roles.is_empty() {
            v.push(409);
        }
        if self.body.is_some() {
            v.extend([413, 415, 422]);
        }
        if !self.query.is_empty() {
            v.push(422);
        }
        if self.path == "/api/auth/login" {
            v.push(429);
        }
        v.push(503);
        v.sort_unstable();
        v.dedup();
        v
    }
}
