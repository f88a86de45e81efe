//! # daogou-server
//!
//! The HTTP recommendation service behind `daogou serve`: axum on tokio over the answer
//! pipeline of [`daogou_engine`] (the same one the command line answers with). This crate
//! keeps what is HTTP: state, routing, request validation, API keys and rate limits, metrics,
//! the OpenAPI document and the web pages.
//!
//! CPU work (fitting, long scorings, SQLite) runs in `spawn_blocking`, never on the async
//! workers.
//!
//! Modules, in the order a request meets them: [`middleware`] (metrics, timeouts), [`guard`]
//! (Host, Origin, content type, API keys and rate limits), the endpoint modules (`status`, `ingest`, `answers`, `admin`, `experiments`, `assistant`, `dashboard`, `web`),
//! which read [`http`] input helpers and the shared [`state`]; none of them imports another.
//!
//! ```no_run
//! # async fn run() -> Result<(), daogou_server::BoxError> {
//! use daogou_server::{AppState, Config};
//! let config = Config::default();
//! let store = daogou_store::SqliteStore::open(&config.db)?;
//! let state = tokio::task::spawn_blocking(move || AppState::new(store, config)).await??;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! // the connection's addresses feed the Host check and the per-address rate limit
//! let app = daogou_server::router(state).into_make_service_with_connect_info::<daogou_server::Peer>();
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::{middleware as mw, Router};

mod admin;
mod answers;
mod assistant;
pub mod cluster;
pub mod config;
mod dashboard;
mod error;
mod experiments;
mod follow;
pub mod guard;
mod guide;
mod http;
mod ingest;
pub mod metrics;
pub mod middleware;
mod openapi;
#[doc(hidden)]
pub mod origin;
pub mod pseudonym;
pub mod state;
mod status;
mod web;

pub use admin::start_background;
pub use config::{parse_api_keys, ApiKey, Config, Limits, Scope, Scopes};
pub use error::ApiError;
pub use guard::{scope_for, Peer};
pub use openapi::document as openapi_document;
pub use state::{AppState, BoxError};

/// The service's router over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.limits.body_limit;
    let timeout = state.config.timeout;
    Router::new()
        .merge(status::routes())
        .merge(ingest::routes())
        .merge(answers::routes())
        .merge(admin::routes())
        .merge(experiments::routes())
        .merge(assistant::routes())
        .merge(dashboard::routes())
        .merge(web::routes())
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .layer(mw::from_fn_with_state(guard::Guard::new(state.clone()), guard::check))
        .layer(DefaultBodyLimit::max(limit))
        .layer(mw::from_fn_with_state(state.clone(), middleware::track))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, timeout))
        .layer(mw::map_response(middleware::timeout_as_json))
        .with_state(state)
}
