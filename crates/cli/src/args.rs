//! Arguments shared by several subcommands: where the data comes from, which model.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use daogou_core::{Dataset, EventColumns, Interaction, Params};
use daogou_data::{load_columns_into, load_into, ColumnMapping, Format, LoadOptions, LoadReport, Signal};
use daogou_eval::EvalOptions;
use daogou_store::{Store, StoreUrl};

use crate::progress;

/// The default embedded database.
pub const DEFAULT_DB: &str = "daogou.db";

/// Where the interactions come from.
#[derive(Args, Debug, Clone)]
pub struct SourceArgs {
    /// One events file (split it with --split or --folds). CSV, TSV or JSONL, optionally .gz.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["train", "test"])]
    pub data: Option<PathBuf>,
    /// Training events file (with --test: a given train/test split, e.g. MovieLens u1.base).
    #[arg(long, value_name = "FILE", requires = "test")]
    pub train: Option<PathBuf>,
    /// Test events file (with --train).
    #[arg(long, value_name = "FILE", requires = "train")]
    pub test: Option<PathBuf>,
    /// Read from this SQLite database instead of files [default when no file is given:
    /// ./daogou.db]; the same as --store sqlite:PATH.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["data", "train", "store"])]
    pub db: Option<PathBuf>,
    /// Read from this store instead of files: sqlite:PATH or postgres://user@host:port/db.
    #[arg(long, value_name = "URL", conflicts_with_all = ["data", "train"])]
    pub store: Option<String>,
    /// File format: movielens (u.data: user item rating timestamp, tab-separated), online-retail
    /// (the UCI Online Retail CSV), csv (header line naming columns), jsonl.
    #[arg(long, short = 'f', default_value = "csv", value_name = "FORMAT")]
    pub format: Format,
    /// Column mapping for csv/jsonl, e.g. "user=CustomerID,item=StockCode,value=Quantity,timestamp=InvoiceDate".
    #[arg(long, value_name = "SPEC")]
    pub mapping: Option<String>,
    /// Column mapping from a config file (lines `user = "CustomerID"`).
    #[arg(long, value_name = "FILE", conflicts_with = "mapping")]
    pub mapping_file: Option<PathBuf>,
    /// Stop at the first malformed row (FILE:LINE: field …) instead of skipping it.
    #[arg(long)]
    pub strict: bool,
}

/// A loaded dataset, and where the given test set starts when --train/--test were used.
pub struct Loaded {
    pub dataset: Dataset,
    pub given_test: Option<std::ops::Range<usize>>,
}

impl SourceArgs {
    pub fn load_options(&self) -> Result<LoadOptions> {
        let mut opts = LoadOptions::new(self.format);
        opts.strict = self.strict;
        if let Some(spec) = &self.mapping {
            opts.mapping = ColumnMapping::parse(spec).context("--mapping")?;
        }
        if let Some(path) = &self.mapping_file {
            opts.mapping =
                ColumnMapping::from_file(path).with_context(|| format!("--mapping-file {}", path.display()))?;
        }
        Ok(opts)
    }

    /// Where the data comes from, in words (for model manifests).
    pub fn describe(&self) -> String {
        match (&self.data, &self.train) {
            (Some(p), _) | (None, Some(p)) => format!("{} ({})", p.display(), self.format),
            _ => match store_url(self.store.as_deref(), self.db.as_deref()) {
                Ok(StoreUrl::Sqlite(p)) => format!("database {}", p.display()),
                Ok(url) => format!("database {url}"),
                Err(_) => "database".into(),
            },
        }
    }

    /// Load the dataset from the files or the database.
    pub fn load(&self) -> Result<Loaded> {
        let opts = self.load_options()?;
        let mut ds = Dataset::default();
        if let (Some(train), Some(test)) = (&self.train, &self.test) {
            load_file(&mut ds, train, &opts)?;
            let (range, _) = load_file(&mut ds, test, &opts)?;
            return Ok(Loaded { dataset: ds, given_test: Some(range) });
        }
        if let Some(data) = self.data.as_ref().or(self.train.as_ref()) {
            load_file(&mut ds, data, &opts)?;
            return Ok(Loaded { dataset: ds, given_test: None });
        }
        let url = store_url(self.store.as_deref(), self.db.as_deref())?;
        Ok(Loaded { dataset: load_store(&url)?, given_test: None })
    }

    /// Load the file or the database the compact way, for a fit that needs only the matrix:
    /// ids and catalogue in the dataset (no interactions, `explicit` set), events in columns
    /// (times only when `keep_time`). Not for --train/--test.
    pub fn load_columns(&self, keep_time: bool) -> Result<(Dataset, EventColumns)> {
        let opts = self.load_options()?;
        if let Some(data) = &self.data {
            let (mut ds, mut columns) = (Dataset::default(), EventColumns::new(keep_time));
            let pb = progress::spinner(format!("reading {}", data.display()));
            let report = load_columns_into(&mut ds, &mut columns, data, &opts)
                .with_context(|| format!("cannot load {}", data.display()))?;
            pb.finish_and_clear();
            report_skips(&report);
            columns.shrink_to_fit();
            ds.explicit = columns.all_ratings();
            return Ok((ds, columns));
        }
        let url = store_url(self.store.as_deref(), self.db.as_deref())?;
        let store = open_existing(&url)?;
        let pb = progress::spinner(format!("loading {url}"));
        let out = store.load_columns(keep_time).with_context(|| format!("cannot read database {url}"))?;
        pb.finish_and_clear();
        Ok(out)
    }
}

fn load_file(ds: &mut Dataset, path: &Path, opts: &LoadOptions) -> Result<(std::ops::Range<usize>, LoadReport)> {
    let pb = progress::spinner(format!("reading {}", path.display()));
    let out = load_into(ds, path, opts).with_context(|| format!("cannot load {}", path.display()))?;
    pb.finish_and_clear();
    report_skips(&out.1);
    Ok(out)
}

/// Tell the user (on stderr) what was skipped and why.
pub fn report_skips(r: &LoadReport) {
    let skipped: u64 = r.skipped.values().sum();
    if skipped > 0 {
        let reasons: Vec<String> = r.skipped.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        eprintln!("{}: skipped {skipped} of {} lines ({})", r.file, r.lines, reasons.join(", "));
    }
}

/// Load everything a store holds.
pub fn load_store(url: &StoreUrl) -> Result<Dataset> {
    let store = open_existing(url)?;
    let pb = progress::spinner(format!("loading {url}"));
    let ds = store.load_dataset().with_context(|| format!("cannot read database {url}"))?;
    pb.finish_and_clear();
    Ok(ds)
}

/// The store of `--store URL` or `--db PATH` (the same as `--store sqlite:PATH`), by default
/// `sqlite:daogou.db`.
pub fn store_url(store: Option<&str>, db: Option<&Path>) -> Result<StoreUrl> {
    match (store, db) {
        (Some(s), _) => StoreUrl::parse(s).context("--store"),
        (None, Some(p)) => Ok(StoreUrl::Sqlite(p.to_owned())),
        (None, None) => Ok(StoreUrl::Sqlite(PathBuf::from(DEFAULT_DB))),
    }
}

/// Open an existing store, saying how to make one when a SQLite file is missing.
pub fn open_existing(url: &StoreUrl) -> Result<Box<dyn Store>> {
    if let StoreUrl::Sqlite(db) = url {
        if !db.exists() {
            bail!(
                "database {} does not exist; create it with `daogou import FILE --db {}` or `daogou demo`",
                db.display(),
                db.display()
            );
        }
    }
    daogou_store::open(url).with_context(|| format!("cannot open database {url}"))
}

/// Where a command's data lives: `--store URL` or `--db PATH`.
#[derive(Args, Debug, Clone, Default)]
pub struct StoreArgs {
    /// The store: sqlite:PATH (the embedded default, sqlite:daogou.db) or
    /// postgres://user@host:port/db (shared by several servers and trainers).
    #[arg(long, value_name = "URL", env = "DAOGOU_STORE")]
    pub store: Option<String>,
    /// SQLite database file: the same as --store sqlite:PATH.
    #[arg(long, value_name = "PATH", conflicts_with = "store")]
    pub db: Option<PathBuf>,
}

impl StoreArgs {
    /// The store URL these flags name.
    pub fn url(&self) -> Result<StoreUrl> {
        store_url(self.store.as_deref(), self.db.as_deref())
    }
}

/// Which model and its hyperparameters.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// Model name (`daogou models` lists them with their parameters; default item-knn, or the
    /// model of --params); for recommend and similar also a model file written by
    /// `daogou train --out FILE`.
    #[arg(long, short = 'm', value_name = "NAME|FILE")]
    pub model: Option<String>,
    /// A model parameter, repeatable: --set k=40 --set similarity=pearson.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Parameters from a file written by `daogou tune --out FILE` (`model = "…"` and
    /// `key = "value"` lines); --set overrides them.
    #[arg(long = "params", value_name = "FILE")]
    pub params_file: Option<PathBuf>,
}

/// A parameter file: its model and parameters.
pub struct ParamsFile {
    pub model: Option<String>,
    pub params: Vec<(String, String)>,
}

/// Read `model = "…"` and `key = "value"` lines (the syntax of [`daogou_core::kv`]).
pub fn read_params_file(path: &Path) -> Result<ParamsFile> {
    let mut out = ParamsFile { model: None, params: Vec::new() };
    for l in daogou_core::kv::read_kv_file(path).map_err(anyhow::Error::msg)? {
        match l.key.as_str() {
            "model" => out.model = Some(l.value),
            _ => out.params.push((l.key, l.value)),
        }
    }
    Ok(out)
}

impl ModelArgs {
    /// The model name (or model file path) and its parameters: the --params file (read once),
    /// then --set on top.
    pub fn resolve(&self) -> Result<(String, Params)> {
        let file = self.params_file.as_deref().map(read_params_file).transpose()?;
        let (file_model, file_params) = file.map_or((None, Vec::new()), |f| (f.model, f.params));
        let name = match (&self.model, file_model) {
            (Some(m), Some(fm)) if &fm != m => {
                let path = self.params_file.as_ref().expect("a file was read").display();
                bail!("{path} holds parameters for {fm}, not {m}");
            }
            (Some(m), _) => m.clone(),
            (None, fm) => fm.unwrap_or_else(|| "item-knn".to_owned()),
        };
        let mut p = Params::new();
        for (k, v) in file_params {
            p.set(&k, v);
        }
        for (k, v) in Params::parse(self.set.iter().map(String::as_str)).context("--set")?.iter() {
            p.set(k, v);
        }
        Ok((name, p))
    }

    /// The model name (or model file path).
    pub fn name(&self) -> Result<String> {
        Ok(self.resolve()?.0)
    }
}

/// How behaviour becomes training signal.
#[derive(Args, Debug, Clone)]
pub struct SignalArgs {
    /// Event-type weights for implicit data, e.g. "view=1,click=2,add_to_cart=4,purchase=8".
    #[arg(long, value_name = "SPEC")]
    pub weights: Option<String>,
    /// Treat ratings as implicit feedback: drop training ratings below this value.
    #[arg(long, value_name = "T")]
    pub positive_threshold: Option<f32>,
    /// Time decay for implicit data: an event loses half its weight every DAYS days before the
    /// latest training event.
    #[arg(long, value_name = "DAYS")]
    pub half_life: Option<f64>,
}

impl SignalArgs {
    /// The signal the flags describe.
    pub fn signal(&self) -> Result<Signal> {
        Signal::from_options(self.weights.as_deref(), self.positive_threshold, self.half_life)
            .context("--weights / --positive-threshold / --half-life")
    }

    /// True when any signal flag was given.
    pub fn is_set(&self) -> bool {
        self.weights.is_some() || self.positive_threshold.is_some() || self.half_life.is_some()
    }

    /// Set the signal of `opts` from the flags.
    pub fn apply(&self, opts: &mut EvalOptions) -> Result<()> {
        opts.signal = self.signal()?;
        Ok(())
    }
}

/// The interactions of a dataset, with the given test part removed.
pub fn split_given(ds: &Dataset, test: &std::ops::Range<usize>) -> (Vec<Interaction>, Vec<Interaction>) {
    let all = &ds.interactions;
    let mut train = all[..test.start].to_vec();
    train.extend_from_slice(&all[test.end..]);
    (train, all[test.clone()].to_vec())
}
