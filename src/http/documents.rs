//! `GET /documents/{id}/file`: a filed qualification document's file, for
//! the brand that filed it and for reviewers, with the same bearer token as
//! `/graphql`. Files are sent as attachments with their detected type, so
//! a browser never renders an upload inline.

use axum::{
    Extension,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::error_response;
use crate::{
    AppState,
    auth::Principal,
    error::{ErrorCode, INTERNAL_MESSAGE},
    onboarding::{OnboardingError, documents},
};

fn not_found() -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "document not found",
    )
}

fn internal() -> Response {
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Internal,
        INTERNAL_MESSAGE,
    )
}

/// A file name safe in a header: ASCII letters, digits, `.`, `-`, `_`.
fn header_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// GET /documents/{id}/file.
pub(super) async fn download(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    let document = match documents::get(&state.db, principal.brand_scope(), id).await {
        Ok(document) => document,
        Err(OnboardingError::DocumentNotFound) => return not_found(),
        Err(error) => {
            tracing::error!(%error, document = id, "cannot read a document");
            return internal();
        }
    };
    let content = match state.documents.blobs.get(&document.sha256).await {
        Ok(content) => content,
        Err(error) => {
            tracing::error!(%error, document = id, "cannot read a document's file");
            return internal();
        }
    };
    let disposition = format!(
        "attachment; filename=\"{}\"",
        header_name(&document.file_name)
    );
    let content_type = HeaderValue::from_str(&document.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let disposition =
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        content,
    )
        .into_response()
}
