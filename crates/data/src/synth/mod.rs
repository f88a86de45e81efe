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
