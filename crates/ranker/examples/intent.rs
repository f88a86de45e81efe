//! Recent intent against accuracy (issue 14): for shoppers whose last session before the cut
//! centres on one category, the share of each model's top 10 that comes from that category or
//! its usual complements, beside NDCG@10 on what they bought next. Both are printed, so the
//! trade-off is visible.
//!
//! ```sh
//! cargo run --release -p daogou-ranker --example intent -- demo
//! cargo run --release -p daogou-ranker --example intent -- retail ../shared/datasets/online-retail/online_retail.csv.gz 2011-11-09
//! ```
//!
//! * The last session: the user's trailing events before the cut with gaps under an hour (as
//!   the ranker's features read it). It centres on category C when it has two events or more
//!   and at least half of them are in C.
//! * Complements of C: the three categories with the highest lift among the training baskets
//!   (a user's purchases on one day) that hold C, seen together at least 5 times.
//! * Online Retail has no categories: an item's category is the last word of its title (the
//!   product noun: HOLDER, LANTERN, BAG, …).
//! * Lists are over the whole catalogue with repeats allowed; "next purchases" are the items
//!   bought from the cut on.

use std::collections::{HashMap, HashSet};

use daogou_algo::{build_model, topk::top_k, TrainData};
use daogou_core::{EventKind, Interaction, Params};
use daogou_data::synth::{generate_shop, ShopConfig};
use daogou_data::{load_dataset, parse_time, Format, LoadOptions};
use daogou_eval::EvalOptions;

fn main() {
    daogou_ranker::register();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut ds, cut, name) = match args.first().map(String::as_str) {
        Some("retail") => {
            let path = args.get(1).expect("retail PATH CUT");
            let cut = parse_time(args.get(2).expect("retail PATH CUT")).expect("a date");
            let (ds, _) = load_dataset(path.as_ref(), &LoadOptions::new(Format::OnlineRetail)).expect("readable data");
            (ds, cut, "Online Retail")
        }
        _ => {
            let shop = generate_shop(&ShopConfig::default());
            let ds = shop.to_dataset();
            let (lo, hi) =
                ds.interactions.iter().fold((i64::MAX, i64::MIN), |a, e| (a.0.min(e.timestamp), a.1.max(e.timestamp)));
            (ds, lo + (hi - lo) * 4 / 5, "demo shop")
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
    let (train, test): (Vec<Interaction>, Vec<Interaction>) = ds.interactions.iter().partition(|e| e.timestamp < cut);
    let cat: Vec<Option<String>> = (0..ds.n_items() as u32).map(|i| ds.category(i).map(str::to_owned)).collect();

    // complements: lift among training baskets (user, day) of purchases
    let mut baskets: HashMap<(u32, i64), HashSet<&str>> = HashMap::new();
    for e in train.iter().filter(|e| e.kind == EventKind::Purchase) {
        if let Some(c) = &cat[e.item as usize] {
            baskets.entry((e.user, e.timestamp.div_euclid(86_400))).or_default().insert(c);
        }
    }
    let n_b = baskets.len() as f64;
    let mut single: HashMap<&str, f64> = HashMap::new();
    let mut pair: HashMap<(&str, &str), f64> = HashMap::new();
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
    let complements = |c: &str| -> Vec<String> {
        let mut v: Vec<(&str, f64)> = pair
            .iter()
            .filter(|((a, _), n)| *a == c && **n >= 5.0)
            .map(|((_, d), n)| (*d, n * n_b / (single[c] * single[d])))
            .filter(|x| x.1 > 1.0)
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        v.into_iter().take(3).map(|x| x.0.to_owned()).collect()
    };

    // users whose last session centres on one category, with a purchase after the cut
    let mut by_user: HashMap<u32, Vec<&Interaction>> = HashMap::new();
    for e in &train {
        by_user.entry(e.user).or_default().push(e);
    }
    let mut next: HashMap<u32, HashSet<u32>> = HashMap::new();
    for e in test.iter().filter(|e| e.kind == EventKind::Purchase) {
        next.entry(e.user).or_default().insert(e.item);
    }
    let mut focus: Vec<(u32, HashSet<String>)> = Vec::new();
    for (&u, evs) in &mut by_user {
        if !next.contains_key(&u) {
            continue;
        }
        evs.sort_by_key(|e| e.timestamp);
        let mut start = evs.len() - 1;
        while start > 0 && evs[start].timestamp - evs[start - 1].timestamp <= 3_600 {
            start -= 1;
        }
        let session: Vec<&str> = evs[start..].iter().filter_map(|e| cat[e.item as usize].as_deref()).collect();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for c in &session {
            *counts.entry(c).or_default() += 1;
        }
        if let Some((c, n)) = counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0))) {
            if session.len() >= 2 && 2 * n >= session.len() {
                let mut wanted: HashSet<String> = complements(c).into_iter().collect();
                wanted.insert(c.to_owned());
                focus.push((u, wanted));
            }
        }
    }
    focus.sort_by_key(|x| x.0);

    let opts = EvalOptions::new("popularity", Params::new());
    let matrix = opts.signal.train_matrix(&ds, &train);
    let t = TrainData::new(&matrix, false).with_items(&ds.catalogue).with_events(&train);
    println!(
        "{name}: {} shoppers whose last session before the cut centres on one category (and who bought after it)",
        focus.len()
    );
    println!();
    println!("| model | top-10 share in the session's category or its complements | NDCG@10 on their next purchases | fit (s) |");
    println!("|---|---|---|---|");
    let models: [(&str, Params); 6] = [
        ("popularity", Params::new()),
        ("buy-again", Params::new()),
        ("item-knn", Params::new()),
        ("als", Params::new()),
        ("ranker", Params::new().with("session", false)),
        ("ranker", Params::new()),
    ];
    for (model, params) in models {
        let label = if params.raw("session").is_some() { "ranker, session=false".to_owned() } else { model.to_owned() };
        let t0 = std::time::Instant::now();
        let m = match build_model(model, &params, &t) {
            Ok(m) => m,
            Err(e) => {
                println!("| {label} | failed: {e} | | |");
                continue;
            }
        };
        let fit = t0.elapsed().as_secs_f64();
        let mut scores = vec![0f32; m.n_items()];
        let (mut share, mut ndcg) = (0.0, 0.0);
        for (u, wanted) in &focus {
            m.score_user(*u, &mut scores);
            let top = top_k(&scores, 10, |_| false);
            share += top.iter().filter(|(i, _)| cat[*i as usize].as_ref().is_some_and(|c| wanted.contains(c))).count()
                as f64
                / 10.0;
            let rel = &next[u];
            let dcg: f64 = top
                .iter()
                .enumerate()
                .filter(|(_, (i, _))| rel.contains(i))
                .map(|(r, _)| 1.0 / (r as f64 + 2.0).log2())
                .sum();
            let idcg: f64 = (0..rel.len().min(10)).map(|r| 1.0 / (r as f64 + 2.0).log2()).sum();
            ndcg += dcg / idcg;
        }
        let n = focus.len().max(1) as f64;
        println!("| {label} | {:.3} | {:.4} | {fit:.1} |", share / n, ndcg / n);
    }
}
