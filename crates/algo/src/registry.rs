//! Model registry: name → constructor, used by `--model NAME`.
//! (Filled in by the models; see `MODELS`.)

use daogou_core::Params;

use crate::{Error, Recommender, Result, TrainData};

/// A registered model.
pub struct ModelInfo {
    /// Name used on the command line.
    pub name: &'static str,
    /// One-line description for `--help`.
    pub about: &'static str,
    /// Hyperparameters it accepts, with their meaning and default.
    pub params: &'static [(&'static str, &'static str)],
    /// Fit on training data.
    pub fit: fn(&TrainData<'_>, &Params) -> Result<Box<dyn Recommender>>,
}

/// All registered models.
pub static MODELS: &[ModelInfo] = &[];

/// Registered model names.
pub fn model_names() -> Vec<&'static str> {
    MODELS.iter().map(|m| m.name).collect()
}

/// Fit model `name` with `params` on `train`.
pub fn build_model(name: &str, params: &Params, train: &TrainData<'_>) -> Result<Box<dyn Recommender>> {
    let info = MODELS
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| Error::UnknownModel { name: name.to_owned(), available: model_names().join(", ") })?;
    (info.fit)(train, params)
}
