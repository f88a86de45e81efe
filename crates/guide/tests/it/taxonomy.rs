//! Category recognition against a real bilingual taxonomy: Shopify's Standard Product Taxonomy
//! 2024-07 (10,281 categories, English and Simplified Chinese names, MIT), read from
//! `../shared/datasets/shopify-taxonomy-zh-en` (SKIPPED when missing, a failure with
//! `CI=true`; never copied into the repository).
//!
//! The catalogue: one item per category, titled with its English and Chinese names, its path
//! as category (`Apparel & Accessories/Clothing/Activewear/Activewear Pants`) and the Chinese
//! path as `category_zh` (a `/` inside a name becomes `-`, since `/` separates the levels).
//! A seeded sample of 2,500 categories and their ancestors makes the catalogue (the whole
//! taxonomy's vocabulary is too slow to parse against in a debug build on two cores).
//! The requests: a seeded sample of those categories named by their own name, in English or Chinese,
//! with a lead-in (`looking for activewear pants`, `我想买运动服裤装`). A request is recognised
//! when the parse names the category; uniquely when it names nothing else. Names the taxonomy
//! uses for several categories ("Accessories") cannot be unique. Dev and held-out samples
//! come from different seeds.
//!
//! `cargo test -p daogou-guide --test it taxonomy -- --nocapture` prints the figures.

use std::collections::HashMap;

use daogou_core::datasets::shared;
use daogou_core::Item;
use daogou_guide::{Guide, GuideConfig};

use crate::oracle::Rng;

const DEV_SEED: u64 = 20261210;
const HELD_OUT_SEED: u64 = 20261211;
/// Requests per part.
const REQUESTS: usize = 200;
/// Categories sampled (with their ancestors) for the catalogue: the whole taxonomy's
/// vocabulary makes each parse take a fifth of a second in a debug build, too slow for CI.
const SAMPLE: usize = 2_500;
const SAMPLE_SEED: u64 = 20261205;

struct Category {
    path_en: String,
    path_zh: String,
    name_en: String,
    name_zh: String,
}

/// The taxonomy's categories with their paths (levels joined by `/`).
fn taxonomy() -> Option<Vec<Category>> {
    let path = shared("shopify-taxonomy-zh-en/categories_zh_en.tsv")?;
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let clean = |s: &str| s.trim().replace('/', "-");
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 7, "{}:{}: expected 7 fields", path.display(), n + 1);
        let path_en: Vec<String> = f[5].split(" > ").map(clean).collect();
        let path_zh: Vec<String> = f[6].split(" > ").map(clean).collect();
        assert_eq!(path_en.len(), path_zh.len(), "{}:{}: paths of different depths", path.display(), n + 1);
        out.push(Category {
            path_en: path_en.join("/"),
            path_zh: path_zh.join("/"),
            name_en: clean(f[3]),
            name_zh: clean(f[4]),
        });
    }
    Some(out)
}

#[derive(Default)]
struct Tally {
    requests: usize,
    recognised: usize,
    unique: usize,
    /// Requests whose name several categories share (they cannot be unique).
    shared_name: usize,
    misses: Vec<String>,
}

#[test]
fn shopify_taxonomy_categories_are_recognised() {
    let Some(all) = taxonomy() else { return };
    assert!(all.len() > 10_000, "{} categories", all.len());
    // A seeded sample, closed under ancestors so that every path is a category.
    let mut rng = Rng(SAMPLE_SEED);
    let mut keep: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    while keep.len() < SAMPLE {
        let c = &all[rng.below(all.len())];
        let parts: Vec<&str> = c.path_en.split('/').collect();
        for n in 1..=parts.len() {
            keep.insert(parts[..n].join("/"));
        }
    }
    let cats: Vec<Category> = all.into_iter().filter(|c| keep.contains(&c.path_en)).collect();
    let items: Vec<Item> = cats
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let mut it = Item::new(format!("c{k}"));
            it.title = format!("{} {}", c.name_en, c.name_zh);
            it.category = Some(c.path_en.clone());
            it.attributes.insert("category_zh".into(), c.path_zh.clone());
            it
        })
        .collect();
    let t = std::time::Instant::now();
    let g = Guide::new(&items, GuideConfig::default()).unwrap();
    eprintln!("taxonomy: {} categories indexed in {:.1?}", items.len(), t.elapsed());
    // How many categories carry each name, per language.
    let mut names: HashMap<(bool, String), usize> = HashMap::new();
    for c in &cats {
        *names.entry((false, c.name_en.to_lowercase())).or_default() += 1;
        *names.entry((true, c.name_zh.clone())).or_default() += 1;
    }
    let (mut dev, mut held) = (Tally::default(), Tally::default());
    for (seed, tally) in [(DEV_SEED, &mut dev), (HELD_OUT_SEED, &mut held)] {
        let mut rng = Rng(seed);
        for _ in 0..REQUESTS {
            let k = rng.below(cats.len());
            let c = &cats[k];
            let want = c.path_en.clone();
            let zh = rng.chance(0.5);
            let text = if zh {
                format!("{}{}", rng.pick(&["", "我想买", "推荐", "有没有", "帮我找"]), c.name_zh)
            } else {
                format!("{}{}", rng.pick(&["", "i want ", "looking for ", "show me ", "do you have "]), c.name_en)
            };
            let p = g.parse(&text);
            tally.requests += 1;
            let shared = names[&(zh, if zh { c.name_zh.clone() } else { c.name_en.to_lowercase() })] > 1;
            tally.shared_name += shared as usize;
            if p.categories.contains(&want) {
                tally.recognised += 1;
                tally.unique += (p.categories.len() == 1) as usize;
            } else {
                tally.misses.push(format!("{text} → {:?} (want {want})", p.categories));
            }
        }
    }
    for (name, t) in [("dev", &dev), ("held-out", &held)] {
        eprintln!(
            "taxonomy {name}: {} requests; recognised {:.4}, uniquely {:.4}; {} name a category whose name others share",
            t.requests,
            t.recognised as f64 / t.requests as f64,
            t.unique as f64 / t.requests as f64,
            t.shared_name
        );
        for m in t.misses.iter().take(12) {
            eprintln!("  missed: {m}");
        }
    }
    let recognised = dev.recognised as f64 / dev.requests as f64;
    assert!(recognised >= 0.95, "dev recognised {recognised:.4}");
}
