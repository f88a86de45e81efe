//! `daogou._daogou`: the native core of the `daogou` Python package (PyO3).
//!
//! Thin over the library crates, the way the command line is: data in through `daogou-data`
//! (the same readers, presets and splits), fits and answers through `daogou-engine`'s
//! [`Snapshot`] and lists (the same filters as `daogou recommend` and the service), model
//! files through `daogou-modelfile`, evaluation and tuning through `daogou-eval`. The Python
//! layer (`python/daogou/__init__.py`) turns pandas and scipy objects into the flat arrays
//! taken here and numpy arrays back into ids.
//!
//! Every long call (fits, evaluation, tuning, batch answers) runs with the GIL released
//! (`Python::detach`), on a rayon pool of `num_threads` threads when one is given.
#![warn(missing_docs)]

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use daogou_core::{Dataset, EventKind, IdMap, Interaction, Item, Params};
use daogou_data::{cold_items, k_fold, split as split_events, ColumnMapping, Format, LoadOptions, Signal, Split};
use daogou_engine::{lists, Blend, Catalogue, Filter, History, ModelSpec, Snapshot};
use daogou_eval::tune::{grid_settings, parse_grid, random_settings, search, setting_params, with_seed, Grid};
use daogou_eval::{evaluate_cold_split, EvalOptions, Progress};
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rayon::prelude::*;
use serde_json::{json, Value};

pyo3::create_exception!(
    _daogou,
    DaogouError,
    PyValueError,
    "An error of daogou, with the command line's message (FILE:LINE for bad input)."
);

fn err(msg: impl std::fmt::Display) -> PyErr {
    DaogouError::new_err(msg.to_string())
}

/// Run `f` on a pool of `threads` threads (the global rayon pool when `None` or 0).
fn on_threads<T: Send>(threads: Option<usize>, f: impl FnOnce() -> T + Send) -> PyResult<T> {
    match threads {
        None | Some(0) => Ok(f()),
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| err(format!("cannot start {n} threads: {e}")))?;
            Ok(pool.install(f))
        }
    }
}

/// Progress lines written to Python's `sys.stderr` (shown in notebooks), at most twice a
/// second, when `verbose`; nothing otherwise.
#[derive(Clone)]
struct Say {
    verbose: bool,
    last: Arc<Mutex<Option<Instant>>>,
}

impl Say {
    fn new(verbose: bool) -> Self {
        Say { verbose, last: Arc::new(Mutex::new(None)) }
    }

    /// Write `line` now (`force`) or when the last line is half a second old.
    fn line(&self, line: &str, force: bool) {
        if !self.verbose {
            return;
        }
        {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            if !force && last.is_some_and(|t| t.elapsed() < Duration::from_millis(500)) {
                return;
            }
            *last = Some(Instant::now());
        }
        Python::attach(|py| {
            let written = py
                .import("sys")
                .and_then(|sys| sys.getattr("stderr"))
                .and_then(|e| e.call_method1("write", (format!("{line}\n"),)));
            if let Err(e) = written {
                e.print(py);
            }
        });
    }

    /// The evaluation protocol's progress hook.
    fn hook(&self, prefix: String) -> Progress {
        if !self.verbose {
            return Progress(None);
        }
        let say = self.clone();
        Progress(Some(Arc::new(move |stage: &str, done: u64, total: u64| {
            say.line(&format!("{prefix}{stage} {done}/{total}"), done == total && total > 0);
        })))
    }
}

/// Ids that are all integers written the canonical way (`17`, not `017`): answers give them
/// back as `int64` arrays.
fn numeric_ids(ids: &IdMap) -> Option<Vec<i64>> {
    ids.ids().iter().map(|s| s.parse::<i64>().ok().filter(|x| x.to_string() == *s)).collect()
}

/// Interactions with their id maps: a loaded file, a DataFrame or a CSR matrix, or one part
/// of a split of one (the parts share the whole's ids, as the command line's splits do).
#[pyclass(frozen, module = "daogou._daogou")]
struct Data {
    ds: Arc<Dataset>,
    /// This part's interactions (a split); `None`: all of `ds`.
    part: Option<Arc<Vec<Interaction>>>,
    /// The held-out items of a cold-items split (on the test part).
    cold: Arc<Vec<u32>>,
    /// Where the data came from, in the command line's words (model manifests).
    source: String,
}

impl Data {
    fn whole(ds: Dataset, source: String) -> Data {
        Data { ds: Arc::new(ds), part: None, cold: Arc::new(Vec::new()), source }
    }

    fn interactions(&self) -> &[Interaction] {
        self.part.as_deref().map_or(&self.ds.interactions, |p| p.as_slice())
    }

    /// The dataset to fit on: the whole, or the ids and catalogue with this part's events.
    fn training(&self) -> Cow<'_, Dataset> {
        match &self.part {
            None => Cow::Borrowed(&self.ds),
            Some(p) => Cow::Owned(Dataset {
                users: self.ds.users.clone(),
                items: self.ds.items.clone(),
                catalogue: self.ds.catalogue.clone(),
                interactions: p.as_ref().clone(),
                explicit: self.ds.explicit,
            }),
        }
    }
}

fn load_options(format: &str, mapping: Option<&str>, strict: bool) -> PyResult<LoadOptions> {
    let format: Format = format.parse().map_err(err)?;
    let mut opts = LoadOptions::new(format);
    opts.strict = strict;
    if let Some(spec) = mapping {
        opts.mapping = ColumnMapping::parse(spec).map_err(|e| err(format!("--mapping: {e}")))?;
    }
    Ok(opts)
}

fn load_file(ds: &mut Dataset, path: &Path, opts: &LoadOptions) -> PyResult<std::ops::Range<usize>> {
    let (range, report) =
        daogou_data::load_into(ds, path, opts).map_err(|e| err(format!("cannot load {}: {e}", path.display())))?;
    let skipped: u64 = report.skipped.values().sum();
    if skipped > 0 {
        let reasons: Vec<String> = report.skipped.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        Python::attach(|py| {
            let msg = format!("{}: skipped {skipped} of {} lines ({})", report.file, report.lines, reasons.join(", "));
            let warned = py
                .import("warnings")
                .and_then(|w| w.call_method1("warn", (msg, py.get_type::<pyo3::exceptions::PyUserWarning>())));
            if let Err(e) = warned {
                e.print(py);
            }
        });
    }
    Ok(range)
}

/// Codes (0-based, -1 = missing) from numpy into `u32` indices below `n`.
fn indices(codes: &[i64], n: usize, what: &str) -> PyResult<Vec<u32>> {
    codes
        .iter()
        .enumerate()
        .map(|(row, &c)| {
            if c < 0 || c as usize >= n {
                Err(err(format!("row {row}: missing or invalid {what}")))
            } else {
                Ok(c as u32)
            }
        })
        .collect()
}

fn id_map(ids: Vec<String>, what: &str) -> PyResult<IdMap> {
    let n = ids.len();
    let map: IdMap = ids.into_iter().collect();
    if map.len() != n {
        return Err(err(format!("{what} ids collide once written as text (e.g. 1 and \"1\")")));
    }
    Ok(map)
}

#[pymethods]
impl Data {
    /// Events from columns: user and item codes (first appearance order, as
    /// `pandas.factorize` gives them) with their ids, and optional values, unix-second
    /// timestamps and kind codes with the kind names.
    #[staticmethod]
    #[pyo3(signature = (user_codes, user_ids, item_codes, item_ids, values=None, timestamps=None, kind_codes=None, kind_names=None, source="pandas DataFrame".to_owned()))]
    #[allow(clippy::too_many_arguments)]
    fn from_codes(
        py: Python<'_>,
        user_codes: PyReadonlyArray1<'_, i64>,
        user_ids: Vec<String>,
        item_codes: PyReadonlyArray1<'_, i64>,
        item_ids: Vec<String>,
        values: Option<PyReadonlyArray1<'_, f32>>,
        timestamps: Option<PyReadonlyArray1<'_, i64>>,
        kind_codes: Option<PyReadonlyArray1<'_, i64>>,
        kind_names: Option<Vec<String>>,
        source: String,
    ) -> PyResult<Data> {
        let users = user_codes.as_slice().map_err(err)?;
        let items = item_codes.as_slice().map_err(err)?;
        let n = users.len();
        if items.len() != n {
            return Err(err(format!("{n} users but {} items", items.len())));
        }
        let values = values.as_ref().map(|v| v.as_slice().map_err(err)).transpose()?;
        let times = timestamps.as_ref().map(|v| v.as_slice().map_err(err)).transpose()?;
        let kinds = kind_codes.as_ref().map(|v| v.as_slice().map_err(err)).transpose()?;
        for (what, len) in [("values", values.map(<[f32]>::len)), ("timestamps", times.map(<[i64]>::len))] {
            if len.is_some_and(|l| l != n) {
                return Err(err(format!("{what}: {} rows, expected {n}", len.unwrap_or(0))));
            }
        }
        // kinds by name, as the readers parse them
        let kind_of: Option<Vec<EventKind>> = kind_names
            .map(|names| {
                names
                    .iter()
                    .map(|s| s.trim().parse::<EventKind>().map_err(|e| err(format!("kind `{s}`: {e}"))))
                    .collect::<PyResult<Vec<_>>>()
            })
            .transpose()?;
        // without a kind column: a value column means ratings, none means purchases (as csv)
        let default_kind = if values.is_some() { EventKind::Rating } else { EventKind::Purchase };
        let users = indices(users, user_ids.len(), "user")?;
        let items = indices(items, item_ids.len(), "item")?;
        let kinds: Vec<EventKind> = match (kinds, &kind_of) {
            (Some(codes), Some(names)) => {
                indices(codes, names.len(), "kind")?.into_iter().map(|c| names[c as usize]).collect()
            }
            _ => Vec::new(),
        };
        let ds = py.detach(|| -> PyResult<Dataset> {
            let mut ds = Dataset { users: id_map(user_ids, "user")?, ..Dataset::default() };
            ds.items = id_map(item_ids, "item")?;
            ds.catalogue = ds.items.ids().iter().map(Item::new).collect();
            ds.interactions = (0..n)
                .map(|r| Interaction {
                    user: users[r],
                    item: items[r],
                    value: values.map_or(1.0, |v| v[r]),
                    timestamp: times.map_or(0, |t| t[r]),
                    kind: kinds.get(r).copied().unwrap_or(default_kind),
                })
                .collect();
            ds.explicit = n > 0 && ds.interactions.iter().all(|x| x.kind == EventKind::Rating);
            Ok(ds)
        })?;
        Ok(Data::whole(ds, source))
    }

    /// A users × items CSR matrix (scipy's `indptr`, `indices`, `data`): row `r` is user `r`,
    /// column `c` item `c` (ids `"r"`, `"c"`), every stored value one event of `kind`.
    #[staticmethod]
    #[pyo3(signature = (indptr, indices, data, n_rows, n_cols, kind="purchase"))]
    fn from_csr(
        py: Python<'_>,
        indptr: PyReadonlyArray1<'_, i64>,
        indices: PyReadonlyArray1<'_, i64>,
        data: PyReadonlyArray1<'_, f32>,
        n_rows: usize,
        n_cols: usize,
        kind: &str,
    ) -> PyResult<Data> {
        let kind: EventKind = kind.parse().map_err(|e| err(format!("kind `{kind}`: {e}")))?;
        let (indptr, cols, vals) =
            (indptr.as_slice().map_err(err)?, indices.as_slice().map_err(err)?, data.as_slice().map_err(err)?);
        if indptr.len() != n_rows + 1 || cols.len() != vals.len() || indptr.last().copied() != Some(cols.len() as i64) {
            return Err(err("not a CSR matrix: indptr, indices and data do not fit its shape"));
        }
        let ds = py.detach(|| -> PyResult<Dataset> {
            let mut ds = Dataset {
                users: (0..n_rows).map(|r| r.to_string()).collect(),
                items: (0..n_cols).map(|c| c.to_string()).collect(),
                ..Dataset::default()
            };
            ds.catalogue = ds.items.ids().iter().map(Item::new).collect();
            ds.interactions.reserve(cols.len());
            for r in 0..n_rows {
                let (a, b) = (indptr[r], indptr[r + 1]);
                if a > b || a < 0 {
                    return Err(err(format!("not a CSR matrix: indptr decreases at row {r}")));
                }
                for k in a as usize..b as usize {
                    let c = cols[k];
                    if c < 0 || c as usize >= n_cols {
                        return Err(err(format!("row {r}: column {c} outside 0..{n_cols}")));
                    }
                    ds.interactions.push(Interaction { kind, ..Interaction::new(r as u32, c as u32, vals[k]) });
                }
            }
            ds.explicit = !ds.interactions.is_empty() && kind == EventKind::Rating;
            Ok(ds)
        })?;
        Ok(Data::whole(ds, "scipy.sparse CSR matrix".to_owned()))
    }

    /// Read a file with the command line's readers and presets (`--format`, `--mapping`,
    /// `--strict`).
    #[staticmethod]
    #[pyo3(signature = (path, format="csv", mapping=None, strict=false))]
    fn load(py: Python<'_>, path: PathBuf, format: &str, mapping: Option<&str>, strict: bool) -> PyResult<Data> {
        let opts = load_options(format, mapping, strict)?;
        let source = format!("{} ({})", path.display(), opts.format);
        let ds = py.detach(|| {
            let mut ds = Dataset::default();
            load_file(&mut ds, &path, &opts).map(|_| ds)
        })?;
        Ok(Data::whole(ds, source))
    }

    /// A given train/test split (`--train FILE --test FILE`): the two parts, sharing ids.
    #[staticmethod]
    #[pyo3(signature = (train, test, format="csv", mapping=None, strict=false))]
    fn load_split(
        py: Python<'_>,
        train: PathBuf,
        test: PathBuf,
        format: &str,
        mapping: Option<&str>,
        strict: bool,
    ) -> PyResult<(Data, Data)> {
        let opts = load_options(format, mapping, strict)?;
        let source = format!("{} ({})", train.display(), opts.format);
        let (ds, range) = py.detach(|| -> PyResult<_> {
            let mut ds = Dataset::default();
            load_file(&mut ds, &train, &opts)?;
            let range = load_file(&mut ds, &test, &opts)?;
            Ok((ds, range))
        })?;
        let all = &ds.interactions;
        let mut tr = all[..range.start].to_vec();
        tr.extend_from_slice(&all[range.end..]);
        let te = all[range].to_vec();
        let ds = Arc::new(ds);
        let part = |p: Vec<Interaction>| Data {
            ds: ds.clone(),
            part: Some(Arc::new(p)),
            cold: Arc::new(Vec::new()),
            source: source.clone(),
        };
        Ok((part(tr), part(te)))
    }

    /// Number of interactions (of this part).
    fn __len__(&self) -> usize {
        self.interactions().len()
    }

    /// Users known (of the whole, for a part).
    #[getter]
    fn n_users(&self) -> usize {
        self.ds.n_users()
    }

    /// Items known (of the whole, for a part).
    #[getter]
    fn n_items(&self) -> usize {
        self.ds.n_items()
    }

    /// True when every interaction is a rating (explicit data).
    #[getter]
    fn explicit(&self) -> bool {
        self.ds.explicit
    }

    /// User ids by index.
    fn user_ids(&self) -> Vec<String> {
        self.ds.users.ids().to_vec()
    }

    /// Item ids by index.
    fn item_ids(&self) -> Vec<String> {
        self.ds.items.ids().to_vec()
    }

    /// The interactions as columns: user and item indices, values, timestamps, kind names.
    fn columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let x = self.interactions();
        let d = pyo3::types::PyDict::new(py);
        d.set_item("user", PyArray1::from_vec(py, x.iter().map(|x| x.user as i64).collect()))?;
        d.set_item("item", PyArray1::from_vec(py, x.iter().map(|x| x.item as i64).collect()))?;
        d.set_item("value", PyArray1::from_vec(py, x.iter().map(|x| x.value).collect()))?;
        d.set_item("timestamp", PyArray1::from_vec(py, x.iter().map(|x| x.timestamp).collect()))?;
        d.set_item("kind", x.iter().map(|x| x.kind.as_str()).collect::<Vec<_>>())?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "daogou.Data({} interactions, {} users × {} items, {}; from {})",
            self.interactions().len(),
            self.ds.n_users(),
            self.ds.n_items(),
            if self.ds.explicit { "ratings" } else { "implicit" },
            self.source
        )
    }
}

/// Split `data` as `--split SPEC --seed SEED` does: (train, test).
#[pyfunction]
#[pyo3(signature = (data, spec="random:0.2", seed=42))]
fn split(py: Python<'_>, data: &Data, spec: &str, seed: u64) -> PyResult<(Data, Data)> {
    let s: Split = spec.parse().map_err(err)?;
    let events = data.interactions();
    let ((train, test), cold) = py.detach(|| (split_events(events, &s, seed), cold_items(events, &s, seed)));
    let part = |p: Vec<Interaction>, cold: Vec<u32>| Data {
        ds: data.ds.clone(),
        part: Some(Arc::new(p)),
        cold: Arc::new(cold),
        source: data.source.clone(),
    };
    Ok((part(train, Vec::new()), part(test, cold)))
}

/// `k` rotating (train, test) folds, as `--folds K --seed SEED`.
#[pyfunction]
#[pyo3(signature = (data, k=5, seed=42))]
fn folds(py: Python<'_>, data: &Data, k: usize, seed: u64) -> PyResult<Vec<(Data, Data)>> {
    if k < 2 {
        return Err(err("--folds must be at least 2"));
    }
    let events = data.interactions();
    let folds = py.detach(|| k_fold(events, k, seed));
    let part = |p: Vec<Interaction>| Data {
        ds: data.ds.clone(),
        part: Some(Arc::new(p)),
        cold: Arc::new(Vec::new()),
        source: data.source.clone(),
    };
    Ok(folds.into_iter().map(|(train, test)| (part(train), part(test))).collect())
}

/// A fitted model and what answering with it needs.
struct Fitted {
    snap: Snapshot,
    cat: Catalogue,
    source: String,
    item_numbers: Option<Vec<i64>>,
}

impl Fitted {
    fn new(snap: Snapshot, cat: Catalogue, source: String) -> Fitted {
        let item_numbers = numeric_ids(&snap.items);
        Fitted { snap, cat, source, item_numbers }
    }
}

/// One registered model: its name, parameters and signal; fitted by `fit` or read by `load`.
#[pyclass(module = "daogou._daogou")]
struct Model {
    spec: ModelSpec,
    num_threads: Option<usize>,
    verbose: bool,
    fitted: Option<Arc<Fitted>>,
}

/// Answer lists as numpy: ids (int64, padded with -1, when every id is an integer; else
/// lists of str) and float32 scores (padded with NaN), one row per query.
fn answers<'py>(
    py: Python<'py>,
    rows: Vec<Vec<(String, f32)>>,
    numbers: Option<&[i64]>,
    ids: &IdMap,
    n: usize,
) -> PyResult<(Py<PyAny>, Py<PyAny>)> {
    let mut scores = vec![f32::NAN; rows.len() * n];
    for (r, row) in rows.iter().enumerate() {
        for (k, (_, s)) in row.iter().enumerate() {
            scores[r * n + k] = *s;
        }
    }
    let scores = PyArray1::from_vec(py, scores).reshape([rows.len(), n])?.into_any().unbind();
    let ids = match numbers {
        Some(numbers) => {
            let mut out = vec![-1i64; rows.len() * n];
            for (r, row) in rows.iter().enumerate() {
                for (k, (id, _)) in row.iter().enumerate() {
                    out[r * n + k] = ids.get(id).map_or_else(|| id.parse().unwrap_or(-1), |i| numbers[i as usize]);
                }
            }
            PyArray1::from_vec(py, out).reshape([rows.len(), n])?.into_any().unbind()
        }
        None => {
            let rows: Vec<Vec<String>> = rows.into_iter().map(|r| r.into_iter().map(|(id, _)| id).collect()).collect();
            rows.into_pyobject(py)?.into_any().unbind()
        }
    };
    Ok((ids, scores))
}

impl Model {
    fn fitted(&self) -> PyResult<Arc<Fitted>> {
        self.fitted.clone().ok_or_else(|| {
            err(format!("{} is not fitted yet: call fit(data) or daogou.Model.load(path)", self.spec.name))
        })
    }
}

#[pymethods]
impl Model {
    /// `name` from the registry with `params` (`--set key=value` pairs, as text) and the
    /// signal flags (`--weights`, `--positive-threshold`, `--half-life`).
    #[new]
    #[pyo3(signature = (name, params=Vec::new(), weights=None, positive_threshold=None, half_life=None, num_threads=None, verbose=false))]
    fn new(
        name: &str,
        params: Vec<(String, String)>,
        weights: Option<&str>,
        positive_threshold: Option<f32>,
        half_life: Option<f64>,
        num_threads: Option<usize>,
        verbose: bool,
    ) -> PyResult<Model> {
        register();
        let Some(info) = daogou_algo::find_model(name) else {
            return Err(err(daogou_algo::Error::UnknownModel {
                name: name.to_owned(),
                available: daogou_algo::model_names().join(", "),
            }));
        };
        let mut p = Params::new();
        for (k, v) in &params {
            if !info.params.iter().any(|(key, _)| key == k) {
                let known: Vec<&str> = info.params.iter().map(|(k, _)| *k).collect();
                return Err(err(format!("{name}: unknown parameter `{k}` (it takes: {})", known.join(", "))));
            }
            p.set(k, v);
        }
        let signal = Signal::from_options(weights, positive_threshold, half_life)
            .map_err(|e| err(format!("--weights / --positive-threshold / --half-life: {e}")))?;
        Ok(Model { spec: ModelSpec { name: name.to_owned(), params: p, signal }, num_threads, verbose, fitted: None })
    }

    /// Registered model name.
    #[getter]
    fn name(&self) -> String {
        self.spec.name.clone()
    }

    /// The parameters given (the others take the registry's defaults).
    #[getter]
    fn params(&self) -> Vec<(String, String)> {
        self.spec.params.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
    }

    /// True once fitted or loaded.
    #[getter]
    fn is_fitted(&self) -> bool {
        self.fitted.is_some()
    }

    /// True when it predicts ratings (`predict`).
    #[getter]
    fn predicts_ratings(&self) -> PyResult<bool> {
        Ok(self.fitted()?.snap.model.as_ref().is_some_and(|m| m.as_rating_predictor().is_some()))
    }

    /// Fit on `data` (all of it, or a split's part) with the GIL released.
    fn fit(slf: Py<Self>, py: Python<'_>, data: &Data) -> PyResult<Py<Self>> {
        let (spec, threads, say) = {
            let m = slf.borrow(py);
            (m.spec.clone(), m.num_threads, Say::new(m.verbose))
        };
        let started = Instant::now();
        say.line(&format!("fitting {} on {} interactions", spec.name, data.interactions().len()), true);
        let fitted = py
            .detach(|| {
                on_threads(threads, || {
                    let ds = data.training();
                    let mut cat = Catalogue::new(ds.catalogue.clone());
                    Snapshot::fit(&ds, &mut cat, &spec, 1, 0).map(|snap| Fitted::new(snap, cat, data.source.clone()))
                })
            })?
            .map_err(err)?;
        if fitted.snap.model.is_none() {
            return Err(err("nothing to fit: the data holds no interactions the signal keeps"));
        }
        say.line(&format!("fitted {} in {:.2} s", spec.name, started.elapsed().as_secs_f64()), true);
        slf.borrow_mut(py).fitted = Some(Arc::new(fitted));
        Ok(slf)
    }

    /// Top `n` for each of `users` through the engine's "for you" list (the filters of
    /// `daogou recommend`): ids and scores, one row per user.
    #[pyo3(signature = (users, n=10, filter_seen=true, category=None, brand=None, min_price=None, max_price=None, exclude=Vec::new(), include_unavailable=false))]
    #[allow(clippy::too_many_arguments)]
    fn recommend(
        &self,
        py: Python<'_>,
        users: Vec<String>,
        n: usize,
        filter_seen: bool,
        category: Option<String>,
        brand: Option<String>,
        min_price: Option<f64>,
        max_price: Option<f64>,
        exclude: Vec<String>,
        include_unavailable: bool,
    ) -> PyResult<(Py<PyAny>, Py<PyAny>)> {
        let f = self.fitted()?;
        let filter = filter(category, brand, min_price, max_price, exclude, include_unavailable, !filter_seen)?;
        let snap = &f.snap;
        let idx: Vec<u32> = users
            .iter()
            .map(|u| {
                snap.users.get(u).ok_or_else(|| {
                    let examples: Vec<&str> = snap.users.ids().iter().take(3).map(String::as_str).collect();
                    err(format!("user `{u}` is not in {} (user ids look like: {})", f.source, examples.join(", ")))
                })
            })
            .collect::<PyResult<_>>()?;
        let rows: Vec<Vec<(String, f32)>> = py.detach(|| {
            on_threads(self.num_threads, || {
                idx.par_iter()
                    .map(|&u| {
                        let h = History::build(snap, Some(u), std::iter::empty());
                        lists::for_you(snap, &f.cat, &h, &filter, &Blend::default(), n)
                            .into_iter()
                            .map(|p| (p.item, p.score))
                            .collect()
                    })
                    .collect()
            })
        })?;
        answers(py, rows, f.item_numbers.as_deref(), &snap.items, n)
    }

    /// The `n` items most similar to each of `items` (`daogou similar`, same filters).
    #[pyo3(signature = (items, n=10, category=None, brand=None, min_price=None, max_price=None, exclude=Vec::new(), include_unavailable=false))]
    #[allow(clippy::too_many_arguments)]
    fn similar(
        &self,
        py: Python<'_>,
        items: Vec<String>,
        n: usize,
        category: Option<String>,
        brand: Option<String>,
        min_price: Option<f64>,
        max_price: Option<f64>,
        exclude: Vec<String>,
        include_unavailable: bool,
    ) -> PyResult<(Py<PyAny>, Py<PyAny>)> {
        let f = self.fitted()?;
        let filter = filter(category, brand, min_price, max_price, exclude, include_unavailable, true)?;
        let (snap, cat) = (&f.snap, &f.cat);
        let mut rows = Vec::with_capacity(items.len());
        for id in &items {
            let it = cat.by_id(id).ok_or_else(|| err(format!("item `{id}` is not in {}", f.source)))?;
            let picks = lists::similar_to(snap, cat, it, &filter, n).map_err(err)?;
            rows.push(picks.into_iter().map(|p| (p.item, p.score)).collect());
        }
        answers(py, rows, f.item_numbers.as_deref(), &snap.items, n)
    }

    /// Predicted ratings for (user, item) pairs (rating models only).
    fn predict<'py>(
        &self,
        py: Python<'py>,
        users: Vec<String>,
        items: Vec<String>,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let f = self.fitted()?;
        let snap = &f.snap;
        let Some(p) = snap.model.as_ref().and_then(|m| m.as_rating_predictor()) else {
            return Err(err(format!("{} does not predict ratings (a top-N model: use recommend)", snap.model_name())));
        };
        if users.len() != items.len() {
            return Err(err(format!("{} users but {} items", users.len(), items.len())));
        }
        let mut pairs = Vec::with_capacity(users.len());
        for (u, i) in users.iter().zip(&items) {
            let uu = snap.users.get(u).ok_or_else(|| err(format!("user `{u}` is not in {}", f.source)))?;
            let ii = snap.items.get(i).ok_or_else(|| err(format!("item `{i}` is not in {}", f.source)))?;
            pairs.push((uu, ii));
        }
        let out = py.detach(|| on_threads(self.num_threads, || p.predict_many(&pairs)))?;
        Ok(PyArray1::from_vec(py, out))
    }

    /// Write the model file of `daogou train --out` (the same format, loadable by the CLI).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let f = self.fitted()?;
        let snap = &f.snap;
        if snap.model.is_none() {
            return Err(err("nothing to save"));
        }
        py.detach(|| snap.save(&path, &f.source)).map_err(err)?;
        Ok(())
    }

    /// Read a model file written by `save` or by `daogou train --out`.
    #[staticmethod]
    #[pyo3(signature = (path, num_threads=None, verbose=false))]
    fn load(py: Python<'_>, path: PathBuf, num_threads: Option<usize>, verbose: bool) -> PyResult<Model> {
        register();
        let empty = Dataset::default();
        let deletions = daogou_store::DeletionLog::new(daogou_store::DeletionKey::from_bytes([0; 32]), []);
        let (snap, cat) = py
            .detach(|| {
                let mut cat = Catalogue::new(Vec::new());
                Snapshot::load(&path, &empty, &deletions, &mut cat, 1, 0).map(|s| (s, cat))
            })
            .map_err(|e| err(format!("cannot prepare the model: {e}")))?;
        let source = path.display().to_string();
        Ok(Model {
            spec: snap.spec.clone(),
            num_threads,
            verbose,
            fitted: Some(Arc::new(Fitted::new(snap, cat, source))),
        })
    }

    /// User ids the fitted model knows, by index.
    fn user_ids(&self) -> PyResult<Vec<String>> {
        Ok(self.fitted()?.snap.users.ids().to_vec())
    }

    /// Item ids the fitted model knows, by index.
    fn item_ids(&self) -> PyResult<Vec<String>> {
        Ok(self.fitted()?.snap.items.ids().to_vec())
    }

    fn __repr__(&self) -> String {
        let params: Vec<String> = self.spec.params.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        format!(
            "daogou.Model({:?}{}{}){}",
            self.spec.name,
            if params.is_empty() { "" } else { ", " },
            params.join(", "),
            if self.fitted.is_some() { " (fitted)" } else { "" }
        )
    }
}

/// The engine's filter from the `daogou recommend` flags.
fn filter(
    category: Option<String>,
    brand: Option<String>,
    min_price: Option<f64>,
    max_price: Option<f64>,
    exclude: Vec<String>,
    include_unavailable: bool,
    allow_repeat: bool,
) -> PyResult<Filter> {
    for (name, v) in [("min_price", min_price), ("max_price", max_price)] {
        if v.is_some_and(|p| !p.is_finite() || p < 0.0) {
            return Err(err(format!("{name} must be a finite number ≥ 0")));
        }
    }
    if let (Some(lo), Some(hi)) = (min_price, max_price) {
        if lo > hi {
            return Err(err("min_price must not exceed max_price"));
        }
    }
    Ok(Filter {
        category: category.filter(|c| !c.is_empty()),
        brand: brand.filter(|b| !b.is_empty()),
        min_price,
        max_price,
        in_stock: !include_unavailable,
        exclude: exclude.into_iter().map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()).collect(),
        allow_repeat,
    })
}

/// The parts of one split: the whole dataset, train, test and the test's cold items.
fn parts<'a>(train: &'a Data, test: &'a Data) -> PyResult<(&'a Dataset, &'a [Interaction], &'a [Interaction])> {
    if !Arc::ptr_eq(&train.ds, &test.ds) || train.part.is_none() || test.part.is_none() {
        return Err(err("train and test must be the two parts of one daogou.split(...) or daogou.load_split(...)"));
    }
    if test.interactions().is_empty() {
        return Err(err(
            "the split leaves an empty test set (check --split / --folds against the data's time range and size)",
        ));
    }
    Ok((&train.ds, train.interactions(), test.interactions()))
}

/// The evaluation options of `daogou evaluate` for `model`.
fn eval_options(
    model: &Model,
    k: usize,
    relevance_threshold: Option<f32>,
    repeats: bool,
    seed: u64,
) -> PyResult<EvalOptions> {
    if k == 0 {
        return Err(err("--k must be at least 1"));
    }
    let mut opts = EvalOptions::new(&model.spec.name, model.spec.params.clone());
    opts.signal = model.spec.signal.clone();
    opts.k = k;
    opts.relevance_threshold = relevance_threshold;
    opts.repeats = repeats;
    let takes_seed =
        daogou_algo::find_model(&opts.model).is_some_and(|m| m.params.iter().any(|(key, _)| *key == "seed"));
    if opts.params.raw("seed").is_none() && takes_seed {
        // stochastic models take the run's seed unless given their own, as on the command line
        opts.params.set("seed", seed);
    }
    Ok(opts)
}

/// `daogou evaluate --json` of `model` (fitted afresh on `train`, judged on `test`): the
/// JSON text of the same keys.
#[pyfunction]
#[pyo3(signature = (model, train, test, k=10, relevance_threshold=None, repeats=false, seed=42))]
fn evaluate(
    py: Python<'_>,
    model: &Model,
    train: &Data,
    test: &Data,
    k: usize,
    relevance_threshold: Option<f32>,
    repeats: bool,
    seed: u64,
) -> PyResult<String> {
    let mut opts = eval_options(model, k, relevance_threshold, repeats, seed)?;
    let (ds, tr, te) = parts(train, test)?;
    let say = Say::new(model.verbose);
    opts.progress = say.hook(format!("evaluating {}: ", opts.model));
    let report = py
        .detach(|| on_threads(model.num_threads, || evaluate_cold_split(ds, tr, te, &test.cold, &opts)))?
        .map_err(|e| err(format!("evaluation failed: {e}")))?;
    serde_json::to_string(&report.to_json()).map_err(err)
}

/// `daogou tune --json` over `grid` (`key=v1,v2` or, with `random`, `key=lo..hi`): the
/// settings are judged on a validation split cut from `train` only (or `folds` rotating
/// folds); the winner is evaluated once on `test` when given.
#[pyfunction]
#[pyo3(signature = (model, train, grid, test=None, validation="random:0.2", folds=None, metric=None, random=None, k=10, relevance_threshold=None, repeats=false, seed=42))]
#[allow(clippy::too_many_arguments)]
fn tune(
    py: Python<'_>,
    model: &Model,
    train: &Data,
    grid: Vec<String>,
    test: Option<&Data>,
    validation: &str,
    folds: Option<usize>,
    metric: Option<String>,
    random: Option<usize>,
    k: usize,
    relevance_threshold: Option<f32>,
    repeats: bool,
    seed: u64,
) -> PyResult<String> {
    let name = model.spec.name.clone();
    let base = model.spec.params.clone();
    let grid: Grid = grid.iter().map(|g| parse_grid(g)).collect::<Result<_, _>>().map_err(err)?;
    let settings = match random {
        Some(0) => return Err(err("--random needs at least 1")),
        Some(n) => random_settings(&grid, n, seed),
        None => grid_settings(&grid).map_err(err)?,
    };
    let mut opts = EvalOptions::new(&name, base.clone());
    opts.signal = model.spec.signal.clone();
    opts.k = k;
    opts.relevance_threshold = relevance_threshold;
    opts.repeats = repeats;
    let validation_split: Split = validation.parse().map_err(err)?;
    let (ds, tr, te, test_cold) = match test {
        Some(t) => {
            let (ds, tr, te) = parts(train, t)?;
            (ds, tr, Some(te), t.cold.as_slice())
        }
        None => (train.ds.as_ref(), train.interactions(), None, &[][..]),
    };
    let folds_v: Vec<(Vec<Interaction>, Vec<Interaction>)> = match folds {
        Some(k) if k < 2 => return Err(err("--folds must be at least 2")),
        Some(k) => k_fold(tr, k, seed),
        None => vec![split_events(tr, &validation_split, seed)],
    };
    let validation_cold = if folds.is_none() { cold_items(tr, &validation_split, seed) } else { Vec::new() };
    if folds_v.iter().any(|(t, v)| t.is_empty() || v.is_empty()) {
        return Err(err(
            "the validation split leaves an empty part (check --validation / --folds against the training data)",
        ));
    }
    let validation = match folds {
        Some(k) => format!("{k}-fold on the training part"),
        None => format!("{validation_split} of the training part"),
    };
    let say = Say::new(model.verbose);
    let total = settings.len() * folds_v.len();
    let out = py.detach(|| {
        on_threads(model.num_threads, || -> Result<Value, String> {
            let mut done = 0;
            let found = search(ds, &folds_v, &validation_cold, &opts, &settings, metric.as_deref(), seed, || {
                done += 1;
                say.line(&format!("tuning {name}: {done}/{total}"), done == total);
            })
            .map_err(|e| e.to_string())?;
            let params = setting_params(&base, &found.best().setting);
            let best_metric = daogou_eval::tune::metric_value(&found.best().validation, &found.metric);
            let test_report = match te {
                Some(te) => {
                    let mut o = opts.clone();
                    o.params = with_seed(&name, params.clone(), seed);
                    Some(evaluate_cold_split(ds, tr, te, test_cold, &o).map_err(|e| e.to_string())?.to_json())
                }
                None => None,
            };
            Ok(json!({
                "model": name,
                "metric": found.metric,
                "lower_is_better": found.lower_is_better,
                "validation": validation,
                "settings_tried": found.trials.len(),
                "best": {"params": params.iter().collect::<std::collections::BTreeMap<_, _>>(), "metric": best_metric},
                "leaderboard": found.rows(),
                "test": test_report,
            }))
        })
    })?
    .map_err(err)?;
    serde_json::to_string(&out).map_err(err)
}

/// Every registered model: (name, description, [(parameter, meaning and default)]), as
/// `daogou models` lists them.
#[pyfunction]
fn models() -> Vec<(String, String, Vec<(String, String)>)> {
    register();
    daogou_algo::all_models()
        .into_iter()
        .map(|m| {
            (
                m.name.to_owned(),
                m.about.to_owned(),
                m.params.iter().map(|(k, a)| ((*k).to_owned(), (*a).to_owned())).collect(),
            )
        })
        .collect()
}

/// The deep models and the learned ranker, registered as the binary does.
fn register() {
    daogou_nn::register();
    daogou_ranker::register();
}

#[pymodule]
fn _daogou(m: &Bound<'_, PyModule>) -> PyResult<()> {
    register();
    m.add("DaogouError", m.py().get_type::<DaogouError>())?;
    m.add_class::<Data>()?;
    m.add_class::<Model>()?;
    m.add_function(wrap_pyfunction!(split, m)?)?;
    m.add_function(wrap_pyfunction!(folds, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(tune, m)?)?;
    m.add_function(wrap_pyfunction!(models, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
