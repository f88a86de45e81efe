//! `daogou tune --auto`: the best model for a shop's data within a time budget, for users who
//! just want the best model.
//!
//! Every candidate is fitted on the training part minus a validation split and scored on that
//! split only; the test part is never seen. The search:
//!
//! 1. each applicable model with its defaults, cheapest first ([`SPACES`] order);
//! 2. then random settings drawn from each model's documented ranges ([`SPACES`]), taking turns
//!    among the three best models so far, until the budget is spent. A setting whose model
//!    took longer to fit than the budget has left is not started, so the search ends near the
//!    budget rather than far past it.
//!
//! Which models apply: on explicit ratings (scored by RMSE) the rating models; on implicit
//! data the top-N models, `buy-again` only when repeat purchases are evaluated, models that
//! are not registered (`ranker` and the deep models live in other crates) are skipped, and the
//! deep models are left out (they take minutes each; tune them with `--grid`).

use std::time::{Duration, Instant};

use daogou_core::{Dataset, Interaction, Params, SeededRng};
use serde_json::Value;

use crate::protocol::{evaluate_cold_split, mean_json, EvalOptions, Report};
use crate::tune::{lower_is_better, metric_value, with_seed};
use crate::Result;

/// One searched hyperparameter and its range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    /// Integers, uniform in [lo, hi].
    Int(i64, i64),
    /// Integers, log-uniform in [lo, hi].
    LogInt(i64, i64),
    /// Decimals, uniform in [lo, hi].
    Float(f64, f64),
    /// Decimals, log-uniform in [lo, hi].
    LogFloat(f64, f64),
    /// One of the values.
    Choice(&'static [&'static str]),
}

impl Range {
    #[doc(hidden)]
    pub fn draw(&self, rng: &mut SeededRng) -> String {
        let round = |x: f64| format!("{x:.4}").parse::<f64>().map_or(x.to_string(), |r| r.to_string());
        match *self {
            Range::Int(a, b) => rng.range(a, b).to_string(),
            Range::LogInt(a, b) => {
                let x = ((a as f64).ln() + rng.f64() * ((b as f64).ln() - (a as f64).ln())).exp();
                (x.round() as i64).clamp(a, b).to_string()
            }
            Range::Float(a, b) => round(a + rng.f64() * (b - a)),
            Range::LogFloat(a, b) => round((a.ln() + rng.f64() * (b.ln() - a.ln())).exp()),
            Range::Choice(c) => (*rng.pick(c)).to_owned(),
        }
    }

    /// The range in words, for the README and `--help`.
    pub fn describe(&self) -> String {
        match self {
            Range::Int(a, b) => format!("{a}..{b}"),
            Range::LogInt(a, b) => format!("{a}..{b} (log)"),
            Range::Float(a, b) => format!("{a}..{b}"),
            Range::LogFloat(a, b) => format!("{a}..{b} (log)"),
            Range::Choice(c) => c.join("|"),
        }
    }
}

/// Which data a model's search applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// Explicit ratings, scored by RMSE.
    Ratings,
    /// Implicit data, top-N.
    TopN,
    /// Implicit data with repeat purchases evaluated.
    Repeats,
}

/// A model and the ranges searched for it.
#[derive(Debug, Clone, Copy)]
pub struct SearchSpace {
    /// Registered model name.
    pub model: &'static str,
    /// Where it applies.
    pub applies: Applies,
    /// Hyperparameters and their ranges.
    pub ranges: &'static [(&'static str, Range)],
}

/// The documented search: models in the order their defaults are tried (cheapest first) and
/// the ranges of their random settings.
pub static SPACES: &[SearchSpace] = &[
    SearchSpace { model: "popularity", applies: Applies::TopN, ranges: &[] },
    SearchSpace {
        model: "buy-again",
        applies: Applies::Repeats,
        ranges: &[("recency", Range::Float(0.0, 1.0)), ("half_life", Range::LogFloat(7.0, 730.0))],
    },
    SearchSpace {
        model: "category-popularity",
        applies: Applies::TopN,
        ranges: &[("smoothing", Range::LogFloat(0.1, 100.0)), ("prior", Range::LogFloat(0.01, 10.0))],
    },
    SearchSpace {
        model: "item-knn",
        applies: Applies::TopN,
        ranges: &[("k", Range::LogInt(10, 400)), ("weighting", Range::Choice(&["none", "tfidf", "bm25"]))],
    },
    SearchSpace {
        model: "als",
        applies: Applies::TopN,
        ranges: &[
            ("factors", Range::Choice(&["32", "64", "128"])),
            ("regularization", Range::LogFloat(1.0, 100.0)),
            ("alpha", Range::LogFloat(0.25, 16.0)),
            ("binary", Range::Choice(&["true", "false"])),
        ],
    },
    SearchSpace {
        model: "ease",
        applies: Applies::TopN,
        ranges: &[("lambda", Range::LogFloat(10.0, 5000.0)), ("binary", Range::Choice(&["true", "false"]))],
    },
    SearchSpace {
        model: "bpr",
        applies: Applies::TopN,
        ranges: &[
            ("factors", Range::Choice(&["32", "64", "128"])),
            ("learning_rate", Range::LogFloat(0.005, 0.1)),
            ("regularization", Range::LogFloat(0.001, 0.1)),
        ],
    },
    SearchSpace {
        model: "ranker",
        applies: Applies::TopN,
        ranges: &[
            ("candidates", Range::Choice(&["30", "50", "100"])),
            ("trees", Range::LogInt(100, 500)),
            ("depth", Range::Int(4, 8)),
            ("eta", Range::LogFloat(0.02, 0.2)),
        ],
    },
    SearchSpace {
        model: "baseline",
        applies: Applies::Ratings,
        ranges: &[("reg_u", Range::LogFloat(1.0, 30.0)), ("reg_i", Range::LogFloat(1.0, 30.0))],
    },
    SearchSpace {
        model: "svd",
        applies: Applies::Ratings,
        ranges: &[
            ("factors", Range::Choice(&["16", "32", "64", "128"])),
            ("lr", Range::LogFloat(0.002, 0.05)),
            ("reg", Range::LogFloat(0.01, 0.3)),
        ],
    },
    SearchSpace {
        model: "user-knn",
        applies: Applies::Ratings,
        ranges: &[("k", Range::LogInt(10, 200)), ("similarity", Range::Choice(&["cosine", "pearson"]))],
    },
    SearchSpace {
        model: "knn-baseline",
        applies: Applies::Ratings,
        ranges: &[("k", Range::LogInt(10, 200)), ("shrinkage", Range::LogFloat(1.0, 300.0))],
    },
    SearchSpace { model: "slope-one", applies: Applies::Ratings, ranges: &[] },
];

/// How the automatic search runs.
#[derive(Debug, Clone)]
pub struct AutoOptions {
    /// Wall-clock budget of the whole search.
    pub budget: Duration,
    /// Only these models (None: every applicable one).
    pub models: Option<Vec<String>>,
    /// Metric to optimise (a key of the report's JSON; `rmse` and `mae` are minimised).
    pub metric: String,
    /// Seed of the random settings.
    pub seed: u64,
}

/// One fitted and scored setting.
#[derive(Debug, Clone)]
pub struct Trial {
    /// Model name.
    pub model: String,
    /// Its parameters (only those set by the search; the rest are the defaults).
    pub params: Params,
    /// The metric on the validation split.
    pub metric: f64,
    /// The validation report's JSON.
    pub validation: Value,
    /// Seconds to fit and score this setting.
    pub seconds: f64,
}

/// The search spaces that apply to `ds` under `opts` (restricted to `only` when given).
pub fn applicable(ds: &Dataset, opts: &EvalOptions, only: Option<&[String]>) -> Vec<&'static SearchSpace> {
    let explicit = opts.explicit(ds);
    SPACES
        .iter()
        .filter(|s| match s.applies {
            Applies::Ratings => explicit,
            Applies::TopN => !explicit,
            Applies::Repeats => !explicit && opts.repeats,
        })
        .filter(|s| daogou_algo::find_model(s.model).is_some())
        .filter(|s| only.is_none_or(|o| o.iter().any(|m| m == s.model)))
        .collect()
}

/// Search models and settings on the validation `folds` (pairs of training and validation
/// events cut from the training part only) within `auto.budget`; every trial is told to
/// `on_trial` as it ends. Returns the trials, best first. A setting that fails to fit (a
/// catalogue too large for EASE, say) is skipped.
pub fn search(
    ds: &Dataset,
    folds: &[(Vec<Interaction>, Vec<Interaction>)],
    cold: &[u32],
    opts: &EvalOptions,
    auto: &AutoOptions,
    mut on_trial: impl FnMut(&Trial, Duration),
) -> Result<Vec<Trial>> {
    let started = Instant::now();
    let spaces = applicable(ds, opts, auto.models.as_deref());
    if spaces.is_empty() {
        return Err(crate::Error::Empty("no model to search for this data (check --model)".into()));
    }
    let lower = lower_is_better(&auto.metric);
    let better = |a: f64, b: f64| if lower { a < b } else { a > b };
    let mut rng = SeededRng::new(auto.seed);
    let mut trials: Vec<Trial> = Vec::new();
    let mut cost: std::collections::HashMap<&str, f64> = std::collections::HashMap::new();
    let run = |model: &str, params: Params| -> Option<(Value, f64)> {
        let t0 = Instant::now();
        let mut o = opts.clone();
        o.model = model.to_owned();
        o.params = with_seed(model, params, auto.seed);
        let mut reports: Vec<Report> = Vec::new();
        for (t, v) in folds {
            reports.push(evaluate_cold_split(ds, t, v, cold, &o).ok()?);
        }
        let j = if reports.len() == 1 { reports[0].to_json() } else { mean_json(&reports) };
        Some((j, t0.elapsed().as_secs_f64()))
    };
    let left = |started: &Instant| auto.budget.saturating_sub(started.elapsed()).as_secs_f64();
    let mut record = |model: &str, params: Params, trials: &mut Vec<Trial>, out: Option<(Value, f64)>| {
        if let Some((j, secs)) = out {
            if let Some(m) = metric_value(&j, &auto.metric) {
                let t = Trial { model: model.to_owned(), params, metric: m, validation: j, seconds: secs };
                on_trial(&t, started.elapsed());
                trials.push(t);
            }
        }
    };
    // 1. defaults, cheapest first
    for s in &spaces {
        if !trials.is_empty() && left(&started) <= 0.0 {
            break;
        }
        let out = run(s.model, Params::new());
        if let Some((_, secs)) = &out {
            cost.insert(s.model, *secs);
        }
        record(s.model, Params::new(), &mut trials, out);
    }
    // 2. random settings among the three best models, in turn
    let mut turn = 0usize;
    let mut misses = 0;
    while left(&started) > 0.0 && misses < 50 {
        let mut best_models: Vec<(&str, f64)> = Vec::new();
        for t in &trials {
            match best_models.iter_mut().find(|(m, _)| *m == t.model) {
                Some(b) if better(t.metric, b.1) => b.1 = t.metric,
                Some(_) => {}
                None => {
                    best_models.push((spaces.iter().find(|s| s.model == t.model).map_or("", |s| s.model), t.metric))
                }
            }
        }
        best_models.retain(|(m, _)| spaces.iter().any(|s| s.model == *m && !s.ranges.is_empty()));
        best_models.sort_by(|a, b| if lower { a.1.total_cmp(&b.1) } else { b.1.total_cmp(&a.1) });
        best_models.truncate(3);
        // only models that fit in what is left of the budget
        let remaining = left(&started);
        best_models.retain(|(m, _)| cost.get(m).copied().unwrap_or(0.0) <= remaining);
        if best_models.is_empty() {
            break;
        }
        let model = best_models[turn % best_models.len()].0;
        turn += 1;
        let space = spaces.iter().find(|s| s.model == model).expect("a searched model");
        let mut params = Params::new();
        for (k, r) in space.ranges {
            params.set(k, r.draw(&mut rng));
        }
        if trials.iter().any(|t| t.model == model && t.params == params) {
            misses += 1;
            continue;
        }
        let out = run(model, params.clone());
        if let Some((_, secs)) = &out {
            let c = cost.entry(space.model).or_insert(*secs);
            *c = c.max(*secs);
        }
        record(model, params, &mut trials, out);
    }
    trials.sort_by(|a, b| if lower { a.metric.total_cmp(&b.metric) } else { b.metric.total_cmp(&a.metric) });
    if trials.is_empty() {
        return Err(crate::Error::Empty("no model could be fitted on the validation split".into()));
    }
    Ok(trials)
}
