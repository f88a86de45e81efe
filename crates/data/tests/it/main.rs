//! daogou-data's tests, one binary: a module per reader, transform and generator.

mod delimited;
mod features;
mod jsonl;
mod movielens;
mod options;
mod parquet_file;
mod preprocess;
mod retail;
mod signal;
mod source;
mod split;
mod synth;
mod time;
