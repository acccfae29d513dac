//! Bearer authentication for `/graphql`: a valid credential becomes a
//! [`Principal`] in the request's extensions; anything else is a 401.

use axum::{
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::Response,
};

use super::error_response;
use crate::{
    AppState,
    auth::{self, AuthError},
    error::{CodedError as _, ErrorCode, INTERNAL_MESSAGE},
};

/// Authenticates the request or answers 401 with a message saying why.
pub(super) async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let result = match bearer(&request) {
        Ok(token) => auth::authenticate(&state.db, &state.keys, &state.credentials, token).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(principal) => {
            let span = tracing::Span::current();
            span.record(
                "role",
                sea_orm::ActiveEnum::to_value(&principal.role).as_str(),
            );
            span.record("credential", principal.credential_id.as_str());
            if let Some(brand) = principal.brand_id {
                span.record("brand", brand);
            }
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(error) if error.code() == ErrorCode::Internal => {
            tracing::error!(%error, "credential lookup failed");
            error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Internal,
                INTERNAL_MESSAGE,
            )
        }
        Err(error) => {
            let mut response = error_response(
                StatusCode::UNAUTHORIZED,
                error.code(),
                &error.client_message(),
            );
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"brand-gateway\""),
            );
            response
        }
    }
}

fn bearer(request: &Request) -> Result<&str, AuthError> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(AuthError::MissingToken)?
        .to_str()
        .map_err(|_| AuthError::MalformedHeader)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::MalformedHeader)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::MalformedHeader);
    }
    Ok(token.trim())
}
