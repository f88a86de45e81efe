use daogou_algo::buy_again::*;
use daogou_algo::*;
use daogou_core::{Aggregate, Baskets, EventKind, Interaction, Interactions, Params};
use rand::{rngs::Xoshiro256PlusPlus, RngExt, SeedableRng};
use std::collections::BTreeMap;

const DAY: i64 = 86_400;

fn ev(user: u32, item: u32, day: i64) -> Interaction {
    Interaction { timestamp: day * DAY, kind: EventKind::Purchase, ..Interaction::new(user, item, 1.0) }
}

fn order(m: &dyn Recommender, user: u32) -> Vec<u32> {
    let mut s = vec![0.0; m.n_items()];
    m.score_user(user, &mut s);
    daogou_algo::topk::top_k(&s, m.n_items(), |_| false).iter().map(|x| x.0).collect()
}

/// User 0 bought item 1 on three days long ago, item 2 once yesterday, item 3 on two days
/// last month (and returned it once); users 1–3 make item 5 the most popular item they do
/// not have.
fn shop() -> (Vec<Interaction>, Interactions) {
    let mut e = vec![ev(0, 1, 0), ev(0, 1, 1), ev(0, 1, 2), ev(0, 2, 99), ev(0, 3, 60), ev(0, 3, 70)];
    for u in 1..4 {
        e.push(ev(u, 5, 10));
    }
    e.push(ev(1, 4, 10));
    e.push(Interaction { kind: EventKind::Return, ..ev(0, 3, 100) });
    let m = Interactions::from_interactions(4, 7, &e, Aggregate::Sum);
    (e, m)
}

#[test]
fn frequency_recency_and_the_popularity_tail() {
    let (e, m) = shop();
    let t = TrainData::new(&m, false).with_events(&e);
    let by_freq = BuyAgain::fit(&t, &Params::new().with("recency", 0)).unwrap();
    assert_eq!(&order(&by_freq, 0)[..3], &[1, 3, 2]);
    let by_time = BuyAgain::fit(&t, &Params::new().with("recency", 1)).unwrap();
    assert_eq!(&order(&by_time, 0)[..3], &[2, 3, 1]);
    // after the past items: the others by popularity (5 has three users, 4 one)
    assert_eq!(&order(&by_time, 0)[3..5], &[5, 4]);
    let mut s = vec![0.0; 7];
    by_time.score_user(0, &mut s);
    assert!(s[1] >= PAST && s[5] < 1.0);
    // a user with no history gets popularity only
    let fresh = BuyAgain::fit(&t, &Params::new()).unwrap();
    assert_eq!(order(&fresh, 3)[0], 5);
}

#[test]
fn frequency_counts_distinct_baskets() {
    // item 1: five lines on one invoice; item 2: one line on each of two invoices
    let at =
        |item: u32, t: i64| Interaction { timestamp: t, kind: EventKind::Purchase, ..Interaction::new(0, item, 1.0) };
    let e = vec![at(1, 100), at(1, 100), at(1, 100), at(1, 100), at(1, 100), at(2, 100), at(2, 5000), at(3, 5000)];
    assert_eq!(Baskets::detect(&e), Baskets::Time);
    let m = Interactions::from_interactions(1, 4, &e, Aggregate::Sum);
    let b = BuyAgain::fit(&TrainData::new(&m, false).with_events(&e), &Params::new().with("recency", 0)).unwrap();
    assert_eq!(&order(&b, 0)[..2], &[2, 1]);
    // both invoices fall on one day: by days, items 1 and 2 were bought on one occasion each
    let d = BuyAgain::fit(
        &TrainData::new(&m, false).with_events(&e),
        &Params::new().with("recency", 0).with("baskets", "day"),
    )
    .unwrap();
    let mut s = vec![0.0; 4];
    d.score_user(0, &mut s);
    assert!(s[1] > PAST && s[2] > PAST);
}

/// The RepeatPop baseline written plainly: past items by distinct baskets (invoices), ties
/// and every other item by distinct users, then by index.
fn repeat_pop(events: &[Interaction], n_users: usize, n_items: usize) -> Vec<Vec<u32>> {
    let mut users_of: Vec<std::collections::BTreeSet<u32>> = vec![Default::default(); n_items];
    let mut baskets: BTreeMap<(u32, u32), std::collections::BTreeSet<i64>> = BTreeMap::new();
    for e in events {
        users_of[e.item as usize].insert(e.user);
        baskets.entry((e.user, e.item)).or_default().insert(e.timestamp);
    }
    (0..n_users as u32)
        .map(|u| {
            let mut items: Vec<u32> = (0..n_items as u32).collect();
            let key = |i: u32| {
                let b = baskets.get(&(u, i)).map_or(0, |s| s.len());
                (std::cmp::Reverse(b), std::cmp::Reverse(users_of[i as usize].len()), i)
            };
            items.sort_by_key(|&i| key(i));
            items
        })
        .collect()
}

#[test]
fn recency_zero_is_exactly_repeat_pop() {
    for seed in 0..5u64 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let (n_users, n_items) = (30usize, 40usize);
        let mut e = Vec::new();
        for u in 0..n_users as u32 {
            for _ in 0..rng.random_range(1..8) {
                // an invoice: a few lines at one time (a line may repeat an item)
                let t = rng.random_range(0..200) * DAY + rng.random_range(0..DAY);
                for _ in 0..rng.random_range(1..6) {
                    let item = rng.random_range(0..n_items as u32).min(rng.random_range(0..n_items as u32));
                    e.push(Interaction { timestamp: t, kind: EventKind::Purchase, ..Interaction::new(u, item, 2.0) });
                }
            }
        }
        let m = Interactions::from_interactions(n_users, n_items, &e, Aggregate::Sum);
        let t = TrainData::new(&m, false).with_events(&e);
        let b = BuyAgain::fit(&t, &Params::new().with("recency", 0).with("baskets", "time")).unwrap();
        let reference = repeat_pop(&e, n_users, n_items);
        for u in 0..n_users as u32 {
            assert_eq!(order(&b, u), reference[u as usize], "seed {seed} user {u}");
        }
        // and the service's list ranks the same past items in the same order
        let pop = |i: &u32| m.item_row(*i).0.len() as f64;
        let p = BuyAgainParams { half_life_days: 365.0, recency: 0.0, baskets: Baskets::Time };
        let mine = e.iter().filter(|x| x.user == 3).map(|x| (x.item, x.kind, x.timestamp));
        let listed: Vec<u32> = rank_past_purchases(mine, pop, &p).into_iter().map(|x| x.item).collect();
        assert_eq!(listed, reference[3][..listed.len()].to_vec(), "seed {seed}");
    }
}

#[test]
fn the_service_list_drops_returned_items_and_counts_baskets() {
    let p = BuyAgainParams { half_life_days: 30.0, recency: 0.5, baskets: Baskets::Day };
    let events = vec![
        ("mug", EventKind::Purchase, 10 * DAY),
        ("mug", EventKind::Purchase, 10 * DAY + 60), // same day: one basket
        ("mug", EventKind::Purchase, 40 * DAY),
        ("tea", EventKind::Purchase, 70 * DAY),
        ("pan", EventKind::Purchase, 20 * DAY),
        ("pan", EventKind::Return, 25 * DAY),
        ("tv", EventKind::View, 70 * DAY),
    ];
    let ranked = rank_past_purchases(events, |_| 0.0, &p);
    let names: Vec<&str> = ranked.iter().map(|x| x.item).collect();
    assert_eq!(names, vec!["mug", "tea"]);
    assert_eq!(ranked[0].baskets, 2);
    // tea: share 1/2, bought at "now"; mug: share 1, last bought 30 days (one half-life) earlier;
    // the tie goes to the smaller item (equal popularity)
    assert!((ranked[0].score - 0.75).abs() < 1e-12 && (ranked[1].score - 0.75).abs() < 1e-12);
    // a tie: the more popular first
    let ranked = rank_past_purchases(
        [("a", EventKind::Purchase, 0), ("b", EventKind::Purchase, 0)],
        |i: &&str| if *i == "b" { 5.0 } else { 1.0 },
        &p,
    );
    assert_eq!(ranked[0].item, "b");
}

#[test]
fn without_an_event_log_the_matrix_values_are_the_frequency() {
    let e: Vec<Interaction> = [(0, 1, 1.0), (0, 2, 5.0), (0, 3, 2.0), (1, 4, 1.0), (2, 4, 1.0)]
        .iter()
        .map(|&(u, i, v)| Interaction::new(u, i, v))
        .collect();
    let m = Interactions::from_interactions(3, 6, &e, Aggregate::Sum);
    let b = BuyAgain::fit(&TrainData::new(&m, false), &Params::new()).unwrap();
    assert_eq!(&order(&b, 0)[..4], &[2, 3, 1, 4]);
}

#[test]
fn ad_hoc_history_in_order() {
    let (e, m) = shop();
    let t = TrainData::new(&m, false).with_events(&e);
    let b = BuyAgain::fit(&t, &Params::new().with("recency", 1)).unwrap();
    let mut s = vec![0.0; 7];
    b.score_history(&[(3, 1.0), (1, 1.0), (6, 1.0), (99, 1.0)], &mut s);
    let top: Vec<u32> = daogou_algo::topk::top_k(&s, 4, |_| false).iter().map(|x| x.0).collect();
    assert_eq!(top, vec![6, 1, 3, 5]);
    let f = BuyAgain::fit(&t, &Params::new().with("recency", 0)).unwrap();
    f.score_history(&[(3, 1.0), (1, 1.0), (3, 1.0), (6, 1.0)], &mut s);
    assert_eq!(daogou_algo::topk::top_k(&s, 1, |_| false)[0].0, 3);
    assert_eq!(f.explain(&[(3, 1.0), (1, 2.0)], 1, 3), vec![(1, 2.0)]);
    assert!(f.explain(&[(3, 1.0)], 5, 3).is_empty());
}

#[test]
fn bad_parameters_are_named() {
    let (e, m) = shop();
    let t = TrainData::new(&m, false).with_events(&e);
    for (k, v) in [("recency", "1.5"), ("half_life", "0"), ("half_life", "-3"), ("recency", "x"), ("baskets", "week")] {
        let err = BuyAgain::fit(&t, &Params::new().with(k, v)).unwrap_err().to_string();
        assert!(err.contains(k), "{k}={v}: {err}");
    }
}
