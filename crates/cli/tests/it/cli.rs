//! The CLI contract on small generated data.

use std::io::Write;

use daogou_data::synth::planted_ratings;

use crate::fixtures::{daogou, json, ok, retail_file, s};

const GOOD: &[&str] = &[
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom",
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom",
    "536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,,United Kingdom",
    "C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-1,2010-12-01 09:41:00,2.55,14527,United Kingdom",
    "536380,22961,JAM MAKING SET PRINTED,24,2010-12-01 09:41:00,1.45,14527,United Kingdom",
];

#[test]
fn import_is_idempotent_and_stats_speak_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    let file = retail_file(dir.path(), "retail.csv", GOOD);
    let r = json(&["import", s(&file), "--format", "online-retail", "--db", s(&db), "--json"]);
    assert_eq!(r["events_inserted"], 4, "{r}");
    assert_eq!(r["skipped"]["missing CustomerID"], 1, "{r}");
    let st = json(&["stats", "--db", s(&db), "--json"]);
    assert_eq!(
        (st["users"].as_u64(), st["items"].as_u64(), st["events"].as_u64()),
        (Some(2), Some(4), Some(4)),
        "{st}"
    );
    assert_eq!(st["events_by_kind"]["return"], 1, "{st}");

    // the same file again adds nothing
    let again = json(&["import", s(&file), "--format", "online-retail", "--db", s(&db), "--json"]);
    assert_eq!(again["events_inserted"], 0, "{again}");
    assert_eq!(again["events_duplicate"], 4, "{again}");
    assert_eq!(json(&["stats", "--db", s(&db), "--json"])["events"], 4);
}

#[test]
fn strict_import_names_file_line_field_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    let good = retail_file(dir.path(), "good.csv", GOOD);
    ok(&["import", s(&good), "--format", "online-retail", "--db", s(&db)]);
    let before = json(&["stats", "--db", s(&db), "--json"]);

    let mut lines = vec!["536400,11111,NEW THING,2,2010-12-02 10:00:00,1.00,12345,France"];
    lines.push("536401,22222,OTHER THING,two,2010-12-02 10:00:00,1.00,12345,France"); // line 3
    let bad = retail_file(dir.path(), "bad.csv", &lines);
    let out = daogou(&["import", s(&bad), "--format", "online-retail", "--db", s(&db), "--strict"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv:3"), "error must name file:line: {err}");
    assert!(err.contains("Quantity"), "error must name the field: {err}");
    assert_eq!(json(&["stats", "--db", s(&db), "--json"]), before, "strict failure must leave the store unchanged");

    // lenient: the good row goes in, the bad one is counted by reason
    let r = json(&["import", s(&bad), "--format", "online-retail", "--db", s(&db), "--json"]);
    assert_eq!(r["events_inserted"], 1, "{r}");
    assert_eq!(r["skipped"].as_object().unwrap().values().filter_map(|v| v.as_u64()).sum::<u64>(), 1, "{r}");
}

/// MovieLens-format train/test files with planted clusters.
pub(crate) fn planted_movielens(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let ds = planted_ratings(120, 80, 4, 0.5, 7);
    let (train, test) = (dir.join("p.base"), dir.join("p.test"));
    let mut ft = std::fs::File::create(&train).unwrap();
    let mut fs = std::fs::File::create(&test).unwrap();
    for (n, it) in ds.interactions.iter().enumerate() {
        let f = if n % 5 == 0 { &mut fs } else { &mut ft };
        writeln!(f, "{}\t{}\t{}\t{}", ds.users.id(it.user), ds.items.id(it.item), it.value, 880000000 + n).unwrap();
    }
    (train, test)
}

#[test]
fn evaluate_json_contract_and_quality_on_planted_ratings() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = planted_movielens(dir.path());
    let args = [
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
    ];
    let r = json(&args);
    for key in [
        "rmse",
        "mae",
        "precision@10",
        "recall@10",
        "f1@10",
        "ndcg@10",
        "map@10",
        "mrr",
        "hit_rate@10",
        "coverage@10",
        "users_evaluated",
        "fit_seconds",
        "eval_seconds",
    ] {
        assert!(r.get(key).is_some_and(|v| v.is_number()), "missing key {key}: {r}");
    }
    // planted clusters: in-cluster ratings are 4-5, others 1-2, so a neighbourhood model is
    // accurate while the biases alone are not (they measure about 0.55 and 1.45)
    assert!(r["rmse"].as_f64().unwrap() < 0.8, "{r}");
    let base = json(&[
        "evaluate",
        "--train",
        s(&train),
        "--test",
        s(&test),
        "--format",
        "movielens",
        "--model",
        "baseline",
        "--json",
    ]);
    assert!(base["rmse"].as_f64().unwrap() > 1.2, "{base}");
    // --k changes the cut-off in the keys
    let r5 = json(&[&args[..args.len() - 1], &["--k", "5", "--json"]].concat());
    assert!(r5.get("precision@5").is_some() && r5.get("precision@10").is_none(), "{r5}");
}

#[test]
fn k_fold_reports_each_fold_and_the_mean() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = planted_movielens(dir.path());
    let r = json(&[
        "evaluate",
        "--data",
        s(&train),
        "--format",
        "movielens",
        "--folds",
        "3",
        "--model",
        "baseline",
        "--json",
    ]);
    let folds = r["folds"].as_array().expect("folds array");
    assert_eq!(folds.len(), 3);
    let mean: f64 = folds.iter().map(|f| f["rmse"].as_f64().unwrap()).sum::<f64>() / 3.0;
    assert!((r["rmse"].as_f64().unwrap() - mean).abs() < 1e-9, "{r}");
}

#[test]
fn bad_arguments_get_clear_errors() {
    let out = daogou(&["evaluate", "--data", "/nonexistent/x.csv", "--model", "user-knn"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/x.csv"));
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = planted_movielens(dir.path());
    let out =
        daogou(&["evaluate", "--train", s(&train), "--test", s(&test), "--format", "movielens", "--model", "nope"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("user-knn"), "unknown model should list the models: {err}");
    let out = daogou(&[
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
        "neighbours=3",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("neighbours"), "unknown parameter must be named: {err}");
}

#[test]
fn demo_runs_end_to_end_and_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let args = ["demo", "--seed", "7", "--users", "150", "--items", "120", "--db", s(&db)];
    let first = ok(&args);
    assert!(first.contains("recommended for you"), "{first}");
    assert!(first.contains("because you"), "recommendations must carry reasons: {first}");
    assert_eq!(ok(&args), first, "same seed, same output");
    let st = json(&["stats", "--db", s(&db), "--json"]);
    assert_eq!(st["users"], 150, "{st}");
    // the stored shop answers recommend and similar
    let user = first.split("== shopper ").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let rec = json(&["recommend", "--db", s(&db), "--user", &user, "--n", "5", "--json"]);
    let items = rec["items"].as_array().unwrap();
    assert_eq!(items.len(), 5, "{rec}");
    assert!(items.iter().all(|i| i["reason"].as_str().is_some_and(|r| !r.is_empty())), "{rec}");
    let item = items[0]["item"].as_str().unwrap().to_owned();
    let sim = json(&["similar", "--db", s(&db), "--item", &item, "--n", "3", "--json"]);
    assert!(!sim["items"].as_array().unwrap().is_empty(), "{sim}");
}

#[test]
fn a_saved_model_answers_like_the_fitted_one_and_a_damaged_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    ok(&["demo", "--seed", "3", "--users", "120", "--items", "100", "--db", s(&db)]);
    let file = dir.path().join("shop.daogou");
    let summary = json(&["train", "--db", s(&db), "--model", "item-knn", "--set", "k=15", "--out", s(&file), "--json"]);
    assert_eq!(summary["out"], s(&file), "{summary}");
    assert!(summary["file_bytes"].as_u64().unwrap() > 0);
    let st = json(&["stats", "--db", s(&db), "--json"]);
    assert_eq!(summary["users"], st["users"]);
    // the user with the most events (ids u0000…)
    let user = "u0001";
    let fitted = json(&["recommend", "--db", s(&db), "--user", user, "--model", "item-knn", "--set", "k=15", "--json"]);
    let loaded = json(&["recommend", "--db", s(&db), "--user", user, "--model", s(&file), "--json"]);
    assert_eq!(fitted["items"], loaded["items"], "the saved model must answer exactly like the fitted one");
    let item = fitted["items"][0]["item"].as_str().unwrap().to_owned();
    let a = json(&["similar", "--db", s(&db), "--item", &item, "--model", "item-knn", "--set", "k=15", "--json"]);
    let b = json(&["similar", "--db", s(&db), "--item", &item, "--model", s(&file), "--json"]);
    assert_eq!(a["items"], b["items"]);
    // without the database the file alone still answers (ids instead of titles)
    let bare =
        json(&["recommend", "--db", s(&dir.path().join("none.db")), "--user", user, "--model", s(&file), "--json"]);
    let ids =
        |v: &serde_json::Value| v["items"].as_array().unwrap().iter().map(|x| x["item"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&bare), ids(&loaded));
    // one flipped byte: refused, with the file named
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&file, &bytes).unwrap();
    let out = daogou(&["recommend", "--db", s(&db), "--user", user, "--model", s(&file)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("shop.daogou") && err.contains("damaged"), "{err}");
}

#[test]
fn a_file_of_many_batches_imports_as_one_and_a_late_error_rolls_all_of_it_back() {
    use daogou_store::Store;
    let dir = tempfile::tempdir().unwrap();
    // customers, products, rows without a customer (catalogue only), returns, a duplicate line
    let mut lines = Vec::new();
    for k in 0..90u32 {
        let (code, qty) = (20_000 + (k * 7) % 11, if k % 13 == 5 { -1 } else { 1 + k as i32 % 4 });
        let invoice = if qty < 0 { format!("C5{:05}", k / 3) } else { format!("5{:05}", k / 3) };
        let customer = if k % 10 == 9 { String::new() } else { (12_000 + (k * 5) % 17).to_string() };
        let day = 1 + k % 28;
        lines.push(format!(
            "{invoice},{code},PRODUCT {code},{qty},2010-12-{day:02} 10:00:00,{}.50,{customer},United Kingdom",
            1 + code % 5
        ));
    }
    lines.push(lines[3].clone());
    let file = retail_file(dir.path(), "many.csv", &lines.iter().map(String::as_str).collect::<Vec<_>>());
    let import = |db: &std::path::Path, batch: &str, extra: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_daogou"));
        cmd.args(["import", s(&file), "--format", "online-retail", "--db", s(db), "--json"]).args(extra);
        cmd.env("DAOGOU_IMPORT_BATCH", batch).env("RAYON_NUM_THREADS", "1").output().unwrap()
    };
    let (small, whole) = (dir.path().join("small.db"), dir.path().join("whole.db"));
    let report = |out: std::process::Output| {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        r.as_object_mut().unwrap().remove("seconds");
        r
    };
    let in_batches = report(import(&small, "7", &[]));
    assert_eq!(in_batches, report(import(&whole, "1000000", &[])), "the same counts in batches of 7 events");
    assert!(in_batches["items_inserted"].as_u64().unwrap() > 5 && in_batches["items_updated"] == 0, "{in_batches}");
    let content = |db: &std::path::Path| {
        let d = daogou_store::SqliteStore::open(db).unwrap().load_dataset().unwrap();
        let mut items: Vec<_> = d.catalogue.clone();
        items.sort_by(|a, b| a.id.cmp(&b.id));
        let mut events: Vec<_> = d.interactions.iter().map(|x| format!("{:?}", d.event(x))).collect();
        events.sort();
        (d.users.ids().to_vec(), items, events)
    };
    let before = content(&small);
    assert_eq!(before, content(&whole), "the same users, catalogue and events");

    // a bad row after several batches were written, under --strict: all of it rolled back
    let mut bad = lines.clone();
    bad.push("581000,99999,NEW THING,lots,2010-12-29 10:00:00,1.00,12345,France".into());
    let bad_file = retail_file(dir.path(), "bad.csv", &bad.iter().map(String::as_str).collect::<Vec<_>>());
    let other = dir.path().join("other.db");
    ok(&["import", s(&retail_file(dir.path(), "one.csv", GOOD)), "--format", "online-retail", "--db", s(&other)]);
    let other_before = content(&other);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_daogou"));
    cmd.args(["import", s(&bad_file), "--format", "online-retail", "--db", s(&other), "--strict"]);
    let out = cmd.env("DAOGOU_IMPORT_BATCH", "5").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("bad.csv:93") && err.contains("Quantity"), "{err}");
    assert_eq!(content(&other), other_before, "nothing of the file stays in the database");
    // and a database the failed import would have created is not left behind
    let fresh = dir.path().join("fresh.db");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_daogou"));
    cmd.args(["import", s(&bad_file), "--format", "online-retail", "--db", s(&fresh), "--strict"]);
    assert!(!cmd.env("DAOGOU_IMPORT_BATCH", "5").output().unwrap().status.success());
    assert!(!fresh.exists());
}

#[test]
fn compact_training_fits_on_the_same_matrix_as_the_event_log() {
    // `als` trains from events read into columns (dropped before the fit), `buy-again` from
    // the event log: from a file and from the database, with and without a decay, both
    // record the same training data in their model files
    let dir = tempfile::tempdir().unwrap();
    let kinds = ["view", "click", "add_to_cart", "purchase", "return"];
    let mut csv = String::from("user,item,kind,value,timestamp\n");
    for k in 0..1_500u64 {
        let r = k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7;
        let kind = kinds[(r % 5) as usize];
        csv += &format!("u{},i{},{kind},{},{}\n", r % 37, (r >> 9) % 23, 1 + (r >> 17) % 3, 1_700_000_000 + k * 3_600);
    }
    let file = dir.path().join("events.csv");
    std::fs::write(&file, csv).unwrap();
    let db = dir.path().join("shop.db");
    ok(&["import", s(&file), "--db", s(&db)]);
    let fingerprint = |source: &[&str], model: &str, decay: &[&str]| {
        let out = dir.path().join(format!("{model}.daogou"));
        let mut args = vec!["train", "--model", model, "--out", s(&out), "--json"];
        args.extend_from_slice(source);
        args.extend_from_slice(decay);
        let summary = json(&args);
        (summary["fingerprint"].as_str().unwrap().to_owned(), summary["pairs"].as_u64().unwrap())
    };
    for decay in [&[][..], &["--half-life", "7"][..]] {
        let from_file = fingerprint(&["--data", s(&file)], "als", decay);
        assert!(from_file.1 > 100, "{from_file:?}");
        assert_eq!(fingerprint(&["--data", s(&file)], "buy-again", decay), from_file, "{decay:?}");
        assert_eq!(fingerprint(&["--db", s(&db)], "als", decay), from_file, "{decay:?}");
        assert_eq!(fingerprint(&["--db", s(&db)], "buy-again", decay), from_file, "{decay:?}");
    }
}

#[test]
fn tune_chooses_on_validation_only_and_writes_a_usable_params_file() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = planted_movielens(dir.path());
    let out = dir.path().join("best.toml");
    let args = |test: &str| {
        vec![
            "tune",
            "--train",
            s(&train),
            "--test",
            test,
            "--format",
            "movielens",
            "--model",
            "user-knn",
            "--grid",
            "k=2,30",
            "--grid",
            "similarity=cosine,pearson",
            "--json",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>()
    };
    let a = args(s(&test));
    let mut with_out: Vec<&str> = a.iter().map(String::as_str).collect();
    with_out.extend(["--out", s(&out)]);
    let r = json(&with_out);
    assert_eq!(r["metric"], "rmse", "{r}");
    assert_eq!(r["settings_tried"], 4);
    let board = r["leaderboard"].as_array().unwrap();
    let metrics: Vec<f64> = board.iter().map(|x| x["metric"].as_f64().unwrap()).collect();
    assert!(metrics.windows(2).all(|w| w[0] <= w[1]), "sorted best first: {metrics:?}");
    // on planted clusters, Pearson with 30 neighbours beats 2 cosine neighbours
    assert_eq!(r["best"]["params"]["similarity"], "pearson", "{r}");
    assert!(r["test"]["rmse"].is_number());
    // the test file is never looked at while choosing: another test file, same leaderboard
    let other = dir.path().join("other.test");
    std::fs::write(&other, "u1\ti1\t1\t880000000\nu2\ti2\t5\t880000001\n").unwrap();
    let b = args(s(&other));
    let r2 = json(&b.iter().map(String::as_str).collect::<Vec<_>>());
    let rows = |v: &serde_json::Value| {
        v["leaderboard"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| (x["params"].clone(), x["metric"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(rows(&r), rows(&r2));
    // the params file selects model and parameters for evaluate
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("model = \"user-knn\"") && text.contains("similarity = \"pearson\""), "{text}");
    let e = json(&[
        "evaluate",
        "--train",
        s(&train),
        "--test",
        s(&test),
        "--format",
        "movielens",
        "--params",
        s(&out),
        "--json",
    ]);
    assert_eq!(e["model"], "user-knn");
    assert_eq!(e["rmse"], r["test"]["rmse"], "same setting, same split, same score");
    // a grid typo is named
    let bad = daogou(&[
        "tune",
        "--train",
        s(&train),
        "--test",
        s(&test),
        "--format",
        "movielens",
        "--model",
        "user-knn",
        "--grid",
        "kk=1,2",
    ]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("kk"));
}

#[test]
fn items_rated_below_the_positive_threshold_are_no_candidates() {
    // User 1 rated the most popular film A low (2) and liked C; the test holds their 5 for B, the
    // next most popular. A is no positive, but it was watched: recommending it is a miss.
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = (dir.path().join("t.base"), dir.path().join("t.test"));
    let mut rows = vec!["1\tA\t2\t1".to_owned(), "1\tC\t5\t2".to_owned()];
    for u in 2..=6 {
        rows.push(format!("{u}\tA\t5\t3"));
        if u <= 5 {
            rows.push(format!("{u}\tB\t5\t4"));
        }
    }
    std::fs::write(&train, rows.join("\n") + "\n").unwrap();
    std::fs::write(&test, "1\tB\t5\t5\n").unwrap();
    let r = json(&[
        "evaluate",
        "--train",
        s(&train),
        "--test",
        s(&test),
        "--format",
        "movielens",
        "--positive-threshold",
        "4",
        "--relevance-threshold",
        "4",
        "--model",
        "popularity",
        "--k",
        "1",
        "--json",
    ]);
    assert_eq!(r["users_evaluated"], 1, "{r}");
    assert_eq!(r["precision@1"], 1.0, "A was recommended to the user who rated it: {r}");
}

#[test]
fn recommend_all_users_writes_every_users_top_n_like_recommend_user() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    ok(&["demo", "--seed", "5", "--users", "90", "--items", "80", "--db", s(&db)]);
    let users = json(&["stats", "--db", s(&db), "--json"])["users"].as_u64().unwrap() as usize;
    for model in ["item-knn", "als"] {
        let file = dir.path().join(format!("{model}.daogou"));
        ok(&["train", "--db", s(&db), "--model", model, "--out", s(&file)]);
        let csv_out = dir.path().join(format!("{model}.csv"));
        let summary = json(&[
            "recommend",
            "--db",
            s(&db),
            "--model",
            s(&file),
            "--all-users",
            "-n",
            "5",
            "--out",
            s(&csv_out),
            "--json",
        ]);
        assert_eq!(summary["users"], users, "{summary}");
        let text = std::fs::read_to_string(&csv_out).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("user,rank,item,score"));
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        assert_eq!(rows.len(), users * 5, "5 rows per user");
        let jsonl_out = dir.path().join(format!("{model}.jsonl"));
        ok(&["recommend", "--db", s(&db), "--model", s(&file), "--all-users", "-n", "5", "--out", s(&jsonl_out)]);
        let lists: Vec<serde_json::Value> =
            std::fs::read_to_string(&jsonl_out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lists.len(), users);
        // the same lists as recommend --user (training items left out), in both formats
        for line in lists.iter().step_by(30) {
            let user = line["user"].as_str().unwrap();
            let one = json(&["recommend", "--db", s(&db), "--model", s(&file), "--user", user, "-n", "5", "--json"]);
            let want: Vec<&serde_json::Value> = one["items"].as_array().unwrap().iter().map(|x| &x["item"]).collect();
            let got: Vec<&serde_json::Value> = line["items"].as_array().unwrap().iter().collect();
            assert_eq!(got, want, "{model}, user {user}");
            let in_csv: Vec<&str> = rows.iter().filter(|r| r[0] == user).map(|r| r[2]).collect();
            assert_eq!(in_csv, want.iter().map(|v| v.as_str().unwrap()).collect::<Vec<_>>());
        }
    }
    let bad = daogou(&["recommend", "--db", s(&db), "--all-users", "--out", s(&dir.path().join("x.txt"))]);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success() && err.contains(".csv, .jsonl or .parquet"), "{err}");
    let bad = daogou(&["recommend", "--db", s(&db), "--all-users"]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("--out"));
}

/// `recommend` and `similar` take the service's filters as flags; `train` records the signal.
#[test]
fn recommend_filters_mirror_the_service_and_train_records_the_signal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    ok(&["demo", "--seed", "5", "--users", "150", "--items", "120", "--db", s(&db), "--show", "0"]);
    let user = "u0003";
    let base = ["recommend", "--db", s(&db), "--user", user, "-n", "10", "--json"];
    let with = |extra: &[&str]| json(&[&base[..], extra].concat());
    let plain = with(&[]);
    let items = |v: &serde_json::Value| v["items"].as_array().unwrap().clone();
    let category = items(&plain)[0]["category"].as_str().unwrap().split('/').next().unwrap().to_owned();
    let narrowed = with(&["--category", &category]);
    assert!(!items(&narrowed).is_empty());
    assert!(items(&narrowed).iter().all(|p| p["category"].as_str().unwrap().starts_with(&category)), "{narrowed}");
    let cheap = with(&["--max-price", "100"]);
    assert!(items(&cheap).iter().all(|p| p["price"].as_f64().unwrap() <= 100.0), "{cheap}");
    let first = items(&plain)[0]["item"].as_str().unwrap().to_owned();
    let excluded = with(&["--exclude", &format!("{first},nothing")]);
    assert!(items(&excluded).iter().all(|p| p["item"] != first.as_str()));
    let again = with(&["--allow-repeat"]);
    assert_ne!(items(&again), items(&plain), "owned items may come back");
    let out = daogou(&[&base[..], &["--min-price", "10", "--max-price", "5"]].concat());
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--min-price"));

    let file = dir.path().join("w.daogou");
    let summary = json(&[
        "train",
        "--db",
        s(&db),
        "--model",
        "item-knn",
        "--weights",
        "view=0,purchase=1",
        "--out",
        s(&file),
        "--json",
    ]);
    let weights = summary["signal"]["weights"].as_str().unwrap();
    assert!(weights.contains("view=0") && weights.contains("purchase=1"), "{summary}");
    // a model file is saved with its signal: signal flags are refused when loading it
    let out = daogou(&["recommend", "--db", s(&db), "--user", user, "--model", s(&file), "--weights", "view=1"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("apply when fitting"));
}

/// Issue 14: the learned ranker works wherever a model does (train, model file, recommend,
/// evaluate, tune), says what it learned from in --json, and `tune --auto` picks a model on
/// the validation split within its budget.
#[test]
fn the_learned_ranker_everywhere_and_tune_auto() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    ok(&["demo", "--seed", "5", "--users", "120", "--items", "90", "--db", s(&db)]);
    let file = dir.path().join("ranker.daogou");
    let fast = ["--model", "ranker", "--set", "trees=30", "--set", "generators=buy-again,als,item-knn,popularity"];
    let mut train = vec!["train", "--db", s(&db), "--out", s(&file), "--json"];
    train.extend(fast);
    let summary = json(&train);
    let importance = summary["feature_importance"].as_array().expect("feature importance in train --json");
    assert!(
        importance.len() > 3 && importance[0]["feature"].is_string() && importance[0]["gain"].is_f64(),
        "{summary}"
    );
    // the model file answers as the model fitted in place, for several users
    let users = ["u0001", "u0007", "u0042"];
    for user in users {
        let mut fitted = vec!["recommend", "--db", s(&db), "--user", user, "-n", "8", "--json"];
        fitted.extend(fast);
        let from_file = json(&["recommend", "--db", s(&db), "--model", s(&file), "--user", user, "-n", "8", "--json"]);
        assert_eq!(json(&fitted)["items"], from_file["items"], "user {user}");
    }
    // the service serving the file shows the same importance (the dashboard draws it)
    let (child, addr) = crate::serve::try_serve(&["--db", s(&db), "--model", s(&file), "--bind", "127.0.0.1:0"], &[])
        .expect("serve the ranker file");
    let (status, body) = crate::serve::http(&addr, "GET", "/stats/model", "").unwrap();
    crate::serve::stop(child);
    let served: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((status, &served["feature_importance"]), (200, &summary["feature_importance"]), "{body}");
    let mut eval = vec!["evaluate", "--db", s(&db), "--split", "user-time:0.2", "--json"];
    eval.extend(fast);
    let r = json(&eval);
    assert!(r["ndcg@10"].as_f64().unwrap() > 0.0 && r["feature_importance"].is_array(), "{r}");
    let tuned = json(&[
        "tune",
        "--db",
        s(&db),
        "--split",
        "user-time:0.2",
        "--validation",
        "user-time:0.2",
        "--model",
        "ranker",
        "--set",
        "generators=buy-again,popularity",
        "--grid",
        "trees=10,20",
        "--json",
    ]);
    assert_eq!(tuned["settings_tried"], 2, "{tuned}");
    // tune --auto: defaults of every applicable model, then random settings, within the budget
    let started = std::time::Instant::now();
    let auto = json(&[
        "tune",
        "--db",
        s(&db),
        "--split",
        "user-time:0.2",
        "--validation",
        "user-time:0.2",
        "--auto",
        "--budget",
        "8",
        "--json",
    ]);
    assert!(started.elapsed().as_secs() < 120, "the budget holds roughly");
    let board = auto["leaderboard"].as_array().unwrap();
    let models: Vec<&str> = board.iter().map(|t| t["model"].as_str().unwrap()).collect();
    for m in ["popularity", "item-knn", "als"] {
        assert!(models.contains(&m), "{m} tried: {models:?}");
    }
    assert_eq!(auto["best"]["model"], board[0]["model"], "{auto}");
    assert!(auto["test"]["ndcg@10"].is_f64(), "the winner is scored once on the test part: {auto}");
    let bad = daogou(&["tune", "--db", s(&db), "--auto", "--set", "k=3"]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("--auto chooses"));
}
