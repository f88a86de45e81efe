//! # daogou-nn
//!
//! Deep-learning recommenders on candle, kept in a crate of their own so that the rest of the
//! workspace compiles without the framework. The models plug into the algo registry at run
//! time: the binary calls [`register`] once, and `ncf`, `two-tower` and `sequential` are then
//! selectable by name in `train`, `evaluate`, `tune` and the model-file format.
#![warn(missing_docs)]

use daogou_algo::ModelInfo;

pub mod fused;
pub mod infer;
pub mod ncf;
pub mod sequential;
pub mod train;
pub mod two_tower;

/// The deep models, in the order `daogou models` lists them.
pub static MODELS: &[ModelInfo] = &[
    ModelInfo {
        name: "ncf",
        about: ncf::ABOUT,
        params: ncf::PARAMS,
        fit: ncf::fit,
        load: ncf::load,
        reads_events: true,
    },
    ModelInfo {
        name: "two-tower",
        about: two_tower::ABOUT,
        params: two_tower::PARAMS,
        fit: two_tower::fit,
        load: two_tower::load,
        reads_events: true,
    },
    ModelInfo {
        name: "sequential",
        about: sequential::ABOUT,
        params: sequential::PARAMS,
        fit: sequential::fit,
        load: sequential::load,
        reads_events: true,
    },
];

/// Add the deep models to the algo registry (idempotent).
pub fn register() {
    daogou_algo::register_models(MODELS);
}
