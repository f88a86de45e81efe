use daogou_algo::Recommender;
use daogou_core::Params;
use daogou_nn::ncf::Ncf;

use crate::common::*;

fn params() -> Params {
    Params::new()
        .with("epochs", 12)
        .with("batch_size", 64)
        .with("learning_rate", 0.01)
        .with("validation", 60)
        .with("patience", 5)
}

#[test]
fn learns_planted_tastes_far_above_popularity() {
    let p = planted(1);
    let model = Ncf::fit(&p.data(), &params()).unwrap();
    let ours = group_precision(&model, &p.matrix);
    let pop = group_precision(popularity(&p.data()).as_ref(), &p.matrix);
    // 9 of the 73 unseen items are the user's group: a random list has 0.12, popularity 0
    assert!(ours > 0.35 && ours > pop + 0.3, "ncf {ours:.3} vs popularity {pop:.3}");
    // an ad-hoc history of group-2 items is folded in and gets group-2 items
    let mut s = vec![0f32; model.n_items()];
    let hist: Vec<(u32, f32)> = [30, 33, 36, 39, 62].iter().map(|&i| (i, 1.0)).collect();
    model.score_history(&hist, &mut s);
    let top = daogou_algo::topk::top_k(&s, 5, |i| hist.iter().any(|h| h.0 == i));
    let in_group = top.iter().filter(|x| group_of_item(x.0) == Some(2)).count();
    assert!(in_group >= 3, "{top:?}");
}

#[test]
fn same_seed_same_model_and_file_round_trip_is_exact() {
    let p = planted(2);
    let quick = params().with("epochs", 2);
    let a = Ncf::fit(&p.data(), &quick).unwrap();
    let b = Ncf::fit(&p.data(), &quick).unwrap();
    assert_eq!(all_score_bits(&a), all_score_bits(&b));
    let c = Ncf::fit(&p.data(), &quick.clone().with("seed", 7)).unwrap();
    assert_ne!(all_score_bits(&a), all_score_bits(&c));
    let back = round_trip(&a, &p.matrix);
    assert_eq!(back.name(), "ncf");
    assert_eq!(all_score_bits(&a), all_score_bits(back.as_ref()));
}

#[test]
fn bad_parameters_are_named() {
    let p = planted(3);
    for (k, v) in [("layers", "32,x"), ("factors", "0"), ("negatives", "-1"), ("epoch", "3")] {
        let err = Ncf::fit(&p.data(), &Params::new().with(k, v)).expect_err("must fail").to_string();
        assert!(err.contains(k), "{k}: {err}");
    }
}
