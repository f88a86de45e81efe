//! `sequential`: a next-basket model over each user's time-ordered events.
//!
//! Each user's training events (returns and searches left out) are sorted by time and grouped
//! into *steps*: the items of one timestamp (an invoice in retail, one rating on MovieLens).
//! A training example is "all steps before step k → the items of step k".
//!
//! The model has two parts, trained together with a full softmax over the catalogue:
//! * **explore**: SASRec-style self-attention over the last `max_len` items (item + position
//!   embeddings, `layers` pre-norm blocks of multi-head attention and a feed-forward layer); the
//!   last position's output `h` scores every item as `h·e_i + b_i` (tied item embeddings).
//! * **repeat** (after RepeatNet): every distinct item already in the history (the `history` most
//!   recent ones) gets a learned bonus `g(f)` added to its logit, where `g` is a small MLP over
//!   features of that item in the history: log count, share of steps holding it, days and steps
//!   since it was last seen, and the history length. Whether and how much people come back to
//!   what they had is thus learned from the data: on retail the bonus grows with count and
//!   recency, on MovieLens (nobody rates a film twice) it turns negative.
//!
//! `score_user` scores what comes after the user's whole training sequence; `score_history`
//! treats the given slice as one time-ordered anonymous session, one step per entry (no
//! timestamps: "days since" is 0 and "steps since" carries the recency).

use candle_core::{DType, Device, Tensor, Var, D};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use daogou_algo::{Error, ModelState, Recommender, Result, Tensor as StateTensor, TrainData};
use daogou_core::{EventKind, Params};
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use crate::infer::{dot, relu, Dense};

const NAME: &str = "sequential";

/// One-line description.
pub const ABOUT: &str = "next-basket model: SASRec-style self-attention over the user's time-ordered items plus a \
                         learned repeat bonus from history features (count, recency), full softmax";

/// Hyperparameters with their meaning and default.
pub const PARAMS: &[(&str, &str)] = &[
    ("dims", "embedding and hidden size (default 32)"),
    ("layers", "self-attention blocks (default 1)"),
    ("heads", "attention heads; must divide dims (default 2)"),
    ("max_len", "most recent items the attention reads (default 20)"),
    ("history", "most recent distinct history items that get a repeat bonus (default 200)"),
    ("dropout", "dropout rate in [0, 1) (default 0.2)"),
    ("lr", "AdamW learning rate (default 0.002)"),
    ("weight_decay", "AdamW weight decay (default 0)"),
    ("batch_size", "examples per step (default 256)"),
    ("per_user", "most training examples drawn per user each epoch, a fresh seeded sample of its steps every epoch; 0 = every step (default 10)"),
    ("epochs", "most passes over the examples (default 3)"),
    ("patience", "stop after this many epochs without a better validation NDCG@10 on each user's last step; 0 = no validation, train every epoch on all steps (default 3)"),
    ("horizon", "days after a step whose items also count as its targets, to learn what comes in the next weeks rather than the next basket; 0 = the next step only (default 0)"),
    ("seed", "random seed: the same seed gives the same model (default 42)"),
];

const KNOWN: &[&str] = &[
    "dims",
    "layers",
    "heads",
    "max_len",
    "history",
    "dropout",
    "lr",
    "weight_decay",
    "batch_size",
    "per_user",
    "epochs",
    "patience",
    "horizon",
    "seed",
];

/// Features of a history item fed to the repeat MLP.
const N_FEAT: usize = 5;
/// Hidden width of the repeat MLP.
const REPEAT_HIDDEN: usize = 32;
/// Users whose last step is held out for validation (every user when fewer).
const MAX_VALIDATION: usize = 2000;

fn cerr(e: candle_core::Error) -> Error {
    Error::BadData { model: NAME.into(), reason: format!("tensor computation failed: {e}") }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Config {
    dims: usize,
    layers: usize,
    heads: usize,
    max_len: usize,
    history: usize,
    dropout: f32,
    lr: f64,
    weight_decay: f64,
    batch_size: usize,
    per_user: usize,
    epochs: usize,
    patience: usize,
    horizon: f64,
    seed: u64,
}

impl Config {
    fn parse(p: &Params) -> Result<Config> {
        p.check_known(NAME, KNOWN)?;
        let c = Config {
            dims: p.get("dims", 32)?,
            layers: p.get("layers", 1)?,
            heads: p.get("heads", 2)?,
            max_len: p.get("max_len", 20)?,
            history: p.get("history", 200)?,
            dropout: p.get("dropout", 0.2)?,
            lr: p.get("lr", 0.002)?,
            weight_decay: p.get("weight_decay", 0.0)?,
            batch_size: p.get("batch_size", 256)?,
            per_user: p.get("per_user", 10)?,
            epochs: p.get("epochs", 3)?,
            patience: p.get("patience", 3)?,
            horizon: p.get("horizon", 0.0)?,
            seed: p.get("seed", 42)?,
        };
        let bad = |k: &str, v: &dyn std::fmt::Display, why: &str| Err(Error::Param(Params::invalid(k, v, why)));
        if !(1..=1024).contains(&c.dims) {
            return bad("dims", &c.dims, "must be between 1 and 1024");
        }
        if !(1..=8).contains(&c.layers) {
            return bad("layers", &c.layers, "must be between 1 and 8");
        }
        if c.heads == 0 || !c.dims.is_multiple_of(c.heads) {
            return bad("heads", &c.heads, &format!("must be at least 1 and divide dims = {}", c.dims));
        }
        if !(1..=1000).contains(&c.max_len) {
            return bad("max_len", &c.max_len, "must be between 1 and 1000");
        }
        if !(1..=100_000).contains(&c.history) {
            return bad("history", &c.history, "must be between 1 and 100000");
        }
        if !(0.0..1.0).contains(&c.dropout) {
            return bad("dropout", &c.dropout, "must be in [0, 1)");
        }
        if !(c.lr > 0.0 && c.lr.is_finite()) {
            return bad("lr", &c.lr, "must be a positive number");
        }
        if !(c.weight_decay >= 0.0 && c.weight_decay.is_finite()) {
            return bad("weight_decay", &c.weight_decay, "must be ≥ 0");
        }
        if !(c.horizon >= 0.0 && c.horizon.is_finite()) {
            return bad("horizon", &c.horizon, "must be a number of days ≥ 0");
        }
        if c.batch_size == 0 {
            return bad("batch_size", &c.batch_size, "must be at least 1");
        }
        if c.epochs == 0 {
            return bad("epochs", &c.epochs, "must be at least 1");
        }
        Ok(c)
    }
}

/// One timestamp of a user's history: the distinct items bought (viewed, rated) then.
#[derive(Debug, Clone)]
struct Step {
    time: i64,
    items: Vec<u32>,
}

/// Per-user time-ordered steps from the event log.
fn user_steps(train: &TrainData<'_>) -> Vec<Vec<Step>> {
    let (n_users, n_items) = (train.matrix.n_users(), train.matrix.n_items());
    let mut ev: Vec<(u32, i64, usize, u32)> = train
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            !matches!(e.kind, EventKind::Return | EventKind::Search)
                && e.value > 0.0
                && (e.user as usize) < n_users
                && (e.item as usize) < n_items
        })
        .map(|(pos, e)| (e.user, e.timestamp, pos, e.item))
        .collect();
    // input order breaks ties inside a timestamp, so the order is fully determined
    ev.sort_unstable();
    let mut out: Vec<Vec<Step>> = vec![Vec::new(); n_users];
    for (u, t, _, i) in ev {
        let steps = &mut out[u as usize];
        match steps.last_mut() {
            Some(s) if s.time == t => {
                if !s.items.contains(&i) {
                    s.items.push(i);
                }
            }
            _ => steps.push(Step { time: t, items: vec![i] }),
        }
    }
    out
}

/// What the network reads about one history: the last items in order and the distinct
/// history items with their repeat features.
#[derive(Debug, Clone, Default, PartialEq)]
struct HistoryInput {
    seq: Vec<u32>,
    slots: Vec<u32>,
    feats: Vec<f32>,
}

/// Reusable per-item counters for [`history_input`] (dense, reset through `touched`).
struct Scratch {
    count: Vec<u32>,
    last_step: Vec<u32>,
    last_time: Vec<i64>,
    touched: Vec<u32>,
}

impl Scratch {
    fn new(n_items: usize) -> Self {
        Scratch {
            count: vec![0; n_items],
            last_step: vec![0; n_items],
            last_time: vec![0; n_items],
            touched: Vec::new(),
        }
    }

    /// Make room for `n_items` items (a per-thread scratch may come from a smaller model).
    fn grow(&mut self, n_items: usize) {
        if self.count.len() < n_items {
            self.count.resize(n_items, 0);
            self.last_step.resize(n_items, 0);
            self.last_time.resize(n_items, 0);
        }
    }
}

fn history_input(steps: &[Step], cfg: &Config, sc: &mut Scratch) -> HistoryInput {
    let mut h = HistoryInput::default();
    let Some(last) = steps.last() else { return h };
    for (k, s) in steps.iter().enumerate() {
        for &i in &s.items {
            let iu = i as usize;
            if sc.count[iu] == 0 {
                sc.touched.push(i);
            }
            sc.count[iu] += 1;
            sc.last_step[iu] = k as u32;
            sc.last_time[iu] = s.time;
        }
    }
    // the last max_len items, oldest first
    let mut seq: Vec<u32> = steps.iter().rev().flat_map(|s| s.items.iter().rev()).take(cfg.max_len).copied().collect();
    seq.reverse();
    h.seq = seq;
    let mut slots = std::mem::take(&mut sc.touched);
    // most recent first, then by item, so the cut at `history` is deterministic
    slots.sort_unstable_by_key(|&i| (std::cmp::Reverse(sc.last_step[i as usize]), i));
    let n = steps.len() as f32;
    for &i in slots.iter().take(cfg.history) {
        let iu = i as usize;
        let c = sc.count[iu] as f32;
        let days = (last.time - sc.last_time[iu]).max(0) as f32 / 86_400.0;
        let since = (steps.len() - 1 - sc.last_step[iu] as usize) as f32;
        h.slots.push(i);
        h.feats.extend_from_slice(&[c.ln_1p(), c / n, days.ln_1p(), since.ln_1p(), n.ln_1p()]);
    }
    for &i in &slots {
        sc.count[i as usize] = 0;
    }
    slots.clear();
    sc.touched = slots;
    h
}

/// Named weights in a fixed order (the order of the model-file arrays and the optimiser).
struct Weights {
    names: Vec<String>,
    tensors: Vec<Tensor>,
}

impl Weights {
    fn get(&self, name: &str) -> &Tensor {
        let i = self.names.iter().position(|n| n == name).expect("weight names are fixed by the config");
        &self.tensors[i]
    }
}

/// Shapes of every weight, in a fixed order.
fn weight_shapes(cfg: &Config, n_items: usize) -> Vec<(String, Vec<usize>)> {
    let d = cfg.dims;
    let mut v = vec![
        ("item_emb".to_string(), vec![n_items + 1, d]),
        ("item_bias".to_string(), vec![n_items]),
        ("pos_emb".to_string(), vec![cfg.max_len, d]),
    ];
    for l in 0..cfg.layers {
        for (n, s) in [
            ("ln1_g", vec![d]),
            ("ln1_b", vec![d]),
            ("wq", vec![d, d]),
            ("wk", vec![d, d]),
            ("wv", vec![d, d]),
            ("wo", vec![d, d]),
            ("ln2_g", vec![d]),
            ("ln2_b", vec![d]),
            ("ff1", vec![d, d]),
            ("ff1_b", vec![d]),
            ("ff2", vec![d, d]),
            ("ff2_b", vec![d]),
        ] {
            v.push((format!("l{l}.{n}"), s));
        }
    }
    v.extend([
        ("ln_g".to_string(), vec![d]),
        ("ln_b".to_string(), vec![d]),
        ("rep1".to_string(), vec![N_FEAT, REPEAT_HIDDEN]),
        ("rep1_b".to_string(), vec![REPEAT_HIDDEN]),
        ("rep2".to_string(), vec![REPEAT_HIDDEN, 1]),
        ("rep2_b".to_string(), vec![1]),
    ]);
    v
}

/// Seeded initial values: layer-norm gains 1, biases 0, embeddings N(0, 0.05²)-like uniform,
/// matrices Xavier-uniform.
fn init_values(name: &str, shape: &[usize], rng: &mut Xoshiro256PlusPlus) -> Vec<f32> {
    let n: usize = shape.iter().product();
    let base = name.rsplit('.').next().unwrap_or(name);
    if base.ends_with("_g") {
        return vec![1.0; n];
    }
    if base.ends_with("_b") || base == "item_bias" {
        return vec![0.0; n];
    }
    let a = if base.ends_with("emb") {
        0.05 * 3f32.sqrt()
    } else {
        (6.0 / (shape[0] + shape[shape.len() - 1]) as f32).sqrt()
    };
    (0..n).map(|_| rng.random_range(-a..a)).collect()
}

/// A batch of histories as tensors.
struct Batch {
    b: usize,
    seq: Tensor,
    key_mask: Tensor,
    /// history items as flat indices `row·n_items + item` into the `b × n_items` logits
    slots: Tensor,
    feats: Tensor,
    slot_mask: Tensor,
}

fn make_batch(hs: &[&HistoryInput], cfg: &Config, n_items: usize, dev: &Device) -> candle_core::Result<Batch> {
    let (b, l) = (hs.len(), cfg.max_len);
    let hmax = hs.iter().map(|h| h.slots.len()).max().unwrap_or(0).max(1);
    let mut seq = vec![n_items as u32; b * l];
    let mut key_mask = vec![-1e9f32; b * l];
    let mut slots = vec![0u32; b * hmax];
    let mut feats = vec![0f32; b * hmax * N_FEAT];
    let mut slot_mask = vec![0f32; b * hmax];
    for (r, h) in hs.iter().enumerate() {
        // left padding: the newest item sits at the last position
        let off = l - h.seq.len();
        seq[r * l + off..(r + 1) * l].copy_from_slice(&h.seq);
        key_mask[r * l + off..(r + 1) * l].fill(0.0);
        let m = h.slots.len();
        for (dst, &i) in slots[r * hmax..r * hmax + m].iter_mut().zip(&h.slots) {
            *dst = (r * n_items) as u32 + i;
        }
        slots[r * hmax + m..(r + 1) * hmax].fill((r * n_items) as u32);
        feats[r * hmax * N_FEAT..(r * hmax + m) * N_FEAT].copy_from_slice(&h.feats);
        slot_mask[r * hmax..r * hmax + m].fill(1.0);
    }
    Ok(Batch {
        b,
        seq: Tensor::from_vec(seq, b * l, dev)?,
        key_mask: Tensor::from_vec(key_mask, (b, 1, 1, l), dev)?,
        slots: Tensor::from_vec(slots, b * hmax, dev)?,
        feats: Tensor::from_vec(feats, (b * hmax, N_FEAT), dev)?,
        slot_mask: Tensor::from_vec(slot_mask, (b, hmax), dev)?,
    })
}

/// Dropout with masks drawn from the model's own seeded generator (candle's would not be
/// reproducible).
struct Dropout<'a> {
    p: f32,
    rng: Option<&'a mut Xoshiro256PlusPlus>,
}

impl Dropout<'_> {
    fn apply(&mut self, x: &Tensor) -> candle_core::Result<Tensor> {
        match &mut self.rng {
            Some(rng) if self.p > 0.0 => {
                let keep = 1.0 / (1.0 - self.p);
                let mask: Vec<f32> =
                    (0..x.elem_count()).map(|_| if rng.random::<f32>() < self.p { 0.0 } else { keep }).collect();
                x.mul(&Tensor::from_vec(mask, x.shape(), x.device())?)
            }
            _ => Ok(x.clone()),
        }
    }
}

fn layer_norm(x: &Tensor, g: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    candle_nn::ops::layer_norm_slow(x, g, b, 1e-6)
}

/// Logits over the catalogue for each history of the batch: `b × n_items`.
fn forward(w: &Weights, cfg: &Config, n_items: usize, x: &Batch, drop: &mut Dropout) -> candle_core::Result<Tensor> {
    let (b, l, d, nh) = (x.b, cfg.max_len, cfg.dims, cfg.heads);
    let dh = d / nh;
    let emb = w.get("item_emb");
    let h = emb.index_select(&x.seq, 0)?.reshape((b, l, d))?.broadcast_add(w.get("pos_emb"))?.reshape((b * l, d))?;
    let mut h = drop.apply(&h)?;
    let heads = |t: Tensor| t.reshape((b, l, nh, dh))?.transpose(1, 2)?.contiguous();
    for layer in 0..cfg.layers {
        let p = |n: &str| w.get(&format!("l{layer}.{n}"));
        let y = layer_norm(&h, p("ln1_g"), p("ln1_b"))?;
        let q = heads(y.matmul(p("wq"))?)?;
        let k = heads(y.matmul(p("wk"))?)?;
        let v = heads(y.matmul(p("wv"))?)?;
        let att = (q.matmul(&k.t()?)? / (dh as f64).sqrt())?.broadcast_add(&x.key_mask)?;
        let att = candle_nn::ops::softmax(&att, D::Minus1)?;
        let o = att.matmul(&v)?.transpose(1, 2)?.contiguous()?.reshape((b * l, d))?.matmul(p("wo"))?;
        h = (h + drop.apply(&o)?)?;
        let y = layer_norm(&h, p("ln2_g"), p("ln2_b"))?;
        let f = y.matmul(p("ff1"))?.broadcast_add(p("ff1_b"))?.relu()?.matmul(p("ff2"))?.broadcast_add(p("ff2_b"))?;
        h = (h + drop.apply(&f)?)?;
    }
    let last = h.reshape((b, l, d))?.narrow(1, l - 1, 1)?.reshape((b, d))?;
    let last = layer_norm(&last, w.get("ln_g"), w.get("ln_b"))?;
    let items = emb.narrow(0, 0, n_items)?;
    let explore = last.matmul(&items.t()?)?.broadcast_add(w.get("item_bias"))?;
    let hmax = x.slot_mask.dim(1)?;
    let bonus = x
        .feats
        .matmul(w.get("rep1"))?
        .broadcast_add(w.get("rep1_b"))?
        .relu()?
        .matmul(w.get("rep2"))?
        .broadcast_add(w.get("rep2_b"))?
        .reshape((b, hmax))?
        .mul(&x.slot_mask)?
        .flatten_all()?;
    // index_add on the flattened logits: candle 0.11's scatter_add backward fails on shapes
    let dense = Tensor::zeros(b * n_items, DType::F32, explore.device())?.index_add(&x.slots, &bonus, 0)?;
    explore + dense.reshape((b, n_items))?
}

/// A training or validation example: user `u`, steps `..k` → step `k` (and, with a horizon,
/// the steps after it within the horizon, before step `end`).
#[derive(Debug, Clone, Copy)]
struct Example {
    user: u32,
    k: u32,
    end: u32,
}

impl Example {
    fn targets(&self, steps: &[Vec<Step>], cfg: &Config) -> Vec<u32> {
        let s = &steps[self.user as usize][self.k as usize..self.end as usize];
        let until = s[0].time as f64 + cfg.horizon * 86_400.0;
        let mut t: Vec<u32> = s
            .iter()
            .enumerate()
            .take_while(|(j, st)| *j == 0 || (st.time as f64) < until)
            .flat_map(|(_, st)| st.items.iter().copied())
            .collect();
        t.sort_unstable();
        t.dedup();
        t
    }
}

fn ndcg_at_10(scores: &[f32], relevant: &[u32]) -> f64 {
    let top = daogou_algo::topk::top_k(scores, 10, |_| false);
    let dcg: f64 = top
        .iter()
        .enumerate()
        .filter(|(_, (i, _))| relevant.contains(i))
        .map(|(r, _)| 1.0 / (r as f64 + 2.0).log2())
        .sum();
    let ideal: f64 = (0..relevant.len().min(10)).map(|r| 1.0 / (r as f64 + 2.0).log2()).sum();
    if ideal > 0.0 {
        dcg / ideal
    } else {
        0.0
    }
}

/// A history as [`score_user`](Recommender::score_user) reads it: borrowed from the model's
/// own arrays (a training user) or from a [`HistoryInput`] (a session).
#[derive(Clone, Copy)]
struct HistoryRef<'a> {
    seq: &'a [u32],
    slots: &'a [u32],
    feats: &'a [f32],
}

impl HistoryInput {
    fn as_ref(&self) -> HistoryRef<'_> {
        HistoryRef { seq: &self.seq, slots: &self.slots, feats: &self.feats }
    }
}

/// One attention block's weights, as plain arrays (matrices in [`Dense`]'s `[out, in]` layout).
struct FrozenLayer {
    ln1: (Vec<f32>, Vec<f32>),
    wq: Dense,
    wk: Dense,
    wv: Dense,
    wo: Dense,
    ln2: (Vec<f32>, Vec<f32>),
    ff1: Dense,
    ff2: Dense,
}

/// The trained weights as plain arrays: inference runs [`forward`]'s arithmetic for one
/// history on reused buffers, without candle (no tensor allocation per request).
struct Frozen {
    dims: usize,
    heads: usize,
    max_len: usize,
    n_items: usize,
    item_emb: Vec<f32>,
    item_bias: Vec<f32>,
    pos_emb: Vec<f32>,
    layers: Vec<FrozenLayer>,
    ln: (Vec<f32>, Vec<f32>),
    rep1: Dense,
    rep2: Dense,
}

/// Per-thread buffers of [`Frozen::score`].
#[derive(Default)]
struct InferScratch {
    h: Vec<f32>,
    y: Vec<f32>,
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    o: Vec<f32>,
    att: Vec<f32>,
    row: Vec<f32>,
    ff: Vec<f32>,
}

thread_local! {
    static INFER_SCRATCH: std::cell::RefCell<InferScratch> = std::cell::RefCell::new(InferScratch::default());
    static SESSION_SCRATCH: std::cell::RefCell<Option<Scratch>> = const { std::cell::RefCell::new(None) };
}

/// Layer norm of `x` into `out` (biased variance, ε = 1e-6, as candle-nn's `layer_norm_slow`).
fn layer_norm_f32(x: &[f32], (g, b): &(Vec<f32>, Vec<f32>), out: &mut [f32]) {
    let n = x.len() as f32;
    let mean = x.iter().sum::<f32>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    let inv = 1.0 / (var + 1e-6).sqrt();
    for (((o, v), g), b) in out.iter_mut().zip(x).zip(g).zip(b) {
        *o = (v - mean) * inv * g + b;
    }
}

impl Frozen {
    fn new(w: &Weights, cfg: &Config, n_items: usize) -> candle_core::Result<Self> {
        let flat = |n: &str| w.get(n).flatten_all()?.to_vec1::<f32>();
        // a stored `[in, out]` matrix (x·W) and an optional bias as a Dense layer
        let dense = |n: &str, b: Option<&str>| -> candle_core::Result<Dense> {
            let t = w.get(n);
            let (inp, out) = t.dims2()?;
            let wt = t.t()?.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
            let b = match b {
                Some(b) => flat(b)?,
                None => vec![0.0; out],
            };
            Ok(Dense { inp, out, w: wt, b })
        };
        let mut layers = Vec::new();
        for l in 0..cfg.layers {
            let n = |x: &str| format!("l{l}.{x}");
            layers.push(FrozenLayer {
                ln1: (flat(&n("ln1_g"))?, flat(&n("ln1_b"))?),
                wq: dense(&n("wq"), None)?,
                wk: dense(&n("wk"), None)?,
                wv: dense(&n("wv"), None)?,
                wo: dense(&n("wo"), None)?,
                ln2: (flat(&n("ln2_g"))?, flat(&n("ln2_b"))?),
                ff1: dense(&n("ff1"), Some(&n("ff1_b")))?,
                ff2: dense(&n("ff2"), Some(&n("ff2_b")))?,
            });
        }
        Ok(Frozen {
            dims: cfg.dims,
            heads: cfg.heads,
            max_len: cfg.max_len,
            n_items,
            item_emb: flat("item_emb")?,
            item_bias: flat("item_bias")?,
            pos_emb: flat("pos_emb")?,
            layers,
            ln: (flat("ln_g")?, flat("ln_b")?),
            rep1: dense("rep1", Some("rep1_b"))?,
            rep2: dense("rep2", Some("rep2_b"))?,
        })
    }

    fn repeat_bonus(&self, feats: &[f32], hid: &mut [f32]) -> f32 {
        self.rep1.forward(feats, hid);
        relu(hid);
        let mut out = [0f32];
        self.rep2.forward(hid, &mut out);
        out[0]
    }

    /// The logits of every item after history `x` (see [`forward`]): the padded positions of
    /// a batch are masked out of attention there, so only the `m` real positions are computed.
    fn score(&self, x: HistoryRef<'_>, sc: &mut InferScratch, out: &mut [f32]) {
        let (d, m) = (self.dims, x.seq.len().min(self.max_len));
        if m == 0 {
            // nothing to read: the learned item biases (a popularity prior)
            out.copy_from_slice(&self.item_bias);
            return;
        }
        let seq = &x.seq[x.seq.len() - m..];
        let off = self.max_len - m;
        let dh = d / self.heads;
        let scale = 1.0 / (dh as f32).sqrt();
        for b in [&mut sc.h, &mut sc.y, &mut sc.q, &mut sc.k, &mut sc.v, &mut sc.o] {
            b.resize(m * d, 0.0);
        }
        sc.att.resize(m, 0.0);
        sc.row.resize(d, 0.0);
        for (p, h) in sc.h.chunks_exact_mut(d).enumerate() {
            let e = &self.item_emb[seq[p] as usize * d..(seq[p] as usize + 1) * d];
            let pos = &self.pos_emb[(off + p) * d..(off + p + 1) * d];
            for ((h, e), q) in h.iter_mut().zip(e).zip(pos) {
                *h = e + q;
            }
        }
        for l in &self.layers {
            for (h, y) in sc.h.chunks_exact(d).zip(sc.y.chunks_exact_mut(d)) {
                layer_norm_f32(h, &l.ln1, y);
            }
            for (dense, dst) in [(&l.wq, &mut sc.q), (&l.wk, &mut sc.k), (&l.wv, &mut sc.v)] {
                for (y, t) in sc.y.chunks_exact(d).zip(dst.chunks_exact_mut(d)) {
                    dense.forward(y, t);
                }
            }
            // each head: softmax(q·kᵀ/√dh) over the m positions, times v
            sc.o.fill(0.0);
            for head in 0..self.heads {
                let cols = head * dh..(head + 1) * dh;
                for p in 0..m {
                    let qp = &sc.q[p * d..(p + 1) * d][cols.clone()];
                    let mut max = f32::NEG_INFINITY;
                    for (j, a) in sc.att.iter_mut().enumerate() {
                        *a = dot(qp, &sc.k[j * d..(j + 1) * d][cols.clone()]) * scale;
                        max = max.max(*a);
                    }
                    let mut sum = 0f32;
                    for a in sc.att.iter_mut() {
                        *a = (*a - max).exp();
                        sum += *a;
                    }
                    let o = &mut sc.o[p * d..(p + 1) * d][cols.clone()];
                    for (j, &a) in sc.att.iter().enumerate() {
                        for (o, v) in o.iter_mut().zip(&sc.v[j * d..(j + 1) * d][cols.clone()]) {
                            *o += a / sum * v;
                        }
                    }
                }
            }
            for (o, h) in sc.o.chunks_exact(d).zip(sc.h.chunks_exact_mut(d)) {
                l.wo.forward(o, &mut sc.row);
                h.iter_mut().zip(&sc.row).for_each(|(h, r)| *h += r);
            }
            sc.ff.resize(l.ff1.out, 0.0);
            for h in sc.h.chunks_exact_mut(d) {
                layer_norm_f32(h, &l.ln2, &mut sc.row);
                l.ff1.forward(&sc.row, &mut sc.ff);
                relu(&mut sc.ff);
                l.ff2.forward(&sc.ff, &mut sc.row);
                h.iter_mut().zip(&sc.row).for_each(|(h, r)| *h += r);
            }
        }
        layer_norm_f32(&sc.h[(m - 1) * d..m * d], &self.ln, &mut sc.row);
        for ((o, e), b) in out.iter_mut().zip(self.item_emb.chunks_exact(d)).zip(&self.item_bias) {
            *o = dot(&sc.row, e) + b;
        }
        let mut hid = [0f32; REPEAT_HIDDEN];
        for (&i, f) in x.slots.iter().zip(x.feats.chunks_exact(N_FEAT)) {
            if (i as usize) < self.n_items {
                out[i as usize] += self.repeat_bonus(f, &mut hid);
            }
        }
    }
}

/// The fitted model.
pub struct Sequential {
    cfg: Config,
    params: Params,
    n_items: usize,
    weights: Weights,
    /// The same weights as plain arrays: what scoring runs on.
    frozen: Frozen,
    /// Each user's history input, CSR-like: `seq_ptr`/`seq`, `slot_ptr`/`slots`/`feats`.
    seq_ptr: Vec<u64>,
    seq: Vec<u32>,
    slot_ptr: Vec<u64>,
    slots: Vec<u32>,
    feats: Vec<f32>,
}

/// Fit `sequential` on the event log of `train`.
pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(Sequential::fit(train, params)?))
}

/// Rebuild a fitted `sequential` from its saved state.
pub fn load(state: &ModelState) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(Sequential::from_state(state)?))
}

impl Sequential {
    /// Train on the time-ordered events of `train` (see the module docs).
    pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Self> {
        let cfg = Config::parse(params)?;
        let n_items = train.matrix.n_items();
        if train.events.is_empty() {
            return Err(Error::BadData {
                model: NAME.into(),
                reason: "needs the time-ordered event log (the training data has no events)".into(),
            });
        }
        let steps = user_steps(train);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(cfg.seed);
        let dev = Device::Cpu;

        // examples; with validation, each of up to MAX_VALIDATION users' last step is held out
        let multi: Vec<u32> = (0..steps.len() as u32).filter(|&u| steps[u as usize].len() >= 2).collect();
        if multi.is_empty() {
            return Err(Error::BadData {
                model: NAME.into(),
                reason: "no user has events at two different times, so there is no sequence to learn from".into(),
            });
        }
        let mut valid: Vec<Example> = Vec::new();
        if cfg.patience > 0 {
            let stride = multi.len().div_ceil(MAX_VALIDATION);
            valid = multi
                .iter()
                .step_by(stride)
                .map(|&u| Example {
                    user: u,
                    k: steps[u as usize].len() as u32 - 1,
                    end: steps[u as usize].len() as u32,
                })
                .collect();
        }
        // (user, steps usable for training): steps 1..n are the targets of its examples
        let mut train_users: Vec<(u32, u32)> = Vec::new();
        let mut vi = valid.iter().peekable();
        for &u in &multi {
            let mut n = steps[u as usize].len() as u32;
            if vi.peek().is_some_and(|v| v.user == u) {
                vi.next();
                n -= 1;
            }
            if n >= 2 {
                train_users.push((u, n));
            }
        }
        if train_users.is_empty() {
            return Err(Error::BadData {
                model: NAME.into(),
                reason: "too few steps per user to train and validate; set patience=0 to train without validation"
                    .into(),
            });
        }

        let shapes = weight_shapes(&cfg, n_items);
        let mut vars = Vec::with_capacity(shapes.len());
        for (name, shape) in &shapes {
            let v = init_values(name, shape, &mut rng);
            vars.push(Var::from_tensor(&Tensor::from_vec(v, shape.as_slice(), &dev).map_err(cerr)?).map_err(cerr)?);
        }
        let names: Vec<String> = shapes.iter().map(|(n, _)| n.clone()).collect();
        let mut opt = AdamW::new(
            vars.clone(),
            ParamsAdamW { lr: cfg.lr, weight_decay: cfg.weight_decay, ..ParamsAdamW::default() },
        )
        .map_err(cerr)?;
        let snapshot = |vars: &[Var]| -> Result<Weights> {
            let tensors = vars.iter().map(|v| v.as_tensor().copy().map_err(cerr)).collect::<Result<Vec<Tensor>>>()?;
            Ok(Weights { names: names.clone(), tensors })
        };

        let mut sc = Scratch::new(n_items);
        let valid_inputs: Vec<HistoryInput> =
            valid.iter().map(|e| history_input(&steps[e.user as usize][..e.k as usize], &cfg, &mut sc)).collect();
        let bar = progress_bar(cfg.epochs as u64);
        let mut best: Option<(f64, Weights)> = None;
        let mut since_best = 0;
        let mut examples: Vec<Example> = Vec::new();
        for epoch in 0..cfg.epochs {
            // long histories (MovieLens: hundreds of ratings, each its own step) would otherwise
            // dominate the epoch and its cost; a fresh sample each epoch spreads training over all steps
            examples.clear();
            for &(u, n) in &train_users {
                let m = (n - 1) as usize;
                if cfg.per_user == 0 || m <= cfg.per_user {
                    examples.extend((1..n).map(|k| Example { user: u, k, end: n }));
                } else {
                    examples.extend(rand::seq::index::sample(&mut rng, m, cfg.per_user).into_iter().map(|i| Example {
                        user: u,
                        k: i as u32 + 1,
                        end: n,
                    }));
                }
            }
            examples.shuffle(&mut rng);
            let (mut loss_sum, mut loss_n) = (0.0f64, 0usize);
            for (bi, chunk) in examples.chunks(cfg.batch_size).enumerate() {
                let inputs: Vec<HistoryInput> = chunk
                    .iter()
                    .map(|e| history_input(&steps[e.user as usize][..e.k as usize], &cfg, &mut sc))
                    .collect();
                let refs: Vec<&HistoryInput> = inputs.iter().collect();
                let targets: Vec<Vec<u32>> = chunk.iter().map(|e| e.targets(&steps, &cfg)).collect();
                let weights =
                    Weights { names: names.clone(), tensors: vars.iter().map(|v| v.as_tensor().clone()).collect() };
                let loss = train_step(&weights, &cfg, n_items, &refs, &targets, &dev, &mut rng).map_err(cerr)?;
                let grads = loss.backward().map_err(cerr)?;
                opt.step(&grads).map_err(cerr)?;
                let l = loss.to_scalar::<f32>().map_err(cerr)?;
                if !l.is_finite() {
                    return Err(Error::BadData {
                        model: NAME.into(),
                        reason: format!("training diverged (loss {l} in epoch {}); lower lr", epoch + 1),
                    });
                }
                loss_sum += f64::from(l);
                loss_n += 1;
                if bi % 8 == 0 {
                    bar.set_message(format!("epoch {} loss {:.4}", epoch + 1, loss_sum / loss_n as f64));
                }
            }
            let loss = loss_sum / loss_n.max(1) as f64;
            if valid.is_empty() {
                bar.set_message(format!("epoch {} loss {loss:.4}", epoch + 1));
                bar.inc(1);
                continue;
            }
            let w = snapshot(&vars)?;
            let ndcg = validation_ndcg(&w, &cfg, n_items, &valid, &valid_inputs, &steps, &dev)?;
            bar.set_message(format!("epoch {} loss {loss:.4} validation ndcg@10 {ndcg:.4}", epoch + 1));
            bar.inc(1);
            if best.as_ref().is_none_or(|(b, _)| ndcg > *b) {
                best = Some((ndcg, w));
                since_best = 0;
            } else {
                since_best += 1;
                if since_best >= cfg.patience {
                    break;
                }
            }
        }
        bar.finish();
        let weights = match best {
            Some((_, w)) => w,
            None => snapshot(&vars)?,
        };

        // every user's full training history, for score_user
        let mut m = Sequential {
            cfg,
            params: params.clone(),
            n_items,
            frozen: Frozen::new(&weights, &cfg, n_items).map_err(cerr)?,
            weights,
            seq_ptr: vec![0],
            seq: Vec::new(),
            slot_ptr: vec![0],
            slots: Vec::new(),
            feats: Vec::new(),
        };
        for s in &steps {
            let h = history_input(s, &cfg, &mut sc);
            m.seq.extend_from_slice(&h.seq);
            m.slots.extend_from_slice(&h.slots);
            m.feats.extend_from_slice(&h.feats);
            m.seq_ptr.push(m.seq.len() as u64);
            m.slot_ptr.push(m.slots.len() as u64);
        }
        Ok(m)
    }

    /// User `u`'s training history (empty for an unknown user).
    fn user_input(&self, u: usize) -> HistoryRef<'_> {
        if u + 1 >= self.seq_ptr.len() {
            return HistoryRef { seq: &[], slots: &[], feats: &[] };
        }
        let (a, b) = (self.seq_ptr[u] as usize, self.seq_ptr[u + 1] as usize);
        let (c, d) = (self.slot_ptr[u] as usize, self.slot_ptr[u + 1] as usize);
        HistoryRef { seq: &self.seq[a..b], slots: &self.slots[c..d], feats: &self.feats[c * N_FEAT..d * N_FEAT] }
    }

    /// An ad-hoc history as one anonymous session, one step per entry (on the per-thread
    /// counters).
    fn session_input(&self, history: &[(u32, f32)]) -> HistoryInput {
        let steps: Vec<Step> = history
            .iter()
            .filter(|(i, _)| (*i as usize) < self.n_items)
            .map(|&(i, _)| Step { time: 0, items: vec![i] })
            .collect();
        SESSION_SCRATCH.with(|sc| {
            let mut sc = sc.borrow_mut();
            let sc = sc.get_or_insert_with(|| Scratch::new(self.n_items));
            sc.grow(self.n_items);
            history_input(&steps, &self.cfg, sc)
        })
    }

    /// The shapes of every weight array `w.{name}` of a model with these parameters over
    /// `n_items` items (for the tests: a state with random weights).
    #[doc(hidden)]
    pub fn weight_shapes(params: &Params, n_items: usize) -> Result<Vec<(String, Vec<usize>)>> {
        Ok(weight_shapes(&Config::parse(params)?, n_items))
    }

    /// The number of repeat features per history item (the width of the `feats` array).
    #[doc(hidden)]
    pub const REPEAT_FEATURES: usize = N_FEAT;

    /// User `u`'s scores through candle's batched `forward`, the training path: the reference
    /// that the plain-f32 scoring of [`score_user`](Recommender::score_user) must match.
    #[doc(hidden)]
    pub fn candle_scores_user(&self, u: u32) -> Vec<f32> {
        let r = self.user_input(u as usize);
        self.candle_scores(&HistoryInput { seq: r.seq.to_vec(), slots: r.slots.to_vec(), feats: r.feats.to_vec() })
    }

    /// A session's scores through candle's `forward` (the reference of `score_history`).
    #[doc(hidden)]
    pub fn candle_scores_history(&self, history: &[(u32, f32)]) -> Vec<f32> {
        self.candle_scores(&self.session_input(history))
    }

    fn candle_scores(&self, h: &HistoryInput) -> Vec<f32> {
        let run = || {
            let x = make_batch(&[h], &self.cfg, self.n_items, &Device::Cpu)?;
            forward(&self.weights, &self.cfg, self.n_items, &x, &mut Dropout { p: 0.0, rng: None })?
                .flatten_all()?
                .to_vec1::<f32>()
        };
        run().expect("candle's forward on the CPU with the model's own shapes")
    }

    /// Logits of every item after a history, in plain f32 on per-thread buffers.
    fn score_input(&self, h: HistoryRef<'_>, out: &mut [f32]) {
        INFER_SCRATCH.with(|sc| self.frozen.score(h, &mut sc.borrow_mut(), out));
    }

    /// Rebuild the model from its saved state (what [`load`] does, without the box).
    pub fn from_state(s: &ModelState) -> Result<Self> {
        let cfg = Config::parse(&s.params)?;
        let n_items = s.count("n_items")?;
        let n_users = s.count("n_users")?;
        let dev = Device::Cpu;
        let mut names = Vec::new();
        let mut tensors = Vec::new();
        for (name, shape) in weight_shapes(&cfg, n_items) {
            let n: usize = shape.iter().product();
            let v = s.f32s(&format!("w.{name}"), Some(n))?;
            if v.iter().any(|x| !x.is_finite()) {
                return Err(Error::BadState { model: NAME.into(), reason: format!("array `w.{name}` is not finite") });
            }
            tensors.push(Tensor::from_slice(v, shape.as_slice(), &dev).map_err(cerr)?);
            names.push(name);
        }
        let seq_ptr = s.u64s("seq_ptr", Some(n_users + 1))?.to_vec();
        let slot_ptr = s.u64s("slot_ptr", Some(n_users + 1))?.to_vec();
        let seq = s.u32s("seq", seq_ptr.last().map(|&x| x as usize))?.to_vec();
        let slots = s.u32s("slots", slot_ptr.last().map(|&x| x as usize))?.to_vec();
        let feats = s.f32s("feats", Some(slots.len() * N_FEAT))?.to_vec();
        let bad = |r: &str| Err(Error::BadState { model: NAME.into(), reason: r.into() });
        for ptr in [&seq_ptr, &slot_ptr] {
            if ptr[0] != 0 || ptr.windows(2).any(|w| w[0] > w[1]) {
                return bad("user offsets are not increasing from 0");
            }
        }
        if seq_ptr.windows(2).any(|w| (w[1] - w[0]) as usize > cfg.max_len)
            || slot_ptr.windows(2).any(|w| (w[1] - w[0]) as usize > cfg.history)
        {
            return bad("a user history is longer than max_len or history");
        }
        if seq.iter().chain(&slots).any(|&i| i as usize >= n_items) {
            return bad("an item index is out of range");
        }
        let weights = Weights { names, tensors };
        Ok(Sequential {
            cfg,
            params: s.params.clone(),
            n_items,
            frozen: Frozen::new(&weights, &cfg, n_items).map_err(cerr)?,
            weights,
            seq_ptr,
            seq,
            slot_ptr,
            slots,
            feats,
        })
    }

    /// The learned repeat bonus of an item with these history features (what the repeat MLP
    /// adds to its logit).
    fn repeat_bonus(&self, feats: &[f32]) -> f32 {
        let mut hid = [0f32; REPEAT_HIDDEN];
        self.frozen.repeat_bonus(feats, &mut hid)
    }
}

fn train_step(
    w: &Weights,
    cfg: &Config,
    n_items: usize,
    inputs: &[&HistoryInput],
    targets: &[Vec<u32>],
    dev: &Device,
    rng: &mut Xoshiro256PlusPlus,
) -> candle_core::Result<Tensor> {
    let x = make_batch(inputs, cfg, n_items, dev)?;
    let logits = forward(w, cfg, n_items, &x, &mut Dropout { p: cfg.dropout, rng: Some(rng) })?;
    let logp = candle_nn::ops::log_softmax(&logits, D::Minus1)?;
    let tmax = targets.iter().map(|t| t.len()).max().unwrap_or(1);
    let mut idx = vec![0u32; x.b * tmax];
    let mut mask = vec![0f32; x.b * tmax];
    for (r, t) in targets.iter().enumerate() {
        idx[r * tmax..r * tmax + t.len()].copy_from_slice(t);
        mask[r * tmax..r * tmax + t.len()].fill(1.0);
    }
    let total: f32 = mask.iter().sum();
    let idx = Tensor::from_vec(idx, (x.b, tmax), dev)?;
    let mask = Tensor::from_vec(mask, (x.b, tmax), dev)?;
    let picked = logp.gather(&idx, 1)?.mul(&mask)?;
    // mean negative log-likelihood per target item
    picked.sum_all()?.affine(-1.0 / f64::from(total.max(1.0)), 0.0)
}

fn validation_ndcg(
    w: &Weights,
    cfg: &Config,
    n_items: usize,
    valid: &[Example],
    inputs: &[HistoryInput],
    steps: &[Vec<Step>],
    dev: &Device,
) -> Result<f64> {
    let mut sum = 0.0;
    for (chunk, ins) in valid.chunks(cfg.batch_size).zip(inputs.chunks(cfg.batch_size)) {
        let refs: Vec<&HistoryInput> = ins.iter().collect();
        let x = make_batch(&refs, cfg, n_items, dev).map_err(cerr)?;
        let logits = forward(w, cfg, n_items, &x, &mut Dropout { p: 0.0, rng: None })
            .and_then(|t| t.to_vec2::<f32>())
            .map_err(cerr)?;
        for (e, s) in chunk.iter().zip(&logits) {
            sum += ndcg_at_10(s, &e.targets(steps, cfg));
        }
    }
    Ok(sum / valid.len().max(1) as f64)
}

fn progress_bar(epochs: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(epochs);
    bar.set_style(
        indicatif::ProgressStyle::with_template("sequential [{elapsed_precise}] {bar:30} {pos}/{len} epochs  {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

impl Recommender for Sequential {
    fn name(&self) -> &str {
        NAME
    }

    fn n_items(&self) -> usize {
        self.n_items
    }

    fn score_user(&self, user: u32, out: &mut [f32]) {
        self.score_input(self.user_input(user as usize), out);
    }

    fn score_history(&self, history: &[(u32, f32)], out: &mut [f32]) {
        self.score_input(self.session_input(history).as_ref(), out);
    }

    fn explain(&self, history: &[(u32, f32)], item: u32, n: usize) -> Vec<(u32, f32)> {
        // a repeat is explained by the item itself; anything else by the history items whose
        // embeddings are closest to it
        let h = self.session_input(history);
        if let Some(p) = h.slots.iter().position(|&i| i == item) {
            return vec![(item, self.repeat_bonus(&h.feats[p * N_FEAT..(p + 1) * N_FEAT]))];
        }
        let d = self.frozen.dims;
        let row = |i: u32| self.frozen.item_emb.get(i as usize * d..(i as usize + 1) * d).unwrap_or_default();
        let target = row(item);
        let mut out: Vec<(u32, f32)> = h
            .slots
            .iter()
            .map(|&j| (j, row(j).iter().zip(target).map(|(a, b)| a * b).sum::<f32>()))
            .filter(|(_, s)| *s > 0.0)
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(n);
        out
    }

    fn state(&self) -> ModelState {
        let mut s = ModelState::new(NAME, &self.params);
        s.set_scalar("n_items", self.n_items as f64);
        s.set_scalar("n_users", (self.seq_ptr.len() - 1) as f64);
        for (name, t) in self.weights.names.iter().zip(&self.weights.tensors) {
            let v = t.flatten_all().and_then(|t| t.to_vec1::<f32>()).unwrap_or_default();
            s.set(&format!("w.{name}"), StateTensor::F32(v));
        }
        s.set("seq_ptr", StateTensor::U64(self.seq_ptr.clone()));
        s.set("seq", StateTensor::U32(self.seq.clone()));
        s.set("slot_ptr", StateTensor::U64(self.slot_ptr.clone()));
        s.set("slots", StateTensor::U32(self.slots.clone()));
        s.set("feats", StateTensor::F32(self.feats.clone()));
        s
    }
}
