//! Training infrastructure shared by the deep models (`ncf`, `two-tower`, `sequential`).
//!
//! The pieces, in the order a model uses them:
//!
//! * [`TrainConfig`]: the common hyperparameters (`learning_rate`, `batch_size`, `epochs`,
//!   `patience`, `weight_decay`, `validation`, `seed`, `device`), read from [`Params`] with
//!   per-model defaults and checked with errors that name the key.
//! * [`Init`]: seeded parameter initialisation on the host (candle's own CPU generator cannot
//!   be seeded), so the same seed gives the same model bit for bit with `RAYON_NUM_THREADS=1`.
//! * [`adamw`]: candle-nn's AdamW configured from the [`TrainConfig`].
//! * Numerically stable losses: [`bce_with_logits`], [`softplus`], [`softmax_cross_entropy`]
//!   (candle-nn's `binary_cross_entropy_with_logit` takes `log(sigmoid(x))` and returns NaN
//!   for large logits).
//! * [`Holdout`]: a validation cut from the training data (each sampled user's last positive
//!   event by time), and [`ndcg_at_k`] over it.
//! * [`run`]: the epoch loop with a progress bar (epoch, loss, validation NDCG@10), early
//!   stopping with `patience`, keeping the snapshot of the best epoch.
//! * [`Weights`]: plain `f32` arrays taken from candle [`Var`]s, saved to and loaded from an
//!   algo [`ModelState`] (and so a model file), and turned back into `Var`s.

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use daogou_algo::{Error, ModelState, Result, Tensor as StateTensor, TrainData};
use daogou_core::{Csr, Interactions, Params};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

/// The keys [`TrainConfig::from_params`] reads, with their meaning (defaults are per model).
pub const TRAIN_KEYS: &[&str] =
    &["learning_rate", "batch_size", "epochs", "patience", "weight_decay", "validation", "seed", "device"];

/// Per-model defaults of the common hyperparameters.
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    /// AdamW step size.
    pub learning_rate: f64,
    /// Training examples per step.
    pub batch_size: usize,
    /// Maximum passes over the data.
    pub epochs: usize,
    /// Epochs without a better validation NDCG before stopping.
    pub patience: usize,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// Users in the validation holdout (0 = no validation, train all epochs).
    pub validation: usize,
}

/// Where tensors live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// The CPU (default; threads from `RAYON_NUM_THREADS`).
    Cpu,
    /// The first CUDA GPU (needs the crate's `cuda` feature).
    Cuda,
}

/// The common hyperparameters of a deep model.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// AdamW step size.
    pub learning_rate: f64,
    /// Training examples per step.
    pub batch_size: usize,
    /// Maximum passes over the data.
    pub epochs: usize,
    /// Epochs without a better validation NDCG@10 before stopping (the best epoch is kept).
    pub patience: usize,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// Users whose last positive event is held out for validation (0 = none).
    pub validation: usize,
    /// Seed of the initial parameters, the sampling and the holdout.
    pub seed: u64,
    /// Where to train.
    pub device: DeviceKind,
}

impl TrainConfig {
    /// Read the keys in [`TRAIN_KEYS`] from `p` (other keys are the model's business).
    pub fn from_params(p: &Params, d: &Defaults) -> Result<Self> {
        let learning_rate: f64 = p.get("learning_rate", d.learning_rate)?;
        if !(learning_rate > 0.0 && learning_rate.is_finite()) {
            return Err(Params::invalid("learning_rate", learning_rate, "must be a positive number").into());
        }
        let batch_size: usize = p.get("batch_size", d.batch_size)?;
        if batch_size == 0 {
            return Err(Params::invalid("batch_size", batch_size, "must be at least 1").into());
        }
        let weight_decay: f64 = p.get("weight_decay", d.weight_decay)?;
        if !(weight_decay >= 0.0 && weight_decay.is_finite()) {
            return Err(Params::invalid("weight_decay", weight_decay, "must be ≥ 0").into());
        }
        let device = match p.raw("device").unwrap_or("cpu") {
            "cpu" => DeviceKind::Cpu,
            "cuda" => DeviceKind::Cuda,
            other => return Err(Params::invalid("device", other, "expected cpu or cuda").into()),
        };
        Ok(TrainConfig {
            learning_rate,
            batch_size,
            epochs: p.get("epochs", d.epochs)?,
            patience: p.get("patience", d.patience)?,
            weight_decay,
            validation: p.get("validation", d.validation)?,
            seed: p.get("seed", 42u64)?,
            device,
        })
    }

    /// The candle device (`cuda` fails clearly when the crate was built without it).
    pub fn device(&self, model: &str) -> Result<Device> {
        match self.device {
            DeviceKind::Cpu => Ok(Device::Cpu),
            DeviceKind::Cuda if cfg!(feature = "cuda") => Device::new_cuda(0).map_err(candle_err(model)),
            DeviceKind::Cuda => Err(Error::BadData {
                model: model.to_owned(),
                reason: "device=cuda needs a build with the `cuda` feature (cargo build --features daogou-nn/cuda)"
                    .into(),
            }),
        }
    }
}

/// Turn a candle error into an algo error naming the model.
pub fn candle_err(model: &str) -> impl Fn(candle_core::Error) -> Error + '_ {
    move |e| Error::BadData { model: model.to_owned(), reason: format!("training failed: {e}") }
}

/// Seeded initialisation of parameters, drawn on the host.
pub struct Init {
    rng: Xoshiro256PlusPlus,
}

impl Init {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Init { rng: Xoshiro256PlusPlus::seed_from_u64(seed) }
    }

    /// The generator (for sampling that must follow the same seed).
    pub fn rng(&mut self) -> &mut Xoshiro256PlusPlus {
        &mut self.rng
    }

    /// A uniform draw in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.rng.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
    }

    /// A uniform index in 0..n (Lemire's multiply-shift).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.rng.next_u64()) * n as u128) >> 64) as usize
    }

    /// Values uniform in [−a, a].
    pub fn uniform_vec(&mut self, n: usize, a: f32) -> Vec<f32> {
        (0..n).map(|_| (2.0 * self.unit() - 1.0) * a).collect()
    }

    /// A variable of `shape` with entries of standard deviation `std` (uniform, so bounded).
    pub fn normal(&mut self, shape: &[usize], std: f32, dev: &Device) -> candle_core::Result<Var> {
        let n = shape.iter().product();
        let data = self.uniform_vec(n, std * 3f32.sqrt());
        Var::from_tensor(&Tensor::from_vec(data, shape, dev)?)
    }

    /// A linear layer's weight `[out, in]` with Glorot-uniform entries.
    pub fn glorot(&mut self, out: usize, inp: usize, dev: &Device) -> candle_core::Result<Var> {
        let a = (6.0 / (inp + out) as f32).sqrt();
        let data = self.uniform_vec(out * inp, a);
        Var::from_tensor(&Tensor::from_vec(data, (out, inp), dev)?)
    }

    /// A variable of zeros.
    pub fn zeros(shape: &[usize], dev: &Device) -> candle_core::Result<Var> {
        Var::zeros(shape, DType::F32, dev)
    }
}

/// candle-nn's AdamW with the configured learning rate and weight decay.
pub fn adamw(vars: Vec<Var>, cfg: &TrainConfig) -> candle_core::Result<AdamW> {
    AdamW::new(vars, ParamsAdamW { lr: cfg.learning_rate, weight_decay: cfg.weight_decay, ..Default::default() })
}

/// softplus(x) = ln(1 + eˣ), computed as relu(x) + ln(1 + e^−|x|) (no overflow, no NaN).
pub fn softplus(x: &Tensor) -> candle_core::Result<Tensor> {
    let tail = ((x.abs()?.neg()?.exp()? + 1.0)?).log()?;
    x.relu()? + tail
}

/// Mean binary cross-entropy of `logits` against 0/1 `targets` (same shape), in the stable
/// form relu(x) − x·y + ln(1 + e^−|x|).
pub fn bce_with_logits(logits: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
    let tail = ((logits.abs()?.neg()?.exp()? + 1.0)?).log()?;
    ((logits.relu()? - (logits * targets)?)? + tail)?.mean_all()
}

/// Mean cross-entropy of row-wise softmax over `logits` `[B, C]` against class indices
/// `targets` `[B]` (u32); stable through log-softmax.
pub fn softmax_cross_entropy(logits: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
    candle_nn::loss::cross_entropy(logits, targets)
}

/// A validation holdout cut from the training data.
#[derive(Debug, Clone)]
pub struct Holdout {
    /// The training matrix without the held-out pairs (what the model trains on).
    pub train: Interactions,
    /// Held-out `(user, item)` pairs, one per validation user, by user.
    pub held: Vec<(u32, u32)>,
}

impl Holdout {
    /// Hold out, for up to `max_users` users (a seeded sample of those with at least two
    /// positive items), the positive item of their latest event (by timestamp; the training
    /// matrix's values decide what is positive). Users without events get a seeded random
    /// positive. `max_users = 0` holds out nothing.
    pub fn last_event(data: &TrainData<'_>, max_users: usize, seed: u64) -> Self {
        let m = data.matrix;
        let n_users = m.n_users();
        let positives = |u: usize| m.user_row(u as u32).1.iter().filter(|&&v| v > 0.0).count();
        let mut eligible: Vec<u32> = (0..n_users).filter(|&u| positives(u) >= 2).map(|u| u as u32).collect();
        let mut init = Init::new(seed ^ 0x005e_ed0f_4a11);
        if eligible.len() > max_users {
            // partial Fisher–Yates: a seeded sample, then back in user order
            for i in 0..max_users {
                let j = i + init.below(eligible.len() - i);
                eligible.swap(i, j);
            }
            eligible.truncate(max_users);
            eligible.sort_unstable();
        }
        let mut chosen: Vec<Option<(i64, u32)>> = vec![None; n_users];
        let mut is_val = vec![false; n_users];
        for &u in &eligible {
            is_val[u as usize] = true;
        }
        for e in data.events {
            let u = e.user as usize;
            if u >= n_users || !is_val[u] || m.by_user.get(u, e.item).is_none_or(|v| v <= 0.0) {
                continue;
            }
            let key = (e.timestamp, e.item);
            if chosen[u].is_none_or(|c| key > c) {
                chosen[u] = Some(key);
            }
        }
        let mut held = Vec::with_capacity(eligible.len());
        for &u in &eligible {
            let item = match chosen[u as usize] {
                Some((_, i)) => i,
                None => {
                    let (items, vals) = m.user_row(u);
                    let pos: Vec<u32> = items.iter().zip(vals).filter(|(_, &v)| v > 0.0).map(|(&i, _)| i).collect();
                    pos[init.below(pos.len())]
                }
            };
            held.push((u, item));
        }
        let by_user = &m.by_user;
        let mut indptr = Vec::with_capacity(n_users + 1);
        let (mut indices, mut values) = (Vec::with_capacity(by_user.nnz()), Vec::with_capacity(by_user.nnz()));
        indptr.push(0);
        let mut h = held.iter().peekable();
        for u in 0..n_users {
            let drop = match h.peek() {
                Some(&&(hu, hi)) if hu as usize == u => {
                    h.next();
                    Some(hi)
                }
                _ => None,
            };
            let (items, vals) = by_user.row(u);
            for (&i, &v) in items.iter().zip(vals) {
                if Some(i) != drop {
                    indices.push(i);
                    values.push(v);
                }
            }
            indptr.push(indices.len());
        }
        let csr = Csr::from_parts(n_users, by_user.n_cols(), indptr, indices, values)
            .expect("a row subset of a valid CSR is valid");
        Holdout { train: Interactions::from_csr(csr), held }
    }

    /// True when nothing is held out.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

/// Mean NDCG@k of the held-out items: each validation user's items are scored by `score`
/// (into a buffer of `n_items`), items of the user's row in `seen` are skipped, and the held
/// item's rank r (0-based; ties go to the lower index) gives 1/log₂(r + 2) when r < k.
pub fn ndcg_at_k(
    held: &[(u32, u32)],
    seen: &Interactions,
    n_items: usize,
    k: usize,
    score: impl Fn(u32, &mut [f32]) + Sync,
) -> f64 {
    if held.is_empty() {
        return 0.0;
    }
    let gains: Vec<f64> = held
        .par_iter()
        .map_init(
            || vec![0f32; n_items],
            |buf, &(u, h)| {
                score(u, buf);
                for &i in seen.user_row(u).0 {
                    buf[i as usize] = f32::NEG_INFINITY;
                }
                let sh = buf[h as usize];
                let mut rank = 0usize;
                for (j, &s) in buf.iter().enumerate() {
                    if j != h as usize && (s > sh || (s == sh && j < h as usize)) {
                        rank += 1;
                        if rank >= k {
                            return 0.0;
                        }
                    }
                }
                1.0 / ((rank + 2) as f64).log2()
            },
        )
        .collect();
    gains.iter().sum::<f64>() / held.len() as f64
}

/// What happened in one epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochLog {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub loss: f64,
    /// Validation NDCG@10 after the epoch (None without a holdout).
    pub ndcg: Option<f64>,
}

/// The outcome of [`run`].
#[derive(Debug, Clone, PartialEq)]
pub struct FitLog {
    /// Every epoch that ran.
    pub epochs: Vec<EpochLog>,
    /// The epoch whose snapshot was kept (1-based; the last one without validation).
    pub best_epoch: usize,
}

/// The epoch loop: for each epoch, `batch(epoch, b)` runs training step `b` of
/// `batches_per_epoch` (0-based epoch and step; a model shuffles at `b == 0`) and returns the
/// step's loss; then `snapshot()` freezes the current parameters into an inference model `S`
/// and `validate(&S)` scores it (NDCG@10 on the holdout, or None without one). Stops after
/// `cfg.patience` epochs without a strictly better score and returns the best snapshot. A
/// non-finite loss stops training with an error that suggests a lower learning rate.
/// Progress (epoch, running loss, last NDCG) goes to a bar on stderr, hidden when stderr is
/// not a terminal.
pub fn run<S>(
    model: &str,
    cfg: &TrainConfig,
    batches_per_epoch: usize,
    mut batch: impl FnMut(usize, usize) -> Result<f32>,
    mut snapshot: impl FnMut() -> Result<S>,
    validate: impl Fn(&S) -> Option<f64>,
) -> Result<(S, FitLog)> {
    let pb = ProgressBar::new((cfg.epochs * batches_per_epoch) as u64);
    pb.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} [{elapsed}<{eta}]")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_prefix(model.to_owned());
    let mut log = FitLog { epochs: Vec::new(), best_epoch: 0 };
    let mut best: Option<(S, Option<f64>)> = None;
    let mut last_ndcg = String::new();
    let mut since_best = 0usize;
    for epoch in 0..cfg.epochs {
        let mut sum = 0f64;
        for b in 0..batches_per_epoch {
            let loss = batch(epoch, b)?;
            if !loss.is_finite() {
                pb.abandon();
                return Err(Error::BadData {
                    model: model.to_owned(),
                    reason: format!(
                        "training diverged (loss {loss} at epoch {}); try a lower learning_rate than {}",
                        epoch + 1,
                        cfg.learning_rate
                    ),
                });
            }
            sum += f64::from(loss);
            pb.inc(1);
            if b % 8 == 0 {
                pb.set_message(format!(
                    "epoch {}/{} loss {:.4}{last_ndcg}",
                    epoch + 1,
                    cfg.epochs,
                    sum / (b + 1) as f64
                ));
            }
        }
        let snap = snapshot()?;
        let ndcg = validate(&snap);
        let loss = sum / batches_per_epoch.max(1) as f64;
        log.epochs.push(EpochLog { epoch: epoch + 1, loss, ndcg });
        if let Some(n) = ndcg {
            last_ndcg = format!(" val ndcg@10 {n:.4}");
        }
        let better = match (&best, ndcg) {
            (None, _) | (_, None) => true,
            (Some((_, Some(b))), Some(n)) => n > *b,
            (Some((_, None)), Some(_)) => true,
        };
        if better {
            best = Some((snap, ndcg));
            log.best_epoch = epoch + 1;
            since_best = 0;
        } else {
            since_best += 1;
            if since_best >= cfg.patience.max(1) {
                break;
            }
        }
    }
    pb.finish_and_clear();
    match best {
        Some((s, _)) => Ok((s, log)),
        None => Ok((snapshot()?, log)),
    }
}

/// One plain array with its shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Dimensions (row-major).
    pub shape: Vec<usize>,
    /// Values.
    pub data: Vec<f32>,
}

/// Named plain `f32` arrays: the bridge between candle [`Var`]s, inference code and the
/// [`ModelState`] of a model file (each array is stored as `w.NAME`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Weights {
    map: BTreeMap<String, Array>,
}

impl Weights {
    /// Copy the current values of named variables to the host.
    pub fn from_vars(named: &[(&str, &Var)]) -> candle_core::Result<Self> {
        let mut map = BTreeMap::new();
        for (name, var) in named {
            let shape = var.dims().to_vec();
            let data = var.as_tensor().flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
            map.insert((*name).to_owned(), Array { shape, data });
        }
        Ok(Weights { map })
    }

    /// Add an array.
    pub fn insert(&mut self, name: &str, shape: Vec<usize>, data: Vec<f32>) {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        self.map.insert(name.to_owned(), Array { shape, data });
    }

    /// The array called `name` (panics when absent: the names are the model's own constants,
    /// and [`Weights::load`] has checked them).
    pub fn get(&self, name: &str) -> &Array {
        self.map.get(name).unwrap_or_else(|| panic!("weights: no array `{name}`"))
    }

    /// The array's values.
    pub fn data(&self, name: &str) -> &[f32] {
        &self.get(name).data
    }

    /// Names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    /// Write every array to `state` as an F32 array `w.NAME`.
    pub fn save(&self, state: &mut ModelState) {
        for (name, a) in &self.map {
            state.set(&format!("w.{name}"), StateTensor::F32(a.data.clone()));
        }
    }

    /// Read the arrays `spec` lists (name and expected shape) from `state`; a missing array,
    /// a wrong length or a non-finite value is an error naming the array.
    pub fn load(state: &ModelState, spec: &[(&str, Vec<usize>)]) -> Result<Self> {
        let mut map = BTreeMap::new();
        for (name, shape) in spec {
            let key = format!("w.{name}");
            let data = state.f32s(&key, Some(shape.iter().product()))?;
            if data.iter().any(|x| !x.is_finite()) {
                return Err(Error::BadState {
                    model: state.model.clone(),
                    reason: format!("array `{key}` is not finite"),
                });
            }
            map.insert((*name).to_owned(), Array { shape: shape.clone(), data: data.to_vec() });
        }
        Ok(Weights { map })
    }

    /// A fresh variable holding array `name` (to continue training a loaded model).
    pub fn to_var(&self, name: &str, dev: &Device) -> candle_core::Result<Var> {
        let a = self.get(name);
        Var::from_tensor(&Tensor::from_vec(a.data.clone(), a.shape.as_slice(), dev)?)
    }
}
