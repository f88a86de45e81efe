//! daogou-core's tests, one binary: a module per source file they test.

mod basket;
mod dataset;
mod ids;
mod kv;
mod params;
mod rng;
mod sparse;
mod types;
