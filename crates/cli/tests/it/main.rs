//! End-to-end tests of the `daogou` binary: the command-line contract that scripts rely on.
//! One integration-test binary for the crate (link once).

mod cli;
mod cluster;
mod compare;
mod datasets;
mod fixtures;
mod forget;
mod parquet;
mod protocol;
mod report;
mod serve;
