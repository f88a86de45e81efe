//! `svd`: biased matrix factorisation fitted by stochastic gradient descent (Funk 2006; Koren,
//! Bell & Volinsky 2009), the algorithm of Surprise's `SVD`:
//!
//! r̂(u,i) = μ + b_u + b_i + p_u·q_i
//!
//! fitted by minimising Σ (r_ui − r̂(u,i))² + λ(b_u² + b_i² + ‖p_u‖² + ‖q_i‖²) with one SGD step
//! per training rating, `epochs` times:
//!
//! ```text
//! e = r − r̂(u,i)
//! b_u += lr_bu (e − reg_bu b_u)          b_i += lr_bi (e − reg_bi b_i)
//! p_u += lr_pu (e q_i − reg_pu p_u)      q_i += lr_qi (e p_u − reg_qi q_i)   (old values on the right)
//! ```
//!
//! Biases start at 0, factors are drawn from N(0, `init_std`²); `biased=false` drops μ, b_u
//! and b_i. Defaults: `epochs`=20, `init_std`=0.1 as Surprise, but `factors`=64, `lr`=0.02
//! and `reg`=0.1 instead of Surprise's 100, 0.005 and 0.02 (each `lr_*`/`reg_*` defaults to
//! `lr`/`reg`). On MovieLens 100k u1..u5 Surprise's values give a mean RMSE of 0.940 (Surprise
//! itself: 0.938); lr 0.02 and reg 0.1 give 0.917 with 100 factors and 0.918 with 64, which
//! cost a third less (`--set factors=100 --set lr=0.005 --set reg=0.02` restores Surprise's).
//!
//! Order of the steps and threads: the users and the items are cut into 4 contiguous ranges
//! each, so the ratings fall into 4 × 4 cells; an epoch is 4 sub-epochs, and sub-epoch d runs
//! the cells (g, g + d mod 4) in parallel (rayon): they share no user and no item, so they
//! update disjoint parameters (stratified SGD, Gemulla et al. 2011) and the fit is the same for
//! any number of threads. Inside a cell the users come in a fresh random order every epoch, and
//! so do each user's ratings (Surprise walks all ratings user by user in the same order every
//! epoch). Each cell has its own [`Xoshiro256PlusPlus`] generator drawn from the model's
//! (`seed`, default 42; `daogou evaluate --seed` sets it), so a fit is reproducible on every
//! platform. The step is computed as p ← (1 − lr·reg)·p + lr·e·q with fused multiply-adds inside
//! a SIMD kernel (AVX2/AVX-512 when the CPU has them, the same bits without).
//!
//! Predictions are clipped to the training rating range. A user (item) without training
//! ratings has no factors and no bias: it gets μ + b_i (μ + b_u), as in Surprise. Top-N scores
//! (`score_user`, `score_history`) are the unclipped predictions, so that items predicted above
//! the top of the scale keep their order.
//!
//! **Fold-in** (`score_history`, a user who is not in the training data): the item parameters
//! stay fixed and the user's `[b_u, p_u]` is the regularised least-squares fit to the history,
//! i.e. the posterior mean under a Gaussian prior estimated from the fitted training users
//! (per dimension: the mean and variance of their `[b_u, p_u]`) with the training residual
//! variance as noise: (AᵀA + σ² V⁻¹) x = Aᵀy + σ² V⁻¹ m, where A's rows are `[1, q_j]` and
//! y_j = r_j − μ − b_j. Deterministic, O(n f² + f³) for n history ratings; an empty history
//! gets the prior mean. The prior is part of the saved state.

use daogou_core::{Interactions, Params};
use faer::traits::pulp::{Arch, Simd, WithSimd};
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

use crate::early_stop::{self, Curve, EarlyStopping};
use crate::sim::{check_finite, clean_history, get_at_least, get_bool, get_nonneg, value_stats};
use crate::{check_params, Error, ModelState, RatingPredictor, Recommender, Result, Tensor, TrainData};

/// Parameters of `svd` with their meaning and default.
pub const PARAMS: &[(&str, &str)] = &[
    ("factors", "number of latent factors (default 64; Surprise: 100)"),
    ("epochs", "SGD passes over the ratings, each in a fresh random order (default 20)"),
    ("lr", "learning rate of every parameter (default 0.02; Surprise: 0.005)"),
    ("reg", "regularisation of every parameter (default 0.1; Surprise: 0.02)"),
    ("lr_bu", "learning rate of the user biases (default: lr)"),
    ("lr_bi", "learning rate of the item biases (default: lr)"),
    ("lr_pu", "learning rate of the user factors (default: lr)"),
    ("lr_qi", "learning rate of the item factors (default: lr)"),
    ("reg_bu", "regularisation of the user biases (default: reg)"),
    ("reg_bi", "regularisation of the item biases (default: reg)"),
    ("reg_pu", "regularisation of the user factors (default: reg)"),
    ("reg_qi", "regularisation of the item factors (default: reg)"),
    ("init_std", "standard deviation of the normal initial factors (default 0.1)"),
    ("seed", "seed of the initial factors and the shuffles (default 42)"),
    ("biased", "fit μ + b_u + b_i as well (default true; false: r̂ = p_u·q_i)"),
    early_stop::EARLY_STOPPING,
    early_stop::PATIENCE,
    early_stop::VALIDATION,
];

/// SGD hyperparameters shared by `svd` and `svdpp`.
#[derive(Debug, Clone, Copy)]
pub struct Sgd {
    pub factors: usize,
    pub epochs: usize,
    pub lr_bu: f32,
    pub lr_bi: f32,
    pub lr_pu: f32,
    pub lr_qi: f32,
    pub lr_yj: f32,
    pub reg_bu: f32,
    pub reg_bi: f32,
    pub reg_pu: f32,
    pub reg_qi: f32,
    pub reg_yj: f32,
    pub init_std: f64,
    pub seed: u64,
    pub biased: bool,
}

impl Sgd {
    /// Read the hyperparameters with the given defaults (`biased` and the `_yj` rates only
    /// when the model has them).
    pub fn parse(p: &Params, factors: usize, lr: f64, reg: f64, with_biased: bool) -> Result<Sgd> {
        let lr = get_nonneg(p, "lr", lr)?;
        let reg = get_nonneg(p, "reg", reg)?;
        let f = |key: &str, default: f64| get_nonneg(p, key, default).map(|x| x as f32);
        Ok(Sgd {
            factors: get_at_least(p, "factors", factors, 1)?,
            epochs: get_at_least(p, "epochs", 20, 0)?,
            lr_bu: f("lr_bu", lr)?,
            lr_bi: f("lr_bi", lr)?,
            lr_pu: f("lr_pu", lr)?,
            lr_qi: f("lr_qi", lr)?,
            lr_yj: f("lr_yj", lr)?,
            reg_bu: f("reg_bu", reg)?,
            reg_bi: f("reg_bi", reg)?,
            reg_pu: f("reg_pu", reg)?,
            reg_qi: f("reg_qi", reg)?,
            reg_yj: f("reg_yj", reg)?,
            init_std: get_nonneg(p, "init_std", 0.1)?,
            seed: p.get("seed", 42u64)?,
            biased: if with_biased { get_bool(p, "biased", true)? } else { true },
        })
    }
}

/// These models learn from ratings only.
pub fn require_explicit(model: &str, train: &TrainData<'_>) -> Result<()> {
    if train.explicit {
        check_finite(model, &train.matrix.by_user)
    } else {
        Err(Error::BadData {
            model: model.to_owned(),
            reason: "needs explicit ratings, but the data is implicit (events, not ratings); \
                     use item-knn, user-knn or popularity on implicit data"
                .into(),
        })
    }
}

/// Error when SGD diverged (a learning rate too large for the data): some parameter is not finite.
pub fn check_converged(model: &str, params: &[&[f32]]) -> Result<()> {
    if params.iter().all(|v| v.iter().all(|x| x.is_finite())) {
        Ok(())
    } else {
        Err(Error::BadData {
            model: model.to_owned(),
            reason: "SGD diverged (parameters became infinite or NaN); lower lr or raise reg".into(),
        })
    }
}

/// The generator of the initial factors and the shuffles.
pub fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

/// `n` draws from N(0, std²) (Marsaglia's polar method), as f32.
pub fn normal(rng: &mut Xoshiro256PlusPlus, n: usize, std: f64) -> Vec<f32> {
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let x = 2.0 * rng.random::<f64>() - 1.0;
        let y = 2.0 * rng.random::<f64>() - 1.0;
        let s = x * x + y * y;
        if s >= 1.0 || s == 0.0 {
            continue;
        }
        let m = (-2.0 * s.ln() / s).sqrt() * std;
        out.push((x * m) as f32);
        out.push((y * m) as f32);
    }
    out.truncate(n);
    out
}

/// Dot product for the SGD kernels: 16 independent sums of fused multiply-adds (exactly
/// rounded, so the result is the same with or without hardware FMA; only fast with it) added
/// in a fixed tree, so the same inputs give the same bits on every CPU.
#[inline(always)]
pub fn dot_fma(a: &[f32], b: &[f32]) -> f32 {
    const L: usize = 16;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; L];
    let (ca, cb) = (a.chunks_exact(L), b.chunks_exact(L));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        let x: &[f32; L] = x.try_into().expect("a chunk");
        let y: &[f32; L] = y.try_into().expect("a chunk");
        for l in 0..L {
            acc[l] = x[l].mul_add(y[l], acc[l]);
        }
    }
    for (l, (x, y)) in ra.iter().zip(rb).enumerate() {
        acc[l] = x.mul_add(*y, acc[l]);
    }
    let mut w = L / 2;
    while w > 0 {
        for l in 0..w {
            acc[l] += acc[l + w];
        }
        w /= 2;
    }
    acc[0]
}

/// One SGD step of a factor pair, p += lr_p (e q − reg_p p) and q += lr_q (e p − reg_q q) with
/// the old p and q on the right, computed as p ← (1 − lr_p reg_p) p + (lr_p e) q (the same
/// update, fewer operations; fused multiply-adds).
#[inline(always)]
pub fn sgd_step(p: &mut [f32], q: &mut [f32], err: f32, lr_p: f32, reg_p: f32, lr_q: f32, reg_q: f32) {
    let (ep, dp) = (lr_p * err, 1.0 - lr_p * reg_p);
    let (eq, dq) = (lr_q * err, 1.0 - lr_q * reg_q);
    for (pf, qf) in p.iter_mut().zip(q.iter_mut()) {
        let (a, b) = (*pf, *qf);
        *pf = ep.mul_add(b, dp * a);
        *qf = eq.mul_add(a, dq * b);
    }
}

/// Zero the `f`-wide rows of `v` whose entity has no training rating (`lens[r] == 0`).
pub fn zero_unrated(v: &mut [f32], f: usize, lens: impl Fn(usize) -> usize) {
    for (r, row) in v.chunks_exact_mut(f).enumerate() {
        if lens(r) == 0 {
            row.fill(0.0);
        }
    }
}

/// Gaussian prior over a user's `[b_u (when biased), p_u]`, for fold-in.
#[derive(Debug, Clone, PartialEq)]
pub struct Prior {
    pub mean: Vec<f64>,
    pub var: Vec<f64>,
    /// Residual variance σ² of the training ratings.
    pub noise: f64,
}

impl Prior {
    /// Estimate from the fitted users that have ratings (`rated(u)`): per-dimension mean and
    /// variance of `[b_u, p_u]` (without b_u when not `biased`).
    pub fn estimate(bu: &[f32], pu: &[f32], f: usize, biased: bool, rated: impl Fn(usize) -> bool, noise: f64) -> Self {
        let d = f + usize::from(biased);
        let (mut n, mut s, mut sq) = (0usize, vec![0f64; d], vec![0f64; d]);
        let mut x = vec![0f64; d];
        for (u, p) in pu.chunks_exact(f).enumerate() {
            if !rated(u) {
                continue;
            }
            n += 1;
            if biased {
                x[0] = f64::from(bu[u]);
            }
            for (xk, &pk) in x[usize::from(biased)..].iter_mut().zip(p) {
                *xk = f64::from(pk);
            }
            for k in 0..d {
                s[k] += x[k];
                sq[k] += x[k] * x[k];
            }
        }
        let nf = n.max(1) as f64;
        let mean: Vec<f64> = s.iter().map(|&s| s / nf).collect();
        let var = sq.iter().zip(&mean).map(|(&q, &m)| (q / nf - m * m).max(1e-6)).collect();
        Prior { mean, var, noise: if noise.is_finite() { noise.max(1e-6) } else { 1.0 } }
    }

    fn write(&self, s: &mut ModelState) {
        s.set("prior.mean", Tensor::F64(self.mean.clone()));
        s.set("prior.var", Tensor::F64(self.var.clone()));
        s.set_scalar("prior.noise", self.noise);
    }

    fn read(s: &ModelState, d: usize) -> Result<Self> {
        Ok(Prior {
            mean: s.f64s("prior.mean", Some(d))?.to_vec(),
            var: s.f64s("prior.var", Some(d))?.to_vec(),
            noise: s.scalar("prior.noise")?,
        })
    }
}

/// What the factor models answer with: r̂(u,i) = μ + b_u + b_i + x_u·q_i, where x_u is p_u for
/// `svd` and p_u + |I_u|^-½ Σ_{j∈I_u} y_j for `svdpp`.
#[derive(Debug, Clone)]
pub struct Factors {
    pub f: usize,
    /// μ (0 when not biased).
    pub mean: f32,
    pub biased: bool,
    pub lo: f32,
    pub hi: f32,
    pub bu: Vec<f32>,
    pub bi: Vec<f32>,
    /// n_users × f user vectors x_u.
    pub users: Vec<f32>,
    /// Item factors q_i in blocks of [`BLOCK`] items, factor-major inside a block: q_ik is at
    /// (i / BLOCK)·f·BLOCK + k·BLOCK + i % BLOCK. Scoring every item for one user then reads
    /// the blocks sequentially with one independent sum per item (see [`ScoreItems`]); padded
    /// with zeros to whole groups of [`GROUP`] blocks.
    blocks: Vec<f32>,
    pub prior: Prior,
}

/// Items per block of [`Factors`]' item factors.
const BLOCK: usize = 16;
/// Blocks scored together (independent sums that hide the addition latency).
const GROUP: usize = 4;

impl Factors {
    pub fn n_users(&self) -> usize {
        self.bu.len()
    }

    pub fn n_items(&self) -> usize {
        self.bi.len()
    }

    /// Assemble from row-major (n_items × f) item factors.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        f: usize,
        mean: f32,
        biased: bool,
        (lo, hi): (f32, f32),
        bu: Vec<f32>,
        bi: Vec<f32>,
        users: Vec<f32>,
        items: &[f32],
        prior: Prior,
    ) -> Self {
        let ni = bi.len();
        let n_blocks = ni.div_ceil(BLOCK * GROUP) * GROUP;
        let mut blocks = vec![0f32; n_blocks * f * BLOCK];
        for (i, q) in items.chunks_exact(f).enumerate().take(ni) {
            let base = (i / BLOCK) * f * BLOCK + i % BLOCK;
            for (k, &x) in q.iter().enumerate() {
                blocks[base + k * BLOCK] = x;
            }
        }
        Factors { f, mean, biased, lo, hi, bu, bi, users, blocks, prior }
    }

    /// q_i as a row.
    pub fn item_row(&self, i: usize) -> Vec<f32> {
        let base = (i / BLOCK) * self.f * BLOCK + i % BLOCK;
        (0..self.f).map(|k| self.blocks[base + k * BLOCK]).collect()
    }

    /// All item factors, row-major (n_items × f).
    pub fn items_row_major(&self) -> Vec<f32> {
        (0..self.n_items()).flat_map(|i| self.item_row(i)).collect()
    }

    /// x·q_i, summed in factor order (the same arithmetic as [`ScoreItems`]).
    #[inline(always)]
    pub fn item_dot(&self, x: &[f32], i: usize) -> f32 {
        let base = (i / BLOCK) * self.f * BLOCK + i % BLOCK;
        let mut acc = 0f32;
        for (k, &xk) in x.iter().enumerate().take(self.f) {
            acc += xk * self.blocks[base + k * BLOCK];
        }
        acc
    }

    fn user(&self, u: usize) -> &[f32] {
        &self.users[u * self.f..(u + 1) * self.f]
    }

    /// Unclipped prediction; users/items outside the training range contribute nothing.
    #[inline(always)]
    pub fn raw(&self, u: u32, i: u32) -> f32 {
        let (u, i) = (u as usize, i as usize);
        match (u < self.n_users(), i < self.n_items()) {
            (true, true) => self.mean + self.bu[u] + self.bi[i] + self.item_dot(self.user(u), i),
            (true, false) => self.mean + self.bu[u],
            (false, true) => self.mean + self.bi[i],
            (false, false) => self.mean,
        }
    }

    #[inline(always)]
    pub fn clip(&self, x: f32) -> f32 {
        x.clamp(self.lo, self.hi)
    }

    #[inline(always)]
    pub fn predict(&self, u: u32, i: u32) -> f32 {
        self.clip(self.raw(u, i))
    }

    /// Independent predictions, in parallel.
    pub fn predict_many(&self, pairs: &[(u32, u32)]) -> Vec<f32> {
        let mut out = vec![0f32; pairs.len()];
        out.par_chunks_mut(4096).zip(pairs.par_chunks(4096)).for_each(|(out, pairs)| {
            Arch::new().dispatch(PredictBatch { fac: self, pairs, out });
        });
        out
    }

    pub fn score_user(&self, u: u32, out: &mut [f32]) {
        if (u as usize) < self.n_users() {
            let x = self.user(u as usize).to_vec();
            self.score_vector(self.bu[u as usize], &x, out);
        } else {
            self.score_vector(0.0, &vec![0.0; self.f], out);
        }
    }

    /// μ + b + b_i + x·q_i for every item (unclipped).
    pub fn score_vector(&self, b: f32, x: &[f32], out: &mut [f32]) {
        Arch::new().dispatch(ScoreItems { base: self.mean + b, bi: &self.bi, x, blocks: &self.blocks, out });
    }

    /// Sum of squared training errors / number of ratings, with the final parameters.
    pub fn residual_variance(&self, m: &Interactions) -> f64 {
        let per_user: Vec<f64> = (0..m.n_users() as u32)
            .into_par_iter()
            .map(|u| {
                let (is, rs) = m.user_row(u);
                is.iter().zip(rs).map(|(&i, &r)| f64::from(r - self.raw(u, i)).powi(2)).sum()
            })
            .collect();
        per_user.iter().sum::<f64>() / m.nnz().max(1) as f64
    }

    /// Fold-in: the regularised least-squares `(b_u, p_u)` for `rows` of `(item, target)`
    /// where target = r − μ − b_j − (any fixed offset), items fixed (see the module docs).
    pub fn fold_in(&self, rows: &[(u32, f32)]) -> (f32, Vec<f32>) {
        let (f, off) = (self.f, usize::from(self.biased));
        let d = f + off;
        let p = &self.prior;
        let mut a = vec![0f64; d * d];
        let mut rhs = vec![0f64; d];
        let mut x = vec![0f64; d];
        for &(j, y) in rows {
            if off == 1 {
                x[0] = 1.0;
            }
            for (xk, &q) in x[off..].iter_mut().zip(&self.item_row(j as usize)) {
                *xk = f64::from(q);
            }
            let y = f64::from(y);
            for r in 0..d {
                rhs[r] += x[r] * y;
                let xr = x[r];
                for (c, xc) in x[..=r].iter().enumerate() {
                    a[r * d + c] += xr * xc;
                }
            }
        }
        for k in 0..d {
            a[k * d + k] += p.noise / p.var[k];
            rhs[k] += p.noise * p.mean[k] / p.var[k];
        }
        let sol = cholesky_solve(&mut a, &rhs, d).unwrap_or_else(|| p.mean.clone());
        let b = if off == 1 { sol[0] as f32 } else { 0.0 };
        (b, sol[off..].iter().map(|&v| v as f32).collect())
    }

    /// Write everything under fixed names.
    pub fn write_state(&self, s: &mut ModelState) {
        s.set_scalar("factors", self.f as f64);
        s.set_scalar("n_users", self.n_users() as f64);
        s.set_scalar("n_items", self.n_items() as f64);
        s.set_scalar("mean", f64::from(self.mean));
        s.set_scalar("biased", f64::from(u8::from(self.biased)));
        s.set_scalar("lo", f64::from(self.lo));
        s.set_scalar("hi", f64::from(self.hi));
        s.set("user_bias", Tensor::F32(self.bu.clone()));
        s.set("item_bias", Tensor::F32(self.bi.clone()));
        s.set("user_factors", Tensor::F32(self.users.clone()));
        s.set("item_factors", Tensor::F32(self.items_row_major()));
        self.prior.write(s);
    }

    /// Read back what [`Self::write_state`] wrote, checking every length.
    pub fn from_state(s: &ModelState) -> Result<Self> {
        let f = s.count("factors")?;
        let (nu, ni) = (s.count("n_users")?, s.count("n_items")?);
        if f == 0 {
            return Err(Error::BadState { model: s.model.clone(), reason: "`factors` is 0".into() });
        }
        let biased = s.flag("biased")?;
        let mul = |a: usize| {
            a.checked_mul(f).ok_or_else(|| Error::BadState { model: s.model.clone(), reason: "sizes overflow".into() })
        };
        Ok(Factors::new(
            f,
            s.scalar("mean")? as f32,
            biased,
            (s.scalar("lo")? as f32, s.scalar("hi")? as f32),
            s.f32s("user_bias", Some(nu))?.to_vec(),
            s.f32s("item_bias", Some(ni))?.to_vec(),
            s.f32s("user_factors", Some(mul(nu)?))?.to_vec(),
            s.f32s("item_factors", Some(mul(ni)?))?,
            Prior::read(s, f + usize::from(biased))?,
        ))
    }
}

/// Solve A x = b for symmetric positive definite A (lower triangle filled, row-major d×d),
/// overwriting A with its Cholesky factor. `None` when A is not positive definite.
pub fn cholesky_solve(a: &mut [f64], b: &[f64], d: usize) -> Option<Vec<f64>> {
    for j in 0..d {
        let mut s = a[j * d + j];
        for k in 0..j {
            s -= a[j * d + k] * a[j * d + k];
        }
        if s.is_nan() || s <= 0.0 || !s.is_finite() {
            return None;
        }
        let l = s.sqrt();
        a[j * d + j] = l;
        for i in j + 1..d {
            let mut s = a[i * d + j];
            for k in 0..j {
                s -= a[i * d + k] * a[j * d + k];
            }
            a[i * d + j] = s / l;
        }
    }
    let mut y = b.to_vec();
    for i in 0..d {
        for k in 0..i {
            y[i] -= a[i * d + k] * y[k];
        }
        y[i] /= a[i * d + i];
    }
    for i in (0..d).rev() {
        for k in i + 1..d {
            y[i] -= a[k * d + i] * y[k];
        }
        y[i] /= a[i * d + i];
    }
    y.iter().all(|v| v.is_finite()).then_some(y)
}

/// Users and items are cut into this many contiguous ranges; see [`Strata`].
const STRATA: usize = 4;

/// The training ratings cut into STRATA × STRATA cells (user range g, item range h) for
/// deterministic parallel SGD (Gemulla et al. 2011): the cells (g, (g + d) mod STRATA) of one
/// sub-epoch d share no user and no item, so they run in parallel on disjoint parameters, and
/// the result is the same for any number of threads. Each cell visits its users in a fresh
/// random order every epoch and each user's ratings in a fresh random order, from its own
/// seeded generator.
struct Strata {
    users: Vec<usize>,
    items: Vec<usize>,
    cells: Vec<Cell>,
}

struct Cell {
    /// Users with ratings in the cell, and their ratings `rows[ptr[k]..ptr[k + 1]]`.
    users: Vec<u32>,
    ptr: Vec<usize>,
    rows: Vec<(u32, f32)>,
    rng: Xoshiro256PlusPlus,
}

/// `n` cut into `STRATA` contiguous ranges (bounds, STRATA + 1 of them).
fn ranges(n: usize) -> Vec<usize> {
    (0..=STRATA).map(|g| g * n / STRATA).collect()
}

/// `v` (rows of `w` values) cut at the bounds.
fn parts<'a, T>(mut v: &'a mut [T], bounds: &[usize], w: usize) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(STRATA);
    for g in 0..STRATA {
        let (head, tail) = v.split_at_mut((bounds[g + 1] - bounds[g]) * w);
        out.push(head);
        v = tail;
    }
    out
}

impl Strata {
    fn new(m: &Interactions, rng: &mut Xoshiro256PlusPlus) -> Self {
        let (users, items) = (ranges(m.n_users()), ranges(m.n_items()));
        let mut cells: Vec<Cell> = (0..STRATA * STRATA)
            .map(|_| Cell {
                users: Vec::new(),
                ptr: vec![0],
                rows: Vec::new(),
                rng: Xoshiro256PlusPlus::seed_from_u64(rng.random()),
            })
            .collect();
        for g in 0..STRATA {
            for u in users[g]..users[g + 1] {
                let (is, rs) = m.user_row(u as u32);
                for h in 0..STRATA {
                    let (a, b) = (
                        is.partition_point(|&i| (i as usize) < items[h]),
                        is.partition_point(|&i| (i as usize) < items[h + 1]),
                    );
                    if a < b {
                        let c = &mut cells[g * STRATA + h];
                        c.users.push(u as u32);
                        c.rows.extend(is[a..b].iter().copied().zip(rs[a..b].iter().copied()));
                        c.ptr.push(c.rows.len());
                    }
                }
            }
        }
        Strata { users, items, cells }
    }
}

/// One SGD epoch of `svd`: sub-epochs of [`Strata`] cells in parallel.
#[allow(clippy::too_many_arguments)]
fn sgd_epoch(h: &Sgd, mean: f32, strata: &mut Strata, pu: &mut [f32], qi: &mut [f32], bu: &mut [f32], bi: &mut [f32]) {
    let f = h.factors;
    let Strata { users, items, cells } = strata;
    let mut pu = parts(pu, users, f);
    let mut bu = parts(bu, users, 1);
    let mut qi = parts(qi, items, f);
    let mut bi = parts(bi, items, 1);
    for d in 0..STRATA {
        // cell (g, (g + d) mod STRATA) with the parameters of user range g and item range g + d
        let mut todo: Vec<&mut Cell> = cells
            .iter_mut()
            .enumerate()
            .filter(|(k, _)| k % STRATA == (k / STRATA + d) % STRATA)
            .map(|x| x.1)
            .collect();
        qi.rotate_left(d);
        bi.rotate_left(d);
        todo.par_iter_mut()
            .zip(pu.par_iter_mut())
            .zip(bu.par_iter_mut())
            .zip(qi.par_iter_mut())
            .zip(bi.par_iter_mut())
            .enumerate()
            .for_each(|(g, ((((cell, pu), bu), qi), bi))| {
                let (u0, i0) = (users[g], items[(g + d) % STRATA]);
                Arch::new().dispatch(CellEpoch { h, mean, cell, u0, i0, pu, qi, bu, bi });
            });
        qi.rotate_right(d);
        bi.rotate_right(d);
    }
}

/// One pass over a [`Cell`], as a SIMD kernel: [`Arch::dispatch`] compiles the loops for
/// AVX2/AVX-512 when the CPU has them. Every floating-point operation is written out in a
/// fixed order (fused multiply-adds are exactly rounded), so the fit does not depend on the
/// instruction set.
struct CellEpoch<'a> {
    h: &'a Sgd,
    mean: f32,
    cell: &'a mut Cell,
    /// First user and item of the parameter slices.
    u0: usize,
    i0: usize,
    pu: &'a mut [f32],
    qi: &'a mut [f32],
    bu: &'a mut [f32],
    bi: &'a mut [f32],
}

impl WithSimd for CellEpoch<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let CellEpoch { h, mean, cell, u0, i0, pu, qi, bu, bi } = self;
        let f = h.factors;
        let Cell { users, ptr, rows, rng } = cell;
        let mut order: Vec<u32> = (0..users.len() as u32).collect();
        order.shuffle(rng);
        for &k in &order {
            let k = k as usize;
            let u = users[k] as usize - u0;
            let mine = &mut rows[ptr[k]..ptr[k + 1]];
            mine.shuffle(rng);
            let p = &mut pu[u * f..(u + 1) * f];
            let mut b_u = bu[u];
            for &(i, r) in mine.iter() {
                let i = i as usize - i0;
                let q = &mut qi[i * f..(i + 1) * f];
                let err = r - (mean + b_u + bi[i] + dot_fma(p, q));
                if h.biased {
                    b_u += h.lr_bu * (err - h.reg_bu * b_u);
                    bi[i] += h.lr_bi * (err - h.reg_bi * bi[i]);
                }
                sgd_step(p, q, err, h.lr_pu, h.reg_pu, h.lr_qi, h.reg_qi);
            }
            bu[u] = b_u;
        }
    }
}

/// out[i] = base + bi[i] + x·q_i for every item, as a SIMD kernel over the item blocks of
/// [`Factors`]: GROUP·BLOCK independent sums, each in factor order, so every score has exactly
/// the bits of [`Factors::raw`].
struct ScoreItems<'a> {
    base: f32,
    bi: &'a [f32],
    x: &'a [f32],
    blocks: &'a [f32],
    out: &'a mut [f32],
}

impl WithSimd for ScoreItems<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let f = self.x.len();
        let ni = self.bi.len().min(self.out.len());
        let bs = f * BLOCK;
        for (g, (grp, outg)) in
            self.blocks.chunks_exact(GROUP * bs).zip(self.out[..ni].chunks_mut(GROUP * BLOCK)).enumerate()
        {
            let mut acc = [[0f32; BLOCK]; GROUP];
            for (k, &xk) in self.x.iter().enumerate() {
                for (b, a) in acc.iter_mut().enumerate() {
                    let row: &[f32; BLOCK] = grp[b * bs + k * BLOCK..][..BLOCK].try_into().expect("a block row");
                    for l in 0..BLOCK {
                        a[l] += xk * row[l];
                    }
                }
            }
            for (l, o) in outg.iter_mut().enumerate() {
                *o = (self.base + self.bi[g * GROUP * BLOCK + l]) + acc[l / BLOCK][l % BLOCK];
            }
        }
    }
}

/// Predictions of a batch of pairs, as a SIMD kernel.
struct PredictBatch<'a> {
    fac: &'a Factors,
    pairs: &'a [(u32, u32)],
    out: &'a mut [f32],
}

impl WithSimd for PredictBatch<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        for (o, &(u, i)) in self.out.iter_mut().zip(self.pairs) {
            *o = self.fac.predict(u, i);
        }
    }
}

/// Biased matrix factorisation by SGD; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Svd {
    params: Params,
    pub fac: Factors,
    /// Epochs chosen by early stopping (None without it).
    pub best_epoch: Option<usize>,
}

pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(Svd::fit(train, params)?))
}

pub fn load(s: &ModelState) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(Svd {
        params: s.params.clone(),
        fac: Factors::from_state(s)?,
        best_epoch: early_stop::load_best_epoch(s)?,
    }))
}

impl Svd {
    /// Fit on explicit ratings (see [`PARAMS`] for the parameters).
    pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Self> {
        check_params(params, "svd", &PARAMS.iter().map(|p| p.0).collect::<Vec<_>>())?;
        let h = Sgd::parse(params, 64, 0.02, 0.1, true)?;
        require_explicit("svd", train)?;
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
        let split = es.split("svd", m, true)?;
        let t = &split.train;
        let (_, lo, hi) = value_stats(&t.by_user);
        let f = h.factors;
        let mut curve = Curve::new(es.patience);
        Self::sgd(t, h, |mean, pu, qi, bu, bi| {
            let rmse = split.rmse(|u| {
                let u = u as usize;
                let p = &pu[u * f..(u + 1) * f];
                move |i: u32| {
                    let i = i as usize;
                    let known = t.by_user.row_len(u) > 0 && t.by_item.row_len(i) > 0;
                    let dot = if known { dot_fma(p, &qi[i * f..(i + 1) * f]) } else { 0.0 };
                    (mean + bu[u] + bi[i] + dot).clamp(lo, hi)
                }
            });
            curve.push(-rmse)
        });
        Ok(curve)
    }

    /// The SGD epochs from the seeded start: (μ, p, q, b_u, b_i). `after` is told the
    /// parameters after every epoch and returns false to stop early.
    #[allow(clippy::type_complexity)]
    fn sgd(
        m: &Interactions,
        h: &Sgd,
        mut after: impl FnMut(f32, &[f32], &[f32], &[f32], &[f32]) -> bool,
    ) -> (f32, Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
        let (mean, _, _) = value_stats(&m.by_user);
        let mean = if h.biased { mean as f32 } else { 0.0 };
        let (nu, ni, f) = (m.n_users(), m.n_items(), h.factors);
        let mut rng = rng(h.seed);
        let mut pu = normal(&mut rng, nu * f, h.init_std);
        let mut qi = normal(&mut rng, ni * f, h.init_std);
        let (mut bu, mut bi) = (vec![0f32; nu], vec![0f32; ni]);
        let mut strata = Strata::new(m, &mut rng);
        for _ in 0..h.epochs {
            sgd_epoch(h, mean, &mut strata, &mut pu, &mut qi, &mut bu, &mut bi);
            if !after(mean, &pu, &qi, &bu, &bi) {
                break;
            }
        }
        (mean, pu, qi, bu, bi)
    }

    /// Fit with parsed hyperparameters (`params` as given, for the saved state).
    fn fit_with(m: &Interactions, h: &Sgd, params: &Params) -> Result<Self> {
        let (_, lo, hi) = value_stats(&m.by_user);
        let f = h.factors;
        let (mean, mut pu, mut qi, bu, bi) = Self::sgd(m, h, |_, _, _, _, _| true);
        check_converged("svd", &[&pu, &qi, &bu, &bi])?;
        // Users and items without a rating are unknown: no factors (and their biases are 0).
        zero_unrated(&mut pu, f, |u| m.by_user.row_len(u));
        zero_unrated(&mut qi, f, |i| m.by_item.row_len(i));
        let mut fac = Factors::new(
            f,
            mean,
            h.biased,
            (lo, hi),
            bu,
            bi,
            pu,
            &qi,
            Prior { mean: Vec::new(), var: Vec::new(), noise: 1.0 },
        );
        let noise = fac.residual_variance(m);
        fac.prior = Prior::estimate(&fac.bu, &fac.users, f, h.biased, |u| m.by_user.row_len(u) > 0, noise);
        Ok(Svd { params: params.clone(), fac, best_epoch: None })
    }

    /// User bias b_u and factors p_u fitted to an ad-hoc history (fold-in, see the module docs).
    pub fn fold_in(&self, history: &[(u32, f32)]) -> (f32, Vec<f32>) {
        let (idx, val) = clean_history(history, self.fac.n_items());
        let rows: Vec<(u32, f32)> =
            idx.iter().zip(&val).map(|(&j, &r)| (j, r - self.fac.mean - self.fac.bi[j as usize])).collect();
        self.fac.fold_in(&rows)
    }
}

impl RatingPredictor for Svd {
    fn predict(&self, user: u32, item: u32) -> f32 {
        self.fac.predict(user, item)
    }

    fn predict_many(&self, pairs: &[(u32, u32)]) -> Vec<f32> {
        self.fac.predict_many(pairs)
    }
}

impl Recommender for Svd {
    fn name(&self) -> &str {
        "svd"
    }

    fn n_items(&self) -> usize {
        self.fac.n_items()
    }

    fn score_user(&self, user: u32, out: &mut [f32]) {
        self.fac.score_user(user, out);
    }

    fn score_history(&self, history: &[(u32, f32)], out: &mut [f32]) {
        let (b, p) = self.fold_in(history);
        self.fac.score_vector(b, &p, out);
    }

    fn as_rating_predictor(&self) -> Option<&dyn RatingPredictor> {
        Some(self)
    }

    fn state(&self) -> ModelState {
        let mut s = ModelState::new("svd", &self.params);
        self.fac.write_state(&mut s);
        early_stop::save_best_epoch(&mut s, self.best_epoch);
        s
    }
}
