//! How the service is doing: `/health`, `/metrics` and `/openapi.json`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::state::AppState;

type S = State<Arc<AppState>>;

/// The routes of this module (`/health` open, the others scope read).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/health", get(health)).route("/openapi.json", get(openapi)).route("/metrics", get(metrics))
}

async fn health(State(s): S) -> Json<Value> {
    let snap = s.snapshot();
    let last = s.last_retrain.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Json(json!({
        "status": "ok",
        "model": snap.model_name(),
        "model_version": snap.version,
        "users": snap.users.len(),
        "items": snap.items.len(),
        "data_matches": snap.data_matches,
        "last_retrain": last,
    }))
}

async fn openapi(State(s): S) -> Json<Value> {
    Json(crate::openapi::document(&s.config.limits))
}

async fn metrics(State(s): S) -> Response {
    let n = s.snapshot().items.len();
    let body = s.metrics.render(n, &s.engine.live_stats());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}
