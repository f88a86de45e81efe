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
pub(crate) const PARAMS: &[(&str, &str)] = &[
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
    dense: Option<Vec<f32>>,
    pool: ScratchPool,
    pop_frac: Vec<f32>,
}

pub(crate) fn fit(train: &TrainData<'_>, params: &Params) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(UserKnn::fit(train, params)?))
}

pub(crate) fn load(s: &ModelState) -> Result<Box<dyn Recommender>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{hit_rate, ml100k_dir, ml100k_fold, planted_clusters, rmse_mae};
    use daogou_core::SeededRng;
    use daogou_core::{Aggregate, Interaction};

    /// Dense random explicit matrix with holes; `None` = not rated.
    fn random_ratings(nu: usize, ni: usize, density: f64, seed: u64) -> Vec<Vec<Option<f32>>> {
        let mut rng = SeededRng::new(seed);
        (0..nu).map(|_| (0..ni).map(|_| (rng.f64() < density).then(|| 1.0 + rng.below(5) as f32)).collect()).collect()
    }

    fn to_matrix(r: &[Vec<Option<f32>>]) -> Interactions {
        let data: Vec<Interaction> = r
            .iter()
            .enumerate()
            .flat_map(|(u, row)| {
                row.iter().enumerate().filter_map(move |(i, x)| x.map(|x| Interaction::new(u as u32, i as u32, x)))
            })
            .collect();
        Interactions::from_interactions(r.len(), r[0].len(), &data, Aggregate::Last)
    }

    /// The textbook formula, written plainly: O(n_users² · n_items) similarities.
    fn reference(
        r: &[Vec<Option<f32>>],
        pearson: bool,
        k: usize,
        min_support: usize,
        shrink: f64,
        u: usize,
        i: usize,
    ) -> f32 {
        let ni = r[0].len();
        let mean = |v: usize| {
            let xs: Vec<f64> = r[v].iter().flatten().map(|&x| f64::from(x)).collect();
            xs.iter().sum::<f64>() / xs.len() as f64
        };
        let all: Vec<f64> = r.iter().flatten().flatten().map(|&x| f64::from(x)).collect();
        let (lo, hi) =
            (all.iter().copied().fold(f64::INFINITY, f64::min), all.iter().copied().fold(f64::NEG_INFINITY, f64::max));
        let sim = |a: usize, b: usize| -> Option<f64> {
            let common: Vec<(f64, f64)> =
                (0..ni).filter_map(|c| Some((f64::from(r[a][c]?), f64::from(r[b][c]?)))).collect();
            let n = common.len();
            if n == 0 || n < min_support {
                return None;
            }
            // Pearson in the raw-sums form (the same arithmetic as the textbook centred form,
            // but exact on integer ratings, so ties such as several users at 0.866… compare
            // equal here as they do in the model and the lower index wins in both).
            let nf = n as f64;
            let (sa, sb) = (common.iter().map(|x| x.0).sum::<f64>(), common.iter().map(|x| x.1).sum::<f64>());
            let (saa, sbb) =
                (common.iter().map(|x| x.0 * x.0).sum::<f64>(), common.iter().map(|x| x.1 * x.1).sum::<f64>());
            let sab: f64 = common.iter().map(|x| x.0 * x.1).sum();
            let w = if pearson {
                let den = ((nf * saa - sa * sa) * (nf * sbb - sb * sb)).sqrt();
                let w = if den > 0.0 { (nf * sab - sa * sb) / den } else { 0.0 };
                // the textbook centred form agrees
                let (ma, mb) = (sa / nf, sb / nf);
                let num: f64 = common.iter().map(|x| (x.0 - ma) * (x.1 - mb)).sum();
                let da: f64 = common.iter().map(|x| (x.0 - ma).powi(2)).sum();
                let db: f64 = common.iter().map(|x| (x.1 - mb).powi(2)).sum();
                let centred = if da * db > 1e-12 { num / (da * db).sqrt() } else { 0.0 };
                assert!((w - centred).abs() < 1e-9, "{w} vs {centred}");
                w
            } else {
                sab / (saa * sbb).sqrt()
            };
            let w = if shrink > 0.0 { w * nf / (nf + shrink) } else { w };
            Some(f64::from(w as f32))
        };
        let mut nb: Vec<(f64, usize)> = (0..r.len())
            .filter(|&v| v != u && r[v][i].is_some())
            .filter_map(|v| Some((sim(u, v)?, v)))
            .filter(|x| x.0 > 0.0)
            .collect();
        // highest similarity first, lower index first on ties
        nb.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap().then(a.1.cmp(&b.1)));
        nb.truncate(k);
        let mut est = mean(u);
        let den: f64 = nb.iter().map(|x| x.0.abs()).sum();
        if den > 0.0 {
            est += nb.iter().map(|&(w, v)| w * (f64::from(r[v][i].unwrap()) - mean(v))).sum::<f64>() / den;
        }
        est.clamp(lo, hi) as f32
    }

    #[test]
    fn matches_brute_force_formula() {
        let r = random_ratings(30, 25, 0.35, 11);
        let m = to_matrix(&r);
        let train = TrainData::new(&m, true);
        for sim in ["cosine", "pearson"] {
            for (k, ms, sh) in [(5usize, 1usize, 0.0f64), (3, 3, 0.0), (8, 2, 5.0), (100, 1, 2.5)] {
                let p =
                    Params::new().with("k", k).with("similarity", sim).with("min_support", ms).with("shrinkage", sh);
                let model = UserKnn::fit(&train, &p).unwrap();
                let pairs: Vec<(u32, u32)> = (0..30u32).flat_map(|u| (0..25u32).map(move |i| (u, i))).collect();
                let got = model.predict_many(&pairs);
                for (&(u, i), &g) in pairs.iter().zip(&got) {
                    let want = reference(&r, sim == "pearson", k, ms, sh, u as usize, i as usize);
                    assert!((g - want).abs() < 1e-5, "{sim} k={k} ms={ms} sh={sh} ({u},{i}): got {g}, want {want}");
                    assert_eq!(g, model.predict(u, i));
                }
            }
        }
    }

    #[test]
    fn lazy_rows_equal_dense_rows() {
        let r = random_ratings(40, 30, 0.3, 5);
        let m = to_matrix(&r);
        let model = UserKnn::fit(&TrainData::new(&m, true), &Params::new().with("k", 7)).unwrap();
        let mut lazy = UserKnn::fit(&TrainData::new(&m, true), &Params::new().with("k", 7)).unwrap();
        lazy.dense = None;
        let pairs: Vec<(u32, u32)> = (0..200).map(|x| ((x * 7) % 40, (x * 13) % 30)).collect();
        assert_eq!(model.predict_many(&pairs), lazy.predict_many(&pairs));
        let (mut a, mut b) = (vec![0.0; 30], vec![0.0; 30]);
        model.score_user(3, &mut a);
        lazy.score_user(3, &mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn falls_back_and_clips() {
        // user 0 and 1 agree; user 2 rates only item 3; item 4 has no rating.
        let data =
            [(0, 0, 1.0), (0, 1, 5.0), (0, 2, 5.0), (1, 0, 1.0), (1, 1, 5.0), (1, 2, 4.0), (1, 3, 5.0), (2, 3, 3.0)];
        let data: Vec<Interaction> = data.iter().map(|&(u, i, v)| Interaction::new(u, i, v)).collect();
        let m = Interactions::from_interactions(4, 5, &data, Aggregate::Last);
        let model = UserKnn::fit(&TrainData::new(&m, true), &Params::new()).unwrap();
        let mean0 = 11.0 / 3.0;
        assert!((model.predict(0, 4) - mean0).abs() < 1e-6, "item without ratings → user mean");
        assert!((model.predict(2, 0) - 3.0).abs() < 1e-6, "no co-rated neighbour → user mean");
        let global = data.iter().map(|x| x.value).sum::<f32>() / 8.0;
        assert!((model.predict(3, 0) - global).abs() < 1e-6, "user without ratings → global mean");
        // neighbour 1 rated 3 at 5 with mean 3.75 (+1.25); user 0's mean 3.67 → 4.92 ≤ 5
        let p = model.predict(0, 3);
        assert!(p <= 5.0 && p > 4.5, "{p}");
        // a stronger deviation is clipped to the rating range
        let data2: Vec<Interaction> = [(0, 0, 5.0), (0, 1, 1.0), (0, 2, 5.0), (1, 0, 5.0), (1, 1, 1.0), (1, 2, 1.0)]
            .iter()
            .map(|&(u, i, v)| Interaction::new(u, i, v))
            .collect();
        let m2 = Interactions::from_interactions(2, 3, &data2, Aggregate::Last);
        let model2 = UserKnn::fit(&TrainData::new(&m2, true), &Params::new().with("similarity", "cosine")).unwrap();
        // u1 mean 7/3, u0 rated item 2 at 5 with mean 11/3: 7/3 + 4/3 = 11/3 (inside); check bounds hold
        for u in 0..2 {
            for i in 0..3 {
                let x = model2.predict(u, i);
                assert!((1.0..=5.0).contains(&x), "{x}");
            }
        }
    }

    #[test]
    fn clips_to_training_range() {
        // u0 mean 1.5 on items 0,1; neighbour u1 rates item 2 at 5 far above its mean.
        let d =
            [(0, 0, 1.0), (0, 1, 2.0), (1, 0, 1.0), (1, 1, 2.0), (1, 3, 1.0), (1, 4, 1.0), (1, 2, 5.0), (2, 2, 3.0)];
        let d: Vec<Interaction> = d.iter().map(|&(u, i, v)| Interaction::new(u, i, v)).collect();
        let m = Interactions::from_interactions(3, 5, &d, Aggregate::Last);
        let model = UserKnn::fit(&TrainData::new(&m, true), &Params::new()).unwrap();
        // r̂ = 1.5 + (5 − 2) = 4.5: inside; shift u1's other ratings down to push it over.
        assert!((model.predict(0, 2) - 4.5).abs() < 1e-6);
        let d2: Vec<Interaction> =
            d.iter().map(|x| if x.user == 0 { Interaction::new(0, x.item, x.value + 2.0) } else { *x }).collect();
        let m2 = Interactions::from_interactions(3, 5, &d2, Aggregate::Last);
        let model2 = UserKnn::fit(&TrainData::new(&m2, true), &Params::new()).unwrap();
        assert_eq!(model2.predict(0, 2), 5.0, "3.5 + 3 = 6.5 clipped to the max rating 5");
    }

    #[test]
    fn validates_params() {
        let r = random_ratings(5, 5, 0.5, 1);
        let m = to_matrix(&r);
        let t = TrainData::new(&m, true);
        for bad in
            [("k", "0"), ("similarity", "jaccard"), ("shrinkage", "-1"), ("neighbours", "3"), ("min_similarity", "NaN")]
        {
            let e = UserKnn::fit(&t, &Params::new().with(bad.0, bad.1)).unwrap_err().to_string();
            assert!(e.contains(bad.0), "{bad:?}: {e}");
        }
        let imp = TrainData::new(&m, false);
        assert!(UserKnn::fit(&imp, &Params::new().with("similarity", "pearson")).is_err());
        assert!(UserKnn::fit(&imp, &Params::new()).unwrap().as_rating_predictor().is_none());
    }

    #[test]
    fn ranks_planted_clusters() {
        let (m, held) = planted_clusters(400, 200, 5, 12, 3);
        let model = UserKnn::fit(&TrainData::new(&m, false), &Params::new().with("k", 20)).unwrap();
        let hr = hit_rate(&model, &m, &held, 10);
        // random ≈ 10/190 ≈ 0.05; in-cluster random ≈ 10/40 ≈ 0.25
        assert!(hr > 0.2, "hit rate@10 {hr}");
        // an ad-hoc history of cluster-2 items recommends cluster-2 items
        let mut s = vec![0.0; 200];
        model.score_history(&[(2, 1.0), (7, 1.0), (12, 1.0), (17, 1.0)], &mut s);
        let top = crate::topk::top_k(&s, 10, |i| [2, 7, 12, 17].contains(&i));
        assert!(top.iter().filter(|x| x.0 % 5 == 2).count() >= 8, "{top:?}");
        // the reason for the top pick is a history item the neighbours also have
        let mixed = [(2, 1.0), (7, 1.0), (12, 1.0), (3, 1.0)];
        let why = model.explain(&mixed, top[0].0, 2);
        assert!(!why.is_empty() && why[0].0 % 5 == 2 && why.windows(2).all(|w| w[0].1 >= w[1].1), "{why:?}");
        assert!(model.explain(&mixed, 10_000, 2).is_empty());
        // deterministic
        let mut s2 = vec![0.0; 200];
        model.score_history(&[(12, 1.0), (2, 1.0), (7, 1.0), (17, 1.0)], &mut s2);
        assert_eq!(s, s2);
        // explicit top-N on the same data (values as ratings) also finds the clusters
        let ex =
            UserKnn::fit(&TrainData::new(&m, true), &Params::new().with("k", 20).with("similarity", "cosine")).unwrap();
        let hr = hit_rate(&ex, &m, &held, 10);
        assert!(hr > 0.15, "explicit hit rate@10 {hr}");
    }

    fn ml_fold_metrics(k: usize) -> Option<(f64, f64, f64)> {
        ml_fold_metrics_with(k, Params::new().with("k", 40))
    }

    fn ml_fold_metrics_with(k: usize, params: Params) -> Option<(f64, f64, f64)> {
        let dir = ml100k_dir()?;
        let fold = ml100k_fold(&dir, k);
        let t = std::time::Instant::now();
        let model = UserKnn::fit(&TrainData::new(&fold.train, true), &params).unwrap();
        let (rmse, mae) = rmse_mae(&model, &fold);
        Some((rmse, mae, t.elapsed().as_secs_f64()))
    }

    #[test]
    fn movielens_u1_rmse() {
        let Some((rmse, mae, secs)) = ml_fold_metrics(1) else {
            println!("SKIPPED: MovieLens-100k not found (set DAOGOU_DATASETS)");
            return;
        };
        println!("user-knn pearson k=40 u1: RMSE {rmse:.4} MAE {mae:.4}, fit+predict {secs:.3}s");
        // Surprise KNNWithMeans (k=40, pearson) scores 0.9648 on u1 (bench/compare_ml100k.py)
        assert!(rmse <= 0.9650, "RMSE {rmse}");
        // KNNWithZScore: Surprise 0.95106 / 0.74255 over u1..u5, daogou the same; u1 alone 0.9627
        let (z, _, _) = ml_fold_metrics_with(1, Params::new().with("normalize", "zscore")).unwrap();
        assert!(z <= 0.9628 && (z - rmse).abs() > 1e-4, "z-score RMSE {z}");
    }

    #[test]
    #[ignore = "all five MovieLens folds; run in release"]
    fn movielens_five_folds() {
        if ml100k_dir().is_none() {
            println!("SKIPPED: MovieLens-100k not found (set DAOGOU_DATASETS)");
            return;
        }
        let (mut sr, mut sm) = (0.0, 0.0);
        for k in 1..=5 {
            let (rmse, mae, secs) = ml_fold_metrics(k).unwrap();
            println!("u{k}: RMSE {rmse:.4} MAE {mae:.4} fit+predict {secs:.3}s");
            sr += rmse;
            sm += mae;
        }
        println!("mean: RMSE {:.4} MAE {:.4}", sr / 5.0, sm / 5.0);
        assert!(sr / 5.0 <= 0.9525 && sm / 5.0 <= 0.746);
    }
}
