//! The deletion log: keyed hashes of deleted user ids with the time, atomic with the deletion
//! (also under kill -9), kept across reopen, added to version-1 files on open.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use daogou_core::{Event, EventKind};
use daogou_store::{DeletionKey, SqliteStore, Store, StoreError, DELETION_KEY_META, SCHEMA_VERSION};
use rusqlite::Connection;

use crate::common::ev;

fn seeded(path: &std::path::Path) -> SqliteStore {
    let mut s = SqliteStore::open(path).unwrap();
    s.insert_events(&[
        ev("gone", "a", EventKind::Purchase, 1),
        ev("gone", "b", EventKind::View, 2),
        ev("stays", "a", EventKind::View, 3),
    ])
    .unwrap();
    s
}

#[test]
fn a_deletion_is_logged_as_a_keyed_hash_with_its_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let mut s = seeded(&path);
    assert!(s.deletions().unwrap().is_empty());
    assert_eq!(s.delete_user("gone", 1_000).unwrap(), 2);
    s.delete_user("never-stored", 1_001).unwrap(); // recorded too: a model file may hold them
    let key = s.deletion_key().unwrap();
    assert_eq!(s.deletions().unwrap(), [(key.hash("gone"), 1_000), (key.hash("never-stored"), 1_001)]);

    // deleted again later (the user came back): the later time is kept; an older record
    // (e.g. copied from another node) does not move it back
    s.insert_events(&[ev("gone", "c", EventKind::View, 5)]).unwrap();
    assert_eq!(s.delete_user("gone", 2_000).unwrap(), 1);
    s.record_deletion(key.hash("gone"), 1_500).unwrap();
    s.record_deletion(key.hash("elsewhere"), 1_200).unwrap();
    drop(s);

    // kept across reopen, with the same key; asked by id
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.deletion_key().unwrap(), key);
    let log = s.deletion_log().unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log.deleted_at("gone"), Some(2_000));
    assert_eq!(log.deleted_at("elsewhere"), Some(1_200));
    assert_eq!(log.deleted_at("stays"), None);
    assert!(log.deleted_since("gone", 2_000) && !log.deleted_since("gone", 2_001));
    assert_eq!(s.user_ids().unwrap(), ["stays"]);

    // the log holds no id, only hashes under this store's own key
    let raw = Connection::open(&path).unwrap();
    let n: i64 =
        raw.query_row("SELECT count(*) FROM deletions WHERE length(user_hash) = 32", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 3);
    let other = SqliteStore::open_in_memory().unwrap();
    assert_ne!(other.deletion_key().unwrap(), key, "each database has its own random key");
    assert_ne!(other.deletion_key().unwrap().hash("gone"), key.hash("gone"));
}

#[test]
fn the_key_cannot_be_overwritten_through_meta() {
    let mut s = SqliteStore::open_in_memory().unwrap();
    let key = s.deletion_key().unwrap();
    let err = s.set_meta(DELETION_KEY_META, &"0".repeat(64)).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert_eq!(s.deletion_key().unwrap(), key);
    let hex = s.meta(DELETION_KEY_META).unwrap().unwrap();
    assert!(hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()), "{hex}");
}

#[test]
fn a_failed_deletion_leaves_neither_the_log_entry_nor_a_missing_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let mut s = seeded(&path);
    // make the last statement of the deletion fail, after the log entry and the events
    let raw = Connection::open(&path).unwrap();
    raw.execute_batch(
        "CREATE TRIGGER refuse BEFORE DELETE ON users WHEN old.external_id = 'gone'
         BEGIN SELECT RAISE(ABORT, 'refused by test'); END;",
    )
    .unwrap();
    let err = s.delete_user("gone", 7).unwrap_err();
    assert!(err.to_string().contains("refused by test"), "{err}");
    assert!(s.deletions().unwrap().is_empty(), "the log entry must roll back with the deletion");
    assert_eq!(s.user_events("gone").unwrap().len(), 2, "the events must roll back with the log entry");
}

#[test]
fn a_deleted_user_leaves_no_trace_in_the_database_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let id = "customer-4f1c9e@example.com";
    let query = "pregnancy test kit 8c1d";
    let mut s = SqliteStore::open(&path).unwrap();
    let mut events: Vec<Event> = (0..500).map(|i| ev(&format!("u{i}"), "a", EventKind::View, i)).collect();
    events.extend((0..50).map(|i| ev(id, &format!("i{i}"), EventKind::View, 1_000 + i)));
    events.push(Event { query: Some(query.into()), ..ev(id, "", EventKind::Search, 2_000) });
    s.insert_events(&events).unwrap();
    let bytes = |p: &std::path::Path| std::fs::read(p).unwrap_or_default();
    let files = || {
        let mut all = bytes(&path);
        all.extend(bytes(&path.with_extension("db-wal")));
        all
    };
    let contains = |hay: &[u8], needle: &str| hay.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(contains(&files(), id) && contains(&files(), query), "the test must see the data before");
    s.delete_user(id, 3_000).unwrap();
    let after = files();
    assert!(!contains(&after, id), "the user id is still in the database file or its WAL");
    assert!(!contains(&after, query), "the user's search text is still in the database file or its WAL");
    drop(s);
    assert!(!contains(&files(), id));
}

#[test]
fn a_version_1_file_gets_the_log_on_open_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    drop(seeded(&path));
    // turn it back into what daogou wrote before the log existed
    crate::common::downgrade_to_v1(&path);
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.stats().unwrap().events, 3);
    let key = s.deletion_key().unwrap();
    s.delete_user("gone", 42).unwrap();
    drop(s);
    let raw = Connection::open(&path).unwrap();
    let v: i64 = raw.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(v, SCHEMA_VERSION);
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.deletion_key().unwrap(), key, "the key is made once, by the upgrade");
    assert_eq!(s.deletion_log().unwrap().deleted_at("gone"), Some(42));
    s.check_integrity().unwrap();
    assert_ne!(key, DeletionKey::from_bytes([0; 32]));
}

const CHILD: &str = "DAOGOU_STORE_DELETE_CHILD";
const BIG: usize = 150_000;

/// The deleting process: opens the store, says `GO`, deletes the big user, says `DONE`.
/// A no-op in a normal test run.
#[test]
fn delete_child() {
    let Ok(path) = std::env::var(CHILD) else { return };
    let mut s = SqliteStore::open(path.as_ref()).unwrap();
    println!("GO");
    s.delete_user("big", 77).unwrap();
    println!("DONE");
}

/// Start the child on `path`; kill -9 it `after` its GO (None: let it finish). Returns the
/// time from GO to exit.
fn run_child(path: &std::path::Path, after: Option<Duration>) -> Duration {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "deletions::delete_child", "--nocapture", "--test-threads=1"])
        .env(CHILD, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.trim_end().ends_with("GO") => break, // libtest may print "test … ... " before it
            Some(Ok(_)) => continue,
            _ => panic!("the deleting child exited before GO: {:?}", child.wait()),
        }
    }
    let go = Instant::now();
    if let Some(d) = after {
        std::thread::sleep(d);
        child.kill().unwrap(); // SIGKILL on Unix
    }
    child.wait().unwrap();
    go.elapsed()
}

/// Either the deletion happened (no events, no user row, logged at 77) or it did not (all
/// events, not logged): never one without the other. Returns true when it happened.
fn deleted(path: &std::path::Path) -> bool {
    let s = SqliteStore::open(path).unwrap();
    s.check_integrity().unwrap();
    let events = s.user_events("big").unwrap().len();
    let logged = s.deletion_log().unwrap().deleted_at("big");
    let row = s.user_ids().unwrap().iter().any(|u| u == "big");
    match (events, row, logged) {
        (0, false, Some(77)) => true,
        (n, true, None) if n == BIG => false,
        other => panic!("half a deletion after kill -9: (events, user row, logged) = {other:?}"),
    }
}

#[test]
fn kill_9_during_a_deletion_never_leaves_the_log_without_the_deletion_or_back() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template.db");
    {
        let mut s = SqliteStore::open(&template).unwrap();
        let events: Vec<Event> =
            (0..BIG).map(|i| ev("big", &format!("i{}", i % 997), EventKind::View, i as i64)).collect();
        s.insert_events(&events).unwrap();
        s.insert_events(&[ev("small", "i1", EventKind::View, 1)]).unwrap();
    }
    // a fresh copy per round (the store was closed, so the WAL is checkpointed into the file)
    let copy = |round: usize| {
        let p = dir.path().join(format!("round{round}.db"));
        std::fs::copy(&template, &p).unwrap();
        p
    };
    // how long one deletion takes here (the child's GO to its exit)
    let p = copy(0);
    let full = run_child(&p, None);
    assert!(deleted(&p), "an undisturbed deletion must complete");
    let (mut done, mut undone) = (0, 0);
    for round in 1..=8 {
        let p = copy(round);
        // kill points spread over the deletion, from just after GO to just before the end
        run_child(&p, Some(full.mul_f64(round as f64 / 10.0)));
        if deleted(&p) {
            done += 1;
        } else {
            undone += 1;
        }
    }
    eprintln!("deletion took {full:?}; after kill -9 mid-way: {done} completed, {undone} rolled back");
    assert!(undone > 0, "no kill landed before the commit; the test did not test anything");
}
