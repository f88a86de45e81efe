use daogou_core::{Dataset, Event, EventKind, Item};
use daogou_data::synth::fixtures::{two_cluster_shop, two_cluster_shop_with};

use daogou_engine::lists::*;
use daogou_engine::*;

/// The fixture shop as the store would load it, with its catalogue.
fn data(extra: &[Event]) -> (Dataset, Catalogue) {
    let shop = two_cluster_shop_with(extra);
    let mut ds = Dataset::default();
    for it in &shop.items {
        ds.upsert_item(it.clone());
    }
    for e in &shop.events {
        ds.push_event(e);
    }
    let cat = Catalogue::new(ds.catalogue.clone());
    (ds, cat)
}

fn fit(model: &str, extra: &[Event]) -> (Snapshot, Catalogue) {
    let (ds, mut cat) = data(extra);
    let snap = Snapshot::fit(&ds, &mut cat, &ModelSpec::named(model), 1, 0).unwrap();
    (snap, cat)
}

fn user(snap: &Snapshot, id: &str) -> History {
    History::build(snap, snap.users.get(id), std::iter::empty())
}

fn ids(p: &[Pick]) -> Vec<&str> {
    p.iter().map(|p| p.item.as_str()).collect()
}

fn event(user: &str, item: &str, kind: EventKind, ts: i64) -> Event {
    Event { user: user.into(), item: item.into(), kind, value: 1.0, timestamp: ts, query: None }
}

#[test]
fn for_you_obeys_the_rules_and_explains() {
    let (snap, cat) = fit("item-knn", &[]);
    let h = user(&snap, "su0"); // bought s0 s1 s2, viewed s4
    let picks = for_you(&snap, &cat, &h, &Filter::default(), &Blend::default(), 5);
    assert_eq!(picks.len(), 5);
    // the only shoe left (nothing owned, s5 out of stock) with its reason, then popular items
    assert_eq!(picks[0].item, "s3");
    assert_eq!(picks[0].reason, "because you bought “跑鞋 1”");
    assert_eq!(picks[0].because.as_deref(), Some("s1"));
    for p in &picks[1..] {
        assert!(!["s0", "s1", "s2", "s4", "s5"].contains(&p.item.as_str()), "{picks:?}");
        assert_eq!(p.reason, "popular in this shop");
    }
    // repeats allowed: owned items may come back; out-of-stock ones when asked for
    let f = Filter { allow_repeat: true, in_stock: false, ..Filter::default() };
    let all = for_you(&snap, &cat, &h, &f, &Blend::default(), 12);
    assert!(ids(&all).contains(&"s0") && ids(&all).contains(&"s5"), "{:?}", ids(&all));
    // a category filter and a brand filter
    let books = Filter { category: Some("books".into()), ..Filter::default() };
    assert!(for_you(&snap, &cat, &h, &books, &Blend::default(), 3).iter().all(|p| p.item.starts_with('b')));
    let brand_b = Filter { brand: Some("B".into()), ..Filter::default() };
    assert!(for_you(&snap, &cat, &h, &brand_b, &Blend::default(), 3).iter().all(|p| p.brand.as_deref() == Some("B")));
    // an unknown user: popular items fill in
    let nobody = for_you(&snap, &cat, &History::default(), &Filter::default(), &Blend::default(), 3);
    assert_eq!(nobody.len(), 3);
    assert!(nobody.iter().all(|p| p.reason == "popular in this shop"));
}

#[test]
fn for_you_blending_caps_and_exploration() {
    let (snap, mut cat) = fit("item-knn", &[]);
    let h = user(&snap, "su0");
    let f = Filter { allow_repeat: true, ..Filter::default() };
    let capped = for_you(&snap, &cat, &h, &f, &Blend { max_per_category: Some(1), ..Blend::default() }, 4);
    let cats: Vec<_> = capped.iter().map(|p| p.category.clone()).collect();
    assert!(cats.iter().filter(|c| c.as_deref() == Some("运动/跑鞋")).count() <= 1, "{cats:?}");
    // a new item no model knows: exploration shows it, with its reason
    cat.upsert(Item { created_at: Some(2_000_000_000), category: Some("books".into()), ..Item::new("fresh") });
    let explored = for_you(&snap, &cat, &h, &Filter::default(), &Blend { explore: 0.5, ..Blend::default() }, 4);
    let fresh = explored.iter().find(|p| p.item == "fresh").expect("the new item is explored");
    assert_eq!(fresh.reason, "new in the shop");
    // popularity blending reorders towards popular items but keeps the rules
    let popular_first =
        for_you(&snap, &cat, &h, &Filter::default(), &Blend { popularity: 100.0, ..Blend::default() }, 3);
    assert!(popular_first.iter().all(|p| p.item != "s5" && !h.has(snap.items.get(&p.item).unwrap())));
}

#[test]
fn session_history_counts_views() {
    let (snap, cat) = fit("item-knn", &[]);
    let (h, unknown) = History::session(&snap, &["b0".into(), "b1".into(), "nope".into()]);
    assert_eq!(unknown, 1);
    let picks = for_you(&snap, &cat, &h, &Filter::default(), &Blend::default(), 3);
    assert!(picks.iter().all(|p| p.item.starts_with('b') && p.item != "b0" && p.item != "b1"), "{picks:?}");
    assert!(picks[0].reason.starts_with("because you viewed"), "{}", picks[0].reason);
}

#[test]
fn similar_and_cold_similar() {
    let (snap, mut cat) = fit("item-knn", &[]);
    let s0 = snap.items.get("s0").unwrap();
    let sims = similar(&snap, &cat, s0, &Filter::default(), 3).unwrap();
    assert!(!sims.is_empty() && sims.iter().all(|p| p.item.starts_with('s') && p.item != "s0"), "{sims:?}");
    assert_eq!(sims[0].reason, "customers who viewed “跑鞋 0” also viewed this");
    assert_eq!(sims[0].because.as_deref(), Some("s0"));
    let (pop, _) = fit("popularity", &[]);
    assert!(similar(&pop, &cat, s0, &Filter::default(), 3).is_none(), "popularity has no item similarity");
    let (i, _) = cat.upsert(Item { category: Some("books".into()), title: "New book".into(), ..Item::new("nb") });
    let cold = cold_similar(&snap, &cat, cat.get(i), &Filter::default(), 3);
    assert!(cold.iter().all(|p| p.item.starts_with('b') && p.reason == "popular in books, like “New book”"));
}

#[test]
fn bought_together_counts_co_purchases() {
    let (snap, cat) = fit("item-knn", &[]);
    let s0 = snap.items.get("s0").unwrap();
    let picks = bought_together(&snap, &cat, s0, &Filter::default(), 10);
    // s0's buyers (su0, su4, su5; and su10, su11 wrap around) bought s1, s2, s4, s5 — s5 out of stock
    assert!(picks.iter().all(|p| p.item.starts_with('s') && p.item != "s0" && p.item != "s5"), "{picks:?}");
    assert!(picks.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(picks[0].reason.starts_with("often bought together with “跑鞋 0”"));
    let f = Filter { in_stock: false, ..Filter::default() };
    assert!(ids(&bought_together(&snap, &cat, s0, &f, 10)).contains(&"s5"));
}

#[test]
fn popular_and_new_arrivals() {
    let (snap, mut cat) = fit("item-knn", &[]);
    let p = popular(&snap, &cat, &Filter::default(), 20);
    assert_eq!(p.len(), 11, "every item but the out-of-stock s5");
    assert!(p.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(popular(&snap, &cat, &Filter { max_price: Some(7.0), ..Filter::default() }, 20)
        .iter()
        .all(|p| p.price.unwrap() <= 7.0));
    cat.upsert(Item { created_at: Some(5), ..Item::new("old") });
    cat.upsert(Item { created_at: Some(9), ..Item::new("newer") });
    cat.upsert(Item { created_at: Some(7), stock: Some(0), ..Item::new("sold out") });
    assert_eq!(ids(&new_arrivals(&cat, &Filter::default(), 5)), ["newer", "old"]);
}

#[test]
fn trending_lists_the_counted_items_that_pass() {
    let (_, cat) = fit("item-knn", &[]);
    let s1 = cat.index_of("s1").unwrap();
    let s5 = cat.index_of("s5").unwrap();
    let picks = trending(&cat, &[(s5, 9), (s1, 3)], &Filter::default(), 24, 5);
    assert_eq!(ids(&picks), ["s1"], "s5 is out of stock");
    assert_eq!(picks[0].reason, "trending: 3 shoppers in the last 24 h");
}

#[test]
fn buy_again_counts_purchases_returns_and_live_events() {
    let t = 1_700_000_000;
    let extra = [
        event("su0", "s0", EventKind::Purchase, t + 100), // a second purchase of s0
        event("su0", "s1", EventKind::Return, t + 101),   // s1 returned: gone
    ];
    let (snap, cat) = fit("item-knn", &extra);
    let u = snap.users.get("su0");
    let picks = buy_again(&snap, &cat, u, std::iter::empty(), &Filter::default(), 10);
    assert_eq!(ids(&picks), ["s0", "s2"], "{picks:?}");
    assert!(picks[0].reason.starts_with("bought twice, last on"));
    // a live purchase of a new item counts at once
    let live = [LiveEvent {
        seq: 0,
        item: cat.index_of("b3").unwrap(),
        kind: EventKind::Purchase,
        value: 1.0,
        timestamp: t + 500,
    }];
    let picks = buy_again(&snap, &cat, u, live.iter(), &Filter::default(), 10);
    assert!(ids(&picks).contains(&"b3"));
    // an unknown user has nothing to buy again
    assert!(buy_again(&snap, &cat, None, std::iter::empty(), &Filter::default(), 10).is_empty());
}

#[test]
fn all_users_matches_for_you_without_reasons() {
    for model in ["item-knn", "als", "ease"] {
        let (snap, cat) = fit(model, &[]);
        let mut rows: Vec<(u32, Vec<(u32, f32)>)> = Vec::new();
        all_users(&snap, &cat, &Filter::default(), 4, |batch| {
            rows.extend(batch.iter().cloned());
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(rows.len(), snap.users.len());
        for (u, top) in rows {
            let h = History::build(&snap, Some(u), std::iter::empty());
            let picks = for_you(&snap, &cat, &h, &Filter::default(), &Blend::default(), 4);
            let model_part: Vec<&Pick> = picks.iter().filter(|p| p.reason != "popular in this shop").collect();
            let who = format!("{model} user {}", snap.users.id(u));
            // batched scoring equals one user's up to rounding: same scores, and the same
            // items where the scores do not tie
            for (p, &(i, s)) in model_part.iter().zip(&top) {
                assert!((p.score - s).abs() < 1e-4, "{who}: {} {} vs {} {s}", p.item, p.score, cat.get(i).id);
                let tied = top.iter().filter(|t| (t.1 - s).abs() < 1e-4).count() > 1;
                assert!(tied || p.item == cat.get(i).id, "{who}: {} vs {}", p.item, cat.get(i).id);
            }
            assert!(top.iter().all(|&(i, _)| cat.get(i).id != "s5"), "out of stock left out");
        }
    }
    let _ = two_cluster_shop();
}
