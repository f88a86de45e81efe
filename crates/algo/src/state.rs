//! A fitted model's learned state as plain named arrays and numbers, so that it can be written
//! to a model file and loaded back without refitting (see [`crate::model_file`]).
//!
//! Every model implements [`crate::Recommender::state`] and registers a `load` function that
//! rebuilds it from a [`ModelState`]. Loading checks every array it reads (presence, type,
//! length, CSR invariants): a state that does not fit is an [`Error::BadState`], never a
//! half-built model.

use std::collections::BTreeMap;

use daogou_core::{Csr, Interactions, Params};

use crate::{Error, Result};

/// One array of a model state (1-D; shapes are implied by scalars such as `n_items`).
#[derive(Debug, Clone, PartialEq)]
pub enum Tensor {
    /// 32-bit floats (factors, similarities, values).
    F32(Vec<f32>),
    /// 64-bit floats (means, biases).
    F64(Vec<f64>),
    /// 32-bit unsigned integers (indices).
    U32(Vec<u32>),
    /// 64-bit unsigned integers (offsets).
    U64(Vec<u64>),
}

impl Tensor {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Tensor::F32(v) => v.len(),
            Tensor::F64(v) => v.len(),
            Tensor::U32(v) => v.len(),
            Tensor::U64(v) => v.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Type name as in safetensors (`F32`, `F64`, `U32`, `U64`).
    pub fn dtype(&self) -> &'static str {
        match self {
            Tensor::F32(_) => "F32",
            Tensor::F64(_) => "F64",
            Tensor::U32(_) => "U32",
            Tensor::U64(_) => "U64",
        }
    }
}

/// What a fitted model needs to answer again: its name, the parameters it was given, small
/// numbers (`scalars`) and arrays (`tensors`).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelState {
    /// Registered model name.
    pub model: String,
    /// Parameters as given at fit time.
    pub params: Params,
    /// Named numbers (means, flags as 0/1, sizes).
    pub scalars: BTreeMap<String, f64>,
    /// Named arrays.
    pub tensors: BTreeMap<String, Tensor>,
}

impl ModelState {
    /// An empty state for `model`.
    pub fn new(model: &str, params: &Params) -> Self {
        ModelState {
            model: model.to_owned(),
            params: params.clone(),
            scalars: BTreeMap::new(),
            tensors: BTreeMap::new(),
        }
    }

    fn bad(&self, reason: String) -> Error {
        Error::BadState { model: self.model.clone(), reason }
    }

    /// Set a number.
    pub fn set_scalar(&mut self, name: &str, x: f64) {
        self.scalars.insert(name.to_owned(), x);
    }

    /// Set an array.
    pub fn set(&mut self, name: &str, t: Tensor) {
        self.tensors.insert(name.to_owned(), t);
    }

    /// A number that must be present.
    pub fn scalar(&self, name: &str) -> Result<f64> {
        self.scalars.get(name).copied().ok_or_else(|| self.bad(format!("number `{name}` missing")))
    }

    /// A count (non-negative integer) that must be present.
    pub fn count(&self, name: &str) -> Result<usize> {
        let x = self.scalar(name)?;
        if x >= 0.0 && x.fract() == 0.0 && x < 2f64.powi(53) {
            Ok(x as usize)
        } else {
            Err(self.bad(format!("`{name}` = {x} is not a count")))
        }
    }

    /// A flag stored as 0/1.
    pub fn flag(&self, name: &str) -> Result<bool> {
        Ok(self.scalar(name)? != 0.0)
    }

    fn tensor(&self, name: &str) -> Result<&Tensor> {
        self.tensors.get(name).ok_or_else(|| self.bad(format!("array `{name}` missing")))
    }

    fn check_len(&self, name: &str, len: usize, expected: Option<usize>) -> Result<()> {
        match expected {
            Some(n) if n != len => Err(self.bad(format!("array `{name}` has {len} elements, expected {n}"))),
            _ => Ok(()),
        }
    }

    /// An f32 array, optionally of a known length.
    pub fn f32s(&self, name: &str, len: Option<usize>) -> Result<&[f32]> {
        match self.tensor(name)? {
            Tensor::F32(v) => self.check_len(name, v.len(), len).map(|_| v.as_slice()),
            t => Err(self.bad(format!("array `{name}` is {}, expected F32", t.dtype()))),
        }
    }

    /// An f64 array, optionally of a known length.
    pub fn f64s(&self, name: &str, len: Option<usize>) -> Result<&[f64]> {
        match self.tensor(name)? {
            Tensor::F64(v) => self.check_len(name, v.len(), len).map(|_| v.as_slice()),
            t => Err(self.bad(format!("array `{name}` is {}, expected F64", t.dtype()))),
        }
    }

    /// A u32 array, optionally of a known length.
    pub fn u32s(&self, name: &str, len: Option<usize>) -> Result<&[u32]> {
        match self.tensor(name)? {
            Tensor::U32(v) => self.check_len(name, v.len(), len).map(|_| v.as_slice()),
            t => Err(self.bad(format!("array `{name}` is {}, expected U32", t.dtype()))),
        }
    }

    /// A u64 array, optionally of a known length.
    pub fn u64s(&self, name: &str, len: Option<usize>) -> Result<&[u64]> {
        match self.tensor(name)? {
            Tensor::U64(v) => self.check_len(name, v.len(), len).map(|_| v.as_slice()),
            t => Err(self.bad(format!("array `{name}` is {}, expected U64", t.dtype()))),
        }
    }

    /// Store a CSR matrix under `name.*`.
    pub fn set_csr(&mut self, name: &str, m: &Csr) {
        self.set_scalar(&format!("{name}.rows"), m.n_rows() as f64);
        self.set_scalar(&format!("{name}.cols"), m.n_cols() as f64);
        self.set(&format!("{name}.indptr"), Tensor::U64(m.indptr().iter().map(|&x| x as u64).collect()));
        self.set(&format!("{name}.indices"), Tensor::U32(m.indices().to_vec()));
        self.set(&format!("{name}.data"), Tensor::F32(m.data().to_vec()));
    }

    /// Read back a CSR matrix stored with [`Self::set_csr`], checking its invariants.
    pub fn csr(&self, name: &str) -> Result<Csr> {
        let rows = self.count(&format!("{name}.rows"))?;
        let cols = self.count(&format!("{name}.cols"))?;
        let indptr: Vec<usize> =
            self.u64s(&format!("{name}.indptr"), Some(rows + 1))?.iter().map(|&x| x as usize).collect();
        let indices = self.u32s(&format!("{name}.indices"), None)?.to_vec();
        let data = self.f32s(&format!("{name}.data"), Some(indices.len()))?.to_vec();
        Csr::from_parts(rows, cols, indptr, indices, data).map_err(|e| self.bad(format!("matrix `{name}`: {e}")))
    }

    /// Store a training matrix (by user; the by-item side is rebuilt on load).
    pub fn set_interactions(&mut self, name: &str, m: &Interactions) {
        self.set_csr(name, &m.by_user);
    }

    /// Read back a training matrix stored with [`Self::set_interactions`].
    pub fn interactions(&self, name: &str) -> Result<Interactions> {
        Ok(Interactions::from_csr(self.csr(name)?))
    }
}
