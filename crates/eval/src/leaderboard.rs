//! The model leaderboard: a few models compared on a time split of the stored data, kept in
//! the store's `meta` table (key [`META_KEY`]) so that `daogou demo` writes it and the
//! server's dashboard reads it (and refreshes it with `POST /admin/evaluate`).

use crate::{evaluate_split, EvalOptions};
use daogou_core::{Dataset, Params};
use daogou_data::{split, Split};
use serde::{Deserialize, Serialize};

/// Store `meta` key of the latest leaderboard (JSON).
pub const META_KEY: &str = "leaderboard";

/// Models compared by default, with their parameters: fast to fit on a shop of the demo's size.
pub const DEFAULT_MODELS: &[(&str, &[&str])] =
    &[("popularity", &[]), ("user-knn", &[]), ("item-knn", &[]), ("als", &[]), ("ease", &[])];

/// One model's row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Row {
    /// Model name.
    pub model: String,
    /// Parameters used (`k=v`), empty for defaults.
    pub params: Vec<String>,
    /// The top-N metrics at `k` (precision, recall, ndcg, hit_rate, coverage, …).
    pub metrics: serde_json::Value,
    /// Fitting time in seconds.
    pub fit_seconds: f64,
    /// Ranking time in seconds.
    pub eval_seconds: f64,
    /// Set when the model could not be evaluated on this data (the others still are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A leaderboard: how it was measured and one row per model, best NDCG first.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Leaderboard {
    /// Who produced it (`daogou demo`, `POST /admin/evaluate`).
    pub source: String,
    /// Unix seconds when it was produced.
    pub created: i64,
    /// Events from this time on (unix seconds) are the test part.
    pub cut: i64,
    /// Cut-off of the metrics.
    pub k: usize,
    /// Interactions in the training and test parts.
    pub train_interactions: usize,
    /// Interactions in the test part.
    pub test_interactions: usize,
    /// Rows, best NDCG@k first (rows with an error last).
    pub rows: Vec<Row>,
}

impl Leaderboard {
    /// The best row by NDCG (none when every model failed).
    pub fn best(&self) -> Option<&Row> {
        self.rows.iter().find(|r| r.error.is_none())
    }
}

/// The time cut used: four fifths into the period of the stored interactions.
pub fn default_cut(ds: &Dataset) -> i64 {
    let first = ds.interactions.iter().map(|x| x.timestamp).min().unwrap_or(0);
    let last = ds.interactions.iter().map(|x| x.timestamp).max().unwrap_or(0);
    first + (last - first) * 4 / 5
}

/// Evaluate `models` on `ds`, trained before `cut` and tested on the rest (new items only, the
/// protocol of `daogou evaluate --split time:…`). `each` is told every finished row (progress).
pub fn evaluate(
    ds: &Dataset,
    models: &[(&str, &[&str])],
    cut: i64,
    source: &str,
    now: i64,
    mut each: impl FnMut(&Row),
) -> Result<Leaderboard, String> {
    let (train, test) = split(&ds.interactions, &Split::Time { cut }, 0);
    if train.is_empty() || test.is_empty() {
        return Err(format!(
            "a time split at {cut} leaves {} training and {} test interactions; the store needs events over a longer period",
            train.len(),
            test.len()
        ));
    }
    let mut rows = Vec::with_capacity(models.len());
    let mut k = 10;
    for (name, params) in models {
        let row = match Params::parse(params.iter().copied())
            .map_err(|e| e.to_string())
            .and_then(|p| evaluate_split(ds, &train, &test, &EvalOptions::new(name, p)).map_err(|e| e.to_string()))
        {
            Ok(r) => {
                k = r.topn.k;
                Row {
                    model: (*name).to_owned(),
                    params: params.iter().map(|p| (*p).to_owned()).collect(),
                    metrics: serde_json::to_value(&r.topn).unwrap_or_default(),
                    fit_seconds: r.fit_seconds,
                    eval_seconds: r.eval_seconds,
                    error: None,
                }
            }
            Err(e) => Row {
                model: (*name).to_owned(),
                params: params.iter().map(|p| (*p).to_owned()).collect(),
                metrics: serde_json::Value::Null,
                fit_seconds: 0.0,
                eval_seconds: 0.0,
                error: Some(e),
            },
        };
        each(&row);
        rows.push(row);
    }
    let ndcg = |r: &Row| if r.error.is_some() { f64::NEG_INFINITY } else { r.metrics["ndcg"].as_f64().unwrap_or(0.0) };
    rows.sort_by(|a, b| ndcg(b).total_cmp(&ndcg(a)));
    Ok(Leaderboard {
        source: source.to_owned(),
        created: now,
        cut,
        k,
        train_interactions: train.len(),
        test_interactions: test.len(),
        rows,
    })
}
