//! `category-popularity`: popular items of the categories a user prefers — the baseline a
//! feature-aware model must beat on items nobody has bought yet.
//!
//! With n_i the number of distinct training users of item i, c(i) its category (items without
//! one share a category of their own), and a user's history counted as distinct items:
//!
//! * the user's share of category c, smoothed towards the global share G(c) of all training
//!   pairs by `smoothing` = α pseudo-items: s_u(c) = (h_u(c) + α·G(c)) / (|h_u| + α);
//! * the item's popularity with a category-level prior: q(i) = n_i + `prior` · n̄_c(i), where
//!   n̄_c is the mean n_i over the category's items that have buyers (the overall mean for a
//!   category without any), so an item with no interactions at all (a cold item) still scores
//!   by its category;
//! * score(u, i) = s_u(c(i)) · q(i) / max q.
//!
//! An ad-hoc history is counted the same way (items with a positive value). Explanations name
//! the history items of the recommended item's category.

use daogou_core::{Aggregate, Csr, IdMap, Params};

use crate::sim::{check_finite, get_nonneg};
use crate::{check_params, ModelState, Recommender, Result, Tensor, TrainData};

/// Parameters of `category-popularity` with their meaning and default.
pub const PARAMS: &[(&str, &str)] = &[
    ("smoothing", "pseudo-items spread over the categories by their global share, added to each user's history (default 1)"),
    ("prior", "weight of the category's mean item popularity added to every item's popularity; > 0 ranks cold items (default 1)"),
];

const MODEL: &str = "category-popularity";

/// Category popularity; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct CategoryPopularity {
    /// Category index of every item.
    item_cat: Vec<u32>,
    /// q(i) / max q.
    quality: Vec<f32>,
    /// G(c).
    global: Vec<f64>,
    /// users × categories: distinct training items per category.
    user_cat: Csr,
    smoothing: f64,
}

impl CategoryPopularity {
    /// Fit on `train` (categories from `train.items`).
    pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Self> {
        check_params(params, MODEL, &["smoothing", "prior"])?;
        let smoothing = get_nonneg(params, "smoothing", 1.0)?;
        let prior = get_nonneg(params, "prior", 1.0)?;
        let m = train.matrix;
        check_finite(MODEL, &m.by_user)?;
        let n_items = m.n_items();

        let mut names = IdMap::new();
        let item_cat: Vec<u32> = (0..n_items)
            .map(|i| {
                let c = train.items.get(i).and_then(|it| it.category.as_deref());
                // "\0none" cannot be a real category name read from a file
                names.get_or_insert(c.unwrap_or("\0none"))
            })
            .collect();
        let n_cat = names.len().max(1);

        let buyers: Vec<f64> = (0..n_items).map(|i| m.item_row(i as u32).0.len() as f64).collect();
        let (mut sum, mut with_buyers) = (vec![0f64; n_cat], vec![0usize; n_cat]);
        for (i, &b) in buyers.iter().enumerate() {
            if b > 0.0 {
                sum[item_cat[i] as usize] += b;
                with_buyers[item_cat[i] as usize] += 1;
            }
        }
        let overall = sum.iter().sum::<f64>() / (with_buyers.iter().sum::<usize>().max(1) as f64);
        let mean: Vec<f64> =
            (0..n_cat).map(|c| if with_buyers[c] > 0 { sum[c] / with_buyers[c] as f64 } else { overall }).collect();
        let q: Vec<f64> = buyers.iter().zip(&item_cat).map(|(&b, &c)| b + prior * mean[c as usize]).collect();
        let max_q = q.iter().copied().fold(0.0, f64::max);
        let quality: Vec<f32> = q.iter().map(|&x| if max_q > 0.0 { (x / max_q) as f32 } else { 0.0 }).collect();

        let total = sum.iter().sum::<f64>();
        let global: Vec<f64> = sum.iter().map(|&s| if total > 0.0 { s / total } else { 1.0 / n_cat as f64 }).collect();
        let user_cat = Csr::from_triplets(
            m.n_users(),
            n_cat,
            (0..m.n_users())
                .flat_map(|u| m.user_row(u as u32).0.iter().map(move |&i| (u as u32, i, 1.0f32)))
                .map(|(u, i, one)| (u, item_cat[i as usize], one)),
            Aggregate::Sum,
        );
        Ok(CategoryPopularity { item_cat, quality, global, user_cat, smoothing })
    }

    /// Score every item from a user's counts per category.
    fn score_counts(&self, counts: impl Iterator<Item = (u32, f32)>, out: &mut [f32]) {
        let mut share: Vec<f64> = self.global.iter().map(|&g| self.smoothing * g).collect();
        let mut n = self.smoothing;
        for (c, x) in counts {
            share[c as usize] += f64::from(x);
            n += f64::from(x);
        }
        let share: Vec<f32> = share.iter().map(|&s| if n > 0.0 { (s / n) as f32 } else { 0.0 }).collect();
        for ((o, &c), &q) in out.iter_mut().zip(&self.item_cat).zip(&self.quality) {
            *o = share[c as usize] * q;
        }
    }

    /// Distinct history items with a positive total value.
    fn history_items(&self, history: &[(u32, f32)]) -> Vec<(u32, f32)> {
        let mut by_item: std::collections::BTreeMap<u32, f32> = std::collections::BTreeMap::new();
        for &(i, v) in history.iter().filter(|(i, v)| (*i as usize) < self.item_cat.len() && v.is_finite()) {
            *by_item.entry(i).or_default() += v;
        }
        by_item.into_iter().filter(|&(_, v)| v > 0.0).collect()
    }
}

pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(CategoryPopularity::fit(train, params)?))
}

pub fn load(s: &ModelState) -> Result<Box<dyn Recommender>> {
    let item_cat = s.u32s("item_cat", None)?.to_vec();
    let quality = s.f32s("quality", Some(item_cat.len()))?.to_vec();
    let user_cat = s.csr("user_cat")?;
    let global = s.f64s("global", Some(user_cat.n_cols()))?.to_vec();
    if let Some(&c) = item_cat.iter().find(|&&c| c as usize >= global.len()) {
        let reason = format!("item category {c} is out of range (categories: {})", global.len());
        return Err(crate::Error::BadState { model: MODEL.into(), reason });
    }
    let smoothing = s.scalar("smoothing")?;
    Ok(Box::new(CategoryPopularity { item_cat, quality, global, user_cat, smoothing }))
}

impl Recommender for CategoryPopularity {
    fn name(&self) -> &str {
        MODEL
    }

    fn n_items(&self) -> usize {
        self.item_cat.len()
    }

    fn score_user(&self, user: u32, out: &mut [f32]) {
        let (cats, counts) = if (user as usize) < self.user_cat.n_rows() {
            self.user_cat.row(user as usize)
        } else {
            (&[][..], &[][..])
        };
        self.score_counts(cats.iter().copied().zip(counts.iter().copied()), out);
    }

    fn score_history(&self, history: &[(u32, f32)], out: &mut [f32]) {
        let items = self.history_items(history);
        self.score_counts(items.iter().map(|&(i, _)| (self.item_cat[i as usize], 1.0)), out);
    }

    fn explain(&self, history: &[(u32, f32)], item: u32, n: usize) -> Vec<(u32, f32)> {
        let Some(&c) = self.item_cat.get(item as usize) else { return Vec::new() };
        let mut same: Vec<(u32, f32)> = self
            .history_items(history)
            .into_iter()
            .filter(|&(i, _)| i != item && self.item_cat[i as usize] == c)
            .collect();
        same.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        same.truncate(n);
        same
    }

    fn state(&self) -> ModelState {
        let mut s = ModelState::new(MODEL, &Params::new());
        s.set("item_cat", Tensor::U32(self.item_cat.clone()));
        s.set("quality", Tensor::F32(self.quality.clone()));
        s.set("global", Tensor::F64(self.global.clone()));
        s.set_csr("user_cat", &self.user_cat);
        s.set_scalar("smoothing", self.smoothing);
        s
    }
}
