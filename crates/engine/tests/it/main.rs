//! Integration tests of the engine: the store, snapshots, live state and lists together. One
//! integration-test binary for the crate.

mod catalogue;
mod engine;
mod experiment;
mod filter;
mod lists;
mod live;
mod pick;
mod scoring;
mod session;
