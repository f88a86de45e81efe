//! The figures of `daogou report` beyond the leaderboard, from the runs of one comparison
//! (several models on the same split, [`crate::significance::compare_reports`]):
//!
//! * **distributions**: a histogram of each model's per-user NDCG@K (ten bins of width 0.1,
//!   the last one closed), with the mean, quartiles and the share of users at 0;
//! * **popularity**: the items in ten deciles by training popularity (users who had the item
//!   in the training matrix, most popular first, ties by item index); the share of training
//!   interactions in each decile against the share of each model's recommendations (all
//!   top-k slots of the users evaluated), the share that goes to the long tail (deciles
//!   3–10: the items outside the most popular 20 %), the mean popularity of a recommended
//!   item, and the items each model recommends most;
//! * **beyond_accuracy**: coverage, novelty and diversity per model (the numbers of the
//!   protocol, [`crate::TopNMetrics`]);
//! * **segments**: NDCG@K, recall@K and hit rate@K of the users evaluated, grouped by the
//!   length of their training history (items in the training matrix: 1–2, 3–5, 6–10, 11–20,
//!   21+; empty groups left out) and, when the catalogue has categories, by each user's main
//!   top-level category (the one most of their training items are in; the 8 largest groups,
//!   then `other`).
//!
//! Every number is a plain mean over users or a share; the JSON is what the HTML shows.

use std::collections::BTreeMap;

use daogou_core::{Dataset, Interactions};
use serde_json::{json, Value};

use crate::metrics::UserMetrics;
use crate::protocol::{metric_key, Report};

/// Bins of the per-user histograms.
pub const BINS: usize = 10;
/// Popularity groups (deciles).
pub const DECILES: usize = 10;
/// The head: the most popular deciles; the rest is the long tail.
pub const HEAD_DECILES: usize = 2;
/// History-length groups of the segments: inclusive lower bounds, the last one open.
pub const HISTORY: [usize; 5] = [1, 3, 6, 11, 21];
/// Category groups shown before `other`.
pub const MAX_CATEGORIES: usize = 8;
/// Most recommended items listed per model.
pub const TOP_ITEMS: usize = 5;

/// The report's sections as one JSON object: `distributions`, `popularity`,
/// `beyond_accuracy`, `segments` (see the module docs). `train` is the training matrix of
/// the comparison's split; `reports` the runs, the reference model first, all on the same
/// users at the same k.
pub fn sections(ds: &Dataset, train: &Interactions, reports: &[Report]) -> Value {
    json!({
        "distributions": distributions(reports),
        "popularity": popularity(ds, train, reports),
        "beyond_accuracy": beyond_accuracy(reports),
        "segments": segments(ds, train, reports),
    })
}

fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        0.0
    } else {
        x.iter().sum::<f64>() / x.len() as f64
    }
}

/// The `q` quantile of sorted `x` (linear interpolation, as the bootstrap's percentiles).
fn quantile(x: &[f64], q: f64) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    let h = (x.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(x.len() - 1);
    x[lo] + (h - lo as f64) * (x[hi] - x[lo])
}

#[doc(hidden)]

pub fn distributions(reports: &[Report]) -> Value {
    let k = reports.first().map_or(10, |r| r.topn.k);
    let edges: Vec<f64> = (0..=BINS).map(|b| b as f64 / BINS as f64).collect();
    let models: Vec<Value> = reports
        .iter()
        .map(|r| {
            let mut x: Vec<f64> = r.topn.per_user.iter().map(|u| u.ndcg).collect();
            let mut counts = [0usize; BINS];
            for &v in &x {
                counts[((v * BINS as f64).floor().max(0.0) as usize).min(BINS - 1)] += 1;
            }
            x.sort_by(f64::total_cmp);
            let zero = x.iter().filter(|&&v| v == 0.0).count();
            json!({
                "model": r.model,
                "users": x.len(),
                "counts": counts,
                "mean": mean(&x),
                "p25": quantile(&x, 0.25),
                "median": quantile(&x, 0.5),
                "p75": quantile(&x, 0.75),
                "zero_share": zero as f64 / x.len().max(1) as f64,
            })
        })
        .collect();
    json!({ "metric": metric_key("ndcg", k), "edges": edges, "models": models })
}

/// Each item's decile (0 = the most popular tenth) and training popularity.
fn deciles(train: &Interactions, n_items: usize) -> (Vec<usize>, Vec<usize>) {
    let pop: Vec<usize> =
        (0..n_items).map(|i| if i < train.n_items() { train.item_row(i as u32).0.len() } else { 0 }).collect();
    let mut order: Vec<usize> = (0..n_items).collect();
    order.sort_by(|&a, &b| pop[b].cmp(&pop[a]).then(a.cmp(&b)));
    let mut decile = vec![0; n_items];
    for (rank, &i) in order.iter().enumerate() {
        decile[i] = rank * DECILES / n_items.max(1);
    }
    (decile, pop)
}

#[doc(hidden)]

pub fn popularity(ds: &Dataset, train: &Interactions, reports: &[Report]) -> Value {
    // a model may rank items the dataset knows and the matrix does not, never more
    let listed = reports.iter().flat_map(|r| r.topn.lists.iter().flatten()).map(|&i| i as usize + 1).max();
    let n_items = ds.n_items().max(train.n_items()).max(listed.unwrap_or(0));
    let (decile, pop) = deciles(train, n_items);
    let mut items = [0usize; DECILES];
    let mut pairs = [0usize; DECILES];
    for i in 0..n_items {
        items[decile[i]] += 1;
        pairs[decile[i]] += pop[i];
    }
    let total: usize = pairs.iter().sum();
    let share = |x: &[usize; DECILES], total: usize| -> Vec<f64> {
        x.iter().map(|&c| c as f64 / total.max(1) as f64).collect()
    };
    let interactions = share(&pairs, total);
    let tail = |s: &[f64]| s[HEAD_DECILES..].iter().sum::<f64>();
    let models: Vec<Value> = reports
        .iter()
        .map(|r| {
            let mut slots = [0usize; DECILES];
            let mut times: BTreeMap<u32, usize> = BTreeMap::new();
            let mut pop_sum = 0usize;
            let mut n = 0usize;
            for &i in r.topn.lists.iter().flatten() {
                slots[decile[i as usize]] += 1;
                *times.entry(i).or_default() += 1;
                pop_sum += pop[i as usize];
                n += 1;
            }
            let s = share(&slots, n);
            let mut most: Vec<(u32, usize)> = times.into_iter().collect();
            most.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let users = r.topn.lists.len().max(1) as f64;
            let top: Vec<Value> = most
                .iter()
                .take(TOP_ITEMS)
                .map(|&(i, c)| {
                    let known = (i as usize) < ds.n_items();
                    json!({
                        "item": if known { ds.items.id(i).to_owned() } else { i.to_string() },
                        "title": if known { ds.title(i).to_owned() } else { String::new() },
                        "category": if known { ds.category(i) } else { None },
                        "popularity": pop[i as usize],
                        "lists_share": c as f64 / users,
                    })
                })
                .collect();
            json!({
                "model": r.model,
                "recommendations": n,
                "share": s,
                "tail_share": tail(&s),
                "mean_popularity": pop_sum as f64 / n.max(1) as f64,
                "top_items": top,
            })
        })
        .collect();
    json!({
        "items": items,
        "interactions_share": interactions,
        "interactions_tail_share": tail(&interactions),
        "head_deciles": HEAD_DECILES,
        "models": models,
    })
}

fn beyond_accuracy(reports: &[Report]) -> Value {
    let rows: Vec<Value> = reports
        .iter()
        .map(|r| {
            let k = r.topn.k;
            let distinct: std::collections::BTreeSet<u32> = r.topn.lists.iter().flatten().copied().collect();
            let mut m = serde_json::Map::new();
            m.insert("model".into(), json!(r.model));
            m.insert(format!("coverage@{k}"), json!(r.topn.coverage));
            m.insert(format!("novelty@{k}"), json!(r.topn.novelty));
            m.insert(format!("diversity@{k}"), json!(r.topn.diversity));
            m.insert("items_recommended".into(), json!(distinct.len()));
            Value::Object(m)
        })
        .collect();
    Value::Array(rows)
}

/// One group of users: its name, and each model's means over its users.
fn segment(name: &str, users: &[u32], reports: &[Report]) -> Value {
    let k = reports.first().map_or(10, |r| r.topn.k);
    let models: Vec<Value> = reports
        .iter()
        .map(|r| {
            let by_user: BTreeMap<u32, &UserMetrics> = r.topn.per_user.iter().map(|u| (u.user, u)).collect();
            let of = |f: fn(&UserMetrics) -> f64| -> f64 {
                mean(&users.iter().filter_map(|u| by_user.get(u)).map(|u| f(u)).collect::<Vec<_>>())
            };
            let mut m = serde_json::Map::new();
            m.insert("model".into(), json!(r.model));
            m.insert(metric_key("ndcg", k), json!(of(|u| u.ndcg)));
            m.insert(metric_key("recall", k), json!(of(|u| u.recall)));
            m.insert(metric_key("hit_rate", k), json!(of(|u| u.hit)));
            Value::Object(m)
        })
        .collect();
    json!({ "segment": name, "users": users.len(), "models": models })
}

#[doc(hidden)]

pub fn segments(ds: &Dataset, train: &Interactions, reports: &[Report]) -> Value {
    let Some(first) = reports.first() else { return json!({ "history": [], "category": null }) };
    let users: Vec<u32> = first.topn.per_user.iter().map(|u| u.user).collect();
    let history_of = |u: u32| if (u as usize) < train.n_users() { train.user_row(u).0.len() } else { 0 };

    let mut history = Vec::new();
    for (g, &lo) in HISTORY.iter().enumerate() {
        let hi = HISTORY.get(g + 1).map(|&next| next - 1);
        let inside: Vec<u32> =
            users.iter().copied().filter(|&u| history_of(u) >= lo && hi.is_none_or(|hi| history_of(u) <= hi)).collect();
        if inside.is_empty() {
            continue;
        }
        let name = match hi {
            Some(hi) if hi == lo => format!("{lo} item"),
            Some(hi) => format!("{lo}–{hi} items"),
            None => format!("{lo}+ items"),
        };
        let mut s = segment(&name, &inside, reports);
        s["min_items"] = json!(lo);
        s["max_items"] = json!(hi);
        history.push(s);
    }

    let top = |c: &str| c.split('/').next().unwrap_or(c).trim().to_owned();
    let has_categories = (0..ds.n_items() as u32).any(|i| ds.category(i).is_some());
    let category = has_categories.then(|| {
        let mut groups: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for &u in &users {
            let mut count: BTreeMap<String, usize> = BTreeMap::new();
            if (u as usize) < train.n_users() {
                for &i in train.user_row(u).0 {
                    if let Some(c) = ds.category(i) {
                        *count.entry(top(c)).or_default() += 1;
                    }
                }
            }
            // the most frequent; ties to the first name
            let main = count.into_iter().fold(None::<(String, usize)>, |best, (c, n)| match best {
                Some((_, bn)) if bn >= n => best,
                _ => Some((c, n)),
            });
            if let Some((c, _)) = main {
                groups.entry(c).or_default().push(u);
            }
        }
        let mut groups: Vec<(String, Vec<u32>)> = groups.into_iter().collect();
        groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        let rest: Vec<u32> = groups.iter().skip(MAX_CATEGORIES).flat_map(|(_, u)| u.iter().copied()).collect();
        let mut out: Vec<Value> = groups.iter().take(MAX_CATEGORIES).map(|(c, u)| segment(c, u, reports)).collect();
        if !rest.is_empty() {
            let mut rest = rest;
            rest.sort_unstable();
            let mut s = segment("other", &rest, reports);
            s["other"] = json!(true);
            out.push(s);
        }
        out
    });
    json!({ "history": history, "category": category })
}
