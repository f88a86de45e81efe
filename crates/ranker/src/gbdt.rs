//! Gradient-boosted trees with a LambdaMART objective, through
//! [hessboost](https://crates.io/crates/hessboost) (XGBoost's `rank:ndcg`, pure Rust). The
//! rest of the ranker sees only this module: training on query groups, predicting one row,
//! the model as bytes and the importance of each feature.

use hessboost::objective::LambdaRank;
use hessboost::prelude::{BoostedModel, DMatrix, ImportanceType, Iterations, ModelFormat, Objective, TrainingParams};

/// Tree settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TreeParams {
    /// Boosting rounds (trees).
    pub trees: usize,
    /// Maximum tree depth.
    pub depth: usize,
    /// Learning rate.
    pub eta: f64,
    /// Minimum Hessian sum in a leaf.
    pub min_child_weight: f64,
    /// Rows sampled per tree.
    pub subsample: f64,
    /// Features sampled per tree.
    pub colsample: f64,
    /// Seed of the sampling.
    pub seed: u64,
}

/// A trained ensemble.
pub struct Gbdt {
    model: BoostedModel,
    n_features: usize,
}

impl std::fmt::Debug for Gbdt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Gbdt({} features)", self.n_features)
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl Gbdt {
    /// Train on `rows` (row-major, `n_features` wide, NaN = missing) with graded `labels`,
    /// in query groups of the given sizes (consecutive rows), by LambdaMART (NDCG).
    pub fn train(
        rows: Vec<f32>,
        n_features: usize,
        labels: &[f32],
        groups: &[usize],
        p: &TreeParams,
    ) -> Result<Gbdt, String> {
        let n = labels.len();
        let d = DMatrix::from_dense_vec(rows, n, n_features)
            .and_then(|d| d.with_labels(labels))
            .and_then(|d| d.with_group_sizes(groups))
            .map_err(err)?;
        let params = TrainingParams::builder()
            .objective(Objective::RankNdcg(LambdaRank::default()))
            .max_depth(p.depth)
            .eta(p.eta)
            .min_child_weight(p.min_child_weight)
            .subsample(p.subsample)
            .colsample_bytree(p.colsample)
            .seed(p.seed)
            .global_pool()
            .build()
            .map_err(err)?;
        let model = hessboost::prelude::train(&params, &d, p.trees).map_err(err)?;
        Ok(Gbdt { model, n_features })
    }

    /// Number of features a row must have.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The score of one row (higher = better).
    pub fn predict(&self, row: &[f32]) -> f32 {
        self.model.predict_row(row, Iterations::Best).unwrap_or(f32::NEG_INFINITY)
    }

    /// The model as bytes (hessboost's native binary format).
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        self.model.encode(ModelFormat::Binary).map_err(err)
    }

    /// A model from [`Self::to_bytes`].
    pub fn from_bytes(bytes: &[u8], n_features: usize) -> Result<Gbdt, String> {
        let model = BoostedModel::decode(bytes, ModelFormat::Binary).map_err(err)?;
        Ok(Gbdt { model, n_features })
    }

    /// Total gain of the splits on each feature (index → gain; unused features absent).
    pub fn importance(&self) -> Vec<(usize, f64)> {
        self.model.feature_importance(ImportanceType::TotalGain).into_iter().collect()
    }
}
