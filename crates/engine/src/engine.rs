//! [`Engine`]: the state behind every answer — the store, the current snapshot (swapped
//! atomically), the live catalogue, live histories and trending counters — and the operations
//! that change it (events, catalogue upserts, refits, model files, deleting a user). Plain
//! threads and locks: the service calls it from blocking tasks, the command line directly.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use daogou_core::{Dataset, Event, EventKind, Item, Params};
use daogou_data::Signal;
use daogou_store::{DeletionLog, Store, StoreError};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::background::{self, FitPool};
use crate::catalogue::{Catalogue, SharedCatalogue};
use crate::experiment::{self as exp, Arm, ExperimentDef, ExperimentInfo, Experiments, Exposed, Running};
use crate::filter::{Blend, Filter};
use crate::history::History;
use crate::live::{LiveEvent, LiveEvents, LiveLimits, Trending, TrendingCounts, TRENDING_SPAN};
use crate::pick::Pick;
use crate::snapshot::{ModelSpec, Snapshot};
use crate::{lists, Error, Result};

/// Where the model comes from.
#[derive(Debug, Clone)]
pub enum ModelSource {
    /// Fit this spec on the stored data.
    Fit(ModelSpec),
    /// Load this model file.
    File(PathBuf),
}

impl ModelSource {
    /// A model file when `model` names an existing file, else a model name fitted with
    /// `params` and `signal`. Parameters and signal options apply only when fitting.
    pub fn new(model: &str, params: Params, signal: Signal) -> ModelSource {
        if Path::new(model).is_file() {
            ModelSource::File(PathBuf::from(model))
        } else {
            ModelSource::Fit(ModelSpec { name: model.to_owned(), params, signal })
        }
    }
}

/// Live-state counters (for metrics and the dashboard).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveStats {
    /// Live events held.
    pub events: usize,
    /// Users with live events.
    pub users: usize,
    /// Live events dropped at a cap since start.
    pub dropped: u64,
    /// Trending entries held.
    pub trending_entries: usize,
    /// Trending entries dropped at the cap since start.
    pub trending_dropped: u64,
    /// [`Engine::ingest`] calls since start.
    pub ingest_requests: u64,
    /// Transactions that committed them (group commit: fewer under concurrent writes).
    pub ingest_commits: u64,
}

/// What [`Engine::ingest`] did.
#[derive(Debug, Clone, Default)]
pub struct Ingested {
    /// Events written.
    pub inserted: u64,
    /// Events already stored (not written again).
    pub duplicates: u64,
    /// Catalogue entries created for item ids first seen in these events (catalogue index,
    /// the bare item): the guide indexes them too.
    pub new_items: Vec<(u32, Item)>,
}

/// What [`Engine::delete_user`] did.
#[derive(Debug, Clone)]
pub struct UserDeletion {
    /// Stored events removed.
    pub events_deleted: u64,
    /// Version of the snapshot serving afterwards.
    pub model_version: u64,
    /// Set when the refit without the user failed: the user's own answers stay empty, the old
    /// model keeps serving the others.
    pub refit_error: Option<String>,
}

/// The state behind every answer. `Send + Sync`; share it in an `Arc`.
pub struct Engine {
    store: Mutex<Box<dyn Store>>,
    /// A second connection to the store for refits' reads (`None`: an in-memory store).
    reader: Mutex<Option<Box<dyn Store>>>,
    snapshot: RwLock<Arc<Snapshot>>,
    catalogue: RwLock<Catalogue>,
    live: Mutex<LiveEvents>,
    trending: Mutex<Trending>,
    /// Trending's per-item counters: answers sum them here, off the lock ingest takes (lock
    /// order: this, then `trending` for a moment to take the queued changes).
    trending_counts: Mutex<TrendingCounts>,
    /// user → snapshot version current when they were deleted: their training row is hidden
    /// from snapshots up to that version.
    deleted: Mutex<FxHashMap<String, u64>>,
    next_seq: AtomicU64,
    /// Serialises refits, model loads and deletions so the newest data always wins.
    refits: Mutex<()>,
    limits: LiveLimits,
    /// Group commit of concurrent [`Engine::ingest`] calls.
    commits: Mutex<Commits>,
    committed: Condvar,
    /// Off: one transaction per [`Engine::ingest`] call.
    group_commit: AtomicBool,
    /// [`Engine::delete_user`] refits here (see [`Engine::set_local_refits`]).
    local_refits: AtomicBool,
    /// The assignment salt and the running experiment.
    experiments: Experiments,
    /// What went wrong at open that the operator should hear about.
    notes: Mutex<Vec<String>>,
    /// Refits read and fit here, at a lower CPU priority (`background`).
    fits: Mutex<FitPool>,
}

/// Requests of [`Engine::ingest`] waiting for a group commit.
#[derive(Default)]
struct Commits {
    /// Events of requests no commit has taken yet, by ticket.
    pending: Vec<(u64, Vec<Event>)>,
    /// Results of committed requests, by ticket, until their request takes them.
    done: FxHashMap<u64, Result<Ingested>>,
    next_ticket: u64,
    /// A request is committing a group now.
    leading: bool,
    /// Group commits since start.
    commits: u64,
}

/// The lead of one group commit: handed back (waking the waiting requests) when dropped,
/// also when the commit panicked, whose requests then get an error instead of waiting forever.
struct Lead<'a> {
    engine: &'a Engine,
    tickets: Vec<u64>,
}

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        let mut q = lock(&self.engine.commits);
        for t in &self.tickets {
            if !q.done.contains_key(t) {
                let lost = StoreError::GroupCommit("the commit was interrupted".into());
                q.done.insert(*t, Err(lost.into()));
            }
        }
        q.leading = false;
        q.commits += 1;
        drop(q);
        self.engine.committed.notify_all();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Free a replaced snapshot on a thread of its own once the requests still answering from it
/// are done: freeing one takes milliseconds at millions of events (a vector per user), which
/// held up ingestion when it happened under the snapshot lock or in a request.
fn release(old: Arc<Snapshot>) {
    let spawned = std::thread::Builder::new().name("daogou-release".into()).spawn(move || {
        let mut old = old;
        // requests hold a snapshot for milliseconds; past a second the last one frees it
        for _ in 0..500 {
            match Arc::try_unwrap(old) {
                Ok(snapshot) => return drop(snapshot),
                Err(still_held) => old = still_held,
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    });
    // no thread to be had: freed here, outside the lock all the same
    drop(spawned);
}

impl Engine {
    /// The engine on `store`: fit or load the model, build the catalogue and the trending
    /// counters from the stored data. Blocking (a fit can take a while).
    pub fn open(store: impl Into<Box<dyn Store>>, source: &ModelSource, limits: LiveLimits) -> Result<Engine> {
        let store = store.into();
        let ds = store.load_dataset()?;
        let mut cat = Catalogue::new(ds.catalogue.clone());
        let snap = match source {
            ModelSource::Fit(spec) => Snapshot::fit(&ds, &mut cat, spec, 1, 0)?,
            ModelSource::File(path) => Snapshot::load(path, &ds, &store.deletion_log()?, &mut cat, 1, 0)?,
        };
        let mut trending = Trending::default();
        seed_trending(&mut trending, &ds, &cat, limits);
        // the seed's count changes into the counters now, not at the first answer
        let mut trending_counts = TrendingCounts::default();
        trending_counts.update(trending.take_changes());
        let experiments = Experiments::new(store.as_ref())?;
        let reader = store.reader()?;
        let engine = Engine {
            store: Mutex::new(store),
            reader: Mutex::new(reader),
            snapshot: RwLock::new(Arc::new(snap)),
            catalogue: RwLock::new(cat),
            live: Mutex::new(LiveEvents::default()),
            trending: Mutex::new(trending),
            trending_counts: Mutex::new(trending_counts),
            deleted: Mutex::new(FxHashMap::default()),
            next_seq: AtomicU64::new(0),
            refits: Mutex::new(()),
            limits,
            commits: Mutex::new(Commits::default()),
            committed: Condvar::new(),
            group_commit: AtomicBool::new(true),
            local_refits: AtomicBool::new(true),
            experiments,
            notes: Mutex::new(Vec::new()),
            fits: FitPool::new(background::DEFAULT_REFIT_NICE),
        };
        Ok(engine)
    }

    /// Warnings of the open (an experiment that could not be resumed …), taken once.
    pub fn take_notes(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.notes))
    }

    /// The current snapshot (a request keeps the one it started with).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The live catalogue (read lock: keep it short).
    pub fn catalogue(&self) -> RwLockReadGuard<'_, Catalogue> {
        self.catalogue.read().unwrap_or_else(|e| e.into_inner())
    }

    /// A catalogue item unless deleted.
    pub fn item(&self, id: &str) -> Option<Item> {
        self.catalogue().by_id(id).filter(|it| !it.deleted).cloned()
    }

    /// The store (its writer: ingestion waits while it is held).
    pub fn store(&self) -> MutexGuard<'_, Box<dyn Store>> {
        lock(&self.store)
    }

    /// Turn group commit of [`Engine::ingest`] on (the default) or off (one transaction per
    /// call, e.g. to measure what it gains).
    pub fn set_group_commit(&self, on: bool) {
        self.group_commit.store(on, Ordering::Relaxed);
    }

    /// The caps of the live state.
    pub fn limits(&self) -> LiveLimits {
        self.limits
    }

    /// Live-state counters.
    pub fn live_stats(&self) -> LiveStats {
        let (ingest_requests, ingest_commits) = {
            let q = lock(&self.commits);
            (q.next_ticket, q.commits)
        };
        let live = lock(&self.live);
        let trending = lock(&self.trending);
        LiveStats {
            events: live.len(),
            users: live.users(),
            dropped: live.dropped,
            trending_entries: trending.len(),
            trending_dropped: trending.dropped,
            ingest_requests,
            ingest_commits,
        }
    }

    // ------------------------------------------------------------------ answers

    /// The index of `user` in `snap`, unless unknown or deleted (since a model file was
    /// written, or since `snap` was built).
    pub fn snapshot_user(&self, snap: &Snapshot, user: &str) -> Option<u32> {
        let u = snap.users.get(user).filter(|&u| !snap.is_hidden(u))?;
        let tombstone = lock(&self.deleted).get(user).is_some_and(|&v| snap.version <= v);
        (!tombstone).then_some(u)
    }

    /// `user`'s history: the training row plus live events newer than the snapshot.
    pub fn history(&self, snap: &Snapshot, user: &str) -> History {
        let idx = self.snapshot_user(snap, user);
        let live = lock(&self.live);
        History::build(snap, idx, live.of(user))
    }

    /// "For you" for a history (see [`lists::for_you`]).
    pub fn for_you(&self, snap: &Snapshot, h: &History, f: &Filter, blend: &Blend, n: usize) -> Vec<Pick> {
        lists::for_you(snap, &self.catalogue(), h, f, blend, n)
    }

    /// For an anonymous session of viewed items: the picks and how many ids the model does not
    /// know.
    pub fn session(&self, snap: &Snapshot, ids: &[String], f: &Filter, blend: &Blend, n: usize) -> (Vec<Pick>, usize) {
        let (h, unknown) = History::session(snap, ids);
        (self.for_you(snap, &h, f, blend, n), unknown)
    }

    /// Items similar to `id`: the model's neighbours, or for an item the model cannot relate
    /// (new, or without neighbours) the most popular items of its category.
    pub fn similar(&self, snap: &Snapshot, id: &str, f: &Filter, n: usize) -> Result<Vec<Pick>> {
        let cat = self.catalogue();
        let it = cat.by_id(id).ok_or_else(|| Error::UnknownItem(id.to_owned()))?;
        if it.deleted {
            return Err(Error::DeletedItem(id.to_owned()));
        }
        lists::similar_to(snap, &cat, it, f, n)
    }

    /// Items most often bought by the buyers of `id`.
    pub fn bought_together(&self, snap: &Snapshot, id: &str, f: &Filter, n: usize) -> Result<Vec<Pick>> {
        let cat = self.catalogue();
        if cat.by_id(id).is_some_and(|it| it.deleted) {
            return Err(Error::DeletedItem(id.to_owned()));
        }
        let item = snap.items.get(id).ok_or_else(|| Error::ItemNotInModel(id.to_owned()))?;
        Ok(lists::bought_together(snap, &cat, item, f, n))
    }

    /// The most popular items.
    pub fn popular(&self, snap: &Snapshot, f: &Filter, n: usize) -> Vec<Pick> {
        lists::popular(snap, &self.catalogue(), f, n)
    }

    /// The items with the most distinct shoppers in the last `hours` before the latest event
    /// (live events count at once).
    pub fn trending(&self, f: &Filter, hours: u32, n: usize) -> Vec<Pick> {
        let counts = self.trending_counters().counts(hours);
        lists::trending(&self.catalogue(), &counts, f, hours, n)
    }

    /// The newest items (also those no model knows yet).
    pub fn new_arrivals(&self, f: &Filter, n: usize) -> Vec<Pick> {
        lists::new_arrivals(&self.catalogue(), f, n)
    }

    /// "Buy it again" for `user`.
    pub fn buy_again(&self, snap: &Snapshot, user: &str, f: &Filter, n: usize) -> Vec<Pick> {
        let u = self.snapshot_user(snap, user);
        let live = lock(&self.live);
        lists::buy_again(snap, &self.catalogue(), u, live.of(user), f, n)
    }

    /// The model's scores of every catalogue item for `user` (`NEG_INFINITY` where the model
    /// has none; `None` without a history) and the user's most recent distinct items,
    /// `recent` at most, oldest first (catalogue indices): what the shopping assistant ranks by.
    pub fn personal(&self, snap: &Snapshot, user: &str, recent: usize) -> Result<(Option<Vec<f32>>, Vec<u32>)> {
        let h = self.history(snap, user);
        let mut scores = None;
        let n_cat = self.catalogue().len();
        if let (Some(model), false) = (&snap.model, h.items.is_empty()) {
            let mut buf = vec![0f32; model.n_items()];
            lists::score(model.as_ref(), &h, &mut buf);
            let mut out = vec![f32::NEG_INFINITY; n_cat];
            for (m, &x) in buf.iter().enumerate() {
                if let Some(slot) = out.get_mut(snap.catalogue_item(m as u32) as usize) {
                    *slot = x;
                }
            }
            scores = Some(out);
        }
        // time order from the store (the model's history is sorted by item)
        let events = if self.snapshot_user(snap, user).is_some() || h.fresh {
            self.store().user_events(user)?
        } else {
            Vec::new()
        };
        let cat = self.catalogue();
        let mut seen = rustc_hash::FxHashSet::default();
        let mut history: Vec<u32> = events
            .iter()
            .rev()
            .filter(|e| e.kind.strength() > 1) // not searches or returns
            .filter_map(|e| cat.index_of(&e.item))
            .filter(|&i| seen.insert(i))
            .take(recent)
            .collect();
        history.reverse();
        Ok((scores, history))
    }

    // ------------------------------------------------------------------ changes

    /// Store `events` (all or nothing); once committed, make them visible to real-time answers
    /// and trending. Returns only after the commit.
    ///
    /// Group commit: concurrent calls share one transaction. The first caller commits what
    /// is queued while the others wait; requests arriving during that commit queue up and go
    /// together in the next one, so the batch window is the length of one commit and a lone
    /// request waits for nothing. Each request has its own savepoint: an invalid event fails
    /// its own request only.
    pub fn ingest(&self, events: &[Event]) -> Result<Ingested> {
        let mut q = lock(&self.commits);
        let ticket = q.next_ticket;
        q.next_ticket += 1;
        if !self.group_commit.load(Ordering::Relaxed) {
            q.commits += 1;
            drop(q);
            let batch = [(ticket, events.to_vec())];
            return self.commit_group(&batch).pop().expect("one result per request");
        }
        q.pending.push((ticket, events.to_vec()));
        loop {
            if let Some(result) = q.done.remove(&ticket) {
                return result;
            }
            if !q.leading {
                q.leading = true;
                let batch = std::mem::take(&mut q.pending);
                drop(q);
                let lead = Lead { engine: self, tickets: batch.iter().map(|(t, _)| *t).collect() };
                let results = self.commit_group(&batch);
                q = lock(&self.commits);
                for ((t, _), r) in batch.iter().zip(results) {
                    q.done.insert(*t, r);
                }
                drop(q);
                drop(lead);
                q = lock(&self.commits);
                continue;
            }
            q = self.committed.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// [`Engine::ingest`], but only if it can commit at once on the calling thread: no group
    /// commit under way or queued, nothing else holding the store (a refit fixing its snapshot,
    /// a deletion, an import) or the catalogue, and a store whose commits stay in the process
    /// ([`Store::commits_in_process`]: SQLite). `None` otherwise, and nothing was done: call
    /// [`Engine::ingest`] from a thread that may wait. The service commits most single writes
    /// this way on its async worker, which saves the hand-off to a blocking thread and back:
    /// two wake-ups that each wait for a free CPU while a refit keeps one busy, what doubled
    /// the write p99 during refits (bench/refit_ingest.sh). Requests arriving meanwhile queue
    /// behind this commit as behind any other. With group commit off, always `None`.
    pub fn try_ingest(&self, events: &[Event]) -> Option<Result<Ingested>> {
        if !self.group_commit.load(Ordering::Relaxed) {
            return None;
        }
        let mut q = lock(&self.commits);
        if q.leading || !q.pending.is_empty() {
            return None;
        }
        // never waits, so holding the queue meanwhile cannot deadlock
        let store = match self.store.try_lock() {
            Ok(store) => store,
            Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        };
        // a PostgreSQL commit waits on the network and the server's locks: never on the caller
        if !store.commits_in_process() {
            return None;
        }
        // the live state after the commit takes the catalogue for writing: decline while a
        // reader holds it (the assistant indexes the whole catalogue under it at start)
        if matches!(self.catalogue.try_write(), Err(std::sync::TryLockError::WouldBlock)) {
            return None;
        }
        q.next_ticket += 1; // counted as a request like any other (`live_stats`)
        q.leading = true;
        drop(q);
        // the result comes straight back; dropping the lead wakes whoever queued meanwhile
        let lead = Lead { engine: self, tickets: Vec::new() };
        let result = self.commit_group_on(store, &[events]).pop();
        drop(lead);
        Some(result.expect("one result per request"))
    }

    /// One transaction for the queued requests, then their events into the live state, in
    /// queue order (the store lock held throughout, as a refit's read expects).
    fn commit_group(&self, batch: &[(u64, Vec<Event>)]) -> Vec<Result<Ingested>> {
        let groups: Vec<&[Event]> = batch.iter().map(|(_, e)| e.as_slice()).collect();
        self.commit_group_on(self.store(), &groups)
    }

    /// [`Engine::commit_group`] on a store already held, one result per group.
    fn commit_group_on(&self, mut store: MutexGuard<'_, Box<dyn Store>>, groups: &[&[Event]]) -> Vec<Result<Ingested>> {
        let reports = match store.insert_event_groups(groups) {
            Ok(r) => r,
            Err(e) => {
                let message = e.to_string();
                let mut first = Some(e);
                return groups
                    .iter()
                    .map(|_| Err(first.take().unwrap_or_else(|| StoreError::GroupCommit(message.clone())).into()))
                    .collect();
            }
        };
        let mut out = Vec::with_capacity(groups.len());
        for (report, events) in reports.into_iter().zip(groups) {
            let report = match report {
                Ok(r) => r,
                Err(e) => {
                    out.push(Err(e.into()));
                    continue;
                }
            };
            let new_items = self.apply_live(events);
            out.push(Ok(Ingested { inserted: report.events_inserted, duplicates: report.events_duplicate, new_items }));
        }
        out
    }

    /// Make stored `events` visible to real-time answers and trending (catalogue entries for
    /// new item ids); the entries created.
    fn apply_live(&self, events: &[Event]) -> Vec<(u32, Item)> {
        let mut cat = self.catalogue.write().unwrap_or_else(|e| e.into_inner());
        let mut live = lock(&self.live);
        let mut trending = lock(&self.trending);
        let mut new_items = Vec::new();
        for e in events.iter().filter(|e| !e.item.is_empty()) {
            let (item, created) = cat.ensure(&e.item);
            if created {
                new_items.push((item, cat.get(item).clone()));
            }
            let seq = self.next_seq.fetch_add(1, Ordering::SeqCst);
            let ev = LiveEvent { seq, item, kind: e.kind, value: e.value, timestamp: e.timestamp };
            live.push(&e.user, ev, self.limits);
            trending.note(item, &e.user, e.kind, e.timestamp, self.limits.total);
        }
        let flush = trending.should_flush();
        drop((trending, live, cat));
        if flush {
            drop(self.trending_counters());
        }
        new_items
    }

    /// Trending's counters with the queued count changes applied (lock order: counters, then
    /// trending for the moment it takes to swap the queue out).
    fn trending_counters(&self) -> MutexGuard<'_, TrendingCounts> {
        let mut counters = lock(&self.trending_counts);
        counters.update(lock(&self.trending).take_changes());
        counters
    }

    /// Events another server stored (several servers on one shared store): into the live
    /// histories and trending as if ingested here, without writing them again. Returns the
    /// catalogue entries created for item ids first seen.
    pub fn apply_remote_events(&self, events: &[Event]) -> Vec<(u32, Item)> {
        let deleted = lock(&self.deleted);
        let kept: Vec<Event> = events.iter().filter(|e| !deleted.contains_key(&e.user)).cloned().collect();
        drop(deleted);
        self.apply_live(&kept)
    }

    /// A user another server deleted: hidden from every answer here at once (their training
    /// row, live history and trending entries), until a model without them swaps in. The
    /// store and the refit are the deleting server's and the trainer's.
    pub fn forget_user(&self, user: &str) {
        lock(&self.deleted).insert(user.to_owned(), self.snapshot().version);
        lock(&self.live).remove_user(user);
        lock(&self.trending).remove_user(user);
    }

    /// Off: [`Engine::delete_user`] hides the user at once but leaves the refit to someone
    /// else (the trainer of a cluster, told by the caller); on (the default): it refits here.
    pub fn set_local_refits(&self, on: bool) {
        self.local_refits.store(on, Ordering::Relaxed);
    }

    /// The nice value (0–19, Linux) of the threads refits, model loads and experiments' fits
    /// run on; 0: on the calling thread at its priority. Default
    /// [`background::DEFAULT_REFIT_NICE`]. Applies from the next refit.
    pub fn set_refit_nice(&self, nice: u8) {
        lock(&self.fits).set_nice(nice);
    }

    /// Run `job` (a store read and a fit) on the refit pool; the pool's lock is held only for
    /// the moment it takes to hand the pool out.
    fn on_fit_threads<T: Send>(&self, job: impl FnOnce() -> T + Send) -> T {
        let pool = lock(&self.fits).get();
        background::run(pool, job)
    }

    /// Upsert a catalogue item (store first, then the live catalogue); its catalogue index and
    /// whether it was new.
    pub fn upsert_item(&self, item: Item) -> Result<(u32, bool)> {
        let mut store = self.store();
        store.upsert_items(std::slice::from_ref(&item))?;
        let out = self.catalogue.write().unwrap_or_else(|e| e.into_inner()).upsert(item);
        drop(store);
        Ok(out)
    }

    /// Take an item out of the catalogue: unavailable and deleted in the store (the row stays,
    /// so past events stay valid) and out of every answer at once. Returns the stored record.
    pub fn delete_item(&self, id: &str) -> Result<(u32, Item)> {
        let mut it = self.item(id).ok_or_else(|| Error::UnknownItem(id.to_owned()))?;
        it.available = false;
        it.deleted = true;
        let (i, _) = self.upsert_item(it.clone())?;
        Ok((i, it))
    }

    fn swap(&self, snap: Arc<Snapshot>) {
        let seq = self.arms_seq(snap.seq);
        let old = std::mem::replace(&mut *self.snapshot.write().unwrap_or_else(|e| e.into_inner()), snap);
        // events now part of the model leave the live histories
        lock(&self.live).drain_before(seq);
        release(old);
    }

    /// The oldest of `seq` and the sequence numbers of the running experiment's own models:
    /// live events stay until every model in use has them (the caps still bound them).
    fn arms_seq(&self, seq: u64) -> u64 {
        let running = self.experiments.running();
        running.iter().flat_map(|r| r.snapshots.iter().flatten()).map(|s| s.seq).fold(seq, u64::min)
    }

    /// The stored data, the deletion log and the sequence number of the events they hold.
    ///
    /// Read on a second connection in one read transaction, so ingestion goes on while a
    /// refit reads (seconds at 10M events): the writer is held only while the snapshot is
    /// fixed, which makes its sequence number exact (events are committed and numbered under
    /// the writer). An in-memory store has no second connection and is read under the writer.
    /// The second connection is opened once, at open: opening one under the writer for every
    /// refit stalled ingestion for the length of an open (bench/refit_ingest.sh).
    fn read_store(&self) -> Result<(Dataset, DeletionLog, u64)> {
        let reader = lock(&self.reader);
        let Some(reader) = reader.as_ref() else {
            let store = self.store();
            let seq = self.next_seq.load(Ordering::SeqCst);
            return Ok((store.load_dataset()?, store.deletion_log()?, seq));
        };
        let seq = {
            let _writer = self.store();
            reader.begin_read()?;
            self.next_seq.load(Ordering::SeqCst)
        };
        let out = (reader.load_dataset()?, reader.deletion_log()?, seq);
        reader.end_read()?;
        Ok(out)
    }

    /// Refit the current spec (or `spec`) on the store and swap it in; on error the old model
    /// keeps serving. Blocking.
    pub fn refit(&self, spec: Option<ModelSpec>) -> Result<Arc<Snapshot>> {
        let _one = lock(&self.refits);
        self.refit_locked(spec)
    }

    fn refit_locked(&self, spec: Option<ModelSpec>) -> Result<Arc<Snapshot>> {
        let snap = self.on_fit_threads(|| -> Result<_> {
            let (ds, _, seq) = self.read_store()?;
            let spec = spec.unwrap_or_else(|| self.snapshot().spec.clone());
            let version = self.snapshot().version + 1;
            Ok(Arc::new(Snapshot::fit(&ds, &mut SharedCatalogue(&self.catalogue), &spec, version, seq)?))
        })?;
        self.swap(snap.clone());
        Ok(snap)
    }

    /// Load a model file and swap it in; a damaged or foreign file is refused and the current
    /// model keeps serving. Blocking.
    pub fn load_model_file(&self, path: &Path) -> Result<Arc<Snapshot>> {
        let _one = lock(&self.refits);
        let snap = self.on_fit_threads(|| -> Result<_> {
            let (ds, deletions, seq) = self.read_store()?;
            let version = self.snapshot().version + 1;
            Ok(Arc::new(Snapshot::load(path, &ds, &deletions, &mut SharedCatalogue(&self.catalogue), version, seq)?))
        })?;
        self.swap(snap.clone());
        Ok(snap)
    }

    /// Forget `user`: their events leave the store, their live history and trending entries
    /// the memory, their row every answer at once, and the model is refitted without them.
    pub fn delete_user(&self, user: &str) -> Result<UserDeletion> {
        let _one = lock(&self.refits);
        let known = self.snapshot().users.get(user).is_some();
        // the store records the deletion in its log in the same transaction
        let events_deleted = self.store().delete_user(user, chrono::Utc::now().timestamp())?;
        lock(&self.deleted).insert(user.to_owned(), self.snapshot().version);
        lock(&self.live).remove_user(user);
        lock(&self.trending).remove_user(user);
        let mut refit_error = None;
        if (events_deleted > 0 || known) && self.local_refits.load(Ordering::Relaxed) {
            match self.refit_locked(None) {
                Ok(snap) => {
                    // the running experiment's own models forget the user too
                    if let Err(e) = self.rebuild_arms() {
                        refit_error = Some(format!("refitting the experiment's variants: {e}"));
                    } else {
                        // tombstones older than the new snapshot are no longer needed
                        lock(&self.deleted).retain(|_, v| *v >= snap.version);
                    }
                }
                // the tombstone keeps the user's own answers empty until a refit succeeds
                Err(e) => refit_error = Some(e.to_string()),
            }
        }
        Ok(UserDeletion { events_deleted, model_version: self.snapshot().version, refit_error })
    }
}

impl Engine {
    // ------------------------------------------------------------------ experiments

    /// Assign with `salt` instead of the store's (a configured secret shared by servers that
    /// do not share a store). Call before serving.
    pub fn set_experiment_salt(&self, salt: daogou_store::ExperimentSalt) {
        *self.experiments.salt.write().unwrap_or_else(|e| e.into_inner()) = salt;
    }

    /// `unit`'s variant in the running experiment (none running: `None`).
    pub fn arm(&self, unit: &str) -> Option<Arm> {
        self.experiments.arm(unit)
    }

    /// The running experiment.
    pub fn running_experiment(&self) -> Option<Arc<Running>> {
        self.experiments.running()
    }

    /// Store a new experiment (a draft); [`Error::Conflict`] when the name is taken. The
    /// definition is taken as valid (the service checks it field by field).
    pub fn create_experiment(&self, def: &ExperimentDef, at: i64) -> Result<ExperimentInfo> {
        let json = serde_json::to_string(def).expect("a definition always serialises");
        if !self.store().create_experiment(&def.name, &json, at)? {
            return Err(exp::conflict(format!("an experiment named `{}` exists already", def.name)));
        }
        Ok(ExperimentInfo {
            def: def.clone(),
            status: "draft".into(),
            created_at: at,
            started_at: None,
            stopped_at: None,
        })
    }

    /// Every experiment, oldest first.
    pub fn experiments(&self) -> Result<Vec<ExperimentInfo>> {
        self.store().experiments()?.into_iter().map(ExperimentInfo::from_stored).collect()
    }

    /// One experiment.
    pub fn experiment(&self, name: &str) -> Result<Option<ExperimentInfo>> {
        self.store().experiment(name)?.map(ExperimentInfo::from_stored).transpose()
    }

    /// Start a draft experiment: fit or load its variants' own models, then route its units.
    /// One experiment runs at a time; a stopped one cannot restart. Blocking (fits).
    pub fn start_experiment(&self, name: &str, at: i64) -> Result<ExperimentInfo> {
        let _one = lock(&self.experiments.changes);
        let info = self.experiment(name)?.ok_or_else(|| Error::NotFound(format!("no experiment named `{name}`")))?;
        match info.status.as_str() {
            "running" => return Err(exp::conflict(format!("experiment `{name}` is already running"))),
            "stopped" => {
                return Err(exp::conflict(format!(
                    "experiment `{name}` was stopped; its results are final (create a new experiment to run again)"
                )))
            }
            _ => {}
        }
        if let Some(r) = self.experiments.running() {
            return Err(exp::conflict(format!("experiment `{}` is running; stop it first", r.def.name)));
        }
        let snapshots = self.arm_snapshots(&info.def)?;
        self.store().set_experiment_status(name, "running", at)?;
        let shares = info.def.variants.iter().map(|v| v.share).collect();
        self.experiments.set(Some(Arc::new(Running { def: info.def.clone(), started_at: at, snapshots, shares })));
        Ok(ExperimentInfo { status: "running".into(), started_at: Some(at), ..info })
    }

    /// Stop the running experiment `name`: its units get the plain answers again and its
    /// results are final.
    pub fn stop_experiment(&self, name: &str, at: i64) -> Result<ExperimentInfo> {
        let _one = lock(&self.experiments.changes);
        let info = self.experiment(name)?.ok_or_else(|| Error::NotFound(format!("no experiment named `{name}`")))?;
        if info.status != "running" {
            return Err(exp::conflict(format!("experiment `{name}` is not running (it is {})", info.status)));
        }
        self.store().set_experiment_status(name, "stopped", at)?;
        if self.experiments.running().is_some_and(|r| r.def.name == name) {
            self.experiments.set(None);
        }
        Ok(ExperimentInfo { status: "stopped".into(), stopped_at: Some(at), ..info })
    }

    /// Follow the store's experiments when another server started or stopped one (servers
    /// sharing a store): route the one the store says is running, or stop routing the one that
    /// is no longer running there. Blocking (a started variant's own model is fitted here).
    pub fn follow_stored_experiment(&self) -> Result<()> {
        let stored = self.experiments()?.into_iter().filter(|e| e.status == "running").max_by_key(|e| e.started_at);
        let current = self.experiments.running().map(|r| r.def.name.clone());
        match (stored, current) {
            (Some(s), Some(c)) if s.def.name == c => Ok(()),
            (Some(_), _) => {
                let _one = lock(&self.experiments.changes);
                self.experiments.set(None);
                self.resume_experiment()
            }
            (None, Some(_)) => {
                let _one = lock(&self.experiments.changes);
                self.experiments.set(None);
                Ok(())
            }
            (None, None) => Ok(()),
        }
    }

    /// Record the list `items` shown to `unit` under `arm` at `at`; the keys the answer carries.
    pub fn expose(&self, arm: &Arm, unit: &str, items: &[String], at: i64) -> Result<Exposed> {
        let id = self.store().record_exposure(arm.experiment(), arm.variant(), unit, at, items)?;
        Ok(Exposed {
            experiment: arm.experiment().to_owned(),
            variant: arm.variant().to_owned(),
            recommendation_id: exp::recommendation_id(id),
        })
    }

    /// Attribute stored `events` (with the `recommendation_id` each carried) to the lists of
    /// the running experiment (see [`crate::experiment`]); how many outcomes were recorded.
    pub fn attribute(&self, events: &[Event], rec_ids: &[Option<String>]) -> Result<u64> {
        let Some(running) = self.experiments.running() else { return Ok(0) };
        let mut store = self.store();
        let outcomes = exp::outcomes(store.as_ref(), &running, events, rec_ids, |id| {
            self.catalogue().by_id(id).and_then(|it| it.price)
        })?;
        if outcomes.is_empty() {
            return Ok(0);
        }
        Ok(store.record_outcomes(&outcomes)?)
    }

    /// What each unit of experiment `name` was shown and did, per time bucket (see
    /// [`daogou_store::ExperimentStore::exposure_totals`]).
    pub fn exposure_totals(
        &self,
        name: &str,
        start: i64,
        bucket_secs: i64,
    ) -> Result<Vec<daogou_store::ExposureTotals>> {
        Ok(self.store().exposure_totals(name, start, bucket_secs)?)
    }

    /// The variants' own snapshots (fitted on the store or loaded from their files).
    fn arm_snapshots(&self, def: &ExperimentDef) -> Result<Vec<Option<Arc<Snapshot>>>> {
        if def.variants.iter().all(|v| v.model.is_none()) {
            return Ok(vec![None; def.variants.len()]);
        }
        self.on_fit_threads(|| {
            let (ds, deletions, seq) = self.read_store()?;
            let serving = self.snapshot();
            let mut out = Vec::with_capacity(def.variants.len());
            for v in &def.variants {
                let Some(model) = &v.model else {
                    out.push(None);
                    continue;
                };
                let mut cat = SharedCatalogue(&self.catalogue);
                let snap = match v.spec(&serving.spec.signal) {
                    Some(spec) => Snapshot::fit(&ds, &mut cat, &spec, serving.version, seq)?,
                    None => Snapshot::load(Path::new(model), &ds, &deletions, &mut cat, serving.version, seq)?,
                };
                out.push(Some(Arc::new(snap)));
            }
            Ok(out)
        })
    }

    /// Refit the running experiment's own models (after a deletion).
    fn rebuild_arms(&self) -> Result<()> {
        let _one = lock(&self.experiments.changes);
        let Some(r) = self.experiments.running() else { return Ok(()) };
        if r.snapshots.iter().all(Option::is_none) {
            return Ok(());
        }
        let snapshots = self.arm_snapshots(&r.def)?;
        let next = Running { def: r.def.clone(), started_at: r.started_at, snapshots, shares: r.shares.clone() };
        self.experiments.set(Some(Arc::new(next)));
        Ok(())
    }

    /// Route the experiment the store says is running (a service starting, e.g. after a
    /// restart; the command line does not take part in experiments). When its variants' models
    /// cannot be rebuilt it is stopped, with a note ([`Engine::take_notes`]).
    pub fn resume_experiment(&self) -> Result<()> {
        let Some(info) = self.experiments()?.into_iter().filter(|e| e.status == "running").max_by_key(|e| e.started_at)
        else {
            return Ok(());
        };
        match self.arm_snapshots(&info.def) {
            Ok(snapshots) => {
                let shares = info.def.variants.iter().map(|v| v.share).collect();
                let started_at = info.started_at.unwrap_or(info.created_at);
                self.experiments.set(Some(Arc::new(Running { def: info.def, started_at, snapshots, shares })));
            }
            Err(e) => {
                let now = chrono::Utc::now().timestamp();
                self.store().set_experiment_status(&info.def.name, "stopped", now)?;
                lock(&self.notes).push(format!(
                    "experiment `{}` was stopped: its variants' models could not be rebuilt ({e})",
                    info.def.name
                ));
            }
        }
        Ok(())
    }
}

/// Trending counters from the stored interactions of the week before the latest one.
fn seed_trending(t: &mut Trending, ds: &Dataset, cat: &Catalogue, limits: LiveLimits) {
    let latest = ds.interactions.iter().map(|x| x.timestamp).max().unwrap_or(0);
    let mut recent: Vec<&daogou_core::Interaction> = ds
        .interactions
        .iter()
        .filter(|x| x.timestamp >= latest - TRENDING_SPAN && x.kind != EventKind::Return)
        .collect();
    recent.sort_by_key(|x| x.timestamp);
    // Only the newest `total` distinct (item, shopper) pairs can stay under the cap: note just
    // those, oldest first (millions of events in the last week would otherwise each be noted
    // and pruned away again).
    let mut newest: FxHashSet<(u32, u32)> = FxHashSet::default();
    let from = recent
        .iter()
        .rposition(|x| {
            newest.insert((x.item, x.user));
            newest.len() > limits.total.max(1)
        })
        .map_or(0, |k| k + 1);
    for x in &recent[from..] {
        if let Some(i) = cat.index_of(ds.items.id(x.item)) {
            t.note(i, ds.users.id(x.user), x.kind, x.timestamp, limits.total);
        }
    }
}
