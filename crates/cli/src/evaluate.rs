//! `daogou evaluate` and `daogou train`.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use daogou_algo::{build_model, find_model, TrainData};
use daogou_core::{Dataset, Interaction, Params};
use daogou_data::{cold_items, k_core, k_fold, split, Split};
use daogou_eval::protocol::mean_json;
use daogou_eval::significance::{compare_reports, Bootstrap, Difference};
use daogou_eval::{evaluate_cold_split, EvalOptions, Progress, Report};
use serde_json::Value;

use crate::args::{split_given, ModelArgs, SignalArgs, SourceArgs};
use crate::progress;

/// The data, its split and how it is judged: what `evaluate`, `evaluate --compare` and
/// `report` share.
#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub signal: SignalArgs,
    /// How to split --data into train and test: random:0.2 (random 20% of events),
    /// time:2011-11-09 (events from that time on are test), user-time:0.2 (each user's
    /// latest 20%), leave-last:1 (each user's last event), cold-items:0.1 (a seeded 10% of
    /// the items with interactions are held out of training entirely, all their events are
    /// test; the other items' events split by user-time:0.2, or by the split after a slash:
    /// cold-items:0.1/time:2011-11-09). A cold-items run also reports `cold` (candidates:
    /// the cold items only; relevant: each user's cold test items) and `warm` (candidates:
    /// the other items; relevant: the user's other test items), from the same rankings.
    #[arg(long, default_value = "random:0.2", value_name = "SPEC")]
    pub split: Split,
    /// Seed for random splits and stochastic models.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Cut-off of the top-N metrics (precision@K, ndcg@K, …).
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// A test rating is relevant when ≥ this (explicit data; default: every test rating).
    #[arg(long, value_name = "T")]
    pub relevance_threshold: Option<f32>,
    /// Keep only users and items with at least N interactions (k-core), before splitting.
    #[arg(long, value_name = "N")]
    pub k_core: Option<usize>,
    /// Keep items a user had before the split eligible and relevant (retail rebuys; default:
    /// they are neither recommended nor counted).
    #[arg(long)]
    pub repeats: bool,
}

#[derive(Args, Debug)]
pub struct EvaluateArgs {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// k-fold cross-validation over --data instead of one split; prints each fold and the mean.
    #[arg(long, value_name = "K", conflicts_with_all = ["split", "compare"])]
    folds: Option<usize>,
    /// Print one JSON object on stdout instead of a table.
    #[arg(long)]
    json: bool,
    /// Compare models on the same split, e.g. als,ease,item-knn: each with its defaults (a
    /// --set applies to the listed models that have the parameter), each metric reported as
    /// the difference from the FIRST model with a paired bootstrap 95 % interval and p-value
    /// over users. Not with --model, --params or --folds.
    #[arg(long, value_name = "M1,M2,…", value_delimiter = ',', num_args = 1..)]
    compare: Vec<String>,
    /// Bootstrap resamples of --compare (seeded by --seed).
    #[arg(long, value_name = "N", default_value_t = 1000, requires = "compare")]
    bootstrap: usize,
}

fn eval_options(model: &ModelArgs, signal: &SignalArgs) -> Result<EvalOptions> {
    let (name, params) = model.resolve()?;
    let mut opts = EvalOptions::new(&name, params);
    signal.apply(&mut opts)?;
    Ok(opts)
}

pub fn evaluate(a: EvaluateArgs) -> Result<()> {
    if a.run.k == 0 {
        bail!("--k must be at least 1");
    }
    if !a.compare.is_empty() {
        return compare(a);
    }
    let r = &a.run;
    let mut opts = eval_options(&a.model, &r.signal)?;
    opts.k = r.k;
    opts.relevance_threshold = r.relevance_threshold;
    opts.repeats = r.repeats;
    if opts.params.raw("seed").is_none() && accepts_seed(&opts.model) {
        // stochastic models take the run's seed unless given their own
        opts.params.set("seed", r.seed);
    }

    let (ds, folds, cold) = prepare(r, a.folds)?;
    let bar = progress::bar(0, format!("evaluating {}", opts.model));
    let mut reports = Vec::with_capacity(folds.len());
    for (n, (train, test)) in folds.iter().enumerate() {
        let fold = if folds.len() > 1 { format!("fold {}/{}: ", n + 1, folds.len()) } else { String::new() };
        opts.progress = progress_hook(&bar, fold, &opts.model);
        reports.push(evaluate_cold_split(&ds, train, test, &cold, &opts).context("evaluation failed")?);
    }
    bar.finish_and_clear();

    let out: Value = if reports.len() == 1 { reports[0].to_json() } else { mean_json(&reports) };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_table(&ds, &reports, &out);
    }
    Ok(())
}

/// Train/test folds of a loaded dataset.
type Folds = Vec<(Vec<Interaction>, Vec<Interaction>)>;

/// Load the data and split it as the flags say: the dataset, the folds (one for a split) and
/// the held-out items of a cold-items split.
fn prepare(a: &RunArgs, n_folds: Option<usize>) -> Result<(Dataset, Folds, Vec<u32>)> {
    let loaded = a.source.load()?;
    let mut ds = loaded.dataset;
    if let Some(n) = a.k_core {
        if loaded.given_test.is_some() {
            bail!("--k-core applies to --data or --db, not to a given --train/--test split");
        }
        ds.interactions = k_core(&ds.interactions, n, n);
    }

    let folds: Folds = match (&loaded.given_test, n_folds) {
        (Some(range), _) => vec![split_given(&ds, range)],
        (None, Some(k)) if k < 2 => bail!("--folds must be at least 2"),
        (None, Some(k)) => k_fold(&ds.interactions, k, a.seed),
        (None, None) => vec![split(&ds.interactions, &a.split, a.seed)],
    };
    // the held-out items of a cold-items split, reported on their own
    let cold = if loaded.given_test.is_none() && n_folds.is_none() {
        cold_items(&ds.interactions, &a.split, a.seed)
    } else {
        Vec::new()
    };
    if folds.iter().any(|(_, test)| test.is_empty()) {
        bail!("the split leaves an empty test set (check --split / --folds against the data's time range and size)");
    }
    Ok((ds, folds, cold))
}

/// Progress of one evaluation on `bar`, its messages prefixed by `prefix` and the model.
fn progress_hook(bar: &indicatif::ProgressBar, prefix: String, model: &str) -> Progress {
    let (pb, model) = (bar.clone(), model.to_owned());
    Progress(Some(std::sync::Arc::new(move |stage: &str, done: u64, total: u64| {
        pb.set_message(format!("{prefix}{model}: {stage}"));
        pb.set_length(total);
        pb.set_position(done);
    })))
}

/// `evaluate --compare`: every listed model on the same split, then each one's differences
/// from the first.
fn compare(a: EvaluateArgs) -> Result<()> {
    if a.model.model.is_some() || a.model.params_file.is_some() {
        bail!("--compare takes model names with their defaults; it cannot be combined with --model or --params");
    }
    let c = run_comparison(&a.run, "--compare", &a.compare, &a.model.set, a.bootstrap)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&c.to_json())?);
    } else {
        print_comparison(&c.ds, &c.reports, &c.diffs, &c.boot);
    }
    Ok(())
}

/// Several models fitted and judged on one split, and each one's differences from the first
/// (`evaluate --compare` and `report`).
pub struct Comparison {
    /// The data.
    pub ds: Dataset,
    /// The training part of the split.
    pub train: Vec<Interaction>,
    /// How behaviour became training signal (the same for every model).
    pub signal: daogou_data::Signal,
    /// One run per model, in the order given.
    pub reports: Vec<Report>,
    /// Each run's differences from the first, metric by metric.
    pub diffs: Vec<Vec<(String, Difference)>>,
    /// The resamples behind the intervals.
    pub boot: Bootstrap,
}

impl Comparison {
    /// The JSON of `evaluate --compare --json`: `first`, `bootstrap`, `seed`,
    /// `users_evaluated` and `models` (each run's keys plus `vs_first`).
    pub fn to_json(&self) -> Value {
        let models: Vec<Value> = self
            .reports
            .iter()
            .zip(&self.diffs)
            .map(|(r, d)| {
                let mut m = r.to_json();
                let vs: serde_json::Map<String, Value> =
                    d.iter().map(|(key, x)| (key.clone(), serde_json::to_value(x).expect("plain numbers"))).collect();
                m["vs_first"] = Value::Object(vs);
                m
            })
            .collect();
        serde_json::json!({
            "first": self.reports[0].model,
            "bootstrap": self.boot.resamples,
            "seed": self.boot.seed,
            "users_evaluated": self.reports[0].topn.users_evaluated,
            "models": models,
        })
    }
}

/// Fit and judge the models `names` (flag: how the command line calls the list, for errors)
/// on the split of `run`, each with its defaults plus the `--set` values it has, then
/// bootstrap each one's differences from the first.
pub fn run_comparison(
    run: &RunArgs,
    flag: &str,
    names: &[String],
    set: &[String],
    bootstrap: usize,
) -> Result<Comparison> {
    if run.k == 0 {
        bail!("--k must be at least 1");
    }
    if bootstrap == 0 {
        bail!("--bootstrap must be at least 1");
    }
    if names.is_empty() {
        bail!("{flag}: name at least one model");
    }
    let set = Params::parse(set.iter().map(String::as_str)).context("--set")?;
    let mut runs = Vec::with_capacity(names.len());
    for name in names {
        let Some(m) = daogou_algo::find_model(name) else {
            bail!("{flag}: unknown model {name:?} (`daogou models` lists them)");
        };
        let has = |key: &str| m.params.iter().any(|(k, _)| *k == key);
        let mut params = Params::new();
        for (k, v) in set.iter().filter(|(k, _)| has(k)) {
            params.set(k, v);
        }
        if params.raw("seed").is_none() && has("seed") {
            params.set("seed", run.seed);
        }
        let mut opts = EvalOptions::new(name, params);
        run.signal.apply(&mut opts)?;
        opts.k = run.k;
        opts.relevance_threshold = run.relevance_threshold;
        opts.repeats = run.repeats;
        runs.push(opts);
    }
    // a --set that no listed model takes is a typo, not a silent no-op
    for (k, _) in set.iter() {
        if !runs.iter().any(|o| o.params.raw(k).is_some()) {
            bail!("--set {k}: none of the compared models ({}) has that parameter", names.join(", "));
        }
    }

    let (ds, mut folds, cold) = prepare(run, None)?;
    let (train, test) = folds.swap_remove(0);
    let bar = progress::bar(0, "evaluating");
    let mut reports = Vec::with_capacity(runs.len());
    for (n, opts) in runs.iter_mut().enumerate() {
        opts.progress = progress_hook(&bar, format!("model {}/{}: ", n + 1, names.len()), &opts.model);
        reports.push(evaluate_cold_split(&ds, &train, &test, &cold, opts).context("evaluation failed")?);
    }
    bar.finish_and_clear();

    let boot = Bootstrap { resamples: bootstrap, seed: run.seed };
    let bar = progress::spinner(format!("bootstrap ({bootstrap} resamples)"));
    let diffs = reports
        .iter()
        .map(|r| compare_reports(&reports[0], r, &boot))
        .collect::<std::result::Result<Vec<_>, _>>()
        .context("comparison failed")?;
    bar.finish_and_clear();
    let signal = runs.swap_remove(0).signal;
    Ok(Comparison { ds, train, signal, reports, diffs, boot })
}

/// One block per metric: each model's value, and the others' difference from the first.
fn print_comparison(ds: &Dataset, reports: &[Report], diffs: &[Vec<(String, Difference)>], boot: &Bootstrap) {
    let first = &reports[0];
    println!(
        "{} models on {} users × {} items ({}); differences from {}: paired bootstrap over users, {} resamples, seed {}",
        reports.len(),
        ds.n_users(),
        ds.n_items(),
        if ds.explicit { "ratings" } else { "implicit" },
        first.model,
        boot.resamples,
        boot.seed
    );
    println!(
        "top-N over {} users, k = {}{}",
        first.topn.users_evaluated,
        first.topn.k,
        if first.rating.is_some() {
            format!("; RMSE/MAE over {} test users", first.rating_per_user.len())
        } else {
            String::new()
        }
    );
    let width = reports.iter().map(|r| r.model.len()).max().unwrap_or(5).max(5);
    println!("{:<14} {:<width$} {:>9} {:>10} {:>22} {:>7}", "metric", "model", "value", "diff", "95 % interval", "p");
    let values: Vec<Value> = reports.iter().map(Report::to_json).collect();
    for (key, _) in &diffs[0] {
        for (n, ((r, d), v)) in reports.iter().zip(diffs).zip(&values).enumerate() {
            let value = v[key.as_str()].as_f64().unwrap_or(f64::NAN);
            let label = if n == 0 { key.as_str() } else { "" };
            let Some((_, x)) = d.iter().find(|(k, _)| k == key) else { continue };
            if n == 0 {
                println!("{label:<14} {:<width$} {value:>9.4}", r.model);
            } else {
                let interval = format!("[{:+.4}, {:+.4}]", x.ci_low, x.ci_high);
                println!(
                    "{label:<14} {:<width$} {value:>9.4} {:>+10.4} {interval:>22} {:>7.3}",
                    r.model, x.diff, x.p_value
                );
            }
        }
    }
}

fn accepts_seed(model: &str) -> bool {
    daogou_algo::find_model(model).is_some_and(|m| m.params.iter().any(|(k, _)| *k == "seed"))
}

fn print_table(ds: &Dataset, reports: &[Report], out: &Value) {
    let r = &reports[0];
    println!(
        "model {} on {} users × {} items ({}), {} fold(s)",
        r.model,
        ds.n_users(),
        ds.n_items(),
        if ds.explicit { "ratings" } else { "implicit" },
        reports.len()
    );
    let Value::Object(m) = out else { return };
    print_numbers(m, "  ");
    for part in ["cold", "warm"] {
        if let Some(Value::Object(p)) = m.get(part) {
            println!("  {part} items (candidates: the {part} items only):");
            print_numbers(p, "    ");
        }
    }
    print_importance(m.get("feature_importance"));
}

/// The ten most important features of a learned ranker (of its JSON list).
fn print_importance(list: Option<&Value>) {
    let Some(Value::Array(list)) = list else { return };
    let total: f64 = list.iter().filter_map(|x| x["gain"].as_f64()).sum();
    println!("  most important features (share of the total gain):");
    for x in list.iter().take(10) {
        let gain = x["gain"].as_f64().unwrap_or(0.0);
        println!(
            "    {:<32} {:>5.1} %",
            x["feature"].as_str().unwrap_or("?"),
            100.0 * gain / total.max(f64::MIN_POSITIVE)
        );
    }
}

fn print_numbers(m: &serde_json::Map<String, Value>, indent: &str) {
    for (key, v) in m {
        if let Some(x) = v.as_f64() {
            if v.is_u64() {
                println!("{indent}{key:<20} {x}");
            } else {
                println!("{indent}{key:<20} {x:.4}");
            }
        }
    }
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    signal: SignalArgs,
    /// Write the fitted model to this file (versioned, checksummed; `daogou recommend
    /// --model FILE` answers from it without retraining).
    #[arg(long, value_name = "FILE")]
    out: Option<std::path::PathBuf>,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
}

/// Fit the model of `model` on `source` (with `signal`) and, with `out`, write the model
/// file; the summary `train --json` prints. What `daogou train` and `daogou trainer` run.
pub fn fit_to_file(
    source: &SourceArgs,
    model_args: &ModelArgs,
    signal: &SignalArgs,
    out: Option<&std::path::Path>,
) -> Result<serde_json::Value> {
    let opts = eval_options(model_args, signal)?;
    // A model that reads only the matrix trains from events read into columns, dropped once
    // the matrix is built (the memory model in the README); the others keep the event log.
    let matrix_only = source.train.is_none() && find_model(&opts.model).is_some_and(|m| !m.reads_events);
    let (ds, train, mut matrix) = if matrix_only {
        let (ds, columns) = source.load_columns(opts.signal.half_life_days.is_some())?;
        let matrix = opts.signal.columns_matrix(ds.n_users(), ds.n_items(), columns);
        (ds, Vec::new(), matrix)
    } else {
        let loaded = source.load()?;
        let mut ds = loaded.dataset;
        // with --train/--test files, fit on the training file only
        let train = match &loaded.given_test {
            Some(range) => split_given(&ds, range).0,
            None => std::mem::take(&mut ds.interactions),
        };
        let matrix = opts.signal.train_matrix(&ds, &train);
        (ds, train, matrix)
    };
    let pb = progress::spinner(format!("fitting {}", opts.model));
    let started = Instant::now();
    let model = build_model(
        &opts.model,
        &opts.params,
        &TrainData::new(&matrix, opts.explicit(&ds)).with_items(&ds.catalogue).with_events(&train),
    )?;
    let fit_seconds = started.elapsed().as_secs_f64();
    pb.finish_and_clear();
    drop(train);
    // the model file keeps the rows by user; the transpose is not needed any more
    matrix.by_item = daogou_core::Csr::default();
    let mut summary = serde_json::json!({
        "model": model.name(),
        "users": matrix.n_users(),
        "items": matrix.n_items(),
        "pairs": matrix.nnz(),
        "explicit": opts.explicit(&ds),
        "signal": opts.signal.record(),
        "fit_seconds": fit_seconds,
    });
    let importance = model.feature_importance();
    if !importance.is_empty() {
        summary["feature_importance"] = daogou_eval::protocol::importance_json(&importance);
    }
    if let Some(out) = out {
        let pb = progress::spinner(format!("writing {}", out.display()));
        let started = Instant::now();
        let source = source.describe();
        let ctx = daogou_modelfile::TrainingContext {
            users: &ds.users,
            items: &ds.items,
            train: &matrix,
            explicit: opts.explicit(&ds),
            params: &opts.params,
            signal: &opts.signal,
            source: &source,
        };
        let manifest = daogou_modelfile::save(out, model.as_ref(), &ctx)?;
        pb.finish_and_clear();
        summary["out"] = out.display().to_string().into();
        summary["fingerprint"] = manifest["data"]["fingerprint"].clone();
        summary["file_bytes"] = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0).into();
        summary["save_seconds"] = started.elapsed().as_secs_f64().into();
    }
    Ok(summary)
}

pub fn train(a: TrainArgs) -> Result<()> {
    let summary = fit_to_file(&a.source, &a.model, &a.signal, a.out.as_deref())?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "fitted {} on {} users × {} items ({} user–item pairs) in {:.3} s",
            summary["model"].as_str().unwrap_or(""),
            summary["users"],
            summary["items"],
            summary["pairs"],
            summary["fit_seconds"].as_f64().unwrap_or(0.0)
        );
        print_importance(summary.get("feature_importance"));
        if let Some(out) = &a.out {
            println!(
                "wrote {} ({} bytes, data fingerprint {})",
                out.display(),
                summary["file_bytes"],
                summary["fingerprint"]
            );
        }
    }
    Ok(())
}
