//! Model registry: name → constructor, used by `--model NAME`.

use daogou_core::Params;

use crate::{Error, ModelState, Recommender, Result, TrainData};

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
    /// Rebuild a fitted model from its saved [`ModelState`].
    pub load: fn(&ModelState) -> Result<Box<dyn Recommender>>,
    /// Reads [`TrainData::events`] (times, kinds, order) besides the matrix. When false the
    /// caller may train from the matrix alone and free the events first (large data).
    pub reads_events: bool,
}

/// All registered models.
pub static MODELS: &[ModelInfo] = &[
    ModelInfo {
        name: "popularity",
        about: "most popular items first (distinct users; ties by summed value)",
        params: crate::popularity::PARAMS,
        fit: crate::popularity::fit,
        load: crate::popularity::load,
        reads_events: false,
    },
    ModelInfo {
        name: "buy-again",
        about: "the user's own past items by frequency and recency, then the popular ones (retail rebuys)",
        params: crate::buy_again::PARAMS,
        fit: crate::buy_again::fit,
        load: crate::buy_again::load,
        reads_events: true,
    },
    ModelInfo {
        name: "category-popularity",
        about: "popular items of the user's preferred categories, with a category prior that ranks items nobody bought yet",
        params: crate::category_popularity::PARAMS,
        fit: crate::category_popularity::fit,
        load: crate::category_popularity::load,
        reads_events: false,
    },
    ModelInfo {
        name: "baseline",
        about: "global mean + user and item biases (ALS, Surprise BaselineOnly)",
        params: crate::baseline::PARAMS,
        fit: crate::baseline::fit,
        load: crate::baseline::load,
        reads_events: false,
    },
    ModelInfo {
        name: "user-knn",
        about: "user-based k-nearest neighbours (mean-centred ratings; neighbourhood vote for top-N)",
        params: crate::user_knn::PARAMS,
        fit: crate::user_knn::fit,
        load: crate::user_knn::load,
        reads_events: false,
    },
    ModelInfo {
        name: "item-knn",
        about: "item-based k-nearest neighbours (cosine/BM25/TF-IDF item lists; mean-centred ratings)",
        params: crate::item_knn::PARAMS,
        fit: crate::item_knn::fit,
        load: crate::item_knn::load,
        reads_events: false,
    },
    ModelInfo {
        name: "als",
        about: "implicit-feedback matrix factorisation by weighted ALS, c = 1 + alpha·r (Hu, Koren & Volinsky; implicit's ALS)",
        params: crate::als::PARAMS,
        fit: crate::als::fit,
        load: crate::als::load,
        reads_events: false,
    },
    ModelInfo {
        name: "ease",
        about: "EASE (Steck 2019): closed-form dense item×item linear model, B = I − P·diagMat(1/diag P), P = (XᵀX + λI)⁻¹",
        params: crate::ease::PARAMS,
        fit: crate::ease::fit,
        load: crate::ease::load,
        reads_events: false,
    },
    ModelInfo {
        name: "bpr",
        about: "Bayesian Personalised Ranking: p_u·q_i + b_i by Hogwild SGD on (user, positive, negative) triples",
        params: crate::bpr::PARAMS,
        fit: crate::bpr::fit,
        load: crate::bpr::load,
        reads_events: false,
    },
    ModelInfo {
        name: "svd",
        about: "biased matrix factorisation by SGD, μ + b_u + b_i + p_u·q_i (Surprise SVD)",
        params: crate::svd::PARAMS,
        fit: crate::svd::fit,
        load: crate::svd::load,
        reads_events: false,
    },
    ModelInfo {
        name: "svdpp",
        about: "SVD++: matrix factorisation with implicit feedback from the rated items (Surprise SVDpp)",
        params: crate::svdpp::PARAMS,
        fit: crate::svdpp::fit,
        load: crate::svdpp::load,
        reads_events: false,
    },
    ModelInfo {
        name: "knn-baseline",
        about: "item-based k-NN on baseline residuals, pearson_baseline similarity (Surprise KNNBaseline)",
        params: crate::knn_baseline::PARAMS,
        fit: crate::knn_baseline::fit,
        load: crate::knn_baseline::load,
        reads_events: false,
    },
    ModelInfo {
        name: "slope-one",
        about: "Slope One: user mean + average rating deviation to the user's items (Surprise SlopeOne)",
        params: crate::slope_one::PARAMS,
        fit: crate::slope_one::fit,
        load: crate::slope_one::load,
        reads_events: false,
    },
];

/// Model families registered at run time by crates the algo crate cannot depend on (the deep
/// learning crate registers `ncf`, `two-tower`, … from the binary's `main`).
static EXTRA: std::sync::RwLock<Vec<&'static [ModelInfo]>> = std::sync::RwLock::new(Vec::new());

/// Add models to the registry (idempotent: registering the same list twice adds it once).
pub fn register_models(models: &'static [ModelInfo]) {
    let mut extra = EXTRA.write().unwrap_or_else(|e| e.into_inner());
    if !extra.iter().any(|m| std::ptr::eq(*m, models)) {
        extra.push(models);
    }
}

/// Every registered model: the built-in [`MODELS`] and those added by [`register_models`].
pub fn all_models() -> Vec<&'static ModelInfo> {
    let extra = EXTRA.read().unwrap_or_else(|e| e.into_inner());
    MODELS.iter().chain(extra.iter().flat_map(|m| m.iter())).collect()
}

/// The registered model called `name`.
pub fn find_model(name: &str) -> Option<&'static ModelInfo> {
    all_models().into_iter().find(|m| m.name == name)
}

/// Registered model names.
pub fn model_names() -> Vec<&'static str> {
    all_models().iter().map(|m| m.name).collect()
}

fn lookup(name: &str) -> Result<&'static ModelInfo> {
    find_model(name).ok_or_else(|| Error::UnknownModel { name: name.to_owned(), available: model_names().join(", ") })
}

/// Fit model `name` with `params` on `train`.
pub fn build_model(name: &str, params: &Params, train: &TrainData<'_>) -> Result<Box<dyn Recommender>> {
    (lookup(name)?.fit)(train, params)
}

/// Rebuild a fitted model from a saved state (the model named in `state.model`).
pub fn load_model(state: &ModelState) -> Result<Box<dyn Recommender>> {
    (lookup(&state.model)?.load)(state)
}
