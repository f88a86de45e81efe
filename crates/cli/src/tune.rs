//! `daogou tune`: choose hyperparameters on a validation split cut from the training data.
//!
//! The test part (a given `--test` file, or what `--split` holds out of `--data`/`--db`) is
//! never looked at while choosing. Each candidate setting is fitted on the training part minus
//! a validation split (`--validation`, or `--folds K` rotating folds) and scored there; the
//! winner is then evaluated once on the held-out test part, so the printed test score is an
//! honest estimate.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use daogou_core::{Interaction, Params};
use daogou_data::{cold_items, k_fold, split, Split};
use daogou_eval::tune::{
    grid_settings, metric_value, parse_grid, random_settings, search, setting_params, show, with_seed, Grid,
};
use daogou_eval::{evaluate_cold_split, EvalOptions};
use serde_json::{json, Value};

use crate::args::{split_given, ModelArgs, SignalArgs, SourceArgs};
use crate::progress;

#[derive(Args, Debug)]
pub struct TuneArgs {
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    signal: SignalArgs,
    /// Values to try, repeatable: key=v1,v2,… (every combination is tried) or, with
    /// --random, also key=lo..hi (integers: uniform; decimals: log-uniform when hi/lo ≥ 10).
    #[arg(long, value_name = "KEY=V1,V2|KEY=LO..HI", required_unless_present = "auto", conflicts_with = "auto")]
    grid: Vec<String>,
    /// Search models and settings by itself: every applicable model with its defaults, then
    /// random settings from documented ranges among the best models, within --budget; on the
    /// validation split only (with --model: that model's ranges only).
    #[arg(long)]
    auto: bool,
    /// Time budget of --auto, in seconds.
    #[arg(long, default_value_t = 120.0, value_name = "SECONDS", requires = "auto")]
    budget: f64,
    /// Try N random settings drawn from the --grid values instead of all combinations.
    #[arg(long, value_name = "N")]
    random: Option<usize>,
    /// How the held-out test part is split off --data/--db (never used for choosing).
    #[arg(long, default_value = "random:0.2", value_name = "SPEC")]
    split: Split,
    /// The validation split cut from the training part (same syntax as --split). For a time
    /// cut, a validation period just before it: --split time:2011-11-09 --validation
    /// time:2011-10-09 chooses on October and tests once on what follows the cut.
    #[arg(long, default_value = "random:0.2", value_name = "SPEC", conflicts_with = "folds")]
    validation: Split,
    /// Rotate K validation folds over the training part instead of one validation split.
    #[arg(long, value_name = "K")]
    folds: Option<usize>,
    /// What to optimise: a key of `evaluate --json` (rmse and mae are minimised, the others
    /// maximised), or `cold.KEY` / `warm.KEY` with a cold-items validation split (e.g.
    /// cold.recall@10). Default: rmse for models that predict ratings on explicit data, else
    /// ndcg@K.
    #[arg(long, value_name = "KEY")]
    metric: Option<String>,
    /// Keep items a user had before each split eligible and relevant (retail rebuys), in
    /// validation and test alike.
    #[arg(long)]
    repeats: bool,
    /// Cut-off of the top-N metrics.
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// A test rating is relevant when ≥ this (explicit data).
    #[arg(long, value_name = "T")]
    relevance_threshold: Option<f32>,
    /// Seed for the splits, the random search and stochastic models.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Write the best setting to FILE; use it with `--params FILE` in train, evaluate, recommend.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Print one JSON object (leaderboard, best setting, test score).
    #[arg(long)]
    json: bool,
}

pub fn tune(a: TuneArgs) -> Result<()> {
    if a.auto {
        return tune_auto(a);
    }
    let (model, base) = a.model.resolve()?;
    let grid: Grid = a.grid.iter().map(|g| parse_grid(g)).collect::<Result<_, _>>()?;
    let settings = match a.random {
        Some(0) => bail!("--random needs at least 1"),
        Some(n) => random_settings(&grid, n, a.seed),
        None => grid_settings(&grid)?,
    };
    let mut opts = EvalOptions::new(&model, base.clone());
    a.signal.apply(&mut opts)?;
    opts.k = a.k;
    opts.relevance_threshold = a.relevance_threshold;
    opts.repeats = a.repeats;

    let loaded = a.source.load()?;
    let ds = loaded.dataset;
    let (train, test): (Vec<Interaction>, Vec<Interaction>) = match &loaded.given_test {
        Some(range) => split_given(&ds, range),
        None => split(&ds.interactions, &a.split, a.seed),
    };
    let folds: Vec<(Vec<Interaction>, Vec<Interaction>)> = match a.folds {
        Some(k) if k < 2 => bail!("--folds must be at least 2"),
        Some(k) => k_fold(&train, k, a.seed),
        None => vec![split(&train, &a.validation, a.seed)],
    };
    // cold-items splits: the held-out items of the validation and of the test part
    let validation_cold = if a.folds.is_none() { cold_items(&train, &a.validation, a.seed) } else { Vec::new() };
    let test_cold =
        if loaded.given_test.is_none() { cold_items(&ds.interactions, &a.split, a.seed) } else { Vec::new() };
    if folds.iter().any(|(t, v)| t.is_empty() || v.is_empty()) {
        bail!("the validation split leaves an empty part (check --validation / --folds against the training data)");
    }
    let validation = match a.folds {
        Some(k) => format!("{k}-fold on the training part"),
        None => format!("{} of the training part", a.validation),
    };

    let bar = progress::bar((settings.len() * folds.len()) as u64, format!("tuning {model}"));
    let found = search(&ds, &folds, &validation_cold, &opts, &settings, a.metric.as_deref(), a.seed, || bar.inc(1))?;
    bar.finish_and_clear();
    let (metric, lower) = (found.metric.clone(), found.lower_is_better);
    let value = |j: &Value| metric_value(j, &metric);
    let board = &found.trials;

    // the winner, once, on the held-out test part
    let params = setting_params(&base, &found.best().setting);
    let mut o = opts.clone();
    o.params = with_seed(&model, params.clone(), a.seed);
    let test_report =
        if test.is_empty() { None } else { Some(evaluate_cold_split(&ds, &train, &test, &test_cold, &o)?.to_json()) };

    if let Some(path) = &a.out {
        let mut text = format!(
            "# daogou tune: best of {} settings for {model} by {metric} on {validation} (seed {})\nmodel = \"{model}\"\n[params]\n",
            board.len(),
            a.seed
        );
        for (k, v) in params.iter() {
            text.push_str(&format!("{k} = \"{v}\"\n"));
        }
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }

    if a.json {
        let rows = found.rows();
        let out = json!({
            "model": model,
            "metric": metric,
            "lower_is_better": lower,
            "validation": validation,
            "settings_tried": board.len(),
            "best": {"params": params.iter().collect::<std::collections::BTreeMap<_, _>>(), "metric": value(&found.best().validation)},
            "leaderboard": rows,
            "test": test_report,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "tuning {model} by {metric} ({}) on {validation}; {} settings",
        if lower { "lower is better" } else { "higher is better" },
        board.len()
    );
    println!("  {:>4}  {:>10}  {:>9}  setting", "rank", metric, "fit (s)");
    for (rank, t) in board.iter().enumerate().take(20) {
        let fit = t.validation.get("fit_seconds").and_then(Value::as_f64).unwrap_or(0.0);
        println!(
            "  {:>4}  {:>10.4}  {:>9.3}  {}",
            rank + 1,
            value(&t.validation).unwrap_or(f64::NAN),
            fit,
            show(&t.setting)
        );
    }
    if board.len() > 20 {
        println!("  … {} more", board.len() - 20);
    }
    println!(
        "best: --model {model} {}",
        params.iter().map(|(k, v)| format!("--set {k}={v}")).collect::<Vec<_>>().join(" ")
    );
    if let Some(t) = &test_report {
        let show_key = |k: &str| {
            t.pointer(&format!("/{}", k.replacen('.', "/", 1))).and_then(Value::as_f64).map(|x| format!("{k} {x:.4}"))
        };
        let keys = [metric.as_str(), "rmse", "precision@10", "ndcg@10"];
        let mut shown: Vec<String> = Vec::new();
        for k in keys {
            if let Some(s) = show_key(k) {
                if !shown.contains(&s) {
                    shown.push(s);
                }
            }
        }
        println!("held-out test (not used for choosing): {}", shown.join(", "));
    }
    if let Some(path) = &a.out {
        println!("wrote {} (use it with --params {})", path.display(), path.display());
    }
    Ok(())
}

/// `tune --auto`: the search lives in `daogou_eval::auto`; this reads the data, splits it as
/// `tune` does, reports the trials and tests the winner once.
fn tune_auto(a: TuneArgs) -> Result<()> {
    if !(a.budget.is_finite() && a.budget > 0.0) {
        bail!("--budget must be a positive number of seconds, got {}", a.budget);
    }
    let only = match &a.model.model {
        Some(m) => Some(vec![m.clone()]),
        None => None,
    };
    let (_, base) = a.model.resolve()?;
    if !base.is_empty() {
        bail!("--auto chooses the parameters itself; drop --set/--params");
    }
    let mut opts = EvalOptions::new("popularity", Params::new());
    a.signal.apply(&mut opts)?;
    opts.k = a.k;
    opts.relevance_threshold = a.relevance_threshold;
    opts.repeats = a.repeats;
    let loaded = a.source.load()?;
    let ds = loaded.dataset;
    let (train, test): (Vec<Interaction>, Vec<Interaction>) = match &loaded.given_test {
        Some(range) => split_given(&ds, range),
        None => split(&ds.interactions, &a.split, a.seed),
    };
    let folds: Vec<(Vec<Interaction>, Vec<Interaction>)> = match a.folds {
        Some(k) if k < 2 => bail!("--folds must be at least 2"),
        Some(k) => k_fold(&train, k, a.seed),
        None => vec![split(&train, &a.validation, a.seed)],
    };
    if folds.iter().any(|(t, v)| t.is_empty() || v.is_empty()) {
        bail!("the validation split leaves an empty part (check --validation / --folds against the training data)");
    }
    let validation_cold = if a.folds.is_none() { cold_items(&train, &a.validation, a.seed) } else { Vec::new() };
    let test_cold =
        if loaded.given_test.is_none() { cold_items(&ds.interactions, &a.split, a.seed) } else { Vec::new() };
    let metric = match &a.metric {
        Some(m) => m.clone(),
        None if opts.explicit(&ds) => "rmse".to_owned(),
        None => format!("ndcg@{}", a.k),
    };
    let auto = daogou_eval::auto::AutoOptions {
        budget: std::time::Duration::from_secs_f64(a.budget),
        models: only,
        metric: metric.clone(),
        seed: a.seed,
    };
    let pb = progress::bar(a.budget.ceil() as u64, "tune --auto");
    let trials = daogou_eval::auto::search(&ds, &folds, &validation_cold, &opts, &auto, |t, elapsed| {
        pb.set_position(elapsed.as_secs().min(a.budget as u64));
        pb.set_message(format!("{} {metric} {:.4}", t.model, t.metric));
    })
    .context("tune --auto")?;
    pb.finish_and_clear();
    let best = &trials[0];
    let mut o = opts.clone();
    o.model = best.model.clone();
    o.params = with_seed(&best.model, best.params.clone(), a.seed);
    let test_report =
        if test.is_empty() { None } else { Some(evaluate_cold_split(&ds, &train, &test, &test_cold, &o)?.to_json()) };
    let validation = match a.folds {
        Some(k) => format!("{k}-fold on the training part"),
        None => format!("{} of the training part", a.validation),
    };
    if let Some(path) = &a.out {
        let mut text = format!(
            "# daogou tune --auto: best of {} settings by {metric} on {validation} (seed {})\nmodel = \"{}\"\n[params]\n",
            trials.len(),
            a.seed,
            best.model
        );
        for (k, v) in best.params.iter() {
            text.push_str(&format!("{k} = \"{v}\"\n"));
        }
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let lower = daogou_eval::tune::lower_is_better(&metric);
    if a.json {
        let rows: Vec<Value> = trials
            .iter()
            .map(|t| {
                json!({"model": t.model, "params": t.params.iter().collect::<std::collections::BTreeMap<_, _>>(),
                       "metric": t.metric, "seconds": t.seconds})
            })
            .collect();
        let out = json!({
            "model": best.model,
            "metric": metric,
            "lower_is_better": lower,
            "validation": validation,
            "budget_seconds": a.budget,
            "settings_tried": trials.len(),
            "best": {"model": best.model, "params": best.params.iter().collect::<std::collections::BTreeMap<_, _>>(), "metric": best.metric},
            "leaderboard": rows,
            "test": test_report,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!("tune --auto: {} settings in {:.0} s, by {metric} on {validation}", trials.len(), a.budget);
    println!("  {:>4}  {:>10}  {:>8}  {:<20} setting", "rank", metric, "time (s)", "model");
    for (rank, t) in trials.iter().enumerate().take(15) {
        let set: Vec<(String, String)> = t.params.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        println!("  {:>4}  {:>10.4}  {:>8.1}  {:<20} {}", rank + 1, t.metric, t.seconds, t.model, show(&set));
    }
    println!(
        "best: --model {} {}",
        best.model,
        best.params.iter().map(|(k, v)| format!("--set {k}={v}")).collect::<Vec<_>>().join(" ")
    );
    if let Some(t) = &test_report {
        let shown: Vec<String> = [metric.as_str(), "precision@10", "ndcg@10"]
            .iter()
            .filter_map(|k| t.get(*k).and_then(Value::as_f64).map(|x| format!("{k} {x:.4}")))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        println!("held-out test (not used for choosing): {}", shown.join(", "));
    }
    if let Some(path) = &a.out {
        println!("wrote {} (use it with --params {})", path.display(), path.display());
    }
    Ok(())
}
