//! `daogou report` (issue 17): one self-contained HTML file with every section, whose numbers
//! are the ones `--json` prints, and where no text from the data can inject markup.

use std::path::Path;

use serde_json::Value;

use crate::fixtures::{json, ok, s};

const SECTIONS: [&str; 5] = ["leaderboard", "distributions", "popularity", "beyond-accuracy", "segments"];

/// As the report writes text from data.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn f4(v: &Value) -> String {
    format!("{:.4}", v.as_f64().unwrap_or_else(|| panic!("a number: {v}")))
}

/// Every `src=` and `href=` in `html` is local (the page must load nothing from elsewhere).
fn assert_self_contained(html: &str) {
    let lower = html.to_lowercase();
    for attr in ["src=", "href="] {
        for (at, _) in lower.match_indices(attr) {
            let value = lower[at + attr.len()..].trim_start_matches(['"', '\'']);
            assert!(
                !value.starts_with("http:") && !value.starts_with("https:") && !value.starts_with("//"),
                "external {attr} at {at}: {}",
                &html[at..(at + 80).min(html.len())]
            );
        }
    }
    for external in ["<script", "<link", "@import", "url("] {
        assert!(!lower.contains(external), "the report holds {external}");
    }
}

#[test]
fn report_on_the_demo_shop_holds_every_section_and_the_numbers_of_its_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    ok(&["demo", "--seed", "3", "--users", "120", "--items", "100", "--db", s(&db), "--show", "0"]);
    let out = dir.path().join("report.html");
    let common = ["--db", s(&db), "--bootstrap", "100", "--split", "random:0.2"];
    let r =
        json(&[&["report"], &common[..], &["--models", "popularity,item-knn", "--out", s(&out), "--json"]].concat());
    let html = std::fs::read_to_string(&out).expect("the report file");
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..100]);
    assert_self_contained(&html);
    for id in SECTIONS {
        assert!(html.contains(&format!(r#"<section id="{id}">"#)), "section {id}");
    }
    for chart in ["chart-leaderboard", "chart-differences", "chart-distributions", "chart-popularity", "chart-history"]
    {
        assert!(html.contains(&format!(r#"<svg id="{chart}""#)), "chart {chart}");
    }

    // the leaderboard is evaluate --compare's, on the same split
    let compare = json(&[&["evaluate"], &common[..], &["--compare", "popularity,item-knn", "--json"]].concat());
    assert_eq!(r["first"], "popularity");
    let models = r["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    for (m, c) in models.iter().zip(compare["models"].as_array().unwrap()) {
        assert_eq!(m["vs_first"], c["vs_first"], "{}", m["model"]);
        assert_eq!(m["ndcg@10"], c["ndcg@10"]);
    }
    // every leaderboard value and difference is in the table
    for m in models {
        let name = m["model"].as_str().unwrap();
        for (key, d) in m["vs_first"].as_object().unwrap() {
            let cell = format!(r#"data-model="{}" data-metric="{key}">{}"#, esc(name), f4(&m[key.as_str()]));
            assert!(html.contains(&cell), "{cell}");
            if name != "popularity" {
                let diff = format!(
                    "{:+.4} [{:+.4}, {:+.4}]",
                    d["diff"].as_f64().unwrap(),
                    d["ci_low"].as_f64().unwrap(),
                    d["ci_high"].as_f64().unwrap()
                );
                assert!(html.contains(&diff), "{key}: {diff}");
            }
        }
    }

    // per-user distributions: every evaluated user counted once per model
    let users = r["users_evaluated"].as_u64().unwrap();
    for d in r["distributions"]["models"].as_array().unwrap() {
        let counts: u64 = d["counts"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).sum();
        assert_eq!(counts, users, "{d}");
        assert!(html.contains(&f4(&d["median"])) && html.contains(&f4(&d["mean"])), "{d}");
    }
    // popularity: shares of recommendations and interactions add up; popularity leans on the head
    let p = &r["popularity"];
    let sum = |v: &Value| v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).sum::<f64>();
    assert!((sum(&p["interactions_share"]) - 1.0).abs() < 1e-9, "{p}");
    let (pop, knn) = (&p["models"][0], &p["models"][1]);
    assert!((sum(&pop["share"]) - 1.0).abs() < 1e-9, "{pop}");
    assert!(pop["tail_share"].as_f64().unwrap() <= knn["tail_share"].as_f64().unwrap(), "{p}");
    for m in p["models"].as_array().unwrap() {
        let tail = format!("{:.1} %", 100.0 * m["tail_share"].as_f64().unwrap());
        assert!(html.contains(&tail), "{tail}");
        let top = &m["top_items"][0];
        assert!(html.contains(&format!("<td>{}</td>", esc(top["title"].as_str().unwrap()))), "{top}");
    }
    // beyond accuracy: the protocol's numbers
    for (b, m) in r["beyond_accuracy"].as_array().unwrap().iter().zip(models) {
        for key in ["coverage@10", "novelty@10", "diversity@10"] {
            assert_eq!(b[key], m[key], "{key}");
            assert!(html.contains(&format!(r#"<td class="num">{}</td>"#, f4(&b[key]))), "{key}");
        }
    }
    // segments: the history groups hold every user; the demo shop has categories
    let history = r["segments"]["history"].as_array().unwrap();
    assert_eq!(history.iter().map(|g| g["users"].as_u64().unwrap()).sum::<u64>(), users);
    for g in history {
        assert!(html.contains(&format!(r#"<td class="num">{}</td>"#, f4(&g["models"][1]["ndcg@10"]))), "{g}");
    }
    let cats = r["segments"]["category"].as_array().expect("categories");
    assert!(!cats.is_empty() && html.contains(r#"<svg id="chart-category""#));
    assert_eq!(cats.iter().map(|g| g["users"].as_u64().unwrap()).sum::<u64>(), users);
}

/// A catalogue whose titles, categories and ids are markup.
fn hostile_shop(dir: &Path) -> std::path::PathBuf {
    let mut csv = String::from("user,item,kind,timestamp,title,category\n");
    for u in 0..60 {
        for j in 0..6 {
            let i = (u % 3) * 6 + (j + u / 3) % 6;
            let t = 1_700_000_000 + (u * 10 + j) * 3600;
            csv.push_str(&format!(
                "u{u},i{i}<b>,purchase,{t},<script>alert({i})</script>,<img src=x onerror=alert(1)>/cat{}\n",
                i % 3
            ));
        }
    }
    let p = dir.join("hostile.csv");
    std::fs::write(&p, csv).unwrap();
    p
}

#[test]
fn report_escapes_every_text_from_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = hostile_shop(dir.path());
    let out = dir.path().join("report.html");
    let r = json(&[
        "report",
        "--data",
        s(&data),
        "--models",
        "popularity,item-knn",
        "--bootstrap",
        "50",
        "--out",
        s(&out),
        "--json",
    ]);
    let html = std::fs::read_to_string(&out).unwrap();
    // the titles reached the report, as text
    let title = r["popularity"]["models"][0]["top_items"][0]["title"].as_str().unwrap();
    assert!(title.starts_with("<script>"), "{title}");
    assert!(html.contains("&lt;script&gt;alert("), "escaped title");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"), "escaped category");
    assert!(html.contains("i0&lt;b&gt;") || html.contains("&lt;b&gt;"), "escaped id");
    let lower = html.to_lowercase();
    for markup in ["<script", "<img", "<b>"] {
        assert!(!lower.contains(markup), "{markup} reached the HTML unescaped");
    }
    assert_self_contained(&html);
}

#[test]
fn report_refuses_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let data = hostile_shop(dir.path());
    let out = dir.path().join("r.html");
    for (extra, says) in [
        (&["--models", "popularity,nope"][..], "--models: unknown model"),
        (&["--models", "popularity", "--set", "nope=1"][..], "none of the compared models"),
        (&["--models", "popularity", "--bootstrap", "0"][..], "--bootstrap"),
    ] {
        let o = crate::fixtures::daogou(&[&["report", "--data", s(&data), "--out", s(&out)], extra].concat());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(says), "{extra:?}: {err}");
    }
    assert!(!out.exists(), "no report after an error");
}
