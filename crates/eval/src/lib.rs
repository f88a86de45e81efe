//! # daogou-eval
//!
//! Measuring recommenders the way a shop would judge them.
//!
//! * [`metrics`]: RMSE/MAE for ratings; precision, recall, F1, NDCG, MAP, MRR, hit rate,
//!   coverage, novelty and intra-list diversity for top-N lists ranked over the **full
//!   catalogue** minus each user's training items (never sampled negatives).
//! * [`auto`]: `daogou tune --auto`, a validation-only search over models and documented
//!   ranges within a time budget.
//! * [`protocol`]: turning a dataset and a split into a training matrix and a test set, fitting
//!   a model by name and producing a [`Report`] whose JSON keys are a stable contract
//!   (`rmse`, `precision@10`, `ndcg@10`, `users_evaluated`, `fit_seconds`, …).
//! * [`significance`]: `daogou evaluate --compare`, the difference of each metric between two
//!   models on the same users, with a paired bootstrap interval and p-value.
//! * [`report`]: the figures of `daogou report` beyond the leaderboard: per-user
//!   distributions, popularity deciles and the long tail, coverage/novelty/diversity, segments.
//! * [`experiment`]: online experiments — per-variant metrics with 95 % intervals (delta
//!   method for ratios), an always-valid sequential test (mSPRT) and the sample-ratio alarm.
//! * [`simulator`]: synthetic shoppers from the demo shop's generator, to check the
//!   experiment statistics' false-positive rate, power and sample-ratio alarm.
//! * [`tune`]: hyperparameter search on validation folds (grids, seeded random samples).
//! * [`leaderboard`]: a few models compared on a time split of a shop's data, stored for the
//!   dashboard.
#![warn(missing_docs)]

pub mod auto;
pub mod experiment;
pub mod leaderboard;
pub mod metrics;
pub mod protocol;
pub mod report;
pub mod significance;
pub mod simulator;
pub mod tune;

pub use metrics::{RatingMetrics, TopNMetrics};
pub use protocol::{
    evaluate_cold_split, evaluate_folds, evaluate_split, mean_json, ColdWarm, EvalOptions, Progress, Report,
};

/// Errors from an evaluation run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model could not be fitted.
    #[error(transparent)]
    Model(#[from] daogou_algo::Error),
    /// The data or split leaves nothing to evaluate.
    #[error("nothing to evaluate: {0}")]
    Empty(String),
    /// A bad search or evaluation setting (a grid, a metric name).
    #[error("{0}")]
    Invalid(String),
}

/// Result with the eval [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
