//! The one error type of the HTTP layer: every domain error is mapped here, once, to a status
//! and a stable `code`, and rendered as `application/problem+json`. Internal causes are logged
//! and never sent.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::auth::AuthError;
use crate::contracts::ContractError;
use crate::db::DbError;
use crate::tickets::TicketError;

/// Every `code` a problem can carry, for the OpenAPI document (a test keeps the list true to
/// the codes the source uses).
pub const PROBLEM_CODES: &[&str] = &[
    "malformed_json",
    "missing_field",
    "unknown_field",
    "unknown_value",
    "wrong_type",
    "invalid_field",
    "invalid_query",
    "invalid_path",
    "invalid_header",
    "unreadable_body",
    "unsupported_media_type",
    "payload_too_large",
    "request_timeout",
    "missing_token",
    "malformed_token",
    "invalid_token",
    "expired_token",
    "revoked_token",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "conflict",
    "redaction_failed",
    "attachment_withheld",
    "unavailable",
    "internal_error",
];

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    /// An error with a status, a stable code and a message for the caller.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    /// Names the field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 400 for a field's value.
    pub fn invalid(
        code: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message).with_field(field)
    }

    /// 404.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }

    /// 500 or 503 for a failure that is ours, logged here with its cause.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "internal error; it has been logged",
        )
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let problem = Problem {
            kind: format!("https://msp-bridge.dev/problems/{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error"),
            status: self.status.as_u16(),
            detail: &self.message,
            code: self.code,
            field: self.field.as_deref(),
        };
        let mut response = HttpResponse::build(self.status);
        response.content_type("application/problem+json");
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        response.json(problem)
    }
}

impl ApiError {
    /// True for a 404: the answer to anything missing or not the caller's to see.
    pub fn is_not_found(&self) -> bool {
        self.status == StatusCode::NOT_FOUND
    }
}

impl From<crate::json_input::InputProblem> for ApiError {
    fn from(p: crate::json_input::InputProblem) -> Self {
        if p.is_malformed() {
            Self::new(StatusCode::BAD_REQUEST, p.code, p.detail)
        } else {
            Self::invalid(p.code, p.field, p.detail)
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            e if e.is_unavailable() => {
                tracing::error!(error = %e, "database unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the database is unavailable; retry later",
                )
            }
            other => Self::internal(&other),
        }
    }
}

impl From<TicketError> for ApiError {
    fn from(e: TicketError) -> Self {
        match e {
            TicketError::Invalid { field, message } => {
                Self::invalid("invalid_field", field, message)
            }
            TicketError::NotFound => Self::not_found(),
            TicketError::Conflict(message) => Self::new(StatusCode::CONFLICT, "conflict", message),
            TicketError::Corrupt(_) => Self::internal(&e),
            TicketError::Db(db) => db.into(),
        }
    }
}

impl From<crate::reports::ReportError> for ApiError {
    fn from(e: crate::reports::ReportError) -> Self {
        use crate::reports::ReportError;
        match e {
            ReportError::Invalid { field, message } => {
                Self::invalid("invalid_field", field, message)
            }
            ReportError::NotFound => Self::not_found(),
            ReportError::Sla(e) => e.into(),
            ReportError::Db(db) => db.into(),
            ReportError::Template(_) => Self::internal(&e),
        }
    }
}

impl From<crate::service::ServiceError> for ApiError {
    fn from(e: crate::service::ServiceError) -> Self {
        use crate::service::ServiceError;
        match e {
            ServiceError::NotFound => Self::not_found(),
            ServiceError::Corrupt(_) => Self::internal(&e),
            ServiceError::Ticket(ticket) => ticket.into(),
            ServiceError::Db(db) => db.into(),
        }
    }
}

impl From<crate::subjects::SubjectError> for ApiError {
    fn from(e: crate::subjects::SubjectError) -> Self {
        use crate::subjects::SubjectError;
        match e {
            SubjectError::Invalid { field, message } => {
                Self::invalid("invalid_field", field, message)
            }
            SubjectError::NotFound => Self::not_found(),
            SubjectError::Corrupt(_) => Self::internal(&e),
            SubjectError::Db(db) => db.into(),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let unauthorized = |code| Self::new(StatusCode::UNAUTHORIZED, code, e.to_string());
        match e {
            AuthError::Missing => unauthorized("missing_token"),
            AuthError::Malformed => unauthorized("malformed_token"),
            AuthError::BadSignature | AuthError::Unacceptable(_) => unauthorized("invalid_token"),
            AuthError::Expired => unauthorized("expired_token"),
            AuthError::Revoked => unauthorized("revoked_token"),
            AuthError::Forbidden(_) => Self::new(StatusCode::FORBIDDEN, "forbidden", e.to_string()),
            AuthError::InvalidRequest(ref m) => Self::invalid("invalid_field", "role", m.clone()),
            AuthError::Key(_) => Self::internal(&e),
        }
    }
}

impl From<ContractError> for ApiError {
    fn from(e: ContractError) -> Self {
        match e {
            ContractError::NotFound(_) => Self::not_found(),
            ContractError::Db(db) => db.into(),
            other => Self::internal(&other),
        }
    }
}

impl From<crate::knowledge::KnowledgeError> for ApiError {
    fn from(e: crate::knowledge::KnowledgeError) -> Self {
        use crate::knowledge::KnowledgeError;
        match e {
            KnowledgeError::BadQuery { field, message } => {
                Self::invalid("invalid_query", field, message)
            }
            KnowledgeError::Db(db) => db.into(),
            other => Self::internal(&other),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        DbError::Query(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::PROBLEM_CODES;

    /// The codes the source hands to problems: the first string of an `ApiError::new`,
    /// `invalid`, `InputProblem::at` or an `unauthorized(…)` call, and `code: "…"` fields.
    fn codes_in(source: &str) -> Vec<String> {
        let mut codes = Vec::new();
        for opener in [
            "ApiError::new(",
            "ApiError::invalid(",
            "Self::new(",
            "Self::invalid(",
            "InputProblem::at(",
            "unauthorized(",
            "code: ",
        ] {
            for (at, _) in source.match_indices(opener) {
                let rest = &source[at + opener.len()..];
                let Some(open) = rest.find('"') else { continue };
                // The code is the call's first argument, or its second after a status.
                let before = rest[..open].trim();
                let after_status = before
                    .strip_prefix("StatusCode::")
                    .is_some_and(|s| s.ends_with(',') && !s.contains([' ', '(', ')']));
                if !(before.is_empty() || after_status) {
                    continue;
                }
                let tail = &rest[open + 1..];
                let code: String = tail.chars().take_while(|c| *c != '"').collect();
                if !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    codes.push(code);
                }
            }
        }
        codes
    }

    #[test]
    fn every_code_the_source_uses_is_listed() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut files = vec![format!("{root}/json_input.rs")];
        for entry in std::fs::read_dir(format!("{root}/http"))
            .into_iter()
            .flatten()
            .flatten()
        {
            files.push(entry.path().display().to_string());
        }
        let mut seen = 0;
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap_or_default();
            let source = source.split("#[cfg(test)]").next().unwrap_or_default();
            for code in codes_in(source) {
                seen += 1;
                assert!(
                    PROBLEM_CODES.contains(&code.as_str()),
                    "{file}: `{code}` is not listed"
                );
            }
        }
        assert!(seen >= 20, "the scan found only {seen} codes");
    }
}
