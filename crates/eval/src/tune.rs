//! Hyperparameter search: settings from a grid (every combination, or a seeded random sample
//! with ranges), each fitted on training folds and scored on their validation parts, ranked by
//! one metric. The caller keeps the test part out of it; [`best_params`] then gives the
//! setting to evaluate once on the test part.

use std::collections::BTreeMap;

use daogou_core::{Dataset, Interaction, Params, SeededRng};
use serde_json::Value;

use crate::protocol::{evaluate_cold_split, mean_json, EvalOptions, Report};
use crate::{Error, Result};

/// Largest grid run without random sampling.
pub const MAX_GRID: usize = 500;

/// One `key=…` entry of a grid.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// `key=v1,v2,…`: every value is tried.
    List(Vec<String>),
    /// `key=lo..hi` with integers: sampled uniformly.
    Ints(i64, i64),
    /// `key=lo..hi` with decimals: sampled log-uniformly when hi/lo ≥ 10, else uniformly.
    Floats(f64, f64),
}

/// A grid: parameter names with the values to try.
pub type Grid = Vec<(String, Values)>;

/// One setting: (parameter, value) pairs.
pub type Setting = Vec<(String, String)>;

fn invalid(spec: &str, why: &str) -> Error {
    Error::Invalid(format!("--grid `{spec}`: {why}"))
}

/// Parse `key=v1,v2` or `key=lo..hi`.
pub fn parse_grid(spec: &str) -> Result<(String, Values)> {
    let (key, vals) = spec.split_once('=').ok_or_else(|| invalid(spec, "expected key=v1,v2 or key=lo..hi"))?;
    let (key, vals) = (key.trim().to_owned(), vals.trim());
    if key.is_empty() || vals.is_empty() {
        return Err(invalid(spec, "expected key=v1,v2 or key=lo..hi"));
    }
    if let Some((lo, hi)) = vals.split_once("..") {
        if let (Ok(a), Ok(b)) = (lo.trim().parse::<i64>(), hi.trim().parse::<i64>()) {
            if a > b {
                return Err(invalid(spec, "empty range"));
            }
            return Ok((key, Values::Ints(a, b)));
        }
        let (a, b): (f64, f64) = match (lo.trim().parse(), hi.trim().parse()) {
            (Ok(a), Ok(b)) => (a, b),
            _ => return Err(invalid(spec, "a range needs two numbers")),
        };
        if !(a.is_finite() && b.is_finite() && a <= b) {
            return Err(invalid(spec, "empty or infinite range"));
        }
        return Ok((key, Values::Floats(a, b)));
    }
    let list: Vec<String> = vals.split(',').map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).collect();
    if list.is_empty() {
        return Err(invalid(spec, "no values"));
    }
    Ok((key, Values::List(list)))
}

/// Every combination of the lists (ranges need random sampling).
pub fn grid_settings(grid: &Grid) -> Result<Vec<Setting>> {
    let mut out: Vec<Setting> = vec![Vec::new()];
    for (key, vals) in grid {
        let Values::List(list) = vals else {
            return Err(Error::Invalid(format!("--grid {key}=lo..hi is a range: add --random N to sample it")));
        };
        out = out
            .into_iter()
            .flat_map(|s| list.iter().map(move |v| [s.clone(), vec![(key.clone(), v.clone())]].concat()))
            .collect();
        if out.len() > MAX_GRID {
            return Err(Error::Invalid(format!(
                "the grid has more than {MAX_GRID} combinations; use --random N to sample it"
            )));
        }
    }
    Ok(out)
}

/// Four significant decimals are enough for a hyperparameter and easier to read back.
fn round4(x: f64) -> String {
    format!("{x:.4}").parse::<f64>().map_or(x.to_string(), |r| r.to_string())
}

/// `n` distinct settings drawn from `grid` (seeded); a duplicate is drawn again a few times.
pub fn random_settings(grid: &Grid, n: usize, seed: u64) -> Vec<Setting> {
    let mut rng = SeededRng::new(seed);
    let mut out: Vec<Setting> = Vec::new();
    let mut attempts = 0;
    while out.len() < n && attempts < n * 20 {
        attempts += 1;
        let s: Setting = grid
            .iter()
            .map(|(key, vals)| {
                let v = match vals {
                    Values::List(l) => rng.pick(l).clone(),
                    Values::Ints(a, b) => rng.range(*a, *b).to_string(),
                    Values::Floats(a, b) if *a > 0.0 && *b / *a >= 10.0 => {
                        round4((a.ln() + rng.f64() * (b.ln() - a.ln())).exp())
                    }
                    Values::Floats(a, b) => round4(a + rng.f64() * (b - a)),
                };
                (key.clone(), v)
            })
            .collect();
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// rmse and mae are errors; every other metric is a score.
pub fn lower_is_better(metric: &str) -> bool {
    matches!(metric, "rmse" | "mae")
}

/// The value of `metric` in an `evaluate --json` object: a top-level key (`ndcg@10`) or
/// `cold.KEY` / `warm.KEY` of a cold-items run.
pub fn metric_value(report: &Value, metric: &str) -> Option<f64> {
    match metric.split_once('.') {
        Some((part, key)) if matches!(part, "cold" | "warm") => report.get(part)?.get(key)?.as_f64(),
        _ => report.get(metric).and_then(Value::as_f64),
    }
}

/// `k=v k=v` for people.
pub fn show(setting: &Setting) -> String {
    setting.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
}

/// Stochastic models take the run's seed unless the setting fixes one.
pub fn with_seed(model: &str, mut params: Params, seed: u64) -> Params {
    let takes_seed = daogou_algo::find_model(model).is_some_and(|m| m.params.iter().any(|(k, _)| *k == "seed"));
    if takes_seed && params.raw("seed").is_none() {
        params.set("seed", seed);
    }
    params
}

/// `base` with `setting` on top.
pub fn setting_params(base: &Params, setting: &Setting) -> Params {
    let mut p = base.clone();
    for (k, v) in setting {
        p.set(k, v);
    }
    p
}

/// One row of a search: the setting and its validation report (mean over folds).
#[derive(Debug, Clone)]
pub struct Trial {
    /// The setting tried.
    pub setting: Setting,
    /// Its `evaluate --json` object on validation.
    pub validation: Value,
}

/// The outcome of a search, best first.
#[derive(Debug, Clone)]
pub struct Search {
    /// The metric ranked by.
    pub metric: String,
    /// True for rmse/mae.
    pub lower_is_better: bool,
    /// Trials, best first.
    pub trials: Vec<Trial>,
}

impl Search {
    /// The best setting.
    pub fn best(&self) -> &Trial {
        &self.trials[0]
    }

    /// The leaderboard as JSON rows (`params`, `metric`, `validation`).
    pub fn rows(&self) -> Vec<Value> {
        self.trials
            .iter()
            .map(|t| {
                serde_json::json!({
                    "params": t.setting.iter().cloned().collect::<BTreeMap<_, _>>(),
                    "metric": metric_value(&t.validation, &self.metric),
                    "validation": t.validation,
                })
            })
            .collect()
    }
}

/// Fit and score every setting on every (training, validation) fold of `ds` (`cold`: the
/// held-out items of a cold-items validation split, else empty) and rank them by `metric`
/// (default: rmse for rating models on explicit data, else ndcg@k). `each` is told every
/// finished fit (progress). Errors name the setting that failed.
pub fn search(
    ds: &Dataset,
    folds: &[(Vec<Interaction>, Vec<Interaction>)],
    cold: &[u32],
    opts: &EvalOptions,
    settings: &[Setting],
    metric: Option<&str>,
    seed: u64,
    mut each: impl FnMut(),
) -> Result<Search> {
    if settings.is_empty() {
        return Err(Error::Invalid("no settings to try".into()));
    }
    let mut trials: Vec<Trial> = Vec::with_capacity(settings.len());
    for setting in settings {
        let mut o = opts.clone();
        o.params = with_seed(&opts.model, setting_params(&opts.params, setting), seed);
        let mut reports: Vec<Report> = Vec::with_capacity(folds.len());
        for (t, v) in folds {
            let r = evaluate_cold_split(ds, t, v, cold, &o)
                .map_err(|e| Error::Invalid(format!("{} with {}: {e}", opts.model, show(setting))))?;
            reports.push(r);
            each();
        }
        let validation = if reports.len() == 1 { reports[0].to_json() } else { mean_json(&reports) };
        trials.push(Trial { setting: setting.clone(), validation });
    }
    let metric = match metric {
        Some(m) => m.to_owned(),
        None if opts.explicit(ds) && trials[0].validation.get("rmse").is_some() => "rmse".to_owned(),
        None => format!("ndcg@{}", opts.k),
    };
    if metric_value(&trials[0].validation, &metric).is_none() {
        let keys: Vec<&String> = trials[0].validation.as_object().map(|m| m.keys().collect()).unwrap_or_default();
        return Err(Error::Invalid(format!("--metric {metric}: not reported for this model (keys: {keys:?})")));
    }
    let lower = lower_is_better(&metric);
    trials.sort_by(|x, y| {
        let a = metric_value(&x.validation, &metric).unwrap_or(f64::NAN);
        let b = metric_value(&y.validation, &metric).unwrap_or(f64::NAN);
        if lower {
            a.total_cmp(&b)
        } else {
            b.total_cmp(&a)
        }
    });
    Ok(Search { metric, lower_is_better: lower, trials })
}
