//! A failure in the middle of a write leaves the store exactly as it was.

use daogou_core::{Event, EventKind};
use daogou_store::{SqliteStore, Store, StoreError, StoreStats};
use rusqlite::Connection;

use crate::common::{ev, item, synthetic_events};

fn snapshot(s: &SqliteStore) -> (StoreStats, usize, Vec<daogou_core::Item>) {
    (s.stats().unwrap(), s.load_dataset().unwrap().interactions.len(), s.items().unwrap())
}

#[test]
fn invalid_event_in_the_middle_rolls_back_the_whole_import() {
    let mut s = SqliteStore::open_in_memory().unwrap();
    s.import(&[item("old", "Old", "c")], &[ev("u0", "old", EventKind::View, 1)]).unwrap();
    let before = snapshot(&s);

    // New items, an update of an existing item, new users and 5000 good events, then a NaN.
    let mut events = synthetic_events(10_000, 100, 50);
    events[5_000].value = f32::NAN;
    let items = vec![item("old", "Renamed", "c2"), item("new", "New", "c")];
    let err = s.import(&items, &events).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert!(err.to_string().contains("event 5000"), "{err}");
    assert_eq!(snapshot(&s), before);
    assert_eq!(s.item("old").unwrap().unwrap().title, "Old");

    // The store is still usable, and its id caches did not keep rolled-back rows.
    events[5_000].value = 1.0;
    let r = s.import(&items, &events).unwrap();
    assert_eq!(r.items_inserted as usize, 1 + 50);
    assert_eq!(s.stats().unwrap().users, 1 + 100);
}

#[test]
fn a_database_error_in_the_middle_rolls_back_the_whole_import() {
    // Fault injection at the SQLite level: a trigger that aborts on one particular event,
    // after thousands of rows (users, items, events) were written in the same transaction.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let mut s = SqliteStore::open(&path).unwrap();
    s.import(&[item("old", "Old", "c")], &[ev("u0", "old", EventKind::View, 1)]).unwrap();
    let before = snapshot(&s);
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER fail_on_42 BEFORE INSERT ON events WHEN NEW.timestamp = 42
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
        )
        .unwrap();
    let mut events = synthetic_events(10_000, 100, 50);
    events.push(Event { timestamp: 42, ..ev("late-user", "late-item", EventKind::Purchase, 0) });
    events.extend(synthetic_events(100, 5, 5));
    let err = s.import(&[item("old", "Renamed", "c2")], &events).unwrap_err();
    assert!(matches!(err, StoreError::Sqlite(_)) && err.to_string().contains("injected failure"), "{err}");
    drop(s);

    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(snapshot(&s), before);
    s.check_integrity().unwrap();
}

#[test]
fn nan_cannot_reach_the_table_even_through_sql() {
    // The second line of defence behind the Rust-side check: NOT NULL + CHECK (value = value).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n.db");
    let mut s = SqliteStore::open(&path).unwrap();
    s.insert_events(&[ev("u", "a", EventKind::View, 1)]).unwrap();
    let raw = Connection::open(&path).unwrap();
    let err = raw
        .execute("INSERT INTO events (user_id, item_id, kind, value, timestamp) VALUES (1, 1, 0, ?1, 2)", [f64::NAN])
        .unwrap_err();
    assert!(err.to_string().contains("NOT NULL"), "{err}");
    let err = raw
        .execute("INSERT INTO events (user_id, item_id, kind, value, timestamp) VALUES (1, 1, 0, 1e999 - 1e999, 2)", [])
        .unwrap_err();
    assert!(err.to_string().contains("CHECK") || err.to_string().contains("NOT NULL"), "{err}");
}

/// Group commit: several requests' events in one transaction, each in its own savepoint. A
/// request with an invalid event is rolled back alone (with the users and items it created);
/// the others are committed, with their own counts.
#[test]
fn event_groups_commit_together_and_fail_alone() {
    use daogou_core::{Event, EventKind};
    use daogou_store::{SqliteStore, Store};

    use crate::common::ev;

    let mut s = SqliteStore::open_in_memory().unwrap();
    s.insert_events(&[ev("u1", "a", EventKind::View, 1)]).unwrap();
    let first = [ev("u1", "a", EventKind::View, 1), ev("u1", "b", EventKind::Purchase, 2)];
    let bad = [
        ev("ghost", "phantom", EventKind::View, 3),
        Event { value: f32::NAN, ..ev("ghost", "x", EventKind::Rating, 4) },
    ];
    let third = [ev("u2", "b", EventKind::Click, 5)];
    let out = s.insert_event_groups(&[&first, &bad, &third]).unwrap();
    assert_eq!(out.len(), 3);
    let r0 = out[0].as_ref().unwrap();
    assert_eq!((r0.events_inserted, r0.events_duplicate), (1, 1));
    let err = out[1].as_ref().unwrap_err().to_string();
    assert!(err.contains("event 1") && err.contains("not a finite number"), "{err}");
    assert_eq!(out[2].as_ref().unwrap().events_inserted, 1);
    let st = s.stats().unwrap();
    assert_eq!((st.users, st.items, st.events), (2, 2, 3), "the failed group left nothing behind");
    assert!(s.item("phantom").unwrap().is_none() && s.user_events("ghost").unwrap().is_empty());
    // a later group may create what the failed one had cached
    let again = s.insert_event_groups(&[&[ev("ghost", "phantom", EventKind::View, 6)]]).unwrap();
    assert_eq!(again[0].as_ref().unwrap().events_inserted, 1);
    assert_eq!(s.user_events("ghost").unwrap().len(), 1);
}
