//! Liveness and readiness probes for orchestrators.

use axum::{extract::State, http::StatusCode};

use crate::AppState;

/// Liveness: the process answers.
pub(super) async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers too.
pub(super) async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match crate::db::ping(&state.db).await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
