//! `als`: weighted alternating least squares for implicit feedback (Hu, Koren & Volinsky 2008).
//!
//! Every user u and item i get `factors` latent factors p_u, q_i. The model minimises
//!
//! Σ_{u,i} c_ui (p_ui − p_uᵀq_i)² + λ (Σ_u ‖p_u‖² + Σ_i ‖q_i‖²)
//!
//! over **all** user–item pairs, with preference p_ui = 1 where the training value r_ui > 0
//! (0 elsewhere) and confidence c_ui = 1 + `alpha`·r_ui (1 elsewhere). With `binary=true`
//! (the default) r_ui is 1 for every positive pair: on Online Retail, whose purchase weights
//! run from 8 to over 1000, raw weights lost a quarter of the discovery NDCG@10 (see the
//! defaults below). With `binary=false`, r_ui is the training value **relative to the data's
//! median positive value** ([`AlsParams::relative_to`]), so `alpha` means the same on play
//! counts, ratings and event weights (a purchase weighs 8·(1 + ln q)): multiplying every
//! weight by a constant leaves the fitted model unchanged. Entries ≤ 0 are not positives and
//! are ignored.
//!
//! **Fitting** alternates between the users (items fixed) and the items (users fixed); each
//! row is an independent k×k least-squares problem, solved in parallel (rayon). The dense part
//! is shared through the YᵀY + Yᵀ(C_u − I)Y trick: A_u = YᵀY + λI + Σ_{i∈I_u} (c_ui − 1) q_i q_iᵀ
//! and b_u = Σ_{i∈I_u} c_ui q_i, so a row costs O(|I_u|·k) plus the k×k part, never O(n_items).
//! `solver=cg` (default) runs `cg_steps` (default 3) conjugate-gradient steps warm-started from
//! the previous factors, exactly as the `implicit` library does (Takács, Pilászy & Tikk 2011);
//! it never forms A_u. `solver=cholesky` forms A_u in f64 and solves it exactly. YᵀY is
//! accumulated over fixed blocks of rows and summed in block order, so a fit is bit-for-bit
//! the same for any number of threads. Factors start uniform in [0, `init_scale`) from a
//! seeded Xoshiro256++ (`seed`, default 42), users first, then items.
//!
//! **Scoring** a training user is p_u·q_i. An ad-hoc history is **folded in** exactly: the
//! user's least-squares problem against the fixed item factors is built from the history
//! (same confidences) and solved by Cholesky in f64. A history with no positive item (or an
//! unknown user) gets the training popularity instead, so scores are never all equal.
//!
//! **Explanations** use the model's own decomposition of a folded-in score (Hu et al., §5):
//! x = A⁻¹b with b = Σ_j c_j q_j, so score(i) = q_iᵀx = Σ_j c_j·q_iᵀA⁻¹q_j, and the history
//! item j contributes exactly c_j·q_iᵀA⁻¹q_j; the largest positive contributions are returned.
//! **Similar items** are ranked by the cosine of their item factors.
//!
//! Vector kernels are plain loops over fixed-width accumulator arrays run inside
//! [`pulp::Arch::dispatch`](faer::traits::pulp), which compiles them for AVX2/AVX-512 when the
//! CPU has it; the order of every floating-point operation is fixed, so the answers do not
//! depend on the instruction set.
//!
//! Defaults (factors 64, regularization 20, alpha 1, binary, 15 iterations, cg) were chosen on
//! MovieLens-100k u1 (ratings ≥ 4 as positives) and Online Retail (time split 2011-11-09)
//! together: NDCG@10 0.434 and 0.0992 (`bench/compare_implicit.py`). The optimum sits on a
//! narrow ridge λ ≈ 10·(1 + alpha) on both datasets (MovieLens: λ 15 / 20 / 25 with alpha 1
//! gave 0.419 / 0.434 / 0.413); 32–256 factors and 15–30 iterations changed NDCG@10 by < 0.005;
//! raw weights (`binary=false`) gave 0.0731 on Online Retail.

use daogou_core::{Csr, Interactions, Params};
use faer::traits::pulp::{Arch, Simd, WithSimd};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

use crate::early_stop::{self, Curve, EarlyStopping};
use crate::sim::{check_finite, clean_history, get_at_least, get_bool, get_choice, get_nonneg};
use crate::{check_params, Error, ModelState, Recommender, Result, Tensor, TrainData};

/// Parameters of `als` with their meaning and default.
pub const PARAMS: &[(&str, &str)] = &[
    ("factors", "latent factors per user and item (default 64)"),
    ("regularization", "L2 penalty λ on every factor vector (default 20)"),
    ("alpha", "confidence of a positive pair: c = 1 + alpha·r, with r relative to the data's median positive value (default 1)"),
    ("binary", "use r = 1 for every positive pair instead of its value relative to the median (default true)"),
    ("iterations", "alternating sweeps over users and items (default 15)"),
    ("solver", "cg (a few conjugate-gradient steps per row, as implicit does) | cholesky (exact) (default cg)"),
    ("cg_steps", "conjugate-gradient steps per row and sweep with solver=cg (default 3)"),
    ("init_scale", "initial factors are uniform in [0, init_scale) (default 0.01)"),
    ("seed", "seed of the initial factors (default 42)"),
    early_stop::EARLY_STOPPING,
    early_stop::PATIENCE,
    early_stop::VALIDATION,
];

const MODEL: &str = "als";

/// Hyperparameters of [`Als`].
#[derive(Debug, Clone, PartialEq)]
pub struct AlsParams {
    /// Latent factors.
    pub factors: usize,
    /// L2 penalty λ.
    pub regularization: f64,
    /// Confidence slope: c = 1 + alpha·r.
    pub alpha: f64,
    /// r = 1 for every positive pair.
    pub binary: bool,
    /// Alternating sweeps.
    pub iterations: usize,
    /// Exact Cholesky solves instead of conjugate gradient.
    pub cholesky: bool,
    /// CG steps per row and sweep.
    pub cg_steps: usize,
    /// Initial factors are uniform in [0, init_scale).
    pub init_scale: f64,
    /// Seed of the initial factors.
    pub seed: u64,
}

impl AlsParams {
    /// With `binary=false`: `alpha` divided by the median positive value of `m`, so that the
    /// confidence 1 + alpha·r/median of a typical positive pair is 1 + alpha whatever the
    /// data's weight scale (counts, ratings, event weights such as 8·(1 + ln q) for a
    /// purchase); the defaults then hold on all of them. A no-op when binary.
    pub fn relative_to(self, m: &Interactions) -> Self {
        if self.binary {
            return self;
        }
        let mut pos: Vec<f32> = m.by_user.data().iter().copied().filter(|v| *v > 0.0 && v.is_finite()).collect();
        if pos.is_empty() {
            return self;
        }
        let mid = pos.len() / 2;
        let (_, median, _) = pos.select_nth_unstable_by(mid, f32::total_cmp);
        AlsParams { alpha: self.alpha / f64::from(*median), ..self }
    }

    /// Read and validate the parameters (unknown keys are an error naming the key).
    pub fn from_params(p: &Params) -> Result<Self> {
        check_params(p, MODEL, &PARAMS.iter().map(|x| x.0).collect::<Vec<_>>())?;
        let factors = get_at_least(p, "factors", 64usize, 1)?;
        if factors > 4096 {
            return Err(Params::invalid("factors", factors, "must be at most 4096").into());
        }
        Ok(AlsParams {
            factors,
            regularization: get_nonneg(p, "regularization", 20.0)?,
            alpha: get_nonneg(p, "alpha", 1.0)?,
            binary: get_bool(p, "binary", true)?,
            iterations: get_at_least(p, "iterations", 15usize, 0)?,
            cholesky: get_choice(p, "solver", "cg", &["cg", "cholesky"])? == "cholesky",
            cg_steps: get_at_least(p, "cg_steps", 3usize, 1)?,
            init_scale: get_nonneg(p, "init_scale", 0.01)?,
            seed: p.get("seed", 42u64)?,
        })
    }
}

/// Implicit-feedback matrix factorisation by weighted ALS; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Als {
    k: usize,
    n_users: usize,
    n_items: usize,
    alpha: f32,
    regularization: f32,
    binary: bool,
    /// n_users × k, row-major.
    pub user_factors: Vec<f32>,
    /// n_items × k, row-major.
    pub item_factors: Vec<f32>,
    /// Training users per item (the fallback ranking).
    item_users: Vec<u32>,
    /// Sweeps chosen by early stopping (None without it).
    pub best_epoch: Option<usize>,
    // derived from the above (identically on fit and load)
    /// QᵀQ + λI (k × k, f64) for the fold-in.
    gram: Vec<f64>,
    item_norms: Vec<f32>,
    pop_frac: Vec<f32>,
}

pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(Als::fit(train, params)?))
}

pub fn load(s: &ModelState) -> Result<Box<dyn Recommender>> {
    let k = s.count("factors")?;
    let (n_users, n_items) = (s.count("n_users")?, s.count("n_items")?);
    if k == 0 {
        return Err(Error::BadState { model: MODEL.into(), reason: "`factors` is 0".into() });
    }
    let user_factors = s.f32s("user_factors", Some(n_users * k))?.to_vec();
    let item_factors = s.f32s("item_factors", Some(n_items * k))?.to_vec();
    let item_users = s.u32s("item_users", Some(n_items))?.to_vec();
    let (alpha, regularization) = (s.scalar("alpha")? as f32, s.scalar("regularization")? as f32);
    if !(alpha.is_finite() && regularization.is_finite())
        || [&user_factors, &item_factors].iter().any(|v| v.iter().any(|x| !x.is_finite()))
    {
        return Err(Error::BadState { model: MODEL.into(), reason: "non-finite number".into() });
    }
    let mut model = Als::assemble(
        k,
        n_users,
        n_items,
        alpha,
        regularization,
        s.flag("binary")?,
        user_factors,
        item_factors,
        item_users,
    );
    model.best_epoch = early_stop::load_best_epoch(s)?;
    Ok(Box::new(model))
}

/// A history's positive items with their confidence excess, and the Cholesky factor of its A.
type FoldInSystem = (Vec<(u32, f32)>, Vec<f64>);

/// Confidence of a training value: preference p = 1 and excess c − 1 = alpha·r (r = 1 when
/// binary) for r > 0; p = 0 and excess 0 (no effect at all) otherwise.
#[derive(Debug, Clone, Copy)]
struct Conf {
    alpha: f32,
    binary: bool,
}

impl Conf {
    /// (p, c − 1) of a stored value.
    #[inline(always)]
    fn of(self, r: f32) -> (f32, f32) {
        let p = if r > 0.0 { 1.0 } else { 0.0 };
        (p, p * self.alpha * if self.binary { 1.0 } else { r })
    }
}

impl Als {
    /// Fit on `train` (see [`PARAMS`]). On explicit data the ratings are used as positive
    /// weights (every rated item is a positive).
    pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Self> {
        let h = AlsParams::from_params(params)?.relative_to(train.matrix);
        let Some(es) = EarlyStopping::parse(params, h.seed, 3)? else { return Self::fit_with(train.matrix, &h) };
        let curve = Self::validation_curve(train.matrix, &h, &es)?;
        let mut model = Self::fit_with(train.matrix, &AlsParams { iterations: curve.best_epochs(), ..h })?;
        model.best_epoch = Some(curve.best_epochs());
        Ok(model)
    }

    /// Early stopping's first phase: sweeps on `m` minus the validation split, NDCG@10 on it
    /// after each, until `patience` sweeps bring no improvement.
    pub fn validation_curve(m: &Interactions, h: &AlsParams, es: &EarlyStopping) -> Result<Curve> {
        check_finite(MODEL, &m.by_user)?;
        let split = es.split(MODEL, m, false)?;
        let (n_items, k) = (m.n_items(), h.factors);
        let mut curve = Curve::new(es.patience);
        Self::sweeps(&split.train, h, |users, items| {
            curve.push(split.ndcg(n_items, |u, out| {
                row_dots(&users[u as usize * k..(u as usize + 1) * k], items, out);
            }))
        });
        Ok(curve)
    }

    /// Fit with typed hyperparameters.
    pub fn fit_with(m: &Interactions, h: &AlsParams) -> Result<Self> {
        check_finite(MODEL, &m.by_user)?;
        let (users, items) = Self::sweeps(m, h, |_, _| true);
        let item_users =
            (0..m.n_items() as u32).map(|i| m.item_row(i).1.iter().filter(|&&r| r > 0.0).count() as u32).collect();
        let (alpha, reg) = (h.alpha as f32, h.regularization as f32);
        Ok(Als::assemble(h.factors, m.n_users(), m.n_items(), alpha, reg, h.binary, users, items, item_users))
    }

    /// The alternating sweeps from the seeded start; `after(users, items)` is told the factors
    /// after every sweep and returns false to stop early.
    fn sweeps(m: &Interactions, h: &AlsParams, mut after: impl FnMut(&[f32], &[f32]) -> bool) -> (Vec<f32>, Vec<f32>) {
        let (n_users, n_items, k) = (m.n_users(), m.n_items(), h.factors);
        let (alpha, reg) = (h.alpha as f32, h.regularization as f32);
        let conf = Conf { alpha, binary: h.binary };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(h.seed);
        let scale = h.init_scale as f32;
        let mut init = |n: usize| -> Vec<f32> { (0..n * k).map(|_| rng.random::<f32>() * scale).collect() };
        let mut users = init(n_users);
        let mut items = init(n_items);
        for _ in 0..h.iterations {
            solve_side(&m.by_user, conf, &items, &mut users, k, reg, h);
            solve_side(&m.by_item, conf, &users, &mut items, k, reg, h);
            if !after(&users, &items) {
                break;
            }
        }
        (users, items)
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        k: usize,
        n_users: usize,
        n_items: usize,
        alpha: f32,
        regularization: f32,
        binary: bool,
        user_factors: Vec<f32>,
        item_factors: Vec<f32>,
        item_users: Vec<u32>,
    ) -> Self {
        let mut gram = gram(&item_factors, k);
        for a in 0..k {
            gram[a * k + a] += f64::from(regularization);
        }
        let item_norms = row_norms(&item_factors, k);
        let pop_frac = popularity_fraction(&item_users);
        Als {
            k,
            n_users,
            n_items,
            alpha,
            regularization,
            binary,
            user_factors,
            item_factors,
            item_users,
            best_epoch: None,
            gram,
            item_norms,
            pop_frac,
        }
    }

    /// Factors of training user `u`.
    pub fn user_factor(&self, u: u32) -> &[f32] {
        &self.user_factors[u as usize * self.k..(u as usize + 1) * self.k]
    }

    /// Factors of item `i`.
    pub fn item_factor(&self, i: u32) -> &[f32] {
        &self.item_factors[i as usize * self.k..(i as usize + 1) * self.k]
    }

    /// The confidence excess c − 1 of a history value (None when it is not a positive).
    fn excess(&self, v: f32) -> Option<f32> {
        (v > 0.0 && v.is_finite()).then_some(self.alpha * if self.binary { 1.0 } else { v })
    }

    /// The fold-in system of a history: its positive items with confidence excess, and the
    /// Cholesky factor of A (None when there is no positive item).
    fn fold_in_system(&self, history: &[(u32, f32)]) -> Option<FoldInSystem> {
        let (idx, val) = clean_history(history, self.n_items);
        let pos: Vec<(u32, f32)> = idx.iter().zip(&val).filter_map(|(&i, &v)| self.excess(v).map(|e| (i, e))).collect();
        if pos.is_empty() {
            return None;
        }
        let k = self.k;
        let mut a = self.gram.clone();
        let mut y = vec![0f64; k];
        for &(i, e) in &pos {
            for (d, &s) in y.iter_mut().zip(self.item_factor(i)) {
                *d = f64::from(s);
            }
            add_outer_lower(&mut a, &y, f64::from(e), k);
        }
        Arch::new().dispatch(Cholesky { a: &mut a, k }).then_some((pos, a))
    }

    /// The folded-in user factors of a history (exact least squares), or None.
    pub fn fold_in(&self, history: &[(u32, f32)]) -> Option<Vec<f32>> {
        let (pos, l) = self.fold_in_system(history)?;
        let k = self.k;
        let mut b = vec![0f64; k];
        for &(i, e) in &pos {
            let c = 1.0 + f64::from(e);
            for (d, &s) in b.iter_mut().zip(self.item_factor(i)) {
                *d += c * f64::from(s);
            }
        }
        cholesky_solve(&l, &mut b, k);
        Some(b.iter().map(|&x| x as f32).collect())
    }

    /// Every positive history item's exact share of the folded-in score of `item`:
    /// c_j·q_iᵀA⁻¹q_j (they add up to the score; empty when nothing can be folded in).
    pub fn contributions(&self, history: &[(u32, f32)], item: u32) -> Vec<(u32, f64)> {
        if item as usize >= self.n_items {
            return Vec::new();
        }
        let Some((pos, l)) = self.fold_in_system(history) else { return Vec::new() };
        let mut z: Vec<f64> = self.item_factor(item).iter().map(|&x| f64::from(x)).collect();
        cholesky_solve(&l, &mut z, self.k);
        pos.iter()
            .map(|&(j, e)| {
                let d: f64 = self.item_factor(j).iter().zip(&z).map(|(&q, &z)| f64::from(q) * z).sum();
                (j, (1.0 + f64::from(e)) * d)
            })
            .collect()
    }

    fn score_factors(&self, x: &[f32], out: &mut [f32]) {
        row_dots(x, &self.item_factors, out);
    }

    fn fallback(&self, out: &mut [f32]) {
        out.copy_from_slice(&self.pop_frac);
    }
}

impl Recommender for Als {
    fn name(&self) -> &str {
        MODEL
    }

    fn n_items(&self) -> usize {
        self.n_items
    }

    fn score_user(&self, user: u32, out: &mut [f32]) {
        if (user as usize) < self.n_users {
            let x = self.user_factor(user);
            if x.iter().any(|&v| v != 0.0) {
                return self.score_factors(x, out);
            }
        }
        self.fallback(out);
    }

    fn score_history(&self, history: &[(u32, f32)], out: &mut [f32]) {
        match self.fold_in(history) {
            Some(x) => self.score_factors(&x, out),
            None => self.fallback(out),
        }
    }

    fn score_users(&self, users: &[u32], out: &mut [f32]) {
        batch_scores(&self.user_factors, &self.item_factors, self.k, users, out);
        for (&u, row) in users.iter().zip(out.chunks_exact_mut(self.n_items)) {
            let known = (u as usize) < self.n_users && self.user_factor(u).iter().any(|&v| v != 0.0);
            if !known {
                self.fallback(row);
            }
        }
    }

    fn similar_items(&self, item: u32, n: usize) -> Option<Vec<(u32, f32)>> {
        Some(cosine_neighbours(&self.item_factors, &self.item_norms, self.k, item, n))
    }

    fn explain(&self, history: &[(u32, f32)], item: u32, n: usize) -> Vec<(u32, f32)> {
        let mut c: Vec<(f32, u32, ())> = self
            .contributions(history, item)
            .into_iter()
            .map(|(j, x)| (x as f32, j, ()))
            .filter(|x| x.0 > 0.0 && x.0.is_finite())
            .collect();
        crate::sim::keep_top(&mut c, n);
        c.into_iter().map(|(s, j, ())| (j, s)).collect()
    }

    fn state(&self) -> ModelState {
        let mut s = ModelState::new(MODEL, &Params::new());
        s.set_scalar("factors", self.k as f64);
        s.set_scalar("n_users", self.n_users as f64);
        s.set_scalar("n_items", self.n_items as f64);
        s.set_scalar("alpha", f64::from(self.alpha));
        s.set_scalar("regularization", f64::from(self.regularization));
        s.set_scalar("binary", f64::from(u8::from(self.binary)));
        s.set("user_factors", Tensor::F32(self.user_factors.clone()));
        s.set("item_factors", Tensor::F32(self.item_factors.clone()));
        s.set("item_users", Tensor::U32(self.item_users.clone()));
        early_stop::save_best_epoch(&mut s, self.best_epoch);
        s
    }
}

// ---------------------------------------------------------------------------------------------
// The least-squares sweep.

/// Rows per parallel task (the SIMD dispatch is done once per task).
const ROWS_PER_TASK: usize = 32;

/// One half-sweep: every row of `x` (n × k) solved against the fixed `y` (m × k), with the
/// training values `vals` (n × m) turned into confidences by `conf`.
#[allow(clippy::too_many_arguments)]
fn solve_side(vals: &Csr, conf: Conf, y: &[f32], x: &mut [f32], k: usize, reg: f32, h: &AlsParams) {
    let mut g = gram(y, k);
    for a in 0..k {
        g[a * k + a] += f64::from(reg);
    }
    let g32: Vec<f32> = g.iter().map(|&v| v as f32).collect();
    x.par_chunks_mut(k * ROWS_PER_TASK).enumerate().for_each_init(
        || Scratch::new(k, h.cholesky),
        |s, (t, block)| {
            Arch::new().dispatch(SolveBlock { vals, conf, y, g32: &g32, block, first: t * ROWS_PER_TASK, k, h, s })
        },
    );
}

/// Rows `first..` of one half-sweep, as a SIMD kernel.
struct SolveBlock<'a> {
    vals: &'a Csr,
    conf: Conf,
    y: &'a [f32],
    g32: &'a [f32],
    block: &'a mut [f32],
    first: usize,
    k: usize,
    h: &'a AlsParams,
    s: &'a mut Scratch,
}

impl WithSimd for SolveBlock<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let SolveBlock { vals, conf, y, g32, block, first, k, h, s } = self;
        for (r, xr) in block.chunks_exact_mut(k).enumerate() {
            let (idx, v) = vals.row(first + r);
            if !v.iter().any(|&r| r > 0.0) {
                xr.fill(0.0); // no positive: the exact solution of A x = 0
            } else if h.cholesky {
                solve_cholesky(g32, y, idx, v, conf, xr, k, s);
            } else {
                solve_cg(g32, y, idx, v, conf, xr, k, h.cg_steps, s);
            }
        }
    }
}

struct Scratch {
    r: Vec<f32>,
    p: Vec<f32>,
    ap: Vec<f32>,
    /// The fixed-side rows of a row's positive entries, gathered contiguously.
    rows: Vec<f32>,
    /// Their confidence excess c − 1.
    cs: Vec<f32>,
    a32: Vec<f32>,
    a: Vec<f64>,
    b: Vec<f64>,
}

impl Scratch {
    fn new(k: usize, cholesky: bool) -> Self {
        let kk = if cholesky { k * k } else { 0 };
        Scratch {
            r: vec![0.0; k],
            p: vec![0.0; k],
            ap: vec![0.0; k],
            rows: Vec::new(),
            cs: Vec::new(),
            a32: vec![0.0; kk],
            a: vec![0.0; kk],
            b: vec![0.0; k],
        }
    }
}

/// `cg_steps` of conjugate gradient on A x = b from the current x, with
/// A = G + Σ (c_i − 1) y_i y_iᵀ and b = Σ p_i c_i y_i (implicit's `least_squares_cg`).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn solve_cg(
    g: &[f32],
    y: &[f32],
    idx: &[u32],
    vals: &[f32],
    conf: Conf,
    x: &mut [f32],
    k: usize,
    steps: usize,
    s: &mut Scratch,
) {
    let Scratch { r, p, ap, rows, cs, .. } = s;
    // Gather the rows of the positive entries once: the 1 + steps passes below then stream
    // through contiguous memory instead of fetching scattered rows of y again and again.
    // (Measured on the 10M-pair scale case: gathering every row beat gathering only rows that
    // fit in L2 and reading the longest rows in place, 9.1–9.8 s vs 10.0–10.9 s vs 11.0 s.)
    rows.clear();
    cs.clear();
    for (&i, &v) in idx.iter().zip(vals) {
        let (pref, ci) = conf.of(v);
        if pref > 0.0 {
            rows.extend_from_slice(&y[i as usize * k..(i as usize + 1) * k]);
            cs.push(ci);
        }
    }
    // r = b − A x
    symv(g, x, r, k);
    r.iter_mut().for_each(|v| *v = -*v);
    for (yi, &ci) in rows.chunks_exact(k).zip(cs.iter()) {
        let w = (1.0 + ci) - ci * dot(yi, x);
        axpy(w, yi, r);
    }
    p.copy_from_slice(r);
    let mut rs_old = dot(r, r);
    if rs_old < 1e-20 {
        return;
    }
    for _ in 0..steps {
        symv(g, p, ap, k);
        for (yi, &ci) in rows.chunks_exact(k).zip(cs.iter()) {
            axpy(ci * dot(yi, p), yi, ap);
        }
        let pap = dot(p, ap);
        if pap.is_nan() || pap <= 0.0 {
            return;
        }
        let a = rs_old / pap;
        axpy(a, p, x);
        axpy(-a, ap, r);
        let rs_new = dot(r, r);
        if rs_new < 1e-20 {
            return;
        }
        let beta = rs_new / rs_old;
        for (pv, &rv) in p.iter_mut().zip(r.iter()) {
            *pv = rv + beta * *pv;
        }
        rs_old = rs_new;
    }
}

/// Exact solve of A x = b by Cholesky (A accumulated in f32 with SIMD, factored in f64);
/// x is unchanged when A is not positive definite.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn solve_cholesky(
    g: &[f32],
    y: &[f32],
    idx: &[u32],
    vals: &[f32],
    conf: Conf,
    x: &mut [f32],
    k: usize,
    s: &mut Scratch,
) {
    let Scratch { a32, a, b, .. } = s;
    a32.copy_from_slice(g);
    b.fill(0.0);
    for (&i, &v) in idx.iter().zip(vals) {
        let (pref, ci) = conf.of(v);
        if pref == 0.0 {
            continue;
        }
        let yi = &y[i as usize * k..(i as usize + 1) * k];
        // whole rows (the upper half is ignored): uniform SIMD loops beat ragged ones
        for (r, arow) in a32.chunks_exact_mut(k).enumerate() {
            axpy(ci * yi[r], yi, arow);
        }
        let cb = 1.0 + f64::from(ci);
        for (bv, &v) in b.iter_mut().zip(yi) {
            *bv += cb * f64::from(v);
        }
    }
    for (d, &v) in a.iter_mut().zip(a32.iter()) {
        *d = f64::from(v);
    }
    if cholesky(a, k) {
        cholesky_solve(a, b, k);
        for (xv, &bv) in x.iter_mut().zip(b.iter()) {
            *xv = bv as f32;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Small dense kernels (fixed operation order: the same bits on every instruction set).

const LANES: usize = 16;

/// a · b.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            acc[l] = x[l].mul_add(y[l], acc[l]);
        }
    }
    for (l, (x, y)) in ra.iter().zip(rb).enumerate() {
        acc[l] = x.mul_add(*y, acc[l]);
    }
    // pairwise tree in a fixed order; constant trip counts, so each level is one vector add
    for l in 0..8 {
        acc[l] += acc[l + 8];
    }
    for l in 0..4 {
        acc[l] += acc[l + 4];
    }
    for l in 0..2 {
        acc[l] += acc[l + 2];
    }
    acc[0] + acc[1]
}

/// y += a·x.
#[inline(always)]
pub fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (yv, &xv) in y.iter_mut().zip(x) {
        *yv = a.mul_add(xv, *yv);
    }
}

/// out = G v for a symmetric k × k G (row-major), as Σ_a v_a·G[a,:] (no horizontal sums).
#[inline(always)]
fn symv(g: &[f32], v: &[f32], out: &mut [f32], k: usize) {
    out.fill(0.0);
    for (&va, row) in v.iter().zip(g.chunks_exact(k)) {
        axpy(va, row, out);
    }
}

/// Rows of the Gram matrix accumulated per task; partial sums are added in block order.
const GRAM_BLOCK: usize = 1024;

/// YᵀY (k × k, f64, row-major) of the n × k row-major `y`, deterministic for any number of
/// threads.
pub fn gram(y: &[f32], k: usize) -> Vec<f64> {
    let partial: Vec<Vec<f32>> =
        y.par_chunks(k * GRAM_BLOCK).map(|block| Arch::new().dispatch(GramBlock { block, k })).collect();
    let mut g = vec![0f64; k * k];
    for p in &partial {
        for (d, &v) in g.iter_mut().zip(p) {
            *d += f64::from(v);
        }
    }
    g
}

/// Popularity fraction per item from user counts: count / (max + 1), in [0, 1) (the same
/// formula as `sim::popularity_fraction`).
pub fn popularity_fraction(counts: &[u32]) -> Vec<f32> {
    let max = counts.iter().copied().max().unwrap_or(0);
    counts.iter().map(|&c| (f64::from(c) / (f64::from(max) + 1.0)) as f32).collect()
}

/// YᵀY of a block of rows in f32, as a SIMD kernel.
struct GramBlock<'a> {
    block: &'a [f32],
    k: usize,
}

impl WithSimd for GramBlock<'_> {
    type Output = Vec<f32>;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) -> Vec<f32> {
        let k = self.k;
        let mut g = vec![0f32; k * k];
        for row in self.block.chunks_exact(k) {
            for (a, &ya) in row.iter().enumerate() {
                if ya != 0.0 {
                    axpy(ya, row, &mut g[a * k..(a + 1) * k]);
                }
            }
        }
        g
    }
}

/// out[j] = x · row j of the row-major `m` (rows of length x.len()), as a SIMD kernel.
pub struct RowDots<'a> {
    pub x: &'a [f32],
    pub m: &'a [f32],
    pub out: &'a mut [f32],
}

impl WithSimd for RowDots<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let k = self.x.len();
        for (o, row) in self.out.iter_mut().zip(self.m.chunks_exact(k)) {
            *o = dot(self.x, row);
        }
    }
}

/// out[j] = x · row j of `m` for every row, with the fastest instruction set available.
pub fn row_dots(x: &[f32], m: &[f32], out: &mut [f32]) {
    Arch::new().dispatch(RowDots { x, m, out });
}

/// out = Σ x·row i of the row-major `m` (rows of length out.len()), as a SIMD kernel.
struct AxpyRows<'a> {
    rows: &'a [(u32, f32)],
    m: &'a [f32],
    out: &'a mut [f32],
}

impl WithSimd for AxpyRows<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let n = self.out.len();
        self.out.fill(0.0);
        for &(i, x) in self.rows {
            axpy(x, &self.m[i as usize * n..(i as usize + 1) * n], self.out);
        }
    }
}

/// out = Σ_{(i, x) ∈ rows} x · (row i of `m`), with the fastest instruction set available.
pub fn axpy_rows(rows: &[(u32, f32)], m: &[f32], out: &mut [f32]) {
    Arch::new().dispatch(AxpyRows { rows, m, out });
}

/// out (users.len() × n_items, row-major) = X Yᵀ for the rows `users` of the row-major factors
/// `x` (unknown users give zeros) and all rows of `y`, as one single-threaded matrix product
/// (callers run batches in parallel).
pub fn batch_scores(x: &[f32], y: &[f32], k: usize, users: &[u32], out: &mut [f32]) {
    let (b, n) = (users.len(), y.len() / k);
    let mut xb = vec![0f32; b * k];
    for (row, &u) in xb.chunks_exact_mut(k).zip(users) {
        if let Some(src) = x.get(u as usize * k..(u as usize + 1) * k) {
            row.copy_from_slice(src);
        }
    }
    faer::linalg::matmul::matmul(
        faer::MatMut::from_row_major_slice_mut(&mut out[..b * n], b, n),
        faer::Accum::Replace,
        faer::MatRef::from_row_major_slice(&xb, b, k),
        faer::MatRef::from_row_major_slice(y, n, k).transpose(),
        1.0f32,
        faer::Par::Seq,
    );
}

/// Euclidean norm of each k-row of `m`.
pub fn row_norms(m: &[f32], k: usize) -> Vec<f32> {
    m.chunks_exact(k).map(|r| r.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt() as f32).collect()
}

/// The `n` rows of `m` (k-rows) with the largest cosine to row `item`, best first, excluding
/// `item` itself and rows of norm 0.
pub fn cosine_neighbours(m: &[f32], norms: &[f32], k: usize, item: u32, n: usize) -> Vec<(u32, f32)> {
    let i = item as usize;
    if i >= norms.len() || norms[i] == 0.0 {
        return Vec::new();
    }
    let q = &m[i * k..(i + 1) * k];
    let mut s = vec![0f32; norms.len()];
    row_dots(q, m, &mut s);
    for (o, &nj) in s.iter_mut().zip(norms) {
        *o = if nj > 0.0 { *o / (norms[i] * nj) } else { f32::NEG_INFINITY };
    }
    crate::topk::top_k(&s, n, |j| j == item)
}

/// A += w·y yᵀ on the lower triangle of the k × k row-major A.
#[inline(always)]
fn add_outer_lower(a: &mut [f64], y: &[f64], w: f64, k: usize) {
    for r in 0..k {
        let s = w * y[r];
        if s != 0.0 {
            for (d, &v) in a[r * k..r * k + r + 1].iter_mut().zip(&y[..=r]) {
                *d += s * v;
            }
        }
    }
}

/// [`cholesky`] as a SIMD kernel (outside a dispatch, `mul_add` is a libm call).
struct Cholesky<'a> {
    a: &'a mut [f64],
    k: usize,
}

impl WithSimd for Cholesky<'_> {
    type Output = bool;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) -> bool {
        cholesky(self.a, self.k)
    }
}

/// a · b in f64 with 8 independent accumulators (a fixed order, so the same bits everywhere).
#[inline(always)]
fn dot64(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] = x[l].mul_add(y[l], acc[l]);
        }
    }
    for (l, (x, y)) in ra.iter().zip(rb).enumerate() {
        acc[l] = x.mul_add(*y, acc[l]);
    }
    ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]))
}

/// In-place Cholesky A = L Lᵀ of the lower triangle of the k × k row-major A; false when A is
/// not (numerically) positive definite.
#[inline(always)]
pub fn cholesky(a: &mut [f64], k: usize) -> bool {
    for j in 0..k {
        let (done, rest) = a.split_at_mut(j * k);
        let _ = done;
        let d = rest[j] - dot64(&rest[..j], &rest[..j]);
        if d.is_nan() || d <= 0.0 {
            return false;
        }
        let d = d.sqrt();
        rest[j] = d;
        let inv = 1.0 / d;
        let (row_j, below) = rest.split_at_mut(k);
        let lj = &row_j[..j];
        for row_i in below.chunks_exact_mut(k) {
            let v = row_i[j] - dot64(&row_i[..j], lj);
            row_i[j] = v * inv;
        }
    }
    true
}

/// Solve L Lᵀ x = b in place with the factor from [`cholesky`].
#[inline(always)]
pub fn cholesky_solve(l: &[f64], b: &mut [f64], k: usize) {
    for i in 0..k {
        let v = b[i] - dot64(&l[i * k..i * k + i], &b[..i]);
        b[i] = v / l[i * k + i];
    }
    // Lᵀ x = y, column-oriented so that the inner loop runs along rows of L
    for i in (0..k).rev() {
        b[i] /= l[i * k + i];
        let bi = b[i];
        for (bp, &lv) in b[..i].iter_mut().zip(&l[i * k..i * k + i]) {
            *bp -= lv * bi;
        }
    }
}
