//! `daogou demo`: the whole pipeline on a generated shop, with no input.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use daogou_core::EventKind;
use daogou_data::synth::{generate_shop, ShopConfig};
use daogou_engine::{Blend, Engine, Filter, LiveLimits, ModelSource, ModelSpec};
use daogou_eval::leaderboard;
use daogou_store::{SqliteStore, Store, StoreUrl};

use crate::progress;
use crate::store_cmds::fmt_time;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Seed of the generated shop (same seed, same shop, same results).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Database file for the demo shop (recreated on each run).
    #[arg(long, default_value = "daogou-demo.db", value_name = "PATH")]
    db: PathBuf,
    /// Store the demo shop in this store instead: sqlite:PATH (recreated) or an empty
    /// PostgreSQL database (postgres://user@host:port/db).
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// Number of shoppers.
    #[arg(long, default_value_t = 800)]
    users: usize,
    /// Number of products.
    #[arg(long, default_value_t = 600)]
    items: usize,
    /// How many shoppers to show with their recommendations.
    #[arg(long, default_value_t = 3)]
    show: usize,
}

pub fn run(a: DemoArgs) -> Result<()> {
    let cfg = ShopConfig { users: a.users, items: a.items, seed: a.seed, ..ShopConfig::default() };
    let pb = progress::spinner("generating the demo shop");
    let shop = generate_shop(&cfg);
    pb.finish_and_clear();

    let url = match &a.store {
        Some(u) => StoreUrl::parse(u).context("--store")?,
        None => StoreUrl::Sqlite(a.db.clone()),
    };
    let (mut store, name, db_flag): (Box<dyn Store>, String, String) = match &url {
        StoreUrl::Sqlite(db) => {
            remove_db(db)?;
            let store = SqliteStore::open(db).with_context(|| format!("cannot create {}", db.display()))?;
            (store.into(), db.display().to_string(), format!("--db {}", db.display()))
        }
        other => {
            let store = daogou_store::open(other).with_context(|| format!("cannot open database {other}"))?;
            if store.stats()?.events > 0 {
                anyhow::bail!("{other} holds events already; the demo shop goes into an empty database");
            }
            (store, other.to_string(), format!("--store '{other}'"))
        }
    };
    let pb = progress::spinner(format!("storing {} events in {name}", shop.events.len()));
    store.import(&shop.items, &shop.events)?;
    pb.finish_and_clear();
    let stats = store.stats()?;
    println!("== daogou demo shop (seed {}) stored in {name}", a.seed);
    println!("   {} shoppers, {} products, {} events", stats.users, stats.items, stats.events);
    let kinds: Vec<String> = stats.by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!("   {}", kinds.join(" · "));
    if let (Some(f), Some(l)) = (stats.first_timestamp, stats.last_timestamp) {
        println!("   from {} to {}", fmt_time(f), fmt_time(l));
    }

    let ds = store.load_dataset()?;
    // Evaluate on the last fifth of the period: what did shoppers buy next?
    let cut = leaderboard::default_cut(&ds);
    println!("\n== which model? trained before {}, tested on the rest (new items only)", fmt_time(cut));
    println!(
        "   {:<12} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "model", "prec@10", "recall@10", "ndcg@10", "hit@10", "cover@10"
    );
    let bar = progress::bar(leaderboard::DEFAULT_MODELS.len() as u64, "evaluating");
    let now = chrono::Utc::now().timestamp();
    let board = leaderboard::evaluate(&ds, leaderboard::DEFAULT_MODELS, cut, "daogou demo", now, |r| {
        bar.inc(1);
        let m = |k: &str| r.metrics[k].as_f64().unwrap_or(f64::NAN);
        bar.suspend(|| match &r.error {
            None => println!(
                "   {:<12} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4}",
                r.model,
                m("precision"),
                m("recall"),
                m("ndcg"),
                m("hit_rate"),
                m("coverage")
            ),
            Some(e) => println!("   {:<12} failed: {e}", r.model),
        });
    })
    .map_err(|e| anyhow::anyhow!(e))?;
    bar.finish_and_clear();
    // the dashboard of `daogou serve` shows this leaderboard
    store.set_meta(leaderboard::META_KEY, &serde_json::to_string(&board)?)?;
    let best = board.best().map_or("item-knn", |r| r.model.as_str());
    println!("   → using {best} (best NDCG@10) for the recommendations below");

    // the shoppers' answers come from the same engine as `daogou serve` and `daogou recommend`
    let pb = progress::spinner(format!("fitting {best}"));
    let engine = Engine::open(store, &ModelSource::Fit(ModelSpec::named(best)), LiveLimits::default())?;
    pb.finish_and_clear();
    let snap = engine.snapshot();
    let ds = &ds;
    let segments: HashMap<&str, &str> = shop.truth.user_segment.iter().map(|(u, s)| (u.as_str(), s.as_str())).collect();
    for user in showcase_users(ds, &segments, a.show) {
        let uid = ds.users.id(user);
        println!("\n== shopper {uid} ({})", history_label(ds, user, &shop.truth.segment_categories));
        println!("   recent activity:");
        let mut events: Vec<_> =
            ds.interactions.iter().filter(|it| it.user == user && it.kind != EventKind::Search).collect();
        events.sort_by_key(|it| it.timestamp);
        for it in events.iter().rev().take(6).rev() {
            println!("     {} {:<16} {}", fmt_time(it.timestamp), it.kind.verb(), ds.title(it.item));
        }
        // what the shop would have shown at the end of that visit: the session blend of "for you"
        // weighs what they looked at in its last hour (the shop's data ends weeks before today)
        let at = events.last().map(|it| it.timestamp + 60);
        println!("   recommended for you at the end of this visit / 本次浏览结束时为你推荐:");
        let h = engine.history(&snap, uid);
        let blend = Blend { at, ..Blend::default() };
        for (rank, p) in engine.for_you(&snap, &h, &Filter::default(), &blend, 5).iter().enumerate() {
            let price = p.price.map_or(String::new(), |x| format!(" ¥{x:.0}"));
            println!("     {}. {}{}\n        {}", rank + 1, p.title, price, p.reason);
        }
    }
    let db = db_flag;
    println!("\nNext: `daogou recommend {db} --user <id>`, `daogou similar {db} --item <id>`,");
    println!("      or `daogou serve {db}` and open http://127.0.0.1:8080/ (storefront, assistant)");
    println!("      and http://127.0.0.1:8080/dashboard");
    Ok(())
}

/// What a shopper's history holds, in words: the taste whose categories hold most of their
/// events (when at least half do) and their top categories with their share, e.g.
/// `gamer: 14 of 18 events in Headphones, Consoles`. Read from the events themselves, not
/// from the generator's planted tastes, so the label says what the picks can be judged by.
fn history_label(ds: &daogou_core::Dataset, user: u32, tastes: &[(String, Vec<String>)]) -> String {
    let mut by_cat: HashMap<&str, usize> = HashMap::new();
    let mut total = 0usize;
    for it in ds.interactions.iter().filter(|it| it.user == user && it.kind != EventKind::Search) {
        total += 1;
        if let Some(c) = ds.category(it.item) {
            *by_cat.entry(c).or_default() += 1;
        }
    }
    let mut cats: Vec<(&str, usize)> = by_cat.into_iter().collect();
    cats.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let short = |c: &str| c.rsplit('/').next().unwrap_or(c).to_owned();
    let best = tastes
        .iter()
        .map(|(t, tc)| (t, cats.iter().filter(|(c, _)| tc.iter().any(|x| x == c)).map(|x| x.1).sum::<usize>()))
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)));
    let top: Vec<String> = cats.iter().take(2).map(|(c, _)| short(c)).collect();
    match best {
        Some((taste, n)) if total > 0 && 2 * n >= total => {
            format!("{taste}: {n} of {total} events in {}", top.join(", "))
        }
        _ => {
            let n: usize = cats.iter().take(2).map(|x| x.1).sum();
            format!("mixed tastes: {n} of {total} events in {}", top.join(", "))
        }
    }
}

/// Typical shoppers of different tastes, deterministic: among users with at least two
/// purchases, those whose number of distinct products is closest to the median buyer's (the
/// heaviest users touch a quarter of the catalogue and say little about a guide), at most one
/// per taste segment.
fn showcase_users(ds: &daogou_core::Dataset, segments: &HashMap<&str, &str>, n: usize) -> Vec<u32> {
    let mut purchases = vec![0usize; ds.n_users()];
    let mut touched: Vec<HashSet<u32>> = vec![HashSet::new(); ds.n_users()];
    for it in ds.interactions.iter().filter(|it| it.kind != EventKind::Search) {
        purchases[it.user as usize] += usize::from(it.kind == EventKind::Purchase);
        touched[it.user as usize].insert(it.item);
    }
    let buyers: Vec<u32> = (0..ds.n_users() as u32).filter(|&u| purchases[u as usize] >= 2).collect();
    let mut sizes: Vec<usize> = buyers.iter().map(|&u| touched[u as usize].len()).collect();
    sizes.sort_unstable();
    let median = sizes.get(sizes.len() / 2).copied().unwrap_or(0);
    let mut ranked = buyers;
    ranked.sort_by_key(|&u| (touched[u as usize].len().abs_diff(median), u));
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for u in ranked {
        if out.len() == n {
            break;
        }
        if seen.insert(segments.get(ds.users.id(u)).copied().unwrap_or("?")) {
            out.push(u);
        }
    }
    out
}

fn remove_db(db: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("cannot remove old demo database {}", p.display()))?;
        }
    }
    Ok(())
}
