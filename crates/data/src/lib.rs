//! # daogou-data
//!
//! Data in: readers for CSV / JSONL (optionally gzip), column mappings, the MovieLens and
//! Online Retail presets, preprocessing, splits, and the synthetic demo shop.
#![warn(missing_docs)]

pub mod synth;
