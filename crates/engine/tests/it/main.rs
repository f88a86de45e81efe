//! Integration tests of the engine: the store, snapshots, live state and lists together. One
//! integration-test binary for the crate.

mod engine;
mod scoring;
mod session;
