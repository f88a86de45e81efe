//! The synthetic demo shop: a deterministic, realistic-looking bilingual e-shop, plus small
//! datasets with planted structure for model tests.
//!
//! * [`generate_shop`] builds a catalogue ([`Item`]s) and a behaviour log ([`Event`]s) for a
//!   shop with ~11 top-level categories and ~55 subcategories, invented brands, log-normal
//!   prices in CNY, bilingual titles, and users with latent taste segments ([`ShopTruth`]).
//! * [`planted_ratings`] / [`planted_implicit`]: tiny explicit / implicit [`Dataset`]s where
//!   users in cluster `c` like the item block of cluster `c`.
//!
//! Everything is driven by a built-in xoshiro256++ generator seeded from the config, so the
//! same config gives byte-identical output on every run and every platform with IEEE `f64`.
//!
//! ## Catalogue conventions
//!
//! * `id`: `p00001`, … numbered in listing order (`created_at` ascending).
//! * `category`: English path `"Top/Sub"`, e.g. `"Sports & Outdoors/Running Shoes"`;
//!   `attributes["category_zh"]` is the same path in Chinese, e.g. `"运动户外/跑鞋"`.
//! * `brand`: the brand's English name (`"Swiftstep"`); `attributes["brand_zh"]` its Chinese
//!   name (`"迅步"`).
//! * `title`: bilingual, `"{brand} {中文标题} {English title} [{规格} {spec}] [{颜色} {Colour}]"`, e.g.
//!   `"Swiftstep 轻量缓震跑鞋 Lightweight Cushioned Running Shoes 红色 Red"`; titles are unique.
//!   `attributes["title_zh"]` / `attributes["title_en"]` hold the single-language versions
//!   (with the brand in that language) for bilingual search and display.
//! * `price`: CNY, "shop-like" (`199`, `29.9`); `attributes["currency"] = "CNY"`.
//! * Optional attributes: `color` (lowercase English, `"red"`) + `color_zh` (`"红色"`),
//!   `material` + `material_zh`, `sizes` (comma-separated size options, `"S,M,L,XL"`),
//!   `spec` (variant such as `"256GB"`, `"500g"`, `"L 54 pcs"`) + `spec_zh` when it differs
//!   (`"L 54片"`), `model` (`"X3"`),
//!   `consumable = "true"` for repeat-purchase goods.
//! * Always present: `review_score` (`"4.7"`), `review_count` (`"1234"`).
//! * `created_at`: ~75% listed in the year before day 0, the rest during the period with a
//!   cluster of new arrivals in its last 15%. `stock`/`available`: ~4% out of stock.
//!
//! ## Event conventions
//!
//! * Users are `u0000`, `u0001`, …; events are sorted by timestamp (stable), all within
//!   `[start, start + days·86400)`. Day 0 defaults to 2026-09-01 00:00 Beijing time and the
//!   daily rhythm (lunch and evening peaks), weekends and the 11.11 / 6.18 / 12.12 shopping
//!   festivals are laid out in Beijing time (UTC+8).
//! * Kinds: `search` (item is the empty string `""`, query in `Event::query`; consumers must
//!   treat an empty item as "no item"), `view` (product shown/opened), `click` (engaged with
//!   the product page: options, reviews), `add_to_cart`, `purchase` (at checkout, end of the
//!   session), `return` (days later).
//! * `value`: 1 for view/click/search/add_to_cart; the quantity for purchase/return (mostly 1,
//!   consumables 1–3). No event is earlier than its item's `created_at`.
//! * Consumables (coffee, diapers, cat food, …) are re-bought every few weeks.

use chrono::{Datelike, Weekday};
use daogou_core::{Dataset, Event, EventKind, Interaction, Item, SeededRng as Rng};

use behaviour::*;
use catalogue::*;
use taxonomy::*;

mod behaviour;
mod catalogue;
pub mod fixtures;
mod taxonomy;

pub use fixtures::{planted_implicit, planted_ratings};

// ---------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------

/// Size and seed of the synthetic shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopConfig {
    /// Number of users (`u0000` …).
    pub users: usize,
    /// Number of catalogue items (`p00001` …).
    pub items: usize,
    /// Length of the behaviour log in days.
    pub days: u32,
    /// Random seed; the same config always gives the same shop.
    pub seed: u64,
    /// Unix seconds of the start of day 0.
    pub start: i64,
}

/// 2026-09-01 00:00 Beijing time (UTC+8).
pub const DEFAULT_START: i64 = 1_788_192_000;

impl Default for ShopConfig {
    /// 800 users, 600 items, 90 days from 2026-09-01 (Beijing), seed 42: ~66k events.
    fn default() -> Self {
        ShopConfig { users: 800, items: 600, days: 90, seed: 42, start: DEFAULT_START }
    }
}

/// A generated shop.
#[derive(Debug, Clone, PartialEq)]
pub struct Shop {
    /// The catalogue, in id order.
    pub items: Vec<Item>,
    /// The behaviour log, sorted by timestamp.
    pub events: Vec<Event>,
    /// The planted structure behind the behaviour.
    pub truth: ShopTruth,
}

/// Planted structure of a [`Shop`], for tests and explanations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShopTruth {
    /// `(user id, segment name)`; a user in two segments has two entries (primary first).
    /// Segment names: `runner`, `new parent`, `home cook`, `gamer`, `beauty lover`,
    /// `outdoor`, `office worker`, `student`, `pet owner`, `fashion`, `tech enthusiast`,
    /// `book lover`.
    pub user_segment: Vec<(String, String)>,
    /// `(segment name, English categories it likes)`, categories as in `Item::category`.
    pub segment_categories: Vec<(String, Vec<String>)>,
}

impl ShopTruth {
    /// Segments of `user`, primary first.
    pub fn segments_of(&self, user: &str) -> Vec<&str> {
        self.user_segment.iter().filter(|(u, _)| u == user).map(|(_, s)| s.as_str()).collect()
    }

    /// Categories liked by `segment` (empty when unknown).
    pub fn categories_of(&self, segment: &str) -> &[String] {
        self.segment_categories.iter().find(|(s, _)| s == segment).map(|(_, c)| c.as_slice()).unwrap_or(&[])
    }
}

impl Shop {
    /// The shop as a [`Dataset`]: the full catalogue (item index = position in `items`),
    /// users in id order, and every event that has an item (item-less searches are skipped,
    /// as an `Interaction` has no room for a query).
    pub fn to_dataset(&self) -> Dataset {
        let mut ds = Dataset::default();
        for it in &self.items {
            ds.upsert_item(it.clone());
        }
        let mut users: Vec<&str> = self.truth.user_segment.iter().map(|(u, _)| u.as_str()).collect();
        users.dedup();
        for u in users {
            ds.users.get_or_insert(u);
        }
        for e in self.events.iter().filter(|e| !e.item.is_empty()) {
            ds.push_event(e);
        }
        ds
    }
}

/// Index into a cumulative weight table.
fn sample_cdf(rng: &mut Rng, cdf: &[f64]) -> usize {
    let total = *cdf.last().expect("non-empty cdf");
    let r = rng.f64() * total;
    cdf.partition_point(|&c| c <= r).min(cdf.len() - 1)
}

fn cdf(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut acc = 0.0;
    weights
        .into_iter()
        .map(|w| {
            acc += w;
            acc
        })
        .collect()
}

/// Generate the demo shop for `cfg`. Deterministic: the same config gives the same shop.
///
/// The catalogue depends only on `items` and `seed`, a user's behaviour only on the catalogue,
/// the user's index, `days`, `start` and `seed`, so growing `users` keeps existing users' logs.
pub fn generate_shop(cfg: &ShopConfig) -> Shop {
    let subs = sub_infos();
    let (items, metas) = build_catalogue(cfg, &subs);
    let mut by_sub = vec![Vec::new(); subs.len()];
    for (i, m) in metas.iter().enumerate() {
        by_sub[m.sub].push(i);
    }
    let seg_subs: Vec<Vec<(usize, f64)>> =
        SEGMENTS.iter().map(|s| s.likes.iter().map(|&(n, w)| (sub_index(&subs, n), w)).collect()).collect();
    let dw = day_weights(cfg);
    let promo: Vec<bool> = {
        let mean = dw.iter().sum::<f64>() / dw.len().max(1) as f64;
        dw.iter().map(|&w| w > 2.0 * mean).collect()
    };
    let world = World {
        cfg,
        subs: &subs,
        items: &items,
        metas: &metas,
        sub_cdf: cdf(subs.iter().map(|s| s.sub.weight)),
        day_cdf: cdf(dw.iter().copied()),
        hour_cdf: cdf(HOURS.iter().copied()),
        by_sub,
        seg_subs,
        promo,
        end: cfg.start + i64::from(cfg.days) * DAY,
    };

    let users: Vec<User> = (0..cfg.users).map(|u| make_user(cfg, u)).collect();
    let mut events = Vec::new();
    if cfg.days > 0 && cfg.items > 0 {
        for (u, user) in users.iter().enumerate() {
            events.extend(world.user_events(u, user));
        }
    }
    events.sort_by_key(|e| e.timestamp); // stable: per-user order kept on ties

    let truth = ShopTruth {
        user_segment: users
            .iter()
            .flat_map(|u| u.segs.iter().map(move |&s| (u.id.clone(), SEGMENTS[s].name.to_owned())))
            .collect(),
        segment_categories: SEGMENTS
            .iter()
            .zip(&world.seg_subs)
            .map(|(s, likes)| (s.name.to_owned(), likes.iter().map(|&(i, _)| subs[i].category.clone()).collect()))
            .collect(),
    };
    Shop { items, events, truth }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};
    use std::time::Instant;

    fn small() -> ShopConfig {
        ShopConfig { users: 120, items: 150, days: 30, seed: 7, ..ShopConfig::default() }
    }

    #[test]
    fn synth_is_deterministic() {
        let a = generate_shop(&small());
        let b = generate_shop(&small());
        assert_eq!(a, b);
        let c = generate_shop(&ShopConfig { seed: 8, ..small() });
        assert_ne!(a.events, c.events);
        assert_ne!(a.items, c.items);
        // Catalogue does not depend on the number of users; users' logs not on other users.
        let d = generate_shop(&ShopConfig { users: 60, ..small() });
        assert_eq!(a.items, d.items);
        let a_u7: Vec<_> = a.events.iter().filter(|e| e.user == "u0007").collect();
        let d_u7: Vec<_> = d.events.iter().filter(|e| e.user == "u0007").collect();
        assert_eq!(a_u7, d_u7);
    }

    #[test]
    fn synth_default_volume_funnel_and_references() {
        let cfg = ShopConfig::default();
        let t0 = Instant::now();
        let shop = generate_shop(&cfg);
        let took = t0.elapsed();
        eprintln!("default shop: {} items, {} events in {took:?}", shop.items.len(), shop.events.len());
        assert_eq!(shop.items.len(), 600);
        assert!((40_000..=80_000).contains(&shop.events.len()), "{} events", shop.events.len());

        let mut count: HashMap<EventKind, usize> = HashMap::new();
        for e in &shop.events {
            *count.entry(e.kind).or_default() += 1;
        }
        let c = |k| count.get(&k).copied().unwrap_or(0);
        eprintln!("kinds: {count:?}");
        let (views, clicks, carts, buys, rets, searches) = (
            c(EventKind::View),
            c(EventKind::Click),
            c(EventKind::AddToCart),
            c(EventKind::Purchase),
            c(EventKind::Return),
            c(EventKind::Search),
        );
        assert!(views > clicks && clicks > carts && carts > buys && buys > rets && rets > 0);
        assert!(searches > 0);
        let conv = buys as f64 / views as f64;
        assert!((0.02..=0.06).contains(&conv), "conversion {conv}");

        let ids: HashMap<&str, &Item> = shop.items.iter().map(|i| (i.id.as_str(), i)).collect();
        let end = cfg.start + i64::from(cfg.days) * DAY;
        let mut last = i64::MIN;
        for e in &shop.events {
            assert!(e.timestamp >= last && e.timestamp >= cfg.start && e.timestamp < end);
            last = e.timestamp;
            if e.kind == EventKind::Search {
                assert_eq!(e.item, "");
                assert!(e.query.as_deref().is_some_and(|q| !q.is_empty()));
            } else {
                let it = ids.get(e.item.as_str()).unwrap_or_else(|| panic!("unknown item {}", e.item));
                assert!(it.created_at.unwrap() <= e.timestamp, "event before listing");
                assert!(e.query.is_none());
            }
            match e.kind {
                EventKind::Purchase | EventKind::Return => assert!((1.0..=3.0).contains(&e.value)),
                _ => assert_eq!(e.value, 1.0),
            }
        }
        // Every user acts; bilingual searches.
        let users: HashSet<&str> = shop.events.iter().map(|e| e.user.as_str()).collect();
        assert!(users.len() >= 790, "{} active users", users.len());
        let queries: Vec<&str> = shop.events.iter().filter_map(|e| e.query.as_deref()).collect();
        assert!(queries.iter().any(|q| q.chars().any(|ch| ch as u32 > 0x4E00)));
        assert!(queries.iter().any(|q| q.is_ascii()));
        assert!(queries.iter().any(|q| q.contains("under")));
    }

    #[test]
    fn synth_catalogue_looks_like_a_shop() {
        let cfg = ShopConfig::default();
        let shop = generate_shop(&cfg);
        let mut titles = HashSet::new();
        let mut tops = HashSet::new();
        for it in &shop.items {
            assert!(titles.insert(it.title.as_str()), "duplicate title {}", it.title);
            let cat = it.category.as_deref().unwrap();
            let (top, _) = cat.split_once('/').unwrap();
            tops.insert(top);
            assert!(it.attributes["category_zh"].contains('/'));
            assert_eq!(it.attributes["currency"], "CNY");
            let title_zh = &it.attributes["title_zh"];
            assert!(title_zh.chars().any(|ch| ch as u32 >= 0x4E00) && it.attributes["title_en"].is_ascii(), "{it:?}");
            assert!(it.title.starts_with(it.brand.as_deref().unwrap()));
            let p = it.price.unwrap();
            assert!(p > 0.0 && p < 20_000.0);
            if it.attributes.contains_key("color") {
                assert!(it.attributes.contains_key("color_zh"));
            }
        }
        assert!(tops.len() >= 10);
        // Running shoes cost what running shoes cost.
        let shoes: Vec<f64> = shop
            .items
            .iter()
            .filter(|i| i.category.as_deref() == Some("Sports & Outdoors/Running Shoes"))
            .map(|i| i.price.unwrap())
            .collect();
        assert!(!shoes.is_empty() && shoes.iter().all(|&p| (199.0..=899.0).contains(&p)), "{shoes:?}");
        let oos = shop.items.iter().filter(|i| !i.available).count();
        assert!(oos > 0 && oos < 60, "{oos} out of stock");
        let end = cfg.start + i64::from(cfg.days) * DAY;
        let new = shop.items.iter().filter(|i| i.created_at.unwrap() > end - 14 * DAY).count();
        assert!(new >= 30, "{new} new arrivals");
        // Ids follow listing order.
        assert!(shop.items.windows(2).all(|w| w[0].created_at <= w[1].created_at));
        eprintln!("{}\n{}\n{}", shop.items[0].title, shop.items[300].title, shop.items[599].title);
    }

    #[test]
    fn synth_purchases_follow_planted_segments() {
        let shop = generate_shop(&ShopConfig::default());
        let cat: HashMap<&str, &str> =
            shop.items.iter().map(|i| (i.id.as_str(), i.category.as_deref().unwrap())).collect();
        let mut liked: HashMap<&str, HashSet<&str>> = HashMap::new();
        for (u, s) in &shop.truth.user_segment {
            liked.entry(u).or_default().extend(shop.truth.categories_of(s).iter().map(String::as_str));
        }
        let (mut inside, mut total) = (0usize, 0usize);
        let mut bought: HashMap<(&str, &str), usize> = HashMap::new();
        for e in shop.events.iter().filter(|e| e.kind == EventKind::Purchase) {
            total += 1;
            inside += usize::from(liked[e.user.as_str()].contains(cat[e.item.as_str()]));
            *bought.entry((&e.user, &e.item)).or_default() += 1;
        }
        let share = inside as f64 / total as f64;
        eprintln!("{total} purchases, {share:.3} in segment categories");
        assert!(share >= 0.6, "{share}");
        // Consumables are re-bought.
        let repeats = bought.iter().filter(|(_, &n)| n >= 2).count();
        assert!(repeats >= 50, "{repeats} repeat purchases");
        let segs = shop.truth.segments_of("u0000");
        assert!((1..=2).contains(&segs.len()) && !shop.truth.categories_of(segs[0]).is_empty());
        let ds = shop.to_dataset();
        assert_eq!(ds.n_items(), shop.items.len());
        assert_eq!(ds.n_users(), 800);
        assert_eq!(ds.interactions.len(), shop.events.iter().filter(|e| !e.item.is_empty()).count());
    }

    #[test]
    fn synth_planted_ratings_shape() {
        let ds = planted_ratings(60, 40, 3, 0.3, 1);
        assert!(ds.explicit);
        assert_eq!((ds.n_users(), ds.n_items()), (60, 40));
        let n = ds.interactions.len() as f64;
        assert!((n / (60.0 * 40.0) - 0.3).abs() < 0.05, "density {}", n / 2400.0);
        for it in &ds.interactions {
            let own = ds.category(it.item).unwrap() == format!("cluster{}", it.user % 3);
            if own {
                assert!(it.value >= 4.0);
            } else {
                assert!(it.value <= 2.0);
            }
        }
        assert!(ds.interactions.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
        assert_eq!(ds.users.id(5), "u5");
        assert_eq!(ds.items.id(7), "i7");
        assert_eq!(planted_ratings(60, 40, 3, 0.3, 1).interactions, ds.interactions);
        // Sparse: everyone still rates something of their own.
        let sparse = planted_ratings(50, 100, 5, 0.001, 2);
        let users: HashSet<u32> = sparse.interactions.iter().map(|i| i.user).collect();
        assert_eq!(users.len(), 50);
    }

    #[test]
    fn synth_planted_implicit_shape() {
        let ds = planted_implicit(100, 200, 4, 20, 3);
        assert!(!ds.explicit);
        assert_eq!((ds.n_users(), ds.n_items()), (100, 200));
        assert_eq!(ds.interactions.len(), 100 * 20);
        let mut per_user: HashMap<u32, Vec<&Interaction>> = HashMap::new();
        for it in &ds.interactions {
            per_user.entry(it.user).or_default().push(it);
        }
        let mut own = 0;
        for (u, its) in &per_user {
            assert_eq!(its.len(), 20);
            assert!(its.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
            let distinct: HashSet<u32> = its.iter().map(|i| i.item).collect();
            assert_eq!(distinct.len(), 20);
            own += its.iter().filter(|i| ds.category(i.item).unwrap() == format!("cluster{}", u % 4)).count();
        }
        let share = own as f64 / 2000.0;
        assert!((0.78..=0.95).contains(&share), "{share}");
        // Zipf inside a block: the first item of block 0 beats its median item.
        let pop = |j: u32| ds.interactions.iter().filter(|i| i.item == j).count();
        assert!(pop(0) > 2 * pop(25), "{} vs {}", pop(0), pop(25));
        assert_eq!(planted_implicit(100, 200, 4, 20, 3).interactions, ds.interactions);
    }

    #[test]
    fn synth_edge_sizes_do_not_panic() {
        for (users, items, days) in [(0, 0, 0), (3, 0, 10), (3, 5, 0), (5, 7, 3), (20, 30, 1)] {
            let shop = generate_shop(&ShopConfig { users, items, days, ..ShopConfig::default() });
            assert_eq!(shop.items.len(), items);
            assert!(shop.events.iter().all(|e| e.item.is_empty() || shop.items.iter().any(|i| i.id == e.item)));
        }
        assert_eq!(planted_ratings(4, 2, 3, 0.5, 1).n_items(), 2);
        assert_eq!(planted_implicit(4, 2, 3, 5, 1).interactions.len(), 20);
        assert_eq!(planted_implicit(0, 0, 0, 5, 1).interactions.len(), 0);
    }
}
