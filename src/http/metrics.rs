//! Prometheus metrics: requests, latency, GraphQL errors by code and SQL
//! statements executed. Each
//! application owns its registry (no global), so tests can run many apps in
//! one process.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use prometheus::{
    Encoder as _, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry,
    TextEncoder,
};

use crate::AppState;

/// The application's metric families.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    graphql_errors: IntCounterVec,
    db_statements: IntCounter,
}

impl Metrics {
    /// Registers the metric families.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["path", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route",
            ),
            &["path", "method"],
        )?;
        let graphql_errors = IntCounterVec::new(
            Opts::new("graphql_errors_total", "GraphQL errors by extensions.code"),
            &["code"],
        )?;
        let db_statements = IntCounter::new(
            "db_statements_total",
            "SQL statements the server executed (request and background work)",
        )?;
        registry.register(Box::new(db_statements.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(graphql_errors.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            graphql_errors,
            db_statements,
        })
    }

    /// Counts every statement `db` executes from now on (clones made later
    /// share the callback), so a test or an operator can see how many
    /// statements a request costs.
    pub fn count_statements(&self, db: &mut sea_orm::DatabaseConnection) {
        let counter = self.db_statements.clone();
        db.set_metric_callback(move |_| counter.inc());
    }

    /// Counts one GraphQL error.
    pub fn graphql_error(&self, code: &str) {
        self.graphql_errors.with_label_values(&[code]).inc();
    }
}

/// Times and counts every request, labelled by its route template.
pub(super) async fn record(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let method = request.method().as_str().to_owned();
    let start = Instant::now();
    let response = next.run(request).await;
    state
        .metrics
        .latency
        .with_label_values(&[path.as_str(), method.as_str()])
        .observe(start.elapsed().as_secs_f64());
    state
        .metrics
        .requests
        .with_label_values(&[path.as_str(), method.as_str(), response.status().as_str()])
        .inc();
    response
}

/// GET /metrics in the Prometheus text format.
pub(super) async fn render(State(state): State<AppState>) -> Response {
    let mut buffer = Vec::new();
    match TextEncoder::new().encode(&state.metrics.registry.gather(), &mut buffer) {
        Ok(()) => ([(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], buffer).into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot encode metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
