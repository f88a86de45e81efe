//! `daogou recommend` and `daogou similar`: the answers a shop shows.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use daogou_algo::{build_model, topk::top_k, Recommender, TrainData};
use daogou_core::{Dataset, EventKind, Interaction, Interactions, Item};
use daogou_eval::protocol::train_matrix;
use daogou_eval::EvalOptions;
use rayon::prelude::*;
use serde_json::json;

use crate::args::{load_db, ModelArgs, SignalArgs, DEFAULT_DB};
use crate::progress;

#[derive(Args, Debug)]
pub struct RecommendArgs {
    /// Database file.
    #[arg(long, default_value = DEFAULT_DB, value_name = "PATH")]
    db: PathBuf,
    /// The user's external id.
    #[arg(long, value_name = "ID", required_unless_present = "all_users", conflicts_with = "all_users")]
    user: Option<String>,
    /// Top-N for every user the model knows, written to --out (training items left out, no
    /// reasons; users scored in parallel batches).
    #[arg(long, requires = "out")]
    all_users: bool,
    /// With --all-users: the output file, CSV with the header `user,rank,item,score` (one row per
    /// recommendation), or JSON lines `{"user", "items", "scores"}` for a name ending in .jsonl.
    #[arg(long, value_name = "FILE", requires = "all_users")]
    out: Option<PathBuf>,
    /// How many recommendations.
    #[arg(long, short = 'n', default_value_t = 10)]
    n: usize,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    signal: SignalArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct SimilarArgs {
    /// Database file.
    #[arg(long, default_value = DEFAULT_DB, value_name = "PATH")]
    db: PathBuf,
    /// The item's external id.
    #[arg(long, value_name = "ID")]
    item: String,
    /// How many similar items.
    #[arg(long, short = 'n', default_value_t = 10)]
    n: usize,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    signal: SignalArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// A fitted model with the data it was fitted on.
pub struct Fitted {
    pub dataset: Dataset,
    pub matrix: Interactions,
    pub model: Box<dyn Recommender>,
}

/// Fit `model` on everything in `ds`.
pub fn fit_all(ds: Dataset, model: &ModelArgs, signal: &SignalArgs) -> Result<Fitted> {
    let (name, params) = model.resolve()?;
    let mut opts = EvalOptions::new(&name, params);
    signal.apply(&mut opts)?;
    let matrix = train_matrix(&ds, &ds.interactions, &opts);
    let pb = progress::spinner(format!("fitting {}", opts.model));
    let m = build_model(
        &opts.model,
        &opts.params,
        &TrainData::new(&matrix, opts.explicit(&ds)).with_items(&ds.catalogue).with_events(&ds.interactions),
    )?;
    pb.finish_and_clear();
    Ok(Fitted { dataset: ds, matrix, model: m })
}

/// The model to answer with: loaded from a model file when `--model` names one (titles and
/// activity then come from the database when it exists), otherwise fitted on the database.
pub fn fitted_for(db: &Path, model: &ModelArgs, signal: &SignalArgs) -> Result<Fitted> {
    let name = model.name()?;
    let path = Path::new(&name);
    if !path.is_file() {
        return fit_all(load_db(db)?, model, signal);
    }
    if !model.set.is_empty() || model.params_file.is_some() {
        bail!("--set applies when fitting; {} was saved with its parameters", path.display());
    }
    let pb = progress::spinner(format!("loading {}", path.display()));
    let saved = daogou_modelfile::load(path)?;
    pb.finish_and_clear();
    let mut ds = Dataset { users: saved.users, items: saved.items, explicit: saved.explicit, ..Dataset::default() };
    ds.catalogue = ds.items.ids().iter().map(|id| Item::new(id.as_str())).collect();
    if db.exists() {
        let stored = load_db(db)?;
        for it in &stored.catalogue {
            if let Some(i) = ds.items.get(&it.id) {
                ds.catalogue[i as usize] = it.clone();
            }
        }
        for x in &stored.interactions {
            if let (Some(u), Some(i)) = (ds.users.get(stored.users.id(x.user)), ds.items.get(stored.items.id(x.item))) {
                ds.interactions.push(Interaction { user: u, item: i, ..*x });
            }
        }
    }
    Ok(Fitted { dataset: ds, matrix: saved.train, model: saved.model })
}

/// One recommendation with its reason.
pub struct Pick {
    pub item: u32,
    pub score: f32,
    pub reason: String,
}

/// The top `n` items for training user `user`, excluding what they already have, each
/// with a reason naming the history item that contributed most.
pub fn recommend_for(f: &Fitted, user: u32, n: usize) -> Vec<Pick> {
    let mut scores = vec![0f32; f.model.n_items()];
    f.model.score_user(user, &mut scores);
    let (items, values) = f.matrix.user_row(user);
    let history: Vec<(u32, f32)> = items.iter().copied().zip(values.iter().copied()).collect();
    let kinds = strongest_kinds(&f.dataset, user);
    top_k(&scores, n, |i| items.binary_search(&i).is_ok())
        .into_iter()
        .map(|(item, score)| {
            let reason = match f.model.explain(&history, item, 1).first() {
                Some(&(because, _)) => {
                    let verb = kinds.get(&because).map_or("interacted with", |k| k.verb());
                    format!("because you {verb} “{}”", f.dataset.title(because))
                }
                None if f.model.name() == "popularity" => "a bestseller in this shop".to_owned(),
                None => "popular with shoppers like you".to_owned(),
            };
            Pick { item, score, reason }
        })
        .collect()
}

/// For each item of a user's history, the strongest thing they did with it.
pub fn strongest_kinds(ds: &Dataset, user: u32) -> HashMap<u32, EventKind> {
    let mut out: HashMap<u32, EventKind> = HashMap::new();
    for it in ds.interactions.iter().filter(|it| it.user == user) {
        let e = out.entry(it.item).or_insert(it.kind);
        if it.kind.strength() > e.strength() {
            *e = it.kind;
        }
    }
    out
}

/// Users scored per matrix product in `--all-users`: a batch's scores (BATCH × items) stay
/// small enough for the cache-friendly top-k pass that follows.
const BATCH: usize = 128;

/// `--all-users`: the top `n` of every user into `out`; returns the users written.
fn recommend_all(f: &Fitted, n: usize, out: &Path) -> Result<usize> {
    let jsonl = match out.extension().and_then(|e| e.to_str()) {
        Some("jsonl") => true,
        Some("csv") => false,
        _ => bail!("--out {}: name the format by the extension, .csv or .jsonl", out.display()),
    };
    let (ds, model, matrix) = (&f.dataset, f.model.as_ref(), &f.matrix);
    let (n_users, n_items) = (ds.users.len(), model.n_items());
    let file = std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut w = std::io::BufWriter::new(file);
    if !jsonl {
        w.write_all(b"user,rank,item,score\n")?;
    }
    let pb = progress::bar(n_users as u64, "top-N for every user");
    let users: Vec<u32> = (0..n_users as u32).collect();
    // blocks of batches in parallel, written in user order
    for block in users.chunks(BATCH * 16 * rayon::current_num_threads()) {
        let parts: Vec<Result<Vec<u8>>> = block
            .par_chunks(BATCH)
            .map_init(
                || vec![0f32; BATCH * n_items],
                |buf, batch| {
                    let buf = &mut buf[..batch.len() * n_items];
                    model.score_users(batch, buf);
                    let mut jsonl_text = Vec::new();
                    let mut csv_text = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
                    for (&u, scores) in batch.iter().zip(buf.chunks_exact(n_items)) {
                        let seen = if (u as usize) < matrix.n_users() { matrix.user_row(u).0 } else { &[] };
                        let top = top_k(scores, n, |i| seen.binary_search(&i).is_ok());
                        let user = ds.users.id(u);
                        if jsonl {
                            let items: Vec<&str> = top.iter().map(|&(i, _)| ds.items.id(i)).collect();
                            let scores: Vec<f32> = top.iter().map(|&(_, s)| s).collect();
                            serde_json::to_writer(
                                &mut jsonl_text,
                                &json!({"user": user, "items": items, "scores": scores}),
                            )?;
                            jsonl_text.push(b'\n');
                        } else {
                            for (rank, &(i, s)) in top.iter().enumerate() {
                                let (rank, score) = ((rank + 1).to_string(), s.to_string());
                                csv_text.write_record([user, rank.as_str(), ds.items.id(i), score.as_str()])?;
                            }
                        }
                    }
                    if jsonl {
                        return Ok(jsonl_text);
                    }
                    csv_text.into_inner().map_err(|e| anyhow!("{}", e.error()))
                },
            )
            .collect();
        for part in parts {
            w.write_all(&part?).with_context(|| format!("cannot write {}", out.display()))?;
        }
        pb.inc(block.len() as u64);
    }
    w.flush().with_context(|| format!("cannot write {}", out.display()))?;
    pb.finish_and_clear();
    Ok(n_users)
}

pub fn recommend(a: RecommendArgs) -> Result<()> {
    let fitted = fitted_for(&a.db, &a.model, &a.signal)?;
    if a.all_users {
        let out = a.out.as_deref().expect("clap requires --out with --all-users");
        let started = Instant::now();
        let users = recommend_all(&fitted, a.n, out)?;
        let seconds = started.elapsed().as_secs_f64();
        if a.json {
            let summary =
                json!({"model": fitted.model.name(), "users": users, "n": a.n, "out": out, "seconds": seconds});
            println!("{}", serde_json::to_string_pretty(&summary)?);
        } else {
            println!(
                "top {} for {users} users ({}) written to {} in {seconds:.2} s",
                a.n,
                fitted.model.name(),
                out.display()
            );
        }
        return Ok(());
    }
    let ds = &fitted.dataset;
    let a_user = a.user.as_deref().expect("clap requires --user without --all-users");
    let user = ds.users.get(a_user).ok_or_else(|| {
        let examples: Vec<&str> = ds.users.ids().iter().take(3).map(String::as_str).collect();
        anyhow!(
            "user `{}` is not in {} (user ids look like: {})",
            a_user,
            source_name(&a.db, &a.model),
            examples.join(", ")
        )
    })?;
    let picks = recommend_for(&fitted, user, a.n);
    let ds = &fitted.dataset;
    if a.json {
        let items: Vec<_> = picks
            .iter()
            .map(|p| json!({"item": ds.items.id(p.item), "title": ds.title(p.item), "score": p.score, "reason": p.reason}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"user": a_user, "model": fitted.model.name(), "items": items}))?
        );
    } else {
        println!("recommended for {} ({}):", a_user, fitted.model.name());
        for (rank, p) in picks.iter().enumerate() {
            println!("{:>3}. {}  {}  — {}", rank + 1, ds.items.id(p.item), ds.title(p.item), p.reason);
        }
    }
    Ok(())
}

/// The model file, or the database the model is fitted on.
fn source_name(db: &Path, model: &ModelArgs) -> String {
    match model.name() {
        Ok(name) if Path::new(&name).is_file() => name,
        _ => db.display().to_string(),
    }
}

pub fn similar(a: SimilarArgs) -> Result<()> {
    let fitted = fitted_for(&a.db, &a.model, &a.signal)?;
    let item = fitted
        .dataset
        .items
        .get(&a.item)
        .ok_or_else(|| anyhow!("item `{}` is not in {}", a.item, source_name(&a.db, &a.model)))?;
    let sims = fitted.model.similar_items(item, a.n).ok_or_else(|| {
        anyhow!("model {} has no notion of item similarity; use --model item-knn", fitted.model.name())
    })?;
    let ds = &fitted.dataset;
    if a.json {
        let items: Vec<_> =
            sims.iter().map(|&(i, s)| json!({"item": ds.items.id(i), "title": ds.title(i), "similarity": s})).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"item": a.item, "model": fitted.model.name(), "items": items}))?
        );
    } else {
        println!("similar to {} “{}”:", a.item, ds.title(item));
        for (rank, (i, s)) in sims.iter().enumerate() {
            println!("{:>3}. {}  {}  (similarity {:.3})", rank + 1, ds.items.id(*i), ds.title(*i), s);
        }
    }
    Ok(())
}
