//! The session blend of "for you": what a shopper is looking at now moves their list, a
//! session weight of 0 ranks by the whole history alone, and a session outside the window (or
//! after the time the list is for) changes nothing.

use std::collections::HashSet;

use daogou_core::{Event, EventKind};
use daogou_data::synth::{generate_shop, ShopConfig};
use daogou_engine::{Blend, Engine, Filter, LiveLimits, ModelSource, ModelSpec, Pick};
use daogou_store::{SqliteStore, Store};

fn category_share(picks: &[Pick], category: &str) -> usize {
    picks.iter().filter(|p| p.category.as_deref() == Some(category)).count()
}

#[test]
fn a_fresh_session_in_a_new_category_moves_for_you_and_session_zero_ignores_it() {
    let shop = generate_shop(&ShopConfig { users: 150, items: 600, days: 45, seed: 11, ..ShopConfig::default() });
    let end = shop.events.iter().map(|e| e.timestamp).max().unwrap();
    let by_id = |id: &str| shop.items.iter().find(|it| it.id == id);
    let mut categories: Vec<&str> = shop.items.iter().filter_map(|it| it.category.as_deref()).collect();
    categories.sort_unstable();
    categories.dedup();
    for model in ["item-knn", "ease"] {
        let mut store = SqliteStore::open_in_memory().unwrap();
        store.import(&shop.items, &shop.events).unwrap();
        let engine = Engine::open(store, &ModelSource::Fit(ModelSpec::named(model)), LiveLimits::default()).unwrap();
        let (mut tried, mut before, mut after, mut strong) = (0, 0, 0, 0);
        for u in 0..40 {
            let user = format!("u{u:04}");
            let touched: HashSet<&str> = shop
                .events
                .iter()
                .filter(|e| e.user == user)
                .filter_map(|e| by_id(&e.item)?.category.as_deref())
                .collect();
            if touched.is_empty() {
                continue;
            }
            // a category the shopper never touched, with items enough to fill a list (a different
            // one from shopper to shopper)
            let eligible: Vec<&str> = categories
                .iter()
                .copied()
                .filter(|c| {
                    !touched.contains(c)
                        && shop.items.iter().filter(|it| it.category.as_deref() == Some(*c)).count() >= 10
                })
                .collect();
            if eligible.is_empty() {
                continue;
            }
            let wanted = eligible[u % eligible.len()];
            let items: Vec<&str> = shop
                .items
                .iter()
                .filter(|it| it.category.as_deref() == Some(wanted))
                .map(|it| it.id.as_str())
                .take(5)
                .collect();
            // four views and a cart, minutes before the list is asked for
            let t = end + 86_400 * (u as i64 + 1);
            let session: Vec<Event> = items
                .iter()
                .enumerate()
                .map(|(k, item)| Event {
                    user: user.clone(),
                    item: (*item).to_owned(),
                    kind: if k == 4 { EventKind::AddToCart } else { EventKind::View },
                    value: 1.0,
                    timestamp: t + 60 * k as i64,
                    query: None,
                })
                .collect();
            engine.ingest(&session).unwrap();
            let snap = engine.snapshot();
            let h = engine.history(&snap, &user);
            let at = t + 5 * 60;
            let list = |blend: Blend| engine.for_you(&snap, &h, &Filter::default(), &blend, 10);
            let blended = list(Blend { at: Some(at), ..Blend::default() });
            let half = list(Blend { at: Some(at), session_weight: 0.5, ..Blend::default() });
            let whole = list(Blend { at: Some(at), session_weight: 0.0, ..Blend::default() });
            // the same session two hours later, or a list for a time before it: no session
            assert_eq!(list(Blend { at: Some(at + 2 * 3600), ..Blend::default() }), whole, "{model} {user}");
            assert_eq!(list(Blend { at: Some(t - 1), ..Blend::default() }), whole, "{model} {user}");
            // a pick the session brought is explained by the session
            for p in blended.iter().filter(|p| p.category.as_deref() == Some(wanted)) {
                assert!(p.reason.starts_with("because you"), "{model} {user}: {}", p.reason);
            }
            tried += 1;
            let (a, b) = (category_share(&whole, wanted), category_share(&blended, wanted));
            assert!(
                b >= a,
                "{model} {user}: {a} of the category's items in the top 10 without the session blend, {b} with it"
            );
            before += a;
            after += b;
            strong += category_share(&half, wanted);
        }
        assert!(tried >= 30, "{model}: {tried} shoppers tried");
        // the session's events are also part of the whole history (they are live events): the
        // blend adds to what they already move
        eprintln!(
            "{model}: {before} → {after} (weight 0.5: {strong}) of the session's category in the top 10s of {tried} shoppers"
        );
        assert!(strong * 10 >= before * 12 && strong > after, "{model}: weight 0.5: {before} → {strong}");
        if model == "item-knn" {
            // the service's default model moves with the default weight (EASE a little, 39 → 44)
            assert!(after * 10 >= before * 12, "{model}: {before} → {after}");
        }
    }
}
