//! daogou-modelfile's tests, one binary.

mod file;
