//! `daogou recommend` and `daogou similar`: the answers a shop shows.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};
use clap::Args;
use daogou_algo::{build_model, topk::top_k, Recommender, TrainData};
use daogou_core::{Dataset, EventKind, Interaction, Interactions, Item};
use daogou_eval::protocol::train_matrix;
use daogou_eval::EvalOptions;
use serde_json::json;

use crate::args::{load_db, ModelArgs, SignalArgs, DEFAULT_DB};
use crate::progress;

#[derive(Args, Debug)]
pub struct RecommendArgs {
    /// Database file.
    #[arg(long, default_value = DEFAULT_DB, value_name = "PATH")]
    db: PathBuf,
    /// The user's external id.
    #[arg(long, value_name = "ID")]
    user: String,
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

pub fn recommend(a: RecommendArgs) -> Result<()> {
    let fitted = fitted_for(&a.db, &a.model, &a.signal)?;
    let ds = &fitted.dataset;
    let user = ds.users.get(&a.user).ok_or_else(|| {
        let examples: Vec<&str> = ds.users.ids().iter().take(3).map(String::as_str).collect();
        anyhow!(
            "user `{}` is not in {} (user ids look like: {})",
            a.user,
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
            serde_json::to_string_pretty(&json!({"user": a.user, "model": fitted.model.name(), "items": items}))?
        );
    } else {
        println!("recommended for {} ({}):", a.user, fitted.model.name());
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
