//! The evaluation protocol of issue 4 through the command line: `--split cold-items`, `--repeats`,
//! tuning on a validation period before the cut, and the buy-again bar on Online Retail.

use std::io::Write;
use std::path::{Path, PathBuf};

use daogou_data::synth::{generate_shop, ShopConfig, DEFAULT_START};

use crate::fixtures::{datasets, json, ok, s};

const DAY: i64 = 86_400;

/// The generated shop (catalogue with categories, 60 days of behaviour) as one JSONL file.
fn shop_file(dir: &Path) -> PathBuf {
    let shop = generate_shop(&ShopConfig { users: 150, items: 400, days: 60, seed: 7, start: DEFAULT_START });
    let path = dir.join("shop.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for it in &shop.items {
        writeln!(f, "{}", serde_json::to_string(it).unwrap()).unwrap();
    }
    for e in shop.events.iter().filter(|e| !e.item.is_empty()) {
        writeln!(f, "{}", serde_json::to_string(e).unwrap()).unwrap();
    }
    path
}

fn topn_keys(j: &serde_json::Value) -> Vec<String> {
    let keys = ["precision@10", "recall@10", "f1@10", "ndcg@10", "map@10", "mrr", "hit_rate@10", "coverage@10"];
    keys.iter().filter(|k| j.get(**k).is_some_and(|v| v.is_number())).map(|k| k.to_string()).collect()
}

#[test]
fn cold_items_split_reports_cold_and_warm_and_categories_find_cold_items() {
    let dir = tempfile::tempdir().unwrap();
    let data = shop_file(dir.path());
    let run = |model: &str| {
        json(&[
            "evaluate",
            "--data",
            s(&data),
            "--format",
            "jsonl",
            "--split",
            "cold-items:0.1",
            "--model",
            model,
            "--json",
        ])
    };
    let cat = run("category-popularity");
    let top = topn_keys(&cat);
    assert_eq!(top.len(), 8, "{cat}");
    for part in ["cold", "warm"] {
        assert_eq!(topn_keys(&cat[part]), top, "`{part}` lacks the usual keys: {cat}");
        assert!(cat[part]["users_evaluated"].as_u64().unwrap() > 0, "{cat}");
    }
    let (cold, warm) = (cat["cold"]["items"].as_u64().unwrap(), cat["warm"]["items"].as_u64().unwrap());
    assert_eq!(cold + warm, 400, "{cat}");
    assert!((30..=40).contains(&cold), "10% of the items with events: {cold}");
    // popularity cannot tell cold items apart; the user's categories can
    let pop = run("popularity");
    let (c, p) = (cat["cold"]["recall@10"].as_f64().unwrap(), pop["cold"]["recall@10"].as_f64().unwrap());
    eprintln!("cold recall@10: category-popularity {c:.4}, popularity {p:.4}");
    assert!(c > 2.0 * p, "category-popularity {c} vs popularity {p} on cold items");
    // the same seed holds out the same items: identical numbers
    let untimed = |mut j: serde_json::Value| {
        let o = j.as_object_mut().unwrap();
        o.remove("fit_seconds");
        o.remove("eval_seconds");
        j
    };
    assert_eq!(untimed(run("category-popularity")), untimed(cat.clone()));
    // the table says which is which
    let table = ok(&[
        "evaluate",
        "--data",
        s(&data),
        "--format",
        "jsonl",
        "--split",
        "cold-items:0.1",
        "--model",
        "popularity",
    ]);
    assert!(table.contains("cold items") && table.contains("warm items"), "{table}");
}

#[test]
fn tune_chooses_on_a_validation_period_before_the_cut_with_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let data = shop_file(dir.path());
    let (cut, val) = ((DEFAULT_START + 45 * DAY).to_string(), (DEFAULT_START + 30 * DAY).to_string());
    let (split, validation) = (format!("time:{cut}"), format!("time:{val}"));
    let t = json(&[
        "tune",
        "--data",
        s(&data),
        "--format",
        "jsonl",
        "--split",
        &split,
        "--validation",
        &validation,
        "--repeats",
        "--model",
        "buy-again",
        "--grid",
        "recency=0,1",
        "--json",
    ]);
    assert_eq!(t["settings_tried"], 2, "{t}");
    assert!(t["test"]["users_evaluated"].as_u64().unwrap() > 0, "{t}");

    // the validation scores are those of the data before the cut alone, split at the
    // validation date: what happens after the cut played no part in choosing
    let before = dir.path().join("before.jsonl");
    let text = std::fs::read_to_string(&data).unwrap();
    let cut_s: i64 = cut.parse().unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.get("timestamp").and_then(|t| t.as_i64()).is_none_or(|t| t < cut_s)
        })
        .collect();
    std::fs::write(&before, kept.join("\n")).unwrap();
    for row in t["leaderboard"].as_array().unwrap() {
        let r = row["params"]["recency"].as_str().unwrap();
        let e = json(&[
            "evaluate",
            "--data",
            s(&before),
            "--format",
            "jsonl",
            "--split",
            &validation,
            "--repeats",
            "--model",
            "buy-again",
            "--set",
            &format!("recency={r}"),
            "--json",
        ]);
        assert_eq!(row["validation"]["ndcg@10"], e["ndcg@10"], "recency={r}: {row} vs {e}");
        assert_eq!(row["validation"]["users_evaluated"], e["users_evaluated"]);
    }

    // --repeats counts rebought items: more users have something relevant than without it
    let no = json(&[
        "tune",
        "--data",
        s(&data),
        "--format",
        "jsonl",
        "--split",
        &split,
        "--validation",
        &validation,
        "--model",
        "buy-again",
        "--grid",
        "recency=0,1",
        "--json",
    ]);
    assert!(
        t["test"]["users_evaluated"].as_u64() >= no["test"]["users_evaluated"].as_u64()
            && t["test"]["precision@10"].as_f64() > no["test"]["precision@10"].as_f64(),
        "with --repeats {} / without {}",
        t["test"],
        no["test"]
    );
}

#[test]
fn online_retail_buy_again_with_repeats() {
    let Some(d) = datasets() else { return };
    let file = d.join("online-retail/online_retail.csv.gz");
    let e = json(&[
        "evaluate",
        "--data",
        s(&file),
        "--format",
        "online-retail",
        "--split",
        "time:2011-11-09",
        "--repeats",
        "--model",
        "buy-again",
        "--json",
    ]);
    let ndcg = e["ndcg@10"].as_f64().unwrap();
    eprintln!("online retail --repeats buy-again: NDCG@10 {ndcg:.4}, users {}", e["users_evaluated"]);
    assert!(ndcg >= 0.34, "{e}");
}
