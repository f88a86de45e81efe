//! `repeats`: items bought before the cut stay candidates and count as relevant.

use daogou_core::Params;
use daogou_data::{split, Split};
use daogou_eval::{evaluate_split, EvalOptions};

use crate::shop;

#[test]
fn repeats_keep_past_items_eligible_and_relevant() {
    // u0 rebuys item 1 after the cut and buys item 2 for the first time; item 3 is popular
    let buys = [("u0", 1, 1), ("u1", 3, 1), ("u2", 3, 2), ("u3", 3, 2), ("u0", 1, 11), ("u0", 2, 12)];
    let ds = shop(5, &buys);
    let (train, test) = split(&ds.interactions, &Split::Time { cut: 10 * 86_400 }, 0);
    let mut opts = EvalOptions::new("buy-again", Params::new());
    opts.k = 1;

    // discovery (default): item 1 is neither relevant nor recommended; the top pick is the
    // popular item 3, a miss; the only relevant item is 2
    let r = evaluate_split(&ds, &train, &test, &opts).unwrap();
    assert_eq!(r.topn.users_evaluated, 1);
    assert_eq!(r.topn.precision, 0.0);
    assert!((r.topn.mrr - 1.0 / 3.0).abs() < 1e-12, "2 ranks after 3 and 0 (both score ≥ item 2's): {:?}", r.topn);

    // repeats: item 1 is relevant and buy-again puts it first
    opts.repeats = true;
    let r = evaluate_split(&ds, &train, &test, &opts).unwrap();
    assert_eq!(r.topn.users_evaluated, 1);
    assert_eq!(r.topn.precision, 1.0);
    assert!((r.topn.recall - 0.5).abs() < 1e-12, "relevant: 1 and 2: {:?}", r.topn);
    // popularity cannot rank a past item first, so repeats is what separates the two
    opts.model = "popularity".into();
    assert_eq!(evaluate_split(&ds, &train, &test, &opts).unwrap().topn.precision, 0.0);
}
