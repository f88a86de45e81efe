//! Shared neighbourhood machinery: one similarity row (an entity against all others) by
//! accumulation over the inverted index, per-thread scratch space, and small helpers the
//! models share (rating range, parameter parsing, fallback scores).
//!
//! The same code serves user-knn (rows = users, inverted index = `by_item`) and item-knn
//! (rows = items, inverted index = `by_user`): for entity `a` with entries `(c, x_ac)`, walk
//! every other entity `b` in the inverted row of `c` and add to `b`'s accumulator. That is
//! O(Σ_c |inv(c)|) per row with O(n) scratch, and never needs a dense n×n matrix.

use std::sync::Mutex;

use daogou_core::{Csr, Params};

use crate::{Error, Result};

/// How two sparse vectors are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimKind {
    /// Σ a_c b_c / sqrt(Σ a_c² · Σ b_c²), all sums over the common support only
    /// (Surprise's `cosine`).
    CoratedCosine,
    /// Pearson correlation over the common support, each side centred on its mean over the
    /// common support (Surprise's `pearson`).
    Pearson,
    /// Σ a_c b_c / (‖a‖ ‖b‖ + shrink_denom), norms over the full vectors (implicit data).
    Cosine,
    /// Σ a_c b_c (no normalisation).
    Dot,
}

/// Similarity settings.
#[derive(Debug, Clone, Copy)]
pub struct SimConfig {
    pub kind: SimKind,
    /// Pairs with fewer common entries than this get no similarity at all.
    pub min_support: u32,
    /// Significance weighting: w *= n / (n + shrink_mult), n = number of common entries.
    pub shrink_mult: f64,
    /// Added to the norm product of [`SimKind::Cosine`].
    pub shrink_denom: f64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    n: u32,
    dot: f64,
    sa: f64,
    sb: f64,
    sqa: f64,
    sqb: f64,
}

/// Per-thread working memory for one similarity row: O(n) for n entities.
#[derive(Debug)]
pub struct Scratch {
    acc: Vec<Acc>,
    /// Entities with at least one common entry with the current row, in first-touch order.
    pub touched: Vec<u32>,
    /// Similarity to each entity; `NEG_INFINITY` = no similarity (no common entry, below
    /// min_support, or the row's own entity). Reset by [`Scratch::clear`].
    pub sim: Vec<f32>,
}

impl Scratch {
    pub fn new(n: usize) -> Self {
        Scratch { acc: vec![Acc::default(); n], touched: Vec::new(), sim: vec![f32::NEG_INFINITY; n] }
    }

    /// Reset the similarities of the last row (O(touched)).
    pub fn clear(&mut self) {
        for &v in &self.touched {
            self.sim[v as usize] = f32::NEG_INFINITY;
        }
        self.touched.clear();
    }
}

/// A pool of [`Scratch`] buffers so concurrent callers (rayon workers, server threads) each
/// get one without allocating O(n) per call. Holds at most one buffer per concurrent caller.
#[derive(Debug)]
pub struct ScratchPool {
    n: usize,
    free: Mutex<Vec<Scratch>>,
}

impl ScratchPool {
    pub fn new(n: usize) -> Self {
        ScratchPool { n, free: Mutex::new(Vec::new()) }
    }

    /// Run `f` with a clean scratch buffer; `f` must leave it clean ([`Scratch::clear`]).
    pub fn with<R>(&self, f: impl FnOnce(&mut Scratch) -> R) -> R {
        let taken = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut s = taken.unwrap_or_else(|| Scratch::new(self.n));
        let r = f(&mut s);
        debug_assert!(s.touched.is_empty(), "scratch returned dirty");
        self.free.lock().unwrap_or_else(|e| e.into_inner()).push(s);
        r
    }
}

/// Similarities of the vector `(idx, val)` (sorted, unique `idx`) to every entity of `inv`'s
/// columns, written to `s.sim` for the entities listed in `s.touched`. `me` is excluded (its
/// own entity index, if it is one). `norm` is ‖row‖ and `norms[b]` ‖b‖ (used by Cosine only).
#[allow(clippy::too_many_arguments)]
pub fn similarity_row(
    cfg: &SimConfig,
    idx: &[u32],
    val: &[f32],
    norm: f64,
    me: Option<u32>,
    inv: &Csr,
    norms: &[f64],
    s: &mut Scratch,
) {
    debug_assert!(s.touched.is_empty());
    let full = matches!(cfg.kind, SimKind::Cosine | SimKind::Dot);
    for (&c, &a) in idx.iter().zip(val) {
        let a = f64::from(a);
        let (bs, bv) = inv.row(c as usize);
        for (&b, &x) in bs.iter().zip(bv) {
            let acc = &mut s.acc[b as usize];
            if acc.n == 0 {
                s.touched.push(b);
            }
            acc.n += 1;
            let x = f64::from(x);
            acc.dot += a * x;
            if !full {
                acc.sa += a;
                acc.sb += x;
                acc.sqa += a * a;
                acc.sqb += x * x;
            }
        }
    }
    let min_support = cfg.min_support.max(1);
    for &b in &s.touched {
        let acc = std::mem::take(&mut s.acc[b as usize]);
        if Some(b) == me || acc.n < min_support {
            continue;
        }
        let n = f64::from(acc.n);
        let mut w = match cfg.kind {
            SimKind::CoratedCosine => {
                let den = (acc.sqa * acc.sqb).sqrt();
                if den > 0.0 {
                    acc.dot / den
                } else {
                    0.0
                }
            }
            SimKind::Pearson => {
                let num = n * acc.dot - acc.sa * acc.sb;
                let den = ((n * acc.sqa - acc.sa * acc.sa) * (n * acc.sqb - acc.sb * acc.sb)).sqrt();
                // den is NaN when rounding makes a variance term negative: treat as no variance.
                if den > 0.0 {
                    num / den
                } else {
                    0.0
                }
            }
            SimKind::Cosine => {
                let den = norm * norms[b as usize] + cfg.shrink_denom;
                if den > 0.0 {
                    acc.dot / den
                } else {
                    0.0
                }
            }
            SimKind::Dot => acc.dot,
        };
        if cfg.shrink_mult > 0.0 {
            w *= n / (n + cfg.shrink_mult);
        }
        s.sim[b as usize] = if w.is_finite() { w as f32 } else { 0.0 };
    }
}

/// Euclidean norm of every row of `m`.
pub fn row_norms(m: &Csr) -> Vec<f64> {
    (0..m.n_rows()).map(|r| m.row(r).1.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt()).collect()
}

/// Mean of every row of `m` (`None` for an empty row).
pub fn row_means(m: &Csr) -> Vec<Option<f64>> {
    (0..m.n_rows())
        .map(|r| {
            let v = m.row(r).1;
            (!v.is_empty()).then(|| v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64)
        })
        .collect()
}

/// Global mean and [min, max] of the stored values; (0, 0, 0) for an empty matrix.
pub fn value_stats(m: &Csr) -> (f64, f32, f32) {
    let d = m.data();
    if d.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let mean = d.iter().map(|&x| f64::from(x)).sum::<f64>() / d.len() as f64;
    let lo = d.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = d.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    (mean, lo, hi)
}

/// Error unless every stored value is finite.
pub fn check_finite(model: &str, m: &Csr) -> Result<()> {
    if m.data().iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(Error::BadData { model: model.to_owned(), reason: "the matrix holds NaN or infinite values".into() })
    }
}

/// A history as sorted unique `(item, value)` columns, dropping items outside `0..n_items`
/// (the last value of a repeated item wins).
pub fn clean_history(history: &[(u32, f32)], n_items: usize) -> (Vec<u32>, Vec<f32>) {
    let mut h: Vec<(u32, f32)> =
        history.iter().copied().filter(|&(i, v)| (i as usize) < n_items && v.is_finite()).collect();
    h.sort_by_key(|&(i, _)| i); // stable: repeated items keep input order
    let mut idx: Vec<u32> = Vec::with_capacity(h.len());
    let mut val: Vec<f32> = Vec::with_capacity(h.len());
    for (i, v) in h {
        if idx.last() == Some(&i) {
            *val.last_mut().unwrap() = v;
        } else {
            idx.push(i);
            val.push(v);
        }
    }
    (idx, val)
}

/// Popularity fraction per item (number of users / (max + 1)), in [0, 1).
pub fn popularity_fraction(by_item: &Csr) -> Vec<f32> {
    let max = (0..by_item.n_rows()).map(|i| by_item.row_len(i)).max().unwrap_or(0);
    (0..by_item.n_rows()).map(|i| (by_item.row_len(i) as f64 / (max as f64 + 1.0)) as f32).collect()
}

/// Replace the `NEG_INFINITY` entries of `out` (items no neighbour reached) with finite
/// scores below every reached item, ordered by popularity: floor − 2 + pop_frac(i).
pub fn fill_unreached(out: &mut [f32], pop_frac: &[f32]) {
    let floor = out.iter().copied().filter(|x| x.is_finite()).fold(0.0f32, f32::min);
    for (o, &p) in out.iter_mut().zip(pop_frac) {
        if !o.is_finite() {
            *o = floor - 2.0 + p;
        }
    }
}

/// Keep the `k` best `(score, id)` candidates, best first (score descending, id ascending on
/// ties: deterministic).
pub fn keep_top<T: Copy>(cand: &mut Vec<(f32, u32, T)>, k: usize) {
    let cmp = |a: &(f32, u32, T), b: &(f32, u32, T)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    if cand.len() > k {
        cand.select_nth_unstable_by(k, cmp);
        cand.truncate(k);
    }
    cand.sort_unstable_by(cmp);
}

/// A parameter that must be ≥ `min`.
pub fn get_at_least<T>(p: &Params, key: &str, default: T, min: T) -> Result<T>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let v = p.get(key, default)?;
    if v < min {
        return Err(Params::invalid(key, v, &format!("must be at least {min}")).into());
    }
    Ok(v)
}

/// A finite, non-negative float parameter.
pub fn get_nonneg(p: &Params, key: &str, default: f64) -> Result<f64> {
    let v: f64 = p.get(key, default)?;
    if !v.is_finite() || v < 0.0 {
        return Err(Params::invalid(key, v, "must be a finite number ≥ 0").into());
    }
    Ok(v)
}

/// A boolean parameter (true/false/1/0/yes/no).
pub fn get_bool(p: &Params, key: &str, default: bool) -> Result<bool> {
    match p.raw(key) {
        None => Ok(default),
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(Params::invalid(key, v, "expected true or false").into()),
        },
    }
}

/// A parameter that must be one of `choices`; returns the chosen one.
pub fn get_choice<'a>(p: &Params, key: &str, default: &'a str, choices: &[&'a str]) -> Result<&'a str> {
    match p.raw(key) {
        None => Ok(default),
        Some(v) => {
            let norm = v.trim().to_ascii_lowercase().replace('-', "_");
            choices
                .iter()
                .copied()
                .find(|c| c.replace('-', "_") == norm)
                .ok_or_else(|| Params::invalid(key, v, &format!("expected one of: {}", choices.join(", "))).into())
        }
    }
}
