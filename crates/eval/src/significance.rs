//! Offline significance: how much better (or worse) is a model than another on the same test
//! users, and could the difference be luck?
//!
//! **Paired bootstrap over users.** Every metric is a function of per-user terms summed over
//! the users (a mean; F1 of two means; RMSE = √(Σ squared error / Σ ratings)). One resample
//! draws n users with replacement; both models are measured on that same draw, and the
//! difference `other − first` is recorded. With B resamples (seeded, so a run is
//! reproducible):
//! * `diff`: the difference on all users (no resampling);
//! * `ci_low`, `ci_high`: the 2.5 % and 97.5 % percentiles of the B differences (the
//!   percentile interval, linear interpolation between order statistics);
//! * `p_value`: two-sided, by inverting the percentile interval: twice the smaller share of
//!   resampled differences at or below 0 and at or above 0, each counted as (count + 1) /
//!   (B + 1) so it is never 0, capped at 1. Identical models give p = 1; the smallest value
//!   that can be reported is 2 / (B + 1).
//!
//! Every metric uses the same sequence of draws for a given seed, so the intervals of one run
//! are computed on the same resamples.

use daogou_core::SeededRng;
use serde::Serialize;

use crate::metrics::{accuracy, RatingSums, UserMetrics, ACCURACY};
use crate::protocol::{metric_key, Report};
use crate::{Error, Result};

/// How many resamples to draw, and from which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bootstrap {
    /// Number of resamples (B).
    pub resamples: usize,
    /// Seed of the draws.
    pub seed: u64,
}

impl Default for Bootstrap {
    /// 1000 resamples, seed 42.
    fn default() -> Self {
        Bootstrap { resamples: 1000, seed: 42 }
    }
}

/// The difference of one metric between two models on the same users (`other − first`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Difference {
    /// Difference on all users.
    pub diff: f64,
    /// Lower end of the 95 % percentile interval.
    pub ci_low: f64,
    /// Upper end of the 95 % percentile interval.
    pub ci_high: f64,
    /// Two-sided p-value of "no difference".
    pub p_value: f64,
}

/// A metric as a function of its terms summed over `n` users.
pub type Statistic<'a> = &'a dyn Fn(&[f64], usize) -> f64;

/// Paired bootstrap of `statistics` between two models: `first[u]` and `other[u]` are user
/// u's terms under each model (the same users, in the same order, the same number of terms).
/// One [`Difference`] per statistic, all from the same resamples.
pub fn paired_bootstrap(
    first: &[Vec<f64>],
    other: &[Vec<f64>],
    statistics: &[Statistic<'_>],
    boot: &Bootstrap,
) -> Vec<Difference> {
    assert_eq!(first.len(), other.len(), "paired samples");
    let n = first.len();
    if n == 0 {
        let nan = Difference { diff: f64::NAN, ci_low: f64::NAN, ci_high: f64::NAN, p_value: f64::NAN };
        return vec![nan; statistics.len()];
    }
    let width = first[0].len();
    let sum = |rows: &[Vec<f64>]| {
        let mut s = vec![0f64; width];
        for r in rows {
            for (acc, x) in s.iter_mut().zip(r) {
                *acc += x;
            }
        }
        s
    };
    let (all_a, all_b) = (sum(first), sum(other));
    let point: Vec<f64> = statistics.iter().map(|f| f(&all_b, n) - f(&all_a, n)).collect();
    if boot.resamples == 0 {
        let nan = |diff| Difference { diff, ci_low: f64::NAN, ci_high: f64::NAN, p_value: f64::NAN };
        return point.into_iter().map(nan).collect();
    }

    let mut rng = SeededRng::new(boot.seed);
    let mut draws: Vec<Vec<f64>> = vec![Vec::with_capacity(boot.resamples); statistics.len()];
    let (mut sa, mut sb) = (vec![0f64; width], vec![0f64; width]);
    for _ in 0..boot.resamples {
        sa.fill(0.0);
        sb.fill(0.0);
        for _ in 0..n {
            let u = rng.below(n);
            for (acc, x) in sa.iter_mut().zip(&first[u]) {
                *acc += x;
            }
            for (acc, x) in sb.iter_mut().zip(&other[u]) {
                *acc += x;
            }
        }
        for (f, d) in statistics.iter().zip(&mut draws) {
            d.push(f(&sb, n) - f(&sa, n));
        }
    }
    point
        .into_iter()
        .zip(draws)
        .map(|(diff, mut d)| {
            d.sort_by(f64::total_cmp);
            let b = d.len() as f64;
            let at_or_below = d.iter().filter(|&&x| x <= 0.0).count() as f64;
            let at_or_above = d.iter().filter(|&&x| x >= 0.0).count() as f64;
            let p = 2.0 * ((at_or_below + 1.0) / (b + 1.0)).min((at_or_above + 1.0) / (b + 1.0));
            Difference { diff, ci_low: percentile(&d, 0.025), ci_high: percentile(&d, 0.975), p_value: p.min(1.0) }
        })
        .collect()
}

/// The `q` quantile of sorted `x` (linear interpolation between order statistics).
fn percentile(x: &[f64], q: f64) -> f64 {
    let h = (x.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(x.len() - 1);
    x[lo] + (h - lo as f64) * (x[hi] - x[lo])
}

/// Every per-user metric of `other` against `first` (two runs on the same split), by the
/// JSON key of [`Report::to_json`]: the top-N accuracy metrics (`precision@10`, `recall@10`,
/// `f1@10`, `ndcg@10`, `map@10`, `mrr`, `hit_rate@10`) over the users evaluated, and `rmse`,
/// `mae` over the test users when both models predict ratings. Coverage, novelty and
/// diversity are not compared (coverage is no per-user mean).
pub fn compare_reports(first: &Report, other: &Report, boot: &Bootstrap) -> Result<Vec<(String, Difference)>> {
    let users = |r: &Report| r.topn.per_user.iter().map(|u| u.user).collect::<Vec<_>>();
    if users(first) != users(other) || first.topn.k != other.topn.k {
        return Err(Error::Invalid(format!(
            "{} and {} were not evaluated on the same users at the same k",
            first.model, other.model
        )));
    }
    let terms = |r: &Report| r.topn.per_user.iter().map(|u| UserMetrics::terms(u).to_vec()).collect::<Vec<_>>();
    // metric j of the accuracy family, from the summed terms
    let topn: Vec<_> = (0..ACCURACY.len())
        .map(|j| move |s: &[f64], n: usize| accuracy(&s.try_into().expect("six terms"), n)[j])
        .collect();
    let stats: Vec<Statistic<'_>> = topn.iter().map(|f| f as Statistic<'_>).collect();
    let diffs = paired_bootstrap(&terms(first), &terms(other), &stats, boot);
    let mut out: Vec<(String, Difference)> =
        ACCURACY.iter().map(|stem| metric_key(stem, first.topn.k)).zip(diffs).collect();

    if first.rating.is_some() && other.rating.is_some() {
        let rating_users = |r: &Report| r.rating_per_user.iter().map(|(u, _)| *u).collect::<Vec<_>>();
        if rating_users(first) != rating_users(other) {
            return Err(Error::Invalid(format!(
                "{} and {} were not tested on the same ratings",
                first.model, other.model
            )));
        }
        let terms =
            |r: &Report| r.rating_per_user.iter().map(|(_, s)| vec![s.se, s.ae, s.n as f64]).collect::<Vec<_>>();
        let sums = |s: &[f64]| RatingSums { se: s[0], ae: s[1], n: s[2] as usize };
        let rmse = |s: &[f64], _: usize| sums(s).metrics().rmse;
        let mae = |s: &[f64], _: usize| sums(s).metrics().mae;
        let diffs = paired_bootstrap(&terms(first), &terms(other), &[&rmse, &mae], boot);
        out.extend(["rmse", "mae"].map(String::from).into_iter().zip(diffs));
    }
    Ok(out)
}
