//! Early stopping for the iterative models (`svd`, `svdpp`, `als`, `bpr`).
//!
//! With `early_stopping=true` a model first trains on its training matrix minus a validation
//! split cut from it (never from the test data): every user with at least two entries lends a
//! `validation` share of them (stochastically rounded, at least one entry always stays), drawn
//! from a generator seeded by the model's `seed`. After every epoch the model is scored on
//! that split: RMSE of the held-out ratings (explicit models; lower is better) or NDCG@10 of
//! the held-out positives among all items but the user's remaining training items (implicit
//! models; at most [`MAX_RANKED_USERS`] users, drawn with the same seed). Training stops once
//! `patience` epochs in a row have not beaten the best score, and the model is then **refitted
//! on the whole training matrix with the best epoch count**: the validation entries are often a
//! tenth of a user's history, too much to leave out of the final model (on MovieLens-100k the
//! best-epoch model trained without them scored worse than the refit), and the refit is
//! exactly the model that `epochs`/`iterations` = best epoch would give, so it reproduces from
//! its parameters alone. The cost is a second fit of at most the best epoch count.

use daogou_core::{Aggregate, Interaction, Interactions, Params};
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

use crate::sim::{get_at_least, get_bool, get_nonneg};
use crate::{Error, ModelState, Result};

/// The parameter switching early stopping on.
pub const EARLY_STOPPING: (&str, &str) = (
    "early_stopping",
    "stop when the validation score has not improved for `patience` epochs, then refit on all the training data \
     with the best epoch count (default false)",
);
/// Epochs without improvement before stopping.
pub const PATIENCE: (&str, &str) =
    ("patience", "epochs without a better validation score before stopping (default 3; bpr: 20)");
/// Share of each user's entries held out.
pub const VALIDATION: (&str, &str) =
    ("validation", "share of each user's training entries held out for early stopping (default 0.1)");

/// Users scored per epoch by the NDCG@10 of implicit models (a seeded sample beyond this).
pub const MAX_RANKED_USERS: usize = 5_000;

/// Cut-off of the validation NDCG.
const K: usize = 10;

/// Early-stopping settings read from a model's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EarlyStopping {
    pub patience: usize,
    pub share: f64,
    pub seed: u64,
}

impl EarlyStopping {
    /// None unless `early_stopping=true`; `patience`/`validation` without it are an error (they
    /// would silently do nothing). `patience` defaults to `default_patience`.
    pub fn parse(p: &Params, seed: u64, default_patience: usize) -> Result<Option<Self>> {
        let on = get_bool(p, EARLY_STOPPING.0, false)?;
        let patience = get_at_least(p, PATIENCE.0, default_patience, 1)?;
        let share = get_nonneg(p, VALIDATION.0, 0.1)?;
        if !(share > 0.0 && share < 1.0) {
            return Err(Params::invalid(VALIDATION.0, share, "must be between 0 and 1 (exclusive)").into());
        }
        if !on {
            for key in [PATIENCE.0, VALIDATION.0] {
                if p.raw(key).is_some() {
                    return Err(
                        Params::invalid(key, p.raw(key).unwrap_or_default(), "needs early_stopping=true").into()
                    );
                }
            }
            return Ok(None);
        }
        Ok(Some(EarlyStopping { patience, share, seed }))
    }

    /// Cut the validation split out of `m`. Implicit models hold out positive entries only.
    pub fn split(&self, model: &str, m: &Interactions, explicit: bool) -> Result<Holdout> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed ^ 0xEA51_7000_5EED_0001);
        let mut kept: Vec<Interaction> = Vec::with_capacity(m.nnz());
        let mut valid = Vec::new();
        for u in 0..m.n_users() as u32 {
            let (idx, val) = m.user_row(u);
            let mut cand: Vec<usize> = (0..idx.len()).filter(|&k| explicit || val[k] > 0.0).collect();
            let n_held = if cand.len() >= 2 {
                ((self.share * cand.len() as f64 + rng.random::<f64>()) as usize).min(cand.len() - 1)
            } else {
                0
            };
            cand.shuffle(&mut rng);
            let mut held: Vec<usize> = cand[..n_held].to_vec();
            held.sort_unstable();
            let mut h = held.iter().peekable();
            let mut mine = Vec::with_capacity(n_held);
            for k in 0..idx.len() {
                if h.peek() == Some(&&k) {
                    h.next();
                    mine.push((idx[k], val[k]));
                } else {
                    kept.push(Interaction::new(u, idx[k], val[k]));
                }
            }
            if !mine.is_empty() {
                valid.push((u, mine));
            }
        }
        if valid.is_empty() {
            return Err(Error::BadData {
                model: model.to_owned(),
                reason: format!(
                    "early_stopping: the validation split is empty (no user has two or more {}entries to hold out a \
                     share of); fit without early_stopping or with more data",
                    if explicit { "" } else { "positive " }
                ),
            });
        }
        let ranked = if explicit || valid.len() <= MAX_RANKED_USERS {
            (0..valid.len()).collect()
        } else {
            let mut all: Vec<usize> = (0..valid.len()).collect();
            all.shuffle(&mut rng);
            all.truncate(MAX_RANKED_USERS);
            all.sort_unstable();
            all
        };
        let train = Interactions::from_interactions(m.n_users(), m.n_items(), &kept, Aggregate::Last);
        Ok(Holdout { train, valid, ranked })
    }
}

/// A training matrix with a validation split cut out of it.
pub struct Holdout {
    /// What the validation fit trains on.
    pub train: Interactions,
    /// Held-out entries by user (user, [(item, value)] in item order).
    pub valid: Vec<(u32, Vec<(u32, f32)>)>,
    /// Indices into `valid` of the users the NDCG is computed over.
    ranked: Vec<usize>,
}

impl Holdout {
    /// RMSE over the held-out ratings of `predict(user)`, which returns the user's predictor
    /// (so that per-user work, such as SVD++'s implicit sum, is done once per user).
    pub fn rmse<P: Fn(u32) -> f32>(&self, predict: impl Fn(u32) -> P + Sync) -> f64 {
        let per_user: Vec<(f64, usize)> = self
            .valid
            .par_iter()
            .map(|(u, rows)| {
                let p = predict(*u);
                let se: f64 = rows.iter().map(|&(i, r)| (f64::from(p(i)) - f64::from(r)).powi(2)).sum();
                (se, rows.len())
            })
            .collect();
        let (se, n) = per_user.iter().fold((0.0, 0), |(a, b), &(s, c)| (a + s, b + c));
        (se / n.max(1) as f64).sqrt()
    }

    /// Mean NDCG@10 of the held-out positives: `score(user, out)` fills every item's score; the
    /// user's remaining training items are not candidates.
    pub fn ndcg(&self, n_items: usize, score: impl Fn(u32, &mut [f32]) + Sync) -> f64 {
        let per_user: Vec<f64> = self
            .ranked
            .par_iter()
            .map_init(
                || vec![0f32; n_items],
                |out, &v| {
                    let (u, rows) = &self.valid[v];
                    score(*u, out);
                    let seen = self.train.user_row(*u).0;
                    let top = crate::topk::top_k(out, K, |j| seen.binary_search(&j).is_ok());
                    let relevant = |j: u32| rows.binary_search_by_key(&j, |x| x.0).is_ok();
                    let dcg: f64 = top
                        .iter()
                        .enumerate()
                        .filter(|(_, (j, _))| relevant(*j))
                        .map(|(r, _)| 1.0 / (r as f64 + 2.0).log2())
                        .sum();
                    let ideal: f64 = (0..rows.len().min(K)).map(|r| 1.0 / (r as f64 + 2.0).log2()).sum();
                    dcg / ideal
                },
            )
            .collect();
        per_user.iter().sum::<f64>() / per_user.len().max(1) as f64
    }
}

/// Name of the state scalar holding the epoch count early stopping chose.
pub const BEST_EPOCH: &str = "best_epoch";

/// Record the epoch count chosen by early stopping (nothing when it was off).
pub fn save_best_epoch(s: &mut ModelState, best: Option<usize>) {
    if let Some(b) = best {
        s.set_scalar(BEST_EPOCH, b as f64);
    }
}

/// The epoch count chosen by early stopping, when the state has one.
pub fn load_best_epoch(s: &ModelState) -> Result<Option<usize>> {
    if s.scalars.contains_key(BEST_EPOCH) {
        s.count(BEST_EPOCH).map(Some)
    } else {
        Ok(None)
    }
}

/// The validation scores epoch by epoch and when to stop.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    patience: usize,
    /// Score after each epoch (higher is better: NDCG, or −RMSE).
    pub scores: Vec<f64>,
    /// Epochs of the best score so far (1-based; 0 before the first epoch).
    pub best: usize,
}

impl Curve {
    pub fn new(patience: usize) -> Self {
        Curve { patience, scores: Vec::new(), best: 0 }
    }

    /// Record the score after the next epoch; false when training should stop. A score must
    /// beat the best strictly; NaN (a diverged fit) never does.
    pub fn push(&mut self, score: f64) -> bool {
        self.scores.push(score);
        if !score.is_nan() && (self.best == 0 || score > self.scores[self.best - 1]) {
            self.best = self.scores.len();
        }
        self.scores.len() - self.best < self.patience
    }

    /// The epoch count to refit with (at least 1).
    pub fn best_epochs(&self) -> usize {
        self.best.max(1).min(self.scores.len())
    }
}
