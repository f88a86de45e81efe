//! Compressed sparse rows. Only what the models need: build from triplets with duplicate
//! aggregation, row slices, transpose.

use crate::Interaction;

/// How duplicate (row, column) entries are combined when a matrix is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// Add values (implicit weights, quantities).
    Sum,
    /// Keep the value that came last in input order (re-ratings).
    Last,
    /// Keep the largest value.
    Max,
}

/// A sparse matrix in compressed sparse row form; column indices within a row are sorted
/// and unique.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Csr {
    n_rows: usize,
    n_cols: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    data: Vec<f32>,
}

impl Csr {
    /// Build from `(row, col, value)` triplets in any order, combining duplicates with `agg`.
    /// O(nnz + n_rows) plus the per-row column sort.
    pub fn from_triplets(
        n_rows: usize,
        n_cols: usize,
        triplets: impl IntoIterator<Item = (u32, u32, f32)> + Clone,
        agg: Aggregate,
    ) -> Csr {
        // Counting sort by row keeps input order inside each row, which `Last` relies on.
        let mut counts = vec![0usize; n_rows + 1];
        let mut nnz = 0usize;
        for (r, c, _) in triplets.clone() {
            assert!((r as usize) < n_rows && (c as usize) < n_cols, "triplet ({r},{c}) outside {n_rows}x{n_cols}");
            counts[r as usize + 1] += 1;
            nnz += 1;
        }
        for r in 0..n_rows {
            counts[r + 1] += counts[r];
        }
        let mut next = counts.clone();
        let mut cols = vec![0u32; nnz];
        let mut vals = vec![0f32; nnz];
        for (r, c, v) in triplets {
            let p = &mut next[r as usize];
            cols[*p] = c;
            vals[*p] = v;
            *p += 1;
        }
        drop(next);
        // Sort and merge each row in place: the merged row is written at or before where the
        // row started, so the matrix needs no second copy of the triplets.
        let mut indptr = Vec::with_capacity(n_rows + 1);
        indptr.push(0);
        let mut row: Vec<(u32, f32)> = Vec::new();
        let mut w = 0usize;
        for r in 0..n_rows {
            let (s, e) = (counts[r], counts[r + 1]);
            let start = w;
            if cols[s..e].windows(2).all(|p| p[0] < p[1]) {
                // already sorted and unique (a file in row order): move it down
                cols.copy_within(s..e, w);
                vals.copy_within(s..e, w);
                w += e - s;
                indptr.push(w);
                continue;
            }
            row.clear();
            row.extend(cols[s..e].iter().copied().zip(vals[s..e].iter().copied()));
            // stable: equal columns stay in input order
            row.sort_by_key(|p| p.0);
            for &(c, v) in &row {
                if w > start && cols[w - 1] == c {
                    let last = &mut vals[w - 1];
                    *last = match agg {
                        Aggregate::Sum => *last + v,
                        Aggregate::Last => v,
                        Aggregate::Max => last.max(v),
                    };
                } else {
                    cols[w] = c;
                    vals[w] = v;
                    w += 1;
                }
            }
            indptr.push(w);
        }
        drop(row);
        cols.truncate(w);
        vals.truncate(w);
        cols.shrink_to_fit();
        vals.shrink_to_fit();
        Csr { n_rows, n_cols, indptr, indices: cols, data: vals }
    }

    /// Keep only the entries for which `keep(row, col, value)` holds, in place.
    pub fn retain(&mut self, mut keep: impl FnMut(usize, u32, f32) -> bool) {
        let mut w = 0usize;
        for r in 0..self.n_rows {
            let (s, e) = (self.indptr[r], self.indptr[r + 1]);
            self.indptr[r] = w;
            for k in s..e {
                let (c, v) = (self.indices[k], self.data[k]);
                if keep(r, c, v) {
                    self.indices[w] = c;
                    self.data[w] = v;
                    w += 1;
                }
            }
        }
        self.indptr[self.n_rows] = w;
        self.indices.truncate(w);
        self.data.truncate(w);
        self.indices.shrink_to_fit();
        self.data.shrink_to_fit();
    }

    /// Rebuild from raw parts (e.g. read back from a model file), checking every invariant:
    /// `indptr` has `n_rows + 1` non-decreasing entries from 0 to `indices.len()`, data and
    /// indices have the same length, and each row's columns are sorted, unique and `< n_cols`.
    pub fn from_parts(
        n_rows: usize,
        n_cols: usize,
        indptr: Vec<usize>,
        indices: Vec<u32>,
        data: Vec<f32>,
    ) -> Result<Csr, String> {
        if indptr.len() != n_rows + 1 || indptr[0] != 0 || indptr[n_rows] != indices.len() {
            return Err(format!("indptr has {} entries for {n_rows} rows or does not span the data", indptr.len()));
        }
        if data.len() != indices.len() {
            return Err(format!("{} values for {} column indices", data.len(), indices.len()));
        }
        for r in 0..n_rows {
            let (a, b) = (indptr[r], indptr[r + 1]);
            if a > b {
                return Err(format!("indptr decreases at row {r}"));
            }
            let row = &indices[a..b];
            if row.windows(2).any(|w| w[0] >= w[1]) || row.last().is_some_and(|&c| c as usize >= n_cols) {
                return Err(format!("row {r}: columns not sorted, repeated or out of range"));
            }
        }
        Ok(Csr { n_rows, n_cols, indptr, indices, data })
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Column indices and values of row `r`.
    #[inline]
    pub fn row(&self, r: usize) -> (&[u32], &[f32]) {
        let (s, e) = (self.indptr[r], self.indptr[r + 1]);
        (&self.indices[s..e], &self.data[s..e])
    }

    /// Number of entries in row `r`.
    #[inline]
    pub fn row_len(&self, r: usize) -> usize {
        self.indptr[r + 1] - self.indptr[r]
    }

    /// Value at (r, c), if stored (binary search in the row).
    pub fn get(&self, r: usize, c: u32) -> Option<f32> {
        let (cols, vals) = self.row(r);
        cols.binary_search(&c).ok().map(|k| vals[k])
    }

    /// Row pointer array (`n_rows + 1` offsets).
    pub fn indptr(&self) -> &[usize] {
        &self.indptr
    }

    /// All column indices.
    pub fn indices(&self) -> &[u32] {
        &self.indices
    }

    /// All values.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Mutable values (same sparsity pattern), for in-place reweighting.
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// The transpose, in O(nnz + n_cols). Rows of the result are sorted.
    pub fn transpose(&self) -> Csr {
        let mut counts = vec![0usize; self.n_cols + 1];
        for &c in &self.indices {
            counts[c as usize + 1] += 1;
        }
        for c in 0..self.n_cols {
            counts[c + 1] += counts[c];
        }
        let mut next = counts.clone();
        let mut indices = vec![0u32; self.nnz()];
        let mut data = vec![0f32; self.nnz()];
        for r in 0..self.n_rows {
            let (cols, vals) = self.row(r);
            for (&c, &v) in cols.iter().zip(vals) {
                let p = &mut next[c as usize];
                indices[*p] = r as u32;
                data[*p] = v;
                *p += 1;
            }
        }
        Csr { n_rows: self.n_cols, n_cols: self.n_rows, indptr: counts, indices, data }
    }

    /// A copy with every value passed through `f(row, col, value)`.
    pub fn map_values(&self, mut f: impl FnMut(usize, u32, f32) -> f32) -> Csr {
        let mut out = self.clone();
        for r in 0..self.n_rows {
            for k in self.indptr[r]..self.indptr[r + 1] {
                out.data[k] = f(r, self.indices[k], self.data[k]);
            }
        }
        out
    }
}

/// The user×item matrix twice: rows by user and rows by item.
#[derive(Debug, Clone, Default)]
pub struct Interactions {
    /// users × items.
    pub by_user: Csr,
    /// items × users (the transpose).
    pub by_item: Csr,
}

impl Interactions {
    /// Build from mapped interactions, combining repeated (user, item) pairs with `agg`.
    pub fn from_interactions(n_users: usize, n_items: usize, data: &[Interaction], agg: Aggregate) -> Self {
        let by_user = Csr::from_triplets(n_users, n_items, data.iter().map(|x| (x.user, x.item, x.value)), agg);
        Self::from_csr(by_user)
    }

    /// Wrap a users × items matrix.
    pub fn from_csr(by_user: Csr) -> Self {
        let by_item = by_user.transpose();
        Interactions { by_user, by_item }
    }

    /// Number of users (rows).
    pub fn n_users(&self) -> usize {
        self.by_user.n_rows()
    }

    /// Number of items (columns).
    pub fn n_items(&self) -> usize {
        self.by_user.n_cols()
    }

    /// Number of distinct (user, item) pairs.
    pub fn nnz(&self) -> usize {
        self.by_user.nnz()
    }

    /// Items and values of user `u`.
    #[inline]
    pub fn user_row(&self, u: u32) -> (&[u32], &[f32]) {
        self.by_user.row(u as usize)
    }

    /// Users and values of item `i`.
    #[inline]
    pub fn item_row(&self, i: u32) -> (&[u32], &[f32]) {
        self.by_item.row(i as usize)
    }
}
