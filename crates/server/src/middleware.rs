//! What wraps every request: API keys and scopes, rate limits, metrics, JSON for timeouts,
//! unknown routes and methods.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::Scope;
use crate::error::ApiError;
use crate::state::AppState;

type S = State<Arc<AppState>>;

/// The scope a request needs (`None`: open).
pub fn scope_for(method: &Method, path: &str) -> Option<Scope> {
    if path == "/health" || crate::web::is_public(path) {
        return None;
    }
    Some(if path.starts_with("/admin/") || (method == Method::DELETE && path.starts_with("/users/")) {
        Scope::Admin
    } else if path == "/events" || (path.starts_with("/items/") && (method == Method::PUT || method == Method::DELETE))
    {
        Scope::Write
    } else {
        Scope::Read
    })
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) async fn auth(State(s): S, req: Request, next: Next) -> Response {
    let Some(need) = scope_for(req.method(), req.uri().path()) else { return next.run(req).await };
    if s.config.api_keys.is_empty() {
        return next.run(req).await;
    }
    let h = req.headers();
    // an Authorization header, when present, must carry the key (a bad one is never
    // overridden by X-API-Key)
    let presented = match h.get(header::AUTHORIZATION) {
        Some(a) => a.to_str().ok().and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer "))),
        None => h.get("x-api-key").and_then(|v| v.to_str().ok()),
    }
    .map(str::trim);
    let key = presented.and_then(|p| {
        // compare against every key, so the time taken does not say which prefix matched
        let mut found = None;
        for k in &s.config.api_keys {
            if ct_eq(k.key.as_bytes(), p.as_bytes()) {
                found = Some(k);
            }
        }
        found
    });
    match key {
        None => {
            let mut r = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid API key is required (Authorization: Bearer KEY or X-API-Key: KEY)",
            )
            .into_response();
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            r
        }
        Some(k) if !k.scopes.has(need) => ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this API key lacks the `{}` scope", need.as_str()),
        )
        .into_response(),
        Some(k) if !s.allow(&k.key) => {
            let mut r = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("more than {} requests per second for this API key", s.config.rate_limit),
            )
            .into_response();
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            r
        }
        Some(_) => next.run(req).await,
    }
}

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
