//! The bars on the real datasets in ../shared/datasets (skipped, saying so, when absent).

use crate::fixtures::{datasets, json, s};

#[test]
fn movielens_user_knn_pearson_matches_the_classic_bar_on_five_folds() {
    let Some(d) = datasets() else { return };
    let ml = d.join("ml-100k");
    let (mut rmse, mut mae) = (0.0, 0.0);
    for fold in 1..=5 {
        let (train, test) = (ml.join(format!("u{fold}.base")), ml.join(format!("u{fold}.test")));
        let r = json(&[
            "evaluate",
            "--train",
            s(&train),
            "--test",
            s(&test),
            "--format",
            "movielens",
            "--model",
            "user-knn",
            "--set",
            "k=40",
            "--set",
            "similarity=pearson",
            "--json",
        ]);
        rmse += r["rmse"].as_f64().unwrap() / 5.0;
        mae += r["mae"].as_f64().unwrap() / 5.0;
    }
    eprintln!("ml-100k user-knn pearson k=40: mean RMSE {rmse:.4}, MAE {mae:.4}");
    assert!(rmse <= 0.9525, "mean RMSE {rmse}");
    assert!(mae <= 0.746, "mean MAE {mae}");
}

#[test]
fn online_retail_imports_whole_and_item_knn_finds_new_items() {
    let Some(d) = datasets() else { return };
    let file = d.join("online-retail/online_retail.csv.gz");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("retail.db");
    let r = json(&["import", s(&file), "--format", "online-retail", "--db", s(&db), "--json"]);
    assert_eq!(r["lines"], 541_909, "{r}");
    assert_eq!(r["skipped"]["missing CustomerID"], 135_080, "{r}");
    let events = json(&["stats", "--db", s(&db), "--json"])["events"].as_u64().unwrap();
    let again = json(&["import", s(&file), "--format", "online-retail", "--db", s(&db), "--json"]);
    assert_eq!(again["events_inserted"], 0, "{again}");
    assert_eq!(json(&["stats", "--db", s(&db), "--json"])["events"].as_u64().unwrap(), events);

    let e = json(&[
        "evaluate",
        "--data",
        s(&file),
        "--format",
        "online-retail",
        "--split",
        "time:2011-11-09",
        "--model",
        "item-knn",
        "--json",
    ]);
    let ndcg = e["ndcg@10"].as_f64().unwrap();
    eprintln!("online retail discovery item-knn: NDCG@10 {ndcg:.4}, users {}", e["users_evaluated"]);
    assert!(ndcg >= 0.076, "{e}");
}
