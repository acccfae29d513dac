//! The only way an error reaches a GraphQL client. Resolvers return
//! `Result<T, ApiError>`; `async-graphql`'s blanket conversion from any
//! `Display` is switched off (feature `custom-error-conversion`), so a raw
//! `DbErr` can't slip through with SQL in its message.

use async_graphql::ErrorExtensions as _;

use crate::error::{CodedError, ErrorCode, INTERNAL_MESSAGE};

/// A client-safe error with a stable `extensions.code`.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
    details: Vec<(&'static str, String)>,
}

impl ApiError {
    /// An error a client can act on, with a client-safe message in the
    /// contract's names. An internal code goes through [`ApiError::internal`]
    /// instead, so its text is logged, never sent.
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        if code == ErrorCode::Internal {
            return Self::internal(message.into());
        }
        Self {
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// Something is wrong on our side: `context` is logged here, inside
    /// the request span, and the client gets only the code and a generic
    /// message. The one way to build an internal error.
    pub(crate) fn internal(context: impl std::fmt::Display) -> Self {
        tracing::error!(error = %context, "internal error in a resolver");
        Self {
            code: ErrorCode::Internal,
            message: INTERNAL_MESSAGE.to_owned(),
            details: Vec::new(),
        }
    }
}

impl<E: CodedError> From<E> for ApiError {
    /// Internal errors are logged here, once, inside the request span, and
    /// reach the client only as a code and a generic message.
    fn from(error: E) -> Self {
        let code = error.code();
        if code == ErrorCode::Internal {
            return Self::internal(error);
        }
        Self {
            code,
            message: error.client_message(),
            details: error.details(),
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        async_graphql::Error::new(error.message).extend_with(|_, extensions| {
            extensions.set("code", error.code.as_str());
            for (name, value) in &error.details {
                extensions.set(*name, value.as_str());
            }
        })
    }
}
