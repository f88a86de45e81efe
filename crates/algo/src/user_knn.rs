//! `user-knn`: user-based collaborative filtering.
//!
//! **Ratings** (explicit data) follow the classic mean-centred formula, the same as Surprise's
//! `KNNWithMeans` (user based):
//!
//! r̂(u,i) = r̄(u) + Σ_{v∈N(i;u)} (r(v,i) − r̄(v))·w(u,v) / Σ_{v∈N(i;u)} |w(u,v)|
//!
//! * r̄(u) is the mean of the ratings u gave;
//! * N(i;u) are the `k` users most similar to u among those who rated i and have
//!   w(u,v) > `min_similarity` (ties: lower user index first); u itself is never its own
//!   neighbour. With the default `min_similarity = 0` only positively correlated users count,
//!   which is exactly what Surprise does (it takes the k nearest raters, then skips sim ≤ 0);
//! * `normalize=zscore` replaces the deviations by z-scores, r̂(u,i) = r̄(u) + σ(u)·Σ w·(r(v,i) −
//!   r̄(v))/σ(v) / Σ|w| (Surprise's `KNNWithZScore`; σ is the population standard deviation of
//!   a user's ratings, 1 when they do not vary);
//! * fewer than `min_k` neighbours, or Σ|w| = 0 → r̄(u), as Surprise does (`fallback=mean`,
//!   the default); `fallback=baseline` uses μ + b_u + b_i (Koren's regularised biases, see
//!   [`Baseline`]) instead — on MovieLens 100k u1..u5 it is a hair worse (mean RMSE 0.95253
//!   vs 0.95248), so parity with Surprise stays the default. A user with no training rating →
//!   the global mean. Predictions are clipped to the training rating range.
//!
//! Similarities (over the items both users rated, "co-rated"; `min_support` = fewest co-rated
//! items for a similarity to exist; then `w *= n/(n + shrinkage)` with n co-rated items):
//! * `cosine`: Σ r_ui r_vi / sqrt(Σ r_ui² · Σ r_vi²) on raw ratings (Surprise `cosine`);
//! * `pearson` (default for explicit data): the correlation over the co-rated items, each user
//!   centred on their mean over those items (Surprise `pearson`); 0 when a side has no variance.
//!
//! On **implicit** data similarity is the cosine of the full weight vectors,
//! Σ x_ui x_vi / (‖x_u‖ ‖x_v‖), and there is no rating predictor.
//!
//! **Top-N** (`score_user`, `score_history`) is a neighbourhood vote, not a ranking of predicted
//! ratings (which favours obscure items rated once, highly): N_k(u) = the `k` users with the
//! highest w(u,v) > `min_similarity` over all users, and
//! * implicit: score(i) = Σ_{v∈N_k(u)} w(u,v) · x(v,i);
//! * explicit: score(i) = Σ_{v∈N_k(u), v rated i} w(u,v) · (1 + (r(v,i) − r̄(v)) / (max − min)),
//!   i.e. every neighbour who rated i votes with its similarity, a bit more when it liked i more
//!   than its own average and a bit less otherwise (the factor stays in (0, 2)).
//!
//! Items no neighbour touched get finite scores below all voted items, ordered by popularity.
//!
//! Cost: a similarity row is one pass over u's items and their raters (inverted index), with
//! O(n_users) scratch per thread. Up to [`DENSE_MAX_USERS`] users all rows are precomputed into
//! a dense matrix; above that, rows are computed on demand, once per user in
//! [`UserKnn::predict_many`] (pairs grouped by user, users in parallel).

use daogou_core::{Interactions, Params};
use rayon::prelude::*;

use crate::baseline::Baseline;
use crate::sim::{
    check_finite, clean_history, fill_unreached, get_at_least, get_choice, get_nonneg, keep_top, popularity_fraction,
    row_means, row_norms, similarity_row, value_stats, Scratch, ScratchPool, SimConfig, SimKind,
};
use crate::{check_params, Error, ModelState, RatingPredictor, Recommender, Result, TrainData};

/// Up to this many users the user×user similarity matrix is precomputed (≤ 64 MiB of f32).
pub const DENSE_MAX_USERS: usize = 4096;

/// Parameters of `user-knn` with their meaning and default.
pub const PARAMS: &[(&str, &str)] = &[
    ("k", "number of neighbours (default 40)"),
    ("similarity", "cosine | pearson (default pearson for explicit data; implicit data: cosine only)"),
    ("min_support", "fewest co-rated items for a similarity to count (default 1)"),
    ("shrinkage", "significance weighting w *= n/(n+shrinkage), n co-rated items (default 0)"),
    ("min_similarity", "neighbours need w > this (default 0: positively correlated only)"),
    ("min_k", "fewest neighbours for a neighbourhood prediction, else the fallback (default 1)"),
    (
        "normalize",
        "ratings in the formula: mean (r − r̄, KNNWithMeans) | zscore ((r − r̄)/σ, KNNWithZScore) (default mean)",
    ),
    ("fallback", "prediction without neighbours: mean (r̄(u), as Surprise) | baseline (μ + b_u + b_i) (default mean)"),
];

/// User-based k-nearest-neighbours; see the [module docs](self).
#[derive(Debug)]
pub struct UserKnn {
    m: Interactions,
    explicit: bool,
    params: Params,
    cfg: SimConfig,
    k: usize,
    min_k: usize,
    min_similarity: f32,
    /// r̄(u), the global mean for users with no rating.
    means: Vec<f64>,
    /// σ(u) per user with `normalize=zscore` (1 when a user's ratings do not vary).
    sds: Option<Vec<f64>>,
    global_mean: f64,
    /// Predictor used when no neighbour rated the item (`None`: the user mean).
    fallback: Option<Baseline>,
    lo: f32,
    hi: f32,
    norms: Vec<f64>,
    #[doc(hidden)]
    pub dense: Option<Vec<f32>>,
    pool: ScratchPool,
    pop_frac: Vec<f32>,
}

pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(UserKnn::fit(train, params)?))
}

pub fn load(s: &ModelState) -> Result<Box<dyn Recommender>> {
    let m = s.interactions("train")?;
    let explicit = s.flag("explicit")?;
    let fallback = if s.flag("has_fallback")? { Some(Baseline::from_state(s, "fallback.")?) } else { None };
    // Similarity rows are computed on demand from the stored matrix: the same code and the
    // same values as the rows precomputed at fit time.
    Ok(Box::new(UserKnn::new(m, explicit, &s.params, fallback)?))
}

impl UserKnn {
    /// Fit on `train` (see [`PARAMS`] for the parameters).
    pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Self> {
        check_params(params, "user-knn", &PARAMS.iter().map(|p| p.0).collect::<Vec<_>>())?;
        check_finite("user-knn", &train.matrix.by_user)?;
        let use_baseline = get_choice(params, "fallback", "mean", &["mean", "baseline"])? == "baseline";
        let fallback = if train.explicit && use_baseline { Some(Baseline::fit(train, &Params::new())?) } else { None };
        let mut model = UserKnn::new(train.matrix.clone(), train.explicit, params, fallback)?;
        let n = model.n_users();
        if n <= DENSE_MAX_USERS {
            let mut dense = vec![f32::NEG_INFINITY; n * n];
            dense.par_chunks_mut(n.max(1)).enumerate().for_each(|(u, row)| {
                model.pool.with(|s| {
                    model.compute_user_row(u as u32, s);
                    for &v in &s.touched {
                        row[v as usize] = s.sim[v as usize];
                    }
                    s.clear();
                });
            });
            model.dense = Some(dense);
        }
        Ok(model)
    }

    /// The model on matrix `m` without precomputed similarity rows.
    fn new(m: Interactions, explicit: bool, params: &Params, fallback: Option<Baseline>) -> Result<Self> {
        check_params(params, "user-knn", &PARAMS.iter().map(|p| p.0).collect::<Vec<_>>())?;
        let k: usize = get_at_least(params, "k", 40, 1)?;
        let min_k: usize = get_at_least(params, "min_k", 1, 0)?;
        let min_support: u32 = p_u32(params, "min_support", 1)?;
        let shrinkage = get_nonneg(params, "shrinkage", 0.0)?;
        let min_similarity: f32 = params.get("min_similarity", 0.0)?;
        if !min_similarity.is_finite() {
            return Err(daogou_core::Params::invalid("min_similarity", min_similarity, "must be finite").into());
        }
        let kind = if explicit {
            match get_choice(params, "similarity", "pearson", &["cosine", "pearson"])? {
                "cosine" => SimKind::CoratedCosine,
                _ => SimKind::Pearson,
            }
        } else {
            if get_choice(params, "similarity", "cosine", &["cosine", "pearson"])? == "pearson" {
                return Err(Error::BadData {
                    model: "user-knn".into(),
                    reason: "similarity=pearson needs explicit ratings; use cosine on implicit data".into(),
                });
            }
            SimKind::Cosine
        };
        let (global_mean, lo, hi) = value_stats(&m.by_user);
        let means: Vec<f64> = row_means(&m.by_user).into_iter().map(|x| x.unwrap_or(global_mean)).collect();
        let sds = (get_choice(params, "normalize", "mean", &["mean", "zscore"])? == "zscore").then(|| {
            (0..m.n_users())
                .map(|u| {
                    let (_, rs) = m.user_row(u as u32);
                    let var =
                        rs.iter().map(|&r| (f64::from(r) - means[u]).powi(2)).sum::<f64>() / rs.len().max(1) as f64;
                    if var > 0.0 {
                        var.sqrt()
                    } else {
                        1.0
                    }
                })
                .collect()
        });
        let norms = if kind == SimKind::Cosine { row_norms(&m.by_user) } else { Vec::new() };
        Ok(UserKnn {
            fallback,
            pop_frac: popularity_fraction(&m.by_item),
            cfg: SimConfig { kind, min_support, shrink_mult: shrinkage, shrink_denom: 0.0 },
            explicit,
            params: params.clone(),
            k,
            min_k,
            min_similarity,
            means,
            sds,
            global_mean,
            lo,
            hi,
            norms,
            dense: None,
            pool: ScratchPool::new(m.n_users()),
            m,
        })
    }

    /// Number of training users.
    pub fn n_users(&self) -> usize {
        self.m.n_users()
    }

    /// Similarity w(u,v) used by the model (`None` when the pair has none: no co-rated item,
    /// below `min_support`, or u = v).
    pub fn similarity(&self, u: u32, v: u32) -> Option<f32> {
        let w = self.with_user_row(u, |row, _| row[v as usize]);
        w.is_finite().then_some(w)
    }

    /// The k nearest neighbours of training user `u` (w > min_similarity), best first.
    pub fn neighbours(&self, u: u32) -> Vec<(u32, f32)> {
        self.with_user_row(u, |row, touched| self.top_neighbours(row, touched))
            .into_iter()
            .map(|(w, v, ())| (v, w))
            .collect()
    }

    fn compute_user_row(&self, u: u32, s: &mut Scratch) {
        let (idx, val) = self.m.user_row(u);
        let norm = self.norms.get(u as usize).copied().unwrap_or(0.0);
        similarity_row(&self.cfg, idx, val, norm, Some(u), &self.m.by_item, &self.norms, s);
    }

    /// Run `f` on u's similarity row (indexed by user; NEG_INFINITY = none) and, when the row
    /// was computed on the fly, the list of users it may be finite for.
    fn with_user_row<R>(&self, u: u32, f: impl FnOnce(&[f32], Option<&[u32]>) -> R) -> R {
        let n = self.n_users();
        match &self.dense {
            Some(d) => f(&d[u as usize * n..(u as usize + 1) * n], None),
            None => self.pool.with(|s| {
                self.compute_user_row(u, s);
                let r = f(&s.sim, Some(&s.touched));
                s.clear();
                r
            }),
        }
    }

    fn predict_in_row(&self, u: u32, i: u32, row: &[f32], cand: &mut Vec<(f32, u32, f32)>) -> f32 {
        let mean = self.means.get(u as usize).copied().unwrap_or(self.global_mean);
        let fallback = || match &self.fallback {
            Some(b) => f64::from(b.predict(u, i)),
            None => mean,
        };
        let mut est = None;
        if (i as usize) < self.m.n_items() {
            cand.clear();
            let (vs, rs) = self.m.item_row(i);
            for (&v, &r) in vs.iter().zip(rs) {
                let w = row[v as usize];
                if v != u && w > self.min_similarity {
                    cand.push((w, v, r));
                }
            }
            keep_top(cand, self.k);
            if !cand.is_empty() && cand.len() >= self.min_k {
                let (mut num, mut den) = (0f64, 0f64);
                for &(w, v, r) in cand.iter() {
                    let dev = f64::from(r) - self.means[v as usize];
                    num += f64::from(w) * self.sds.as_ref().map_or(dev, |sd| dev / sd[v as usize]);
                    den += f64::from(w).abs();
                }
                if den > 0.0 {
                    let scale = self.sds.as_ref().and_then(|sd| sd.get(u as usize)).copied().unwrap_or(1.0);
                    est = Some(mean + scale * num / den);
                }
            }
        }
        (est.unwrap_or_else(fallback) as f32).clamp(self.lo, self.hi)
    }

    /// Predicted ratings for `(user, item)` pairs, in input order. Each user's similarity row
    /// is computed once (pairs are grouped by user) and users run in parallel with rayon.
    /// Users outside the training range get the global mean.
    pub fn predict_many(&self, pairs: &[(u32, u32)]) -> Vec<f32> {
        let mut order: Vec<u32> = (0..pairs.len() as u32).collect();
        order.sort_by_key(|&p| pairs[p as usize].0);
        let groups: Vec<&[u32]> = order.chunk_by(|&a, &b| pairs[a as usize].0 == pairs[b as usize].0).collect();
        let preds: Vec<Vec<f32>> = groups
            .par_iter()
            .map(|g| {
                let u = pairs[g[0] as usize].0;
                if u as usize >= self.n_users() {
                    return vec![(self.global_mean as f32).clamp(self.lo, self.hi); g.len()];
                }
                let mut cand = Vec::new();
                self.with_user_row(u, |row, _| {
                    g.iter().map(|&p| self.predict_in_row(u, pairs[p as usize].1, row, &mut cand)).collect()
                })
            })
            .collect();
        let mut out = vec![0f32; pairs.len()];
        for (g, p) in groups.iter().zip(preds) {
            for (&pos, x) in g.iter().zip(p) {
                out[pos as usize] = x;
            }
        }
        out
    }

    fn top_neighbours(&self, row: &[f32], touched: Option<&[u32]>) -> Vec<(f32, u32, ())> {
        let mut cand: Vec<(f32, u32, ())> = match touched {
            Some(t) => t
                .iter()
                .filter(|&&v| row[v as usize] > self.min_similarity)
                .map(|&v| (row[v as usize], v, ()))
                .collect(),
            None => (0..row.len() as u32)
                .filter(|&v| row[v as usize] > self.min_similarity)
                .map(|v| (row[v as usize], v, ()))
                .collect(),
        };
        keep_top(&mut cand, self.k);
        cand
    }

    /// The k nearest training users of an ad-hoc history (sorted item indices).
    fn history_neighbours(&self, idx: &[u32], val: &[f32]) -> Vec<(f32, u32, ())> {
        let norm = val.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
        self.pool.with(|s| {
            similarity_row(&self.cfg, idx, val, norm, None, &self.m.by_item, &self.norms, s);
            let nb = self.top_neighbours(&s.sim, Some(&s.touched));
            s.clear();
            nb
        })
    }

    fn vote(&self, neighbours: &[(f32, u32, ())], out: &mut [f32]) {
        out.fill(f32::NEG_INFINITY);
        let range = if self.hi > self.lo { f64::from(self.hi - self.lo) } else { 1.0 };
        for &(w, v, ()) in neighbours {
            let (is, xs) = self.m.user_row(v);
            let mean = self.means[v as usize];
            for (&i, &x) in is.iter().zip(xs) {
                let weight = if self.explicit { 1.0 + (f64::from(x) - mean) / range } else { f64::from(x) };
                let o = &mut out[i as usize];
                if *o == f32::NEG_INFINITY {
                    *o = 0.0;
                }
                *o += (f64::from(w) * weight) as f32;
            }
        }
        fill_unreached(out, &self.pop_frac);
    }
}

fn p_u32(p: &Params, key: &str, default: u32) -> Result<u32> {
    Ok(p.get(key, default)?)
}

impl RatingPredictor for UserKnn {
    fn predict(&self, user: u32, item: u32) -> f32 {
        UserKnn::predict_many(self, &[(user, item)])[0]
    }

    fn predict_many(&self, pairs: &[(u32, u32)]) -> Vec<f32> {
        UserKnn::predict_many(self, pairs)
    }
}

impl Recommender for UserKnn {
    fn name(&self) -> &str {
        "user-knn"
    }

    fn n_items(&self) -> usize {
        self.m.n_items()
    }

    fn score_user(&self, user: u32, out: &mut [f32]) {
        if user as usize >= self.n_users() {
            out.fill(f32::NEG_INFINITY);
            fill_unreached(out, &self.pop_frac);
            return;
        }
        let nb = self.with_user_row(user, |row, touched| self.top_neighbours(row, touched));
        self.vote(&nb, out);
    }

    fn score_history(&self, history: &[(u32, f32)], out: &mut [f32]) {
        let (idx, val) = clean_history(history, self.n_items());
        let nb = self.history_neighbours(&idx, &val);
        self.vote(&nb, out);
    }

    /// The history items that the neighbours who have `item` share with the history, each
    /// weighted by the summed similarity of those neighbours: "shoppers like you who bought
    /// j also bought `item`".
    fn explain(&self, history: &[(u32, f32)], item: u32, n: usize) -> Vec<(u32, f32)> {
        if item as usize >= self.n_items() {
            return Vec::new();
        }
        let (idx, val) = clean_history(history, self.n_items());
        let mut contrib = vec![0f64; idx.len()];
        for (w, v, ()) in self.history_neighbours(&idx, &val) {
            let (theirs, _) = self.m.user_row(v);
            if theirs.binary_search(&item).is_err() {
                continue;
            }
            for (c, j) in contrib.iter_mut().zip(&idx) {
                if *j != item && theirs.binary_search(j).is_ok() {
                    *c += f64::from(w);
                }
            }
        }
        let mut c: Vec<(f32, u32, ())> =
            idx.iter().zip(&contrib).filter(|(_, &c)| c > 0.0).map(|(&j, &c)| (c as f32, j, ())).collect();
        keep_top(&mut c, n);
        c.into_iter().map(|(c, j, ())| (j, c)).collect()
    }

    fn as_rating_predictor(&self) -> Option<&dyn RatingPredictor> {
        self.explicit.then_some(self as &dyn RatingPredictor)
    }

    fn state(&self) -> ModelState {
        let mut s = ModelState::new("user-knn", &self.params);
        s.set_interactions("train", &self.m);
        s.set_scalar("explicit", f64::from(u8::from(self.explicit)));
        s.set_scalar("has_fallback", f64::from(u8::from(self.fallback.is_some())));
        if let Some(b) = &self.fallback {
            b.write_state(&mut s, "fallback.");
        }
        s
    }
}
