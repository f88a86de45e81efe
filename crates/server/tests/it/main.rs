//! In-process tests of the HTTP service (the Router called through `tower::ServiceExt::oneshot`;
//! no port). One integration-test binary for the crate.

mod api;
mod assistant;
mod buy_again;
mod config;
mod experiments;
mod fuzz;
mod guard;
mod guard_rules;
mod openapi;
mod privacy;
mod pseudonym;
mod support;
mod web;
