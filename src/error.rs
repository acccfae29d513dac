//! The error vocabulary shared by every layer: each domain error says which
//! stable [`ErrorCode`] a client sees, and whether its detail is internal.
//!
//! Transports (GraphQL, plain HTTP) turn a [`CodedError`] into a response;
//! internal errors are logged there, once, and masked.

use std::fmt;

/// What a client is told about an internal failure; the detail is logged.
pub(crate) const INTERNAL_MESSAGE: &str = "internal error; it has been logged";

/// A stable, documented code that clients branch on (`extensions.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// No credential, or one that is malformed, expired or revoked.
    Unauthenticated,
    /// The caller's role may not do this at all (never used to hide a
    /// brand's data: that is [`ErrorCode::NotFound`]).
    Forbidden,
    /// The object does not exist, or is not visible to the caller.
    NotFound,
    /// The input is malformed or out of range; the message says which.
    BadUserInput,
    /// The request changed something that changed underneath it.
    Conflict,
    /// The workflow does not allow this step from where the object stands.
    IllegalTransition,
    /// The brand's standing in the programme (prospect, suspended) does
    /// not allow this; see the standing table in README.
    BrandNotInStanding,
    /// Too many requests for this principal; retry later.
    RateLimited,
    /// The brand's privacy budget cannot pay for this question now.
    PrivacyBudgetExhausted,
    /// The query is too deep, too complex or too wide.
    QueryTooExpensive,
    /// The request is not valid GraphQL syntax.
    GraphqlParseFailed,
    /// The request parsed but does not validate against the schema.
    GraphqlValidationFailed,
    /// Something went wrong on our side; details are in our logs only.
    Internal,
}

impl ErrorCode {
    /// The wire form, e.g. `NOT_FOUND`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::IllegalTransition => "ILLEGAL_TRANSITION",
            Self::BrandNotInStanding => "BRAND_NOT_IN_STANDING",
            Self::RateLimited => "RATE_LIMITED",
            Self::PrivacyBudgetExhausted => "PRIVACY_BUDGET_EXHAUSTED",
            Self::QueryTooExpensive => "QUERY_TOO_EXPENSIVE",
            Self::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            Self::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Self::Internal => "INTERNAL",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error that knows what a client may be told about it.
pub trait CodedError: std::error::Error + Send + Sync + 'static {
    /// The stable code a client sees.
    fn code(&self) -> ErrorCode;

    /// Extra `extensions` entries a client can act on (e.g. `resetsAt`).
    fn details(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// The message a client sees. Internal errors never show their own text.
    fn client_message(&self) -> String {
        match self.code() {
            ErrorCode::Internal => INTERNAL_MESSAGE.to_owned(),
            _ => self.to_string(),
        }
    }
}

impl CodedError for sea_orm::DbErr {
    fn code(&self) -> ErrorCode {
        ErrorCode::Internal
    }
}
