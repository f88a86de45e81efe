//! The engine over a real (in-memory or file) store: events answered in real time, deletions,
//! model files with their signal, catalogue changes.

use std::path::Path;

use daogou_core::{Event, EventKind, Item};
use daogou_data::synth::fixtures::{two_cluster_shop, two_cluster_shop_with};
use daogou_data::Signal;
use daogou_engine::{Blend, Engine, Error, Filter, LiveLimits, ModelSource, ModelSpec, Snapshot};
use daogou_store::{SqliteStore, Store};

fn store(extra: &[Event]) -> SqliteStore {
    let shop = two_cluster_shop_with(extra);
    let mut s = SqliteStore::open_in_memory().unwrap();
    s.import(&shop.items, &shop.events).unwrap();
    s
}

fn open(store: SqliteStore, spec: ModelSpec) -> Engine {
    Engine::open(store, &ModelSource::Fit(spec), LiveLimits::default()).unwrap()
}

fn ev(user: &str, item: &str, kind: EventKind, ts: i64) -> Event {
    Event { user: user.into(), item: item.into(), kind, value: 1.0, timestamp: ts, query: None }
}

fn ids(p: &[daogou_engine::Pick]) -> Vec<String> {
    p.iter().map(|p| p.item.clone()).collect()
}

fn for_you(e: &Engine, user: &str, n: usize) -> Vec<daogou_engine::Pick> {
    let snap = e.snapshot();
    e.for_you(&snap, &e.history(&snap, user), &Filter::default(), &Blend::default(), n)
}

/// Write `snap` as a model file.
fn save(snap: &Snapshot, path: &Path) {
    snap.save(path, "test").unwrap();
}

#[test]
fn events_are_answered_at_once() {
    let e = open(store(&[]), ModelSpec::named("item-knn"));
    // a brand-new shopper views two books: for you, trending and buy again follow at once
    let t = 1_700_000_500;
    let done = e.ingest(&[ev("new", "b0", EventKind::View, t), ev("new", "b1", EventKind::Purchase, t + 1)]).unwrap();
    assert_eq!(done.inserted, 2);
    let snap = e.snapshot();
    let h = e.history(&snap, "new");
    assert!(h.fresh && h.user.is_none());
    let picks = for_you(&e, "new", 3);
    assert!(picks.iter().all(|p| p.item.starts_with('b') && p.item != "b0" && p.item != "b1"), "{picks:?}");
    assert!(picks[0].reason.starts_with("because you"), "{}", picks[0].reason);
    assert_eq!(ids(&e.buy_again(&snap, "new", &Filter::default(), 5)), ["b1"]);
    let trending = e.trending(&Filter::default(), 1, 3);
    assert!(ids(&trending).iter().any(|i| i == "b1" || i == "b0"), "{trending:?}");
    // an event naming an item the catalogue has never seen creates a bare entry
    let done = e.ingest(&[ev("new", "zz-1", EventKind::View, t + 2)]).unwrap();
    assert_eq!(done.new_items.len(), 1);
    assert_eq!(e.catalogue().by_id("zz-1").unwrap().display_title(), "zz-1");
    // a refit folds the events into the model: the live history empties
    let snap = e.refit(None).unwrap();
    assert_eq!(snap.version, 2);
    assert!(!e.history(&snap, "new").fresh);
    assert!(e.history(&snap, "new").user.is_some());
    assert_eq!(e.live_stats().events, 0);
}

#[test]
fn live_state_is_bounded() {
    let limits = LiveLimits { per_user: 5, total: 20 };
    let e = Engine::open(store(&[]), &ModelSource::Fit(ModelSpec::named("item-knn")), limits).unwrap();
    for i in 0..200 {
        let user = format!("burst{}", i % 13);
        e.ingest(&[ev(&user, &format!("b{}", i % 6), EventKind::View, 1_700_001_000 + i)]).unwrap();
    }
    let s = e.live_stats();
    assert!(s.events <= 20 && s.dropped >= 180, "{s:?}");
    assert!(s.trending_entries <= 20, "{s:?}");
}

#[test]
fn a_deleted_user_is_forgotten_everywhere() {
    let t = 1_700_000_500;
    let extra = [ev("gone", "s0", EventKind::Purchase, t), ev("gone", "b3", EventKind::Purchase, t + 1)];
    let e = open(store(&extra), ModelSpec::named("item-knn"));
    e.ingest(&[ev("gone", "b4", EventKind::Purchase, t + 2)]).unwrap();
    let done = e.delete_user("gone").unwrap();
    assert_eq!((done.events_deleted, done.model_version, done.refit_error), (3, 2, None));
    let snap = e.snapshot();
    assert_eq!(e.history(&snap, "gone"), daogou_engine::History::default());
    assert!(e.buy_again(&snap, "gone", &Filter::default(), 5).is_empty());
    assert!(e.store().user_events("gone").unwrap().is_empty());
    // every other answer is that of a store that never had the user
    let never = open(store(&[]), ModelSpec::named("item-knn"));
    let nsnap = never.snapshot();
    for u in ["su1", "ru2", "su7"] {
        assert_eq!(for_you(&e, u, 5), for_you(&never, u, 5), "{u}");
    }
    let f = Filter::default();
    assert_eq!(e.popular(&snap, &f, 12), never.popular(&nsnap, &f, 12));
    assert_eq!(e.similar(&snap, "s1", &f, 5).unwrap(), never.similar(&nsnap, "s1", &f, 5).unwrap());
    assert_eq!(e.bought_together(&snap, "s0", &f, 5).unwrap(), never.bought_together(&nsnap, "s0", &f, 5).unwrap());
    let trending: Vec<_> = e.trending(&f, 168, 12).into_iter().map(|p| (p.item, p.score)).collect();
    let never_trending: Vec<_> = never.trending(&f, 168, 12).into_iter().map(|p| (p.item, p.score)).collect();
    assert_eq!(trending, never_trending);
}

#[test]
fn a_model_file_is_served_with_the_signal_it_was_trained_with() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.daogou");
    let signal = Signal::from_options(Some("view=0,purchase=1"), None, None).unwrap();
    let trained = open(store(&[]), ModelSpec { signal, ..ModelSpec::named("item-knn") });
    save(&trained.snapshot(), &path);

    let e = Engine::open(store(&[]), &ModelSource::File(path.clone()), LiveLimits::default()).unwrap();
    let snap = e.snapshot();
    assert_eq!(snap.spec.signal, signal);
    assert!(snap.data_matches && snap.warnings.is_empty(), "{:?}", snap.warnings);
    // a view weighs 0 under the file's signal: it adds nothing to the history …
    e.ingest(&[ev("su0", "b2", EventKind::View, 1_700_000_900)]).unwrap();
    let h = e.history(&snap, "su0");
    assert!(!h.has(snap.items.get("b2").unwrap()), "{h:?}");
    // … while under the default signal it would
    let d = open(store(&[]), ModelSpec::named("item-knn"));
    d.ingest(&[ev("su0", "b2", EventKind::View, 1_700_000_900)]).unwrap();
    let dsnap = d.snapshot();
    assert!(d.history(&dsnap, "su0").has(dsnap.items.get("b2").unwrap()));
    // new events in the store since training: the check says so
    let mut grown = store(&[]);
    grown.insert_events(&[ev("su0", "b5", EventKind::Purchase, 1_700_001_000)]).unwrap();
    let stale = Engine::open(grown, &ModelSource::File(path), LiveLimits::default()).unwrap();
    assert!(!stale.snapshot().data_matches);
    assert!(stale.snapshot().warnings[0].contains("other data"), "{:?}", stale.snapshot().warnings);
}

#[test]
fn a_model_file_of_another_shop_is_refused_and_the_old_model_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.daogou");
    let mut other = SqliteStore::open_in_memory().unwrap();
    other.insert_events(&[ev("x1", "q1", EventKind::Purchase, 1), ev("x2", "q1", EventKind::Purchase, 2)]).unwrap();
    save(&open(other, ModelSpec::named("item-knn")).snapshot(), &path);
    let e = open(store(&[]), ModelSpec::named("item-knn"));
    let err = e.load_model_file(&path).err().expect("refused");
    assert!(matches!(err, Error::ForeignModel { .. }), "{err}");
    assert_eq!(e.snapshot().version, 1);
    // without a store (a model file alone) it answers with bare item ids
    let alone = Engine::open(SqliteStore::open_in_memory().unwrap(), &ModelSource::File(path), LiveLimits::default());
    let alone = alone.unwrap();
    assert_eq!(alone.catalogue().len(), 1);
}

#[test]
fn deleted_items_leave_every_list_and_stay_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    let shop = two_cluster_shop();
    {
        let mut s = SqliteStore::open(&db).unwrap();
        s.import(&shop.items, &shop.events).unwrap();
    }
    let e = open(SqliteStore::open(&db).unwrap(), ModelSpec::named("item-knn"));
    assert!(ids(&for_you(&e, "su0", 1)).contains(&"s3".to_owned()));
    let (_, it) = e.delete_item("s3").unwrap();
    assert!(it.deleted && !it.available);
    let snap = e.snapshot();
    let f = Filter { in_stock: false, allow_repeat: true, ..Filter::default() };
    assert!(!ids(&e.for_you(&snap, &e.history(&snap, "su0"), &f, &Blend::default(), 12)).contains(&"s3".to_owned()));
    assert!(!ids(&e.popular(&snap, &f, 12)).contains(&"s3".to_owned()));
    assert!(!ids(&e.similar(&snap, "s2", &f, 12).unwrap()).contains(&"s3".to_owned()));
    assert!(matches!(e.similar(&snap, "s3", &f, 3), Err(Error::DeletedItem(_))));
    assert!(e.item("s3").is_none());
    drop(e);
    // after a restart too
    let again = open(SqliteStore::open(&db).unwrap(), ModelSpec::named("item-knn"));
    assert!(again.catalogue().by_id("s3").unwrap().deleted);
    assert!(!ids(&for_you(&again, "su0", 12)).contains(&"s3".to_owned()));
    // re-listing it brings it back
    again.upsert_item(Item { title: "跑鞋 3".into(), ..Item::new("s3") }).unwrap();
    assert!(again.item("s3").is_some());
}

/// Group commit: writers that arrive while a commit is running share the next transaction;
/// each gets its own counts, and a request with an invalid event fails alone.
#[test]
fn concurrent_ingests_share_a_commit_and_fail_alone() {
    let e = std::sync::Arc::new(open(store(&[]), ModelSpec::named("popularity")));
    let before = e.live_stats();
    // Hold the store: the first writer leads and waits for it, the others queue behind it.
    let held = e.store();
    let writers: Vec<_> = (0..8)
        .map(|i| {
            let e = e.clone();
            std::thread::spawn(move || {
                let mut evs = vec![ev(&format!("w{i}"), "b0", EventKind::View, 1_700_002_000 + i)];
                if i == 5 {
                    evs.push(Event { value: f32::INFINITY, ..ev("w5", "b1", EventKind::Rating, 1_700_002_100) });
                }
                e.ingest(&evs)
            })
        })
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while e.live_stats().ingest_requests < before.ingest_requests + 8 {
        assert!(std::time::Instant::now() < deadline, "writers did not queue");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    drop(held);
    let results: Vec<_> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    for (i, r) in results.iter().enumerate() {
        match (i, r) {
            (5, Err(err)) => assert!(err.to_string().contains("not a finite number"), "{err}"),
            (5, Ok(_)) => panic!("the invalid request was accepted"),
            (_, r) => assert_eq!(r.as_ref().unwrap().inserted, 1, "writer {i}"),
        }
    }
    let after = e.live_stats();
    // the leader's own commit, then one for the seven that queued behind it
    assert_eq!((after.ingest_requests - before.ingest_requests, after.ingest_commits - before.ingest_commits), (8, 2));
    assert_eq!(after.events - before.events, 7, "the failed request left nothing in the live state");
    assert!(e.store().user_events("w5").unwrap().is_empty());
    assert_eq!(e.store().user_events("w7").unwrap().len(), 1);
}

/// The service's fast path: a write that waits for nothing commits at once on the caller's
/// thread, counted and live like any other; while anything holds the store or the catalogue,
/// or a commit is under way, it declines and leaves no trace, and `ingest` then queues as
/// always. With group commit off it always declines.
/// This process's threads named `daogou-fit-*`: thread id → (nice value, nanoseconds on a CPU).
#[cfg(target_os = "linux")]
fn fit_threads() -> std::collections::BTreeMap<String, (i64, u64)> {
    let mut out = std::collections::BTreeMap::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let read = |f: &str| std::fs::read_to_string(task.path().join(f)).unwrap_or_default();
        if !read("comm").starts_with("daogou-fit-") {
            continue;
        }
        // stat: "tid (comm) state …": nice is the 19th field, the 17th after the name
        let stat = read("stat");
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
        let nice = fields[16].parse().unwrap();
        let on_cpu = read("schedstat").split(' ').next().unwrap().parse().unwrap();
        out.insert(task.file_name().to_string_lossy().into_owned(), (nice, on_cpu));
    }
    out
}

#[cfg(target_os = "linux")]
#[test]
fn refits_fit_on_threads_of_lower_cpu_priority() {
    use daogou_engine::background::{current_nice, DEFAULT_REFIT_NICE};
    // a refit's read and fit take every core they get for seconds; at a lower priority a
    // service thread that wakes runs first (bench/refit_ingest.sh)
    let e = open(store(&[]), ModelSpec::named("item-knn"));
    let mine = current_nice();
    e.refit(None).unwrap();
    let before = fit_threads();
    assert!(!before.is_empty(), "the first refit starts the fit threads");
    assert!(before.values().all(|&(nice, _)| nice == i64::from(DEFAULT_REFIT_NICE)), "{before:?}");
    e.refit(Some(ModelSpec::named("ease"))).unwrap();
    let after = fit_threads();
    let ran = before.iter().any(|(tid, &(_, ns))| after.get(tid).is_some_and(|&(_, later)| later > ns));
    assert!(ran, "the refit ran on them: {before:?} → {after:?}");
    // the caller (a service thread) keeps its priority, and the model it fitted serves
    assert_eq!(current_nice(), mine);
    assert_eq!(e.snapshot().model_name(), "ease");
    // another value applies from the next refit, on threads of its own
    e.set_refit_nice(19);
    e.refit(None).unwrap();
    let now = fit_threads();
    assert!(now.iter().any(|(tid, &(nice, _))| nice == 19 && !before.contains_key(tid)), "{now:?}");
}

#[test]
fn try_ingest_commits_at_once_or_declines_without_a_trace() {
    let e = std::sync::Arc::new(open(store(&[]), ModelSpec::named("popularity")));
    let before = e.live_stats();
    let done = e.try_ingest(&[ev("t1", "b0", EventKind::View, 1_700_003_000)]).expect("nothing to wait for").unwrap();
    assert_eq!((done.inserted, done.duplicates), (1, 0));
    assert_eq!(e.store().user_events("t1").unwrap().len(), 1);
    let after = e.live_stats();
    assert_eq!(
        (
            after.ingest_requests - before.ingest_requests,
            after.ingest_commits - before.ingest_commits,
            after.events - before.events
        ),
        (1, 1, 1)
    );
    // a duplicate is answered as one, as by `ingest`
    let again = e.try_ingest(&[ev("t1", "b0", EventKind::View, 1_700_003_000)]).unwrap().unwrap();
    assert_eq!((again.inserted, again.duplicates), (0, 1));

    // something holds the store: declined, nothing stored
    let held = e.store();
    assert!(e.try_ingest(&[ev("t2", "b0", EventKind::View, 1_700_003_001)]).is_none());
    // a writer that may wait queues behind the holder and leads the next commit...
    let queued = {
        let e = e.clone();
        std::thread::spawn(move || e.ingest(&[ev("t3", "b1", EventKind::View, 1_700_003_002)]))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while e.live_stats().ingest_requests < after.ingest_requests + 2 {
        assert!(std::time::Instant::now() < deadline, "the writer did not queue");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    drop(held);
    assert_eq!(queued.join().unwrap().unwrap().inserted, 1);
    assert_eq!(e.store().user_events("t3").unwrap().len(), 1);
    assert!(e.store().user_events("t2").unwrap().is_empty(), "a declined write stores nothing");

    // a long reader of the catalogue (the assistant's index build): declined too
    let reading = e.catalogue();
    assert!(e.try_ingest(&[ev("t5", "b0", EventKind::View, 1_700_003_004)]).is_none());
    drop(reading);
    assert!(e.try_ingest(&[ev("t5", "b0", EventKind::View, 1_700_003_004)]).is_some());

    e.set_group_commit(false);
    assert!(e.try_ingest(&[ev("t4", "b0", EventKind::View, 1_700_003_003)]).is_none());
    assert_eq!(e.ingest(&[ev("t4", "b0", EventKind::View, 1_700_003_003)]).unwrap().inserted, 1);
}

/// Refits read the store on their own connection while events keep arriving: every event ends
/// up exactly once in a snapshot's training data or in the live state, never in both or
/// neither (the snapshot's sequence number is fixed with its read transaction).
#[test]
fn refits_while_events_arrive_lose_and_double_count_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let shop = two_cluster_shop();
    let mut s = SqliteStore::open(&path).unwrap();
    s.import(&shop.items, &shop.events).unwrap();
    let e = std::sync::Arc::new(open(s, ModelSpec::named("popularity")));
    let base = e.snapshot().train.nnz();
    const N: u64 = 300;
    let writer = {
        let e = e.clone();
        std::thread::spawn(move || {
            for k in 0..N {
                // a new shopper each time: one new (user, item) pair per event
                let item = format!("b{}", k % 4);
                e.ingest(&[ev(&format!("new{k}"), &item, EventKind::Purchase, 1_700_003_000 + k as i64)]).unwrap();
            }
        })
    };
    let mut refits = 0;
    while !writer.is_finished() || refits < 3 {
        let snap = e.refit(None).unwrap();
        assert_eq!(snap.train.nnz(), base + snap.seq as usize, "snapshot v{} at seq {}", snap.version, snap.seq);
        refits += 1;
    }
    writer.join().unwrap();
    let snap = e.snapshot();
    assert_eq!(snap.train.nnz(), base + snap.seq as usize);
    assert_eq!(e.live_stats().events as u64, N - snap.seq, "the events after the last refit are live");
    let last = e.refit(None).unwrap();
    assert_eq!((last.seq, last.train.nnz(), e.live_stats().events), (N, base + N as usize, 0));
}
