//! Features of users, items and (user, item) pairs **as of a cut time**, for the learned
//! ranker.
//!
//! Everything here reads only events strictly before the cut: [`ItemTable::build`] and
//! [`UserContext::new`] drop every later event first, so adding or changing events after the
//! cut leaves every feature unchanged, bit for bit (a test checks it). "Now" is the cut, and
//! every age is counted back from it.
//!
//! * **Item** ([`ItemTable`]): popularity (distinct buyers) over the last 7, 30 and 90 days
//!   and overall, trend (last 30 days against the 30 before), age and days since the last
//!   event, price, price band within the category (0 = its cheapest, 1 = its dearest),
//!   the catalogue's numeric attributes (review scores, counts, …; [`numeric_attributes`]),
//!   repurchase rate (share of buyers who bought in two baskets or more, smoothed) and the
//!   typical interval between repeat purchases (median days between a buyer's consecutive
//!   baskets), viewers over 30 days.
//! * **User** ([`UserContext`]): activity by event kind, baskets, distinct items, mean
//!   basket size, recency, tenure, days since the last basket and the mean interval between
//!   baskets, price level (mean log price and mean in-category price band of what they bought),
//!   share of repeat items, concentration on their top category, and the **last session**
//!   (events separated by less than `session_gap_hours`): its length and age in hours.
//! * **User × item** ([`UserContext::pair`]): counts by event kind, baskets, days since the
//!   last interaction and since the last purchase, the user's own repeat interval on the item
//!   and the time since the last purchase against it and against the item's typical interval,
//!   the item's share of the user's baskets, category affinity (share of the user's purchases
//!   and of all their events in the item's category), price against the user's level, whether
//!   it was in the last basket, and recent intent: the item's events in the last session and
//!   its category's share of that session.
//!
//! Missing values (no price, no category, fewer than two baskets) are NaN: gradient-boosted
//! trees route them on their own. "Bought" means purchased in data with purchases, otherwise
//! any event but a return or search ([`daogou_core::is_bought`]); baskets are invoices or days
//! ([`Baskets`]).

use std::collections::HashMap;

use daogou_core::{has_purchases, is_bought, Baskets, EventKind, Interaction, Item};

const DAY: f64 = 86_400.0;
const HOUR: f64 = 3_600.0;

/// How features are computed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureConfig {
    /// What one basket is.
    pub baskets: Baskets,
    /// True when "bought" means purchased (the data holds purchases).
    pub purchases: bool,
    /// Events further apart than this start a new session.
    pub session_gap_hours: f64,
}

impl FeatureConfig {
    /// The configuration for a data set: baskets and the meaning of "bought" read from its
    /// events, sessions split by gaps of an hour.
    pub fn for_events(events: &[Interaction]) -> Self {
        FeatureConfig { baskets: Baskets::detect(events), purchases: has_purchases(events), session_gap_hours: 1.0 }
    }
}

/// The catalogue's numeric attribute keys ([`daogou_core::numeric_attribute_keys`]), at most `max`.
pub fn numeric_attributes(items: &[Item], max: usize) -> Vec<String> {
    let mut keys = daogou_core::numeric_attribute_keys(items);
    keys.truncate(max);
    keys
}

/// Names of the item features, in row order (`attr.KEY` for each numeric attribute).
pub fn item_feature_names(attributes: &[String]) -> Vec<String> {
    let mut v: Vec<String> = [
        "item.buyers_7d",
        "item.buyers_30d",
        "item.buyers_90d",
        "item.buyers",
        "item.trend",
        "item.age_days",
        "item.idle_days",
        "item.price",
        "item.price_band",
        "item.repurchase_rate",
        "item.repeat_interval_days",
        "item.viewers_30d",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(attributes.iter().map(|a| format!("item.attr.{a}")));
    v
}

/// Item features as of a cut, one row per item, plus what pair features need (category,
/// price band, typical repeat interval).
#[derive(Debug, Clone, PartialEq)]
pub struct ItemTable {
    /// Feature names, in row order.
    pub names: Vec<String>,
    /// n_items × names.len(), row-major.
    pub values: Vec<f32>,
    /// Category index of each item (`u32::MAX`: none).
    pub category: Vec<u32>,
    /// Price of each item (NaN: unknown).
    pub price: Vec<f32>,
    /// Price band of each item within its category, in [0, 1] (NaN: unknown).
    pub price_band: Vec<f32>,
    /// Median days between a buyer's consecutive baskets of the item (NaN: no repeat).
    pub repeat_interval: Vec<f32>,
}

/// Index of a feature in an [`ItemTable`] row.
const I_REPEAT_INTERVAL: usize = 10;

impl ItemTable {
    /// The item features from the events before `cut` and the catalogue (`catalogue[i]`
    /// describes item i; it may be shorter than `n_items`).
    pub fn build(events: &[Interaction], catalogue: &[Item], n_items: usize, cut: i64, cfg: &FeatureConfig) -> Self {
        let attrs = numeric_attributes(&catalogue[..catalogue.len().min(n_items)], 4);
        let names = item_feature_names(&attrs);
        let width = names.len();
        let mut values = vec![f32::NAN; n_items * width];

        // categories, prices and price bands within the category
        let mut cat_ids: HashMap<&str, u32> = HashMap::new();
        let mut category = vec![u32::MAX; n_items];
        let mut price = vec![f32::NAN; n_items];
        for (i, it) in catalogue.iter().take(n_items).enumerate() {
            if let Some(c) = it.category.as_deref() {
                let next = cat_ids.len() as u32;
                category[i] = *cat_ids.entry(c).or_insert(next);
            }
            if let Some(p) = it.price.filter(|p| p.is_finite() && *p > 0.0) {
                price[i] = p as f32;
            }
        }
        let mut by_cat: HashMap<u32, Vec<(f32, u32)>> = HashMap::new();
        for i in 0..n_items {
            if price[i].is_finite() {
                by_cat.entry(category[i]).or_default().push((price[i], i as u32));
            }
        }
        let mut price_band = vec![f32::NAN; n_items];
        for list in by_cat.values_mut() {
            list.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let n = list.len();
            for &(p, i) in list.iter() {
                // equal prices share the band of their first occurrence
                let first = list.partition_point(|x| x.0 < p);
                price_band[i as usize] = if n > 1 { first as f32 / (n - 1) as f32 } else { 0.5 };
            }
        }

        // buyers per window, first/last event, viewers; (item, user, basket) for repeats
        let before: Vec<&Interaction> =
            events.iter().filter(|e| e.timestamp < cut && (e.item as usize) < n_items).collect();
        let mut first = vec![i64::MAX; n_items];
        let mut last = vec![i64::MIN; n_items];
        let mut bought: Vec<(u32, u32, i64)> = Vec::new();
        let mut viewed: Vec<(u32, u32)> = Vec::new();
        for e in &before {
            let i = e.item as usize;
            first[i] = first[i].min(e.timestamp);
            last[i] = last[i].max(e.timestamp);
            if is_bought(e.kind, cfg.purchases) {
                bought.push((e.item, e.user, e.timestamp));
            } else if matches!(e.kind, EventKind::View | EventKind::Click) && cut - e.timestamp < 30 * 86_400 {
                viewed.push((e.item, e.user));
            }
        }
        bought.sort_unstable();
        viewed.sort_unstable();
        viewed.dedup();
        let mut viewers = vec![0u32; n_items];
        for &(i, _) in &viewed {
            viewers[i as usize] += 1;
        }
        let windows = [7.0, 30.0, 90.0, f64::INFINITY];
        let mut buyers = vec![[0u32; 4]; n_items];
        let mut prev30 = vec![0u32; n_items];
        let mut repeaters = vec![0u32; n_items];
        let mut gaps: Vec<Vec<f32>> = vec![Vec::new(); n_items];
        let mut start = 0;
        while start < bought.len() {
            let (item, user) = (bought[start].0, bought[start].1);
            let mut end = start;
            while end < bought.len() && bought[end].0 == item && bought[end].1 == user {
                end += 1;
            }
            let latest = bought[end - 1].2;
            let age = (cut - latest) as f64 / DAY;
            let i = item as usize;
            for (w, &days) in windows.iter().enumerate() {
                if age < days {
                    buyers[i][w] += 1;
                }
            }
            // bought in the 30 days before the last 30
            if bought[start..end].iter().any(|b| {
                let a = (cut - b.2) as f64 / DAY;
                (30.0..60.0).contains(&a)
            }) {
                prev30[i] += 1;
            }
            let mut keys: Vec<i64> = bought[start..end].iter().map(|b| cfg.baskets.key(b.2)).collect();
            keys.dedup();
            if keys.len() >= 2 {
                repeaters[i] += 1;
                let mut times: Vec<i64> = Vec::with_capacity(keys.len());
                let mut last_key = None;
                for b in &bought[start..end] {
                    let k = cfg.baskets.key(b.2);
                    if last_key != Some(k) {
                        times.push(b.2);
                        last_key = Some(k);
                    }
                }
                gaps[i].extend(times.windows(2).map(|w| ((w[1] - w[0]) as f64 / DAY) as f32));
            }
            start = end;
        }
        let total_buyers: u64 = buyers.iter().map(|b| u64::from(b[3])).sum();
        let total_repeaters: u64 = repeaters.iter().map(|&r| u64::from(r)).sum();
        let prior = if total_buyers > 0 { total_repeaters as f64 / total_buyers as f64 } else { 0.0 };
        let mut repeat_interval = vec![f32::NAN; n_items];
        let attr_values = |i: usize, k: &str| -> f32 {
            catalogue
                .get(i)
                .and_then(|it| it.attributes.get(k))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|x| x.is_finite())
                .map_or(f32::NAN, |x| x as f32)
        };
        for i in 0..n_items {
            let row = &mut values[i * width..(i + 1) * width];
            let b = buyers[i];
            row[0] = ln1p(b[0]);
            row[1] = ln1p(b[1]);
            row[2] = ln1p(b[2]);
            row[3] = ln1p(b[3]);
            row[4] = ((f64::from(b[1]) + 1.0) / (f64::from(prev30[i]) + 1.0)).ln() as f32;
            let created = catalogue.get(i).and_then(|it| it.created_at).filter(|&c| c < cut);
            let born = created.map_or(first[i], |c| c.min(first[i]));
            row[5] = if born == i64::MAX { f32::NAN } else { ((cut - born) as f64 / DAY) as f32 };
            row[6] = if last[i] == i64::MIN { f32::NAN } else { ((cut - last[i]) as f64 / DAY) as f32 };
            row[7] = if price[i].is_finite() { price[i].ln_1p() } else { f32::NAN };
            row[8] = price_band[i];
            // smoothed towards the shop's rate with the weight of 5 buyers
            row[9] = ((f64::from(repeaters[i]) + 5.0 * prior) / (f64::from(b[3]) + 5.0)) as f32;
            let g = &mut gaps[i];
            if !g.is_empty() {
                g.sort_by(f32::total_cmp);
                repeat_interval[i] = g[g.len() / 2];
            }
            row[I_REPEAT_INTERVAL] = repeat_interval[i];
            row[11] = ln1p(viewers[i]);
            for (k, a) in attrs.iter().enumerate() {
                row[12 + k] = attr_values(i, a);
            }
        }
        ItemTable { names, values, category, price, price_band, repeat_interval }
    }

    /// Number of items.
    pub fn n_items(&self) -> usize {
        self.category.len()
    }

    /// Item `i`'s feature row.
    pub fn row(&self, i: u32) -> &[f32] {
        let w = self.names.len();
        &self.values[i as usize * w..(i as usize + 1) * w]
    }
}

fn ln1p(x: u32) -> f32 {
    f64::from(x).ln_1p() as f32
}

/// Names of the user features, in order.
pub const USER_FEATURES: &[&str] = &[
    "user.views",
    "user.clicks",
    "user.searches",
    "user.carts",
    "user.purchases",
    "user.returns",
    "user.ratings",
    "user.baskets",
    "user.items",
    "user.basket_size",
    "user.recency_days",
    "user.tenure_days",
    "user.days_since_basket",
    "user.basket_interval_days",
    "user.log_price",
    "user.price_band",
    "user.repeat_share",
    "user.top_category_share",
    "user.session_events",
    "user.session_age_hours",
];

/// Names of the user × item features, in order.
pub const PAIR_FEATURES: &[&str] = &[
    "pair.views",
    "pair.carts",
    "pair.events",
    "pair.baskets",
    "pair.returns",
    "pair.days_since_event",
    "pair.days_since_bought",
    "pair.own_interval_days",
    "pair.due_vs_own",
    "pair.due_vs_item",
    "pair.basket_share",
    "pair.frequency_share",
    "pair.category_bought_share",
    "pair.category_event_share",
    "pair.price_vs_user",
    "pair.in_last_basket",
    "pair.session_events",
    "pair.session_carted",
    "pair.session_category_share",
];

/// Every feature name of a row built by [`UserContext::row`]: user, item, then pair features.
pub fn row_names(items: &ItemTable) -> Vec<String> {
    USER_FEATURES
        .iter()
        .map(|s| s.to_string())
        .chain(items.names.iter().cloned())
        .chain(PAIR_FEATURES.iter().map(|s| s.to_string()))
        .collect()
}

#[derive(Debug, Clone, Default)]
struct PairStats {
    views: u32,
    carts: u32,
    events: u32,
    returns: u32,
    /// distinct basket keys of bought events, in time order
    baskets: Vec<i64>,
    /// time of the first event of each basket
    basket_times: Vec<i64>,
    last_event: i64,
    last_bought: i64,
    session_events: u32,
    session_carted: bool,
    in_last_basket: bool,
}

/// One user's state as of the cut: their features and what pair features read.
#[derive(Debug, Clone)]
pub struct UserContext {
    cut: i64,
    user: Vec<f32>,
    pairs: HashMap<u32, PairStats>,
    /// category → (bought events, all events)
    categories: HashMap<u32, (u32, u32)>,
    bought_total: u32,
    events_total: u32,
    max_item_baskets: u32,
    n_baskets: u32,
    /// category → events in the last session
    session_categories: HashMap<u32, u32>,
    session_total: u32,
    log_price: f32,
}

impl UserContext {
    /// The state of a user with `events` (any order; those at or after `cut`, and those on
    /// items outside `items`, are ignored).
    pub fn new(events: &[Interaction], cut: i64, items: &ItemTable, cfg: &FeatureConfig) -> Self {
        let mut ev: Vec<&Interaction> =
            events.iter().filter(|e| e.timestamp < cut && (e.item as usize) < items.n_items()).collect();
        ev.sort_by_key(|e| (e.timestamp, e.item, e.kind));
        let mut pairs: HashMap<u32, PairStats> = HashMap::new();
        let mut by_kind = [0u32; 7];
        let mut categories: HashMap<u32, (u32, u32)> = HashMap::new();
        let (mut bought_total, mut events_total) = (0u32, 0u32);
        let mut basket_keys: Vec<(i64, i64, u32)> = Vec::new(); // (key, time, item)
        for e in &ev {
            let k = EventKind::ALL.iter().position(|&x| x == e.kind).unwrap_or(0);
            by_kind[k] += 1;
            let p = pairs.entry(e.item).or_insert_with(|| PairStats {
                last_event: i64::MIN,
                last_bought: i64::MIN,
                ..Default::default()
            });
            match e.kind {
                EventKind::View | EventKind::Click => p.views += 1,
                EventKind::AddToCart => p.carts += 1,
                EventKind::Return => p.returns += 1,
                _ => {}
            }
            if e.kind != EventKind::Return {
                p.events += 1;
                p.last_event = p.last_event.max(e.timestamp);
            }
            let cat = items.category[e.item as usize];
            let bought = is_bought(e.kind, cfg.purchases);
            if e.kind != EventKind::Return && e.kind != EventKind::Search {
                events_total += 1;
                if cat != u32::MAX {
                    categories.entry(cat).or_default().1 += 1;
                }
            }
            if bought {
                bought_total += 1;
                if cat != u32::MAX {
                    categories.entry(cat).or_default().0 += 1;
                }
                let key = cfg.baskets.key(e.timestamp);
                if p.baskets.last() != Some(&key) {
                    p.baskets.push(key);
                    p.basket_times.push(e.timestamp);
                }
                p.last_bought = p.last_bought.max(e.timestamp);
                basket_keys.push((key, e.timestamp, e.item));
            }
        }
        // baskets of the user: distinct keys in time order, with their first time and size
        // keys never decrease with time, so a basket is a run of equal keys
        let mut baskets: Vec<(i64, i64, u32)> = Vec::new(); // (key, first time, distinct items)
        let mut start = 0;
        while start < basket_keys.len() {
            let key = basket_keys[start].0;
            let mut end = start;
            while end < basket_keys.len() && basket_keys[end].0 == key {
                end += 1;
            }
            let mut its: Vec<u32> = basket_keys[start..end].iter().map(|b| b.2).collect();
            its.sort_unstable();
            its.dedup();
            baskets.push((key, basket_keys[start].1, its.len() as u32));
            start = end;
        }
        if let Some(&(last_key, _, _)) = baskets.last() {
            for &(k, _, i) in basket_keys.iter().rev() {
                if k != last_key {
                    break;
                }
                if let Some(p) = pairs.get_mut(&i) {
                    p.in_last_basket = true;
                }
            }
        }
        // the last session: the trailing run of events with gaps below the session gap
        let gap = (cfg.session_gap_hours * HOUR) as i64;
        let mut session_start = ev.len();
        while session_start > 0 {
            let e = ev[session_start - 1];
            if session_start < ev.len() && ev[session_start].timestamp - e.timestamp > gap {
                break;
            }
            session_start -= 1;
        }
        let mut session_categories: HashMap<u32, u32> = HashMap::new();
        let session = &ev[session_start..];
        let mut session_total = 0u32;
        for e in session.iter().filter(|e| e.kind != EventKind::Return) {
            session_total += 1;
            let p = pairs.get_mut(&e.item).expect("every event has its pair");
            p.session_events += 1;
            p.session_carted |= e.kind == EventKind::AddToCart;
            let cat = items.category[e.item as usize];
            if cat != u32::MAX {
                *session_categories.entry(cat).or_default() += 1;
            }
        }

        let first = ev.first().map(|e| e.timestamp);
        let last = ev.last().map(|e| e.timestamp);
        let days = |t: Option<i64>| t.map_or(f32::NAN, |t| ((cut - t) as f64 / DAY) as f32);
        let n_baskets = baskets.len() as u32;
        let basket_interval = if baskets.len() >= 2 {
            ((baskets[baskets.len() - 1].1 - baskets[0].1) as f64 / DAY / (baskets.len() - 1) as f64) as f32
        } else {
            f32::NAN
        };
        let bought_items: Vec<u32> = pairs.iter().filter(|(_, p)| !p.baskets.is_empty()).map(|(&i, _)| i).collect();
        let mean_of = |f: &dyn Fn(u32) -> f32| {
            let v: Vec<f32> = bought_items.iter().map(|&i| f(i)).filter(|x| x.is_finite()).collect();
            if v.is_empty() {
                f32::NAN
            } else {
                v.iter().sum::<f32>() / v.len() as f32
            }
        };
        let log_price = mean_of(&|i| items.price[i as usize].ln());
        let price_band = mean_of(&|i| items.price_band[i as usize]);
        let repeat_share = if bought_items.is_empty() {
            f32::NAN
        } else {
            bought_items.iter().filter(|i| pairs[i].baskets.len() >= 2).count() as f32 / bought_items.len() as f32
        };
        let top_category = categories.values().map(|c| c.1).max();
        let mut user = vec![0f32; USER_FEATURES.len()];
        for (k, n) in by_kind.iter().enumerate() {
            user[k] = ln1p(*n);
        }
        user[7] = ln1p(n_baskets);
        user[8] = ln1p(pairs.len() as u32);
        user[9] = if baskets.is_empty() {
            f32::NAN
        } else {
            baskets.iter().map(|b| b.2 as f32).sum::<f32>() / baskets.len() as f32
        };
        user[10] = days(last);
        user[11] = days(first);
        user[12] = days(baskets.last().map(|b| b.1));
        user[13] = basket_interval;
        user[14] = log_price;
        user[15] = price_band;
        user[16] = repeat_share;
        user[17] = match top_category {
            Some(t) if events_total > 0 => t as f32 / events_total as f32,
            _ => f32::NAN,
        };
        user[18] = ln1p(session_total);
        user[19] = session.last().map_or(f32::NAN, |e| ((cut - e.timestamp) as f64 / HOUR) as f32);
        let max_item_baskets = pairs.values().map(|p| p.baskets.len() as u32).max().unwrap_or(0);
        UserContext {
            cut,
            user,
            pairs,
            categories,
            bought_total,
            events_total,
            max_item_baskets,
            n_baskets,
            session_categories,
            session_total,
            log_price,
        }
    }

    /// The user features ([`USER_FEATURES`]).
    pub fn user(&self) -> &[f32] {
        &self.user
    }

    /// Items the user had an event on before the cut (returns included).
    pub fn items(&self) -> impl Iterator<Item = u32> + '_ {
        self.pairs.keys().copied()
    }

    /// Distinct baskets of `item` (0 when never bought).
    pub fn baskets_of(&self, item: u32) -> u32 {
        self.pairs.get(&item).map_or(0, |p| p.baskets.len() as u32)
    }

    /// The (user, item) features ([`PAIR_FEATURES`]) into `out` (appended).
    pub fn pair(&self, item: u32, items: &ItemTable, out: &mut Vec<f32>) {
        let none = PairStats { last_event: i64::MIN, last_bought: i64::MIN, ..Default::default() };
        let p = self.pairs.get(&item).unwrap_or(&none);
        let days = |t: i64| if t == i64::MIN { f32::NAN } else { ((self.cut - t) as f64 / DAY) as f32 };
        let n_b = p.baskets.len();
        let own_interval = if n_b >= 2 {
            ((p.basket_times[n_b - 1] - p.basket_times[0]) as f64 / DAY / (n_b - 1) as f64) as f32
        } else {
            f32::NAN
        };
        let since_bought = days(p.last_bought);
        let item_interval = items.repeat_interval.get(item as usize).copied().unwrap_or(f32::NAN);
        let cat = items.category.get(item as usize).copied().unwrap_or(u32::MAX);
        let (cat_bought, cat_events) = if cat == u32::MAX { (f32::NAN, f32::NAN) } else { self.category_shares(cat) };
        let price = items.price.get(item as usize).copied().unwrap_or(f32::NAN);
        let session_share = if cat == u32::MAX || self.session_total == 0 {
            f32::NAN
        } else {
            self.session_categories.get(&cat).copied().unwrap_or(0) as f32 / self.session_total as f32
        };
        out.extend_from_slice(&[
            ln1p(p.views),
            ln1p(p.carts),
            ln1p(p.events),
            ln1p(n_b as u32),
            ln1p(p.returns),
            days(p.last_event),
            since_bought,
            own_interval,
            since_bought / own_interval,
            since_bought / item_interval.max(1.0),
            if self.n_baskets > 0 { n_b as f32 / self.n_baskets as f32 } else { 0.0 },
            if self.max_item_baskets > 0 { n_b as f32 / self.max_item_baskets as f32 } else { 0.0 },
            cat_bought,
            cat_events,
            price.ln() - self.log_price,
            f32::from(u8::from(p.in_last_basket)),
            ln1p(p.session_events),
            f32::from(u8::from(p.session_carted)),
            session_share,
        ]);
    }

    /// Shares of the user's bought events and of all their events in category `cat`, smoothed
    /// by one pseudo-event spread evenly (a user with no events has shares of 0).
    fn category_shares(&self, cat: u32) -> (f32, f32) {
        let (b, e) = self.categories.get(&cat).copied().unwrap_or((0, 0));
        let share = |n: u32, total: u32| n as f32 / (total as f32 + 1.0);
        (share(b, self.bought_total), share(e, self.events_total))
    }

    /// A full feature row for `item`: user, item, then pair features (names: [`row_names`]).
    pub fn row(&self, item: u32, items: &ItemTable, out: &mut Vec<f32>) {
        out.extend_from_slice(&self.user);
        out.extend_from_slice(items.row(item));
        self.pair(item, items, out);
    }
}
