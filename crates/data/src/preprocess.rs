//! Preprocessing of mapped interactions: event weights, deduplication, implicit conversion,
//! time decay, per-user normalisation and k-core filtering.

use std::str::FromStr;

use daogou_core::{EventKind, Interaction};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::{DataError, Result};

/// How much each kind of event says about a user's interest (implicit feedback).
///
/// [`EventWeights::weight`] of an interaction is:
/// * rating: `rating` (the star value is ignored; threshold ratings first, see [`to_implicit`]);
/// * any other kind: the kind's weight × `(1 + ln q)` where `q = |value|` is the quantity or
///   count (`q ≤ 1` gives exactly the kind's weight). The log keeps a wholesale order of 500
///   from drowning everything else (8 × (1 + ln 500) ≈ 58 rather than 4,000), and because the
///   same formula is used for returns (negative weight), returning what was bought cancels it
///   exactly when summed (`Aggregate::Sum`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventWeights {
    /// Product page view.
    pub view: f32,
    /// Click in a list.
    pub click: f32,
    /// Search that led to the item.
    pub search: f32,
    /// Added to cart.
    pub add_to_cart: f32,
    /// Purchase.
    pub purchase: f32,
    /// Return or cancellation (negative: it takes a purchase back).
    pub return_: f32,
    /// Explicit rating (after thresholding).
    pub rating: f32,
}

impl Default for EventWeights {
    /// view 1, click 2, search 0.5, add_to_cart 4, purchase 8, return −8, rating 1.
    fn default() -> Self {
        EventWeights { view: 1.0, click: 2.0, search: 0.5, add_to_cart: 4.0, purchase: 8.0, return_: -8.0, rating: 1.0 }
    }
}

impl EventWeights {
    /// Parse `kind=weight` pairs separated by commas, overriding the defaults:
    /// `"view=1,purchase=10,return=-10"`. Kind names as in [`EventKind`]'s `FromStr`.
    pub fn parse(spec: &str) -> Result<Self> {
        let mut w = EventWeights::default();
        let invalid = |msg: String| DataError::Invalid { what: "event weights", input: spec.to_owned(), expected: msg };
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| invalid(format!("`{pair}` is not kind=weight (e.g. \"view=1,purchase=10\")")))?;
            let kind = EventKind::from_str(k.trim()).map_err(|e| invalid(e.to_string()))?;
            let x: f32 = v
                .trim()
                .parse()
                .ok()
                .filter(|x: &f32| x.is_finite())
                .ok_or_else(|| invalid(format!("weight `{}` for {kind} is not a number", v.trim())))?;
            *w.slot(kind) = x;
        }
        Ok(w)
    }

    fn slot(&mut self, kind: EventKind) -> &mut f32 {
        match kind {
            EventKind::View => &mut self.view,
            EventKind::Click => &mut self.click,
            EventKind::Search => &mut self.search,
            EventKind::AddToCart => &mut self.add_to_cart,
            EventKind::Purchase => &mut self.purchase,
            EventKind::Return => &mut self.return_,
            EventKind::Rating => &mut self.rating,
        }
    }

    /// Every kind with its weight, `view=1,click=2,…` (what [`EventWeights::parse`] reads).
    pub fn spec(&self) -> String {
        EventKind::ALL.iter().map(|&k| format!("{}={}", k.as_str(), self.of(k))).collect::<Vec<_>>().join(",")
    }

    /// The weight of one kind of event.
    pub fn of(&self, kind: EventKind) -> f32 {
        let mut w = *self;
        *w.slot(kind)
    }

    /// The weight of one interaction (see the type's documentation).
    pub fn weight(&self, it: &Interaction) -> f32 {
        let w = self.of(it.kind);
        if it.kind == EventKind::Rating {
            return w;
        }
        let q = it.value.abs();
        if q > 1.0 {
            w * (1.0 + q.ln())
        } else {
            w
        }
    }
}

impl FromStr for EventWeights {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self> {
        EventWeights::parse(s)
    }
}

/// Drop exact duplicates (same user, item, kind, timestamp and value), keeping the first
/// occurrence and the order of the rest. Returns how many were removed.
pub fn dedupe(v: &mut Vec<Interaction>) -> usize {
    let before = v.len();
    let mut seen: FxHashSet<(u32, u32, EventKind, i64, u32)> = FxHashSet::default();
    seen.reserve(v.len());
    v.retain(|x| seen.insert((x.user, x.item, x.kind, x.timestamp, x.value.to_bits())));
    before - v.len()
}

/// Implicit feedback: every interaction's value becomes its [`EventWeights::weight`].
///
/// With `positive_threshold = Some(t)`, ratings below `t` are dropped (a 2-star rating is
/// not a signal of interest); the remaining ratings each weigh `w.rating`. Interactions whose
/// weight is 0 (a kind switched off with `view=0`) are dropped. Negative weights (returns)
/// are kept: sum them per (user, item) with `Aggregate::Sum` and clamp below at 0.
pub fn to_implicit(v: &[Interaction], w: &EventWeights, positive_threshold: Option<f32>) -> Vec<Interaction> {
    v.iter()
        .filter(|x| !(x.kind == EventKind::Rating && positive_threshold.is_some_and(|t| x.value < t)))
        .filter_map(|x| {
            let value = w.weight(x);
            (value != 0.0).then_some(Interaction { value, ..*x })
        })
        .collect()
}

/// Exponential time decay: `value *= 0.5^((now − timestamp) / half_life_secs)`. Events in the
/// future (timestamp > now) are not boosted (age 0). A non-positive or non-finite half-life
/// leaves the values unchanged.
pub fn time_decay(v: &mut [Interaction], half_life_secs: f64, now: i64) {
    if !(half_life_secs.is_finite() && half_life_secs > 0.0) {
        return;
    }
    for x in v {
        x.value = decayed(x.value, x.timestamp, half_life_secs, now);
    }
}

/// `value` of an event at `timestamp`, decayed to `now` (see [`time_decay`]; the half-life must
/// be positive and finite).
pub(crate) fn decayed(value: f32, timestamp: i64, half_life_secs: f64, now: i64) -> f32 {
    let age = (now - timestamp).max(0) as f64;
    (value as f64 * 0.5f64.powf(age / half_life_secs)) as f32
}

fn user_stats(v: &[Interaction]) -> (Vec<f64>, Vec<f64>, Vec<u32>) {
    let n = v.iter().map(|x| x.user as usize + 1).max().unwrap_or(0);
    let (mut sum, mut sq, mut cnt) = (vec![0f64; n], vec![0f64; n], vec![0u32; n]);
    for x in v {
        let u = x.user as usize;
        sum[u] += x.value as f64;
        sq[u] += (x.value as f64) * (x.value as f64);
        cnt[u] += 1;
    }
    (sum, sq, cnt)
}

/// Subtract each user's mean value. Returns the means indexed by user (length = largest user
/// index + 1; users without interactions get 0).
pub fn mean_center(v: &mut [Interaction]) -> Vec<f32> {
    let (sum, _, cnt) = user_stats(v);
    let means: Vec<f32> = sum.iter().zip(&cnt).map(|(s, &c)| if c > 0 { (s / c as f64) as f32 } else { 0.0 }).collect();
    for x in v.iter_mut() {
        x.value -= means[x.user as usize];
    }
    means
}

/// Per-user z-score: `(value − mean) / std` with the population standard deviation; a user
/// whose values are all equal (std 0) is only centred.
pub fn z_score(v: &mut [Interaction]) {
    let (sum, sq, cnt) = user_stats(v);
    let stats: Vec<(f64, f64)> = sum
        .iter()
        .zip(&sq)
        .zip(&cnt)
        .map(|((s, q), &c)| {
            if c == 0 {
                return (0.0, 1.0);
            }
            let mean = s / c as f64;
            let var = (q / c as f64 - mean * mean).max(0.0);
            let sd = var.sqrt();
            (mean, if sd > 1e-9 { sd } else { 1.0 })
        })
        .collect();
    for x in v.iter_mut() {
        let (mean, sd) = stats[x.user as usize];
        x.value = ((x.value as f64 - mean) / sd) as f32;
    }
}

/// k-core filtering: keep only interactions of users with at least `min_user` distinct items
/// and items with at least `min_item` distinct users, repeating until nothing changes.
/// Indices are not renumbered; input order is kept.
pub fn k_core(v: &[Interaction], min_user: usize, min_item: usize) -> Vec<Interaction> {
    // Distinct (user, item) pairs once; the iteration works on those.
    let mut pairs: Vec<(u32, u32)> = v.iter().map(|x| (x.user, x.item)).collect();
    pairs.sort_unstable();
    pairs.dedup();
    let n_users = pairs.iter().map(|p| p.0 as usize + 1).max().unwrap_or(0);
    let n_items = pairs.iter().map(|p| p.1 as usize + 1).max().unwrap_or(0);
    let mut user_ok = vec![true; n_users];
    let mut item_ok = vec![true; n_items];
    let (mut uc, mut ic) = (vec![0usize; n_users], vec![0usize; n_items]);
    loop {
        uc.iter_mut().for_each(|c| *c = 0);
        ic.iter_mut().for_each(|c| *c = 0);
        for &(u, i) in &pairs {
            uc[u as usize] += 1;
            ic[i as usize] += 1;
        }
        let mut changed = false;
        for (ok, &c) in user_ok.iter_mut().zip(&uc) {
            if *ok && c < min_user {
                *ok = false;
                changed = true;
            }
        }
        for (ok, &c) in item_ok.iter_mut().zip(&ic) {
            if *ok && c < min_item {
                *ok = false;
                changed = true;
            }
        }
        if !changed {
            break;
        }
        pairs.retain(|&(u, i)| user_ok[u as usize] && item_ok[i as usize]);
    }
    v.iter().filter(|x| user_ok[x.user as usize] && item_ok[x.item as usize]).copied().collect()
}

/// Count of distinct items per user (a helper for reports and tests).
pub fn distinct_items_per_user(v: &[Interaction]) -> FxHashMap<u32, usize> {
    let mut pairs: Vec<(u32, u32)> = v.iter().map(|x| (x.user, x.item)).collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut m = FxHashMap::default();
    for (u, _) in pairs {
        *m.entry(u).or_insert(0) += 1;
    }
    m
}
