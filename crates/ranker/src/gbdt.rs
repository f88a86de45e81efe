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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_to_rank_and_round_trips() {
        // 60 queries × 8 documents; relevance follows feature 0, feature 1 is noise
        let (groups, per) = (60usize, 8usize);
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        let mut x = 7u64;
        let mut noise = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 40) as f32 / (1u64 << 24) as f32
        };
        for _ in 0..groups {
            for d in 0..per {
                rows.push(d as f32 + noise());
                rows.push(noise());
                labels.push(if d >= per - 2 { 1.0 } else { 0.0 });
            }
        }
        let p = TreeParams {
            trees: 20,
            depth: 3,
            eta: 0.3,
            min_child_weight: 0.1,
            subsample: 1.0,
            colsample: 1.0,
            seed: 1,
        };
        let g = Gbdt::train(rows, 2, &labels, &vec![per; groups], &p).unwrap();
        assert!(g.predict(&[7.5, 0.5]) > g.predict(&[1.5, 0.5]));
        assert!(g.predict(&[f32::NAN, 0.5]).is_finite());
        let back = Gbdt::from_bytes(&g.to_bytes().unwrap(), 2).unwrap();
        for r in [[7.5f32, 0.1], [0.2, 0.9], [f32::NAN, 0.3]] {
            assert_eq!(g.predict(&r).to_bits(), back.predict(&r).to_bits());
        }
        let imp = g.importance();
        let gain = |f: usize| imp.iter().find(|x| x.0 == f).map_or(0.0, |x| x.1);
        assert!(gain(0) > gain(1), "{imp:?}");
    }
}
