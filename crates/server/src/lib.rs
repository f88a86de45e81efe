//! # daogou-server
//!
//! The HTTP recommendation service behind `daogou serve`: axum on tokio, one embedded SQLite
//! store, one model snapshot swapped atomically, per-user live histories for real-time
//! answers, API keys with scopes, JSON errors, Prometheus metrics and an OpenAPI document.
//!
//! CPU work (fitting, scoring, SQLite) runs in `spawn_blocking`, never on the async workers.
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

mod api;
mod assistant;
pub mod config;
mod dashboard;
pub mod engine;
mod error;
pub mod guard;
pub mod leaderboard;
pub mod metrics;
mod openapi;
pub mod pseudonym;
mod web;

pub use api::{router, scope_for, start_background};
pub use config::{parse_api_keys, ApiKey, Config, Scope, Scopes};
pub use engine::{AppState, BoxError, Filter, ModelSpec, Pick, Snapshot};
pub use error::ApiError;
pub use guard::Peer;
pub use openapi::document as openapi_document;
