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
pub(crate) const PARAMS: &[(&str, &str)] = &[];

/// Slope One; see the [module docs](self).
#[derive(Debug)]
pub struct SlopeOne {
    params: Params,
    m: Interactions,
    /// Row i = (j, dev(i,j)) for the items j with a common rater, sorted by j.
    dev: Csr,
    user_means: Vec<Option<f64>>,
    global_mean: f64,
    lo: f32,
    hi: f32,
}

pub(crate) fn fit(train: &TrainData<'_>, params: &Params) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(SlopeOne::fit(train, params)?))
}

pub(crate) fn load(s: &ModelState) -> Result<Box<dyn Recommender>> {
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
    fn raw(&self, u: u32, i: u32) -> f64 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::svd::tests::{ml_fold, planted, rmse};
    use daogou_core::{Aggregate, Interaction};

    #[test]
    fn matches_the_plain_formula() {
        let (m, _) = planted(50, 30, 0.3, 6);
        let model = SlopeOne::fit(&TrainData::new(&m, true), &Params::new()).unwrap();
        let r = |u: usize, i: usize| m.by_user.get(u, i as u32).map(f64::from);
        let mut scores = vec![0.0; 30];
        for u in 0..50usize {
            model.score_user(u as u32, &mut scores);
            let rated: Vec<usize> = (0..30).filter(|&j| r(u, j).is_some()).collect();
            let mean = rated.iter().map(|&j| r(u, j).unwrap()).sum::<f64>() / rated.len() as f64;
            for (i, &score) in scores.iter().enumerate() {
                let mut devs = Vec::new();
                for &j in &rated {
                    let common: Vec<usize> = (0..50).filter(|&v| r(v, i).is_some() && r(v, j).is_some()).collect();
                    if !common.is_empty() {
                        let d = common.iter().map(|&v| r(v, i).unwrap() - r(v, j).unwrap()).sum::<f64>();
                        devs.push(d / common.len() as f64);
                    }
                }
                let known = (0..50).any(|v| r(v, i).is_some());
                let want = if !known {
                    model.global_mean
                } else if devs.is_empty() {
                    mean
                } else {
                    mean + devs.iter().sum::<f64>() / devs.len() as f64
                };
                let got = model.predict(u as u32, i as u32);
                assert!((f64::from(got) - want.clamp(1.0, 5.0)).abs() < 1e-5, "({u},{i}): {got} vs {want}");
                assert_eq!(score, model.raw(u as u32, i as u32) as f32, "({u},{i})");
            }
        }
    }

    #[test]
    fn small_example_and_new_users() {
        // the example of Lemire & Maclachlan: A rated i0=1 i1=1.5; B rated i0=2; predict B on i1
        // dev(1,0) = 0.5 → B: mean 2 + 0.5 = 2.5 (Surprise: same)
        let d: Vec<Interaction> =
            [(0, 0, 1.0), (0, 1, 1.5), (1, 0, 2.0)].iter().map(|&(u, i, r)| Interaction::new(u, i, r)).collect();
        let m = Interactions::from_interactions(3, 3, &d, Aggregate::Last);
        let model = SlopeOne::fit(&TrainData::new(&m, true), &Params::new()).unwrap();
        assert_eq!(model.dev.get(1, 0), Some(0.5));
        assert_eq!(model.dev.get(0, 1), Some(-0.5));
        assert_eq!(model.dev.get(2, 0), None);
        assert_eq!(model.predict(1, 1), 2.0, "2.5 clipped to the training maximum 2");
        let global = 4.5 / 3.0;
        assert_eq!(model.predict(2, 0), global as f32, "user without ratings → global mean");
        assert_eq!(model.predict(0, 2), global as f32, "item without ratings → global mean");
        // a history equal to user 1's scores as user 1
        let (mut a, mut b) = (vec![0.0; 3], vec![0.0; 3]);
        model.score_history(&[(0, 2.0)], &mut a);
        model.score_user(1, &mut b);
        assert_eq!(a, b);
        assert_eq!(a[1], 2.5);
        model.score_history(&[], &mut a);
        assert!(a.iter().all(|&x| x == global as f32));
    }

    #[test]
    fn beats_user_means_on_planted_data_and_validates() {
        let (m, test) = planted(300, 200, 0.3, 12);
        let t = TrainData::new(&m, true);
        let model = SlopeOne::fit(&t, &Params::new()).unwrap();
        let means = row_means(&m.by_user);
        let se: f64 =
            test.iter().map(|&(u, _, r)| (means[u as usize].unwrap_or(3.0) - f64::from(r)).powi(2)).sum::<f64>();
        let (rs, rm) = (rmse(&model, &test), (se / test.len() as f64).sqrt());
        assert!(rs < rm - 0.05, "slope one RMSE {rs} vs user mean {rm}");
        assert!(SlopeOne::fit(&t, &Params::new().with("k", 3)).unwrap_err().to_string().contains('k'));
        let e = SlopeOne::fit(&TrainData::new(&m, false), &Params::new()).unwrap_err();
        assert!(e.to_string().contains("explicit"), "{e}");
    }

    #[test]
    fn movielens_u1_rmse() {
        let Some((rmse, mae, secs)) = ml_fold("slope-one", 1) else {
            println!("SKIPPED: MovieLens-100k not found (set DAOGOU_DATASETS)");
            return;
        };
        println!("slope-one u1: RMSE {rmse:.4} MAE {mae:.4}, fit+predict {secs:.3}s");
        // Surprise SlopeOne: 0.95672 on u1, the same predictions
        assert!(rmse <= 0.9568, "RMSE {rmse}");
    }
}
