//! Plain `f32` inference helpers: what scoring runs on after training, with no candle tensors
//! (dot products and small dense layers on caller-owned buffers).

use crate::train::Weights;

/// Dot product with eight independent accumulators (so the compiler vectorises it).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// `out[r] = dot(rows[r], v)` for a row-major matrix with `v.len()` columns.
pub fn mat_vec(rows: &[f32], v: &[f32], out: &mut [f32]) {
    let d = v.len();
    for (o, row) in out.iter_mut().zip(rows.chunks_exact(d)) {
        *o = dot(row, v);
    }
}

/// Scale `v` to unit length (left as is when it is zero).
pub fn normalize(v: &mut [f32]) {
    let n = dot(v, v).sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// A dense layer y = W·x + b with W stored `[out, in]` row-major (candle's Linear layout).
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// Input width.
    pub inp: usize,
    /// Output width.
    pub out: usize,
    /// Weights, `out × inp`.
    pub w: Vec<f32>,
    /// Bias, `out`.
    pub b: Vec<f32>,
}

impl Dense {
    /// The layer stored as arrays `w_name` (`[out, in]`) and `b_name` (`[out]`).
    pub fn from_weights(ws: &Weights, w_name: &str, b_name: &str) -> Self {
        let w = ws.get(w_name);
        Dense { out: w.shape[0], inp: w.shape[1], w: w.data.clone(), b: ws.data(b_name).to_vec() }
    }

    /// y = W·x + b.
    pub fn forward(&self, x: &[f32], y: &mut [f32]) {
        for ((o, row), b) in y.iter_mut().zip(self.w.chunks_exact(self.inp)).zip(&self.b) {
            *o = dot(row, x) + b;
        }
    }

    /// dx = Wᵀ·dy (the gradient with respect to the input).
    pub fn backward_input(&self, dy: &[f32], dx: &mut [f32]) {
        dx.fill(0.0);
        for (row, &g) in self.w.chunks_exact(self.inp).zip(dy) {
            for (d, &w) in dx.iter_mut().zip(row) {
                *d += g * w;
            }
        }
    }

    /// The columns `from..to` of W as a layer without bias (a block of a concatenated input).
    pub fn columns(&self, from: usize, to: usize) -> Dense {
        let w = self.w.chunks_exact(self.inp).flat_map(|r| r[from..to].iter().copied()).collect();
        Dense { inp: to - from, out: self.out, w, b: vec![0.0; self.out] }
    }
}

/// ReLU in place.
pub fn relu(v: &mut [f32]) {
    v.iter_mut().for_each(|x| *x = x.max(0.0));
}
