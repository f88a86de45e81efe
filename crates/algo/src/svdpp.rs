//! `svdpp`: SVD++ (Koren 2008), matrix factorisation with implicit feedback, the algorithm of
//! Surprise's `SVDpp`:
//!
//! r̂(u,i) = μ + b_u + b_i + q_i·(p_u + |I_u|^-½ Σ_{j∈I_u} y_j)
//!
//! where I_u are the items u rated (which items, not how: the implicit feedback). Each training
//! rating takes one SGD step on every parameter it touches, `epochs` times (z_u = |I_u|^-½ Σ y_j,
//! e = r − r̂(u,i), old values on the right):
//!
//! ```text
//! b_u += lr_bu (e − reg_bu b_u)                b_i += lr_bi (e − reg_bi b_i)
//! p_u += lr_pu (e q_i − reg_pu p_u)            q_i += lr_qi (e (p_u + z_u) − reg_qi q_i)
//! y_j += lr_yj (e |I_u|^-½ q_i − reg_yj y_j)   for every j ∈ I_u
//! ```
//!
//! Biases start at 0; p, q and y are drawn from N(0, `init_std`²). Defaults: `factors`=20,
//! `epochs`=20, `init_std`=0.1 as Surprise, but `lr`=0.015 and `reg`=0.1 for b, p and q, and
//! `lr_yj`=0.007, `reg_yj`=0.01 for y (Surprise: 0.007 and 0.02 for everything). On MovieLens
//! 100k u1..u5 Surprise's values give a mean RMSE of 0.922 (Surprise itself about 0.92), the
//! tuned ones 0.907 at the same cost. y_j takes a step at every rating of every user who rated
//! j, far more often than any other parameter, hence its lighter regularisation.
//!
//! **Speed.** Written plainly, the y_j step costs O(|I_u|·f) per rating, O(Σ_u |I_u|²·f) per
//! epoch. Here every user's ratings are processed together (as Surprise's own loop does) and the
//! y_j step is applied in closed form once per user: within the user's pass all y_j (j ∈ I_u)
//! undergo the same affine map y ← d·y + g_t q_t (d = 1 − lr_yj·reg_yj, g_t = lr_yj e_t |I_u|^-½),
//! so after the pass y_j = dᵐ·y_j + c with c = Σ_t d^(m−t) g_t q_t accumulated in O(f) per
//! rating, and z_u follows the same steps exactly: z ← d·z + lr_yj e_t q_t. This is the textbook
//! per-rating SGD, not an approximation (up to floating-point rounding), at O(f) per rating plus
//! O(|I_u|·f) per user and epoch. The deviation from Surprise is the order only: every epoch
//! the users come in a fresh random order and so do each user's ratings (Surprise walks the same
//! order each epoch), from a seeded [`rand::rngs::Xoshiro256PlusPlus`] (`seed`, default 42).
//!
//! Predictions are clipped to the training rating range; top-N scores are unclipped. Users and
//! items without training ratings have no factors, as in `svd`. **Fold-in** (`score_history`):
//! z = |H|^-½ Σ_{j∈H} y_j over the history H, then `[b_u, p_u]` is fitted to the history with the
//! item parameters fixed, as in `svd` (regularised least squares under the prior of the fitted
//! users).

use daogou_core::{Interactions, Params};
use faer::traits::pulp::{Arch, Simd, WithSimd};
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;
use rayon::prelude::*;

use crate::early_stop::{self, Curve, EarlyStopping};
use crate::sim::{clean_history, get_nonneg, value_stats};
use crate::svd::{check_converged, dot_fma, normal, require_explicit, rng, zero_unrated, Factors, Prior, Sgd};
use crate::{check_params, Error, ModelState, RatingPredictor, Recommender, Result, Tensor, TrainData};

/// Parameters of `svdpp` with their meaning and default.
pub const PARAMS: &[(&str, &str)] = &[
    ("factors", "number of latent factors (default 20)"),
    ("epochs", "SGD passes over the ratings, users and their ratings in a fresh random order (default 20)"),
    ("lr", "learning rate of b_u, b_i, p_u, q_i (default 0.015; Surprise: 0.007)"),
    ("reg", "regularisation of b_u, b_i, p_u, q_i (default 0.1; Surprise: 0.02)"),
    ("lr_bu", "learning rate of the user biases (default: lr)"),
    ("lr_bi", "learning rate of the item biases (default: lr)"),
    ("lr_pu", "learning rate of the user factors (default: lr)"),
    ("lr_qi", "learning rate of the item factors (default: lr)"),
    ("lr_yj", "learning rate of the implicit item factors y_j (default 0.007; not set by lr)"),
    ("reg_bu", "regularisation of the user biases (default: reg)"),
    ("reg_bi", "regularisation of the item biases (default: reg)"),
    ("reg_pu", "regularisation of the user factors (default: reg)"),
    ("reg_qi", "regularisation of the item factors (default: reg)"),
    ("reg_yj", "regularisation of the implicit item factors y_j (default 0.01; not set by reg)"),
    ("init_std", "standard deviation of the normal initial factors (default 0.1)"),
    ("seed", "seed of the initial factors and the shuffles (default 42)"),
    early_stop::EARLY_STOPPING,
    early_stop::PATIENCE,
    early_stop::VALIDATION,
];

/// SVD++; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct SvdPp {
    params: Params,
    /// Its user vectors are p_u + z_u.
    pub fac: Factors,
    /// n_items × f implicit factors y_j.
    pub yj: Vec<f32>,
    /// Epochs chosen by early stopping (None without it).
    pub best_epoch: Option<usize>,
}

pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(SvdPp::fit(train, params)?))
}

pub fn load(s: &ModelState) -> Result<Box<dyn Recommender>> {
    let fac = Factors::from_state(s)?;
    let yj = s.f32s("implicit_factors", Some(fac.n_items() * fac.f))?.to_vec();
    if !fac.biased {
        return Err(Error::BadState { model: "svdpp".into(), reason: "svdpp is always biased".into() });
    }
    Ok(Box::new(SvdPp { params: s.params.clone(), fac, yj, best_epoch: early_stop::load_best_epoch(s)? }))
}

/// z = |items|^-½ Σ_j y_j (zeros for no item).
#[inline(always)]
pub fn implicit_sum(yj: &[f32], f: usize, items: impl ExactSizeIterator<Item = u32>) -> Vec<f32> {
    let n = items.len();
    let mut z = vec![0f32; f];
    for j in items {
        for (zk, &y) in z.iter_mut().zip(&yj[j as usize * f..(j as usize + 1) * f]) {
            *zk += y;
        }
    }
    if n > 0 {
        let s = 1.0 / (n as f32).sqrt();
        z.iter_mut().for_each(|x| *x *= s);
    }
    z
}

/// One SGD epoch of `svdpp`, as a SIMD kernel ([`Arch::dispatch`]: AVX2/AVX-512 when the CPU
/// has them; the operations are written out in a fixed order with fused multiply-adds, so the
/// fit does not depend on the instruction set).
struct SvdppEpoch<'a> {
    h: &'a Sgd,
    mean: f32,
    rows: &'a mut [(u32, f32)],
    ptr: &'a [usize],
    users: &'a mut [u32],
    pu: &'a mut [f32],
    qi: &'a mut [f32],
    yj: &'a mut [f32],
    bu: &'a mut [f32],
    bi: &'a mut [f32],
    rng: &'a mut Xoshiro256PlusPlus,
}

impl WithSimd for SvdppEpoch<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let SvdppEpoch { h, mean, rows, ptr, users, pu, qi, yj, bu, bi, rng } = self;
        let f = h.factors;
        let decay = 1.0 - h.lr_yj * h.reg_yj;
        let (dp, dq) = (1.0 - h.lr_pu * h.reg_pu, 1.0 - h.lr_qi * h.reg_qi);
        let (mut c, mut pz) = (vec![0f32; f], vec![0f32; f]);
        users.shuffle(rng);
        for &u in users.iter() {
            let u = u as usize;
            let mine = &mut rows[ptr[u]..ptr[u + 1]];
            mine.shuffle(rng);
            let s = 1.0 / (mine.len() as f32).sqrt();
            // z = |I_u|^-½ Σ y_j, kept up to date through the user's steps
            let mut z = implicit_sum(yj, f, mine.iter().map(|x| x.0));
            c.fill(0.0);
            let mut scale = 1f32;
            let p = &mut pu[u * f..(u + 1) * f];
            let mut b_u = bu[u];
            for &(i, r) in mine.iter() {
                let i = i as usize;
                let q = &mut qi[i * f..(i + 1) * f];
                for ((x, &a), &b) in pz.iter_mut().zip(p.iter()).zip(&z) {
                    *x = a + b;
                }
                let err = r - (mean + b_u + bi[i] + dot_fma(q, &pz));
                b_u += h.lr_bu * (err - h.reg_bu * b_u);
                bi[i] += h.lr_bi * (err - h.reg_bi * bi[i]);
                let (ep, eq) = (h.lr_pu * err, h.lr_qi * err);
                let (g, gz) = (h.lr_yj * err * s, h.lr_yj * err);
                for ((((pf, qf), zf), cf), &x) in
                    p.iter_mut().zip(q.iter_mut()).zip(z.iter_mut()).zip(c.iter_mut()).zip(&pz)
                {
                    let (a, b) = (*pf, *qf);
                    *pf = ep.mul_add(b, dp * a);
                    *qf = eq.mul_add(x, dq * b);
                    *cf = g.mul_add(b, decay * *cf);
                    *zf = gz.mul_add(b, decay * *zf);
                }
                scale *= decay;
            }
            bu[u] = b_u;
            for &(j, _) in mine.iter() {
                for (y, &cf) in yj[j as usize * f..(j as usize + 1) * f].iter_mut().zip(&c) {
                    *y = scale.mul_add(*y, cf);
                }
            }
        }
    }
}

/// The SGD settings with `svdpp`'s defaults.
pub fn hyperparameters(params: &Params) -> Result<Sgd> {
    let mut h = Sgd::parse(params, 20, 0.015, 0.1, false)?;
    h.lr_yj = get_nonneg(params, "lr_yj", 0.007)? as f32;
    h.reg_yj = get_nonneg(params, "reg_yj", 0.01)? as f32;
    Ok(h)
}

impl SvdPp {
    /// Fit on explicit ratings (see [`PARAMS`] for the parameters).
    pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Self> {
        check_params(params, "svdpp", &PARAMS.iter().map(|p| p.0).collect::<Vec<_>>())?;
        let h = hyperparameters(params)?;
        require_explicit("svdpp", train)?;
        let Some(es) = EarlyStopping::parse(params, h.seed, 3)? else {
            return Self::fit_with(train.matrix, &h, params);
        };
        let curve = Self::validation_curve(train.matrix, &h, &es)?;
        let mut model = Self::fit_with(train.matrix, &Sgd { epochs: curve.best_epochs(), ..h }, params)?;
        model.best_epoch = Some(curve.best_epochs());
        Ok(model)
    }

    /// Early stopping's first phase: epochs on `m` minus the validation split, RMSE on it after
    /// each, until `patience` epochs bring no improvement.
    pub fn validation_curve(m: &Interactions, h: &Sgd, es: &EarlyStopping) -> Result<Curve> {
        let split = es.split("svdpp", m, true)?;
        let t = &split.train;
        let (_, lo, hi) = value_stats(&t.by_user);
        let f = h.factors;
        let mut curve = Curve::new(es.patience);
        Self::sgd(t, h, |mean, pu, qi, yj, bu, bi| {
            let rmse = split.rmse(|u| {
                let u = u as usize;
                let mut x = implicit_sum(yj, f, t.by_user.row(u).0.iter().copied());
                x.iter_mut().zip(&pu[u * f..(u + 1) * f]).for_each(|(a, &p)| *a += p);
                let known_u = t.by_user.row_len(u) > 0;
                move |i: u32| {
                    let i = i as usize;
                    let known = known_u && t.by_item.row_len(i) > 0;
                    let dot = if known { dot_fma(&qi[i * f..(i + 1) * f], &x) } else { 0.0 };
                    (mean + bu[u] + bi[i] + dot).clamp(lo, hi)
                }
            });
            curve.push(-rmse)
        });
        Ok(curve)
    }

    /// The SGD epochs from the seeded start: (μ, p, q, y, b_u, b_i). `after` is told the
    /// parameters after every epoch and returns false to stop early.
    #[allow(clippy::type_complexity)]
    fn sgd(
        m: &Interactions,
        h: &Sgd,
        mut after: impl FnMut(f32, &[f32], &[f32], &[f32], &[f32], &[f32]) -> bool,
    ) -> (f32, Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
        let (mean, _, _) = value_stats(&m.by_user);
        let mean = mean as f32;
        let (nu, ni, f) = (m.n_users(), m.n_items(), h.factors);
        let mut rng = rng(h.seed);
        let mut pu = normal(&mut rng, nu * f, h.init_std);
        let mut qi = normal(&mut rng, ni * f, h.init_std);
        let mut yj = normal(&mut rng, ni * f, h.init_std);
        let (mut bu, mut bi) = (vec![0f32; nu], vec![0f32; ni]);
        let mut rows: Vec<(u32, f32)> =
            m.by_user.indices().iter().copied().zip(m.by_user.data().iter().copied()).collect();
        let mut users: Vec<u32> = (0..nu as u32).filter(|&u| m.by_user.row_len(u as usize) > 0).collect();
        for _ in 0..h.epochs {
            Arch::new().dispatch(SvdppEpoch {
                h,
                mean,
                rows: &mut rows,
                ptr: m.by_user.indptr(),
                users: &mut users,
                pu: &mut pu,
                qi: &mut qi,
                yj: &mut yj,
                bu: &mut bu,
                bi: &mut bi,
                rng: &mut rng,
            });
            if !after(mean, &pu, &qi, &yj, &bu, &bi) {
                break;
            }
        }
        (mean, pu, qi, yj, bu, bi)
    }

    /// Fit with parsed hyperparameters (`params` as given, for the saved state).
    fn fit_with(m: &Interactions, h: &Sgd, params: &Params) -> Result<Self> {
        let (_, lo, hi) = value_stats(&m.by_user);
        let f = h.factors;
        let (mean, mut pu, mut qi, mut yj, bu, bi) = Self::sgd(m, h, |_, _, _, _, _, _| true);
        check_converged("svdpp", &[&pu, &qi, &yj, &bu, &bi])?;
        zero_unrated(&mut pu, f, |u| m.by_user.row_len(u));
        zero_unrated(&mut qi, f, |i| m.by_item.row_len(i));
        zero_unrated(&mut yj, f, |i| m.by_item.row_len(i));
        // the answering user vectors p_u + z_u, with the final y
        let mut users_x = pu.clone();
        users_x.par_chunks_mut(f).enumerate().for_each(|(u, x)| {
            let z = implicit_sum(&yj, f, m.by_user.row(u).0.iter().copied());
            x.iter_mut().zip(&z).for_each(|(a, b)| *a += b);
        });
        let mut fac = Factors::new(
            f,
            mean,
            true,
            (lo, hi),
            bu,
            bi,
            users_x,
            &qi,
            Prior { mean: Vec::new(), var: Vec::new(), noise: 1.0 },
        );
        let noise = fac.residual_variance(m);
        fac.prior = Prior::estimate(&fac.bu, &pu, f, true, |u| m.by_user.row_len(u) > 0, noise);
        Ok(SvdPp { params: params.clone(), fac, yj, best_epoch: None })
    }

    /// Fold-in of an ad-hoc history: (b_u, p_u + z) (see the module docs).
    pub fn fold_in(&self, history: &[(u32, f32)]) -> (f32, Vec<f32>) {
        let fac = &self.fac;
        let (idx, val) = clean_history(history, fac.n_items());
        let z = implicit_sum(&self.yj, fac.f, idx.iter().copied());
        let rows: Vec<(u32, f32)> = idx
            .iter()
            .zip(&val)
            .map(|(&j, &r)| (j, r - fac.mean - fac.bi[j as usize] - fac.item_dot(&z, j as usize)))
            .collect();
        let (b, mut p) = fac.fold_in(&rows);
        p.iter_mut().zip(&z).for_each(|(a, b)| *a += b);
        (b, p)
    }
}

impl RatingPredictor for SvdPp {
    fn predict(&self, user: u32, item: u32) -> f32 {
        self.fac.predict(user, item)
    }

    fn predict_many(&self, pairs: &[(u32, u32)]) -> Vec<f32> {
        self.fac.predict_many(pairs)
    }
}

impl Recommender for SvdPp {
    fn name(&self) -> &str {
        "svdpp"
    }

    fn n_items(&self) -> usize {
        self.fac.n_items()
    }

    fn score_user(&self, user: u32, out: &mut [f32]) {
        self.fac.score_user(user, out);
    }

    fn score_history(&self, history: &[(u32, f32)], out: &mut [f32]) {
        let (b, x) = self.fold_in(history);
        self.fac.score_vector(b, &x, out);
    }

    fn as_rating_predictor(&self) -> Option<&dyn RatingPredictor> {
        Some(self)
    }

    fn state(&self) -> ModelState {
        let mut s = ModelState::new("svdpp", &self.params);
        self.fac.write_state(&mut s);
        s.set("implicit_factors", Tensor::F32(self.yj.clone()));
        early_stop::save_best_epoch(&mut s, self.best_epoch);
        s
    }
}
