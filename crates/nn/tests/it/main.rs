//! Integration tests of the deep models (one binary for the crate).

mod common;
mod ncf;
mod sequential;
mod two_tower;
