//! Train/test splits and k-fold cross-validation.
//!
//! All splits keep input order inside train and test, and are deterministic for a seed on
//! every platform and version: randomness comes from our own SplitMix64 stream, not from a
//! `rand` generator whose output may change between releases.

use std::fmt;
use std::str::FromStr;

use daogou_core::Interaction;

use crate::time::parse_time;
use crate::{DataError, Result};

/// How to split interactions into train and test.
#[derive(Debug, Clone, PartialEq)]
pub enum Split {
    /// A uniformly random `test_fraction` of all interactions (rounded to the nearest count).
    Random {
        /// in (0, 1)
        test_fraction: f64,
    },
    /// Global time cut: train = `timestamp < cut`, test = `timestamp >= cut`.
    Time {
        /// unix seconds
        cut: i64,
    },
    /// Per user, the latest `test_fraction` of their interactions (by timestamp, ties in input
    /// order) go to test: `round(n × fraction)`, at least 1 and at most `n − 1`, so a user with
    /// a single interaction keeps it in train.
    UserTime {
        /// in (0, 1)
        test_fraction: f64,
    },
    /// Per user, the last `n` interactions (by timestamp, ties in input order) go to test,
    /// always leaving at least one in train.
    LeaveLastN {
        /// at least 1
        n: usize,
    },
    /// Cold items: a seeded `item_fraction` of the items that have interactions (rounded, at
    /// least one, never all) is held out of training entirely: every event on them goes to
    /// test. The other items' events are split by `warm` (default `user-time:0.2`). See
    /// [`cold_items`] for the held-out items.
    ColdItems {
        /// share of items held out, in (0, 1)
        item_fraction: f64,
        /// how the remaining (warm) items' events are split; never `ColdItems` itself
        warm: Box<Split>,
    },
}

/// The warm split of `cold-items:F` when none is given.
#[doc(hidden)]
pub const DEFAULT_WARM: Split = Split::UserTime { test_fraction: 0.2 };

const FORMS: &str =
    "expected one of: random:FRACTION (random:0.2), time:DATE (time:2011-11-09, any date/time format or unix seconds), \
     user-time:FRACTION (user-time:0.2), leave-last:N (leave-last:1, or leave-one-out), \
     cold-items:FRACTION[/SPLIT] (cold-items:0.1, cold-items:0.1/time:2011-11-09)";

impl FromStr for Split {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self> {
        let invalid = |why: &str| DataError::Invalid {
            what: "split",
            input: s.to_owned(),
            expected: if why.is_empty() { FORMS.to_owned() } else { format!("{why}; {FORMS}") },
        };
        let t = s.trim();
        let lower = t.to_ascii_lowercase();
        if matches!(lower.as_str(), "leave-one-out" | "loo" | "leave-last") {
            return Ok(Split::LeaveLastN { n: 1 });
        }
        let (kind, arg) = t.split_once([':', '=']).ok_or_else(|| invalid(""))?;
        let arg = arg.trim();
        let fraction = || -> Result<f64> {
            arg.parse::<f64>().ok().filter(|f| *f > 0.0 && *f < 1.0).ok_or_else(|| {
                invalid(&format!("the test fraction `{arg}` must be a number between 0 and 1 (exclusive)"))
            })
        };
        match kind.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "random" => Ok(Split::Random { test_fraction: fraction()? }),
            "user-time" | "usertime" | "temporal-user" => Ok(Split::UserTime { test_fraction: fraction()? }),
            "time" | "temporal" => {
                let cut =
                    parse_time(arg).ok_or_else(|| invalid(&format!("cannot read `{arg}` as a date or unix time")))?;
                Ok(Split::Time { cut })
            }
            "cold-items" | "cold" => {
                let (f, warm) = match arg.split_once('/') {
                    Some((f, w)) => (f.trim(), w.parse::<Split>()?),
                    None => (arg, DEFAULT_WARM),
                };
                let item_fraction = f.parse::<f64>().ok().filter(|x| *x > 0.0 && *x < 1.0).ok_or_else(|| {
                    invalid(&format!("the cold item fraction `{f}` must be a number between 0 and 1 (exclusive)"))
                })?;
                if matches!(warm, Split::ColdItems { .. }) {
                    return Err(invalid("the warm split of cold-items cannot be cold-items again"));
                }
                Ok(Split::ColdItems { item_fraction, warm: Box::new(warm) })
            }
            "leave-last" | "leave-last-n" | "last" => {
                let n = arg
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| invalid(&format!("`{arg}` is not a whole number of at least 1")))?;
                Ok(Split::LeaveLastN { n })
            }
            _ => Err(invalid(&format!("unknown split `{}`", kind.trim()))),
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Split::Random { test_fraction } => write!(f, "random:{test_fraction}"),
            Split::Time { cut } => write!(f, "time:{cut}"),
            Split::UserTime { test_fraction } => write!(f, "user-time:{test_fraction}"),
            Split::LeaveLastN { n } => write!(f, "leave-last:{n}"),
            Split::ColdItems { item_fraction, warm } => write!(f, "cold-items:{item_fraction}/{warm}"),
        }
    }
}

/// A seeded random permutation of `0..n` (Fisher–Yates).
fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut rng = daogou_core::SplitMix64(seed ^ 0x5DEE_CE66_D1CE_4E5B);
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.below(i + 1);
        p.swap(i, j);
    }
    p
}

fn partition(v: &[Interaction], is_test: &[bool]) -> (Vec<Interaction>, Vec<Interaction>) {
    let n_test = is_test.iter().filter(|t| **t).count();
    let mut train = Vec::with_capacity(v.len() - n_test);
    let mut test = Vec::with_capacity(n_test);
    for (x, &t) in v.iter().zip(is_test) {
        if t {
            test.push(*x);
        } else {
            train.push(*x);
        }
    }
    (train, test)
}

/// Per user, mark the last `count(len)` interactions (by timestamp, ties by input order).
fn per_user_last(v: &[Interaction], count: impl Fn(usize) -> usize) -> Vec<bool> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_unstable_by_key(|&i| (v[i].user, v[i].timestamp, i));
    let mut is_test = vec![false; v.len()];
    for group in order.chunk_by(|&a, &b| v[a].user == v[b].user) {
        let k = count(group.len()).min(group.len().saturating_sub(1));
        for &i in &group[group.len() - k..] {
            is_test[i] = true;
        }
    }
    is_test
}

/// Split into `(train, test)`. Deterministic for a given `seed` (used by `Random` and
/// `ColdItems`).
pub fn split(v: &[Interaction], s: &Split, seed: u64) -> (Vec<Interaction>, Vec<Interaction>) {
    partition(v, &test_mask(v, s, seed))
}

/// The items `cold-items` holds out of training (sorted item indices); empty for the other
/// splits. The same items [`split`] puts in test only, for the same `v` and `seed`.
pub fn cold_items(v: &[Interaction], s: &Split, seed: u64) -> Vec<u32> {
    let Split::ColdItems { item_fraction, .. } = s else { return Vec::new() };
    let mut items: Vec<u32> = v.iter().map(|x| x.item).collect();
    items.sort_unstable();
    items.dedup();
    let n = items.len();
    if n < 2 {
        return Vec::new(); // holding out the only item would leave nothing to train on
    }
    let f = if item_fraction.is_finite() { item_fraction.clamp(0.0, 1.0) } else { 0.0 };
    let n_cold = ((n as f64 * f).round() as usize).clamp(1, n - 1);
    // a seed stream of its own, so the warm split's randomness does not depend on it
    let mut cold: Vec<u32> = permutation(n, seed ^ 0xC01D_17E5_C01D_17E5)[..n_cold].iter().map(|&p| items[p]).collect();
    cold.sort_unstable();
    cold
}

/// Which interactions go to test.
fn test_mask(v: &[Interaction], s: &Split, seed: u64) -> Vec<bool> {
    match *s {
        Split::Random { test_fraction } => {
            let f = if test_fraction.is_finite() { test_fraction.clamp(0.0, 1.0) } else { 0.0 };
            let n_test = ((v.len() as f64) * f).round() as usize;
            let mut is_test = vec![false; v.len()];
            for &i in &permutation(v.len(), seed)[..n_test.min(v.len())] {
                is_test[i] = true;
            }
            is_test
        }
        Split::Time { cut } => v.iter().map(|x| x.timestamp >= cut).collect(),
        Split::UserTime { test_fraction } => {
            let f = if test_fraction.is_finite() { test_fraction.clamp(0.0, 1.0) } else { 0.0 };
            per_user_last(v, |n| if f > 0.0 { ((n as f64 * f).round() as usize).max(1) } else { 0 })
        }
        Split::LeaveLastN { n } => per_user_last(v, |_| n),
        Split::ColdItems { ref warm, .. } => {
            let cold = cold_items(v, s, seed);
            let is_cold: Vec<bool> = v.iter().map(|x| cold.binary_search(&x.item).is_ok()).collect();
            let warm_events: Vec<Interaction> = v.iter().zip(&is_cold).filter(|(_, &c)| !c).map(|(x, _)| *x).collect();
            let mut warm_test = test_mask(&warm_events, warm, seed).into_iter();
            is_cold.iter().map(|&c| c || warm_test.next().expect("one flag per warm event")).collect()
        }
    }
}

/// `k` folds of `(train, test)`: a seeded shuffle deals the interactions round-robin into
/// `k` test folds, so every interaction is in exactly one test fold and fold sizes differ by
/// at most one. `k = 0` gives no folds; `k = 1` gives one fold with everything in test.
pub fn k_fold(v: &[Interaction], k: usize, seed: u64) -> Vec<(Vec<Interaction>, Vec<Interaction>)> {
    if k == 0 {
        return Vec::new();
    }
    let mut fold = vec![0usize; v.len()];
    for (pos, &i) in permutation(v.len(), seed).iter().enumerate() {
        fold[i] = pos % k;
    }
    (0..k)
        .map(|f| {
            let is_test: Vec<bool> = fold.iter().map(|&g| g == f).collect();
            partition(v, &is_test)
        })
        .collect()
}
