use daogou_core::{Dataset, Event, EventKind, Interaction, Item, Params, SeededRng};
use daogou_eval::auto::*;
use daogou_eval::*;
use std::time::{Duration, Instant};

/// Two groups of shoppers, each buying within its half of the catalogue.
fn shop() -> Dataset {
    let mut ds = Dataset::default();
    for i in 0..40 {
        ds.upsert_item(Item { category: Some(format!("c{}", i / 20)), ..Item::new(format!("i{i}")) });
    }
    let mut x = 11u64;
    for u in 0..120u32 {
        for k in 0..12u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let item = (u % 2) * 20 + ((x >> 33) % 20) as u32;
            ds.push_event(&Event {
                user: format!("u{u}"),
                item: format!("i{item}"),
                kind: EventKind::Purchase,
                value: 1.0,
                timestamp: (k as i64) * 86_400 + i64::from(u),
                query: None,
            });
        }
    }
    ds
}

#[test]
fn searches_within_the_budget_and_beats_popularity() {
    let ds = shop();
    let (train, valid): (Vec<Interaction>, Vec<Interaction>) =
        ds.interactions.iter().partition(|e| e.timestamp < 9 * 86_400);
    let opts = EvalOptions::new("popularity", Params::new());
    let auto = AutoOptions { budget: Duration::from_secs(3), models: None, metric: "ndcg@10".into(), seed: 1 };
    let started = Instant::now();
    let mut seen = 0;
    let trials = search(&ds, &[(train, valid)], &[], &opts, &auto, |_, _| seen += 1).unwrap();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(seen, trials.len());
    let models: Vec<&str> = trials.iter().map(|t| t.model.as_str()).collect();
    for m in ["popularity", "item-knn", "als", "ease", "bpr", "category-popularity"] {
        assert!(models.contains(&m), "{m} not tried: {models:?}");
    }
    assert!(!models.contains(&"buy-again"), "buy-again only with repeats");
    assert!(trials.len() > 6, "random settings after the defaults: {}", trials.len());
    assert!(trials.windows(2).all(|w| w[0].metric >= w[1].metric));
    let pop = trials.iter().find(|t| t.model == "popularity").unwrap().metric;
    assert!(trials[0].metric > pop, "{} vs popularity {pop}", trials[0].model);
    // restricted to one model, searched only within its ranges
    let only = AutoOptions { models: Some(vec!["item-knn".into()]), ..auto };
    let (t2, v2): (Vec<Interaction>, Vec<Interaction>) = ds.interactions.iter().partition(|e| e.timestamp < 9 * 86_400);
    let trials = search(&ds, &[(t2, v2)], &[], &opts, &only, |_, _| {}).unwrap();
    assert!(trials.iter().all(|t| t.model == "item-knn"));
}

#[test]
fn ranges_draw_inside_their_bounds() {
    let mut rng = SeededRng::new(3);
    for _ in 0..200 {
        let x: f64 = Range::LogFloat(0.25, 16.0).draw(&mut rng).parse().unwrap();
        assert!((0.25..=16.0).contains(&x));
        let k: i64 = Range::LogInt(10, 400).draw(&mut rng).parse().unwrap();
        assert!((10..=400).contains(&k));
        assert!(["a", "b"].contains(&Range::Choice(&["a", "b"]).draw(&mut rng).as_str()));
    }
}
