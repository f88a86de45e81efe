//! `popularity`: the same ranking for everyone, by number of distinct users.

use daogou_core::Params;

use crate::{check_params, ModelState, Recommender, Result, Tensor, TrainData};

/// Non-personalised popularity: an item's score is the number of distinct users who
/// interacted with it (for explicit data: the number of ratings), ties broken by the sum of
/// the values, then by lower item index.
///
/// Scores are `count + f` with `f ∈ [0, 1)` the item's position inside its tie group (so the
/// integer part is the count and the order is exact while counts stay below 2^20 or so).
#[derive(Debug, Clone)]
pub struct Popularity {
    counts: Vec<u32>,
    sums: Vec<f64>,
    scores: Vec<f32>,
}

/// Parameters of `popularity` (none).
pub const PARAMS: &[(&str, &str)] = &[];

impl Popularity {
    /// Fit on `train`.
    pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Self> {
        check_params(params, "popularity", &[])?;
        crate::sim::check_finite("popularity", &train.matrix.by_item)?;
        let m = &train.matrix.by_item;
        let n = m.n_rows();
        let counts: Vec<u32> = (0..n).map(|i| m.row_len(i) as u32).collect();
        let sums: Vec<f64> = (0..n).map(|i| m.row(i).1.iter().map(|&x| f64::from(x)).sum()).collect();
        let mut order: Vec<u32> = (0..n as u32).collect();
        // Ascending by (count, sum), higher index first among exact ties so that lower indices
        // end up with the larger fraction.
        order.sort_by(|&a, &b| {
            let (a, b) = (a as usize, b as usize);
            counts[a].cmp(&counts[b]).then(sums[a].total_cmp(&sums[b])).then(b.cmp(&a))
        });
        let mut scores = vec![0f32; n];
        let mut start = 0;
        while start < n {
            let c = counts[order[start] as usize];
            let mut end = start;
            while end < n && counts[order[end] as usize] == c {
                end += 1;
            }
            let len = (end - start) as f64;
            for (pos, &i) in order[start..end].iter().enumerate() {
                scores[i as usize] = (f64::from(c) + pos as f64 / len) as f32;
            }
            start = end;
        }
        Ok(Popularity { counts, sums, scores })
    }

    /// Number of distinct users of item `i`.
    pub fn count(&self, i: u32) -> u32 {
        self.counts[i as usize]
    }

    /// Sum of the values of item `i`.
    pub fn sum(&self, i: u32) -> f64 {
        self.sums[i as usize]
    }
}

pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(Popularity::fit(train, params)?))
}

pub fn load(s: &ModelState) -> Result<Box<dyn Recommender>> {
    let counts = s.u32s("counts", None)?.to_vec();
    let n = Some(counts.len());
    Ok(Box::new(Popularity { sums: s.f64s("sums", n)?.to_vec(), scores: s.f32s("scores", n)?.to_vec(), counts }))
}

impl Recommender for Popularity {
    fn name(&self) -> &str {
        "popularity"
    }

    fn n_items(&self) -> usize {
        self.scores.len()
    }

    fn score_user(&self, _user: u32, out: &mut [f32]) {
        out.copy_from_slice(&self.scores);
    }

    fn score_history(&self, _history: &[(u32, f32)], out: &mut [f32]) {
        out.copy_from_slice(&self.scores);
    }

    fn state(&self) -> ModelState {
        let mut s = ModelState::new("popularity", &Params::new());
        s.set("counts", Tensor::U32(self.counts.clone()));
        s.set("sums", Tensor::F64(self.sums.clone()));
        s.set("scores", Tensor::F32(self.scores.clone()));
        s
    }
}
