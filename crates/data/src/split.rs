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
const DEFAULT_WARM: Split = Split::UserTime { test_fraction: 0.2 };

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

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Vec<Interaction> {
        // 5 users with 1..=5 interactions each, timestamps out of order, some ties.
        let mut v = Vec::new();
        for u in 0..5u32 {
            for j in 0..=u {
                let ts = ((j * 7 + u * 3) % 5) as i64 * 100;
                v.push(Interaction { timestamp: ts, ..Interaction::new(u, j + 10 * u, j as f32) });
            }
        }
        v
    }

    fn key(x: &Interaction) -> (u32, u32) {
        (x.user, x.item)
    }

    fn assert_partition(v: &[Interaction], train: &[Interaction], test: &[Interaction]) {
        assert_eq!(train.len() + test.len(), v.len());
        let mut all: Vec<_> = train.iter().chain(test).map(key).collect();
        all.sort_unstable();
        let mut orig: Vec<_> = v.iter().map(key).collect();
        orig.sort_unstable();
        assert_eq!(all, orig);
        // input order is kept inside each part
        let pos = |x: &Interaction| v.iter().position(|y| key(y) == key(x)).unwrap();
        assert!(train.windows(2).all(|w| pos(&w[0]) < pos(&w[1])));
        assert!(test.windows(2).all(|w| pos(&w[0]) < pos(&w[1])));
    }

    #[test]
    fn parse_forms_and_errors() {
        assert_eq!("random:0.2".parse::<Split>().unwrap(), Split::Random { test_fraction: 0.2 });
        assert_eq!("user-time:0.25".parse::<Split>().unwrap(), Split::UserTime { test_fraction: 0.25 });
        assert_eq!("leave-last:2".parse::<Split>().unwrap(), Split::LeaveLastN { n: 2 });
        assert_eq!("leave-one-out".parse::<Split>().unwrap(), Split::LeaveLastN { n: 1 });
        assert_eq!("time:2011-11-09".parse::<Split>().unwrap(), Split::Time { cut: 1_320_796_800 });
        assert_eq!("time:1320796800".parse::<Split>().unwrap(), Split::Time { cut: 1_320_796_800 });
        for s in [Split::Random { test_fraction: 0.2 }, Split::Time { cut: 5 }, Split::LeaveLastN { n: 3 }] {
            assert_eq!(s.to_string().parse::<Split>().unwrap(), s);
        }
        for bad in ["random", "random:1.5", "random:0", "time:someday", "leave-last:0", "fold:3", ""] {
            let err = bad.parse::<Split>().unwrap_err().to_string();
            assert!(err.contains("random:FRACTION") && err.contains("leave-last:N"), "{bad}: {err}");
        }
        assert!("random:1.5".parse::<Split>().unwrap_err().to_string().contains("between 0 and 1"));
    }

    #[test]
    fn random_is_a_deterministic_partition() {
        let v = data();
        let s = Split::Random { test_fraction: 0.2 };
        let (train, test) = split(&v, &s, 7);
        assert_partition(&v, &train, &test);
        assert_eq!(test.len(), 3); // round(15 × 0.2)
        assert_eq!(split(&v, &s, 7), (train.clone(), test.clone()));
        let others: Vec<_> = (0..20).map(|seed| split(&v, &s, seed).1).collect();
        assert!(others.iter().any(|t| *t != test), "seed has no effect");
        assert_eq!(split(&[], &s, 1), (vec![], vec![]));
    }

    #[test]
    fn time_cut() {
        let v = data();
        let (train, test) = split(&v, &Split::Time { cut: 200 }, 0);
        assert_partition(&v, &train, &test);
        assert!(train.iter().all(|x| x.timestamp < 200) && test.iter().all(|x| x.timestamp >= 200));
        assert!(!train.is_empty() && !test.is_empty());
    }

    #[test]
    fn per_user_time_splits() {
        let v = data();
        for s in [Split::UserTime { test_fraction: 0.3 }, Split::LeaveLastN { n: 1 }, Split::LeaveLastN { n: 3 }] {
            let (train, test) = split(&v, &s, 0);
            assert_partition(&v, &train, &test);
            for u in 0..5u32 {
                let tr: Vec<_> = train.iter().filter(|x| x.user == u).collect();
                let te: Vec<_> = test.iter().filter(|x| x.user == u).collect();
                let n = u as usize + 1;
                assert!(!tr.is_empty(), "{s}: user {u} lost all training data");
                let expect = match s {
                    Split::LeaveLastN { n: k } => k.min(n - 1),
                    _ => ((n as f64 * 0.3).round() as usize).max(1).min(n - 1),
                };
                assert_eq!(te.len(), expect, "{s} user {u}");
                // every test interaction is at least as late as every train one
                let max_tr = tr.iter().map(|x| x.timestamp).max().unwrap();
                assert!(te.iter().all(|x| x.timestamp >= max_tr), "{s} user {u}");
            }
        }
        // ties broken by input order: the later line goes to test
        let v = vec![Interaction::new(0, 1, 1.0), Interaction::new(0, 2, 1.0)];
        let (train, test) = split(&v, &Split::LeaveLastN { n: 1 }, 0);
        assert_eq!((train[0].item, test[0].item), (1, 2));
    }

    #[test]
    fn cold_items_are_held_out_of_training_entirely() {
        // 40 items, 30 users, timestamps increasing with the line
        let v: Vec<Interaction> = (0..600u32)
            .map(|n| Interaction { timestamp: n as i64, ..Interaction::new(n % 30, (n * 7 + n / 30) % 40, 1.0) })
            .collect();
        let s: Split = "cold-items:0.1".parse().unwrap();
        assert_eq!(s, Split::ColdItems { item_fraction: 0.1, warm: Box::new(DEFAULT_WARM) });
        let cold = cold_items(&v, &s, 5);
        assert_eq!(cold.len(), 4, "10% of 40 items");
        let (train, test) = split(&v, &s, 5);
        assert_partition(&v, &train, &test);
        assert!(train.iter().all(|x| cold.binary_search(&x.item).is_err()), "a cold item was trained on");
        let cold_events = v.iter().filter(|x| cold.binary_search(&x.item).is_ok()).count();
        assert_eq!(test.iter().filter(|x| cold.binary_search(&x.item).is_ok()).count(), cold_events);
        // the warm events are split as user-time:0.2 would split them
        let warm: Vec<Interaction> = v.iter().filter(|x| cold.binary_search(&x.item).is_err()).copied().collect();
        let (wtrain, wtest) = split(&warm, &DEFAULT_WARM, 5);
        assert_eq!(train, wtrain);
        assert_eq!(test.len(), wtest.len() + cold_events);
        // seeded: the same seed gives the same items, another seed other items
        assert_eq!(cold_items(&v, &s, 5), cold);
        assert!((0..10).any(|seed| cold_items(&v, &s, seed) != cold));
        // another warm split, written after a slash
        let t: Split = "cold-items:0.25/time:300".parse().unwrap();
        assert_eq!(t.to_string(), "cold-items:0.25/time:300");
        assert_eq!(t.to_string().parse::<Split>().unwrap(), t);
        let cold = cold_items(&v, &t, 1);
        assert_eq!(cold.len(), 10);
        let (train, test) = split(&v, &t, 1);
        assert!(train.iter().all(|x| x.timestamp < 300 && cold.binary_search(&x.item).is_err()));
        assert!(test.iter().all(|x| x.timestamp >= 300 || cold.binary_search(&x.item).is_ok()));
        // other splits hold no item out; one item alone is never held out
        assert!(cold_items(&v, &Split::Random { test_fraction: 0.2 }, 1).is_empty());
        assert!(cold_items(&v[..1], &s, 1).is_empty());
        for bad in ["cold-items:1", "cold-items:0.1/cold-items:0.2", "cold-items:0.1/nope:3", "cold-items:x"] {
            let err = bad.parse::<Split>().unwrap_err().to_string();
            assert!(err.contains("cold-items:FRACTION"), "{bad}: {err}");
        }
    }

    #[test]
    fn k_fold_covers_each_interaction_once() {
        let v = data();
        let folds = k_fold(&v, 4, 3);
        assert_eq!(folds.len(), 4);
        let mut seen = Vec::new();
        for (train, test) in &folds {
            assert_partition(&v, train, test);
            assert!(test.len() == 3 || test.len() == 4);
            seen.extend(test.iter().map(key));
        }
        seen.sort_unstable();
        let mut orig: Vec<_> = v.iter().map(key).collect();
        orig.sort_unstable();
        assert_eq!(seen, orig);
        assert_eq!(k_fold(&v, 4, 3), folds);
        assert!(k_fold(&v, 0, 1).is_empty());
        assert_eq!(k_fold(&v, 1, 1)[0].1.len(), v.len());
    }
}
