//! The one integration-test binary of daogou-store (one link for all tests).

mod api;
mod atomicity;
mod common;
mod crash;
mod deletions;
mod open;
mod perf;
