//! # daogou-nn
//!
//! Deep-learning recommenders on candle, kept in a crate of their own so that the rest of the
//! workspace compiles without the framework. The models plug into the algo registry at run
//! time: the binary calls [`register`] once, and the deep models are then selectable by name
//! in `train`, `evaluate`, `tune` and the model-file format.
//!
//! [`train`] holds what every model's training shares (seeded init, AdamW, stable losses,
//! validation holdout and NDCG, early stopping, progress bar, weights ↔ model state);
//! [`infer`] the plain-`f32` scoring helpers used after training.
#![warn(missing_docs)]

use daogou_algo::ModelInfo;

pub mod infer;
pub mod ncf;
pub mod sequential;
pub mod train;

/// The deep models, in the order `daogou models` lists them.
pub static MODELS: &[ModelInfo] = &[
    ModelInfo { name: "ncf", about: ncf::ABOUT, params: ncf::PARAMS, fit: ncf::fit, load: ncf::load },
    ModelInfo {
        name: "sequential",
        about: sequential::ABOUT,
        params: sequential::PARAMS,
        fit: sequential::fit,
        load: sequential::load,
    },
];

/// Add the deep models to the algo registry (idempotent).
pub fn register() {
    daogou_algo::register_models(MODELS);
}
