//! `cold-items`: metrics on the held-out items and on the others, from the same rankings.

use daogou_core::Params;
use daogou_data::{cold_items, split, Split};
use daogou_eval::{evaluate_cold_split, evaluate_split, EvalOptions};

use crate::shop;

#[test]
fn cold_and_warm_metrics_by_hand() {
    // items 8 and 9 are cold: bought only after the cut (day 10)
    let mut buys = vec![("u0", 3, 1), ("u0", 5, 1), ("u1", 5, 2), ("u1", 4, 2), ("u2", 5, 3), ("u2", 3, 3)];
    buys.extend([("u0", 9, 11), ("u0", 4, 12), ("u1", 8, 11), ("u2", 1, 12)]);
    let ds = shop(10, &buys);
    let (train, test) = split(&ds.interactions, &Split::Time { cut: 10 * 86_400 }, 0);
    let cold = [8, 9];
    let opts = EvalOptions::new("popularity", Params::new());
    let r = evaluate_cold_split(&ds, &train, &test, &cold, &opts).unwrap();
    let cw = r.cold_warm.as_ref().expect("a cold split reports cold and warm");
    assert_eq!((cw.cold_items, cw.warm_items), (2, 8));

    // cold: only items 8 and 9 are candidates; both have no buyer, so popularity puts the lower
    // index first. u0 wants 9 (rank 2), u1 wants 8 (rank 1); u2 bought no cold item.
    let c = &cw.cold;
    assert_eq!(c.users_evaluated, 2);
    assert!((c.recall - 1.0).abs() < 1e-12);
    assert!((c.ndcg - (1.0 + 1.0 / 3f64.log2()) / 2.0).abs() < 1e-12, "{c:?}");
    assert!((c.mrr - 0.75).abs() < 1e-12);
    assert!((c.coverage - 1.0).abs() < 1e-12, "both cold items were recommended: {c:?}");
    // warm: u0 wants 4 (never bought before), u2 wants 1; u1's only test item is cold
    assert_eq!(cw.warm.users_evaluated, 2);
    // all items: the usual report, three users
    assert_eq!(r.topn.users_evaluated, 3);
    assert_eq!(r.topn, evaluate_split(&ds, &train, &test, &opts).unwrap().topn, "same overall metrics");

    // the JSON contract: objects cold and warm with the keys of the top-level report
    let j = r.to_json();
    for part in ["cold", "warm"] {
        let o = j[part].as_object().unwrap_or_else(|| panic!("no `{part}` object in {j}"));
        for key in
            ["precision@10", "recall@10", "ndcg@10", "map@10", "mrr", "hit_rate@10", "coverage@10", "users_evaluated"]
        {
            assert!(o.contains_key(key) && j.get(key).is_some(), "{part}.{key} missing: {j}");
        }
    }
    assert_eq!(j["cold"]["items"], 2);
    assert!(evaluate_split(&ds, &train, &test, &opts).unwrap().to_json().get("cold").is_none());
}

#[test]
fn a_cold_items_split_never_trains_on_a_cold_item() {
    // 30 users with 12 purchases each over 40 items
    let buys: Vec<(String, u32, i64)> =
        (0..360u32).map(|n| (format!("u{}", n % 30), (n * 7 + n / 30) % 40, i64::from(n))).collect();
    let buys: Vec<(&str, u32, i64)> = buys.iter().map(|(u, i, d)| (u.as_str(), *i, *d)).collect();
    let ds = shop(40, &buys);
    let s: Split = "cold-items:0.1".parse().unwrap();
    let cold = cold_items(&ds.interactions, &s, 3);
    let (train, test) = split(&ds.interactions, &s, 3);
    assert_eq!(cold.len(), 4);
    let r = evaluate_cold_split(&ds, &train, &test, &cold, &EvalOptions::new("category-popularity", Params::new()))
        .unwrap();
    let cw = r.cold_warm.unwrap();
    assert!(cw.cold.users_evaluated > 0 && cw.warm.users_evaluated > 0, "{cw:?}");
    // the model saw no event on a cold item, yet ranks them: recall is a real number, and a
    // model that knows categories puts something relevant in reach
    assert!(cw.cold.recall > 0.0, "{cw:?}");
}
