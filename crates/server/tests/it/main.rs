//! In-process tests of the HTTP service (the Router called through `tower::ServiceExt::oneshot`;
//! no port). One integration-test binary for the crate.

mod api;
mod assistant;
mod buy_again;
mod experiments;
mod fuzz;
mod guard;
mod openapi;
mod privacy;
mod support;
mod web;
