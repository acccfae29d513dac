//! Content negotiation for GraphQL responses (GraphQL-over-HTTP):
//! `application/graphql-response+json` is preferred, `application/json`
//! is the legacy form; anything else acceptable to the client is 406.

use axum::{
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::error_response;
use crate::error::ErrorCode;

/// The media type a response is sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Media {
    /// `application/graphql-response+json`: request errors get 4xx.
    GraphqlResponseJson,
    /// `application/json`: always 200 once the request is well-formed.
    Json,
}

impl Media {
    pub(super) fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }
}

/// Picks the response media type from `Accept` by quality, preferring
/// `application/graphql-response+json` on ties. No `Accept`, or only
/// wildcards, means `application/json`.
pub(super) fn negotiate(headers: &HeaderMap) -> Result<Media, NotAcceptable> {
    let Some(accept) = headers.get(header::ACCEPT) else {
        return Ok(Media::Json);
    };
    let accept = accept.to_str().unwrap_or_default();
    let mut best: Option<(f32, Media)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let media = match essence.as_str() {
            "application/graphql-response+json" => Media::GraphqlResponseJson,
            // Wildcards get the legacy form: what curl and older clients expect.
            "application/json" | "application/*" | "*/*" => Media::Json,
            _ => continue,
        };
        if quality <= 0.0 {
            continue;
        }
        let better = match best {
            None => true,
            Some((q, m)) => {
                quality > q
                    || (quality == q && m == Media::Json && media == Media::GraphqlResponseJson)
            }
        };
        if better {
            best = Some((quality, media));
        }
    }
    best.map(|(_, media)| media).ok_or(NotAcceptable)
}

/// The client accepts no media type we can send: 406.
pub(super) struct NotAcceptable;

impl IntoResponse for NotAcceptable {
    fn into_response(self) -> Response {
        error_response(
            StatusCode::NOT_ACCEPTABLE,
            ErrorCode::BadUserInput,
            "accept `application/graphql-response+json` or `application/json`",
        )
    }
}
