//! `buy-again`: the user's own past items, ranked by how often and how recently they were
//! bought; every other item below them in popularity order.
//!
//! For a training user u and an item i in u's training row:
//!
//! * `freq(u,i)` = the number of training events of u on i (returns excluded), or the matrix
//!   value when the training data carries no event log;
//! * `rec(u,i)` = 2^(−(t_u − t_ui) / half_life), with t_ui the time of u's latest event on i
//!   and t_u the time of u's latest event on any item (so each user's latest item has
//!   recency 1); 1 for every item when there is no event log;
//! * score = 2 + (1 − recency)·freq(u,i) / max_j freq(u,j) + recency·rec(u,i).
//!
//! Every other item scores its popularity share count/(max count + 1) ∈ [0, 1), so a list is
//! always full and the past items always come first. An ad-hoc history `(item, value)` is read
//! in order, oldest first: `freq` is the summed positive value of an item and `rec` is
//! (1 + position of its last occurrence) / history length (no timestamps are given).
//!
//! The defaults (half-life 365 days, recency 0.5) were chosen on Online Retail by NDCG@10 on
//! the month before the 2011-11-09 cut, with repeats (`bench/run_retail_repeats.sh`).

use daogou_core::{Csr, EventKind, Params};

use crate::als::popularity_fraction;
use crate::sim::{check_finite, get_nonneg};
use crate::{check_params, ModelState, Recommender, Result, Tensor, TrainData};

/// Parameters of `buy-again` with their meaning and default.
pub(crate) const PARAMS: &[(&str, &str)] = &[
    ("half_life", "recency half-life in days: an item bought this long before the user's latest event counts half as recent (default 365)"),
    ("recency", "weight of recency against frequency, 0 = frequency only, 1 = recency only (default 0.5)"),
];

const MODEL: &str = "buy-again";

/// Default recency half-life in days (chosen on Online Retail, see the module docs).
pub const DEFAULT_HALF_LIFE_DAYS: f64 = 365.0;
/// Default weight of recency against frequency.
pub const DEFAULT_RECENCY: f64 = 0.5;

/// The score of a past item above the popularity tail: `(1 − recency)·freq_share +
/// recency·2^(−age / half-life)`, with `freq_share` the item's count over the user's largest
/// count and `age_seconds` the time from the item's latest event to the user's latest event.
/// Shared with the service's "buy it again" list, so both rank alike.
pub fn past_item_score(freq_share: f64, age_seconds: f64, half_life_days: f64, recency: f64) -> f64 {
    (1.0 - recency) * freq_share + recency * recency_decay(age_seconds, half_life_days)
}

fn recency_decay(age_seconds: f64, half_life_days: f64) -> f64 {
    0.5f64.powf(age_seconds / (half_life_days * 86_400.0))
}

/// Past items get at least this score, above every popularity-tail score (< 1).
const PAST: f32 = 2.0;

/// Buy-again; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct BuyAgain {
    /// users × items: the part of each past item's score above [`PAST`], in [0, 1].
    past: Csr,
    /// Popularity share of every item, in [0, 1).
    tail: Vec<f32>,
    recency: f64,
}

impl BuyAgain {
    /// Fit on `train`.
    pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Self> {
        check_params(params, MODEL, &["half_life", "recency"])?;
        let half_life = get_nonneg(params, "half_life", DEFAULT_HALF_LIFE_DAYS)?;
        if half_life <= 0.0 {
            return Err(daogou_core::Params::invalid("half_life", half_life, "must be more than 0 days").into());
        }
        let recency = get_nonneg(params, "recency", DEFAULT_RECENCY)?;
        if recency > 1.0 {
            return Err(daogou_core::Params::invalid("recency", recency, "must be between 0 and 1").into());
        }
        let m = &train.matrix.by_user;
        check_finite(MODEL, m)?;
        let counts: Vec<u32> = (0..m.n_cols()).map(|i| train.matrix.item_row(i as u32).0.len() as u32).collect();
        let tail = popularity_fraction(&counts);

        // per stored (user, item) entry: event count and latest time
        let (mut freq, mut last) = (vec![0f64; m.nnz()], vec![i64::MIN; m.nnz()]);
        let use_events = !train.events.is_empty();
        if use_events {
            for e in train.events.iter().filter(|e| e.kind != EventKind::Return) {
                if (e.user as usize) >= m.n_rows() {
                    continue;
                }
                let (cols, _) = m.row(e.user as usize);
                if let Ok(p) = cols.binary_search(&e.item) {
                    let at = m.indptr()[e.user as usize] + p;
                    freq[at] += 1.0;
                    last[at] = last[at].max(e.timestamp);
                }
            }
        } else {
            freq.iter_mut().zip(m.data()).for_each(|(f, &v)| *f = f64::from(v));
        }
        let mut data = vec![0f32; m.nnz()];
        for u in 0..m.n_rows() {
            let r = m.indptr()[u]..m.indptr()[u + 1];
            let max_f = freq[r.clone()].iter().copied().fold(0.0, f64::max);
            let now = last[r.clone()].iter().copied().max().unwrap_or(i64::MIN);
            for at in r {
                let f = if max_f > 0.0 { freq[at] / max_f } else { 0.0 };
                data[at] = match (use_events, last[at]) {
                    (false, _) => (1.0 - recency) * f + recency, // no times: every item is recent
                    (true, i64::MIN) => (1.0 - recency) * f,     // no counted event on this item
                    (true, t) => past_item_score(f, (now - t) as f64, half_life, recency),
                } as f32;
            }
        }
        let past = Csr::from_parts(m.n_rows(), m.n_cols(), m.indptr().to_vec(), m.indices().to_vec(), data)
            .expect("same structure as the training matrix");
        Ok(BuyAgain { past, tail, recency })
    }
}

pub(crate) fn fit(train: &TrainData<'_>, params: &Params) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(BuyAgain::fit(train, params)?))
}

pub(crate) fn load(s: &ModelState) -> Result<Box<dyn Recommender>> {
    let past = s.csr("past")?;
    let tail = s.f32s("tail", Some(past.n_cols()))?.to_vec();
    let recency = s.scalar("recency")?;
    if !(0.0..=1.0).contains(&recency) {
        return Err(crate::Error::BadState {
            model: MODEL.into(),
            reason: format!("recency {recency} is not in [0, 1]"),
        });
    }
    Ok(Box::new(BuyAgain { past, tail, recency }))
}

/// An ad-hoc history as `(item, summed positive value, position of last occurrence)`.
fn history_stats(history: &[(u32, f32)], n_items: usize) -> Vec<(u32, f64, usize)> {
    let mut by_item: std::collections::BTreeMap<u32, (f64, usize)> = std::collections::BTreeMap::new();
    for (pos, &(i, v)) in history.iter().enumerate() {
        if (i as usize) < n_items && v.is_finite() {
            let e = by_item.entry(i).or_insert((0.0, 0));
            e.0 += f64::from(v);
            e.1 = pos;
        }
    }
    by_item.into_iter().filter(|(_, (f, _))| *f > 0.0).map(|(i, (f, p))| (i, f, p)).collect()
}

impl Recommender for BuyAgain {
    fn name(&self) -> &str {
        MODEL
    }

    fn n_items(&self) -> usize {
        self.tail.len()
    }

    fn score_user(&self, user: u32, out: &mut [f32]) {
        out.copy_from_slice(&self.tail);
        if (user as usize) < self.past.n_rows() {
            let (items, s) = self.past.row(user as usize);
            for (&i, &s) in items.iter().zip(s) {
                out[i as usize] = PAST + s;
            }
        }
    }

    fn score_history(&self, history: &[(u32, f32)], out: &mut [f32]) {
        out.copy_from_slice(&self.tail);
        let h = history_stats(history, self.tail.len());
        let max_f = h.iter().map(|x| x.1).fold(0.0, f64::max);
        let len = history.len().max(1) as f64;
        for (i, f, pos) in h {
            let rec = (pos + 1) as f64 / len;
            out[i as usize] = PAST + ((1.0 - self.recency) * f / max_f + self.recency * rec) as f32;
        }
    }

    fn explain(&self, history: &[(u32, f32)], item: u32, _n: usize) -> Vec<(u32, f32)> {
        // the reason for buying again is the item itself
        history_stats(history, self.tail.len()).into_iter().filter(|x| x.0 == item).map(|x| (x.0, x.1 as f32)).collect()
    }

    fn state(&self) -> ModelState {
        let mut s = ModelState::new(MODEL, &Params::new());
        s.set_csr("past", &self.past);
        s.set("tail", Tensor::F32(self.tail.clone()));
        s.set_scalar("recency", self.recency);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use daogou_core::{Aggregate, Interaction, Interactions};

    const DAY: i64 = 86_400;

    fn ev(user: u32, item: u32, day: i64) -> Interaction {
        Interaction { timestamp: day * DAY, kind: EventKind::Purchase, ..Interaction::new(user, item, 1.0) }
    }

    fn order(m: &dyn Recommender, user: u32) -> Vec<u32> {
        let mut s = vec![0.0; m.n_items()];
        m.score_user(user, &mut s);
        crate::topk::top_k(&s, m.n_items(), |_| false).iter().map(|x| x.0).collect()
    }

    /// User 0 bought item 1 three times long ago, item 2 once yesterday, item 3 twice last
    /// month; users 1–3 make item 5 the most popular item they do not have.
    fn shop() -> (Vec<Interaction>, Interactions) {
        let mut e = vec![ev(0, 1, 0), ev(0, 1, 1), ev(0, 1, 2), ev(0, 2, 99), ev(0, 3, 60), ev(0, 3, 70)];
        for u in 1..4 {
            e.push(ev(u, 5, 10));
        }
        e.push(ev(1, 4, 10));
        e.push(Interaction { kind: EventKind::Return, ..ev(0, 3, 100) });
        let m = Interactions::from_interactions(4, 7, &e, Aggregate::Sum);
        (e, m)
    }

    #[test]
    fn frequency_recency_and_the_popularity_tail() {
        let (e, m) = shop();
        let t = TrainData::new(&m, false).with_events(&e);
        let by_freq = BuyAgain::fit(&t, &Params::new().with("recency", 0)).unwrap();
        assert_eq!(&order(&by_freq, 0)[..3], &[1, 3, 2]);
        let by_time = BuyAgain::fit(&t, &Params::new().with("recency", 1)).unwrap();
        assert_eq!(&order(&by_time, 0)[..3], &[2, 3, 1]);
        // after the past items: the others by popularity (5 has three users, 4 one)
        assert_eq!(&order(&by_time, 0)[3..5], &[5, 4]);
        let mut s = vec![0.0; 7];
        by_time.score_user(0, &mut s);
        assert!(s[1] >= PAST && s[5] < 1.0);
        // half-life: item 3 was bought 29 days before the latest event, item 1 97 days
        let h = BuyAgain::fit(&t, &Params::new().with("recency", 1).with("half_life", 29)).unwrap();
        h.score_user(0, &mut s);
        assert!((s[3] - PAST - 0.5).abs() < 1e-6, "{s:?}");
        // a user with no history gets popularity only
        let fresh = BuyAgain::fit(&t, &Params::new()).unwrap();
        assert_eq!(order(&fresh, 3)[0], 5);
    }

    #[test]
    fn without_an_event_log_the_matrix_values_are_the_frequency() {
        let e: Vec<Interaction> = [(0, 1, 1.0), (0, 2, 5.0), (0, 3, 2.0), (1, 4, 1.0), (2, 4, 1.0)]
            .iter()
            .map(|&(u, i, v)| Interaction::new(u, i, v))
            .collect();
        let m = Interactions::from_interactions(3, 6, &e, Aggregate::Sum);
        let b = BuyAgain::fit(&TrainData::new(&m, false), &Params::new()).unwrap();
        assert_eq!(&order(&b, 0)[..4], &[2, 3, 1, 4]);
    }

    #[test]
    fn ad_hoc_history_in_order() {
        let (e, m) = shop();
        let t = TrainData::new(&m, false).with_events(&e);
        let b = BuyAgain::fit(&t, &Params::new().with("recency", 1)).unwrap();
        let mut s = vec![0.0; 7];
        b.score_history(&[(3, 1.0), (1, 1.0), (6, 1.0), (99, 1.0)], &mut s);
        let top: Vec<u32> = crate::topk::top_k(&s, 4, |_| false).iter().map(|x| x.0).collect();
        assert_eq!(top, vec![6, 1, 3, 5]);
        let f = BuyAgain::fit(&t, &Params::new().with("recency", 0)).unwrap();
        f.score_history(&[(3, 1.0), (1, 1.0), (3, 1.0), (6, 1.0)], &mut s);
        assert_eq!(crate::topk::top_k(&s, 1, |_| false)[0].0, 3);
        assert_eq!(f.explain(&[(3, 1.0), (1, 2.0)], 1, 3), vec![(1, 2.0)]);
        assert!(f.explain(&[(3, 1.0)], 5, 3).is_empty());
    }

    #[test]
    fn bad_parameters_are_named() {
        let (e, m) = shop();
        let t = TrainData::new(&m, false).with_events(&e);
        for (k, v) in [("recency", "1.5"), ("half_life", "0"), ("half_life", "-3"), ("recency", "x")] {
            let err = BuyAgain::fit(&t, &Params::new().with(k, v)).unwrap_err().to_string();
            assert!(err.contains(k), "{k}={v}: {err}");
        }
    }
}
