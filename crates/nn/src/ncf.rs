//! `ncf`: neural collaborative filtering (He et al. 2017, "NeuMF"): a GMF tower
//! p_u ⊙ q_i and an MLP tower over [p'_u; q'_i] fused by one output layer,
//!
//! logit(u, i) = hᵀ [p_u ⊙ q_i ; MLP([p'_u ; q'_i])] + b,
//!
//! trained on implicit positives (every training pair with a positive value; ratings count as
//! positives, as in the paper) against `negatives` uniformly sampled non-positives per positive,
//! with the stable binary cross-entropy of [`crate::train`], AdamW, validation NDCG@10 on each
//! sampled user's last event and early stopping.
//!
//! **Inference** runs on plain `f32` arrays frozen after training: the GMF term is a dot
//! product with q_i ⊙ h precomputed per item, and the first MLP layer splits into a per-item
//! part W_q q'_i + b (precomputed once) plus a per-user part W_p p'_u (once per request), so a
//! user costs one small matrix–vector product per item for the deeper layers.
//!
//! **An ad-hoc history** (a new user, a session) is scored by **fold-in**: a fresh user vector
//! pair starts at zero and takes `fold_in_steps` Adam steps (step 0.05) on the binary
//! cross-entropy of the history items against `negatives` sampled items each, with every item
//! weight frozen; negatives come from a generator seeded by `seed`, so the same history always
//! gets the same scores. An empty history scores items by the model's item prior (zero user).

use std::cell::RefCell;

use candle_core::{Tensor, Var};
use candle_nn::Optimizer;
use daogou_algo::{Error, ModelState, Recommender, Result, TrainData};
use daogou_core::{Interactions, Params};

use crate::infer::{dot, relu, Dense};
use crate::train::{self, candle_err, Defaults, Holdout, Init, TrainConfig, Weights};

const MODEL: &str = "ncf";

/// One-line description.
pub const ABOUT: &str =
    "neural collaborative filtering (He et al. 2017): GMF and MLP towers fused, implicit positives vs sampled negatives";

/// Hyperparameters with their meaning and default.
pub const PARAMS: &[(&str, &str)] = &[
    ("factors", "GMF embedding size (default 32)"),
    ("mlp_factors", "MLP embedding size per side; the MLP input is twice this (default 32)"),
    ("layers", "MLP hidden layer widths, comma-separated (default 32,16)"),
    ("negatives", "sampled negatives per positive (default 4)"),
    ("fold_in_steps", "Adam steps that fold an ad-hoc history into a fresh user vector (default 40)"),
    ("learning_rate", "AdamW step size (default 0.01)"),
    ("batch_size", "positives per step (default 2048)"),
    ("epochs", "maximum passes over the positives (default 20)"),
    ("patience", "epochs without a better validation NDCG@10 before stopping (default 3)"),
    ("weight_decay", "AdamW decoupled weight decay (default 0.0001)"),
    ("validation", "users whose last event is held out for validation; 0 = none (default 500)"),
    ("seed", "seed of the initial weights, the negatives and the holdout (default 42)"),
    ("device", "cpu | cuda (cuda needs the `cuda` feature) (default cpu)"),
];

const DEFAULTS: Defaults =
    Defaults { learning_rate: 0.01, batch_size: 2048, epochs: 20, patience: 3, weight_decay: 1e-4, validation: 500 };

/// Fold-in step size.
const FOLD_IN_LR: f32 = 0.05;

/// The model's own hyperparameters.
#[derive(Debug, Clone, PartialEq)]
struct Hyper {
    factors: usize,
    mlp_factors: usize,
    layers: Vec<usize>,
    negatives: usize,
    fold_in_steps: usize,
    seed: u64,
}

impl Hyper {
    fn from_params(p: &Params) -> Result<(Self, TrainConfig)> {
        let known: Vec<&str> = PARAMS.iter().map(|x| x.0).collect();
        p.check_known(MODEL, &known)?;
        let cfg = TrainConfig::from_params(p, &DEFAULTS)?;
        let positive = |key: &str, default: usize| -> Result<usize> {
            let v: usize = p.get(key, default)?;
            if v == 0 || v > 4096 {
                return Err(Params::invalid(key, v, "must be between 1 and 4096").into());
            }
            Ok(v)
        };
        let layers = match p.raw("layers") {
            None => vec![32, 16],
            Some(s) => s
                .split(',')
                .map(|x| x.trim().parse::<usize>().ok().filter(|&w| (1..=4096).contains(&w)))
                .collect::<Option<Vec<_>>>()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| Params::invalid("layers", s, "expected widths like 32,16 (each 1..4096)"))?,
        };
        let h = Hyper {
            factors: positive("factors", 32)?,
            mlp_factors: positive("mlp_factors", 32)?,
            layers,
            negatives: positive("negatives", 4)?,
            fold_in_steps: p.get("fold_in_steps", 40)?,
            seed: cfg.seed,
        };
        Ok((h, cfg))
    }

    /// Names and shapes of every learned array.
    fn spec(&self, n_users: usize, n_items: usize) -> Vec<(String, Vec<usize>)> {
        let mut s = vec![
            ("user_gmf".to_owned(), vec![n_users, self.factors]),
            ("item_gmf".to_owned(), vec![n_items, self.factors]),
            ("user_mlp".to_owned(), vec![n_users, self.mlp_factors]),
            ("item_mlp".to_owned(), vec![n_items, self.mlp_factors]),
        ];
        let mut inp = 2 * self.mlp_factors;
        for (l, &w) in self.layers.iter().enumerate() {
            s.push((format!("mlp{l}.w"), vec![w, inp]));
            s.push((format!("mlp{l}.b"), vec![w]));
            inp = w;
        }
        s.push(("out.w".to_owned(), vec![1, self.factors + inp]));
        s.push(("out.b".to_owned(), vec![1]));
        s
    }
}

/// The trained network, frozen into plain arrays for scoring.
#[derive(Debug, Clone)]
pub struct Ncf {
    h: Hyper,
    params: Params,
    n_users: usize,
    n_items: usize,
    weights: Weights,
    // derived at construction from `weights`
    /// q_i ⊙ h_gmf per item (n_items × factors).
    item_gmf_h: Vec<f32>,
    /// W_q q'_i + b_1 per item (n_items × layers[0]).
    item_first: Vec<f32>,
    /// The user block W_p of the first MLP layer.
    first_user: Dense,
    /// MLP layers after the first.
    deeper: Vec<Dense>,
    /// Output weights of the MLP tower's last layer.
    out_mlp: Vec<f32>,
    out_b: f32,
}

thread_local! {
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

impl Ncf {
    fn new(h: Hyper, params: Params, n_users: usize, n_items: usize, weights: Weights) -> Self {
        let (k, m) = (h.factors, h.mlp_factors);
        let out_w = weights.data("out.w");
        let item_gmf_h: Vec<f32> = weights
            .data("item_gmf")
            .chunks_exact(k)
            .flat_map(|q| q.iter().zip(&out_w[..k]).map(|(a, b)| a * b))
            .collect();
        let first = Dense::from_weights(&weights, "mlp0.w", "mlp0.b");
        let first_item = first.columns(m, 2 * m);
        let mut item_first = vec![0f32; n_items * first.out];
        for (row, q) in item_first.chunks_exact_mut(first.out).zip(weights.data("item_mlp").chunks_exact(m)) {
            first_item.forward(q, row);
            row.iter_mut().zip(&first.b).for_each(|(r, b)| *r += b);
        }
        let first_user = first.columns(0, m);
        let deeper = (1..h.layers.len())
            .map(|l| Dense::from_weights(&weights, &format!("mlp{l}.w"), &format!("mlp{l}.b")))
            .collect();
        let out_mlp = out_w[k..].to_vec();
        let out_b = weights.data("out.b")[0];
        Ncf { h, params, n_users, n_items, weights, item_gmf_h, item_first, first_user, deeper, out_mlp, out_b }
    }

    fn scratch_len(&self) -> usize {
        2 * self.h.layers.iter().sum::<usize>() + self.h.layers[0]
    }

    /// Score every item for user vectors `pg` (GMF) and `pm` (MLP) into `out`.
    fn score_vectors(&self, pg: &[f32], pm: &[f32], out: &mut [f32]) {
        let l0 = self.h.layers[0];
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            s.resize(self.scratch_len(), 0.0);
            let (bu, rest) = s.split_at_mut(l0);
            self.first_user.forward(pm, bu);
            for (i, o) in out.iter_mut().enumerate().take(self.n_items) {
                let (a, tail) = rest.split_at_mut(l0);
                for ((x, p), u) in a.iter_mut().zip(&self.item_first[i * l0..(i + 1) * l0]).zip(bu.iter()) {
                    *x = (p + u).max(0.0);
                }
                let last = self.mlp_tail(a, tail);
                let k = self.h.factors;
                *o = dot(pg, &self.item_gmf_h[i * k..(i + 1) * k]) + dot(last, &self.out_mlp) + self.out_b;
            }
        });
    }

    /// Run the layers after the first on `a` (already activated), using `tail` for the
    /// activations; returns the last activation.
    fn mlp_tail<'a>(&self, a: &'a mut [f32], tail: &'a mut [f32]) -> &'a [f32] {
        let mut cur: &mut [f32] = a;
        let mut tail = tail;
        for layer in &self.deeper {
            let (next, t) = tail.split_at_mut(layer.out);
            layer.forward(cur, next);
            relu(next);
            cur = next;
            tail = t;
        }
        cur
    }

    /// Fold an ad-hoc set of positive items into fresh user vectors (see the module docs).
    fn fold_in(&self, positives: &[u32]) -> (Vec<f32>, Vec<f32>) {
        let (k, m) = (self.h.factors, self.h.mlp_factors);
        let mut theta = vec![0f32; k + m];
        if positives.is_empty() || self.h.fold_in_steps == 0 {
            return (theta[..k].to_vec(), theta[k..].to_vec());
        }
        let widths: Vec<usize> = self.h.layers.clone();
        let total: usize = widths.iter().sum();
        // pre-activations and activations of every layer, and two gradient buffers
        let mut z = vec![0f32; total];
        let mut act = vec![0f32; total];
        let wmax = *widths.iter().max().unwrap_or(&1);
        let (mut d_cur, mut d_prev) = (vec![0f32; wmax], vec![0f32; wmax]);
        let mut dpm = vec![0f32; m];
        let (mut mom, mut vel, mut grad) = (vec![0f32; k + m], vec![0f32; k + m], vec![0f32; k + m]);
        let mut init = Init::new(self.h.seed ^ 0x000f_01d1);
        let mut bu = vec![0f32; widths[0]];
        let n_examples = positives.len() * (1 + self.h.negatives);
        for step in 1..=self.h.fold_in_steps {
            grad.fill(0.0);
            let (pg, pm) = theta.split_at(k);
            self.first_user.forward(pm, &mut bu);
            for e in 0..n_examples {
                let (item, y) =
                    if e < positives.len() { (positives[e] as usize, 1.0f32) } else { (init.below(self.n_items), 0.0) };
                // forward, keeping every layer
                let l0 = widths[0];
                for j in 0..l0 {
                    z[j] = self.item_first[item * l0 + j] + bu[j];
                    act[j] = z[j].max(0.0);
                }
                let mut off = 0;
                for (l, layer) in self.deeper.iter().enumerate() {
                    let (wi, wo) = (widths[l], widths[l + 1]);
                    let (before, after) = act.split_at_mut(off + wi);
                    layer.forward(&before[off..], &mut after[..wo]);
                    z[off + wi..off + wi + wo].copy_from_slice(&after[..wo]);
                    relu(&mut after[..wo]);
                    off += wi;
                }
                let last = &act[off..off + widths[widths.len() - 1]];
                let logit = dot(pg, &self.item_gmf_h[item * k..(item + 1) * k]) + dot(last, &self.out_mlp) + self.out_b;
                let g = 1.0 / (1.0 + (-logit).exp()) - y;
                // d/dpg
                for (gr, q) in grad[..k].iter_mut().zip(&self.item_gmf_h[item * k..(item + 1) * k]) {
                    *gr += g * q;
                }
                // backward through the MLP to the first layer's pre-activation
                let lw = widths[widths.len() - 1];
                for j in 0..lw {
                    d_cur[j] = if z[off + j] > 0.0 { g * self.out_mlp[j] } else { 0.0 };
                }
                for (l, layer) in self.deeper.iter().enumerate().rev() {
                    let wi = widths[l];
                    off -= wi;
                    layer.backward_input(&d_cur[..widths[l + 1]], &mut d_prev[..wi]);
                    for j in 0..wi {
                        if z[off + j] <= 0.0 {
                            d_prev[j] = 0.0;
                        }
                    }
                    std::mem::swap(&mut d_cur, &mut d_prev);
                }
                self.first_user.backward_input(&d_cur[..widths[0]], &mut dpm);
                for (gr, d) in grad[k..].iter_mut().zip(&dpm) {
                    *gr += d;
                }
            }
            // Adam on the mean gradient
            let (b1, b2) = (0.9f32, 0.999f32);
            let (c1, c2) = (1.0 - b1.powi(step as i32), 1.0 - b2.powi(step as i32));
            for j in 0..k + m {
                let gj = grad[j] / n_examples as f32;
                mom[j] = b1 * mom[j] + (1.0 - b1) * gj;
                vel[j] = b2 * vel[j] + (1.0 - b2) * gj * gj;
                theta[j] -= FOLD_IN_LR * (mom[j] / c1) / ((vel[j] / c2).sqrt() + 1e-8);
            }
        }
        (theta[..k].to_vec(), theta[k..].to_vec())
    }
}

/// Fit `ncf` on `train`.
pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(Ncf::fit(train, params)?))
}

/// Rebuild a fitted `ncf` from its saved state.
pub fn load(s: &ModelState) -> Result<Box<dyn Recommender>> {
    let (mut h, _) = Hyper::from_params(&s.params)?;
    h.factors = s.count("factors")?;
    h.mlp_factors = s.count("mlp_factors")?;
    let n_layers = s.count("layers")?;
    h.layers = (0..n_layers).map(|l| s.count(&format!("layer{l}"))).collect::<Result<_>>()?;
    if h.layers.is_empty() || h.factors == 0 || h.mlp_factors == 0 || h.layers.contains(&0) {
        return Err(Error::BadState { model: MODEL.into(), reason: "zero-sized layer".into() });
    }
    let (n_users, n_items) = (s.count("n_users")?, s.count("n_items")?);
    let spec = h.spec(n_users, n_items);
    let spec: Vec<(&str, Vec<usize>)> = spec.iter().map(|(n, sh)| (n.as_str(), sh.clone())).collect();
    let weights = Weights::load(s, &spec)?;
    Ok(Box::new(Ncf::new(h, s.params.clone(), n_users, n_items, weights)))
}

impl Ncf {
    /// Train on `train` (see the module docs).
    pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Self> {
        let (h, cfg) = Hyper::from_params(params)?;
        let (n_users, n_items) = (train.matrix.n_users(), train.matrix.n_items());
        if train.matrix.by_user.data().iter().any(|v| !v.is_finite()) {
            return Err(Error::BadData { model: MODEL.into(), reason: "training values must be finite".into() });
        }
        let holdout = Holdout::last_event(train, cfg.validation, cfg.seed);
        let m: &Interactions = &holdout.train;
        let positives: Vec<(u32, u32)> = (0..n_users as u32)
            .flat_map(|u| {
                let (items, vals) = m.user_row(u);
                items.iter().zip(vals).filter(|(_, &v)| v > 0.0).map(move |(&i, _)| (u, i))
            })
            .collect();
        if positives.is_empty() {
            return Err(Error::BadData {
                model: MODEL.into(),
                reason: "no positive interactions to learn from".into(),
            });
        }
        let dev = cfg.device(MODEL)?;
        let err = candle_err(MODEL);
        let mut init = Init::new(cfg.seed);
        let spec = h.spec(n_users, n_items);
        let mut vars: Vec<(String, Var)> = Vec::with_capacity(spec.len());
        for (name, shape) in &spec {
            let v = if name.ends_with(".b") {
                Init::zeros(shape, &dev)
            } else if name.ends_with(".w") {
                init.glorot(shape[0], shape[1], &dev)
            } else {
                init.normal(shape, 0.1, &dev)
            }
            .map_err(&err)?;
            vars.push((name.clone(), v));
        }
        let mut opt = train::adamw(vars.iter().map(|(_, v)| v.clone()).collect(), &cfg).map_err(&err)?;
        let var = |name: &str| -> &Var { &vars.iter().find(|(n, _)| n == name).expect("declared in spec").1 };
        let n_batches = positives.len().div_ceil(cfg.batch_size);
        let mut order = positives.clone();
        let n_layers = h.layers.len();
        let per = 1 + h.negatives;
        let (mut us, mut is, mut ys) = (Vec::new(), Vec::new(), Vec::new());
        let mut step = |_epoch: usize, b: usize| -> Result<f32> {
            if b == 0 {
                for i in (1..order.len()).rev() {
                    order.swap(i, init.below(i + 1));
                }
            }
            let chunk = &order[b * cfg.batch_size..((b + 1) * cfg.batch_size).min(order.len())];
            us.clear();
            is.clear();
            ys.clear();
            for &(u, i) in chunk {
                us.push(u);
                is.push(i);
                ys.push(1f32);
                let row = m.user_row(u).0;
                for _ in 0..h.negatives {
                    let mut j = init.below(n_items) as u32;
                    for _ in 0..8 {
                        if row.binary_search(&j).is_err() {
                            break;
                        }
                        j = init.below(n_items) as u32;
                    }
                    us.push(u);
                    is.push(j);
                    ys.push(0f32);
                }
            }
            debug_assert_eq!(us.len(), chunk.len() * per);
            let n = us.len();
            let loss = (|| -> candle_core::Result<f32> {
                let u = Tensor::from_slice(&us, n, &dev)?;
                let i = Tensor::from_slice(&is, n, &dev)?;
                let y = Tensor::from_slice(&ys, n, &dev)?;
                let gmf = (var("user_gmf").index_select(&u, 0)? * var("item_gmf").index_select(&i, 0)?)?;
                let mut x =
                    Tensor::cat(&[&var("user_mlp").index_select(&u, 0)?, &var("item_mlp").index_select(&i, 0)?], 1)?;
                for l in 0..n_layers {
                    let w = var(&format!("mlp{l}.w"));
                    let bias = var(&format!("mlp{l}.b"));
                    x = x.matmul(&w.t()?)?.broadcast_add(bias.as_tensor())?.relu()?;
                }
                let hcat = Tensor::cat(&[&gmf, &x], 1)?;
                let logit = hcat.matmul(&var("out.w").t()?)?.broadcast_add(var("out.b").as_tensor())?.squeeze(1)?;
                let loss = train::bce_with_logits(&logit, &y)?;
                opt.backward_step(&loss)?;
                loss.to_scalar::<f32>()
            })()
            .map_err(&err)?;
            Ok(loss)
        };
        let active_users: Vec<bool> = (0..n_users as u32).map(|u| m.user_row(u).1.iter().any(|&v| v > 0.0)).collect();
        let snapshot = || -> Result<Ncf> {
            let named: Vec<(&str, &Var)> = vars.iter().map(|(n, v)| (n.as_str(), v)).collect();
            let mut w = Weights::from_vars(&named).map_err(&err)?;
            // users who never had a positive keep no trained vector: score them by the item prior
            for name in ["user_gmf", "user_mlp"] {
                let a = w.get(name).clone();
                let d = a.shape[1];
                let mut data = a.data;
                for (u, row) in data.chunks_exact_mut(d).enumerate() {
                    if !active_users[u] {
                        row.fill(0.0);
                    }
                }
                w.insert(name, a.shape, data);
            }
            Ok(Ncf::new(h.clone(), params.clone(), n_users, n_items, w))
        };
        let validate = |net: &Ncf| -> Option<f64> {
            (!holdout.is_empty())
                .then(|| train::ndcg_at_k(&holdout.held, m, n_items, 10, |u, out| net.score_user(u, out)))
        };
        let (net, _log) = train::run(MODEL, &cfg, n_batches, &mut step, snapshot, validate)?;
        Ok(net)
    }
}

impl Recommender for Ncf {
    fn name(&self) -> &str {
        MODEL
    }

    fn n_items(&self) -> usize {
        self.n_items
    }

    fn score_user(&self, user: u32, out: &mut [f32]) {
        let u = user as usize;
        if u >= self.n_users {
            let zero_g = vec![0f32; self.h.factors];
            let zero_m = vec![0f32; self.h.mlp_factors];
            return self.score_vectors(&zero_g, &zero_m, out);
        }
        let (k, m) = (self.h.factors, self.h.mlp_factors);
        let pg = &self.weights.data("user_gmf")[u * k..(u + 1) * k];
        let pm = &self.weights.data("user_mlp")[u * m..(u + 1) * m];
        self.score_vectors(pg, pm, out);
    }

    fn score_history(&self, history: &[(u32, f32)], out: &mut [f32]) {
        let mut pos: Vec<u32> =
            history.iter().filter(|&&(i, v)| v > 0.0 && (i as usize) < self.n_items).map(|&(i, _)| i).collect();
        pos.sort_unstable();
        pos.dedup();
        let (pg, pm) = self.fold_in(&pos);
        self.score_vectors(&pg, &pm, out);
    }

    fn state(&self) -> ModelState {
        let mut s = ModelState::new(MODEL, &self.params);
        s.set_scalar("n_users", self.n_users as f64);
        s.set_scalar("n_items", self.n_items as f64);
        s.set_scalar("factors", self.h.factors as f64);
        s.set_scalar("mlp_factors", self.h.mlp_factors as f64);
        s.set_scalar("layers", self.h.layers.len() as f64);
        for (l, &w) in self.h.layers.iter().enumerate() {
            s.set_scalar(&format!("layer{l}"), w as f64);
        }
        self.weights.save(&mut s);
        s
    }
}
