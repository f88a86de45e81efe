//! From a dataset and a split to a [`Report`]: build the training matrix the way the model
//! needs it, fit by name, predict ratings, rank the full catalogue, time both steps.
//!
//! The protocol, stated once:
//! * **Explicit data** (ratings) without `positive_threshold`: the model is fitted on the
//!   ratings (a re-rating keeps the last value). RMSE/MAE are computed on every test rating;
//!   a pair whose user or item has no training rating is predicted by the global training
//!   mean (as Surprise does).
//! * **Implicit view** (behaviour data, or ratings with `positive_threshold = T`): training
//!   ratings below T are dropped and each remaining event contributes its event-type weight;
//!   with `half_life_days` it is halved for every half-life before the latest training event;
//!   repeated (user, item) events add up and pairs whose total is ≤ 0 (returned more than
//!   bought) are dropped.
//! * **Top-N**: for each user who has training data and at least one relevant test item, all
//!   items are ranked except the user's training items. A test item is relevant when its
//!   rating ≥ `relevance_threshold` (explicit data; all test ratings when unset) or when its
//!   event has a positive weight (implicit data). Items the user already had in training are
//!   never relevant unless `repeats` is set, in which case they also stay candidates. With
//!   `positive_threshold`, an item the user rated below it is not in the training matrix but
//!   the user still had it (a film already watched is no recommendation): it is no candidate
//!   and not relevant either ([`seen_matrix`]).

use std::collections::BTreeMap;
use std::time::Instant;

use daogou_algo::{build_model, TrainData};
use daogou_core::{Aggregate, Csr, Dataset, EventKind, IdMap, Interaction, Interactions, Params};
use daogou_data::Signal;
use serde_json::{json, Map, Value};

use crate::metrics::{evaluate_topn_views, RatingMetrics, RatingSums, TestCase, TopNMetrics, View};
use crate::{Error, Result};

/// What to evaluate and how.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// Registered model name.
    pub model: String,
    /// Model hyperparameters.
    pub params: Params,
    /// Cut-off of the top-N metrics.
    pub k: usize,
    /// Test ratings ≥ this are relevant (explicit data).
    pub relevance_threshold: Option<f32>,
    /// How behaviour becomes training signal (event weights, positive threshold, time decay).
    pub signal: Signal,
    /// Keep items bought before eligible and relevant (retail repeat purchases).
    pub repeats: bool,
    /// Told what the evaluation is doing, for progress bars.
    pub progress: Progress,
}

/// A progress hook: `(stage, done, total)` with stage `fitting`, `predicting ratings` or
/// `ranking` (done/total users; 0/0 when the length is unknown).
#[derive(Clone, Default)]
pub struct Progress(pub Option<std::sync::Arc<dyn Fn(&str, u64, u64) + Send + Sync>>);

impl Progress {
    fn tell(&self, stage: &str, done: u64, total: u64) {
        if let Some(f) = &self.0 {
            f(stage, done, total);
        }
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Progress(hook)" } else { "Progress(none)" })
    }
}

impl EvalOptions {
    /// Defaults: k = 10, no thresholds, default weights, no repeats.
    pub fn new(model: &str, params: Params) -> Self {
        EvalOptions {
            model: model.to_owned(),
            params,
            k: 10,
            relevance_threshold: None,
            signal: Signal::default(),
            repeats: false,
            progress: Progress::default(),
        }
    }

    /// True when the run fits on explicit ratings.
    pub fn explicit(&self, ds: &Dataset) -> bool {
        self.signal.explicit(ds)
    }
}

/// The result of one evaluation run.
#[derive(Debug, Clone)]
pub struct Report {
    /// Model name.
    pub model: String,
    /// Parameters given.
    pub params: Params,
    /// RMSE/MAE when the model predicts ratings on explicit data.
    pub rating: Option<RatingMetrics>,
    /// The error sums behind `rating`, per test user (ascending user index; for paired
    /// comparisons).
    pub rating_per_user: Vec<(u32, RatingSums)>,
    /// Top-N metrics.
    pub topn: TopNMetrics,
    /// Cold-start split only: top-N metrics over the held-out (cold) items, and over the
    /// others (warm); see [`evaluate_cold_split`].
    pub cold_warm: Option<ColdWarm>,
    /// Seconds spent fitting.
    pub fit_seconds: f64,
    /// Seconds spent predicting and ranking.
    pub eval_seconds: f64,
    /// Training interactions used (distinct user–item pairs in the matrix).
    pub train_pairs: usize,
    /// Test interactions given.
    pub test_interactions: usize,
    /// What the model learned from each input feature, largest first (the learned ranker;
    /// empty for other models).
    pub feature_importance: Vec<(String, f64)>,
}

/// The two halves of a cold-start evaluation.
#[derive(Debug, Clone)]
pub struct ColdWarm {
    /// Relevant: each user's test items among the cold items; candidates: the cold items.
    pub cold: TopNMetrics,
    /// Relevant: each user's other test items; candidates: the warm items.
    pub warm: TopNMetrics,
    /// Number of cold items.
    pub cold_items: usize,
    /// Number of warm items (the rest of the catalogue).
    pub warm_items: usize,
}

/// The JSON key of a top-N metric at cut-off `k` (`ndcg@10`); MRR is over the full ranking
/// and has no cut-off (`mrr`).
pub fn metric_key(stem: &str, k: usize) -> String {
    if stem == "mrr" {
        stem.to_owned()
    } else {
        format!("{stem}@{k}")
    }
}

/// The top-N keys of the CLI contract (`precision@10`, …, `users_evaluated`) into `m`.
fn topn_json(t: &TopNMetrics, m: &mut Map<String, Value>) {
    let k = t.k;
    let accuracy = [t.precision, t.recall, t.f1, t.ndcg, t.map, t.mrr, t.hit_rate];
    for (stem, x) in crate::metrics::ACCURACY.iter().zip(accuracy) {
        m.insert(metric_key(stem, k), json!(x));
    }
    m.insert(format!("coverage@{k}"), json!(t.coverage));
    m.insert(format!("novelty@{k}"), json!(t.novelty));
    if let Some(d) = t.diversity {
        m.insert(format!("diversity@{k}"), json!(d));
    }
    m.insert("users_evaluated".into(), json!(t.users_evaluated));
}

impl Report {
    /// The flat JSON object of the CLI contract (`rmse`, `precision@10`, …); a cold-start run
    /// adds objects `cold` and `warm` with the same top-N keys and `items` (their candidates).
    pub fn to_json(&self) -> Value {
        let k = self.topn.k;
        let mut m = Map::new();
        m.insert("model".into(), json!(self.model));
        m.insert("params".into(), json!(self.params.iter().collect::<BTreeMap<_, _>>()));
        m.insert("k".into(), json!(k));
        if let Some(r) = &self.rating {
            m.insert("rmse".into(), json!(r.rmse));
            m.insert("mae".into(), json!(r.mae));
            m.insert("ratings_predicted".into(), json!(r.n));
        }
        topn_json(&self.topn, &mut m);
        if let Some(cw) = &self.cold_warm {
            for (name, t, items) in [("cold", &cw.cold, cw.cold_items), ("warm", &cw.warm, cw.warm_items)] {
                let mut part = Map::new();
                topn_json(t, &mut part);
                part.insert("items".into(), json!(items));
                m.insert(name.into(), Value::Object(part));
            }
        }
        m.insert("fit_seconds".into(), json!(self.fit_seconds));
        m.insert("eval_seconds".into(), json!(self.eval_seconds));
        m.insert("train_pairs".into(), json!(self.train_pairs));
        m.insert("test_interactions".into(), json!(self.test_interactions));
        if !self.feature_importance.is_empty() {
            m.insert("feature_importance".into(), importance_json(&self.feature_importance));
        }
        Value::Object(m)
    }
}

/// Feature importance as JSON: a list of `{"feature", "gain"}` objects, largest gain first
/// (the total loss reduction of the splits on the feature).
pub fn importance_json(importance: &[(String, f64)]) -> Value {
    Value::Array(importance.iter().map(|(n, g)| json!({"feature": n, "gain": g})).collect())
}

/// Mean of several fold reports as one JSON object: every numeric key is averaged
/// (`users_evaluated` and the interaction counts are summed), and `folds` lists each fold.
pub fn mean_json(reports: &[Report]) -> Value {
    let per: Vec<Value> = reports.iter().map(Report::to_json).collect();
    let mut out = match per.first() {
        Some(Value::Object(first)) => first.clone(),
        _ => Map::new(),
    };
    let summed = ["users_evaluated", "train_pairs", "test_interactions", "ratings_predicted"];
    for (key, v) in out.iter_mut() {
        if !v.is_number() {
            continue;
        }
        let vals: Vec<f64> = per.iter().filter_map(|f| f.get(key).and_then(Value::as_f64)).collect();
        let total: f64 = vals.iter().sum();
        *v = if summed.contains(&key.as_str()) {
            json!(total as u64)
        } else if key == "k" {
            v.clone()
        } else {
            json!(total / vals.len() as f64)
        };
    }
    let total_seconds: f64 = reports.iter().map(|r| r.fit_seconds + r.eval_seconds).sum();
    out.insert("total_seconds".into(), json!(total_seconds));
    out.insert("n_folds".into(), json!(reports.len()));
    out.insert("folds".into(), Value::Array(per));
    Value::Object(out)
}

/// What each user had in training when the training `matrix` holds less: with
/// `positive_threshold`, the ratings below it are no positives, but the user has rated the
/// item all the same. None when the matrix says it all (or with `repeats`).
pub fn seen_matrix(
    ds: &Dataset,
    train: &[Interaction],
    opts: &EvalOptions,
    matrix: &Interactions,
) -> Option<Interactions> {
    let t = opts.signal.positive_threshold.filter(|_| !opts.repeats)?;
    let below = train.iter().filter(|x| x.kind == EventKind::Rating && x.value < t);
    let mut triplets: Vec<(u32, u32, f32)> = below.map(|x| (x.user, x.item, 1.0)).collect();
    if triplets.is_empty() {
        return None;
    }
    for u in 0..matrix.n_users() as u32 {
        triplets.extend(matrix.user_row(u).0.iter().map(|&i| (u, i, 1.0)));
    }
    let csr = Csr::from_triplets(ds.n_users(), ds.n_items(), triplets.into_iter(), Aggregate::Last);
    Some(Interactions::from_csr(csr))
}

/// Relevant test items per user, under the protocol of the module docs.
pub fn test_cases(ds: &Dataset, matrix: &Interactions, test: &[Interaction], opts: &EvalOptions) -> Vec<TestCase> {
    let explicit_values = ds.explicit;
    let mut by_user: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for it in test {
        let relevant = if explicit_values {
            opts.relevance_threshold.is_none_or(|t| it.value >= t)
        } else {
            opts.signal.weights.weight(it) > 0.0
        };
        if !relevant || (it.user as usize) >= matrix.n_users() {
            continue;
        }
        let (train_items, _) = matrix.user_row(it.user);
        if train_items.is_empty() {
            continue; // no history to recommend from
        }
        if !opts.repeats && train_items.binary_search(&it.item).is_ok() {
            continue;
        }
        by_user.entry(it.user).or_default().push(it.item);
    }
    by_user
        .into_iter()
        .map(|(user, mut relevant)| {
            relevant.sort_unstable();
            relevant.dedup();
            TestCase { user, relevant }
        })
        .collect()
}

/// Category of each item as a small integer, when the catalogue has categories.
pub fn category_ids(ds: &Dataset) -> Option<Vec<Option<u32>>> {
    let mut names = IdMap::new();
    let ids: Vec<Option<u32>> =
        (0..ds.n_items() as u32).map(|i| ds.category(i).map(|c| names.get_or_insert(c))).collect();
    (!names.is_empty()).then_some(ids)
}

/// Fit `opts.model` on `train` and evaluate it on `test`.
pub fn evaluate_split(ds: &Dataset, train: &[Interaction], test: &[Interaction], opts: &EvalOptions) -> Result<Report> {
    evaluate_cold_split(ds, train, test, &[], opts)
}

/// [`evaluate_split`] for a cold-start split whose held-out items are `cold` (item indices,
/// e.g. from `daogou_data::cold_items`; empty: an ordinary split). Besides the usual metrics
/// over every item, the report then holds [`ColdWarm`] metrics from the same rankings:
/// * **cold**: the candidates are the cold items only, a user's relevant items are their
///   relevant test items among them; users with none are not counted;
/// * **warm**: the candidates are all other items (minus the user's training items unless
///   `repeats`), the relevant items are the user's other relevant test items.
pub fn evaluate_cold_split(
    ds: &Dataset,
    train: &[Interaction],
    test: &[Interaction],
    cold: &[u32],
    opts: &EvalOptions,
) -> Result<Report> {
    let explicit = opts.explicit(ds);
    let matrix = opts.signal.train_matrix(ds, train);
    if matrix.nnz() == 0 {
        return Err(Error::Empty("the training split holds no usable interaction".into()));
    }
    let started = Instant::now();
    opts.progress.tell("fitting", 0, 0);
    let model = build_model(
        &opts.model,
        &opts.params,
        &TrainData::new(&matrix, explicit).with_items(&ds.catalogue).with_events(train),
    )?;
    let fit_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let (rating, rating_per_user) = match model.as_rating_predictor().filter(|_| explicit) {
        Some(p) => {
            opts.progress.tell("predicting ratings", 0, 0);
            let (all, per_user) = rating_error(p, &matrix, test);
            (Some(all), per_user)
        }
        None => (None, Vec::new()),
    };
    let mut cases = test_cases(ds, &matrix, test, opts);
    let seen = seen_matrix(ds, train, opts, &matrix);
    if let Some(seen) = &seen {
        for c in &mut cases {
            let had = seen.user_row(c.user).0;
            c.relevant.retain(|i| had.binary_search(i).is_err());
        }
        cases.retain(|c| !c.relevant.is_empty());
    }
    let categories = category_ids(ds);
    let exclude_train = !opts.repeats;
    let total = cases.len() as u64;
    opts.progress.tell("ranking", 0, total);
    let ranked = |n: u64| opts.progress.tell("ranking", n, total);
    let had = seen.as_ref().unwrap_or(&matrix);
    let is_cold: Vec<bool> = if cold.is_empty() {
        Vec::new()
    } else {
        let mut c = vec![false; model.n_items()];
        for &i in cold {
            if let Some(x) = c.get_mut(i as usize) {
                *x = true;
            }
        }
        c
    };
    let is_warm: Vec<bool> = is_cold.iter().map(|&c| !c).collect();
    let part = |keep: &[bool]| -> Vec<TestCase> {
        let within = |c: &TestCase| TestCase {
            user: c.user,
            relevant: c.relevant.iter().copied().filter(|&i| keep.get(i as usize) == Some(&true)).collect(),
        };
        cases.iter().map(within).filter(|c| !c.relevant.is_empty()).collect()
    };
    let (cold_cases, warm_cases) = (part(&is_cold), part(&is_warm));
    let mut views = vec![View { cases: &cases, candidates: None }];
    if !cold.is_empty() {
        views.push(View { cases: &cold_cases, candidates: Some(&is_cold) });
        views.push(View { cases: &warm_cases, candidates: Some(&is_warm) });
    }
    let mut topn =
        evaluate_topn_views(model.as_ref(), had, &views, opts.k, exclude_train, categories.as_deref(), &ranked);
    let cold_warm = (topn.len() == 3).then(|| {
        let warm = topn.pop().expect("three views");
        let cold = topn.pop().expect("three views");
        let n_cold = is_cold.iter().filter(|&&c| c).count();
        ColdWarm { cold, warm, cold_items: n_cold, warm_items: is_cold.len() - n_cold }
    });
    let topn = topn.pop().expect("the view of every item");
    let eval_seconds = started.elapsed().as_secs_f64();

    Ok(Report {
        model: opts.model.clone(),
        params: opts.params.clone(),
        rating,
        rating_per_user,
        topn,
        cold_warm,
        fit_seconds,
        eval_seconds,
        train_pairs: matrix.nnz(),
        test_interactions: test.len(),
        feature_importance: model.feature_importance(),
    })
}

/// RMSE/MAE over test ratings, and each test user's error sums; pairs unknown to training get
/// the global mean.
fn rating_error(
    model: &dyn daogou_algo::RatingPredictor,
    m: &Interactions,
    test: &[Interaction],
) -> (RatingMetrics, Vec<(u32, RatingSums)>) {
    let data = m.by_user.data();
    let global_mean = data.iter().map(|&v| f64::from(v)).sum::<f64>() / data.len().max(1) as f64;
    let known = |it: &Interaction| {
        (it.user as usize) < m.n_users()
            && (it.item as usize) < m.n_items()
            && !m.user_row(it.user).0.is_empty()
            && !m.item_row(it.item).0.is_empty()
    };
    let pairs: Vec<(u32, u32)> = test.iter().filter(|it| known(it)).map(|it| (it.user, it.item)).collect();
    let predicted = model.predict_many(&pairs);
    let mut next = predicted.into_iter();
    let mut all = RatingSums::default();
    let mut by_user: BTreeMap<u32, RatingSums> = BTreeMap::new();
    for it in test {
        let p = if known(it) { next.next().expect("one prediction per known pair") } else { global_mean as f32 };
        all.add(p, it.value);
        by_user.entry(it.user).or_default().add(p, it.value);
    }
    (all.metrics(), by_user.into_iter().collect())
}

/// Evaluate each `(train, test)` fold; the caller combines them with [`mean_json`].
pub fn evaluate_folds(
    ds: &Dataset,
    folds: &[(Vec<Interaction>, Vec<Interaction>)],
    opts: &EvalOptions,
    mut on_fold: impl FnMut(usize, &Report),
) -> Result<Vec<Report>> {
    let mut out = Vec::with_capacity(folds.len());
    for (i, (train, test)) in folds.iter().enumerate() {
        let r = evaluate_split(ds, train, test, opts)?;
        on_fold(i, &r);
        out.push(r);
    }
    Ok(out)
}
