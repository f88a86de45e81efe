//! The live state behind the service: the current model snapshot (swapped atomically), the
//! catalogue, the per-user live histories and the store.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use daogou_algo::topk::{top_k, top_k_by};
use daogou_algo::{build_model, past_item_score, Recommender, TrainData, DEFAULT_HALF_LIFE_DAYS, DEFAULT_RECENCY};
use daogou_core::{Dataset, Event, EventKind, IdMap, Interaction, Interactions, Item, Params};
use daogou_data::EventWeights;
use daogou_eval::protocol::train_matrix;
use daogou_eval::EvalOptions;
use daogou_store::{SqliteStore, Store};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::metrics::Metrics;
use crate::Config;

/// Attribute that marks a catalogue item deleted through `DELETE /items/{id}` (the store keeps
/// the row, unavailable, so that past events stay valid).
pub const DELETED_ATTR: &str = "daogou:deleted";

/// Which model to fit and how to weigh events.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    /// Registered model name.
    pub name: String,
    /// Hyperparameters.
    pub params: Params,
    /// Event-type weights (implicit data).
    pub weights: EventWeights,
}

impl ModelSpec {
    /// `name` with default parameters and weights.
    pub fn named(name: &str) -> Self {
        ModelSpec { name: name.to_owned(), params: Params::new(), weights: EventWeights::default() }
    }
}

/// A fitted model with everything needed to answer with it. Immutable once built; replaced
/// as a whole (a request holds an `Arc` to the snapshot it started with).
pub struct Snapshot {
    /// Increases by one with every swap.
    pub version: u64,
    /// `None` while the store holds no interactions.
    pub model: Option<Box<dyn Recommender>>,
    /// What was fitted (used again by retrains).
    pub spec: ModelSpec,
    /// The model's user ids.
    pub users: IdMap,
    /// The model's item ids.
    pub items: IdMap,
    /// Training histories (users × items).
    pub train: Interactions,
    /// Per model user: (item, strongest kind of event), sorted by item.
    pub kinds: Vec<Vec<(u32, EventKind)>>,
    /// Distinct users per item.
    pub popularity: Vec<f32>,
    /// Ratings rather than behaviour.
    pub explicit: bool,
    /// Live events with a sequence number below this are part of `train`.
    pub seq: u64,
    /// (timestamp, item, user) of the stored interactions of the last 7 days before the
    /// latest one, in time order (trending).
    pub recent: Vec<(i64, u32, u32)>,
    /// Who bought what (binary; bought together).
    pub purchases: Interactions,
    /// Purchase counts and times behind `purchases` (buy it again).
    pub bought: BoughtLog,
}

/// Per stored (user, item) pair of [`Snapshot::purchases`], in the same order as its
/// `by_user` entries: purchases less returns and the time of the latest purchase; per user
/// the time of their latest event (buy it again).
#[derive(Debug, Clone, Default)]
pub struct BoughtLog {
    net: Vec<i32>,
    last: Vec<i64>,
    latest: Vec<i64>,
}

impl Snapshot {
    /// Model name, or `none`.
    pub fn model_name(&self) -> &str {
        self.model.as_ref().map_or("none", |m| m.name())
    }
}

fn stronger(map: &mut FxHashMap<u32, EventKind>, item: u32, k: EventKind) {
    let e = map.entry(item).or_insert(k);
    if k.strength() > e.strength() {
        *e = k;
    }
}

/// Per model user, the strongest kind per item, from the stored interactions of `ds`
/// (mapped into the model's id space).
fn strongest_kinds(ds: &Dataset, users: &IdMap, items: &IdMap) -> Vec<Vec<(u32, EventKind)>> {
    let same = users.ids() == ds.users.ids() && items.ids() == ds.items.ids();
    let mut per: Vec<FxHashMap<u32, EventKind>> = vec![FxHashMap::default(); users.len()];
    for x in &ds.interactions {
        let (u, i) = if same {
            (Some(x.user), Some(x.item))
        } else {
            (users.get(ds.users.id(x.user)), items.get(ds.items.id(x.item)))
        };
        if let (Some(u), Some(i)) = (u, i) {
            stronger(&mut per[u as usize], i, x.kind);
        }
    }
    per.into_iter()
        .map(|m| {
            let mut v: Vec<(u32, EventKind)> = m.into_iter().collect();
            v.sort_unstable_by_key(|p| p.0);
            v
        })
        .collect()
}

/// Recent interactions, purchases and the purchase log of `ds`, mapped into the model's id space.
fn activity(ds: &Dataset, users: &IdMap, items: &IdMap) -> (Vec<(i64, u32, u32)>, Interactions, BoughtLog) {
    let same = users.ids() == ds.users.ids() && items.ids() == ds.items.ids();
    let map = |x: &Interaction| {
        if same {
            Some((x.user, x.item))
        } else {
            Some((users.get(ds.users.id(x.user))?, items.get(ds.items.id(x.item))?))
        }
    };
    let latest = ds.interactions.iter().map(|x| x.timestamp).max().unwrap_or(0);
    let mut recent: Vec<(i64, u32, u32)> = ds
        .interactions
        .iter()
        .filter(|x| x.timestamp >= latest - 7 * 86_400 && x.kind != EventKind::Return)
        .filter_map(|x| map(x).map(|(u, i)| (x.timestamp, i, u)))
        .collect();
    recent.sort_unstable();
    let bought: Vec<Interaction> = ds
        .interactions
        .iter()
        .filter(|x| x.kind == EventKind::Purchase)
        .filter_map(|x| map(x).map(|(u, i)| Interaction { user: u, item: i, value: 1.0, ..*x }))
        .collect();
    let purchases = Interactions::from_interactions(users.len(), items.len(), &bought, daogou_core::Aggregate::Last);
    let m = &purchases.by_user;
    let mut log =
        BoughtLog { net: vec![0; m.nnz()], last: vec![i64::MIN; m.nnz()], latest: vec![i64::MIN; users.len()] };
    for x in &ds.interactions {
        let Some((u, i)) = map(x) else { continue };
        if x.kind != EventKind::Return {
            // as in the buy-again model: returns do not make an event recent
            log.latest[u as usize] = log.latest[u as usize].max(x.timestamp);
        }
        if !matches!(x.kind, EventKind::Purchase | EventKind::Return) {
            continue;
        }
        // returns of items the user never bought are left out
        let Ok(p) = m.row(u as usize).0.binary_search(&i) else { continue };
        let at = m.indptr()[u as usize] + p;
        if x.kind == EventKind::Purchase {
            log.net[at] += 1;
            log.last[at] = log.last[at].max(x.timestamp);
        } else {
            log.net[at] -= 1;
        }
    }
    (recent, purchases, log)
}

fn popularity(train: &Interactions) -> Vec<f32> {
    (0..train.n_items()).map(|i| train.item_row(i as u32).0.len() as f32).collect()
}

/// Fit `spec` on everything in `ds`.
pub fn fit_snapshot(ds: &Dataset, spec: &ModelSpec, version: u64, seq: u64) -> Result<Snapshot, String> {
    if !daogou_algo::model_names().contains(&spec.name.as_str()) {
        return Err(format!("unknown model `{}`; available: {}", spec.name, daogou_algo::model_names().join(", ")));
    }
    let mut opts = EvalOptions::new(&spec.name, spec.params.clone());
    opts.weights = spec.weights;
    let explicit = opts.explicit(ds);
    let train = train_matrix(ds, &ds.interactions, &opts);
    let model = if train.nnz() == 0 {
        None
    } else {
        Some(
            build_model(
                &spec.name,
                &spec.params,
                &TrainData::new(&train, explicit).with_items(&ds.catalogue).with_events(&ds.interactions),
            )
            .map_err(|e| e.to_string())?,
        )
    };
    let (recent, purchases, bought) = activity(ds, &ds.users, &ds.items);
    Ok(Snapshot {
        version,
        recent,
        purchases,
        bought,
        kinds: strongest_kinds(ds, &ds.users, &ds.items),
        popularity: popularity(&train),
        model,
        spec: spec.clone(),
        users: ds.users.clone(),
        items: ds.items.clone(),
        train,
        explicit,
        seq,
    })
}

/// Load a model file; `ds` (the store) supplies the strongest event kinds for reasons.
pub fn load_snapshot(path: &Path, ds: &Dataset, version: u64, seq: u64) -> Result<Snapshot, String> {
    let saved = daogou_modelfile::load(path).map_err(|e| e.to_string())?;
    let mut params = Params::new();
    if let Some(p) = saved.manifest["params"].as_object() {
        for (k, v) in p {
            params.set(k, v.as_str().unwrap_or(&v.to_string()));
        }
    }
    let spec = ModelSpec { name: saved.model.name().to_owned(), params, weights: EventWeights::default() };
    let (recent, purchases, bought) = activity(ds, &saved.users, &saved.items);
    Ok(Snapshot {
        version,
        recent,
        purchases,
        bought,
        kinds: strongest_kinds(ds, &saved.users, &saved.items),
        popularity: popularity(&saved.train),
        model: Some(saved.model),
        spec,
        users: saved.users,
        items: saved.items,
        train: saved.train,
        explicit: saved.explicit,
        seq,
    })
}

/// "bought 3 times, last on 2026-10-02" (dates in UTC).
fn bought_reason(count: i32, last: i64) -> String {
    let day = chrono::DateTime::from_timestamp(last, 0)
        .map_or_else(|| last.to_string(), |t| t.format("%Y-%m-%d").to_string());
    match count {
        1 => format!("bought on {day}"),
        2 => format!("bought twice, last on {day}"),
        _ => format!("bought {count} times, last on {day}"),
    }
}

/// One event kept for real-time answers until a refit includes it.
#[derive(Debug, Clone)]
struct LiveEvent {
    seq: u64,
    item: String,
    kind: EventKind,
    value: f32,
    timestamp: i64,
}

/// A user's history as the model sees it now.
pub struct History {
    /// Index of the user in the snapshot's training data (when known and not deleted).
    pub user: Option<u32>,
    /// (item, value) pairs, sorted by item; values summed, non-positive dropped.
    pub items: Vec<(u32, f32)>,
    /// Strongest kind per history item, sorted by item.
    pub kinds: Vec<(u32, EventKind)>,
    /// True when events newer than the model are part of it.
    pub fresh: bool,
}

impl History {
    /// The strongest kind of event with history item `i`.
    pub fn kind(&self, i: u32) -> Option<EventKind> {
        self.kinds.binary_search_by_key(&i, |p| p.0).ok().map(|p| self.kinds[p].1)
    }
}

/// Per-request filters.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Category, matched exactly or as a path prefix (`鞋` matches `鞋/跑鞋`).
    pub category: Option<String>,
    /// Brand, exactly.
    pub brand: Option<String>,
    /// Lowest price.
    pub min_price: Option<f64>,
    /// Highest price.
    pub max_price: Option<f64>,
    /// Only available items with stock (unknown stock counts as in stock).
    pub in_stock: bool,
    /// Item ids never to return.
    pub exclude: FxHashSet<String>,
}

impl Filter {
    fn passes(&self, id: &str, item: Option<&Item>) -> bool {
        if self.exclude.contains(id) {
            return false;
        }
        let Some(it) = item else {
            return self.category.is_none()
                && self.brand.is_none()
                && self.min_price.is_none()
                && self.max_price.is_none();
        };
        if it.attributes.contains_key(DELETED_ATTR) {
            return false;
        }
        if self.in_stock && (!it.available || it.stock.is_some_and(|s| s <= 0)) {
            return false;
        }
        if let Some(c) = &self.category {
            match &it.category {
                Some(ic) if ic == c || (ic.starts_with(c.as_str()) && ic[c.len()..].starts_with('/')) => {}
                _ => return false,
            }
        }
        if let Some(b) = &self.brand {
            if it.brand.as_deref() != Some(b.as_str()) {
                return false;
            }
        }
        if self.min_price.is_some() || self.max_price.is_some() {
            let Some(p) = it.price else { return false };
            if self.min_price.is_some_and(|m| p < m) || self.max_price.is_some_and(|m| p > m) {
                return false;
            }
        }
        true
    }
}

thread_local! {
    static SCORES: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
    /// The sparse scores of the last request on this thread (kept for their capacity).
    static REACHED: std::cell::RefCell<Vec<daogou_algo::Reached>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The thread's score buffer, zeroed to `n`; given back to the thread when dropped.
struct ScoreBuf(Vec<f32>);

impl ScoreBuf {
    fn take(n: usize) -> ScoreBuf {
        let mut v = SCORES.with(|b| std::mem::take(&mut *b.borrow_mut()));
        v.clear();
        v.resize(n, 0.0);
        ScoreBuf(v)
    }
}

impl Drop for ScoreBuf {
    fn drop(&mut self) {
        let v = std::mem::take(&mut self.0);
        SCORES.with(|b| *b.borrow_mut() = v);
    }
}

/// Per-request blending knobs of "for you".
#[derive(Debug, Clone, Default)]
pub struct Blend {
    /// Weight of log-popularity added to the (max-normalised) model score.
    pub popularity: f32,
    /// Weight of novelty (halves every 30 days of age before the newest item) added likewise.
    pub novelty: f32,
    /// At most this many items per category (diversity).
    pub max_per_category: Option<usize>,
    /// Share of the list (0..1) kept for the newest items (exploration of cold items).
    pub explore: f32,
}

fn novelty(it: Option<&Item>, newest: i64) -> f32 {
    match it.and_then(|x| x.created_at) {
        Some(c) => 0.5f32.powf(((newest - c).max(0) as f32) / (30.0 * 86_400.0)),
        None => 0.0,
    }
}

fn newest_items<'c>(
    cat: &'c FxHashMap<String, Item>,
    f: &Filter,
    n: usize,
    skip: impl Fn(&str) -> bool,
) -> Vec<&'c Item> {
    let mut v: Vec<&Item> =
        cat.values().filter(|it| it.created_at.is_some() && f.passes(&it.id, Some(it)) && !skip(&it.id)).collect();
    v.sort_unstable_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
    v.truncate(n);
    v
}

fn pick_item(it: &Item, score: f32, reason: String) -> Pick {
    Pick {
        item: it.id.clone(),
        title: if it.title.is_empty() { it.id.clone() } else { it.title.clone() },
        score,
        reason,
        because: None,
        category: it.category.clone(),
        brand: it.brand.clone(),
        price: it.price,
    }
}

/// An answer line for item `id` (also one no model knows yet), described from the catalogue.
fn pick_id(cat: &FxHashMap<String, Item>, id: &str, score: f32, reason: String, because: Option<String>) -> Pick {
    let it = cat.get(id);
    Pick {
        item: id.to_owned(),
        title: it.filter(|x| !x.title.is_empty()).map_or_else(|| id.to_owned(), |x| x.title.clone()),
        score,
        reason,
        because,
        category: it.and_then(|x| x.category.clone()),
        brand: it.and_then(|x| x.brand.clone()),
        price: it.and_then(|x| x.price),
    }
}

/// One answer line.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct Pick {
    /// Item id.
    pub item: String,
    /// Title (the id when the catalogue has none).
    pub title: String,
    /// Model score (popularity count for popularity answers, similarity for similar items).
    pub score: f32,
    /// Why.
    pub reason: String,
    /// The history item the reason names, when one.
    pub because: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Brand.
    pub brand: Option<String>,
    /// Price.
    pub price: Option<f64>,
}

/// The shared state of the service.
pub struct AppState {
    /// Configuration it was started with.
    pub config: Config,
    store: Mutex<SqliteStore>,
    snapshot: RwLock<Arc<Snapshot>>,
    catalogue: RwLock<FxHashMap<String, Item>>,
    live: Mutex<FxHashMap<String, Vec<LiveEvent>>>,
    /// user → snapshot version current when they were deleted: their training row is hidden
    /// from snapshots up to that version.
    deleted: Mutex<FxHashMap<String, u64>>,
    next_seq: AtomicU64,
    /// Serialises refits (retrain, deletion) so the newest data always wins.
    pub fit_lock: tokio::sync::Mutex<()>,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// Last background retrain outcome.
    pub last_retrain: Mutex<Option<serde_json::Value>>,
    /// Token buckets per API key: (tokens, last refill).
    buckets: Mutex<FxHashMap<String, (f64, std::time::Instant)>>,
    /// State of the dashboard and assistant endpoints (model versions, caches, the guide).
    pub(crate) extras: crate::dashboard::Extras,
}

/// Boxed error for start-up.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl AppState {
    /// Build the state on `store`: load `config.model` when it names a file, otherwise fit it
    /// (with `config.params`, `config.weights`) on the stored data. Blocking: call it from
    /// `spawn_blocking` or before the runtime starts.
    pub fn new(store: SqliteStore, config: Config) -> Result<Arc<AppState>, BoxError> {
        let ds = store.load_dataset()?;
        let path = Path::new(&config.model);
        let snap = if path.is_file() {
            load_snapshot(path, &ds, 1, 0)?
        } else {
            let params = Params::parse(config.params.iter().map(String::as_str))?;
            let weights = match &config.weights {
                Some(w) => EventWeights::parse(w)?,
                None => EventWeights::default(),
            };
            fit_snapshot(&ds, &ModelSpec { name: config.model.clone(), params, weights }, 1, 0)?
        };
        let catalogue = ds.catalogue.iter().map(|it| (it.id.clone(), it.clone())).collect();
        let metrics = Metrics::default();
        metrics.model_version.store(1, Ordering::Relaxed);
        Ok(Arc::new(AppState {
            config,
            store: Mutex::new(store),
            snapshot: RwLock::new(Arc::new(snap)),
            catalogue: RwLock::new(catalogue),
            live: Mutex::new(FxHashMap::default()),
            deleted: Mutex::new(FxHashMap::default()),
            next_seq: AtomicU64::new(0),
            fit_lock: tokio::sync::Mutex::new(()),
            metrics,
            last_retrain: Mutex::new(None),
            buckets: Mutex::new(FxHashMap::default()),
            extras: crate::dashboard::Extras::default(),
        }))
    }

    /// The id a user is stored under: the raw id, or its pseudonym when
    /// `pseudonymize_key` is configured.
    pub fn user_id(&self, raw: &str) -> String {
        match &self.config.pseudonymize_key {
            Some(k) => crate::config::pseudonym(k, raw),
            None => raw.to_owned(),
        }
    }

    /// Take one request from `key`'s token bucket; false when it is empty (rate limited).
    pub fn allow(&self, key: &str) -> bool {
        let rate = self.config.rate_limit;
        if rate <= 0.0 {
            return true;
        }
        let now = std::time::Instant::now();
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, last) = b.entry(key.to_owned()).or_insert((2.0 * rate, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(2.0 * rate);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Load a model file and swap it in; a damaged or mismatched file is refused and the
    /// current model keeps serving. Blocking; hold [`AppState::fit_lock`] around it.
    pub fn load_model_file(&self, path: &Path) -> Result<Arc<Snapshot>, String> {
        let (ds, seq) = {
            let store = self.store();
            let seq = self.next_seq.load(Ordering::SeqCst);
            (store.load_dataset().map_err(|e| e.to_string())?, seq)
        };
        let version = self.snapshot().version + 1;
        let snap = Arc::new(load_snapshot(path, &ds, version, seq)?);
        self.swap(snap.clone(), seq);
        Ok(snap)
    }

    fn swap(&self, snap: Arc<Snapshot>, seq: u64) {
        let version = snap.version;
        self.extras.note_model(&self.snapshot(), &snap);
        *self.snapshot.write().unwrap_or_else(|e| e.into_inner()) = snap;
        self.metrics.model_version.store(version, Ordering::Relaxed);
        // events now part of the model leave the live histories
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|_, v| {
            v.retain(|e| e.seq >= seq);
            !v.is_empty()
        });
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn store(&self) -> std::sync::MutexGuard<'_, SqliteStore> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Store `events` in one transaction; once committed, make them visible to real-time
    /// answers. Returns (inserted, duplicates).
    pub fn ingest(&self, events: &[Event]) -> Result<(u64, u64), daogou_store::StoreError> {
        let mut store = self.store();
        let report = store.insert_events(events)?;
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        for e in events.iter().filter(|e| !e.item.is_empty()) {
            let seq = self.next_seq.fetch_add(1, Ordering::SeqCst);
            live.entry(e.user.clone()).or_default().push(LiveEvent {
                seq,
                item: e.item.clone(),
                kind: e.kind,
                value: e.value,
                timestamp: e.timestamp,
            });
        }
        drop(live);
        drop(store);
        self.metrics.events_ingested.fetch_add(report.events_inserted, Ordering::Relaxed);
        Ok((report.events_inserted, report.events_duplicate))
    }

    /// Upsert a catalogue item (store first, then the live catalogue). Returns true when new.
    pub fn upsert_item(&self, item: Item) -> Result<bool, daogou_store::StoreError> {
        let report = self.store().upsert_items(std::slice::from_ref(&item))?;
        self.extras.guide.upsert(&item);
        self.catalogue.write().unwrap_or_else(|e| e.into_inner()).insert(item.id.clone(), item);
        Ok(report.items_inserted > 0)
    }

    /// A catalogue item.
    pub fn item(&self, id: &str) -> Option<Item> {
        self.catalogue.read().unwrap_or_else(|e| e.into_inner()).get(id).cloned()
    }

    /// The catalogue entry unless it was deleted.
    pub fn live_item(&self, id: &str) -> Option<Item> {
        self.item(id).filter(|it| !it.attributes.contains_key(DELETED_ATTR))
    }

    /// True when the item was deleted from the catalogue (checked without copying it).
    pub fn is_deleted(&self, id: &str) -> bool {
        self.catalogue
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .is_some_and(|it| it.attributes.contains_key(DELETED_ATTR))
    }

    /// Refit the current (or a new) spec on the store and swap it in; the old model stays on
    /// error. Blocking; hold [`AppState::fit_lock`] around it.
    pub fn refit(&self, spec: Option<ModelSpec>) -> Result<Arc<Snapshot>, String> {
        let (ds, seq) = {
            let store = self.store();
            let seq = self.next_seq.load(Ordering::SeqCst);
            (store.load_dataset().map_err(|e| e.to_string())?, seq)
        };
        let spec = spec.unwrap_or_else(|| self.snapshot().spec.clone());
        let version = self.snapshot().version + 1;
        let snap = Arc::new(fit_snapshot(&ds, &spec, version, seq)?);
        self.swap(snap.clone(), seq);
        Ok(snap)
    }

    /// Delete a user from the store (recording the deletion in the store's deletion log, in
    /// the same transaction) and the live state; blocking, under the fit lock. Returns the
    /// number of stored events removed. The caller refits afterwards.
    pub fn delete_user_data(&self, user: &str) -> Result<u64, daogou_store::StoreError> {
        let n = self.store().delete_user(user, chrono::Utc::now().timestamp())?;
        let version = self.snapshot().version;
        self.deleted.lock().unwrap_or_else(|e| e.into_inner()).insert(user.to_owned(), version);
        self.live.lock().unwrap_or_else(|e| e.into_inner()).remove(user);
        Ok(n)
    }

    /// Forget tombstones older than the current snapshot (after a refit without the user).
    pub fn clear_tombstones(&self) {
        let v = self.snapshot().version;
        self.deleted.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, dv| *dv >= v);
    }

    /// The index of `user` in `snap`, unless unknown or deleted since `snap` was fitted.
    fn snapshot_user(&self, snap: &Snapshot, user: &str) -> Option<u32> {
        let hidden =
            self.deleted.lock().unwrap_or_else(|e| e.into_inner()).get(user).is_some_and(|&v| snap.version <= v);
        if hidden {
            None
        } else {
            snap.users.get(user)
        }
    }

    /// `user`'s history: the training row plus live events newer than the snapshot.
    pub fn history(&self, snap: &Snapshot, user: &str) -> History {
        let idx = self.snapshot_user(snap, user);
        let mut items: Vec<(u32, f32)> = Vec::new();
        let mut kinds: Vec<(u32, EventKind)> = Vec::new();
        if let Some(u) = idx {
            let (is, vs) = snap.train.user_row(u);
            items = is.iter().copied().zip(vs.iter().copied()).collect();
            kinds = snap.kinds.get(u as usize).cloned().unwrap_or_default();
        }
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let fresh: Vec<(u32, &LiveEvent)> = live
            .get(user)
            .map(|evs| {
                evs.iter().filter(|e| e.seq >= snap.seq).filter_map(|e| Some((snap.items.get(&e.item)?, e))).collect()
            })
            .unwrap_or_default();
        if fresh.is_empty() {
            return History { user: idx, items, kinds, fresh: false };
        }
        // merge the live events into the training row
        let mut values: BTreeMap<u32, f32> = items.into_iter().collect();
        let mut strongest: FxHashMap<u32, EventKind> = kinds.into_iter().collect();
        for (i, e) in fresh {
            stronger(&mut strongest, i, e.kind);
            let x = Interaction { user: 0, item: i, value: e.value, timestamp: 0, kind: e.kind };
            if snap.explicit {
                if e.kind == EventKind::Rating {
                    values.insert(i, e.value);
                }
            } else {
                *values.entry(i).or_insert(0.0) += snap.spec.weights.weight(&x);
            }
        }
        drop(live);
        let items = values.into_iter().filter(|&(_, v)| v > 0.0 || snap.explicit).collect();
        let mut kinds: Vec<(u32, EventKind)> = strongest.into_iter().collect();
        kinds.sort_unstable_by_key(|p| p.0);
        History { user: idx, items, kinds, fresh: true }
    }

    fn pick(
        &self,
        cat: &FxHashMap<String, Item>,
        snap: &Snapshot,
        i: u32,
        score: f32,
        reason: String,
        because: Option<u32>,
    ) -> Pick {
        pick_id(cat, snap.items.id(i), score, reason, because.map(|b| snap.items.id(b).to_owned()))
    }

    fn title(&self, cat: &FxHashMap<String, Item>, snap: &Snapshot, i: u32) -> String {
        let id = snap.items.id(i);
        cat.get(id).filter(|x| !x.title.is_empty()).map_or_else(|| id.to_owned(), |x| x.title.clone())
    }

    /// Top `n` for a history (a known user, a user with fresh events, a session), filtered,
    /// each with a reason; popular items fill in when the history says nothing. `blend` mixes
    /// in popularity and novelty, caps items per category and keeps slots for new arrivals.
    pub fn recommend(
        &self,
        snap: &Snapshot,
        h: &History,
        f: &Filter,
        n: usize,
        allow_repeat: bool,
        blend: &Blend,
    ) -> Vec<Pick> {
        let cat = self.catalogue.read().unwrap_or_else(|e| e.into_inner());
        // history items are sorted by item
        let owned = |i: u32| h.items.binary_search_by_key(&i, |p| p.0).is_ok();
        let ok = |i: u32| f.passes(snap.items.id(i), cat.get(snap.items.id(i))) && (allow_repeat || !owned(i));
        let explore = ((blend.explore * n as f32).round() as usize).min(n);
        let main = n - explore;
        let mut per_cat: FxHashMap<Option<String>, usize> = FxHashMap::default();
        let mut capped = |p: &Pick| -> bool {
            let Some(cap) = blend.max_per_category else { return false };
            let c = per_cat.entry(p.category.clone()).or_insert(0);
            *c += 1;
            *c > cap
        };
        // with a cap, look further down the ranking
        let depth = |k: usize| if blend.max_per_category.is_some() { k * 8 + 50 } else { k };
        let mut out = Vec::with_capacity(n);
        if let (Some(model), false, true) = (&snap.model, h.items.is_empty(), main > 0) {
            let plain = blend.popularity <= 0.0 && blend.novelty <= 0.0;
            // (item, model score, the history item that explains it when already known)
            let mut reached = REACHED.with(|b| std::mem::take(&mut *b.borrow_mut()));
            let ranked: Vec<(u32, f32, Option<Option<u32>>)> = if plain && model.score_reached(&h.items, &mut reached) {
                // neighbourhood models: only the items the history reaches (all others score
                // below them and would only end the loop below), no pass over the catalogue
                top_k_by(reached.iter().map(|r| (r.item, r.score, Some(r.because))), depth(main), |i| !ok(i))
            } else {
                // one score buffer per thread (a catalogue-sized allocation per request costs page faults)
                let mut buf = ScoreBuf::take(model.n_items());
                match (h.user, h.fresh) {
                    (Some(u), false) => model.score_user(u, &mut buf.0),
                    _ => model.score_history(&h.items, &mut buf.0),
                }
                let scores: &[f32] = &buf.0;
                let blended = if plain {
                    None
                } else {
                    let top = scores
                        .iter()
                        .filter(|x| x.is_finite())
                        .fold(0f32, |m, x| m.max(x.abs()))
                        .max(f32::MIN_POSITIVE);
                    let max_pop = snap.popularity.iter().fold(0f32, |m, &x| m.max(x));
                    let newest = cat.values().filter_map(|it| it.created_at).max().unwrap_or(0);
                    let mut b = scores.to_vec();
                    for (i, x) in b.iter_mut().enumerate() {
                        if !x.is_finite() {
                            continue;
                        }
                        *x /= top;
                        if blend.popularity > 0.0 && max_pop > 0.0 {
                            *x += blend.popularity * (1.0 + snap.popularity[i]).ln() / (1.0 + max_pop).ln();
                        }
                        if blend.novelty > 0.0 {
                            *x += blend.novelty * novelty(cat.get(snap.items.id(i as u32)), newest);
                        }
                    }
                    Some(b)
                };
                let ranked = blended.as_deref().unwrap_or(scores);
                top_k(ranked, depth(main), |i| !ok(i)).into_iter().map(|(i, _)| (i, scores[i as usize], None)).collect()
            };
            for (i, score, known) in ranked {
                if out.len() == main {
                    break;
                }
                let because = known.unwrap_or_else(|| model.explain(&h.items, i, 1).first().map(|e| e.0));
                if because.is_none() && score <= 0.0 && plain {
                    break; // nothing the history says: popular items fill in below
                }
                let reason = match because {
                    Some(b) => {
                        let v = h.kind(b).map_or("interacted with", EventKind::verb);
                        format!("because you {v} “{}”", self.title(&cat, snap, b))
                    }
                    None if model.name() == "popularity" => "a bestseller in this shop".to_owned(),
                    None => "popular with shoppers like you".to_owned(),
                };
                let p = self.pick(&cat, snap, i, score, reason, because);
                if !capped(&p) {
                    out.push(p);
                }
            }
            REACHED.with(|b| *b.borrow_mut() = reached);
        }
        if out.len() < main {
            let have: FxHashSet<String> = out.iter().map(|p| p.item.clone()).collect();
            for (i, s) in
                top_k(&snap.popularity, depth(main - out.len()), |i| !ok(i) || have.contains(snap.items.id(i)))
            {
                if s <= 0.0 || out.len() == main {
                    break;
                }
                let p = self.pick(&cat, snap, i, s, "popular in this shop".to_owned(), None);
                if !capped(&p) {
                    out.push(p);
                }
            }
        }
        if explore > 0 {
            let have: FxHashSet<String> = out.iter().map(|p| p.item.clone()).collect();
            let fresh = newest_items(&cat, f, n + have.len() + h.items.len(), |id| {
                have.contains(id) || (!allow_repeat && snap.items.get(id).is_some_and(owned))
            });
            out.extend(fresh.into_iter().take(explore).map(|it| pick_item(it, 0.0, "new in the shop".to_owned())));
        }
        out
    }

    /// The newest catalogue items passing `f` (also items no model knows yet).
    pub fn new_arrivals(&self, f: &Filter, n: usize) -> Vec<Pick> {
        let cat = self.catalogue.read().unwrap_or_else(|e| e.into_inner());
        newest_items(&cat, f, n, |_| false)
            .into_iter()
            .map(|it| pick_item(it, it.created_at.unwrap_or(0) as f32, "new in the shop".to_owned()))
            .collect()
    }

    /// Items with the most distinct shoppers in the last `hours` before the latest event.
    pub fn trending(&self, snap: &Snapshot, f: &Filter, n: usize, hours: u32) -> Vec<Pick> {
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let latest = snap.recent.last().map_or(0, |r| r.0).max(
            live.values().flat_map(|v| v.iter().filter(|e| e.seq >= snap.seq).map(|e| e.timestamp)).max().unwrap_or(0),
        );
        let from = latest - i64::from(hours) * 3600;
        let mut pairs: FxHashSet<(u32, String)> = FxHashSet::default();
        let start = snap.recent.partition_point(|r| r.0 < from);
        for r in &snap.recent[start..] {
            pairs.insert((r.1, snap.users.id(r.2).to_owned()));
        }
        for (user, evs) in live.iter() {
            for e in evs.iter().filter(|e| e.seq >= snap.seq && e.timestamp >= from) {
                if let Some(i) = snap.items.get(&e.item) {
                    pairs.insert((i, user.clone()));
                }
            }
        }
        drop(live);
        let mut counts = vec![0f32; snap.items.len()];
        for (i, _) in &pairs {
            counts[*i as usize] += 1.0;
        }
        let cat = self.catalogue.read().unwrap_or_else(|e| e.into_inner());
        top_k(&counts, n, |i| !f.passes(snap.items.id(i), cat.get(snap.items.id(i))))
            .into_iter()
            .filter(|&(_, c)| c > 0.0)
            .map(|(i, c)| {
                let reason = format!("trending: {c} shoppers in the last {hours} h");
                self.pick(&cat, snap, i, c, reason, None)
            })
            .collect()
    }

    /// Items most often bought by the buyers of `item`.
    pub fn bought_together(&self, snap: &Snapshot, item: u32, f: &Filter, n: usize) -> Vec<Pick> {
        let mut counts = vec![0f32; snap.items.len()];
        for &u in snap.purchases.item_row(item).0 {
            for &j in snap.purchases.user_row(u).0 {
                counts[j as usize] += 1.0;
            }
        }
        counts[item as usize] = 0.0;
        let cat = self.catalogue.read().unwrap_or_else(|e| e.into_inner());
        let title = self.title(&cat, snap, item);
        top_k(&counts, n, |i| !f.passes(snap.items.id(i), cat.get(snap.items.id(i))))
            .into_iter()
            .filter(|&(_, c)| c > 0.0)
            .map(|(i, c)| self.pick(&cat, snap, i, c, format!("often bought together with “{title}”"), Some(item)))
            .collect()
    }

    /// "Buy it again": the items `user` bought (purchases less returns above zero, live events
    /// included) passing `f`, by the buy-again score of `daogou_algo`'s `buy-again` model with
    /// its defaults: (1 − r)·count / max count + r·2^(−age / half-life), the age of an item's
    /// latest purchase counted from the user's latest event.
    pub fn buy_again(&self, snap: &Snapshot, user: &str, f: &Filter, n: usize) -> Vec<Pick> {
        // item → (purchases less returns, latest purchase)
        let mut bought: FxHashMap<String, (i32, i64)> = FxHashMap::default();
        let mut latest = i64::MIN;
        if let Some(u) = self.snapshot_user(snap, user) {
            let start = snap.purchases.by_user.indptr()[u as usize];
            for (k, &i) in snap.purchases.user_row(u).0.iter().enumerate() {
                bought.insert(snap.items.id(i).to_owned(), (snap.bought.net[start + k], snap.bought.last[start + k]));
            }
            latest = snap.bought.latest[u as usize];
        }
        {
            let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
            // an event posted twice is stored once (the store deduplicates): count it once
            let mut seen: FxHashSet<(&str, EventKind, i64, u32)> = FxHashSet::default();
            for e in live.get(user).into_iter().flatten().filter(|e| e.seq >= snap.seq) {
                let key = (e.item.as_str(), e.kind, e.timestamp, e.value.to_bits());
                if matches!(e.kind, EventKind::Purchase | EventKind::Return) && !seen.insert(key) {
                    continue;
                }
                match e.kind {
                    EventKind::Purchase => {
                        let b = bought.entry(e.item.clone()).or_insert((0, i64::MIN));
                        b.0 += 1;
                        b.1 = b.1.max(e.timestamp);
                    }
                    EventKind::Return => bought.entry(e.item.clone()).or_insert((0, i64::MIN)).0 -= 1,
                    _ => {}
                }
                if e.kind != EventKind::Return {
                    latest = latest.max(e.timestamp);
                }
            }
        }
        bought.retain(|_, b| b.0 > 0);
        // the score is the history's: filters choose among the items, they do not rescale them
        let max_n = bought.values().map(|b| b.0).max().unwrap_or(1) as f64;
        let cat = self.catalogue.read().unwrap_or_else(|e| e.into_inner());
        let mut ranked: Vec<(f32, String, i32, i64)> = bought
            .into_iter()
            .filter(|(id, _)| f.passes(id, cat.get(id)))
            .map(|(id, (count, last))| {
                let age = latest.saturating_sub(last).max(0) as f64;
                let score = past_item_score(f64::from(count) / max_n, age, DEFAULT_HALF_LIFE_DAYS, DEFAULT_RECENCY);
                (score as f32, id, count, last)
            })
            .collect();
        ranked.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(b.3.cmp(&a.3)).then_with(|| a.1.cmp(&b.1)));
        ranked.truncate(n);
        ranked
            .into_iter()
            .map(|(score, id, count, last)| pick_id(&cat, &id, score, bought_reason(count, last), None))
            .collect()
    }

    /// The most popular items passing `f`.
    pub fn popular(&self, snap: &Snapshot, f: &Filter, n: usize) -> Vec<Pick> {
        let cat = self.catalogue.read().unwrap_or_else(|e| e.into_inner());
        top_k(&snap.popularity, n, |i| !f.passes(snap.items.id(i), cat.get(snap.items.id(i))))
            .into_iter()
            .filter(|&(_, s)| s > 0.0)
            .map(|(i, s)| self.pick(&cat, snap, i, s, "popular in this shop".to_owned(), None))
            .collect()
    }

    /// For an item the model cannot relate (new, or without neighbours): the most popular
    /// items of its category (of the whole shop when it has none).
    pub fn cold_similar(&self, snap: &Snapshot, it: &Item, f: &Filter, n: usize) -> Vec<Pick> {
        let mut f = f.clone();
        f.exclude.insert(it.id.clone());
        let (reason, narrowed) = match (&f.category, &it.category) {
            (None, Some(c)) => {
                f.category = Some(c.clone());
                (format!("popular in {c}, like “{}”", if it.title.is_empty() { &it.id } else { &it.title }), true)
            }
            _ => ("popular in this shop".to_owned(), false),
        };
        let mut picks = self.popular(snap, &f, n);
        if narrowed {
            for p in &mut picks {
                p.reason = reason.clone();
            }
        }
        picks
    }

    /// Items similar to `item`; `None` when the model has no item similarity.
    pub fn similar(&self, snap: &Snapshot, item: u32, f: &Filter, n: usize) -> Option<Vec<Pick>> {
        let model = snap.model.as_ref()?;
        let sims = model.similar_items(item, (n * 4).max(n + 50))?;
        let cat = self.catalogue.read().unwrap_or_else(|e| e.into_inner());
        let title = self.title(&cat, snap, item);
        Some(
            sims.into_iter()
                .filter(|&(i, _)| i != item && f.passes(snap.items.id(i), cat.get(snap.items.id(i))))
                .take(n)
                .map(|(i, s)| {
                    self.pick(&cat, snap, i, s, format!("customers who viewed “{title}” also viewed this"), Some(item))
                })
                .collect(),
        )
    }

    /// Record the items answered (for the coverage gauge).
    pub fn note_served(&self, picks: &[Pick]) {
        self.metrics.note_served(picks.iter().map(|p| p.item.as_str()));
    }
}
