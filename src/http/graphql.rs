//! `/graphql` per the GraphQL-over-HTTP spec. The stock async-graphql-axum
//! handler answers 200 to requests that fail to parse or validate; under
//! `application/graphql-response+json` the spec wants a 4xx, and clients
//! (and federation routers) rely on it. This handler also negotiates the
//! media type, refuses mutations over GET, and counts errors by code.

use std::collections::HashMap;

use async_graphql::{
    ParseRequestError, Request, Response as GqlResponse, Variables,
    http::{MultipartOptions, receive_body},
    parser::types::OperationType,
};
use axum::{
    Extension,
    body::Body,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{error_response, media};
use crate::{
    AppState,
    auth::Principal,
    error::{ErrorCode, INTERNAL_MESSAGE},
    graphql::{ExecutionStarted, Loaders},
};

/// The JSON body of a POST request.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestBody {
    query: String,
    #[serde(default)]
    operation_name: Option<String>,
    #[serde(default)]
    variables: Option<serde_json::Value>,
}

/// Room for a multipart request's other parts (the operation, the map).
const MULTIPART_OVERHEAD: usize = 64 * 1024;

fn too_large() -> Response {
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::BadUserInput,
        "the request body is too large",
    )
}

/// POST /graphql: a JSON request, or a GraphQL multipart request (the
/// multipart request spec) carrying one file.
pub(super) async fn post(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let media = match media::negotiate(&headers) {
        Ok(media) => media,
        Err(not_acceptable) => return not_acceptable.into_response(),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("multipart/form-data") {
        let limit = state.documents.max_bytes.saturating_add(MULTIPART_OVERHEAD);
        let Ok(body) = axum::body::to_bytes(body, limit).await else {
            return too_large();
        };
        let options = MultipartOptions::default()
            .max_num_files(1)
            .max_file_size(state.documents.max_bytes);
        return match receive_body(Some(content_type), body.as_ref(), options).await {
            Ok(request) => execute(&state, principal, request, media).await,
            Err(ParseRequestError::PayloadTooLarge) => too_large(),
            Err(_) => error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "the body is not a GraphQL multipart request with at most one file",
            ),
        };
    }
    if !essence.eq_ignore_ascii_case("application/json") {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BadUserInput,
            "send the request as `Content-Type: application/json` (or `multipart/form-data` with a file)",
        );
    }
    let Ok(body) = axum::body::to_bytes(body, state.max_body_bytes).await else {
        return too_large();
    };
    let body: RequestBody = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "the body is not a GraphQL request: expected JSON with a `query` string",
            );
        }
    };
    let mut request = Request::new(body.query);
    if let Some(name) = body.operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = body.variables.filter(|v| !v.is_null()) {
        if !variables.is_object() {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "`variables` must be a JSON object",
            );
        }
        request = request.variables(Variables::from_json(variables));
    }
    state.parsed.parse(&mut request);
    execute(&state, principal, request, media).await
}

/// GET /graphql: queries only, parameters in the query string.
pub(super) async fn get(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let media = match media::negotiate(&headers) {
        Ok(media) => media,
        Err(not_acceptable) => return not_acceptable.into_response(),
    };
    let Some(query) = params.get("query") else {
        return error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "pass the GraphQL document in the `query` parameter",
        );
    };
    let mut request = Request::new(query.clone());
    if let Some(name) = params.get("operationName") {
        request = request.operation_name(name.clone());
    }
    if let Some(raw) = params.get("variables") {
        match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(variables) if variables.is_object() => {
                request = request.variables(Variables::from_json(variables));
            }
            _ => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadUserInput,
                    "`variables` must be a JSON object",
                );
            }
        }
    }
    // Mutations must not ride on GET (caches, prefetchers, CSRF); decided on
    // the parsed document, which is then reused for execution.
    let operation_name = request.operation_name.clone();
    state.parsed.parse(&mut request);
    if let Ok(document) = request.parsed_query() {
        let operation = match &operation_name {
            Some(name) => document
                .operations
                .iter()
                .find(|(n, _)| n.is_some_and(|n| n == name.as_str())),
            None => document.operations.iter().next(),
        };
        if operation.is_some_and(|(_, op)| op.node.ty != OperationType::Query) {
            let mut response = error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::BadUserInput,
                "only queries may be sent with GET; use POST",
            );
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
    }
    execute(&state, principal, request, media).await
}

async fn execute(
    state: &AppState,
    principal: Principal,
    request: Request,
    media: media::Media,
) -> Response {
    let mut request = request;
    let operation = request.operation_name.clone().or_else(|| {
        let document = request.parsed_query().ok()?;
        let (name, _) = document.operations.iter().next()?;
        name.map(ToString::to_string)
    });
    if let Some(name) = operation {
        tracing::Span::current().record("operation", name.as_str());
    }
    let started = ExecutionStarted::default();
    let request = request
        .data(Loaders::new(&state.db, principal.brand_scope()))
        .data(principal)
        .data(started.clone());
    let mut response = state.schema.execute(request).await;
    let executed = started.get();
    label_errors(&mut response, executed);
    for error in &response.errors {
        if let Some(code) = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .and_then(|v| match v {
                async_graphql::Value::String(s) => Some(s.as_str()),
                _ => None,
            })
        {
            state.metrics.graphql_error(code);
        }
    }
    let status = if !executed && media == media::Media::GraphqlResponseJson {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = match serde_json::to_vec(&response) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "cannot serialise a GraphQL response");
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                INTERNAL_MESSAGE,
            );
        }
    };
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(media.content_type()),
        )],
        body,
    )
        .into_response()
}

/// Gives every error a code by the phase it came from. Parse,
/// validation, limit and argument-coercion errors are coded where they
/// arise (`graphql::limits`); what is still uncoded failed before
/// execution (an unknown operation name, say: a request error) or, once
/// executing, is something of ours that escaped the resolvers' own
/// errors, which is logged and masked.
fn label_errors(response: &mut GqlResponse, executed: bool) {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_some() {
            continue;
        }
        let code = if executed {
            tracing::error!(message = %error.message, path = ?error.path, "uncoded error in a response");
            error.message = INTERNAL_MESSAGE.to_owned();
            ErrorCode::Internal
        } else {
            ErrorCode::GraphqlValidationFailed
        };
        extensions.set("code", code.as_str());
    }
}
