//! The HTTP surface: the router, its middleware stack, and the small
//! non-GraphQL endpoints. Each submodule owns its handlers; this module
//! only assembles them.

mod auth;
mod console;
mod documents;
mod graphql;
mod health;
mod media;
mod metrics;
mod rate_limit;

use std::time::Duration;

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, Request, State},
    http::{HeaderName, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

pub(crate) use metrics::Metrics;
pub(crate) use rate_limit::RateLimiter;

use crate::{
    AppState,
    error::{ErrorCode, INTERNAL_MESSAGE},
};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A GraphQL-shaped error body, for failures outside GraphQL execution
/// (authentication, rate limits, bad HTTP requests, timeouts).
pub(crate) fn error_response(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code.as_str() } }]
    });
    (status, Json(body)).into_response()
}

/// Builds the public router with every route and middleware. `/metrics` is
/// not on it: see [`metrics_router`].
pub(crate) fn router(state: AppState) -> Router {
    let graphql_routes = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/documents/{id}/file", get(documents::download))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            rate_limit::limit,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));

    let timeout = state.request_timeout;
    Router::new()
        .merge(graphql_routes)
        .route("/graphiql", get(console::graphiql))
        .route("/console", get(console::page))
        .route("/console/{*path}", get(console::file))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        .layer(middleware::from_fn_with_state(timeout, enforce_timeout))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::record,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|request: &Request| {
                        let request_id = request
                            .headers()
                            .get(REQUEST_ID)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default();
                        // Who and what, recorded once known: the principal by
                        // `auth`, the operation by the GraphQL handler.
                        tracing::info_span!(
                            "request",
                            method = %request.method(),
                            path = %request.uri().path(),
                            request_id,
                            role = tracing::field::Empty,
                            brand = tracing::field::Empty,
                            credential = tracing::field::Empty,
                            operation = tracing::field::Empty,
                        )
                    }),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(CatchPanicLayer::custom(|_| {
                    tracing::error!("a request handler panicked");
                    error_response(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        ErrorCode::Internal,
                        INTERNAL_MESSAGE,
                    )
                })),
        )
        .with_state(state)
}

/// The router of the metrics listener: `GET /metrics` alone, in the
/// Prometheus text format. It is served on its own address (loopback by
/// default) so the public listener never answers it; the counters it shows
/// are fed by the public router's middleware.
pub(crate) fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::render))
        .with_state(state)
}

/// Answers 503 when a request runs longer than the configured timeout.
async fn enforce_timeout(
    State(timeout): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal,
            "the request took too long and was stopped",
        ),
    }
}
