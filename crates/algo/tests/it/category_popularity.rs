use daogou_algo::category_popularity::*;
use daogou_algo::*;
use daogou_core::{Aggregate, Interaction, Interactions, Item, Params};

fn catalogue() -> Vec<Item> {
    // items 0–3 shoes, 4–7 books, 8 without a category
    (0..9)
        .map(|i| Item {
            category: match i {
                0..=3 => Some("shoes".into()),
                4..=7 => Some("books".into()),
                _ => None,
            },
            ..Item::new(format!("i{i}"))
        })
        .collect()
}

fn order(m: &dyn Recommender, scores: &[f32]) -> Vec<u32> {
    daogou_algo::topk::top_k(scores, m.n_items(), |_| false).iter().map(|x| x.0).collect()
}

#[test]
fn the_users_categories_first_and_cold_items_by_category() {
    // users 0–2 buy books (4 most), user 3 buys shoes; items 3, 7 and 8 have no buyer
    let pairs = [(0, 4), (1, 4), (2, 4), (0, 5), (1, 6), (3, 0), (3, 1), (2, 1)];
    let e: Vec<Interaction> = pairs.iter().map(|&(u, i)| Interaction::new(u, i, 1.0)).collect();
    let m = Interactions::from_interactions(5, 9, &e, Aggregate::Sum);
    let items = catalogue();
    let t = TrainData::new(&m, false).with_items(&items);
    let model = CategoryPopularity::fit(&t, &Params::new()).unwrap();
    let mut s = vec![0.0; 9];
    // user 3 likes shoes: shoes first (1 has two buyers), the cold shoe 3 above every book
    // with a single buyer's worth of share
    model.score_user(3, &mut s);
    let o = order(&model, &s);
    assert_eq!(&o[..2], &[1, 0], "{s:?}");
    assert!(s[3] > s[5] && s[3] > s[7], "a cold shoe ranks above books for a shoe buyer: {s:?}");
    // user 0 likes books: the cold book 7 above the cold shoe 3
    model.score_user(0, &mut s);
    assert_eq!(order(&model, &s)[0], 4);
    assert!(s[7] > s[3], "{s:?}");
    // a user without history: global shares × popularity (books are bought more)
    model.score_user(4, &mut s);
    assert_eq!(order(&model, &s)[0], 4);
    // prior 0: cold items score nothing
    let p0 = CategoryPopularity::fit(&t, &Params::new().with("prior", 0)).unwrap();
    p0.score_user(3, &mut s);
    assert_eq!((s[3], s[7], s[8]), (0.0, 0.0, 0.0));
    // an ad-hoc history of shoes answers like the shoe buyer
    model.score_history(&[(0, 1.0), (1, 1.0), (99, 1.0)], &mut s);
    let mut s3 = vec![0.0; 9];
    model.score_user(3, &mut s3);
    assert_eq!(s, s3);
    assert_eq!(model.explain(&[(0, 1.0), (4, 1.0)], 3, 5), vec![(0, 1.0)]);
    assert!(CategoryPopularity::fit(&t, &Params::new().with("smoothing", -1))
        .unwrap_err()
        .to_string()
        .contains("smoothing"));
}

#[test]
fn without_categories_it_is_popularity() {
    let pairs = [(0, 2), (1, 2), (2, 2), (0, 1), (1, 1), (2, 0)];
    let e: Vec<Interaction> = pairs.iter().map(|&(u, i)| Interaction::new(u, i, 1.0)).collect();
    let m = Interactions::from_interactions(3, 4, &e, Aggregate::Sum);
    let model = CategoryPopularity::fit(&TrainData::new(&m, false), &Params::new()).unwrap();
    let mut s = vec![0.0; 4];
    model.score_user(2, &mut s);
    assert_eq!(order(&model, &s), vec![2, 1, 0, 3]);
}
