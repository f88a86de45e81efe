//! Integration tests of the deep models (one binary for the crate).

mod common;
mod ncf;
mod two_tower;
