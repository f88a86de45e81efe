//! Integration tests of the deep models (one binary for the crate).

mod common;
mod fused;
mod infer;
mod ncf;
mod sequential;
mod sequential_inference;
mod train;
mod two_tower;
mod two_tower_features;
