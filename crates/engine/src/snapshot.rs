//! A fitted model with everything needed to answer with it ([`Snapshot`]), built by fitting
//! on a dataset or by loading a model file. Immutable once built; the engine swaps whole
//! snapshots, and a request keeps the one it started with.

use std::borrow::Cow;
use std::path::Path;

use daogou_algo::{build_model, Recommender, TrainData};
use daogou_core::{Aggregate, Csr, Dataset, EventKind, IdMap, Interaction, Interactions, Params};
use daogou_data::Signal;
use daogou_store::DeletionLog;
use rustc_hash::FxHashMap;

use crate::catalogue::IndexItems;
use crate::{Error, Result};

/// Which model to fit, with which parameters, on which signal.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    /// Registered model name.
    pub name: String,
    /// Hyperparameters.
    pub params: Params,
    /// How behaviour becomes training values (and how live events are weighed).
    pub signal: Signal,
}

impl ModelSpec {
    /// `name` with default parameters and signal.
    pub fn named(name: &str) -> Self {
        ModelSpec { name: name.to_owned(), params: Params::new(), signal: Signal::default() }
    }
}

/// Marks a model item (or catalogue item) without a counterpart.
pub(crate) const NONE: u32 = u32::MAX;

/// A fitted model with everything needed to answer with it.
pub struct Snapshot {
    /// Increases by one with every swap.
    pub version: u64,
    /// `None` while the store holds no interactions.
    pub model: Option<Box<dyn Recommender>>,
    /// What was fitted (used again by retrains), with the signal live events are weighed by.
    pub spec: ModelSpec,
    /// The model's user ids.
    pub users: IdMap,
    /// The model's item ids.
    pub items: IdMap,
    /// Model item index → catalogue index.
    pub to_catalogue: Vec<u32>,
    /// Catalogue index → model item index (`NONE` for items the model does not know), for
    /// the catalogue as it was when the snapshot was built; later items are unknown to it.
    from_catalogue: Vec<u32>,
    /// Training histories (users × items).
    pub train: Interactions,
    /// Per model user: (item, strongest kind of event), sorted by item.
    pub kinds: Vec<Vec<(u32, EventKind)>>,
    /// Distinct users per item.
    pub popularity: Vec<f32>,
    /// Ratings rather than behaviour.
    pub explicit: bool,
    /// Live events with a sequence number below this are part of the data it was built on.
    pub seq: u64,
    /// Who bought what (binary; bought together).
    pub purchases: Interactions,
    /// Purchase counts and times behind `purchases` (buy it again).
    pub bought: BoughtLog,
    /// For a model file: whether the store's data, under the file's signal, is the data the
    /// model was trained on (same fingerprint). Always true for a fit.
    pub data_matches: bool,
    /// Said once when the snapshot was built (an old model file without a recorded signal, a
    /// model file trained on other data than the store holds, users deleted since a file was
    /// written).
    pub warnings: Vec<String>,
    /// Model users deleted since the model file was written (the store's deletion log), sorted:
    /// they are served as unknown users; the model's parameters still carry their influence on
    /// others until a refit ([`Snapshot::needs_refit`]).
    pub hidden: Vec<u32>,
    /// Per model user, their latest training events (the current session when they are
    /// recent; see [`crate::History::session_items`]).
    pub recent: Recent,
}

/// Events kept per user for the session blend of "for you": a session is minutes to hours,
/// rarely more than a handful of views and carts.
pub const RECENT_PER_USER: usize = 16;

/// One event of a user's recent past, in the model's item space.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecentEvent {
    /// Model item.
    pub item: u32,
    /// What happened.
    pub kind: EventKind,
    /// Unix seconds.
    pub timestamp: i64,
}

/// Per user, their latest [`RECENT_PER_USER`] events with an item (views, clicks, carts,
/// purchases; not searches, ratings or returns), oldest first, in one flat array.
#[derive(Debug, Clone, Default)]
pub struct Recent {
    offsets: Vec<usize>,
    events: Vec<RecentEvent>,
}

impl Recent {
    /// The latest events of model user `u`, oldest first.
    pub fn of(&self, u: u32) -> &[RecentEvent] {
        let u = u as usize;
        match (self.offsets.get(u), self.offsets.get(u + 1)) {
            (Some(&a), Some(&b)) => &self.events[a..b],
            _ => &[],
        }
    }

    /// Whether `kind` says what a shopper is after now.
    pub fn counts(kind: EventKind) -> bool {
        matches!(kind, EventKind::View | EventKind::Click | EventKind::AddToCart | EventKind::Purchase)
    }

    /// The latest `per_user` events of every user of `ds` (ties in time: the later in `ds`):
    /// a counting sort of the event indices by user, then the newest of each user's slice.
    fn build(ds: &Dataset, per_user: usize) -> Recent {
        let n = ds.n_users();
        let mut start = vec![0usize; n + 1];
        for x in ds.interactions.iter().filter(|x| Recent::counts(x.kind)) {
            start[x.user as usize + 1] += 1;
        }
        for u in 0..n {
            start[u + 1] += start[u];
        }
        let mut next = start.clone();
        let mut order = vec![0u32; start[n]];
        for (k, x) in ds.interactions.iter().enumerate().filter(|(_, x)| Recent::counts(x.kind)) {
            order[next[x.user as usize]] = k as u32;
            next[x.user as usize] += 1;
        }
        let mut offsets = Vec::with_capacity(n + 1);
        let mut events = Vec::new();
        offsets.push(0);
        for u in 0..n {
            let slice = &mut order[start[u]..start[u + 1]];
            slice.sort_unstable_by_key(|&k| (ds.interactions[k as usize].timestamp, k));
            let keep = &slice[slice.len().saturating_sub(per_user)..];
            events.extend(keep.iter().map(|&k| {
                let x = &ds.interactions[k as usize];
                RecentEvent { item: x.item, kind: x.kind, timestamp: x.timestamp }
            }));
            offsets.push(events.len());
        }
        Recent { offsets, events }
    }
}

/// Per stored (user, item) pair of [`Snapshot::purchases`], in the same order as its
/// `by_user` entries: purchases less returns and the time of the latest purchase; per user
/// the time of their latest event (buy it again).
#[derive(Debug, Clone, Default)]
pub struct BoughtLog {
    pub(crate) net: Vec<i32>,
    pub(crate) last: Vec<i64>,
    pub(crate) latest: Vec<i64>,
}

impl Snapshot {
    /// Write this snapshot's model as a model file (what `daogou train --out` writes), naming
    /// `source` as where its data came from; the manifest. [`Error::ModelFile`] when there is
    /// no model (an empty store) or the file cannot be written.
    pub fn save(&self, path: &Path, source: &str) -> Result<serde_json::Value> {
        let model = self.model.as_deref().ok_or_else(|| {
            Error::ModelFile(daogou_modelfile::Error::Invalid {
                path: path.to_owned(),
                reason: "nothing to save: no model was fitted".into(),
            })
        })?;
        let ctx = daogou_modelfile::TrainingContext {
            users: &self.users,
            items: &self.items,
            train: &self.train,
            explicit: self.explicit,
            params: &self.spec.params,
            signal: &self.spec.signal,
            source,
        };
        Ok(daogou_modelfile::save(path, model, &ctx)?)
    }

    /// Model name, or `none`.
    pub fn model_name(&self) -> &str {
        self.model.as_ref().map_or("none", |m| m.name())
    }

    /// True when model user `u` was deleted since the model was built.
    pub fn is_hidden(&self, u: u32) -> bool {
        self.hidden.binary_search(&u).is_ok()
    }

    /// True when the model still carries the influence of deleted users: a refit on the store
    /// removes it.
    pub fn needs_refit(&self) -> bool {
        !self.hidden.is_empty()
    }

    /// The model item of catalogue item `i`, if the model knows it.
    pub fn model_item(&self, i: u32) -> Option<u32> {
        self.from_catalogue.get(i as usize).copied().filter(|&m| m != NONE)
    }

    /// The catalogue index of model item `m`.
    pub fn catalogue_item(&self, m: u32) -> u32 {
        self.to_catalogue[m as usize]
    }

    /// Fit `spec` on everything in `ds` (the store's contents, whose item order is the
    /// catalogue's).
    pub fn fit(ds: &Dataset, cat: &mut dyn IndexItems, spec: &ModelSpec, version: u64, seq: u64) -> Result<Snapshot> {
        if !daogou_algo::model_names().contains(&spec.name.as_str()) {
            return Err(Error::UnknownModel {
                name: spec.name.clone(),
                available: daogou_algo::model_names().join(", "),
            });
        }
        let explicit = spec.signal.explicit(ds);
        let train = spec.signal.train_matrix(ds, &ds.interactions);
        let model = if train.nnz() == 0 {
            None
        } else {
            let data = TrainData::new(&train, explicit).with_items(&ds.catalogue).with_events(&ds.interactions);
            Some(build_model(&spec.name, &spec.params, &data)?)
        };
        let parts = Parts {
            model,
            spec: spec.clone(),
            users: ds.users.clone(),
            items: ds.items.clone(),
            train,
            explicit,
            data_matches: true,
            warnings: Vec::new(),
            hidden: Vec::new(),
        };
        Ok(parts.finish(ds, cat, version, seq))
    }

    /// Load a model file; `ds` (the store's contents) supplies the event kinds behind the
    /// reasons, the purchases and the fingerprint check, `deletions` the users deleted since the
    /// file was written (left out). A file whose ids have nothing in common with a non-empty
    /// store is refused.
    pub fn load(
        path: &Path,
        ds: &Dataset,
        deletions: &DeletionLog,
        cat: &mut dyn IndexItems,
        version: u64,
        seq: u64,
    ) -> Result<Snapshot> {
        let saved = daogou_modelfile::load(path)?;
        let mut params = Params::new();
        if let Some(p) = saved.manifest["params"].as_object() {
            for (k, v) in p {
                params.set(k, v.as_str().unwrap_or(&v.to_string()));
            }
        }
        let mut warnings = Vec::new();
        let signal = saved.signal.unwrap_or_else(|| {
            warnings.push(format!(
                "{} records no signal (written by an earlier daogou): live events are weighed with the default event weights",
                path.display()
            ));
            Signal::default()
        });
        let shared_users = saved.users.ids().iter().filter(|u| ds.users.get(u).is_some()).count();
        let shared_items = saved.items.ids().iter().filter(|i| ds.items.get(i).is_some()).count();
        if !ds.interactions.is_empty() && shared_users == 0 && shared_items == 0 {
            return Err(Error::ForeignModel {
                path: path.to_owned(),
                users: saved.users.len(),
                items: saved.items.len(),
            });
        }
        // the store's data in the file's id space, under the file's signal: the same matrix when
        // the file was trained on exactly what the store holds
        let mapped = map_into(ds, &saved.users, &saved.items);
        let expected = saved.manifest.pointer("/data/fingerprint").and_then(|v| v.as_str()).unwrap_or("");
        let data_matches =
            daogou_modelfile::fingerprint(&signal.train_matrix(&mapped, &mapped.interactions)) == expected;
        if !data_matches {
            warnings.push(format!(
                "{} was trained on other data than the store now holds (new events since, or another export): \
                 it answers from what it learned; retrain to include the rest",
                path.display()
            ));
        }
        // a file written before the timestamp was recorded predates every deletion
        let since = saved.trained_at.unwrap_or(i64::MIN);
        let hidden: Vec<u32> =
            (0..saved.users.len() as u32).filter(|&u| deletions.deleted_since(saved.users.id(u), since)).collect();
        if !hidden.is_empty() {
            warnings.push(format!(
                "{} holds {} user(s) deleted since it was written: they are served as unknown users at once; \
                 a refit removes what the model learned from them",
                path.display(),
                hidden.len()
            ));
        }
        let parts = Parts {
            model: Some(saved.model),
            spec: ModelSpec { name: saved.manifest["model"].as_str().unwrap_or("").to_owned(), params, signal },
            users: saved.users,
            items: saved.items,
            train: saved.train,
            explicit: saved.explicit,
            data_matches,
            warnings,
            hidden,
        };
        Ok(parts.finish(&mapped, cat, version, seq))
    }
}

/// `ds` with its interactions mapped into another id space (unknown ids dropped); the
/// catalogue follows the target items (bare entries where `ds` has none).
fn map_into<'a>(ds: &'a Dataset, users: &IdMap, items: &IdMap) -> Cow<'a, Dataset> {
    let same = users.ids() == ds.users.ids() && items.ids() == ds.items.ids();
    if same {
        return Cow::Borrowed(ds);
    }
    let item_map: Vec<Option<u32>> = ds.items.ids().iter().map(|id| items.get(id)).collect();
    let user_map: Vec<Option<u32>> = ds.users.ids().iter().map(|id| users.get(id)).collect();
    let interactions = ds
        .interactions
        .iter()
        .filter_map(|x| Some(Interaction { user: user_map[x.user as usize]?, item: item_map[x.item as usize]?, ..*x }))
        .collect();
    let catalogue = items
        .ids()
        .iter()
        .map(|id| {
            ds.items.get(id).map_or_else(|| daogou_core::Item::new(id.as_str()), |i| ds.catalogue[i as usize].clone())
        })
        .collect();
    Cow::Owned(Dataset { users: users.clone(), items: items.clone(), catalogue, interactions, explicit: ds.explicit })
}

/// What fitting or loading produced, before the parts derived from the data.
struct Parts {
    model: Option<Box<dyn Recommender>>,
    spec: ModelSpec,
    users: IdMap,
    items: IdMap,
    train: Interactions,
    explicit: bool,
    data_matches: bool,
    warnings: Vec<String>,
    hidden: Vec<u32>,
}

impl Parts {
    /// `ds` is in the model's id space.
    fn finish(self, ds: &Dataset, cat: &mut dyn IndexItems, version: u64, seq: u64) -> Snapshot {
        let to_catalogue = cat.index_items(self.items.ids());
        // items added to the catalogue later are past the end: unknown to the model
        let mut from_catalogue = vec![NONE; to_catalogue.iter().max().map_or(0, |&c| c as usize + 1)];
        for (m, &c) in to_catalogue.iter().enumerate() {
            from_catalogue[c as usize] = m as u32;
        }
        let (purchases, bought) = purchases(ds);
        Snapshot {
            version,
            kinds: strongest_kinds(ds),
            popularity: popularity(&self.train, &self.hidden),
            model: self.model,
            spec: self.spec,
            users: self.users,
            items: self.items,
            to_catalogue,
            from_catalogue,
            train: self.train,
            explicit: self.explicit,
            seq,
            purchases,
            bought,
            data_matches: self.data_matches,
            warnings: self.warnings,
            hidden: self.hidden,
            recent: Recent::build(ds, RECENT_PER_USER),
        }
    }
}

/// Which kind of event is the stronger signal of interest.
pub(crate) fn stronger(map: &mut FxHashMap<u32, EventKind>, item: u32, k: EventKind) {
    let e = map.entry(item).or_insert(k);
    if k.strength() > e.strength() {
        *e = k;
    }
}

/// Per user, the strongest kind per item, sorted by item: one matrix of the strongest
/// kind's strength (a counting sort over the events, not a hash map per user).
fn strongest_kinds(ds: &Dataset) -> Vec<Vec<(u32, EventKind)>> {
    let mut by_strength = [EventKind::Return; 7];
    for k in EventKind::ALL {
        by_strength[k.strength() as usize] = k;
    }
    let strength = |x: &Interaction| f32::from(x.kind.strength());
    let m = Csr::from_triplets(
        ds.n_users(),
        ds.n_items(),
        ds.interactions.iter().map(|x| (x.user, x.item, strength(x))),
        Aggregate::Max,
    );
    (0..ds.n_users())
        .map(|u| {
            let (items, s) = m.row(u);
            items.iter().zip(s).map(|(&i, &s)| (i, by_strength[s as usize])).collect()
        })
        .collect()
}

/// Who bought what, and the purchase log behind it.
fn purchases(ds: &Dataset) -> (Interactions, BoughtLog) {
    let bought: Vec<Interaction> = ds
        .interactions
        .iter()
        .filter(|x| x.kind == EventKind::Purchase)
        .map(|x| Interaction { value: 1.0, ..*x })
        .collect();
    let purchases = Interactions::from_interactions(ds.n_users(), ds.n_items(), &bought, Aggregate::Last);
    let m = &purchases.by_user;
    let mut log =
        BoughtLog { net: vec![0; m.nnz()], last: vec![i64::MIN; m.nnz()], latest: vec![i64::MIN; ds.n_users()] };
    for x in &ds.interactions {
        let u = x.user as usize;
        if x.kind != EventKind::Return {
            // as in the buy-again model: returns do not make an event recent
            log.latest[u] = log.latest[u].max(x.timestamp);
        }
        if !matches!(x.kind, EventKind::Purchase | EventKind::Return) {
            continue;
        }
        // returns of items the user never bought are left out
        let Ok(p) = m.row(u).0.binary_search(&x.item) else { continue };
        let at = m.indptr()[u] + p;
        if x.kind == EventKind::Purchase {
            log.net[at] += 1;
            log.last[at] = log.last[at].max(x.timestamp);
        } else {
            log.net[at] -= 1;
        }
    }
    (purchases, log)
}

/// Distinct users per item, leaving out `hidden` users (sorted).
fn popularity(train: &Interactions, hidden: &[u32]) -> Vec<f32> {
    (0..train.n_items())
        .map(|i| train.item_row(i as u32).0.iter().filter(|u| hidden.binary_search(u).is_err()).count() as f32)
        .collect()
}
