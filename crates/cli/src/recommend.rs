//! `daogou recommend` and `daogou similar`: the answers a shop shows, through the same engine
//! as the service (`daogou serve`), so both give the same items in the same order with the same
//! reasons and the same default rules (in stock, no deleted items, nothing the user has).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use daogou_engine::{Blend, Engine, Filter, ForYou, LiveLimits, ModelSource, ModelSpec};
use daogou_store::{SqliteStore, StoreUrl};
use serde_json::json;

use crate::args::{open_existing, ModelArgs, SignalArgs, StoreArgs};
use crate::progress;

/// The list filters, as the service's query parameters.
#[derive(Args, Debug, Clone, Default)]
pub struct FilterArgs {
    /// Only this category (exact, or a path prefix: `Sports` matches `Sports/Running Shoes`).
    #[arg(long, value_name = "CATEGORY")]
    category: Option<String>,
    /// Only this brand.
    #[arg(long, value_name = "BRAND")]
    brand: Option<String>,
    /// Lowest price.
    #[arg(long, value_name = "PRICE")]
    min_price: Option<f64>,
    /// Highest price.
    #[arg(long, value_name = "PRICE")]
    max_price: Option<f64>,
    /// Item ids to leave out, comma-separated.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    exclude: Vec<String>,
    /// Also items that are unavailable or out of stock (default: only items in stock).
    #[arg(long)]
    include_unavailable: bool,
    /// Also items the user already has (rebuys).
    #[arg(long)]
    allow_repeat: bool,
}

impl FilterArgs {
    /// The engine's filter (the service's defaults for what is not given).
    pub fn filter(&self) -> Result<Filter> {
        for (flag, v) in [("--min-price", self.min_price), ("--max-price", self.max_price)] {
            if v.is_some_and(|p| !p.is_finite() || p < 0.0) {
                bail!("{flag} must be a finite number ≥ 0");
            }
        }
        if let (Some(lo), Some(hi)) = (self.min_price, self.max_price) {
            if lo > hi {
                bail!("--min-price must not exceed --max-price");
            }
        }
        let nonempty = |v: &Option<String>| v.clone().filter(|x| !x.is_empty());
        Ok(Filter {
            category: nonempty(&self.category),
            brand: nonempty(&self.brand),
            min_price: self.min_price,
            max_price: self.max_price,
            in_stock: !self.include_unavailable,
            exclude: self.exclude.iter().map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()).collect(),
            allow_repeat: self.allow_repeat,
        })
    }
}

#[derive(Args, Debug)]
pub struct RecommendArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The user's external id.
    #[arg(long, value_name = "ID", required_unless_present = "all_users", conflicts_with = "all_users")]
    user: Option<String>,
    /// Top-N for every user the model knows, written to --out (no reasons; users scored in
    /// parallel batches). The same filters apply.
    #[arg(long, requires = "out")]
    all_users: bool,
    /// With --all-users: the output file, by its extension: .csv with the header
    /// `user,rank,item,score` (one row per recommendation); .parquet with the same columns
    /// (user: string, rank: uint32 from 1, item: string, score: float32); .jsonl with one line
    /// `{"user", "items", "scores"}` per user.
    #[arg(long, value_name = "FILE", requires = "all_users")]
    out: Option<PathBuf>,
    /// How many recommendations.
    #[arg(long, short = 'n', default_value_t = 10)]
    n: usize,
    #[command(flatten)]
    filter: FilterArgs,
    /// Share of the score from the user's current session (their events in the last
    /// --session-hours), as the service's `session_weight`; 0: the whole history alone.
    #[arg(long, value_name = "W", default_value_t = daogou_engine::DEFAULT_SESSION_WEIGHT, value_parser = share)]
    session_weight: f32,
    /// How far back the current session reaches, in hours (the service's `session_hours`).
    #[arg(long, value_name = "H", default_value_t = daogou_engine::DEFAULT_SESSION_HOURS)]
    session_hours: f32,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    signal: SignalArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// A number between 0 and 1.
fn share(v: &str) -> std::result::Result<f32, String> {
    v.parse::<f32>()
        .ok()
        .filter(|x| (0.0..=1.0).contains(x))
        .ok_or_else(|| format!("`{v}` is not a number between 0 and 1"))
}

#[derive(Args, Debug)]
pub struct SimilarArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The item's external id.
    #[arg(long, value_name = "ID")]
    item: String,
    /// How many similar items.
    #[arg(long, short = 'n', default_value_t = 10)]
    n: usize,
    #[command(flatten)]
    filter: FilterArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    signal: SignalArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// The engine on `db` with the model of `--model`: a model file is loaded (checked against
/// the database when it exists; without one it answers from the file alone), a model name is
/// fitted on the database.
pub fn open_engine(url: &StoreUrl, model: &ModelArgs, signal: &SignalArgs) -> Result<Engine> {
    let (name, params) = model.resolve()?;
    let path = Path::new(&name);
    let source = if path.is_file() {
        if !model.set.is_empty() || model.params_file.is_some() || signal.is_set() {
            bail!("--set, --params and the signal flags apply when fitting; {} was saved with its own", path.display());
        }
        ModelSource::File(path.to_owned())
    } else {
        ModelSource::Fit(ModelSpec { name, params, signal: signal.signal()? })
    };
    // a model file answers alone when its SQLite database does not exist
    let store = match url.sqlite_path() {
        Some(db) if !db.exists() && matches!(source, ModelSource::File(_)) => SqliteStore::open_in_memory()?.into(),
        _ => open_existing(url)?,
    };
    let pb = progress::spinner(match &source {
        ModelSource::File(p) => format!("loading {}", p.display()),
        ModelSource::Fit(spec) => format!("fitting {} on {url}", spec.name),
    });
    let engine = Engine::open(store, &source, LiveLimits::default()).context("cannot prepare the model")?;
    pb.finish_and_clear();
    for w in &engine.snapshot().warnings {
        eprintln!("warning: {w}");
    }
    Ok(engine)
}

/// The formats of `--all-users --out`, named by the file's extension.
enum OutFormat {
    Csv,
    Jsonl,
    Parquet,
}

/// The Parquet schema of `--all-users --out FILE.parquet`: one row per recommendation, the
/// CSV's columns with types.
fn recommendations_schema() -> arrow_schema::SchemaRef {
    use arrow_schema::{DataType, Field, Schema};
    std::sync::Arc::new(Schema::new(vec![
        Field::new("user", DataType::Utf8, false),
        Field::new("rank", DataType::UInt32, false),
        Field::new("item", DataType::Utf8, false),
        Field::new("score", DataType::Float32, false),
    ]))
}

/// `--all-users`: the top `n` of every user into `out`; returns the users written.
fn recommend_all(engine: &Engine, filter: &Filter, n: usize, out: &Path) -> Result<usize> {
    let format = match out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("jsonl") => OutFormat::Jsonl,
        Some("csv") => OutFormat::Csv,
        Some("parquet") => OutFormat::Parquet,
        _ => bail!("--out {}: name the format by the extension, .csv, .jsonl or .parquet", out.display()),
    };
    let snap = engine.snapshot();
    let cat = engine.catalogue();
    let file = std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut w = std::io::BufWriter::new(file);
    if let OutFormat::Csv = format {
        w.write_all(b"user,rank,item,score\n")?;
    }
    // Parquet owns the file while writing; the text formats write to it directly.
    let (mut text, mut parquet) = match format {
        OutFormat::Parquet => {
            let props = parquet::file::properties::WriterProperties::builder()
                .set_compression(parquet::basic::Compression::SNAPPY)
                .build();
            (None, Some(parquet::arrow::ArrowWriter::try_new(w, recommendations_schema(), Some(props))?))
        }
        _ => (Some(w), None),
    };
    let pb = progress::bar(snap.users.len() as u64, "top-N for every user");
    let mut csv_text = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    let mut written = 0;
    daogou_engine::lists::all_users(&snap, &cat, filter, n, |batch| -> Result<()> {
        written += batch.len();
        match format {
            OutFormat::Jsonl => {
                let w = text.as_mut().expect("a text writer for .jsonl");
                for (u, top) in batch {
                    let items: Vec<&str> = top.iter().map(|&(i, _)| cat.get(i).id.as_str()).collect();
                    let scores: Vec<f32> = top.iter().map(|&(_, s)| s).collect();
                    serde_json::to_writer(
                        &mut *w,
                        &json!({"user": snap.users.id(*u), "items": items, "scores": scores}),
                    )?;
                    w.write_all(b"\n")?;
                }
            }
            OutFormat::Csv => {
                for (u, top) in batch {
                    let user = snap.users.id(*u);
                    for (rank, &(i, s)) in top.iter().enumerate() {
                        let (rank, score) = ((rank + 1).to_string(), s.to_string());
                        csv_text.write_record([user, rank.as_str(), cat.get(i).id.as_str(), score.as_str()])?;
                    }
                }
                let rows = std::mem::replace(
                    &mut csv_text,
                    csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new()),
                );
                let w = text.as_mut().expect("a text writer for .csv");
                w.write_all(&rows.into_inner().map_err(|e| anyhow!("{}", e.error()))?)?;
            }
            OutFormat::Parquet => {
                use arrow_array::builder::{Float32Builder, StringBuilder, UInt32Builder};
                let rows: usize = batch.iter().map(|(_, top)| top.len()).sum();
                let (mut users, mut items) = (StringBuilder::new(), StringBuilder::new());
                let (mut ranks, mut scores) = (UInt32Builder::with_capacity(rows), Float32Builder::with_capacity(rows));
                for (u, top) in batch {
                    let user = snap.users.id(*u);
                    for (rank, &(i, s)) in top.iter().enumerate() {
                        users.append_value(user);
                        ranks.append_value(rank as u32 + 1);
                        items.append_value(&cat.get(i).id);
                        scores.append_value(s);
                    }
                }
                let columns: Vec<arrow_array::ArrayRef> = vec![
                    std::sync::Arc::new(users.finish()),
                    std::sync::Arc::new(ranks.finish()),
                    std::sync::Arc::new(items.finish()),
                    std::sync::Arc::new(scores.finish()),
                ];
                let rb = arrow_array::RecordBatch::try_new(recommendations_schema(), columns)?;
                parquet.as_mut().expect("a Parquet writer for .parquet").write(&rb)?;
            }
        }
        pb.inc(batch.len() as u64);
        Ok(())
    })
    .with_context(|| format!("cannot write {}", out.display()))?;
    let mut w = match (text, parquet) {
        (Some(w), _) => w,
        (None, Some(p)) => p.into_inner().with_context(|| format!("cannot write {}", out.display()))?,
        (None, None) => unreachable!("one writer per format"),
    };
    w.flush().with_context(|| format!("cannot write {}", out.display()))?;
    pb.finish_and_clear();
    Ok(written)
}

pub fn recommend(a: RecommendArgs) -> Result<()> {
    let filter = a.filter.filter()?;
    let engine = open_engine(&a.store.url()?, &a.model, &a.signal)?;
    let snap = engine.snapshot();
    if a.all_users {
        let out = a.out.as_deref().expect("clap requires --out with --all-users");
        let started = Instant::now();
        let users = recommend_all(&engine, &filter, a.n, out)?;
        let seconds = started.elapsed().as_secs_f64();
        if a.json {
            let summary = json!({"model": snap.model_name(), "users": users, "n": a.n, "out": out, "seconds": seconds});
            println!("{}", serde_json::to_string_pretty(&summary)?);
        } else {
            println!(
                "top {} for {users} users ({}) written to {} in {seconds:.2} s",
                a.n,
                snap.model_name(),
                out.display()
            );
        }
        return Ok(());
    }
    let user = a.user.as_deref().expect("clap requires --user without --all-users");
    let h = engine.history(&snap, user);
    if h.user.is_none() && engine.store().user_events(user)?.is_empty() {
        let examples: Vec<&str> = snap.users.ids().iter().take(3).map(String::as_str).collect();
        bail!(
            "user `{user}` is not in {} (user ids look like: {})",
            source_name(&a.store, &a.model),
            examples.join(", ")
        );
    }
    if h.user.is_none() {
        eprintln!("note: the model does not know `{user}` yet (retrain to include their events): popular items");
    }
    if !(a.session_hours >= 0.0 && a.session_hours <= 168.0) {
        bail!("--session-hours: {} is not between 0 and 168", a.session_hours);
    }
    let blend = Blend { session_weight: a.session_weight, session_hours: a.session_hours, ..Blend::default() };
    let picks = engine.for_you(&snap, &h, &filter, &blend, a.n);
    if a.json {
        let answer = ForYou {
            user,
            model: snap.model_name(),
            model_version: snap.version,
            known_user: h.user.is_some(),
            realtime: h.fresh,
            items: &picks,
            experiment: None,
        };
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        println!("recommended for {user} ({}):", snap.model_name());
        for (rank, p) in picks.iter().enumerate() {
            println!("{:>3}. {}  {}  — {}", rank + 1, p.item, p.title, p.reason);
        }
    }
    Ok(())
}

/// The model file, or the database the model is fitted on.
fn source_name(store: &StoreArgs, model: &ModelArgs) -> String {
    match (model.name(), store.url()) {
        (Ok(name), _) if Path::new(&name).is_file() => name,
        (_, Ok(StoreUrl::Sqlite(db))) => db.display().to_string(),
        (_, Ok(url)) => url.to_string(),
        (_, Err(_)) => "the store".into(),
    }
}

pub fn similar(a: SimilarArgs) -> Result<()> {
    let filter = a.filter.filter()?;
    let engine = open_engine(&a.store.url()?, &a.model, &a.signal)?;
    let snap = engine.snapshot();
    let picks = engine.similar(&snap, &a.item, &filter, a.n).map_err(|e| match e {
        daogou_engine::Error::UnknownItem(_) => {
            anyhow!("item `{}` is not in {}", a.item, source_name(&a.store, &a.model))
        }
        e => e.into(),
    })?;
    if a.json {
        let out = json!({"item": a.item, "model": snap.model_name(), "model_version": snap.version, "items": picks});
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let title = engine.item(&a.item).map_or_else(|| a.item.clone(), |it| it.display_title().to_owned());
        println!("similar to {} “{title}”:", a.item);
        for (rank, p) in picks.iter().enumerate() {
            println!("{:>3}. {}  {}  ({:.3}; {})", rank + 1, p.item, p.title, p.score, p.reason);
        }
    }
    Ok(())
}
