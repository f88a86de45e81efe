//! `bpr`: Bayesian Personalised Ranking (Rendle et al. 2009) by stochastic gradient ascent.
//!
//! score(u, i) = p_u·q_i + b_i. Each step draws a training pair (u, i) uniformly from the
//! positive entries (so active users are drawn more often, as in `implicit`) and a negative
//! item j the user has not interacted with, and ascends ln σ(x_uij) − λ/2 (‖p_u‖² + ‖q_i‖² +
//! ‖q_j‖² + b_i² + b_j²) with x_uij = score(u, i) − score(u, j):
//!
//! z = σ(−x_uij); p_u += lr·(z(q_i − q_j) − λp_u); q_i += lr·(z p_u − λq_i);
//! q_j += lr·(−z p_u − λq_j); b_i += lr·(z − λb_i); b_j += lr·(−z − λb_j).
//!
//! One iteration (epoch) draws as many samples as there are positive pairs. A negative that
//! turns out to be a positive of u is redrawn (up to 8 times, then the sample is skipped).
//! `sampling=uniform` draws j uniformly over the catalogue; `sampling=popularity` (default)
//! draws it ∝ (training users of j)^`pop_exponent` through an alias table: popular items are
//! the informative negatives once the easy ones are ranked low. word2vec's 0.75 pushes the
//! popular items down too hard for top-N. Mean NDCG@10 over seeds 1–3 with the other defaults
//! (64 factors, learning rate 0.02, λ 0.02, 100 iterations, 2 threads): exponent 0.25 gave
//! 0.397 on MovieLens-100k u1 (ratings ≥ 4) and 0.0759 on Online Retail discovery, uniform
//! sampling 0.376 and 0.0710, exponent 0.5 0.370 and 0.0736 (learning rates 0.01/0.03/0.05
//! were worse on MovieLens and no better on Online Retail).
//!
//! **Parallelism: users partitioned across threads, item updates merged per round.** The
//! workspace forbids `unsafe`, which rules out Hogwild over plain shared floats. Hogwild over
//! relaxed `AtomicU32` cells was built first and measured: every step then moves its three
//! factor vectors element by element through atomic loads and stores that the compiler may not
//! vectorise (≈ 1,900 instructions a step at 64 factors against ≈ 700 now; Online Retail fit
//! 7–8 s against 4 s on one thread, slower than `implicit`). Instead, with S = the number of rayon threads, the users are cut into S contiguous
//! shards of about equal numbers of positive pairs. Each shard owns its users' factors outright
//! and works on a private copy of the item factors and biases, so a step is plain SIMD
//! arithmetic on its own memory, and the shard sees its own item updates at once. Each epoch
//! is cut into rounds of max(16384, 2·n_items) samples per shard; after a round the item
//! deltas of all shards are added to the shared item factors (in shard order) and the sum is
//! copied back to every shard (Hogwild's "every update lands", without lost updates; the
//! other shards' updates arrive at the end of the round rather than at once). Each shard
//! draws its samples (pairs of its own users) from its own Xoshiro256++ seeded from `seed`
//! and the shard, so a fit is bit-for-bit reproducible for a given number of threads, and with
//! one thread (RAYON_NUM_THREADS=1) it is exactly sequential SGD.
//!
//! **Scoring** an ad-hoc history **folds it in** with the training procedure itself: item
//! factors and biases frozen, a new p (starting at 0) gets `iterations` × |history| steps
//! on pairs from the history, with a generator seeded from `seed` (the same history always
//! gets the same scores). A user with no positive item (or an unknown one) is scored by b_i.
//! **Similar items** and **explanations** use the cosine of item factors: a recommended item
//! is explained by the history items whose factors point the same way.

use daogou_core::{Interactions, Params};
use faer::traits::pulp::{Arch, Simd, WithSimd};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, RngExt, SeedableRng};
use rayon::prelude::*;

use crate::als::{cosine_neighbours, dot, row_dots, row_norms};
use crate::early_stop::{self, Curve, EarlyStopping};
use crate::sim::{check_finite, clean_history, get_at_least, get_choice, get_nonneg, keep_top};
use crate::{check_params, Error, ModelState, Recommender, Result, Tensor, TrainData};

/// Parameters of `bpr` with their meaning and default.
pub const PARAMS: &[(&str, &str)] = &[
    ("factors", "latent factors per user and item (default 64)"),
    ("learning_rate", "SGD step size (default 0.02)"),
    ("regularization", "L2 penalty λ on the factors and biases touched by a step (default 0.02)"),
    ("iterations", "epochs; each draws as many samples as there are positive pairs (default 100)"),
    ("sampling", "negative items: uniform | popularity (∝ users^pop_exponent) (default popularity)"),
    ("pop_exponent", "exponent of the popularity of sampled negatives (default 0.25)"),
    ("seed", "seed of the initial factors and the samples (default 42)"),
    early_stop::EARLY_STOPPING,
    early_stop::PATIENCE,
    early_stop::VALIDATION,
];

const MODEL: &str = "bpr";

/// Default early-stopping patience: on MovieLens-100k u1 (ratings ≥ 4) the validation NDCG sits at
/// the popularity level for the first 10–20 epochs before the factors take over, so a patience
/// of 3 or 5 stopped there (test NDCG@10 0.259); 10 gave 0.426, 20 gave 0.440 (fixed 100
/// epochs: 0.433).
const BPR_PATIENCE: usize = 20;

/// Redraws of a negative that is a positive before a sample is skipped.
const REDRAWS: usize = 8;

/// Hyperparameters of [`Bpr`].
#[derive(Debug, Clone, PartialEq)]
pub struct BprParams {
    /// Latent factors.
    pub factors: usize,
    /// Step size.
    pub learning_rate: f32,
    /// L2 penalty.
    pub regularization: f32,
    /// Epochs.
    pub iterations: usize,
    /// Popularity-weighted negatives.
    pub popularity: bool,
    /// Exponent of the popularity weights.
    pub pop_exponent: f64,
    /// Seed.
    pub seed: u64,
}

impl BprParams {
    /// Read and validate the parameters (unknown keys are an error naming the key).
    pub fn from_params(p: &Params) -> Result<Self> {
        check_params(p, MODEL, &PARAMS.iter().map(|x| x.0).collect::<Vec<_>>())?;
        let factors = get_at_least(p, "factors", 64usize, 1)?;
        if factors > 4096 {
            return Err(Params::invalid("factors", factors, "must be at most 4096").into());
        }
        let learning_rate = get_nonneg(p, "learning_rate", 0.02)?;
        if learning_rate <= 0.0 {
            return Err(Params::invalid("learning_rate", learning_rate, "must be > 0").into());
        }
        Ok(BprParams {
            factors,
            learning_rate: learning_rate as f32,
            regularization: get_nonneg(p, "regularization", 0.02)? as f32,
            iterations: get_at_least(p, "iterations", 100usize, 0)?,
            popularity: get_choice(p, "sampling", "popularity", &["uniform", "popularity"])? == "popularity",
            pop_exponent: get_nonneg(p, "pop_exponent", 0.25)?,
            seed: p.get("seed", 42u64)?,
        })
    }
}

/// BPR matrix factorisation; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Bpr {
    h: BprParams,
    n_users: usize,
    n_items: usize,
    /// n_users × k, row-major (0 for users without positives).
    pub user_factors: Vec<f32>,
    /// n_items × k, row-major.
    pub item_factors: Vec<f32>,
    pub item_bias: Vec<f32>,
    /// Training users per item (the negative sampler's weights).
    item_users: Vec<u32>,
    /// Epochs chosen by early stopping (None without it).
    pub best_epoch: Option<usize>,
    // derived
    item_norms: Vec<f32>,
    sampler: Sampler,
}

pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(Bpr::fit(train, params)?))
}

pub fn load(s: &ModelState) -> Result<Box<dyn Recommender>> {
    let h = BprParams {
        factors: s.count("factors")?,
        learning_rate: s.scalar("learning_rate")? as f32,
        regularization: s.scalar("regularization")? as f32,
        iterations: s.count("iterations")?,
        popularity: s.flag("popularity")?,
        pop_exponent: s.scalar("pop_exponent")?,
        seed: s.u64s("seed", Some(1))?[0],
    };
    let k = h.factors;
    let bad = |reason: &str| Error::BadState { model: MODEL.into(), reason: reason.into() };
    if k == 0 {
        return Err(bad("`factors` is 0"));
    }
    let (n_users, n_items) = (s.count("n_users")?, s.count("n_items")?);
    let user_factors = s.f32s("user_factors", Some(n_users * k))?.to_vec();
    let item_factors = s.f32s("item_factors", Some(n_items * k))?.to_vec();
    let item_bias = s.f32s("item_bias", Some(n_items))?.to_vec();
    let item_users = s.u32s("item_users", Some(n_items))?.to_vec();
    if [&user_factors, &item_factors, &item_bias].iter().any(|v| v.iter().any(|x| !x.is_finite()))
        || !(h.learning_rate.is_finite() && h.regularization.is_finite() && h.pop_exponent.is_finite())
    {
        return Err(bad("non-finite number"));
    }
    let mut model = Bpr::assemble(h, n_users, n_items, user_factors, item_factors, item_bias, item_users);
    model.best_epoch = early_stop::load_best_epoch(s)?;
    Ok(Box::new(model))
}

/// Negative-item sampler: uniform, or Walker's alias table over popularity^exponent.
#[derive(Debug, Clone)]
pub struct Sampler {
    n: usize,
    /// (acceptance probability, alias) per item; empty when uniform.
    pub alias: Vec<(f64, u32)>,
}

impl Sampler {
    pub fn new(item_users: &[u32], popularity: bool, exponent: f64) -> Self {
        let n = item_users.len();
        let w: Vec<f64> = item_users.iter().map(|&c| f64::from(c).powf(exponent)).collect();
        let total: f64 = w.iter().sum();
        if !popularity || total.is_nan() || total <= 0.0 {
            return Sampler { n, alias: Vec::new() };
        }
        // Vose's alias method, deterministic (stacks processed in index order)
        let mut prob: Vec<f64> = w.iter().map(|x| x * n as f64 / total).collect();
        let mut alias = vec![0u32; n];
        let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| prob[i] < 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            alias[s] = l as u32;
            prob[l] -= 1.0 - prob[s];
            if prob[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        for i in small.into_iter().chain(large) {
            prob[i] = 1.0;
        }
        Sampler { n, alias: prob.into_iter().zip(alias).collect() }
    }

    #[inline(always)]
    pub fn draw(&self, rng: &mut Xoshiro256PlusPlus) -> u32 {
        let i = below(rng, self.n);
        if self.alias.is_empty() {
            return i as u32;
        }
        let (p, a) = self.alias[i];
        if (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64) < p {
            i as u32
        } else {
            a
        }
    }
}

/// Uniform in 0..n (n > 0) by Lemire's multiply-shift: one 64-bit draw, no division, a bias
/// below n / 2⁶⁴ (rand's `random_range` is exact but an out-of-line call several times dearer,
/// and a step draws twice).
#[inline(always)]
pub fn below(rng: &mut Xoshiro256PlusPlus, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

/// Generator of shard `shard` (SplitMix-style mixing of the seed and the shard).
fn shard_rng(seed: u64, shard: usize) -> Xoshiro256PlusPlus {
    let mut z = seed ^ (shard as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    Xoshiro256PlusPlus::seed_from_u64(z ^ (z >> 31))
}

/// One SGD step on (u, i, j) with the user vector in `pu` (updated in place); item vectors
/// and biases are read from and written to the shared cells.
struct Step<'a> {
    k: usize,
    lr: f32,
    reg: f32,
    qi: &'a mut [f32],
    qj: &'a mut [f32],
}

impl Step<'_> {
    /// Returns the new (b_i, b_j); updates pu, qi, qj in place.
    #[inline(always)]
    fn apply(&mut self, pu: &mut [f32], bi: f32, bj: f32, update_items: bool) -> (f32, f32) {
        let (k, lr, reg) = (self.k, self.lr, self.reg);
        let (qi, qj) = (&mut self.qi[..k], &mut self.qj[..k]);
        let pu = &mut pu[..k];
        let x = dot(pu, qi) - dot(pu, qj) + bi - bj;
        let z = 1.0 / (1.0 + x.exp());
        for f in 0..k {
            let (p, a, b) = (pu[f], qi[f], qj[f]);
            pu[f] = p + lr * (z * (a - b) - reg * p);
            if update_items {
                qi[f] = a + lr * (z * p - reg * a);
                qj[f] = b + lr * (-z * p - reg * b);
            }
        }
        (bi + lr * (z - reg * bi), bj + lr * (-z - reg * bj))
    }
}

/// A contiguous range of users with their factors (owned) and a private copy of the item
/// factors and biases.
struct Shard<'a> {
    first_user: usize,
    /// Positive entries of the shard's users (a range of the by-user CSR).
    entries: std::ops::Range<usize>,
    users: &'a mut [f32],
    items: Vec<f32>,
    bias: Vec<f32>,
    rng: Xoshiro256PlusPlus,
}

impl Shard<'_> {
    /// Samples of round `r` of `rounds` (the shard's epoch is as many samples as it has pairs).
    fn quota(&self, r: usize, rounds: usize) -> usize {
        let n = self.entries.len();
        n * (r + 1) / rounds - n * r / rounds
    }
}

/// One round of one shard, as a SIMD kernel.
struct Round<'a, 'b> {
    shard: &'a mut Shard<'b>,
    m: &'a Interactions,
    entry_user: &'a [u32],
    sampler: &'a Sampler,
    h: &'a BprParams,
    samples: usize,
}

impl WithSimd for Round<'_, '_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let Round { shard, m, entry_user, sampler, h, samples } = self;
        let k = h.factors;
        let indices = m.by_user.indices();
        let Shard { first_user, entries, users, items, bias, rng } = shard;
        for _ in 0..samples {
            let e = entries.start + below(rng, entries.len());
            let (u, i) = (entry_user[e], indices[e] as usize);
            let liked = m.user_row(u).0;
            let mut j = None;
            for _ in 0..REDRAWS {
                let c = sampler.draw(rng);
                if liked.binary_search(&c).is_err() {
                    j = Some(c as usize);
                    break;
                }
            }
            let Some(j) = j else { continue };
            let lu = u as usize - *first_user;
            let pu = &mut users[lu * k..(lu + 1) * k];
            let (qi, qj) = two_rows(items, i, j, k);
            let mut step = Step { k, lr: h.learning_rate, reg: h.regularization, qi, qj };
            let (bi, bj) = step.apply(pu, bias[i], bias[j], true);
            bias[i] = bi;
            bias[j] = bj;
        }
    }
}

/// Rows i ≠ j (of length k) of `m`, both mutable.
#[inline(always)]
pub fn two_rows(m: &mut [f32], i: usize, j: usize, k: usize) -> (&mut [f32], &mut [f32]) {
    if i < j {
        let (a, b) = m.split_at_mut(j * k);
        (&mut a[i * k..(i + 1) * k], &mut b[..k])
    } else {
        let (a, b) = m.split_at_mut(i * k);
        (&mut b[..k], &mut a[j * k..(j + 1) * k])
    }
}

/// Elements merged per parallel task.
const MERGE_CHUNK: usize = 1 << 14;

/// global += Σ_s (copy_s − global) in shard order, then every copy := global; the copies are
/// the shards' item factors, or their item biases when `biases`.
fn merge(global: &mut [f32], shards: &mut [Shard<'_>], biases: bool) {
    {
        let copies: Vec<&[f32]> = shards.iter().map(|s| if biases { &s.bias[..] } else { &s.items[..] }).collect();
        global.par_chunks_mut(MERGE_CHUNK).enumerate().for_each(|(c, g)| {
            let off = c * MERGE_CHUNK;
            for (x, gv) in g.iter_mut().enumerate() {
                let old = *gv;
                let mut acc = old;
                for copy in &copies {
                    acc += copy[off + x] - old;
                }
                *gv = acc;
            }
        });
    }
    shards.par_iter_mut().for_each(|s| if biases { &mut s.bias } else { &mut s.items }.copy_from_slice(global));
}

/// The fold-in of a history: SGD on p only, as a SIMD kernel.
struct FoldIn<'a> {
    bpr: &'a Bpr,
    pos: &'a [u32],
    rng: Xoshiro256PlusPlus,
}

impl WithSimd for FoldIn<'_> {
    type Output = Vec<f32>;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) -> Vec<f32> {
        let FoldIn { bpr, pos, mut rng } = self;
        let (k, h) = (bpr.h.factors, &bpr.h);
        let mut p = vec![0f32; k];
        let (mut qi, mut qj) = (vec![0f32; k], vec![0f32; k]);
        for _ in 0..h.iterations * pos.len() {
            let i = pos[below(&mut rng, pos.len())] as usize;
            let mut j = None;
            for _ in 0..REDRAWS {
                let c = bpr.sampler.draw(&mut rng);
                if pos.binary_search(&c).is_err() {
                    j = Some(c as usize);
                    break;
                }
            }
            let Some(j) = j else { continue };
            qi.copy_from_slice(bpr.item_factor(i as u32));
            qj.copy_from_slice(bpr.item_factor(j as u32));
            let mut step = Step { k, lr: h.learning_rate, reg: h.regularization, qi: &mut qi, qj: &mut qj };
            step.apply(&mut p, bpr.item_bias[i], bpr.item_bias[j], false);
        }
        p
    }
}

impl Bpr {
    /// Fit on `train` (see [`PARAMS`]); on explicit data every rated item is a positive.
    pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Self> {
        let h = BprParams::from_params(params)?;
        let Some(es) = EarlyStopping::parse(params, h.seed, BPR_PATIENCE)? else {
            return Self::fit_with(train.matrix, h);
        };
        let curve = Self::validation_curve(train.matrix, &h, &es)?;
        let mut model = Self::fit_with(train.matrix, BprParams { iterations: curve.best_epochs(), ..h })?;
        model.best_epoch = Some(curve.best_epochs());
        Ok(model)
    }

    /// Early stopping's first phase: epochs on `m` minus the validation split, NDCG@10 on it
    /// after each, until `patience` epochs bring no improvement.
    pub fn validation_curve(m: &Interactions, h: &BprParams, es: &EarlyStopping) -> Result<Curve> {
        check_finite(MODEL, &m.by_user)?;
        let split = es.split(MODEL, m, false)?;
        let mut curve = Curve::new(es.patience);
        Self::epochs(&split.train, h.clone(), |score| curve.push(split.ndcg(m.n_items(), score)))?;
        Ok(curve)
    }

    /// Fit with typed hyperparameters.
    pub fn fit_with(m0: &Interactions, h: BprParams) -> Result<Self> {
        Self::epochs(m0, h, |_| true)
    }

    /// The SGD epochs from the seeded start; `after` gets a scorer of the training users after
    /// every epoch and returns false to stop early.
    fn epochs(
        m0: &Interactions,
        h: BprParams,
        mut after: impl FnMut(&(dyn Fn(u32, &mut [f32]) + Sync)) -> bool,
    ) -> Result<Self> {
        check_finite(MODEL, &m0.by_user)?;
        // positives only (entries ≤ 0 are not interactions to rank first)
        let m = if m0.by_user.data().iter().all(|&x| x > 0.0) {
            std::borrow::Cow::Borrowed(m0)
        } else {
            let t: Vec<(u32, u32, f32)> = (0..m0.n_users() as u32)
                .flat_map(|u| {
                    let (c, v) = m0.user_row(u);
                    c.iter().zip(v).filter(|(_, &x)| x > 0.0).map(move |(&c, &x)| (u, c, x))
                })
                .collect();
            std::borrow::Cow::Owned(Interactions::from_csr(daogou_core::Csr::from_triplets(
                m0.n_users(),
                m0.n_items(),
                t.iter().copied(),
                daogou_core::Aggregate::Sum,
            )))
        };
        let (n_users, n_items, k) = (m.n_users(), m.n_items(), h.factors);
        let item_users: Vec<u32> = (0..n_items as u32).map(|i| m.item_row(i).0.len() as u32).collect();
        let sampler = Sampler::new(&item_users, h.popularity, h.pop_exponent);
        // implicit's initialisation: uniform in (−0.5, 0.5)/factors, biases 0
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(h.seed);
        let scale = 1.0 / k as f32;
        let mut init = |n: usize| -> Vec<f32> { (0..n * k).map(|_| (rng.random::<f32>() - 0.5) * scale).collect() };
        let mut user_factors = init(n_users);
        let mut item_factors = init(n_items);
        let mut item_bias = vec![0f32; n_items];
        let nnz = m.nnz();
        let entry_user: Vec<u32> =
            (0..n_users).flat_map(|u| std::iter::repeat_n(u as u32, m.by_user.row_len(u))).collect();
        if nnz > 0 && n_items > 1 && h.iterations > 0 {
            // S shards of contiguous users with about nnz / S pairs each
            let s_count = rayon::current_num_threads().clamp(1, n_users.max(1));
            let indptr = m.by_user.indptr();
            let mut bounds = vec![0usize];
            for s in 1..s_count {
                let target = nnz * s / s_count;
                let u = indptr.partition_point(|&p| p < target).min(n_users);
                bounds.push(u.max(*bounds.last().unwrap()));
            }
            bounds.push(n_users);
            let mut shards: Vec<Shard<'_>> = Vec::with_capacity(s_count);
            let mut rest: &mut [f32] = &mut user_factors;
            for s in 0..s_count {
                let (lo, hi) = (bounds[s], bounds[s + 1]);
                let (mine, tail) = std::mem::take(&mut rest).split_at_mut((hi - lo) * k);
                rest = tail;
                shards.push(Shard {
                    first_user: lo,
                    entries: indptr[lo]..indptr[hi],
                    users: mine,
                    items: item_factors.clone(),
                    bias: item_bias.clone(),
                    rng: shard_rng(h.seed, s),
                });
            }
            shards.retain(|s| !s.entries.is_empty());
            let round_len = 16_384usize.max(2 * n_items);
            let rounds = nnz.div_ceil(shards.len() * round_len).max(1);
            let (m, entry_user, sampler, h) = (&*m, &entry_user[..], &sampler, &h);
            for _epoch in 0..h.iterations {
                for r in 0..rounds {
                    shards.par_iter_mut().for_each(|shard| {
                        let samples = shard.quota(r, rounds);
                        Arch::new().dispatch(Round { shard, m, entry_user, sampler, h, samples });
                    });
                    if shards.len() > 1 {
                        merge(&mut item_factors, &mut shards, false);
                        merge(&mut item_bias, &mut shards, true);
                    }
                }
                // the current factors: the shared items, or the single shard's own copy
                let (items, bias) = match &shards[..] {
                    [one] => (&one.items[..], &one.bias[..]),
                    _ => (&item_factors[..], &item_bias[..]),
                };
                let shards = &shards;
                let score = |u: u32, out: &mut [f32]| {
                    let u = u as usize;
                    let owner = shards.iter().find(|s| u >= s.first_user && u < s.first_user + s.users.len() / k);
                    match owner {
                        Some(s) => {
                            row_dots(&s.users[(u - s.first_user) * k..][..k], items, out);
                            out.iter_mut().zip(bias).for_each(|(o, &b)| *o += b);
                        }
                        None => out.copy_from_slice(bias),
                    }
                };
                if !after(&score) {
                    break;
                }
            }
            if shards.len() == 1 {
                let s = shards.pop().unwrap();
                (item_factors, item_bias) = (s.items, s.bias);
            }
        }
        for u in 0..n_users {
            if m.by_user.row_len(u) == 0 {
                user_factors[u * k..(u + 1) * k].fill(0.0); // never trained: rank by b_i alone
            }
        }
        Ok(Bpr::assemble(h, n_users, n_items, user_factors, item_factors, item_bias, item_users))
    }

    fn assemble(
        h: BprParams,
        n_users: usize,
        n_items: usize,
        user_factors: Vec<f32>,
        item_factors: Vec<f32>,
        item_bias: Vec<f32>,
        item_users: Vec<u32>,
    ) -> Self {
        let sampler = Sampler::new(&item_users, h.popularity, h.pop_exponent);
        let item_norms = row_norms(&item_factors, h.factors);
        Bpr {
            h,
            n_users,
            n_items,
            user_factors,
            item_factors,
            item_bias,
            item_users,
            best_epoch: None,
            item_norms,
            sampler,
        }
    }

    fn item_factor(&self, i: u32) -> &[f32] {
        let k = self.h.factors;
        &self.item_factors[i as usize * k..(i as usize + 1) * k]
    }

    /// The user factors of an ad-hoc history (positives: value > 0), or None.
    pub fn fold_in(&self, history: &[(u32, f32)]) -> Option<Vec<f32>> {
        let (idx, val) = clean_history(history, self.n_items);
        let pos: Vec<u32> = idx.iter().zip(&val).filter(|(_, &v)| v > 0.0).map(|(&i, _)| i).collect();
        if pos.is_empty() || pos.len() == self.n_items {
            return None;
        }
        let rng = Xoshiro256PlusPlus::seed_from_u64(self.h.seed ^ 0xF01D_1A5E_ED00_0000);
        Some(Arch::new().dispatch(FoldIn { bpr: self, pos: &pos, rng }))
    }

    fn score_factors(&self, x: Option<&[f32]>, out: &mut [f32]) {
        match x {
            Some(x) => {
                row_dots(x, &self.item_factors, out);
                for (o, &b) in out.iter_mut().zip(&self.item_bias) {
                    *o += b;
                }
            }
            None => out.copy_from_slice(&self.item_bias),
        }
    }
}

impl Recommender for Bpr {
    fn name(&self) -> &str {
        MODEL
    }

    fn n_items(&self) -> usize {
        self.n_items
    }

    fn score_user(&self, user: u32, out: &mut [f32]) {
        let k = self.h.factors;
        let x =
            ((user as usize) < self.n_users).then(|| &self.user_factors[user as usize * k..(user as usize + 1) * k]);
        self.score_factors(x, out);
    }

    fn score_users(&self, users: &[u32], out: &mut [f32]) {
        crate::als::batch_scores(&self.user_factors, &self.item_factors, self.h.factors, users, out);
        for row in out.chunks_exact_mut(self.n_items).take(users.len()) {
            row.iter_mut().zip(&self.item_bias).for_each(|(o, &b)| *o += b);
        }
    }

    fn score_history(&self, history: &[(u32, f32)], out: &mut [f32]) {
        let x = self.fold_in(history);
        self.score_factors(x.as_deref(), out);
    }

    fn similar_items(&self, item: u32, n: usize) -> Option<Vec<(u32, f32)>> {
        Some(cosine_neighbours(&self.item_factors, &self.item_norms, self.h.factors, item, n))
    }

    fn explain(&self, history: &[(u32, f32)], item: u32, n: usize) -> Vec<(u32, f32)> {
        if item as usize >= self.n_items || self.item_norms[item as usize] == 0.0 {
            return Vec::new();
        }
        let (idx, val) = clean_history(history, self.n_items);
        let q = self.item_factor(item);
        let mut c: Vec<(f32, u32, ())> = idx
            .iter()
            .zip(&val)
            .filter(|&(&j, &v)| v > 0.0 && j != item && self.item_norms[j as usize] > 0.0)
            .map(|(&j, _)| {
                (dot(q, self.item_factor(j)) / (self.item_norms[item as usize] * self.item_norms[j as usize]), j, ())
            })
            .filter(|c| c.0 > 0.0)
            .collect();
        keep_top(&mut c, n);
        c.into_iter().map(|(s, j, ())| (j, s)).collect()
    }

    fn state(&self) -> ModelState {
        let mut s = ModelState::new(MODEL, &Params::new());
        let h = &self.h;
        for (key, x) in [
            ("factors", h.factors as f64),
            ("learning_rate", f64::from(h.learning_rate)),
            ("regularization", f64::from(h.regularization)),
            ("iterations", h.iterations as f64),
            ("popularity", f64::from(u8::from(h.popularity))),
            ("pop_exponent", h.pop_exponent),
            ("n_users", self.n_users as f64),
            ("n_items", self.n_items as f64),
        ] {
            s.set_scalar(key, x);
        }
        s.set("user_factors", Tensor::F32(self.user_factors.clone()));
        s.set("item_factors", Tensor::F32(self.item_factors.clone()));
        s.set("item_bias", Tensor::F32(self.item_bias.clone()));
        s.set("item_users", Tensor::U32(self.item_users.clone()));
        s.set("seed", Tensor::U64(vec![h.seed]));
        early_stop::save_best_epoch(&mut s, self.best_epoch);
        s
    }
}
