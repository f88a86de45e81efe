//! `daogou report`: one self-contained HTML file people can look at (the leaderboard with
//! intervals, per-user distributions, popularity and the long tail, coverage/novelty/diversity,
//! segments), drawn from the same JSON that `--json` prints.
//!
//! The runs are `evaluate --compare`'s ([`run_comparison`]); the figures beyond the
//! leaderboard come from [`daogou_eval::report`]. The HTML is written here from that JSON
//! only, so every number shown is one `--json` holds. Charts are inline SVG drawn in Rust;
//! the page has no script at all (its Content-Security-Policy forbids any) and loads nothing
//! from elsewhere. Every text that comes from data (model names, item titles and ids,
//! categories) goes through [`esc`].

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use serde_json::Value;

use crate::evaluate::{run_comparison, RunArgs};

#[derive(Args, Debug)]
pub struct ReportArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Models to compare on the same split, the first one the reference, e.g.
    /// popularity,als,ease (each with its defaults; a --set applies to the listed models that
    /// have the parameter).
    #[arg(long, value_name = "M1,M2,…", value_delimiter = ',', num_args = 1.., required = true)]
    models: Vec<String>,
    /// A model parameter for every listed model that has it, repeatable: --set factors=32.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Bootstrap resamples of the intervals (seeded by --seed).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    bootstrap: usize,
    /// The HTML file to write.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Also print the report's numbers as one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(a: ReportArgs) -> Result<()> {
    let c = run_comparison(&a.run, "--models", &a.models, &a.set, a.bootstrap)?;
    let matrix = c.signal.train_matrix(&c.ds, &c.train);
    let mut out = c.to_json();
    let Value::Object(sections) = daogou_eval::report::sections(&c.ds, &matrix, &c.reports) else {
        unreachable!("sections are an object")
    };
    out["k"] = a.run.k.into();
    out["data"] = serde_json::json!({
        "source": a.run.source.describe(),
        "split": a.run.split.to_string(),
        "users": c.ds.n_users(),
        "items": c.ds.n_items(),
        "train_interactions": c.train.len(),
        "explicit": c.ds.explicit,
    });
    for (key, v) in sections {
        out[key.as_str()] = v;
    }
    let html = render(&out);
    std::fs::write(&a.out, html).with_context(|| format!("cannot write {}", a.out.display()))?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "wrote {} ({} models, {} users evaluated)",
            a.out.display(),
            c.reports.len(),
            c.reports[0].topn.users_evaluated
        );
    }
    Ok(())
}

/// Text for HTML (element content and quoted attribute values).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// A metric value as the tables show it (4 decimals).
fn f4(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        "–".into()
    }
}

fn signed(x: f64) -> String {
    if x.is_finite() {
        format!("{x:+.4}")
    } else {
        "–".into()
    }
}

fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1} %", 100.0 * x)
    } else {
        "–".into()
    }
}

fn text(v: &Value) -> String {
    esc(v.as_str().unwrap_or(""))
}

/// At most `n` characters of `s` (an ellipsis when cut), escaped.
fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        esc(s)
    } else {
        esc(&format!("{}…", s.chars().take(n - 1).collect::<String>()))
    }
}

const COLORS: [&str; 8] = ["#c2410c", "#2563eb", "#16a34a", "#9333ea", "#0891b2", "#ca8a04", "#db2777", "#4b5563"];
const GREY: &str = "#9ca3af";

fn color(n: usize) -> &'static str {
    COLORS[n % COLORS.len()]
}

/// One series of a bar chart: its name, colour and a value per group.
struct Series {
    name: String,
    color: &'static str,
    values: Vec<f64>,
}

/// A grouped bar chart: one band per group, one bar per series, a y axis from 0 with 5
/// grid lines, values shown by `fmt` in each bar's tooltip.
fn bars(id: &str, groups: &[String], series: &[Series], fmt: fn(f64) -> String) -> String {
    let (w, h, left, right, top, bottom) = (640.0, 240.0, 52.0, 8.0, 10.0, 40.0);
    let max = series.iter().flat_map(|s| s.values.iter().copied()).filter(|x| x.is_finite()).fold(0.0, f64::max);
    let max = if max > 0.0 { max * 1.1 } else { 1.0 };
    let (pw, ph) = (w - left - right, h - top - bottom);
    let y = |v: f64| top + ph - ph * (v / max);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg id="{id}" class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" xmlns="http://www.w3.org/2000/svg">"#
    );
    for t in 0..=4 {
        let v = max * f64::from(t) / 4.0;
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}"/><text class="tick" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            w - right,
            left - 4.0,
            y(v) + 4.0,
            esc(&fmt(v)),
            y = y(v)
        );
    }
    let band = pw / groups.len().max(1) as f64;
    let bw = band * 0.8 / series.len().max(1) as f64;
    for (g, name) in groups.iter().enumerate() {
        let x0 = left + band * g as f64 + band * 0.1;
        for (n, s) in series.iter().enumerate() {
            let v = s.values.get(g).copied().unwrap_or(f64::NAN);
            let v0 = if v.is_finite() { v.max(0.0) } else { 0.0 };
            let _ = write!(
                svg,
                r#"<rect class="bar" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{} · {}: {}</title></rect>"#,
                x0 + bw * n as f64,
                y(v0),
                (bw - 1.0).max(1.0),
                (top + ph - y(v0)).max(0.0),
                s.color,
                esc(&s.name),
                esc(name),
                esc(&fmt(v))
            );
        }
        let _ = write!(
            svg,
            r#"<text class="tick" x="{:.1}" y="{}" text-anchor="middle">{}<title>{}</title></text>"#,
            left + band * (g as f64 + 0.5),
            h - bottom + 16.0,
            short(name, (band / 7.0).max(4.0) as usize),
            esc(name)
        );
    }
    let _ =
        write!(svg, r#"<line class="axis" x1="{left}" x2="{}" y1="{}" y2="{}"/></svg>"#, w - right, top + ph, top + ph);
    svg + &legend(series)
}

fn legend(series: &[Series]) -> String {
    let mut out = String::from(r#"<div class="legend">"#);
    for s in series {
        let _ = write!(
            out,
            r#"<span><svg width="10" height="10" xmlns="http://www.w3.org/2000/svg"><rect width="10" height="10" fill="{}"/></svg> {}</span>"#,
            s.color,
            esc(&s.name)
        );
    }
    out + "</div>"
}

/// Differences from the first model with their 95 % intervals: one row per other model, a
/// dot at the difference, a line across the interval, a dashed line at 0.
fn forest(id: &str, metric: &str, models: &[Value]) -> String {
    let rows: Vec<(String, f64, f64, f64)> = models
        .iter()
        .skip(1)
        .map(|m| {
            let d = &m["vs_first"][metric];
            (m["model"].as_str().unwrap_or("").to_owned(), num(&d["diff"]), num(&d["ci_low"]), num(&d["ci_high"]))
        })
        .collect();
    let (w, left, right, row) = (640.0, 140.0, 40.0, 28.0);
    let h = 30.0 + row * rows.len().max(1) as f64;
    let reach =
        rows.iter().flat_map(|r| [r.1, r.2, r.3]).filter(|x| x.is_finite()).fold(0.0, |a: f64, x| a.max(x.abs()));
    let reach = if reach > 0.0 { reach * 1.1 } else { 1.0 };
    let pw = w - left - right;
    let x = |v: f64| left + pw * (v + reach) / (2.0 * reach);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg id="{id}" class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" xmlns="http://www.w3.org/2000/svg">"#
    );
    for v in [-reach, -reach / 2.0, 0.0, reach / 2.0, reach] {
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{x:.1}" x2="{x:.1}" y1="4" y2="{}"/><text class="tick" x="{x:.1}" y="{}" text-anchor="middle">{}</text>"#,
            h - 18.0,
            h - 4.0,
            signed(v),
            x = x(v)
        );
    }
    let _ = write!(svg, r#"<line class="zero" x1="{x:.1}" x2="{x:.1}" y1="4" y2="{}"/>"#, h - 18.0, x = x(0.0));
    for (n, (name, diff, lo, hi)) in rows.iter().enumerate() {
        let cy = 18.0 + row * n as f64;
        let c = color(n + 1);
        let _ = write!(
            svg,
            r#"<text class="label" x="{}" y="{:.1}" text-anchor="end">{}</text><line x1="{:.1}" x2="{:.1}" y1="{cy:.1}" y2="{cy:.1}" stroke="{c}" stroke-width="3"/><circle cx="{:.1}" cy="{cy:.1}" r="5" fill="{c}"><title>{} − first: {} [{}, {}]</title></circle>"#,
            left - 8.0,
            cy + 4.0,
            short(name, 18),
            x(if lo.is_finite() { *lo } else { 0.0 }),
            x(if hi.is_finite() { *hi } else { 0.0 }),
            x(if diff.is_finite() { *diff } else { 0.0 }),
            esc(name),
            signed(*diff),
            signed(*lo),
            signed(*hi)
        );
    }
    svg + "</svg>"
}

fn model_series(models: &[Value], values: impl Fn(&Value) -> Vec<f64>, offset: usize) -> Vec<Series> {
    models
        .iter()
        .enumerate()
        .map(|(n, m)| Series {
            name: m["model"].as_str().unwrap_or("").to_owned(),
            color: color(n + offset),
            values: values(m),
        })
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().map(|a| a.iter().map(num).collect()).unwrap_or_default()
}

const STYLE: &str = r#"
:root { --accent: #c2410c; --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f8fafc; }
body { margin: 0; font: 15px/1.45 system-ui, "PingFang SC", "Noto Sans CJK SC", sans-serif; color: var(--ink); background: var(--bg); }
main { padding: 1em 1.5em 3em; max-width: 1100px; margin: 0 auto; }
h1 { color: var(--accent); font-size: 1.4em; }
h2 { font-size: 1.15em; margin: .2em 0 .4em; }
h3 { font-size: .95em; margin: .6em 0 0; }
section { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: .8em 1.2em 1em; margin-top: 1em; }
.muted, .note { color: var(--muted); font-size: .88em; }
svg.chart { width: 100%; max-width: 640px; height: auto; display: block; margin: .4em 0; }
svg .grid { stroke: var(--line); }
svg .axis { stroke: var(--muted); }
svg .zero { stroke: var(--ink); stroke-dasharray: 4 3; }
svg .tick, svg .label { font-size: 11px; fill: var(--muted); }
svg .label { fill: var(--ink); font-size: 12px; }
.legend { display: flex; gap: 1em; flex-wrap: wrap; font-size: .85em; color: var(--muted); }
.legend svg { width: 10px; height: 10px; display: inline-block; vertical-align: -1px; }
.three { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 1em; }
table.data { border-collapse: collapse; font-size: .88em; margin-top: .6em; }
table.data th, table.data td { border-bottom: 1px solid var(--line); padding: .3em .6em; text-align: left; }
table.data td.num, table.data th.num { text-align: right; font-variant-numeric: tabular-nums; }
.ci { color: var(--muted); white-space: nowrap; }
.ci.sig { color: var(--ink); font-weight: 600; }
"#;

/// The whole page, from the report's JSON.
pub fn render(r: &Value) -> String {
    let models: &[Value] = r["models"].as_array().map_or(&[][..], Vec::as_slice);
    let k = r["k"].as_u64().unwrap_or(10);
    let ndcg = format!("ndcg@{k}");
    let names: Vec<String> = models.iter().map(|m| m["model"].as_str().unwrap_or("").to_owned()).collect();
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>daogou report: {}</title><style>{STYLE}</style></head><body><main>
<h1>daogou report</h1>
<p class="muted">{} · split {} · {} users × {} items · {} users evaluated at k = {k} · {} bootstrap resamples, seed {}</p>
"#,
        esc(&names.join(", ")),
        text(&r["data"]["source"]),
        text(&r["data"]["split"]),
        r["data"]["users"],
        r["data"]["items"],
        r["users_evaluated"],
        r["bootstrap"],
        r["seed"]
    );
    leaderboard(&mut h, r, models, &ndcg);
    distributions(&mut h, &r["distributions"]);
    popularity(&mut h, &r["popularity"], k);
    beyond(&mut h, &r["beyond_accuracy"], k);
    segments(&mut h, &r["segments"], &names, &ndcg);
    h.push_str("</main></body></html>\n");
    h
}

fn leaderboard(h: &mut String, r: &Value, models: &[Value], ndcg: &str) {
    let first = text(&r["first"]);
    let _ = write!(
        h,
        r#"<section id="leaderboard"><h2>Leaderboard</h2>
<p class="note">Every model on the same split and the same {users} users. Each metric of the other models is shown as the difference from <strong>{first}</strong>, with a paired bootstrap 95 % interval over users and a two-sided p-value (bold: the interval excludes 0).</p>"#,
        users = r["users_evaluated"]
    );
    let values = model_series(models, |m| vec![num(&m[ndcg])], 0);
    let groups = vec![ndcg.to_owned()];
    h.push_str(&bars("chart-leaderboard", &groups, &values, f4));
    if models.len() > 1 {
        let _ = write!(h, r#"<p class="note">{} − {first}, 95 % interval:</p>"#, esc(ndcg));
        h.push_str(&forest("chart-differences", ndcg, models));
    }
    let metrics: Vec<String> =
        models.first().and_then(|m| m["vs_first"].as_object()).map(|o| o.keys().cloned().collect()).unwrap_or_default();
    // the order of the CLI table, not the JSON map's
    let order = ["precision", "recall", "f1", "ndcg", "map", "mrr", "hit_rate", "rmse", "mae"];
    let mut metrics = metrics;
    metrics.sort_by_key(|m| order.iter().position(|o| m.split('@').next() == Some(*o)).unwrap_or(order.len()));
    // one row per metric, one column per model (the others as differences from the first)
    h.push_str(r#"<table class="data" id="leaderboard-table"><thead><tr><th>metric</th>"#);
    for (n, m) in models.iter().enumerate() {
        if n == 0 {
            let _ = write!(h, r#"<th class="num">{}</th>"#, text(&m["model"]));
        } else {
            let _ = write!(
                h,
                r#"<th class="num">{} <span class="muted">(− {first} [95 %], p)</span></th>"#,
                text(&m["model"])
            );
        }
    }
    h.push_str("</tr></thead><tbody>");
    for key in &metrics {
        let _ = write!(h, "<tr><td>{}</td>", esc(key));
        for (n, m) in models.iter().enumerate() {
            let d = &m["vs_first"][key.as_str()];
            let _ = write!(
                h,
                r#"<td class="num" data-model="{}" data-metric="{}">{}"#,
                text(&m["model"]),
                esc(key),
                f4(num(&m[key.as_str()]))
            );
            if n > 0 {
                let (lo, hi) = (num(&d["ci_low"]), num(&d["ci_high"]));
                let sig = lo > 0.0 || hi < 0.0;
                let _ = write!(
                    h,
                    r#"<br><span class="ci{}">{} [{}, {}], p {}</span>"#,
                    if sig { " sig" } else { "" },
                    signed(num(&d["diff"])),
                    signed(lo),
                    signed(hi),
                    format_p(num(&d["p_value"]))
                );
            }
            h.push_str("</td>");
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table></section>\n");
}

fn format_p(p: f64) -> String {
    if p.is_finite() {
        format!("{p:.3}")
    } else {
        "–".into()
    }
}

fn distributions(h: &mut String, d: &Value) {
    let metric = text(&d["metric"]);
    let models: &[Value] = d["models"].as_array().map_or(&[][..], Vec::as_slice);
    let edges = floats(&d["edges"]);
    let groups: Vec<String> = edges.windows(2).map(|e| format!("{:.1}–{:.1}", e[0], e[1])).collect();
    let _ = write!(
        h,
        r#"<section id="distributions"><h2>Per-user {metric}</h2>
<p class="note">How {metric} spreads over the users evaluated: the share of users in each bin of width 0.1 (the last bin holds 1). A good mean can hide many users who get nothing.</p>"#
    );
    let series = model_series(
        models,
        |m| {
            let users = num(&m["users"]).max(1.0);
            floats(&m["counts"]).iter().map(|c| c / users).collect()
        },
        0,
    );
    h.push_str(&bars("chart-distributions", &groups, &series, pct));
    h.push_str(r#"<table class="data"><thead><tr><th>model</th><th class="num">users</th><th class="num">mean</th><th class="num">25 %</th><th class="num">median</th><th class="num">75 %</th><th class="num">users at 0</th></tr></thead><tbody>"#);
    for m in models {
        let _ = write!(
            h,
            r#"<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
            text(&m["model"]),
            m["users"],
            f4(num(&m["mean"])),
            f4(num(&m["p25"])),
            f4(num(&m["median"])),
            f4(num(&m["p75"])),
            pct(num(&m["zero_share"]))
        );
    }
    h.push_str("</tbody></table></section>\n");
}

fn popularity(h: &mut String, p: &Value, k: u64) {
    let models: &[Value] = p["models"].as_array().map_or(&[][..], Vec::as_slice);
    let head = p["head_deciles"].as_u64().unwrap_or(2);
    let _ = write!(
        h,
        r#"<section id="popularity"><h2>Popularity bias and the long tail</h2>
<p class="note">Items in ten deciles by training popularity (decile 1: the most popular tenth). Grey: the share of training interactions in each decile; colours: the share of each model's top-{k} recommendations. The long tail is deciles {}–10 (the items outside the most popular {} %).</p>"#,
        head + 1,
        head * 10
    );
    let groups: Vec<String> = (1..=10).map(|d| d.to_string()).collect();
    let mut series =
        vec![Series { name: "training interactions".into(), color: GREY, values: floats(&p["interactions_share"]) }];
    series.extend(model_series(models, |m| floats(&m["share"]), 0));
    h.push_str(&bars("chart-popularity", &groups, &series, pct));
    let _ = write!(
        h,
        r#"<table class="data"><thead><tr><th></th><th class="num">long-tail share</th><th class="num">mean popularity of a recommended item</th><th class="num">recommendations</th></tr></thead><tbody><tr><td>training interactions</td><td class="num">{}</td><td></td><td></td></tr>"#,
        pct(num(&p["interactions_tail_share"]))
    );
    for m in models {
        let _ = write!(
            h,
            r#"<tr><td>{}</td><td class="num">{}</td><td class="num">{:.1}</td><td class="num">{}</td></tr>"#,
            text(&m["model"]),
            pct(num(&m["tail_share"])),
            num(&m["mean_popularity"]),
            m["recommendations"]
        );
    }
    h.push_str("</tbody></table>");
    h.push_str(r#"<p class="note">The items each model recommends most (share of the users' lists that hold the item; popularity: training users who had it):</p><table class="data" id="top-items"><thead><tr><th>model</th><th>item</th><th>title</th><th>category</th><th class="num">popularity</th><th class="num">in lists</th></tr></thead><tbody>"#);
    for m in models {
        for it in m["top_items"].as_array().map_or(&[][..], Vec::as_slice) {
            let _ = write!(
                h,
                r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
                text(&m["model"]),
                text(&it["item"]),
                text(&it["title"]),
                text(&it["category"]),
                it["popularity"],
                pct(num(&it["lists_share"]))
            );
        }
    }
    h.push_str("</tbody></table></section>\n");
}

fn beyond(h: &mut String, b: &Value, k: u64) {
    let rows: &[Value] = b.as_array().map_or(&[][..], Vec::as_slice);
    let _ = write!(
        h,
        r#"<section id="beyond-accuracy"><h2>Coverage, novelty and diversity</h2>
<p class="note">Coverage: distinct items in all top-{k} lists / catalogue. Novelty: mean self-information −log₂ p(item) of the recommended items (higher: less popular). Diversity: share of item pairs in a list from different categories (when the catalogue has categories).</p><div class="three">"#
    );
    let groups = vec![String::new()];
    for (key, title, fmt) in [
        (format!("coverage@{k}"), "coverage", pct as fn(f64) -> String),
        (format!("novelty@{k}"), "novelty (bits)", f4 as fn(f64) -> String),
        (format!("diversity@{k}"), "diversity", f4 as fn(f64) -> String),
    ] {
        if rows.iter().all(|m| m[key.as_str()].is_null()) {
            continue;
        }
        let _ = write!(h, "<div><h3>{title}</h3>");
        let series = model_series(rows, |m| vec![num(&m[key.as_str()])], 0);
        h.push_str(&bars(&format!("chart-{}", title.split(' ').next().unwrap_or(title)), &groups, &series, fmt));
        h.push_str("</div>");
    }
    let _ = write!(
        h,
        r#"</div><table class="data"><thead><tr><th>model</th><th class="num">coverage@{k}</th><th class="num">novelty@{k}</th><th class="num">diversity@{k}</th><th class="num">distinct items recommended</th></tr></thead><tbody>"#
    );
    for m in rows {
        let cov = format!("coverage@{k}");
        let nov = format!("novelty@{k}");
        let div = format!("diversity@{k}");
        let _ = write!(
            h,
            r#"<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
            text(&m["model"]),
            f4(num(&m[cov.as_str()])),
            f4(num(&m[nov.as_str()])),
            f4(num(&m[div.as_str()])),
            m["items_recommended"]
        );
    }
    h.push_str("</tbody></table></section>\n");
}

fn segment_block(h: &mut String, id: &str, groups: &[Value], names: &[String], ndcg: &str) {
    let labels: Vec<String> = groups.iter().map(|g| g["segment"].as_str().unwrap_or("").to_owned()).collect();
    let series: Vec<Series> = names
        .iter()
        .enumerate()
        .map(|(n, name)| Series {
            name: name.clone(),
            color: color(n),
            values: groups.iter().map(|g| num(&g["models"][n][ndcg])).collect(),
        })
        .collect();
    h.push_str(&bars(id, &labels, &series, f4));
    h.push_str(r#"<table class="data"><thead><tr><th>users</th><th class="num">number</th>"#);
    for name in names {
        let _ = write!(h, r#"<th class="num">{} {}</th>"#, esc(name), esc(ndcg));
    }
    h.push_str("</tr></thead><tbody>");
    for (g, label) in groups.iter().zip(&labels) {
        let _ = write!(h, r#"<tr><td>{}</td><td class="num">{}</td>"#, esc(label), g["users"]);
        for n in 0..names.len() {
            let _ = write!(h, r#"<td class="num">{}</td>"#, f4(num(&g["models"][n][ndcg])));
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
}

fn segments(h: &mut String, s: &Value, names: &[String], ndcg: &str) {
    let _ = write!(
        h,
        r#"<section id="segments"><h2>Results by segment</h2>
<p class="note">{} of the users evaluated, grouped by the number of items in their training history (new users first).</p>"#,
        esc(ndcg)
    );
    segment_block(h, "chart-history", s["history"].as_array().map_or(&[][..], Vec::as_slice), names, ndcg);
    if let Some(cats) = s["category"].as_array() {
        let _ = write!(
            h,
            r#"<p class="note">By each user's main category (the top-level category most of their training items are in).</p>"#
        );
        segment_block(h, "chart-category", cats, names, ndcg);
    }
    h.push_str("</section>\n");
}
