//! Recent intent against accuracy for the service's "for you" (issue 14): the session blend's
//! weight and window, measured on a validation period (which chooses the defaults) and a test
//! period after it (reported only).
//!
//! ```sh
//! cargo run --release -p daogou-engine --example session_blend -- demo
//! cargo run --release -p daogou-engine --example session_blend -- retail ../shared/datasets/online-retail/online_retail.csv.gz
//! ```
//!
//! * Each buyer (a purchase in the label window after the cut, an event before it) is shown
//!   "for you" at the end of their last visit before the cut (its last event + 60 s), through
//!   the engine exactly as the service answers: no repeats, every item whether in stock or not
//!   (the ranking, not the stock, is measured).
//! * The last visit: the trailing events before the cut with gaps under an hour. It centres on
//!   category C when it has two events or more and at least half of them are in C; the
//!   complements of C are the three categories with the highest lift among the training
//!   baskets (a user's purchases on one day) that hold C, seen together at least 5 times.
//!   Online Retail has no categories: an item's category is the last word of its title (the
//!   product noun: HOLDER, LANTERN, BAG, …).
//! * Printed per model and setting: the share of the top 10 in the visit's category or its
//!   complements (shoppers whose visit centres on one category), and NDCG@10 on the next
//!   purchases for those shoppers and for every buyer.
//! * Periods: the demo shop (its span split in fifths): validation cut at 3/5 with labels up to
//!   4/5, test cut at 4/5 with labels to the end; Online Retail: validation cut 2011-10-09 with
//!   labels to 2011-11-09, test cut 2011-11-09 with labels to the end.

use std::collections::{HashMap, HashSet};

use daogou_core::{Dataset, EventKind, Interaction};
use daogou_data::synth::{generate_shop, ShopConfig};
use daogou_data::{load_dataset, parse_time, Format, LoadOptions};
use daogou_engine::{lists, Blend, Catalogue, Filter, History, ModelSpec, Snapshot};

/// (weight, hours) settings tried; (0, _) is the whole history alone.
const SETTINGS: [(f32, f32); 8] =
    [(0.0, 1.0), (0.1, 1.0), (0.25, 1.0), (0.5, 1.0), (0.75, 1.0), (0.25, 0.5), (0.25, 4.0), (0.5, 4.0)];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut ds, periods, name) = match args.first().map(String::as_str) {
        Some("retail") => {
            let path = args.get(1).expect("retail PATH");
            let (ds, _) = load_dataset(path.as_ref(), &LoadOptions::new(Format::OnlineRetail)).expect("readable data");
            let t = |s: &str| parse_time(s).expect("a date");
            let end = ds.interactions.iter().map(|e| e.timestamp).max().unwrap_or(0) + 1;
            (ds, [(t("2011-10-09"), t("2011-11-09")), (t("2011-11-09"), end)], "Online Retail")
        }
        _ => {
            let ds = generate_shop(&ShopConfig::default()).to_dataset();
            let (lo, hi) =
                ds.interactions.iter().fold((i64::MAX, i64::MIN), |a, e| (a.0.min(e.timestamp), a.1.max(e.timestamp)));
            let at = |k: i64| lo + (hi - lo) * k / 5;
            (ds, [(at(3), at(4)), (at(4), hi + 1)], "demo shop")
        }
    };
    if ds.catalogue.iter().all(|it| it.category.is_none()) {
        for it in &mut ds.catalogue {
            it.category = it
                .title
                .split_whitespace()
                .last()
                .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_uppercase());
        }
    }
    let models: Vec<&str> =
        args.iter().skip_while(|a| *a != "--models").nth(1).map_or(vec!["item-knn", "als"], |m| m.split(',').collect());
    for (period, (cut, end)) in ["validation", "test"].iter().zip(periods) {
        measure(&ds, name, period, cut, end, &models);
    }
}

fn measure(ds: &Dataset, name: &str, period: &str, cut: i64, end: i64, models: &[&str]) {
    let train: Vec<Interaction> = ds.interactions.iter().filter(|e| e.timestamp < cut).copied().collect();
    let cat: Vec<Option<&str>> = (0..ds.n_items() as u32).map(|i| ds.category(i)).collect();
    let complements = complements(&train, &cat);

    let mut next: HashMap<u32, HashSet<u32>> = HashMap::new();
    for e in ds.interactions.iter().filter(|e| e.timestamp >= cut && e.timestamp < end && e.kind == EventKind::Purchase)
    {
        next.entry(e.user).or_default().insert(e.item);
    }
    let mut by_user: HashMap<u32, Vec<&Interaction>> = HashMap::new();
    for e in train.iter().filter(|e| e.kind != EventKind::Search) {
        by_user.entry(e.user).or_default().push(e);
    }
    // (user, end of their last visit, the categories that visit asks for when it centres on one)
    let mut buyers: Vec<(u32, i64, Option<HashSet<String>>)> = Vec::new();
    for (&u, evs) in &mut by_user {
        if !next.contains_key(&u) {
            continue;
        }
        evs.sort_by_key(|e| e.timestamp);
        let mut start = evs.len() - 1;
        while start > 0 && evs[start].timestamp - evs[start - 1].timestamp <= 3_600 {
            start -= 1;
        }
        let visit: Vec<&str> = evs[start..].iter().filter_map(|e| cat[e.item as usize]).collect();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for c in &visit {
            *counts.entry(c).or_default() += 1;
        }
        let focus = counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0))).and_then(|(c, n)| {
            (visit.len() >= 2 && 2 * n >= visit.len()).then(|| {
                let mut wanted: HashSet<String> = complements(c).into_iter().collect();
                wanted.insert(c.to_owned());
                wanted
            })
        });
        buyers.push((u, evs.last().map_or(cut, |e| e.timestamp) + 60, focus));
    }
    buyers.sort_by_key(|b| b.0);
    let focused = buyers.iter().filter(|b| b.2.is_some()).count();
    println!(
        "\n{name}, {period} (cut {}, labels to {}): {} buyers, {focused} of them with a last visit that centres on one category\n",
        day(cut),
        day(end),
        buyers.len()
    );
    println!("| model | session weight | hours | top-10 share in the visit's category or its complements | NDCG@10, those shoppers | NDCG@10, every buyer |");
    println!("|---|---|---|---|---|---|");
    let train_ds = Dataset { interactions: train.clone(), ..ds.clone() };
    let filter = Filter { in_stock: false, ..Filter::default() };
    for model in models {
        let mut catalogue = Catalogue::new(ds.catalogue.clone());
        let snap = match Snapshot::fit(&train_ds, &mut catalogue, &ModelSpec::named(model), 1, 0) {
            Ok(s) => s,
            Err(e) => {
                println!("| {model} | failed: {e} | | | | |");
                continue;
            }
        };
        for (w, hours) in SETTINGS {
            let blend = Blend { session_weight: w, session_hours: hours, ..Blend::default() };
            let (mut share, mut ndcg_focus, mut ndcg_all) = (0.0, 0.0, 0.0);
            for (u, at, focus) in &buyers {
                let h = History::build(&snap, Some(*u), std::iter::empty());
                let picks =
                    lists::for_you(&snap, &catalogue, &h, &filter, &Blend { at: Some(*at), ..blend.clone() }, 10);
                let rel = &next[u];
                let dcg: f64 = picks
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| ds.items.get(&p.item).is_some_and(|i| rel.contains(&i)))
                    .map(|(r, _)| 1.0 / (r as f64 + 2.0).log2())
                    .sum();
                let idcg: f64 = (0..rel.len().min(10)).map(|r| 1.0 / (r as f64 + 2.0).log2()).sum();
                ndcg_all += dcg / idcg;
                if let Some(wanted) = focus {
                    ndcg_focus += dcg / idcg;
                    let hits = picks
                        .iter()
                        .filter(|p| {
                            ds.items.get(&p.item).and_then(|i| cat[i as usize]).is_some_and(|c| wanted.contains(c))
                        })
                        .count();
                    share += hits as f64 / 10.0;
                }
            }
            let (f, a) = (focused.max(1) as f64, buyers.len().max(1) as f64);
            println!("| {model} | {w} | {hours} | {:.3} | {:.4} | {:.4} |", share / f, ndcg_focus / f, ndcg_all / a);
        }
    }
}

/// A date, for the headings.
fn day(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map_or(t.to_string(), |d| d.format("%Y-%m-%d").to_string())
}

/// Per category, its three complements by lift among training baskets (a user's purchases on
/// one day), seen together at least 5 times.
fn complements<'a>(train: &[Interaction], cat: &[Option<&'a str>]) -> impl Fn(&str) -> Vec<String> + 'a {
    let mut baskets: HashMap<(u32, i64), HashSet<&'a str>> = HashMap::new();
    for e in train.iter().filter(|e| e.kind == EventKind::Purchase) {
        if let Some(c) = cat[e.item as usize] {
            baskets.entry((e.user, e.timestamp.div_euclid(86_400))).or_default().insert(c);
        }
    }
    let n_b = baskets.len() as f64;
    let mut single: HashMap<&'a str, f64> = HashMap::new();
    let mut pair: HashMap<(&'a str, &'a str), f64> = HashMap::new();
    for b in baskets.values() {
        for &c in b {
            *single.entry(c).or_default() += 1.0;
            for &d in b {
                if c != d {
                    *pair.entry((c, d)).or_default() += 1.0;
                }
            }
        }
    }
    move |c: &str| {
        let mut v: Vec<(&str, f64)> = pair
            .iter()
            .filter(|((a, _), n)| *a == c && **n >= 5.0)
            .map(|((_, d), n)| (*d, n * n_b / (single[c] * single[d])))
            .filter(|x| x.1 > 1.0)
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        v.into_iter().take(3).map(|x| x.0.to_owned()).collect()
    }
}
