//! # daogou-algo
//!
//! Recommendation models behind one trait.
//!
//! * [`Recommender`]: scores every item for a known user, or for an ad-hoc history (what the
//!   real-time service needs: a fresh session, a user who just clicked something).
//! * [`RatingPredictor`]: predicts an explicit rating for a (user, item) pair.
//! * [`build_model`]: the model registry used by the CLI (`--model NAME --set key=value`).
//!
//! Models are fitted on a [`TrainData`]: a users×items [`Interactions`] matrix whose values are
//! ratings (explicit data) or interaction weights (implicit data).
#![warn(missing_docs)]

use daogou_core::{Interaction, Interactions, Item, Params};

// The model modules are public (hidden from the docs) for the crate's tests in tests/it: one
// test binary against the library instead of a second, optimised compile of the library with
// its unit tests (60 CPU-s of CI's build). Not API: callers use the re-exports below.
#[doc(hidden)]
pub mod als;
#[doc(hidden)]
pub mod baseline;
#[doc(hidden)]
pub mod bpr;
#[doc(hidden)]
pub mod buy_again;
#[doc(hidden)]
pub mod category_popularity;
#[doc(hidden)]
pub mod early_stop;
#[doc(hidden)]
pub mod ease;
#[doc(hidden)]
pub mod item_knn;
#[doc(hidden)]
pub mod knn_baseline;
#[doc(hidden)]
pub mod popularity;
#[doc(hidden)]
pub mod registry;
#[doc(hidden)]
pub mod sim;
#[doc(hidden)]
pub mod slope_one;
pub mod state;
#[doc(hidden)]
pub mod svd;
#[doc(hidden)]
pub mod svdpp;
pub mod topk;
#[doc(hidden)]
pub mod user_knn;

pub use als::batch_scores;
pub use baseline::Baseline;
pub use buy_again::{
    past_item_score, rank_past_purchases, BuyAgainParams, PastItem, DEFAULT_HALF_LIFE_DAYS, DEFAULT_RECENCY,
};
pub use daogou_core::Baskets;
pub use item_knn::ItemKnn;
pub use popularity::Popularity;
pub use registry::{all_models, build_model, find_model, load_model, model_names, register_models, ModelInfo, MODELS};
pub use state::{ModelState, Tensor};
pub use user_knn::UserKnn;

/// Errors from fitting models.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A bad or unknown hyperparameter.
    #[error(transparent)]
    Param(#[from] daogou_core::Error),
    /// A model name that is not registered.
    #[error("unknown model `{name}`; available models: {available}")]
    UnknownModel {
        /// the name given
        name: String,
        /// comma-separated registered names
        available: String,
    },
    /// A saved state that does not fit the model (missing or mis-sized array, bad number).
    #[error("{model}: saved state is invalid: {reason}")]
    BadState {
        /// model name
        model: String,
        /// what is wrong
        reason: String,
    },
    /// The training data cannot be used by this model.
    #[error("{model}: {reason}")]
    BadData {
        /// model name
        model: String,
        /// why
        reason: String,
    },
}

/// Result with the algo [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// What a model is fitted on.
#[derive(Debug, Clone, Copy)]
pub struct TrainData<'a> {
    /// users × items; ratings when `explicit`, non-negative weights otherwise.
    pub matrix: &'a Interactions,
    /// True when values are explicit ratings.
    pub explicit: bool,
    /// Catalogue by item index (may be shorter than the item count, or empty): what
    /// feature-aware models (two-tower) read. Collaborative models ignore it.
    pub items: &'a [Item],
    /// The training events behind `matrix`, with time and kind, in any order (may be empty):
    /// what order- and recency-aware models (sequential, buy-again) read.
    pub events: &'a [Interaction],
}

impl<'a> TrainData<'a> {
    /// Training data with only the matrix (no catalogue, no event log).
    pub fn new(matrix: &'a Interactions, explicit: bool) -> Self {
        Self { matrix, explicit, items: &[], events: &[] }
    }

    /// The same data with the catalogue (item features) attached.
    pub fn with_items(self, items: &'a [Item]) -> Self {
        Self { items, ..self }
    }

    /// The same data with the event log attached.
    pub fn with_events(self, events: &'a [Interaction]) -> Self {
        Self { events, ..self }
    }
}

/// Scores items for users. Higher is better; items a model knows nothing about get
/// `f32::NEG_INFINITY` or a low fallback score, never NaN.
pub trait Recommender: Send + Sync {
    /// Registered model name (`user-knn`, …).
    fn name(&self) -> &str;

    /// Number of items scored (the length `out` must have).
    fn n_items(&self) -> usize;

    /// Score every item for training user `user` into `out` (length [`Self::n_items`]).
    fn score_user(&self, user: u32, out: &mut [f32]);

    /// Score every item for an ad-hoc history of `(item, value)` pairs, e.g. a new user or a
    /// session; values are ratings for explicit models and weights for implicit ones.
    fn score_history(&self, history: &[(u32, f32)], out: &mut [f32]);

    /// Score every item for a user described by their raw events (item, kind, value, time;
    /// any order), as of `now` (the request time): what models that read recency, baskets and
    /// the current session (the learned `ranker`) use for a live user. Returns false, leaving
    /// `out` untouched, when the model scores only weighted histories: the caller then uses
    /// [`Self::score_history`].
    fn score_events(&self, _events: &[Interaction], _now: i64, _out: &mut [f32]) -> bool {
        false
    }

    /// What the model learned from each input feature, largest first (name, total gain): the
    /// learned `ranker`'s feature importance. Empty for models without input features.
    fn feature_importance(&self) -> Vec<(String, f64)> {
        Vec::new()
    }

    /// Score every item for several training users, one row of [`Self::n_items`] after another
    /// in `out` (batch jobs such as top-N for every user). Factor models override it with one
    /// matrix product per batch, which reads the item factors once per batch instead of once per
    /// user (scores then equal [`Self::score_user`]'s up to rounding).
    fn score_users(&self, users: &[u32], out: &mut [f32]) {
        for (&u, row) in users.iter().zip(out.chunks_exact_mut(self.n_items())) {
            self.score_user(u, row);
        }
    }

    /// The rating predictor, when the model predicts explicit ratings.
    fn as_rating_predictor(&self) -> Option<&dyn RatingPredictor> {
        None
    }

    /// Items most similar to `item` with their similarity, best first, when the model has an
    /// item–item notion of similarity ("customers who viewed this also viewed").
    fn similar_items(&self, _item: u32, _n: usize) -> Option<Vec<(u32, f32)>> {
        None
    }

    /// Everything the model learned, to be written to a model file and loaded back with
    /// [`load_model`] into a model that answers exactly as this one.
    fn state(&self) -> ModelState;

    /// Why `item` is recommended to a user with `history`: the history items that
    /// contributed most, with their contribution, best first. Empty when the model cannot say.
    fn explain(&self, _history: &[(u32, f32)], _item: u32, _n: usize) -> Vec<(u32, f32)> {
        Vec::new()
    }

    /// Sparse scoring, for neighbourhood models: fills `out` with the items `history` reaches,
    /// each with the score [`Self::score_history`] gives it (bit for bit) and the history item
    /// [`Self::explain`]`(history, item, 1)` names; every item left out scores below all of
    /// them. Costs what the history's neighbourhoods cost instead of a pass over the whole
    /// catalogue. Returns false (and leaves `out` empty) when the model scores densely only.
    fn score_reached(&self, _history: &[(u32, f32)], out: &mut Vec<Reached>) -> bool {
        out.clear();
        false
    }
}

/// One item of a sparse score vector ([`Recommender::score_reached`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reached {
    /// The item.
    pub item: u32,
    /// Its score.
    pub score: f32,
    /// The history item that contributed most (`None` when only the item itself did).
    pub because: Option<u32>,
}

/// Predicts explicit ratings.
pub trait RatingPredictor: Send + Sync {
    /// Predicted rating of `item` by training user `user` (clipped to the training scale).
    fn predict(&self, user: u32, item: u32) -> f32;

    /// Predictions for many `(user, item)` pairs, in the order given. The default calls
    /// [`Self::predict`] for each pair; neighbourhood models override it to compute each user's
    /// similarities once per batch (group by user) and to run users in parallel.
    fn predict_many(&self, pairs: &[(u32, u32)]) -> Vec<f32> {
        pairs.iter().map(|&(u, i)| self.predict(u, i)).collect()
    }
}

/// Validate `params` for `owner` against `known` keys (re-export for model modules).
pub(crate) fn check_params(params: &Params, owner: &str, known: &[&str]) -> Result<()> {
    params.check_known(owner, known)?;
    Ok(())
}
