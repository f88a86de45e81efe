//! The learned ranker end to end on a generated shop: it learns, it saves and loads bit for
//! bit, it leaves out a generator that cannot fit, it names what it learned from, and a
//! fresh session moves its picks. One integration-test binary for the crate.

mod folds;
mod gbdt;

use std::sync::OnceLock;

use daogou_algo::{build_model, load_model, Recommender, TrainData};
use daogou_core::{Dataset, EventKind, Interaction, Interactions, Params};
use daogou_data::synth::{generate_shop, ShopConfig};
use daogou_eval::{evaluate_split, EvalOptions};

struct Fixture {
    ds: Dataset,
    train: Vec<Interaction>,
    test: Vec<Interaction>,
}

/// A small generated shop (400 shoppers, 300 products, 90 days), cut at day 72.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        daogou_ranker::register();
        let shop = generate_shop(&ShopConfig { users: 400, items: 300, seed: 7, ..ShopConfig::default() });
        let ds = shop.to_dataset();
        let start = ds.interactions.iter().map(|e| e.timestamp).min().unwrap();
        let cut = start + 72 * 86_400;
        let (train, test) = ds.interactions.iter().partition(|e| e.timestamp < cut);
        Fixture { ds, train, test }
    })
}

fn matrix(f: &Fixture) -> Interactions {
    EvalOptions::new("ranker", Params::new()).signal.train_matrix(&f.ds, &f.train)
}

fn fast() -> Params {
    Params::new().with("trees", 60).with("generators", "buy-again,als,item-knn,category-popularity,popularity")
}

fn ndcg(model: &str, params: Params) -> f64 {
    let f = fixture();
    let mut opts = EvalOptions::new(model, params);
    opts.repeats = true;
    evaluate_split(&f.ds, &f.train, &f.test, &opts).unwrap().topn.ndcg
}

#[test]
fn learns_more_than_its_generators_alone() {
    let ranker = ndcg("ranker", fast());
    let again = ndcg("buy-again", Params::new());
    let pop = ndcg("popularity", Params::new());
    let als = ndcg("als", Params::new());
    eprintln!("NDCG@10 ranker {ranker:.4}, buy-again {again:.4}, als {als:.4}, popularity {pop:.4}");
    assert!(ranker > again.max(als).max(pop), "ranker {ranker} against buy-again {again}, als {als}, popularity {pop}");
}

#[test]
fn saves_and_loads_bit_for_bit() {
    let f = fixture();
    let m = matrix(f);
    let t = TrainData::new(&m, false).with_items(&f.ds.catalogue).with_events(&f.train);
    let model = build_model("ranker", &fast(), &t).unwrap();
    let loaded = load_model(&model.state()).unwrap();
    let n = model.n_items();
    let (mut a, mut b) = (vec![0f32; n], vec![0f32; n]);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for u in (0..m.n_users() as u32).step_by(7) {
        model.score_user(u, &mut a);
        loaded.score_user(u, &mut b);
        assert_eq!(bits(&a), bits(&b), "user {u}");
    }
    let history = [(3u32, 8.0f32), (10, 1.0), (3, 4.0)];
    model.score_history(&history, &mut a);
    loaded.score_history(&history, &mut b);
    assert_eq!(bits(&a), bits(&b));
    let events: Vec<Interaction> = f.train.iter().filter(|e| e.user == 5).copied().collect();
    let now = f.train.iter().map(|e| e.timestamp).max().unwrap();
    assert!(model.score_events(&events, now, &mut a) && loaded.score_events(&events, now, &mut b));
    assert_eq!(bits(&a), bits(&b));
    assert_eq!(model.feature_importance(), loaded.feature_importance());
    // a damaged state is refused, not half-loaded
    let mut broken = model.state();
    broken.tensors.remove("items.values");
    assert!(load_model(&broken).err().unwrap().to_string().contains("items.values"));
}

#[test]
fn a_generator_that_cannot_fit_is_left_out_with_a_warning() {
    let f = fixture();
    let m = matrix(f);
    let t = TrainData::new(&m, false).with_items(&f.ds.catalogue).with_events(&f.train);
    // svd refuses implicit data; "no-such-model" is not registered
    let p = Params::new().with("trees", 20).with("generators", "buy-again,svd,popularity,no-such-model");
    let r = daogou_ranker::Ranker::fit(&t, &p).unwrap();
    let w = r.warnings().join("\n");
    assert!(w.contains("`svd` left out") && w.contains("`no-such-model` left out"), "{w}");
    let names: Vec<String> = r.feature_importance().into_iter().map(|x| x.0).collect();
    assert!(names.iter().all(|n| !n.starts_with("gen.svd")), "{names:?}");
    // with no generator left there is nothing to rank: a clear error
    let err = daogou_ranker::Ranker::fit(&t, &Params::new().with("generators", "svd")).err().unwrap().to_string();
    assert!(err.contains("ranker"), "{err}");
    // bad parameters are named
    for (k, v) in [("candidates", "0"), ("labels", "week"), ("als.factorz", "3"), ("wat", "1"), ("eta", "2")] {
        let p = Params::new().with(k, v);
        let err = daogou_ranker::Ranker::fit(&t, &p).err().unwrap().to_string();
        assert!(err.contains(k.split('.').next_back().unwrap()) || err.contains(k), "{k}={v}: {err}");
    }
}

#[test]
fn names_what_it_learned_from() {
    let f = fixture();
    let m = matrix(f);
    let t = TrainData::new(&m, false).with_items(&f.ds.catalogue).with_events(&f.train);
    let model = build_model("ranker", &fast(), &t).unwrap();
    let imp = model.feature_importance();
    assert!(imp.len() > 5, "{imp:?}");
    assert!(imp.windows(2).all(|w| w[0].1 >= w[1].1));
    assert!(
        imp.iter().any(|(n, _)| n.starts_with("pair.")) && imp.iter().any(|(n, _)| n.starts_with("gen.")),
        "{imp:?}"
    );
}

#[test]
fn a_fresh_session_moves_the_picks_towards_its_category() {
    let f = fixture();
    let m = matrix(f);
    let t = TrainData::new(&m, false).with_items(&f.ds.catalogue).with_events(&f.train);
    let model = build_model("ranker", &fast(), &t).unwrap();
    let now = f.train.iter().map(|e| e.timestamp).max().unwrap() + 3_600;
    let cat = |i: u32| f.ds.category(i).map(str::to_owned);
    let mut moved = 0;
    let mut tried = 0;
    let mut out = vec![0f32; model.n_items()];
    for u in (0..m.n_users() as u32).step_by(20) {
        let mine: Vec<Interaction> = f.train.iter().filter(|e| e.user == u).copied().collect();
        if mine.is_empty() {
            continue;
        }
        // a session in a category the user never touched: four views and a cart
        let touched: Vec<Option<String>> = mine.iter().map(|e| cat(e.item)).collect();
        let Some(target) = (0..m.n_items() as u32).map(cat).find(|c| c.is_some() && !touched.contains(c)) else {
            continue;
        };
        let in_target: Vec<u32> = (0..m.n_items() as u32).filter(|&i| cat(i) == target).take(5).collect();
        let share = |scores: &[f32]| {
            let top = daogou_algo::topk::top_k(scores, 10, |_| false);
            top.iter().filter(|(i, _)| cat(*i) == target).count()
        };
        model.score_events(&mine, now, &mut out);
        let before = share(&out);
        let mut with = mine.clone();
        for (k, &i) in in_target.iter().enumerate() {
            let kind = if k == 4 { EventKind::AddToCart } else { EventKind::View };
            with.push(Interaction { user: u, item: i, value: 1.0, timestamp: now - 600 + 60 * k as i64, kind });
        }
        model.score_events(&with, now, &mut out);
        tried += 1;
        moved += usize::from(share(&out) > before);
    }
    assert!(tried >= 10 && moved * 10 >= tried * 7, "{moved} of {tried} users moved towards their session");
}
