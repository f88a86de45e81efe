//! `ease`: Embarrassingly Shallow Autoencoder (Steck 2019), a dense item×item linear model.
//!
//! With X the users×items matrix (1 for every positive pair with `binary=true`, the default;
//! the positive values otherwise) and G = XᵀX, EASE solves
//!
//! min_B ‖X − XB‖² + λ‖B‖² subject to diag(B) = 0
//!
//! in closed form: P = (G + λI)⁻¹ and B = I − P·diagMat(1/diag(P)), i.e. B_ij = −P_ij / P_jj
//! for i ≠ j and B_ii = 0. A user's scores are x_u·B: s_j = Σ_{i∈history} x_ui B_ij.
//!
//! **Fitting.** G (lower triangle) is accumulated from the sparse rows in parallel over
//! items, λ (`lambda`) is added to its diagonal, and the inverse is taken with faer in f64:
//! Cholesky G + λI = LLᵀ in place, L⁻¹, then P = L⁻ᵀL⁻¹; B is kept in f32 (row-major,
//! n_items² × 4 bytes). The peak is two dense n×n f64 matrices, about 16·n_items² bytes.
//! The model therefore refuses a catalogue with more than `max_items` items (default 30000)
//! or one whose matrices would not fit in the memory the system reports available
//! (`MemAvailable` in /proc/meminfo, where readable), with a [`Error::BadData`] that says how
//! many items would fit.
//!
//! **Scoring** an ad-hoc history is the same product with the history as x (no fold-in is
//! needed: EASE has no user parameters). A history without positive items gets the training
//! popularity. **Explanations** are exact: history item j contributes x_j·B_ji to item i's
//! score. **Similar items** of i are the largest B_ij (the items that i's presence predicts).
//!
//! The default λ = 300 was chosen on MovieLens-100k u1 (ratings ≥ 4) and Online Retail (time
//! split 2011-11-09) together (see `bench/compare_implicit.py`): NDCG@10 was flat within 1 %
//! for λ in 200–500 on both.

use daogou_core::{Interactions, Params};
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{cholesky_in_place, cholesky_in_place_scratch};
use faer::linalg::matmul::triangular::{matmul, BlockStructure};
use faer::linalg::triangular_inverse::invert_lower_triangular;
use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

use crate::als::{axpy_rows, popularity_fraction};
use crate::sim::{check_finite, clean_history, get_at_least, get_bool, get_nonneg, keep_top};
use crate::{check_params, Error, ModelState, Recommender, Result, Tensor, TrainData};

/// Parameters of `ease` with their meaning and default.
pub const PARAMS: &[(&str, &str)] = &[
    ("lambda", "L2 penalty λ added to the diagonal of XᵀX (default 300)"),
    ("binary", "use 1 for every positive pair instead of its value (default true)"),
    ("max_items", "refuse larger catalogues: EASE needs ≈ 16·n_items² bytes (default 30000)"),
];

const MODEL: &str = "ease";

/// Bytes needed per squared item at the peak of the fit (two dense f64 matrices).
const BYTES_PER_ITEM2: f64 = 16.0;

/// EASE; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Ease {
    n_items: usize,
    binary: bool,
    /// The training matrix (for `score_user`).
    m: Interactions,
    /// B, n_items × n_items row-major.
    pub b: Vec<f32>,
    pop_frac: Vec<f32>,
}

pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(Ease::fit(train, params)?))
}

pub fn load(s: &ModelState) -> Result<Box<dyn Recommender>> {
    let m = s.interactions("train")?;
    let n = m.n_items();
    let b = s.f32s("weights", Some(n * n))?.to_vec();
    if b.iter().any(|x| !x.is_finite()) {
        return Err(Error::BadState { model: MODEL.into(), reason: "non-finite weight".into() });
    }
    Ok(Box::new(Ease::assemble(m, s.flag("binary")?, b)))
}

fn bad(reason: String) -> Error {
    Error::BadData { model: MODEL.into(), reason }
}

/// Available memory in bytes (`MemAvailable` of /proc/meminfo), when the system says.
fn mem_available() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

fn gib(bytes: f64) -> String {
    format!("{:.1} GiB", bytes / (1u64 << 30) as f64)
}

/// Error unless the dense matrices for `n` items fit under `max_items` and `available` bytes.
pub fn check_size(n: usize, max_items: usize, available: Option<f64>) -> Result<()> {
    let need = BYTES_PER_ITEM2 * (n as f64) * (n as f64);
    let fit_mem = available.map(|a| (a / BYTES_PER_ITEM2).sqrt().floor() as usize);
    let fit = fit_mem.map_or(max_items, |f| f.min(max_items));
    if n > max_items {
        return Err(bad(format!(
            "{n} items exceed max_items = {max_items}: EASE inverts a dense {n}×{n} matrix (≈ {} at the peak); \
             at most {fit} items fit here{}. Reduce the catalogue (e.g. --k-core) or use als or item-knn",
            gib(need),
            match fit_mem {
                Some(f) if f > max_items =>
                    format!(" (the available memory would hold {f}: raise max_items to use it)"),
                _ => String::new(),
            },
        )));
    }
    if let (Some(avail), Some(f)) = (available, fit_mem) {
        if need > avail {
            return Err(bad(format!(
                "{n} items need ≈ {} for the dense {n}×{n} matrices but only {} is available; at most {f} items \
                 fit. Reduce the catalogue (e.g. --k-core) or use als or item-knn",
                gib(need),
                gib(avail),
            )));
        }
    }
    Ok(())
}

/// The value a positive entry contributes to X (None for entries ≤ 0).
#[inline]
fn x_value(v: f32, binary: bool) -> Option<f32> {
    (v > 0.0 && v.is_finite()).then_some(if binary { 1.0 } else { v })
}

impl Ease {
    /// Fit on `train` (see [`PARAMS`]). On explicit data the ratings are positive weights.
    pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Self> {
        check_params(params, MODEL, &PARAMS.iter().map(|p| p.0).collect::<Vec<_>>())?;
        let lambda = get_nonneg(params, "lambda", 300.0)?;
        if lambda <= 0.0 {
            return Err(Params::invalid("lambda", lambda, "must be > 0").into());
        }
        let binary = get_bool(params, "binary", true)?;
        let max_items: usize = get_at_least(params, "max_items", 30_000, 1)?;
        let m = train.matrix;
        check_finite(MODEL, &m.by_user)?;
        let n = m.n_items();
        check_size(n, max_items, mem_available())?;
        let b = weights(m, lambda, binary)?;
        Ok(Ease::assemble(m.clone(), binary, b))
    }

    fn assemble(m: Interactions, binary: bool, b: Vec<f32>) -> Self {
        let counts: Vec<u32> = (0..m.n_items()).map(|i| m.item_row(i as u32).0.len() as u32).collect();
        Ease { n_items: m.n_items(), binary, pop_frac: popularity_fraction(&counts), b, m }
    }

    /// Row i of B: how much item i in a history adds to every item's score.
    pub fn row(&self, i: u32) -> &[f32] {
        &self.b[i as usize * self.n_items..(i as usize + 1) * self.n_items]
    }

    fn score_rows(&self, idx: &[u32], val: &[f32], out: &mut [f32]) {
        let rows: Vec<(u32, f32)> =
            idx.iter().zip(val).filter_map(|(&i, &v)| x_value(v, self.binary).map(|x| (i, x))).collect();
        if rows.is_empty() {
            out.copy_from_slice(&self.pop_frac);
            return;
        }
        axpy_rows(&rows, &self.b, out);
    }
}

/// B = I − P·diagMat(1/diag(P)) with P = (XᵀX + λI)⁻¹, row-major f32.
fn weights(m: &Interactions, lambda: f64, binary: bool) -> Result<Vec<f32>> {
    let n = m.n_items();
    if n == 0 {
        return Ok(Vec::new());
    }
    let par = Par::rayon(0);
    // G + λI, lower triangle, column-major: column j holds G_ij for i ≥ j.
    let mut g = vec![0f64; n * n];
    g.par_chunks_mut(n).enumerate().for_each(|(j, col)| {
        let (users, xs) = m.item_row(j as u32);
        for (&u, &xj) in users.iter().zip(xs) {
            let Some(xj) = x_value(xj, binary) else { continue };
            let (items, vs) = m.user_row(u);
            let start = items.partition_point(|&i| (i as usize) < j);
            for (&i, &xi) in items[start..].iter().zip(&vs[start..]) {
                if let Some(xi) = x_value(xi, binary) {
                    col[i as usize] += f64::from(xj) * f64::from(xi);
                }
            }
        }
        col[j] += lambda;
    });
    {
        let gm = MatMut::from_column_major_slice_mut(&mut g, n, n);
        let mut mem = MemBuffer::new(cholesky_in_place_scratch::<f64>(n, par, Default::default()));
        cholesky_in_place(gm, Default::default(), par, MemStack::new(&mut mem), Default::default())
            .map_err(|e| bad(format!("XᵀX + λI is not positive definite ({e:?}); increase lambda")))?;
    }
    // L⁻¹ (lower), then P = L⁻ᵀ L⁻¹ (lower triangle)
    let mut linv = vec![0f64; n * n];
    invert_lower_triangular(
        MatMut::from_column_major_slice_mut(&mut linv, n, n),
        MatRef::from_column_major_slice(&g, n, n),
        par,
    );
    drop(g);
    let mut p = vec![0f64; n * n];
    {
        let l = MatRef::from_column_major_slice(&linv, n, n);
        matmul(
            MatMut::from_column_major_slice_mut(&mut p, n, n),
            BlockStructure::TriangularLower,
            Accum::Replace,
            l.transpose(),
            BlockStructure::TriangularUpper,
            l,
            BlockStructure::TriangularLower,
            1.0,
            par,
        );
    }
    drop(linv);
    // P_ij for any i, j from the lower triangle of the column-major p
    let pij = |i: usize, j: usize| if i >= j { p[j * n + i] } else { p[i * n + j] };
    let inv_diag: Vec<f64> = (0..n).map(|j| 1.0 / p[j * n + j]).collect();
    if inv_diag.iter().any(|x| !x.is_finite()) {
        return Err(bad("the inverse has a zero or non-finite diagonal; increase lambda".into()));
    }
    // B row-major in tiles of T×T so that both the reads and the writes stay in cache
    const T: usize = 64;
    let mut b = vec![0f32; n * n];
    b.par_chunks_mut(n * T).enumerate().for_each(|(t, rows)| {
        let i0 = t * T;
        let h = rows.len() / n;
        for j0 in (0..n).step_by(T) {
            for j in j0..(j0 + T).min(n) {
                for r in 0..h {
                    let i = i0 + r;
                    rows[r * n + j] = if i == j { 0.0 } else { (-pij(i, j) * inv_diag[j]) as f32 };
                }
            }
        }
    });
    Ok(b)
}

impl Recommender for Ease {
    fn name(&self) -> &str {
        MODEL
    }

    fn n_items(&self) -> usize {
        self.n_items
    }

    fn score_user(&self, user: u32, out: &mut [f32]) {
        if (user as usize) < self.m.n_users() {
            let (idx, val) = self.m.user_row(user);
            self.score_rows(idx, val, out);
        } else {
            out.copy_from_slice(&self.pop_frac);
        }
    }

    fn score_history(&self, history: &[(u32, f32)], out: &mut [f32]) {
        let (idx, val) = clean_history(history, self.n_items);
        self.score_rows(&idx, &val, out);
    }

    fn similar_items(&self, item: u32, n: usize) -> Option<Vec<(u32, f32)>> {
        if item as usize >= self.n_items {
            return Some(Vec::new());
        }
        let mut c: Vec<(f32, u32, ())> = self
            .row(item)
            .iter()
            .enumerate()
            .filter(|&(j, &w)| w > 0.0 && j as u32 != item)
            .map(|(j, &w)| (w, j as u32, ()))
            .collect();
        keep_top(&mut c, n);
        Some(c.into_iter().map(|(w, j, ())| (j, w)).collect())
    }

    fn explain(&self, history: &[(u32, f32)], item: u32, n: usize) -> Vec<(u32, f32)> {
        if item as usize >= self.n_items {
            return Vec::new();
        }
        let (idx, val) = clean_history(history, self.n_items);
        let mut c: Vec<(f32, u32, ())> = idx
            .iter()
            .zip(&val)
            .filter_map(|(&j, &v)| x_value(v, self.binary).map(|x| (x * self.row(j)[item as usize], j, ())))
            .filter(|c| c.0 > 0.0)
            .collect();
        keep_top(&mut c, n);
        c.into_iter().map(|(w, j, ())| (j, w)).collect()
    }

    fn state(&self) -> ModelState {
        let mut s = ModelState::new(MODEL, &Params::new());
        s.set_interactions("train", &self.m);
        s.set_scalar("binary", f64::from(u8::from(self.binary)));
        s.set("weights", Tensor::F32(self.b.clone()));
        s
    }
}
