//! Small datasets with planted structure that the tests of every crate use.

use super::taxonomy::DAY;
use std::collections::HashSet;

use super::*;

// ---------------------------------------------------------------------------------------
// Planted datasets for model tests
// ---------------------------------------------------------------------------------------

/// The contiguous item block `[lo, hi)` of cluster `c`.
pub(super) fn block(c: usize, n_items: usize, n_clusters: usize) -> (usize, usize) {
    (c * n_items / n_clusters, (c + 1) * n_items / n_clusters)
}

pub(super) fn planted_base(n_users: usize, n_items: usize, n_clusters: usize, explicit: bool) -> Dataset {
    let mut ds = Dataset { explicit, ..Default::default() };
    let n_clusters = n_clusters.max(1);
    for c in 0..n_clusters {
        let (lo, hi) = block(c, n_items, n_clusters);
        for j in lo..hi {
            let mut it = Item::new(format!("i{j}"));
            it.title = format!("Item {j} (cluster {c})");
            it.category = Some(format!("cluster{c}"));
            ds.upsert_item(it);
        }
    }
    for u in 0..n_users {
        ds.users.get_or_insert(&format!("u{u}"));
    }
    ds
}

/// Small explicit-rating data with planted structure for model tests.
///
/// User `u{i}` (index `i`) belongs to cluster `i % n_clusters`; item `i{j}` (index `j`) to the
/// cluster whose contiguous block holds it (`j * n_clusters / n_items`, also in its category
/// `"cluster{c}"`). Each (user, item) pair is rated with probability `density`: 4–5 inside the
/// user's cluster block, 1–2 outside. Every user rates at least one item of its own block.
/// Interactions are `Rating`s sorted by timestamp (a year from 2026-01-01), so temporal splits
/// work; ids map to indices in numeric order.
pub fn planted_ratings(n_users: usize, n_items: usize, n_clusters: usize, density: f64, seed: u64) -> Dataset {
    let mut ds = planted_base(n_users, n_items, n_clusters, true);
    let k = n_clusters.max(1);
    let mut rng = Rng::derive(seed, 10, 0);
    const T0: i64 = 1_767_225_600;
    for u in 0..n_users {
        let c = u % k;
        let (lo, hi) = block(c, n_items, k);
        let mut own = 0;
        for j in 0..n_items {
            if !rng.chance(density) {
                continue;
            }
            let inside = (lo..hi).contains(&j);
            own += usize::from(inside);
            let v = if inside { 4 + usize::from(rng.chance(0.6)) } else { 1 + usize::from(rng.chance(0.4)) };
            let ts = T0 + rng.range(0, 365 * DAY - 1);
            ds.interactions.push(Interaction {
                user: u as u32,
                item: j as u32,
                value: v as f32,
                timestamp: ts,
                kind: EventKind::Rating,
            });
        }
        if own == 0 && hi > lo {
            let j = lo + rng.below(hi - lo);
            let ts = T0 + rng.range(0, 365 * DAY - 1);
            ds.interactions.push(Interaction {
                user: u as u32,
                item: j as u32,
                value: 5.0,
                timestamp: ts,
                kind: EventKind::Rating,
            });
        }
    }
    ds.interactions.sort_by_key(|it| it.timestamp);
    ds
}

/// Implicit version of [`planted_ratings`]: each user makes `per_user` `Purchase`s (value 1),
/// ~85% inside its cluster's block with Zipf-like popularity (lower index in the block = more
/// popular), the rest anywhere (also Zipf over all items). Items are distinct per user while
/// possible. Each user's timestamps strictly increase; interactions are sorted by timestamp.
pub fn planted_implicit(n_users: usize, n_items: usize, n_clusters: usize, per_user: usize, seed: u64) -> Dataset {
    let mut ds = planted_base(n_users, n_items, n_clusters, false);
    if n_items == 0 {
        return ds;
    }
    let k = n_clusters.max(1);
    let mut rng = Rng::derive(seed, 11, 0);
    let zipf = |n: usize| cdf((0..n).map(|r| 1.0 / (r + 1) as f64));
    let global = zipf(n_items);
    let blocks: Vec<(usize, Vec<f64>)> = (0..k)
        .map(|c| {
            let (lo, hi) = block(c, n_items, k);
            (lo, zipf(hi - lo))
        })
        .collect();
    const T0: i64 = 1_767_225_600;
    let mut seen = HashSet::new();
    for u in 0..n_users {
        let (lo, ref bcdf) = blocks[u % k];
        seen.clear();
        let mut t = T0 + rng.range(0, 30 * DAY);
        for _ in 0..per_user {
            let mut j = 0;
            for _attempt in 0..20 {
                j = if !bcdf.is_empty() && rng.chance(0.85) {
                    lo + sample_cdf(&mut rng, bcdf)
                } else {
                    sample_cdf(&mut rng, &global)
                };
                if !seen.contains(&j) {
                    break;
                }
            }
            if seen.contains(&j) && seen.len() < n_items {
                // Popular items exhausted: take the least popular unseen item of the block or overall.
                let (blo, bhi) = block(u % k, n_items, k);
                j = (blo..bhi).rev().chain((0..n_items).rev()).find(|x| !seen.contains(x)).unwrap_or(j);
            }
            seen.insert(j);
            ds.interactions.push(Interaction {
                user: u as u32,
                item: j as u32,
                value: 1.0,
                timestamp: t,
                kind: EventKind::Purchase,
            });
            t += rng.range(600, 3 * DAY);
        }
    }
    ds.interactions.sort_by_key(|it| it.timestamp);
    ds
}

/// A tiny shop with two planted tastes, for service and engine tests: sports items `s0`..`s5`
/// (category `运动/跑鞋`, brand `A` for even and `B` for odd numbers, price 10·(i+1), `s5` out of
/// stock) and books `b0`..`b5` (category `books`, brand `Press`, price 5 + i); 12 runners
/// (`su0`..) and 12 readers (`ru0`..) each buy three neighbouring items of their cluster and
/// view a fourth, one second apart from 2023-11-14.
pub fn two_cluster_shop() -> Shop {
    two_cluster_shop_with(&[])
}

/// [`two_cluster_shop`] with `extra` events inserted in the middle of the users (after
/// `su5`/`ru5`).
pub fn two_cluster_shop_with(extra: &[Event]) -> Shop {
    let mut items = Vec::new();
    for i in 0..6 {
        items.push(Item {
            title: format!("跑鞋 {i}"),
            category: Some("运动/跑鞋".into()),
            brand: Some(if i % 2 == 0 { "A" } else { "B" }.into()),
            price: Some(10.0 * (i + 1) as f64),
            stock: Some(if i == 5 { 0 } else { 10 }),
            ..Item::new(format!("s{i}"))
        });
    }
    for i in 0..6 {
        items.push(Item {
            title: format!("Book {i}"),
            category: Some("books".into()),
            brand: Some("Press".into()),
            price: Some(5.0 + i as f64),
            ..Item::new(format!("b{i}"))
        });
    }
    let ev = |user: &str, item: String, kind: EventKind, ts: i64| Event {
        user: user.into(),
        item,
        kind,
        value: 1.0,
        timestamp: ts,
        query: None,
    };
    let mut events = Vec::new();
    let mut ts = 1_700_000_000;
    for u in 0..12 {
        for (prefix, cluster) in [("su", "s"), ("ru", "b")] {
            let user = format!("{prefix}{u}");
            for k in 0..3 {
                ts += 1;
                events.push(ev(&user, format!("{cluster}{}", (u + k) % 6), EventKind::Purchase, ts));
            }
            ts += 1;
            events.push(ev(&user, format!("{cluster}{}", (u + 4) % 6), EventKind::View, ts));
        }
        if u == 5 {
            events.extend(extra.iter().cloned());
        }
    }
    Shop { items, events, truth: ShopTruth::default() }
}
