//! JSON errors: every failure answers `{"code": "...", "message": "..."}` with a 4xx status for
//! bad input (never a 5xx) and 5xx only for faults of the server itself.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// An error answered as `{"code", "message"}` with `status`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code (`bad_request`, `unauthorized`, …).
    pub code: &'static str,
    /// Human-readable message naming the offending field.
    pub message: String,
}

impl ApiError {
    /// Any status and code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }
    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    /// 500 `internal` (a fault of the server, never of the input).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"code": self.code, "message": self.message}))).into_response()
    }
}

impl From<daogou_store::StoreError> for ApiError {
    fn from(e: daogou_store::StoreError) -> Self {
        match e {
            daogou_store::StoreError::Invalid(m) => ApiError::bad_request(m),
            // the shared database is down or restarting: nothing was written, try again
            e @ daogou_store::StoreError::Unavailable(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e.to_string())
            }
            other => ApiError::internal(format!("store: {other}")),
        }
    }
}

impl From<daogou_engine::Error> for ApiError {
    fn from(e: daogou_engine::Error) -> Self {
        use daogou_engine::Error as E;
        let msg = e.to_string();
        match e {
            E::Store(s) => s.into(),
            E::UnknownItem(_) | E::DeletedItem(_) | E::ItemNotInModel(_) | E::NotFound(_) => ApiError::not_found(msg),
            E::NoSimilarity(_) => ApiError::new(StatusCode::CONFLICT, "unsupported", msg),
            E::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "conflict", msg),
            E::ModelFile(_) | E::ForeignModel { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "model_refused", msg)
            }
            E::UnknownModel { .. } | E::Param(_) | E::Signal(_) => ApiError::bad_request(msg),
            E::Fit(_) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "fit_failed", msg),
            _ => ApiError::internal(msg),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::internal(format!("worker failed: {e}"))
    }
}
