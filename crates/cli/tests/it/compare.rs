//! `evaluate --compare` (issue 17): several models on one split, each metric as a difference
//! from the first with a paired bootstrap interval and p-value.

use crate::cli::planted_movielens;
use crate::fixtures::{daogou, json, ok, s};

const ACCURACY: [&str; 7] = ["precision@10", "recall@10", "f1@10", "ndcg@10", "map@10", "mrr", "hit_rate@10"];

#[test]
fn compare_on_given_files_reports_differences_from_the_first_model() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = planted_movielens(dir.path());
    let files = ["evaluate", "--train", s(&train), "--test", s(&test), "--format", "movielens"];
    let r =
        json(&[&files[..], &["--compare", "baseline,user-knn,popularity", "--bootstrap", "200", "--json"]].concat());
    assert_eq!(r["first"], "baseline", "{r}");
    assert_eq!(r["bootstrap"], 200, "{r}");
    assert_eq!(r["seed"], 42, "{r}");
    let models = r["models"].as_array().expect("models array");
    let names: Vec<&str> = models.iter().map(|m| m["model"].as_str().unwrap()).collect();
    assert_eq!(names, ["baseline", "user-knn", "popularity"]);

    // the first model against itself: nothing
    let first = &models[0];
    for key in ACCURACY.iter().chain(&["rmse", "mae"]) {
        assert!(first[key].is_number(), "usual metric {key}: {first}");
        let d = &first["vs_first"][key];
        for (field, want) in [("diff", 0.0), ("ci_low", 0.0), ("ci_high", 0.0), ("p_value", 1.0)] {
            assert_eq!(d[field].as_f64(), Some(want), "{key}.{field}: {d}");
        }
    }
    // planted clusters: the neighbourhood model predicts ratings far better than the biases
    let knn = &models[1];
    let rmse = &knn["vs_first"]["rmse"];
    let diff = rmse["diff"].as_f64().unwrap();
    assert!((diff - (knn["rmse"].as_f64().unwrap() - first["rmse"].as_f64().unwrap())).abs() < 1e-9, "{rmse}");
    assert!(rmse["ci_low"].as_f64().unwrap() <= diff && diff <= rmse["ci_high"].as_f64().unwrap(), "{rmse}");
    assert!(rmse["ci_high"].as_f64().unwrap() < 0.0 && rmse["p_value"].as_f64().unwrap() < 0.05, "{rmse}");
    // popularity predicts no ratings: top-N differences only
    let pop = &models[2]["vs_first"];
    assert!(ACCURACY.iter().all(|k| pop[k]["p_value"].is_number()) && pop.get("rmse").is_none(), "{pop}");

    // the same seed gives the same intervals
    let again =
        json(&[&files[..], &["--compare", "baseline,user-knn,popularity", "--bootstrap", "200", "--json"]].concat());
    assert_eq!(again["models"][1]["vs_first"], knn["vs_first"]);
}

#[test]
fn compare_on_a_split_prints_a_table_and_refuses_what_it_does_not_support() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _) = planted_movielens(dir.path());
    let base = ["evaluate", "--data", s(&data), "--format", "movielens", "--split", "random:0.2"];
    let text = ok(&[&base[..], &["--compare", "popularity,item-knn", "--set", "k=20", "--bootstrap", "100"]].concat());
    assert!(text.contains("differences from popularity") && text.contains("95 % interval"), "{text}");
    assert!(text.lines().any(|l| l.trim_start().starts_with("item-knn")), "{text}");

    for (extra, says) in [
        (&["--model", "als"][..], "cannot be combined"),
        (&["--set", "nope=1"][..], "none of the compared models"),
        (&["--folds", "3"][..], "--folds"),
    ] {
        let out = daogou(&[&base[..], &["--compare", "popularity,item-knn"], extra].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(says), "{extra:?}: {err}");
    }
    let out = daogou(&[&base[..], &["--compare", "popularity,nope"]].concat());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown model"));
}
