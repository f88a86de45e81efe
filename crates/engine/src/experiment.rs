//! Online experiments in the answer pipeline: definitions, deterministic assignment of shoppers
//! to variants, the variants' models and blending knobs, the lists shown (exposures) and the
//! attribution of later events to them. The statistics live in `daogou-eval`
//! (`experiment`); the store keeps everything that must survive a restart.
//!
//! * **Assignment**: a unit (the stored user id, or the session id of an anonymous session) is
//!   in the variant whose slice of [0, 1), in definition order and proportional to the shares,
//!   holds HMAC-SHA256(store salt, experiment name ‖ 0x1f ‖ unit) (first 53 bits). The salt is
//!   created with the store, so the split is the same after a restart and on every server
//!   sharing the store.
//! * **Variants**: each either answers with the serving model (no `model`) or with its own,
//!   fitted on the store (a model name with `params`) or loaded from a model file when the
//!   experiment starts (and again when the server restarts, or a user is deleted; not by the
//!   serving model's refits, so live events stay until the variants' models have them too);
//!   each may set blending knobs, which replace the request's.
//! * **Attribution**: a click (or view), add-to-cart or purchase of an item counts for the list
//!   named by the event's `recommendation_id` when that list showed the item; without one, for
//!   the latest list shown to the same unit within the window before the event that showed the
//!   item. Only running experiments collect outcomes. Revenue is price × quantity.

use std::collections::BTreeMap;
use std::sync::Arc;

use daogou_core::{Event, EventKind, Params};
use daogou_store::{ExperimentSalt, Outcome, Store, StoredExperiment};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::filter::Blend;
use crate::snapshot::{ModelSpec, Snapshot};
use crate::{Error, Result};

/// Default attribution window (hours).
pub const DEFAULT_WINDOW_HOURS: u32 = 24;

fn default_window() -> u32 {
    DEFAULT_WINDOW_HOURS
}

/// An experiment as created (`POST /admin/experiments`); stored as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentDef {
    /// Unique name (letters, digits, `-`, `_`, `.`).
    pub name: String,
    /// The variants; the first is the control.
    pub variants: Vec<VariantDef>,
    /// The metric the sequential test watches (`ctr`, `add_to_cart_rate`, `conversion_rate`,
    /// `revenue_per_user`).
    pub primary_metric: String,
    /// Events are attributed to a list shown at most this many hours before them.
    #[serde(default = "default_window")]
    pub attribution_window_hours: u32,
}

/// One variant of an experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantDef {
    /// Unique name within the experiment.
    pub name: String,
    /// Traffic share (relative weight, > 0).
    pub share: f64,
    /// A model name or a model file on the server; none: the serving model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Hyperparameters of a named model.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, Value>,
    /// Blending knob: weight of log-popularity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub popularity_weight: Option<f32>,
    /// Blending knob: weight of novelty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub novelty_weight: Option<f32>,
    /// Diversity: at most this many items per category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_category: Option<usize>,
    /// Share of the list for new arrivals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explore: Option<f32>,
    /// Share of the score from the current session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_weight: Option<f32>,
}

impl VariantDef {
    /// The request's blending knobs with this variant's in their place.
    pub fn blend(&self, request: &Blend) -> Blend {
        Blend {
            popularity: self.popularity_weight.unwrap_or(request.popularity),
            novelty: self.novelty_weight.unwrap_or(request.novelty),
            max_per_category: self.max_per_category.or(request.max_per_category),
            explore: self.explore.unwrap_or(request.explore),
            session_weight: self.session_weight.unwrap_or(request.session_weight),
            ..request.clone()
        }
    }

    /// The model spec of a named model (not a file), on `signal`.
    pub(crate) fn spec(&self, signal: &daogou_data::Signal) -> Option<ModelSpec> {
        let name = self.model.as_ref()?;
        if std::path::Path::new(name).is_file() {
            return None;
        }
        let mut params = Params::new();
        for (k, v) in &self.params {
            params.set(k, v.as_str().map_or_else(|| v.to_string(), str::to_owned));
        }
        Some(ModelSpec { name: name.clone(), params, signal: *signal })
    }
}

/// The variant whose share slice holds `x` ∈ [0, 1).
pub fn pick_variant(shares: &[f64], x: f64) -> usize {
    let total: f64 = shares.iter().sum();
    let mut acc = 0.0;
    for (i, s) in shares.iter().enumerate() {
        acc += s / total;
        if x < acc {
            return i;
        }
    }
    shares.len().saturating_sub(1)
}

/// An experiment with its stored status.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentInfo {
    /// The definition.
    pub def: ExperimentDef,
    /// `draft`, `running` or `stopped`.
    pub status: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub started_at: Option<i64>,
    /// Unix seconds.
    pub stopped_at: Option<i64>,
}

impl ExperimentInfo {
    pub(crate) fn from_stored(s: StoredExperiment) -> Result<ExperimentInfo> {
        let def: ExperimentDef = serde_json::from_str(&s.definition).map_err(|e| {
            daogou_store::StoreError::Corrupt(format!("experiment `{}`: definition unreadable ({e})", s.name))
        })?;
        Ok(ExperimentInfo {
            def,
            status: s.status,
            created_at: s.created_at,
            started_at: s.started_at,
            stopped_at: s.stopped_at,
        })
    }
}

/// A running experiment with its variants' snapshots.
pub struct Running {
    /// The definition.
    pub def: ExperimentDef,
    /// Unix seconds of the start.
    pub started_at: i64,
    /// Per variant: its own model's snapshot, or `None` for the serving model.
    pub(crate) snapshots: Vec<Option<Arc<Snapshot>>>,
    pub(crate) shares: Vec<f64>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running").field("def", &self.def).field("started_at", &self.started_at).finish()
    }
}

/// A unit's variant in the running experiment.
#[derive(Debug, Clone)]
pub struct Arm {
    /// The experiment.
    pub running: Arc<Running>,
    /// Index of the variant.
    pub index: usize,
}

impl Arm {
    /// The experiment's name.
    pub fn experiment(&self) -> &str {
        &self.running.def.name
    }

    /// The variant's name.
    pub fn variant(&self) -> &str {
        &self.running.def.variants[self.index].name
    }

    /// The snapshot this variant answers with (`serving`: the current one).
    pub fn snapshot(&self, serving: Arc<Snapshot>) -> Arc<Snapshot> {
        self.running.snapshots[self.index].clone().unwrap_or(serving)
    }

    /// The request's blending knobs with the variant's in their place.
    pub fn blend(&self, request: &Blend) -> Blend {
        self.running.def.variants[self.index].blend(request)
    }
}

/// Where an experiment's answer came from: the JSON keys every answer in an experiment
/// carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exposed {
    /// The experiment.
    pub experiment: String,
    /// The variant.
    pub variant: String,
    /// The list's id: send it back with the events it leads to.
    pub recommendation_id: String,
}

/// `r` + the exposure's id.
pub fn recommendation_id(id: i64) -> String {
    format!("r{id}")
}

/// The exposure id of a recommendation id (`r123` → 123); `None` when malformed.
pub fn parse_recommendation_id(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('r')?;
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// What an event counts as in an experiment, if anything.
pub fn outcome_kind(kind: EventKind) -> Option<&'static str> {
    match kind {
        EventKind::Click | EventKind::View => Some("click"),
        EventKind::AddToCart => Some("add_to_cart"),
        EventKind::Purchase => Some("purchase"),
        _ => None,
    }
}

/// The assignment salt and the running experiment.
pub(crate) struct Experiments {
    pub(crate) salt: std::sync::RwLock<ExperimentSalt>,
    pub(crate) running: std::sync::RwLock<Option<Arc<Running>>>,
    /// Serialises starts, stops and rebuilds.
    pub(crate) changes: std::sync::Mutex<()>,
}

impl Experiments {
    pub(crate) fn new(store: &dyn Store) -> Result<Experiments> {
        Ok(Experiments {
            salt: std::sync::RwLock::new(store.experiment_salt()?),
            running: std::sync::RwLock::new(None),
            changes: std::sync::Mutex::new(()),
        })
    }

    pub(crate) fn running(&self) -> Option<Arc<Running>> {
        self.running.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn set(&self, r: Option<Arc<Running>>) {
        *self.running.write().unwrap_or_else(|e| e.into_inner()) = r;
    }

    /// `unit`'s arm in the running experiment.
    pub(crate) fn arm(&self, unit: &str) -> Option<Arm> {
        let running = self.running()?;
        let x = self.salt.read().unwrap_or_else(|e| e.into_inner()).bucket(&running.def.name, unit);
        let index = pick_variant(&running.shares, x);
        Some(Arm { running, index })
    }
}

/// Outcomes of `events` (with their recommendation ids) for the running experiment `running`.
/// `price` gives an item's price.
pub(crate) fn outcomes(
    store: &dyn Store,
    running: &Running,
    events: &[Event],
    rec_ids: &[Option<String>],
    price: impl Fn(&str) -> Option<f64>,
) -> Result<Vec<Outcome>> {
    let window = i64::from(running.def.attribution_window_hours) * 3_600;
    let mut out = Vec::new();
    for (n, e) in events.iter().enumerate() {
        let Some(kind) = outcome_kind(e.kind) else { continue };
        if e.item.is_empty() {
            continue;
        }
        let exposure = match rec_ids.get(n).and_then(|r| r.as_deref()) {
            Some(r) => {
                let id = parse_recommendation_id(r).ok_or_else(|| {
                    daogou_store::StoreError::Invalid(format!(
                        "events[{n}].recommendation_id: `{r}` is not a recommendation id (r followed by digits)"
                    ))
                })?;
                store
                    .exposure(id)?
                    .filter(|x| x.experiment == running.def.name && x.items.contains(&e.item))
                    .map(|x| x.id)
            }
            None => store.last_exposure_with(&running.def.name, &e.user, &e.item, e.timestamp - window, e.timestamp)?,
        };
        let Some(exposure) = exposure else { continue };
        let value = f64::from(e.value);
        let revenue = if kind == "purchase" { price(&e.item).unwrap_or(0.0) * value.max(0.0) } else { 0.0 };
        out.push(Outcome { exposure, item: e.item.clone(), kind, value, revenue, at: e.timestamp });
    }
    Ok(out)
}

/// Errors of experiment changes the caller can fix.
pub(crate) fn conflict(msg: String) -> Error {
    Error::Conflict(msg)
}
