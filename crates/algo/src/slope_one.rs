//! `slope-one`: Slope One (Lemire & Maclachlan 2005) exactly as Surprise's `SlopeOne`:
//!
//! r̂(u,i) = μ_u + (1/|R_i(u)|) Σ_{j∈R_i(u)} dev(i,j),   dev(i,j) = Σ_{v∈U_ij} (r_vi − r_vj) / |U_ij|
//!
//! where μ_u is the mean of u's ratings, U_ij the users who rated both i and j, and R_i(u) the
//! items u rated that share at least one rater with i. R_i(u) empty → μ_u. A user without
//! training ratings, or an item without any, gets the global mean (Surprise's fallback for an
//! impossible prediction). Predictions are clipped to the training rating range; top-N scores
//! are the unclipped predictions. No parameters.
//!
//! `score_history` applies the same formula with μ and R_i taken from the history: a new user
//! needs no refit.
//!
//! Fitting computes every item's deviation row in parallel (rayon; one pass over the item's
//! raters and their items with O(n_items) scratch per worker) and stores dev(i,j) for every
//! pair with a common rater (dev(i,i) = 0 included, as in Surprise) as a sparse matrix: memory
//! is O(number of co-rated item pairs), 8 bytes each.

use daogou_core::{Csr, Interactions, Params};
use rayon::prelude::*;

use crate::sim::{clean_history, row_means, value_stats};
use crate::svd::require_explicit;
use crate::{check_params, Error, ModelState, RatingPredictor, Recommender, Result, TrainData};

/// Parameters of `slope-one` (none).
pub const PARAMS: &[(&str, &str)] = &[];

/// Slope One; see the [module docs](self).
#[derive(Debug)]
pub struct SlopeOne {
    params: Params,
    m: Interactions,
    /// Row i = (j, dev(i,j)) for the items j with a common rater, sorted by j.
    pub dev: Csr,
    user_means: Vec<Option<f64>>,
    pub global_mean: f64,
    lo: f32,
    hi: f32,
}

pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(SlopeOne::fit(train, params)?))
}

pub fn load(s: &ModelState) -> Result<Box<dyn Recommender>> {
    let m = s.interactions("train")?;
    let dev = s.csr("deviations")?;
    if dev.n_rows() != m.n_items() || dev.n_cols() != m.n_items() {
        return Err(Error::BadState {
            model: "slope-one".into(),
            reason: format!("deviations are {}×{} for {} items", dev.n_rows(), dev.n_cols(), m.n_items()),
        });
    }
    Ok(Box::new(SlopeOne::assemble(s.params.clone(), m, dev)))
}

impl SlopeOne {
    /// Fit on explicit ratings.
    pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Self> {
        check_params(params, "slope-one", &[])?;
        require_explicit("slope-one", train)?;
        let m = train.matrix;
        let ni = m.n_items();
        let rows: Vec<Vec<(u32, f32)>> = (0..ni as u32)
            .into_par_iter()
            .map_init(
                || (vec![(0u32, 0f64); ni], Vec::<u32>::new()),
                |(acc, touched), i| {
                    let (us, rs) = m.item_row(i);
                    for (&u, &r_ui) in us.iter().zip(rs) {
                        let (js, rj) = m.user_row(u);
                        for (&j, &r_uj) in js.iter().zip(rj) {
                            let a = &mut acc[j as usize];
                            if a.0 == 0 {
                                touched.push(j);
                            }
                            a.0 += 1;
                            a.1 += f64::from(r_ui) - f64::from(r_uj);
                        }
                    }
                    touched.sort_unstable();
                    let row = touched
                        .iter()
                        .map(|&j| {
                            let (n, s) = std::mem::take(&mut acc[j as usize]);
                            (j, (s / f64::from(n)) as f32)
                        })
                        .collect();
                    touched.clear();
                    row
                },
            )
            .collect();
        let mut indptr = Vec::with_capacity(ni + 1);
        indptr.push(0);
        let (mut indices, mut data) = (Vec::new(), Vec::new());
        for row in rows {
            for (j, d) in row {
                indices.push(j);
                data.push(d);
            }
            indptr.push(indices.len());
        }
        let dev = Csr::from_parts(ni, ni, indptr, indices, data).expect("rows are sorted");
        Ok(SlopeOne::assemble(params.clone(), m.clone(), dev))
    }

    fn assemble(params: Params, m: Interactions, dev: Csr) -> Self {
        let (global_mean, lo, hi) = value_stats(&m.by_user);
        SlopeOne { params, user_means: row_means(&m.by_user), global_mean, lo, hi, m, dev }
    }

    fn known_item(&self, i: u32) -> bool {
        (i as usize) < self.m.n_items() && self.m.by_item.row_len(i as usize) > 0
    }

    /// Unclipped prediction.
    pub fn raw(&self, u: u32, i: u32) -> f64 {
        let Some(mean) = self.user_means.get(u as usize).copied().flatten() else {
            return self.global_mean;
        };
        if !self.known_item(i) {
            return self.global_mean;
        }
        let (row_j, row_d) = self.dev.row(i as usize);
        let (js, _) = self.m.user_row(u);
        let (mut a, mut b, mut n, mut sum) = (0, 0, 0usize, 0f64);
        while a < row_j.len() && b < js.len() {
            match row_j[a].cmp(&js[b]) {
                std::cmp::Ordering::Less => a += 1,
                std::cmp::Ordering::Greater => b += 1,
                std::cmp::Ordering::Equal => {
                    sum += f64::from(row_d[a]);
                    n += 1;
                    a += 1;
                    b += 1;
                }
            }
        }
        if n > 0 {
            mean + sum / n as f64
        } else {
            mean
        }
    }

    /// Unclipped predictions of every item for a user with mean `mean` who rated `items`
    /// (sorted): dev(i,j) = −dev(j,i) exactly, so row j of the deviations serves every i.
    fn score_all(&self, mean: Option<f64>, items: &[u32], out: &mut [f32]) {
        let Some(mean) = mean else {
            out.fill(self.global_mean as f32);
            return;
        };
        let ni = self.m.n_items();
        let mut sum = vec![0f64; ni];
        let mut n = vec![0u32; ni];
        for &j in items {
            let (is, ds) = self.dev.row(j as usize);
            for (&i, &d) in is.iter().zip(ds) {
                sum[i as usize] += f64::from(-d);
                n[i as usize] += 1;
            }
        }
        for (i, o) in out.iter_mut().enumerate().take(ni) {
            *o = if !self.known_item(i as u32) {
                self.global_mean
            } else if n[i] > 0 {
                mean + sum[i] / f64::from(n[i])
            } else {
                mean
            } as f32;
        }
    }
}

impl RatingPredictor for SlopeOne {
    fn predict(&self, user: u32, item: u32) -> f32 {
        (self.raw(user, item) as f32).clamp(self.lo, self.hi)
    }

    fn predict_many(&self, pairs: &[(u32, u32)]) -> Vec<f32> {
        pairs.par_iter().with_min_len(512).map(|&(u, i)| self.predict(u, i)).collect()
    }
}

impl Recommender for SlopeOne {
    fn name(&self) -> &str {
        "slope-one"
    }

    fn n_items(&self) -> usize {
        self.m.n_items()
    }

    fn score_user(&self, user: u32, out: &mut [f32]) {
        let mean = self.user_means.get(user as usize).copied().flatten();
        let items = if (user as usize) < self.m.n_users() { self.m.user_row(user).0 } else { &[] };
        self.score_all(mean, items, out);
    }

    fn score_history(&self, history: &[(u32, f32)], out: &mut [f32]) {
        let (idx, val) = clean_history(history, self.n_items());
        let mean = (!val.is_empty()).then(|| val.iter().map(|&x| f64::from(x)).sum::<f64>() / val.len() as f64);
        self.score_all(mean, &idx, out);
    }

    fn as_rating_predictor(&self) -> Option<&dyn RatingPredictor> {
        Some(self)
    }

    fn state(&self) -> ModelState {
        let mut s = ModelState::new("slope-one", &self.params);
        s.set_interactions("train", &self.m);
        s.set_csr("deviations", &self.dev);
        s
    }
}
