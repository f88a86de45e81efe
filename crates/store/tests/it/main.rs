//! The one integration-test binary of daogou-store (one link for all tests).

mod api;
mod atomicity;
mod common;
mod crash;
mod deletion_log;
mod deletions;
mod experiments;
mod open;
mod perf;
mod schema;
mod sqlite;
mod url;
