//! Fused CPU kernels for the two hot spots of feature-based training, with their gradients.
//!
//! * [`embedding_bag`]: each output row is a weighted sum of table rows (a pooled history, a
//!   bag of title tokens, or one id embedding times its dropout mask). Composed from candle
//!   ops this is `index_select → reshape → broadcast_mul → sum`, which materialises a
//!   `rows × len × dim` tensor forward and several more backward; profiling two-tower on
//!   MovieLens showed those temporaries (and the page faults of allocating them) as most of
//!   the step time.
//! * [`in_batch_softmax_loss`]: the mean softmax cross-entropy of the in-batch logits, with a
//!   per-column bias (the log-Q correction) and the duplicates of each row's positive masked,
//!   in one pass forward and one backward instead of a dozen `B × B` temporaries.
//!
//! On other devices (the `cuda` build) both fall back to the composed candle ops, which are
//! also the reference the tests check the fused kernels against.

use std::sync::{Arc, Mutex};

use candle_core::{bail, CpuStorage, CustomOp1, DType, Layout, Shape, Tensor};

/// The rows of a contiguous f32 CPU tensor.
fn f32_slice<'a>(storage: &'a CpuStorage, layout: &Layout, op: &str) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(data) = storage else { bail!("{op}: expected f32 data") };
    let Some((start, end)) = layout.contiguous_offsets() else { bail!("{op}: expected a contiguous tensor") };
    Ok(&data[start..end])
}

/// A bag: `ids` and `weights` are `rows × len`, row-major; a zero weight is padding.
#[derive(Clone)]
struct Bag {
    ids: Arc<[u32]>,
    weights: Arc<[f32]>,
    len: usize,
}

impl Bag {
    fn rows(&self) -> usize {
        self.ids.len() / self.len
    }
}

impl CustomOp1 for Bag {
    fn name(&self) -> &'static str {
        "embedding-bag"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, d) = layout.shape().dims2()?;
        let table = f32_slice(storage, layout, self.name())?;
        let mut out = vec![0f32; self.rows() * d];
        for ((row, ids), ws) in
            out.chunks_exact_mut(d).zip(self.ids.chunks_exact(self.len)).zip(self.weights.chunks_exact(self.len))
        {
            for (&i, &w) in ids.iter().zip(ws) {
                if w == 0.0 {
                    continue;
                }
                let i = i as usize;
                if i >= n {
                    bail!("embedding-bag: index {i} out of range for a table of {n} rows");
                }
                for (o, &t) in row.iter_mut().zip(&table[i * d..(i + 1) * d]) {
                    *o += w * t;
                }
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((self.rows(), d))))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let n = arg.dim(0)?;
        let grad = grad_res.contiguous()?.apply_op1_no_bwd(&BagGrad { bag: self.clone(), n })?;
        Ok(Some(grad))
    }
}

/// The table gradient of a [`Bag`]: each output gradient row, times its weights, added into
/// the rows it read.
struct BagGrad {
    bag: Bag,
    n: usize,
}

impl CustomOp1 for BagGrad {
    fn name(&self) -> &'static str {
        "embedding-bag-grad"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (_, d) = layout.shape().dims2()?;
        let g = f32_slice(storage, layout, self.name())?;
        let mut out = vec![0f32; self.n * d];
        let b = &self.bag;
        for ((grow, ids), ws) in g.chunks_exact(d).zip(b.ids.chunks_exact(b.len)).zip(b.weights.chunks_exact(b.len)) {
            for (&i, &w) in ids.iter().zip(ws) {
                if w == 0.0 {
                    continue;
                }
                let i = i as usize;
                for (o, &x) in out[i * d..(i + 1) * d].iter_mut().zip(grow) {
                    *o += w * x;
                }
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((self.n, d))))
    }
}

/// `out[r] = Σ_k weights[r·len + k] · table[ids[r·len + k]]`, shape `rows × dim` with
/// `rows = ids.len() / len`; differentiable in `table`. Weights of zero mark padding.
pub fn embedding_bag(table: &Tensor, ids: &[u32], weights: &[f32], len: usize) -> candle_core::Result<Tensor> {
    if ids.len() != weights.len() || len == 0 || ids.len() % len != 0 {
        bail!("embedding-bag: {} ids and {} weights do not make rows of {len}", ids.len(), weights.len());
    }
    if table.device().is_cpu() && table.dtype() == DType::F32 {
        table.apply_op1(Bag { ids: ids.into(), weights: weights.into(), len })
    } else {
        embedding_bag_composed(table, ids, weights, len)
    }
}

/// [`embedding_bag`] from candle's own ops (any device).
pub fn embedding_bag_composed(table: &Tensor, ids: &[u32], weights: &[f32], len: usize) -> candle_core::Result<Tensor> {
    let dev = table.device();
    let (rows, d) = (ids.len() / len, table.dim(1)?);
    let w = Tensor::from_slice(weights, (rows, len, 1), dev)?;
    let gathered = table.index_select(&Tensor::from_slice(ids, ids.len(), dev)?, 0)?.reshape((rows, len, d))?;
    gathered.broadcast_mul(&w)?.sum(1)
}

/// The in-batch softmax loss over `B × B` logits: row `r`'s positive is column `r`; every
/// logit is scaled by `scale` and shifted by `col_bias[c]`; a column `c ≠ r` holding the same
/// item as column `r` (`col_item[c] == col_item[r]`) is left out of row `r`'s softmax.
struct InBatchSoftmax {
    scale: f32,
    col_bias: Vec<f32>,
    /// For each row, the other columns with its item (CSR): few, so kept as a list.
    dup_ptr: Vec<usize>,
    dup_cols: Vec<u32>,
    /// exp(z − row max) and each row's sum, from the forward pass for the backward one.
    cache: Mutex<(Vec<f32>, Vec<f32>)>,
}

impl InBatchSoftmax {
    fn new(scale: f32, col_bias: &[f32], col_item: &[u32]) -> Self {
        let mut by_item: Vec<u32> = (0..col_item.len() as u32).collect();
        by_item.sort_by_key(|&c| (col_item[c as usize], c));
        let mut dups: Vec<Vec<u32>> = vec![Vec::new(); col_item.len()];
        for group in by_item.chunk_by(|&a, &b| col_item[a as usize] == col_item[b as usize]) {
            for &r in group {
                dups[r as usize].extend(group.iter().filter(|&&c| c != r));
            }
        }
        let mut dup_ptr = vec![0];
        let mut dup_cols = Vec::new();
        for d in dups {
            dup_cols.extend(d);
            dup_ptr.push(dup_cols.len());
        }
        InBatchSoftmax { scale, col_bias: col_bias.to_vec(), dup_ptr, dup_cols, cache: Mutex::new((vec![], vec![])) }
    }
}

impl CustomOp1 for InBatchSoftmax {
    fn name(&self) -> &'static str {
        "in-batch-softmax"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (b, c) = layout.shape().dims2()?;
        if b != c || self.col_bias.len() != b {
            bail!("in-batch-softmax: logits {b}×{c} do not match a batch of {}", self.col_bias.len());
        }
        let logits = f32_slice(storage, layout, self.name())?;
        let mut cache = self.cache.lock().expect("not poisoned");
        let (e, sums) = &mut *cache;
        e.resize(b * b, 0.0);
        sums.clear();
        let mut total = 0f64;
        for (r, (l, z)) in logits.chunks_exact(b).zip(e.chunks_exact_mut(b)).enumerate() {
            // plain loops over slices, so that the compiler vectorises them
            for ((z, &l), &bias) in z.iter_mut().zip(l).zip(&self.col_bias) {
                *z = l * self.scale + bias;
            }
            for &c in &self.dup_cols[self.dup_ptr[r]..self.dup_ptr[r + 1]] {
                z[c as usize] = f32::NEG_INFINITY;
            }
            let max = z.iter().fold(f32::NEG_INFINITY, |m, &x| if x > m { x } else { m });
            let target = z[r];
            let mut sum = 0f32;
            for x in z.iter_mut() {
                *x = (*x - max).exp(); // exp(−∞) = 0 for the left-out columns
                sum += *x;
            }
            sums.push(sum);
            total += f64::from(max + sum.ln() - target);
        }
        Ok((CpuStorage::F32(vec![(total / b as f64) as f32]), Shape::from(())))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> candle_core::Result<Option<Tensor>> {
        // d loss / d logits = g · scale / B · (softmax − one-hot of the diagonal)
        let g = grad_res.to_dtype(DType::F32)?.to_scalar::<f32>()?;
        let b = self.col_bias.len();
        let cache = self.cache.lock().expect("not poisoned");
        let (e, sums) = &*cache;
        let k = g * self.scale / b as f32;
        let mut out = vec![0f32; b * b];
        for (r, ((o, e), &sum)) in out.chunks_exact_mut(b).zip(e.chunks_exact(b)).zip(sums).enumerate() {
            let ks = k / sum;
            for (o, &x) in o.iter_mut().zip(e) {
                *o = ks * x;
            }
            o[r] -= k;
        }
        Ok(Some(Tensor::from_vec(out, (b, b), arg.device())?))
    }
}

/// Mean over rows of `−log softmax(scale · logits[r] + col_bias)[r]`, where row `r` leaves out
/// the other columns that hold its own item (`col_item`). `logits` is `B × B`; differentiable.
pub fn in_batch_softmax_loss(
    logits: &Tensor,
    scale: f32,
    col_bias: &[f32],
    col_item: &[u32],
) -> candle_core::Result<Tensor> {
    if logits.device().is_cpu() && logits.dtype() == DType::F32 {
        logits.apply_op1(InBatchSoftmax::new(scale, col_bias, col_item))
    } else {
        in_batch_softmax_loss_composed(logits, scale, col_bias, col_item)
    }
}

/// [`in_batch_softmax_loss`] from candle's own ops (any device).
pub fn in_batch_softmax_loss_composed(
    logits: &Tensor,
    scale: f32,
    col_bias: &[f32],
    col_item: &[u32],
) -> candle_core::Result<Tensor> {
    let b = col_item.len();
    let dev = logits.device();
    let mut bias = vec![0f32; b * b];
    for (r, row) in bias.chunks_exact_mut(b).enumerate() {
        for (c, x) in row.iter_mut().enumerate() {
            *x = if c != r && col_item[c] == col_item[r] { -1e4 } else { col_bias[c] };
        }
    }
    let z = ((logits * f64::from(scale))? + Tensor::from_vec(bias, (b, b), dev)?)?;
    candle_nn::loss::cross_entropy(&z, &Tensor::arange(0u32, b as u32, dev)?)
}
