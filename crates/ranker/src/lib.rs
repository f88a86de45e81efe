//! # daogou-ranker
//!
//! The learned `ranker`: several models propose candidates, hand-made features describe each
//! (user, candidate) pair as of a cut time, and gradient-boosted trees trained with a
//! LambdaMART objective order them.
//!
//! * **Candidates**: the union of the top `candidates` items of each configured generator
//!   (`buy-again`, `als`, `ease`, `item-knn`, `category-popularity`, `popularity`, and
//!   `sequential` when the deep models are registered). `buy-again` proposes the user's own
//!   items; the others propose items the user has not had yet. A generator that cannot fit
//!   (EASE on a catalogue too large for memory, a model not built into the binary) is left out
//!   with a warning, not a failure.
//! * **Features** ([`daogou_data::features`]): user, item and user×item features as of the
//!   cut, including the last session, plus each generator's score, gap to its best score and
//!   rank.
//! * **Training**: the generators are refitted on the events before a label window at the
//!   end of the training data; the features are computed as of the window's start and the
//!   labels are the items each user bought (or had positive events on) in the window. By
//!   default the window is the last eighth of the data's time span, at most 30 days; data
//!   where few users have history both before and within that window (MovieLens: users rate
//!   in one burst) take a seeded random fifth of each user's events as labels instead
//!   (`labels=user`), with shallower trees (100 of depth 3).
//!   Only what precedes the model's own training data is read, so the test period of an
//!   evaluation is never seen.
//! * **Scoring**: the generators are refitted on all the training data, a user's candidates
//!   are scored by the trees and placed above every other item, which follow by popularity.
//!
//! The binary registers the model with [`register`] (like the deep models), so that the
//! core crates' tests build without the tree library.
#![warn(missing_docs)]

use std::collections::{HashMap, HashSet};

use daogou_algo::topk::top_k;
use daogou_algo::{build_model, Error, ModelInfo, ModelState, Recommender, Result, Tensor, TrainData};
use daogou_core::{Aggregate, Baskets, Csr, EventKind, Interaction, Interactions, Params};
use daogou_data::features::{row_names, FeatureConfig, ItemTable, UserContext};
use daogou_data::EventWeights;
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rayon::prelude::*;

pub mod gbdt;

use gbdt::{Gbdt, TreeParams};

const MODEL: &str = "ranker";

/// One line for `daogou models`.
pub const ABOUT: &str = "learned ranker: candidates from several models, user/item/pair and session features as of a cut, gradient-boosted trees with a LambdaMART objective (hessboost)";

/// Parameters with their meaning and default.
pub const PARAMS: &[(&str, &str)] = &[
    ("generators", "candidate generators, comma-separated (default buy-again,als,ease,item-knn,category-popularity,popularity; sequential when built in)"),
    ("candidates", "items each generator proposes per user (default 50)"),
    ("window_days", "length of the label window at the end of the training data, in days (default 0 = auto: an eighth of the data's time span, at most 30)"),
    ("windows", "consecutive label windows to train on, each with its own refit of the generators (default 2); with labels=user, disjoint random label fifths (default 1)"),
    ("labels", "auto, time (the last window's events) or user (a fifth of each user's events, see holdout); auto takes user when under a third of the window's users have history before it (default auto)"),
    ("max_users", "users per window to train on, a seeded sample (default 4000)"),
    ("trees", "boosting rounds (default 200; 100 with labels=user)"),
    ("depth", "maximum tree depth (default 5; 3 with labels=user)"),
    ("eta", "learning rate (default 0.07)"),
    ("min_child_weight", "minimum Hessian sum in a leaf (default 1)"),
    ("subsample", "share of rows each tree sees (default 0.8)"),
    ("colsample", "share of features each tree sees (default 0.8)"),
    ("seed", "seed of the user sample and the trees (default 42)"),
    ("holdout", "with labels=user: which fifth of each user's events are the labels, random (seeded) or latest (default random)"),
    ("targets", "what the label window's events teach: positive (every event with a positive weight, what the evaluation counts as relevant) or purchases (default positive)"),
    ("session", "read the last session (its events, carts and categories); false blanks those features, to measure what recent intent adds (default true)"),
    ("GENERATOR.KEY", "a parameter of one generator, e.g. als.factors=128 or buy-again.recency=0"),
];

/// The generators used unless `generators` says otherwise.
pub const DEFAULT_GENERATORS: &str = "buy-again,als,ease,item-knn,category-popularity,popularity";

/// The learned ranker in the model registry.
pub static MODELS: &[ModelInfo] =
    &[ModelInfo { name: MODEL, about: ABOUT, params: PARAMS, fit, load, reads_events: true }];

/// Add `ranker` to the model registry (idempotent).
pub fn register() {
    daogou_algo::register_models(MODELS);
}

fn bad(reason: impl Into<String>) -> Error {
    Error::BadData { model: MODEL.into(), reason: reason.into() }
}

fn bad_state(reason: impl Into<String>) -> Error {
    Error::BadState { model: MODEL.into(), reason: reason.into() }
}

/// Where the labels come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Labels {
    Auto,
    Time,
    User,
}

/// Parsed parameters.
#[derive(Debug, Clone)]
struct Settings {
    generators: Vec<String>,
    gen_params: HashMap<String, Params>,
    candidates: usize,
    window_days: f64,
    windows: usize,
    labels: Labels,
    max_users: usize,
    session: bool,
    /// Labels are purchases only (else every positive event).
    purchases_only: bool,
    /// `labels=user` holds out each user's latest events (else a seeded random fifth).
    holdout_latest: bool,
    trees: TreeParams,
    /// Label folds with `labels=user` (random holdout): `windows` when given, else 1.
    user_folds: usize,
    /// Tree settings for `labels=user`: the given ones, else 100 trees of depth 3.
    user_trees: TreeParams,
}

impl Settings {
    fn parse(p: &Params) -> Result<Settings> {
        let gens: Vec<String> = p
            .raw("generators")
            .unwrap_or(DEFAULT_GENERATORS)
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        if gens.is_empty() {
            return Err(Params::invalid("generators", "", "name at least one model").into());
        }
        if gens.iter().any(|g| g == MODEL) {
            return Err(Params::invalid("generators", MODEL, "the ranker cannot be its own generator").into());
        }
        let own: Vec<&str> = PARAMS.iter().map(|x| x.0).filter(|k| !k.contains('.')).collect();
        let mut gen_params: HashMap<String, Params> = HashMap::new();
        for (k, v) in p.iter() {
            match k.split_once('.') {
                Some((g, key)) if gens.iter().any(|x| x == g) => {
                    // a misspelt generator parameter is an error, not a generator left out
                    if let Some(info) = daogou_algo::find_model(g) {
                        if !info.params.iter().any(|(name, _)| *name == key) {
                            let known: Vec<&str> = info.params.iter().map(|x| x.0).collect();
                            let why = format!("`{g}` has no parameter `{key}`; known: {}", known.join(", "));
                            return Err(Params::invalid(k, v, &why).into());
                        }
                    }
                    gen_params.entry(g.to_owned()).or_default().set(key, v)
                }
                Some((g, _)) => {
                    return Err(Params::invalid(
                        k,
                        v,
                        &format!("`{g}` is not one of the generators ({})", gens.join(",")),
                    )
                    .into())
                }
                None if own.contains(&k) => {}
                None => {
                    return Err(Params::invalid(
                        k,
                        v,
                        &format!("unknown parameter of ranker; known: {}", own.join(", ")),
                    )
                    .into())
                }
            }
        }
        let count = |key: &str, default: usize, min: usize| -> Result<usize> {
            let v: usize = p.get(key, default)?;
            if v < min {
                return Err(Params::invalid(key, v, &format!("must be at least {min}")).into());
            }
            Ok(v)
        };
        let real = |key: &str, default: f64, lo: f64, hi: f64| -> Result<f64> {
            let v: f64 = p.get(key, default)?;
            if !(v.is_finite() && v >= lo && v <= hi) {
                return Err(Params::invalid(key, v, &format!("must be between {lo} and {hi}")).into());
            }
            Ok(v)
        };
        let trees = TreeParams {
            trees: count("trees", 200, 1)?,
            depth: count("depth", 5, 1)?,
            eta: real("eta", 0.07, 1e-4, 1.0)?,
            min_child_weight: real("min_child_weight", 1.0, 0.0, 1e6)?,
            subsample: real("subsample", 0.8, 0.05, 1.0)?,
            colsample: real("colsample", 0.8, 0.05, 1.0)?,
            seed: p.get("seed", 42u64)?,
        };
        // user holdouts (data without a usable time window, such as MovieLens) overfit deep
        // trees: 100 trees of depth 3 and one fold were best on u1.base's own random fifth
        // (two seeds), against 200 × 5 and two folds
        let user_trees = TreeParams { trees: count("trees", 100, 1)?, depth: count("depth", 3, 1)?, ..trees };
        let labels = match p.raw("labels").unwrap_or("auto") {
            "auto" => Labels::Auto,
            "time" => Labels::Time,
            "user" => Labels::User,
            other => return Err(Params::invalid("labels", other, "expected auto, time or user").into()),
        };
        Ok(Settings {
            generators: gens,
            gen_params,
            candidates: count("candidates", 50, 1)?,
            window_days: real("window_days", 0.0, 0.0, 3650.0)?,
            windows: count("windows", 2, 1)?,
            labels,
            max_users: count("max_users", 4000, 1)?,
            holdout_latest: match p.raw("holdout").unwrap_or("random") {
                "random" => false,
                "latest" => true,
                other => return Err(Params::invalid("holdout", other, "expected random or latest").into()),
            },
            purchases_only: match p.raw("targets").unwrap_or("positive") {
                "positive" => false,
                "purchases" => true,
                other => return Err(Params::invalid("targets", other, "expected positive or purchases").into()),
            },
            session: match p.raw("session").unwrap_or("true") {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                other => return Err(Params::invalid("session", other, "expected true or false").into()),
            },
            trees,
            user_folds: count("windows", 1, 1)?.min(5),
            user_trees,
        })
    }
}

/// A fitted candidate generator.
struct Generator {
    name: String,
    params: Params,
    model: Box<dyn Recommender>,
}

/// Fit the configured generators on `train`; those that fail are left out with a warning
/// (returned, and printed on stderr).
fn fit_generators(train: &TrainData<'_>, s: &Settings, warnings: &mut Vec<String>) -> Vec<Generator> {
    let mut out = Vec::new();
    for g in &s.generators {
        let params = s.gen_params.get(g).cloned().unwrap_or_default();
        match build_model(g, &params, train) {
            Ok(model) => out.push(Generator { name: g.clone(), params, model }),
            Err(e) => {
                let w = format!("generator `{g}` left out: {e}");
                eprintln!("warning: ranker: {w}");
                if !warnings.contains(&w) {
                    warnings.push(w);
                }
            }
        }
    }
    out
}

/// Names of the generator features, three per generator.
fn generator_feature_names(gens: &[String]) -> Vec<String> {
    gens.iter().flat_map(|g| [format!("gen.{g}.score"), format!("gen.{g}.gap"), format!("gen.{g}.rank")]).collect()
}

/// Who is scored: a training user of the generators, or an ad-hoc history.
#[derive(Clone, Copy)]
enum Who<'a> {
    Known(u32),
    History(&'a [(u32, f32)]),
}

/// The candidates of one user and their feature rows (appended to `rows`).
fn candidate_rows(
    gens: &[Generator],
    items: &ItemTable,
    ctx: &UserContext,
    who: Who<'_>,
    m: usize,
    blank: &[usize],
    rows: &mut Vec<f32>,
) -> Vec<u32> {
    let n = items.n_items();
    let had: HashSet<u32> = ctx.items().collect();
    let rank_depth = (4 * m).max(100).min(n);
    let mut scores = vec![0f32; n];
    let mut per_gen: Vec<(Vec<f32>, f32, HashMap<u32, u32>)> = Vec::with_capacity(gens.len());
    let mut cands: Vec<u32> = Vec::new();
    let mut seen: HashSet<u32> = HashSet::new();
    for g in gens {
        match who {
            Who::Known(u) => g.model.score_user(u, &mut scores),
            Who::History(h) => g.model.score_history(h, &mut scores),
        }
        let ranked = top_k(&scores, rank_depth, |_| false);
        let best = ranked.first().map_or(0.0, |x| x.1);
        let ranks: HashMap<u32, u32> = ranked.iter().enumerate().map(|(r, x)| (x.0, r as u32)).collect();
        // buy-again proposes the user's own items; the others what the user has not had
        let own = g.name == "buy-again";
        let picks = top_k(&scores, m, |i| !own && had.contains(&i));
        for (i, _) in picks {
            if seen.insert(i) {
                cands.push(i);
            }
        }
        per_gen.push((scores.clone(), best, ranks));
    }
    for &i in &cands {
        let start = rows.len();
        ctx.row(i, items, rows);
        for (s, best, ranks) in &per_gen {
            let x = s[i as usize];
            rows.push(x);
            rows.push(best - x);
            rows.push(ranks.get(&i).map_or(f32::NAN, |&r| (r as f32).ln_1p()));
        }
        for v in &mut rows[start..] {
            if !v.is_finite() {
                *v = f32::NAN;
            }
        }
        for &b in blank {
            rows[start + b] = f32::NAN;
        }
    }
    cands
}

/// Columns of the session features, blanked with `session=false`.
fn session_columns(names: &[String], session: bool) -> Vec<usize> {
    if session {
        return Vec::new();
    }
    names.iter().enumerate().filter(|(_, n)| n.contains(".session_")).map(|(k, _)| k).collect()
}

/// Training rows of the learned ranker: one query group per user, its candidates with their
/// features and labels (1 = bought in the label window).
#[derive(Debug, Clone, Default)]
pub struct TrainingSet {
    /// Feature names, in row order.
    pub names: Vec<String>,
    /// Rows, row-major.
    pub rows: Vec<f32>,
    /// One label per row.
    pub labels: Vec<f32>,
    /// Group sizes (consecutive rows).
    pub groups: Vec<usize>,
    /// Per group: the user's number of relevant items in the window, candidates or not (for
    /// an NDCG that counts what the candidates missed).
    pub relevant: Vec<usize>,
    /// What was left out, and why.
    pub warnings: Vec<String>,
    /// How the labels were chosen (`time` or `user`) and the window length in days.
    pub labels_from: String,
}

/// One query group: a user, the cut of their features, and the items they had next.
// (public and hidden from the docs for the label-split test in tests/it; not API)
#[doc(hidden)]
pub struct Group {
    pub user: u32,
    pub cut: i64,
    pub labels: HashSet<u32>,
}

/// One label split: the events before it (the prefix the generators see), the events a
/// user's features may read (those before each group's cut), and the groups.
#[doc(hidden)]
pub struct LabelSplit {
    pub prefix: Vec<Interaction>,
    pub context: Vec<Interaction>,
    pub groups: Vec<Group>,
    pub item_cut: i64,
}

fn positive_pair(m: &Interactions, e: &Interaction) -> bool {
    (e.user as usize) < m.n_users() && m.user_row(e.user).0.binary_search(&e.item).is_ok()
}

/// The training matrix restricted to `prefix`: each pair keeps its value in proportion to the
/// share of its events in the prefix (explicit ratings keep their value), so the weights, the
/// positive threshold and the returns of the outer training matrix carry over.
fn prefix_matrix(full: &Interactions, all: &[Interaction], prefix: &[Interaction], explicit: bool) -> Interactions {
    let m = &full.by_user;
    let slot = |e: &Interaction| -> Option<usize> {
        if (e.user as usize) >= m.n_rows() {
            return None;
        }
        let (cols, _) = m.row(e.user as usize);
        cols.binary_search(&e.item).ok().map(|p| m.indptr()[e.user as usize] + p)
    };
    let mut total = vec![0u32; m.nnz()];
    let mut before = vec![0u32; m.nnz()];
    for e in all {
        if let Some(s) = slot(e) {
            total[s] += 1;
        }
    }
    for e in prefix {
        if let Some(s) = slot(e) {
            before[s] += 1;
        }
    }
    let mut trip = Vec::new();
    for u in 0..m.n_rows() {
        let (cols, vals) = m.row(u);
        let base = m.indptr()[u];
        for (k, (&i, &v)) in cols.iter().zip(vals).enumerate() {
            let (b, t) = (before[base + k], total[base + k]);
            if b > 0 {
                let x = if explicit { v } else { v * b as f32 / t as f32 };
                trip.push((u as u32, i, x));
            }
        }
    }
    Interactions::from_csr(Csr::from_triplets(m.n_rows(), m.n_cols(), trip.into_iter(), Aggregate::Last))
}

/// The auto window: an eighth of the span of the events, at most 30 days, at least one day.
fn auto_window_days(events: &[Interaction]) -> f64 {
    let (lo, hi) = events.iter().fold((i64::MAX, i64::MIN), |(a, b), e| (a.min(e.timestamp), b.max(e.timestamp)));
    let span = (hi - lo).max(0) as f64 / 86_400.0;
    (span / 8.0).clamp(1.0, 30.0)
}

fn time_split(train: &TrainData<'_>, bought: bool, start: i64, end: i64, gap: i64) -> LabelSplit {
    let prefix: Vec<Interaction> = train.events.iter().filter(|e| e.timestamp < start).copied().collect();
    let mut has_history: HashSet<u32> = HashSet::new();
    for e in &prefix {
        if positive_pair(train.matrix, e) {
            has_history.insert(e.user);
        }
    }
    let target = |e: &Interaction| daogou_core::is_bought(e.kind, bought) && positive_pair(train.matrix, e);
    let mut window: HashMap<u32, Vec<Interaction>> = HashMap::new();
    for e in train.events.iter().filter(|e| e.timestamp >= start && e.timestamp < end && has_history.contains(&e.user))
    {
        window.entry(e.user).or_default().push(*e);
    }
    let mut users: Vec<u32> = window.keys().copied().collect();
    users.sort_unstable();
    let mut groups = Vec::new();
    for u in users {
        let mut evs = window.remove(&u).unwrap_or_default();
        evs.sort_by_key(|e| (e.timestamp, e.item));
        let labels: HashSet<u32> = evs.iter().filter(|e| target(e)).map(|e| e.item).collect();
        if labels.is_empty() {
            continue;
        }
        groups.push(Group { user: u, cut: start, labels });
        // and from inside a session: after half of the user's first session in the window
        // that spans three distinct moments, what they had next (teaches what a fresh session
        // says; invoices, whose lines share one time, make no such group)
        let mut s0 = 0;
        for k in 1..=evs.len() {
            if k == evs.len() || evs[k].timestamp - evs[k - 1].timestamp > gap {
                let mut times: Vec<i64> = evs[s0..k].iter().map(|e| e.timestamp).collect();
                times.dedup();
                if times.len() >= 3 {
                    let cut = times[times.len() / 2];
                    let next: HashSet<u32> =
                        evs.iter().filter(|e| e.timestamp >= cut && target(e)).map(|e| e.item).collect();
                    if !next.is_empty() {
                        groups.push(Group { user: u, cut, labels: next });
                    }
                    break;
                }
                s0 = k;
            }
        }
    }
    let context = train.events.iter().filter(|e| e.timestamp < end).copied().collect();
    LabelSplit { prefix, context, groups, item_cut: start }
}

/// Each user's latest fifth of events (at least one) are the labels, or with `latest` false
/// the `fold`-th of five disjoint random fifths (one shuffle per user, seeded, so the folds
/// never overlap); users with fewer than five events are not split.
#[doc(hidden)]
pub fn user_split(train: &TrainData<'_>, bought: bool, end: i64, latest: bool, seed: u64, fold: usize) -> LabelSplit {
    let mut by_user: HashMap<u32, Vec<usize>> = HashMap::new();
    for (k, e) in train.events.iter().enumerate() {
        by_user.entry(e.user).or_default().push(k);
    }
    let mut users: Vec<u32> = by_user.keys().copied().collect();
    users.sort_unstable();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut held = vec![false; train.events.len()];
    let mut cut_of = HashMap::new();
    let mut labels: HashMap<u32, HashSet<u32>> = HashMap::new();
    for u in users {
        let mut ks = by_user.remove(&u).unwrap_or_default();
        if ks.len() < 5 {
            continue;
        }
        ks.sort_by_key(|&k| (train.events[k].timestamp, k));
        let n_hold = ks.len().div_ceil(5);
        let held_out = if latest {
            // events at the cut's second that were not held out stay before it
            cut_of.insert(u, train.events[ks[ks.len() - n_hold]].timestamp + 1);
            ks.len() - n_hold..ks.len()
        } else {
            ks.shuffle(&mut rng);
            cut_of.insert(u, end);
            // fifths [f·n/5, (f+1)·n/5): disjoint, each at least one event (n ≥ 5)
            let f = fold % 5;
            f * ks.len() / 5..(f + 1) * ks.len() / 5
        };
        for &k in &ks[held_out] {
            held[k] = true;
            let e = &train.events[k];
            if daogou_core::is_bought(e.kind, bought) && positive_pair(train.matrix, e) {
                labels.entry(u).or_default().insert(e.item);
            }
        }
    }
    // a user's features see the events not held out only
    let prefix: Vec<Interaction> = train.events.iter().zip(&held).filter(|(_, &h)| !h).map(|(e, _)| *e).collect();
    let mut groups: Vec<Group> = labels
        .into_iter()
        .filter(|(_, l)| !l.is_empty())
        .map(|(u, l)| Group { user: u, cut: cut_of[&u], labels: l })
        .collect();
    groups.sort_by_key(|g| g.user);
    LabelSplit { context: prefix.clone(), prefix, groups, item_cut: end }
}

/// Build the training set: label splits at the end of `train`, generators refitted before
/// each, features and candidates per user.
pub fn training_set(train: &TrainData<'_>, params: &Params) -> Result<TrainingSet> {
    let s = Settings::parse(params)?;
    if train.events.is_empty() {
        return Err(bad("the ranker needs the event log (times and kinds) behind the training matrix"));
    }
    let cfg = FeatureConfig::for_events(train.events);
    build_training_set(train, &s, &cfg)
}

fn build_training_set(train: &TrainData<'_>, s: &Settings, cfg: &FeatureConfig) -> Result<TrainingSet> {
    let end = train.events.iter().map(|e| e.timestamp).max().unwrap_or(0) + 1;
    let w_days = if s.window_days > 0.0 { s.window_days } else { auto_window_days(train.events) };
    let w = (w_days * 86_400.0) as i64;
    // labels: purchases (targets=purchases, in data with purchases), else every positive event
    let bought = s.purchases_only && cfg.purchases;
    let mut splits = Vec::new();
    let mut mode = s.labels;
    if mode != Labels::User {
        for k in 0..s.windows as i64 {
            let (start, stop) = (end - (k + 1) * w, end - k * w);
            splits.push(time_split(train, bought, start, stop, (cfg.session_gap_hours * 3_600.0) as i64));
        }
        if mode == Labels::Auto {
            // users with label events in the last window, and those of them with history
            let active: HashSet<u32> = train
                .events
                .iter()
                .filter(|e| e.timestamp >= end - w && daogou_core::is_bought(e.kind, bought))
                .map(|e| e.user)
                .collect();
            let with_history = splits[0].groups.iter().filter(|g| g.cut == end - w).count();
            mode = if with_history * 3 < active.len() || with_history < 20 { Labels::User } else { Labels::Time };
        }
    }
    if mode == Labels::User {
        // random holdouts: one disjoint fold per window (more groups to learn from, each with
        // its own refit of the generators); the latest fifth exists once
        let folds = if s.holdout_latest { 1 } else { s.user_folds };
        splits = (0..folds).map(|k| user_split(train, bought, end, s.holdout_latest, s.trees.seed, k)).collect();
    }
    let labels_from = match mode {
        Labels::User => "user".to_owned(),
        _ => format!("time ({w_days:.1} days × {})", s.windows),
    };
    let mut gen_names = s.generators.clone();
    let mut set = TrainingSet { labels_from, ..Default::default() };
    let mut pieces: Vec<(Vec<f32>, Vec<f32>, Vec<usize>, Vec<usize>)> = Vec::new();
    for (k, split) in splits.iter().enumerate() {
        if split.groups.is_empty() {
            continue;
        }
        let matrix = prefix_matrix(train.matrix, train.events, &split.prefix, train.explicit);
        let inner = TrainData::new(&matrix, train.explicit).with_items(train.items).with_events(&split.prefix);
        let gens = fit_generators(&inner, s, &mut set.warnings);
        if gens.is_empty() {
            return Err(bad(format!("no candidate generator could be fitted ({})", set.warnings.join("; "))));
        }
        // the generators that fit in every split make the feature set
        gen_names.retain(|g| gens.iter().any(|x| &x.name == g));
        let items = ItemTable::build(&split.prefix, train.items, train.matrix.n_items(), split.item_cut, cfg);
        let mut picked: Vec<usize> = (0..split.groups.len()).collect();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(s.trees.seed.wrapping_add(k as u64));
        picked.shuffle(&mut rng);
        picked.truncate(s.max_users);
        picked.sort_unstable();
        let mut context_of: HashMap<u32, Vec<Interaction>> = HashMap::new();
        for e in &split.context {
            context_of.entry(e.user).or_default().push(*e);
        }
        let blank = session_columns(&row_names(&items), s.session);
        let per_user: Vec<(Vec<f32>, Vec<f32>, usize)> = picked
            .par_iter()
            .map(|&g| {
                let g = &split.groups[g];
                let none = Vec::new();
                let mine = context_of.get(&g.user).unwrap_or(&none);
                let ctx = UserContext::new(mine, g.cut, &items, cfg);
                let mut rows = Vec::new();
                let cands = candidate_rows(&gens, &items, &ctx, Who::Known(g.user), s.candidates, &blank, &mut rows);
                let labels: Vec<f32> = cands.iter().map(|i| f32::from(u8::from(g.labels.contains(i)))).collect();
                (rows, labels, g.labels.len())
            })
            .collect();
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        let mut groups = Vec::new();
        let mut relevant = Vec::new();
        for (r, l, n_rel) in per_user {
            // a group without a positive teaches LambdaMART nothing
            if l.iter().any(|&x| x > 0.0) {
                groups.push(l.len());
                relevant.push(n_rel);
                rows.extend(r);
                labels.extend(l);
            }
        }
        if set.names.is_empty() {
            set.names = row_names(&items);
            set.names.extend(generator_feature_names(&gens.iter().map(|g| g.name.clone()).collect::<Vec<_>>()));
        }
        pieces.push((rows, labels, groups, relevant));
    }
    // windows whose generators differ from the common set cannot be stacked; keep the first
    // window's layout (every window fits the same generators unless one failed in between)
    let expected = set.names.len();
    for (rows, labels, groups, relevant) in pieces {
        if !labels.is_empty() && rows.len() == labels.len() * expected {
            set.rows.extend(rows);
            set.labels.extend(labels);
            set.groups.extend(groups);
            set.relevant.extend(relevant);
        }
    }
    if set.groups.is_empty() {
        return Err(bad(format!(
            "no user has both history and a purchase in the label window ({}): too little data to train on",
            set.labels_from
        )));
    }
    Ok(set)
}

/// The learned ranker; see the [crate docs](crate).
pub struct Ranker {
    params: Params,
    generators: Vec<Generator>,
    items: ItemTable,
    cfg: FeatureConfig,
    /// The model's "now": one second after the latest training event.
    cut: i64,
    m: usize,
    /// Feature columns blanked (`session=false`).
    blank: Vec<usize>,
    /// Training events by user: `indptr` over `events` (sorted by user, then time).
    indptr: Vec<usize>,
    events: Vec<Interaction>,
    tail: Vec<f32>,
    names: Vec<String>,
    gbdt: Gbdt,
    warnings: Vec<String>,
    labels_from: String,
}

impl std::fmt::Debug for Ranker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let gens: Vec<&str> = self.generators.iter().map(|g| g.name.as_str()).collect();
        write!(f, "Ranker(generators {gens:?}, {} features)", self.names.len())
    }
}

fn popularity_tail(m: &Interactions) -> Vec<f32> {
    let counts: Vec<u32> = (0..m.n_items()).map(|i| m.item_row(i as u32).0.len() as u32).collect();
    let max = counts.iter().copied().max().unwrap_or(0);
    counts.iter().map(|&c| (f64::from(c) / (f64::from(max) + 1.0)) as f32).collect()
}

impl Ranker {
    /// Fit on `train` (which must carry its event log).
    pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Ranker> {
        let s = Settings::parse(params)?;
        if train.events.is_empty() {
            return Err(bad("the ranker needs the event log (times and kinds) behind the training matrix"));
        }
        let (n_users, n_items) = (train.matrix.n_users(), train.matrix.n_items());
        let events: Vec<Interaction> = train
            .events
            .iter()
            .filter(|e| (e.user as usize) < n_users && (e.item as usize) < n_items)
            .copied()
            .collect();
        let train = &TrainData { events: &events, ..*train };
        let cfg = FeatureConfig::for_events(&events);
        let set = build_training_set(train, &s, &cfg)?;
        let tree_params = if set.labels_from == "user" { &s.user_trees } else { &s.trees };
        let gbdt = Gbdt::train(set.rows, set.names.len(), &set.labels, &set.groups, tree_params).map_err(bad)?;
        let mut warnings = set.warnings;
        let mut generators = fit_generators(train, &s, &mut warnings);
        // the trees read the features of the generators they were trained with
        let trained: Vec<String> = set
            .names
            .iter()
            .filter_map(|n| n.strip_prefix("gen.")?.strip_suffix(".score").map(str::to_owned))
            .collect();
        generators.retain(|g| trained.contains(&g.name));
        if generators.len() != trained.len() {
            return Err(bad(format!(
                "the generators {trained:?} fitted on the label window but not all on the whole training data"
            )));
        }
        let end = events.iter().map(|e| e.timestamp).max().unwrap_or(0) + 1;
        let items = ItemTable::build(&events, train.items, n_items, end, &cfg);
        let mut sorted = events.clone();
        sorted.sort_by_key(|e| (e.user, e.timestamp, e.item));
        let mut indptr = vec![0usize; n_users + 1];
        for e in &sorted {
            indptr[e.user as usize + 1] += 1;
        }
        for u in 0..n_users {
            indptr[u + 1] += indptr[u];
        }
        Ok(Ranker {
            params: params.clone(),
            generators,
            items,
            cfg,
            cut: end,
            m: s.candidates,
            blank: session_columns(&set.names, s.session),
            indptr,
            events: sorted,
            tail: popularity_tail(train.matrix),
            names: set.names,
            gbdt,
            warnings,
            labels_from: set.labels_from,
        })
    }

    /// Warnings of the fit (generators left out).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// How the labels were chosen.
    pub fn labels_from(&self) -> &str {
        &self.labels_from
    }

    fn user_events(&self, user: u32) -> &[Interaction] {
        let u = user as usize;
        if u + 1 < self.indptr.len() {
            &self.events[self.indptr[u]..self.indptr[u + 1]]
        } else {
            &[]
        }
    }

    fn score_with(&self, ctx: &UserContext, who: Who<'_>, out: &mut [f32]) {
        out.copy_from_slice(&self.tail);
        let mut rows = Vec::new();
        let cands = candidate_rows(&self.generators, &self.items, ctx, who, self.m, &self.blank, &mut rows);
        let width = self.names.len();
        let preds: Vec<f32> = rows.chunks_exact(width).map(|r| self.gbdt.predict(r)).collect();
        let lo = preds.iter().copied().filter(|x| x.is_finite()).fold(f32::INFINITY, f32::min);
        for (&i, &p) in cands.iter().zip(&preds) {
            // every candidate above every other item (popularity shares are below 1)
            out[i as usize] = if p.is_finite() { 1.0 + (p - lo) + 1e-3 } else { 1.0 };
        }
    }

    /// Events standing for an ad-hoc history (no times): one bought event per entry, a minute
    /// apart, ending just before the model's cut.
    fn history_events(&self, history: &[(u32, f32)]) -> Vec<Interaction> {
        let kind = if self.cfg.purchases { EventKind::Purchase } else { EventKind::Rating };
        let n = history.len() as i64;
        history
            .iter()
            .enumerate()
            .filter(|(_, (i, v))| (*i as usize) < self.tail.len() && *v > 0.0 && v.is_finite())
            .map(|(k, &(i, v))| Interaction {
                user: 0,
                item: i,
                value: v,
                timestamp: self.cut - 1 - (n - 1 - k as i64) * 60,
                kind,
            })
            .collect()
    }
}

fn fit(train: &TrainData<'_>, params: &Params) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(Ranker::fit(train, params)?))
}

impl Recommender for Ranker {
    fn name(&self) -> &str {
        MODEL
    }

    fn n_items(&self) -> usize {
        self.tail.len()
    }

    fn score_user(&self, user: u32, out: &mut [f32]) {
        let ctx = UserContext::new(self.user_events(user), self.cut, &self.items, &self.cfg);
        if (user as usize) + 1 < self.indptr.len() {
            self.score_with(&ctx, Who::Known(user), out);
        } else {
            self.score_with(&ctx, Who::History(&[]), out);
        }
    }

    fn score_history(&self, history: &[(u32, f32)], out: &mut [f32]) {
        let events = self.history_events(history);
        let ctx = UserContext::new(&events, self.cut, &self.items, &self.cfg);
        self.score_with(&ctx, Who::History(history), out);
    }

    fn score_events(&self, events: &[Interaction], now: i64, out: &mut [f32]) -> bool {
        let weights = EventWeights::default();
        let mut sorted: Vec<Interaction> =
            events.iter().filter(|e| (e.item as usize) < self.tail.len()).copied().collect();
        sorted.sort_by_key(|e| (e.timestamp, e.item));
        let history: Vec<(u32, f32)> = sorted.iter().map(|e| (e.item, weights.weight(e))).collect();
        let cut = now.max(sorted.last().map_or(i64::MIN, |e| e.timestamp)).saturating_add(1);
        let ctx = UserContext::new(&sorted, cut, &self.items, &self.cfg);
        self.score_with(&ctx, Who::History(&history), out);
        true
    }

    fn similar_items(&self, item: u32, n: usize) -> Option<Vec<(u32, f32)>> {
        self.generators.iter().find_map(|g| g.model.similar_items(item, n))
    }

    fn explain(&self, history: &[(u32, f32)], item: u32, n: usize) -> Vec<(u32, f32)> {
        let had = history.iter().any(|&(i, v)| i == item && v > 0.0);
        self.generators
            .iter()
            .filter(|g| had == (g.name == "buy-again"))
            .map(|g| g.model.explain(history, item, n))
            .find(|e| !e.is_empty())
            .unwrap_or_default()
    }

    fn feature_importance(&self) -> Vec<(String, f64)> {
        let mut v: Vec<(String, f64)> =
            self.gbdt.importance().into_iter().filter_map(|(f, g)| self.names.get(f).map(|n| (n.clone(), g))).collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }

    fn state(&self) -> ModelState {
        let mut s = ModelState::new(MODEL, &self.params);
        s.set_scalar("cut", self.cut as f64);
        s.set_scalar("candidates", self.m as f64);
        s.set("blank", Tensor::U32(self.blank.iter().map(|&b| b as u32).collect()));
        s.set_scalar("baskets_by_day", f64::from(u8::from(self.cfg.baskets == Baskets::Day)));
        s.set_scalar("purchases", f64::from(u8::from(self.cfg.purchases)));
        s.set_scalar("session_gap_hours", self.cfg.session_gap_hours);
        set_text(&mut s, "names", &self.names.join("\n"));
        set_text(&mut s, "item_names", &self.items.names.join("\n"));
        set_text(&mut s, "warnings", &self.warnings.join("\n"));
        set_text(&mut s, "labels_from", &self.labels_from);
        s.set("items.values", Tensor::F32(self.items.values.clone()));
        s.set("items.category", Tensor::U32(self.items.category.clone()));
        s.set("items.price", Tensor::F32(self.items.price.clone()));
        s.set("items.price_band", Tensor::F32(self.items.price_band.clone()));
        s.set("items.repeat_interval", Tensor::F32(self.items.repeat_interval.clone()));
        s.set("tail", Tensor::F32(self.tail.clone()));
        s.set("events.indptr", Tensor::U64(self.indptr.iter().map(|&x| x as u64).collect()));
        s.set("events.item", Tensor::U32(self.events.iter().map(|e| e.item).collect()));
        s.set(
            "events.kind",
            Tensor::U32(
                self.events
                    .iter()
                    .map(|e| EventKind::ALL.iter().position(|&k| k == e.kind).unwrap_or(0) as u32)
                    .collect(),
            ),
        );
        s.set("events.time", Tensor::F64(self.events.iter().map(|e| e.timestamp as f64).collect()));
        s.set("events.value", Tensor::F32(self.events.iter().map(|e| e.value).collect()));
        set_bytes(&mut s, "trees", &self.gbdt.to_bytes().unwrap_or_default());
        let gens: Vec<&str> = self.generators.iter().map(|g| g.name.as_str()).collect();
        set_text(&mut s, "generators", &gens.join(","));
        for g in &self.generators {
            let st = g.model.state();
            let p: Vec<String> = g.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            set_text(&mut s, &format!("gen.{}.params", g.name), &p.join("\n"));
            for (k, v) in st.scalars {
                s.set_scalar(&format!("gen.{}.{k}", g.name), v);
            }
            for (k, v) in st.tensors {
                s.set(&format!("gen.{}.{k}", g.name), v);
            }
        }
        s
    }
}

/// Bytes as a U32 array: the length in `NAME.len`, four bytes per element, little-endian.
fn set_bytes(s: &mut ModelState, name: &str, bytes: &[u8]) {
    s.set_scalar(&format!("{name}.len"), bytes.len() as f64);
    let words = bytes
        .chunks(4)
        .map(|c| {
            let mut w = [0u8; 4];
            w[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(w)
        })
        .collect();
    s.set(name, Tensor::U32(words));
}

fn bytes(s: &ModelState, name: &str) -> Result<Vec<u8>> {
    let len = s.count(&format!("{name}.len"))?;
    let words = s.u32s(name, Some(len.div_ceil(4)))?;
    Ok(words.iter().flat_map(|w| w.to_le_bytes()).take(len).collect())
}

fn set_text(s: &mut ModelState, name: &str, text: &str) {
    set_bytes(s, name, text.as_bytes());
}

fn text(s: &ModelState, name: &str) -> Result<String> {
    String::from_utf8(bytes(s, name)?).map_err(|_| bad_state(format!("`{name}` is not UTF-8")))
}

fn lines(s: &str) -> Vec<String> {
    if s.is_empty() {
        Vec::new()
    } else {
        s.split('\n').map(str::to_owned).collect()
    }
}

fn load(s: &ModelState) -> Result<Box<dyn Recommender>> {
    let names = lines(&text(s, "names")?);
    let item_names = lines(&text(s, "item_names")?);
    let tail = s.f32s("tail", None)?.to_vec();
    let n_items = tail.len();
    let items = ItemTable {
        values: s.f32s("items.values", Some(n_items * item_names.len()))?.to_vec(),
        names: item_names,
        category: s.u32s("items.category", Some(n_items))?.to_vec(),
        price: s.f32s("items.price", Some(n_items))?.to_vec(),
        price_band: s.f32s("items.price_band", Some(n_items))?.to_vec(),
        repeat_interval: s.f32s("items.repeat_interval", Some(n_items))?.to_vec(),
    };
    let indptr: Vec<usize> = s.u64s("events.indptr", None)?.iter().map(|&x| x as usize).collect();
    let n_events = indptr.last().copied().unwrap_or(0);
    if indptr.windows(2).any(|w| w[0] > w[1]) || indptr.first() != Some(&0) {
        return Err(bad_state("array `events.indptr` is not monotone from 0"));
    }
    let item = s.u32s("events.item", Some(n_events))?;
    let kind = s.u32s("events.kind", Some(n_events))?;
    let time = s.f64s("events.time", Some(n_events))?;
    let value = s.f32s("events.value", Some(n_events))?;
    let mut events = Vec::with_capacity(n_events);
    for u in 0..indptr.len().saturating_sub(1) {
        for k in indptr[u]..indptr[u + 1] {
            let kind = *EventKind::ALL.get(kind[k] as usize).ok_or_else(|| bad_state("bad event kind"))?;
            if item[k] as usize >= n_items {
                return Err(bad_state(format!("event item {} out of range", item[k])));
            }
            events.push(Interaction {
                user: u as u32,
                item: item[k],
                value: value[k],
                timestamp: time[k] as i64,
                kind,
            });
        }
    }
    let cfg = FeatureConfig {
        baskets: if s.flag("baskets_by_day")? { Baskets::Day } else { Baskets::Time },
        purchases: s.flag("purchases")?,
        session_gap_hours: s.scalar("session_gap_hours")?,
    };
    let gbdt = Gbdt::from_bytes(&bytes(s, "trees")?, names.len()).map_err(|e| bad_state(format!("trees: {e}")))?;
    let mut generators = Vec::new();
    for g in
        lines(&text(s, "generators")?).into_iter().flat_map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>())
    {
        let prefix = format!("gen.{g}.");
        let mut params = Params::new();
        for l in lines(&text(s, &format!("gen.{g}.params"))?) {
            if let Some((k, v)) = l.split_once('=') {
                params.set(k, v);
            }
        }
        let mut st = ModelState::new(&g, &params);
        for (k, v) in &s.scalars {
            if let Some(rest) = k.strip_prefix(&prefix) {
                if rest != "params.len" {
                    st.set_scalar(rest, *v);
                }
            }
        }
        for (k, v) in &s.tensors {
            if let Some(rest) = k.strip_prefix(&prefix) {
                if rest != "params" {
                    st.set(rest, v.clone());
                }
            }
        }
        let model = daogou_algo::load_model(&st)?;
        generators.push(Generator { name: g, params, model });
    }
    let expected = row_names(&items).len() + 3 * generators.len();
    if expected != names.len() {
        return Err(bad_state(format!("{} feature names for {expected} features", names.len())));
    }
    Ok(Box::new(Ranker {
        params: s.params.clone(),
        generators,
        items,
        cfg,
        cut: s.scalar("cut")? as i64,
        m: s.count("candidates")?,
        blank: s.u32s("blank", None)?.iter().map(|&b| b as usize).filter(|&b| b < names.len()).collect(),
        indptr,
        events,
        tail,
        names,
        gbdt,
        warnings: lines(&text(s, "warnings")?),
        labels_from: text(s, "labels_from")?,
    }))
}
