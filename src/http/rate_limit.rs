//! Per-principal token buckets (GCRA, from `governor`). Limits are per
//! instance: behind a router with N instances a principal gets up to N times
//! the rate, which bounds abuse without shared state on the request path.

use std::{num::NonZeroU32, sync::Arc};

use axum::{
    Extension,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::Response,
};
use governor::{Quota, clock::Clock as _};

use super::error_response;
use crate::{AppState, auth::Principal, config::RateLimit, error::ErrorCode};

/// The keyed limiter, one bucket per credential.
#[derive(Clone)]
pub struct RateLimiter(Arc<governor::DefaultKeyedRateLimiter<String>>);

impl RateLimiter {
    /// A limiter with the configured rate and burst.
    pub fn new(limit: RateLimit) -> Self {
        let quota = Quota::per_second(limit.per_second).allow_burst(limit.burst);
        Self(Arc::new(governor::RateLimiter::keyed(quota)))
    }

    /// Forgets idle buckets; called periodically so memory stays bounded.
    pub fn shrink(&self) {
        self.0.retain_recent();
        self.0.shrink_to_fit();
    }
}

/// Lets the request through or answers 429 with `Retry-After`.
pub(super) async fn limit(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    request: Request,
    next: Next,
) -> Response {
    match state.rate_limiter.0.check_key(&principal.credential_id) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let seconds = NonZeroU32::new(u32::try_from(seconds).unwrap_or(u32::MAX))
                .map_or(1, NonZeroU32::get);
            let mut response = error_response(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RateLimited,
                "rate limit exceeded; retry after the time in the Retry-After header",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            response
        }
    }
}
