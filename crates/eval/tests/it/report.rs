use daogou_core::{Aggregate, Csr, Dataset, Interactions, Item};
use daogou_eval::metrics::{TopNMetrics, UserMetrics};
use daogou_eval::report::*;
use daogou_eval::*;
use serde_json::json;

fn report(model: &str, per_user: Vec<(u32, f64)>, lists: Vec<Vec<u32>>) -> Report {
    let per_user: Vec<UserMetrics> = per_user
        .into_iter()
        .map(|(user, ndcg)| UserMetrics { user, ndcg, hit: f64::from(u8::from(ndcg > 0.0)), ..Default::default() })
        .collect();
    Report {
        model: model.into(),
        params: Default::default(),
        rating: None,
        rating_per_user: Vec::new(),
        topn: TopNMetrics {
            k: 2,
            precision: 0.0,
            recall: 0.0,
            f1: 0.0,
            ndcg: 0.0,
            map: 0.0,
            mrr: 0.0,
            hit_rate: 0.0,
            coverage: 0.5,
            novelty: 1.0,
            diversity: None,
            users_evaluated: per_user.len(),
            per_user,
            lists,
        },
        cold_warm: None,
        fit_seconds: 0.0,
        eval_seconds: 0.0,
        train_pairs: 0,
        test_interactions: 0,
        feature_importance: Vec::new(),
    }
}

/// 10 items, item i had by 10 − i users (item 0 the most popular); 3 users.
fn shop() -> (Dataset, Interactions) {
    let mut ds = Dataset::default();
    for i in 0..10 {
        let cat = if i < 5 { "Shoes/Running" } else { "Books" };
        ds.upsert_item(Item { title: format!("item {i}"), category: Some(cat.into()), ..Item::new(&format!("i{i}")) });
    }
    for u in 0..10 {
        ds.users.get_or_insert(&format!("u{u}"));
    }
    let triplets = (0..10u32).flat_map(|i| (0..10 - i).map(move |u| (u, i, 1.0)));
    let csr = Csr::from_triplets(10, 10, triplets, Aggregate::Sum);
    (ds, Interactions::from_csr(csr))
}

#[test]
fn popularity_deciles_split_recommendations_and_interactions() {
    let (ds, train) = shop();
    // a popularity model (items 0 and 1) and a tail model (items 8 and 9)
    let head = report("head", vec![(0, 1.0), (1, 0.0)], vec![vec![0, 1], vec![0, 1]]);
    let tail = report("tail", vec![(0, 0.5), (1, 0.05)], vec![vec![8, 9], vec![9, 8]]);
    let p = popularity(&ds, &train, &[head, tail]);
    let inter: Vec<f64> = serde_json::from_value(p["interactions_share"].clone()).unwrap();
    assert!((inter[0] - 10.0 / 55.0).abs() < 1e-12 && (inter.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert_eq!(p["models"][0]["share"][0], 0.5);
    assert_eq!(p["models"][0]["tail_share"], 0.0);
    assert_eq!(p["models"][1]["tail_share"], 1.0);
    assert_eq!(p["models"][0]["mean_popularity"], 9.5);
    assert_eq!(p["models"][0]["top_items"][0]["title"], "item 0");
    assert_eq!(p["models"][0]["top_items"][0]["lists_share"], 1.0);
}

#[test]
fn histograms_and_segments_count_every_user_once() {
    let (ds, train) = shop();
    // user 0 has 10 training items, user 9 has 1
    let r = report("m", vec![(0, 1.0), (5, 0.25), (9, 0.0)], vec![vec![0, 1]; 3]);
    let d = distributions(std::slice::from_ref(&r));
    assert_eq!(d["models"][0]["counts"], json!([1, 0, 1, 0, 0, 0, 0, 0, 0, 1]));
    assert_eq!(d["models"][0]["median"], 0.25);
    let s = segments(&ds, &train, std::slice::from_ref(&r));
    let names: Vec<&str> = s["history"].as_array().unwrap().iter().map(|g| g["segment"].as_str().unwrap()).collect();
    assert_eq!(names, ["1–2 items", "3–5 items", "6–10 items"]);
    assert_eq!(s["history"][0]["models"][0]["ndcg@2"], 0.0);
    assert_eq!(s["history"][2]["models"][0]["ndcg@2"], 1.0);
    // users 5 and 9 had shoes only (the popular half); user 0 had 5 of each: a tie goes to
    // the first name
    assert_eq!(s["category"][0]["segment"], "Shoes");
    assert_eq!(s["category"][0]["users"], 2);
    assert_eq!(s["category"][1]["segment"], "Books");
    assert_eq!(s["category"][1]["users"], 1);
}
