//! The shared state of the service: the engine (model snapshot, catalogue, live state, store),
//! the configuration, metrics, rate-limit buckets, the guide and the dashboard's bookkeeping.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use daogou_core::Params;
use daogou_data::Signal;
use daogou_engine::{Engine, ModelSource, Snapshot};
use daogou_store::{SqliteStore, Store};
use serde_json::{json, Value};

use crate::config::Config;
use crate::guide::GuideSlot;
use crate::metrics::Metrics;

/// Boxed error for start-up.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Model versions remembered for the dashboard.
const MAX_VERSIONS: usize = 100;

/// `/stats/overview` as computed for (model version, events ingested) at a time.
pub(crate) type CachedStats = ((u64, u64), Instant, Arc<Value>);

/// The shared state of the service.
pub struct AppState {
    /// Configuration it was started with.
    pub config: Config,
    /// The answer pipeline and the state it answers from.
    pub engine: Engine,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// Last background retrain outcome.
    pub last_retrain: Mutex<Option<Value>>,
    /// A refit requested through the API is running (another one is answered 409).
    pub(crate) refitting: AtomicBool,
    /// Search and the assistant (built on first use, kept in step with the catalogue).
    pub(crate) guide: GuideSlot,
    /// The snapshots served since start (dashboard), oldest first.
    versions: Mutex<Vec<Value>>,
    started: i64,
    /// `/stats/overview` cache.
    pub(crate) stats: Mutex<Option<CachedStats>>,
    /// An evaluation (`POST /admin/evaluate`) is running.
    pub(crate) evaluating: AtomicBool,
    /// Why the last evaluation failed.
    pub(crate) last_evaluation_error: Mutex<Option<String>>,
    /// What this server shares with others on the same store (see [`crate::cluster`]).
    cluster: OnceLock<Arc<crate::cluster::Cluster>>,
}

/// Unix seconds now.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn version_entry(snap: &Snapshot, at: i64) -> Value {
    let mut params: Vec<String> = snap.spec.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    params.sort();
    json!({
        "version": snap.version,
        "model": snap.model_name(),
        "params": params,
        "users": snap.users.len(),
        "items": snap.items.len(),
        "interactions": snap.train.nnz(),
        "data_matches": snap.data_matches,
        "since": at,
    })
}

impl AppState {
    /// Build the state on `store`: load `config.model` when it names a file, otherwise fit it
    /// (with `config.params`, `config.weights`) on the stored data. Blocking: call it from
    /// `spawn_blocking` or before the runtime starts.
    pub fn new(mut store: SqliteStore, config: Config) -> Result<Arc<AppState>, BoxError> {
        // the store opens with a large cache for imports; a service that mostly appends keeps
        // a small one, so its memory levels off (bench/rss_soak.sh)
        store.set_cache_mib(config.sqlite_cache_mib)?;
        // no event write waits for a WAL checkpoint (bench/refit_ingest.sh)
        store.checkpoint_in_background()?;
        AppState::with_store(store.into(), config)
    }

    /// [`AppState::new`] on any store (PostgreSQL, say).
    pub fn with_store(store: Box<dyn Store>, config: Config) -> Result<Arc<AppState>, BoxError> {
        let params = Params::parse(config.params.iter().map(String::as_str))?;
        let signal = Signal::from_options(config.weights.as_deref(), None, None)?;
        let source = ModelSource::new(&config.model, params, signal);
        if let ModelSource::File(path) = &source {
            if !config.params.is_empty() || config.weights.is_some() {
                return Err(format!(
                    "--set and --weights apply when fitting; {} was saved with its parameters and signal",
                    path.display()
                )
                .into());
            }
        }
        let engine = Engine::open(store, &source, config.live)?;
        engine.set_group_commit(config.group_commit);
        engine.set_refit_nice(config.refit_nice);
        if let Some(secret) = &config.experiment_salt {
            engine.set_experiment_salt(daogou_store::ExperimentSalt::from_secret(secret));
        }
        // a running experiment goes on where it was (its variants' own models are fitted again)
        engine.resume_experiment()?;
        let snap = engine.snapshot();
        for w in snap.warnings.iter().chain(&engine.take_notes()) {
            eprintln!("warning: {w}");
        }
        let metrics = Metrics::default();
        metrics.model_version.store(snap.version, Ordering::Relaxed);
        let started = now();
        let guide = GuideSlot::new(config.assistant.clone());
        Ok(Arc::new(AppState {
            versions: Mutex::new(vec![version_entry(&snap, started)]),
            config,
            engine,
            metrics,
            last_retrain: Mutex::new(None),
            refitting: AtomicBool::new(false),
            guide,
            started,
            stats: Mutex::new(None),
            evaluating: AtomicBool::new(false),
            last_evaluation_error: Mutex::new(None),
            cluster: OnceLock::new(),
        }))
    }

    /// Serve as one of several servers on a shared store: models come from the trainer,
    /// deletions and refits are the trainer's (see [`crate::cluster`]). Call before serving.
    pub fn join_cluster(&self, cluster: Arc<crate::cluster::Cluster>) {
        self.engine.set_local_refits(false);
        if let Some(turns) = cluster.shared_turns() {
            self.guide.share_conversations(turns);
        }
        let _ = self.cluster.set(cluster);
    }

    /// The cluster this server is part of.
    pub fn cluster(&self) -> Option<&Arc<crate::cluster::Cluster>> {
        self.cluster.get()
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.engine.snapshot()
    }

    /// The id a user is stored under: the raw id, or its pseudonym when `pseudonymize_key` is
    /// configured.
    pub fn user_id(&self, raw: &str) -> String {
        match &self.config.pseudonymize_key {
            Some(k) => crate::config::pseudonym(k, raw),
            None => raw.to_owned(),
        }
    }

    /// Note a snapshot the engine swapped in (metrics, the dashboard's version list).
    pub(crate) fn note_model(&self, snap: &Snapshot) {
        self.metrics.model_version.store(snap.version, Ordering::Relaxed);
        let mut v = self.versions.lock().unwrap_or_else(|e| e.into_inner());
        if v.last().is_some_and(|e| e["version"] == snap.version) {
            return;
        }
        v.push(version_entry(snap, now()));
        if v.len() > MAX_VERSIONS {
            v.remove(0);
        }
    }

    /// The snapshots served since start, newest first.
    pub(crate) fn versions(&self) -> Vec<Value> {
        let mut v = self.versions.lock().unwrap_or_else(|e| e.into_inner()).clone();
        v.reverse();
        v
    }

    /// When the service started (unix seconds).
    pub fn started(&self) -> i64 {
        self.started
    }
}
