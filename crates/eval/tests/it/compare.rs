//! `significance::compare_reports` on real runs: the per-user scores behind the report.

use daogou_core::Params;
use daogou_data::{split, Split};
use daogou_eval::significance::{compare_reports, Bootstrap};
use daogou_eval::{evaluate_split, EvalOptions};

use crate::shop;

#[test]
fn per_user_scores_add_up_to_the_report_and_compare_by_key() {
    // u0 rebuys item 1; u1..u3 buy the popular item 3 again and item 4 for the first time
    let mut buys = vec![("u0", 1, 1), ("u0", 1, 11)];
    for u in ["u1", "u2", "u3"] {
        buys.extend([(u, 3, 1), (u, 0, 2), (u, 4, 12)]);
    }
    buys.push(("u4", 4, 1));
    let ds = shop(6, &buys);
    let (train, test) = split(&ds.interactions, &Split::Time { cut: 10 * 86_400 }, 0);
    let mut opts = EvalOptions::new("popularity", Params::new());
    opts.k = 2;
    opts.repeats = true;
    let pop = evaluate_split(&ds, &train, &test, &opts).unwrap();
    opts.model = "buy-again".into();
    let again = evaluate_split(&ds, &train, &test, &opts).unwrap();

    let t = &pop.topn;
    assert_eq!(t.per_user.len(), t.users_evaluated);
    let mean = t.per_user.iter().map(|u| u.precision).sum::<f64>() / t.per_user.len() as f64;
    assert!((mean - t.precision).abs() < 1e-12, "{t:?}");

    let boot = Bootstrap { resamples: 200, seed: 1 };
    let same = compare_reports(&pop, &pop, &boot).unwrap();
    let keys: Vec<&str> = same.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["precision@2", "recall@2", "f1@2", "ndcg@2", "map@2", "mrr", "hit_rate@2"]);
    for (key, d) in &same {
        assert_eq!((d.diff, d.ci_low, d.ci_high, d.p_value), (0.0, 0.0, 0.0, 1.0), "{key}");
    }
    // the difference is that of the reported metrics
    let diff = compare_reports(&pop, &again, &boot).unwrap();
    let recall = diff.iter().find(|(k, _)| k == "recall@2").unwrap().1;
    assert!((recall.diff - (again.topn.recall - pop.topn.recall)).abs() < 1e-12, "{recall:?}");
    assert!(recall.ci_low <= recall.diff && recall.diff <= recall.ci_high, "{recall:?}");
}
