use daogou_core::{EventKind, Interaction, Item};
use daogou_data::synth::*;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

const DAY: i64 = 86_400;

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
    let cat: HashMap<&str, &str> = shop.items.iter().map(|i| (i.id.as_str(), i.category.as_deref().unwrap())).collect();
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
