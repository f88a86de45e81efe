//! What wraps every request besides the [`crate::guard`]: metrics, JSON for timeouts, unknown
//! routes and methods.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

type S = State<Arc<AppState>>;

pub(crate) async fn track(State(s): S, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = match *req.method() {
        Method::GET | Method::POST | Method::PUT | Method::DELETE | Method::HEAD | Method::PATCH | Method::OPTIONS => {
            req.method().as_str().to_owned()
        }
        _ => "OTHER".to_owned(), // bounded label values
    };
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |m| m.as_str()).to_owned();
    let resp = next.run(req).await;
    s.metrics.observe(&method, &route, resp.status().as_u16(), start.elapsed());
    resp
}

/// The timeout layer answers an empty 503; say it in JSON like every other error.
pub(crate) async fn timeout_as_json(resp: Response) -> Response {
    if resp.status() == StatusCode::SERVICE_UNAVAILABLE && !resp.headers().contains_key(header::CONTENT_TYPE) {
        return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "timeout", "the request took longer than the timeout")
            .into_response();
    }
    resp
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; see /openapi.json")
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed on this endpoint")
}
