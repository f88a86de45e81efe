//! The `Store` contract: round trips, dedup, upsert rules, datasets. Every test runs on
//! `SqliteStore` and, with the `postgres` feature and a server (`DAOGOU_TEST_POSTGRES`, see
//! scripts/dev-services.sh), on `PgStore` (module `postgres` below).

use std::collections::BTreeMap;

use daogou_core::{Event, EventKind, Interaction, Item};
use daogou_store::{ImportReport, SqliteStore, Store, StoreError};

use crate::common::{self, ev, item};

/// The contract tests, each run on every backend.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                super::$name(Box::new(daogou_store::SqliteStore::open_in_memory().unwrap()));
            })*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $(#[test]
            fn $name() {
                if let Some(s) = crate::common::pg_store(stringify!($name)) {
                    super::$name(Box::new(s));
                }
            })*
        }
    };
}

contract!(
    import_round_trips_items_and_events,
    empty_store_stats_and_dataset,
    reimport_inserts_nothing_and_counts_duplicates,
    upsert_replaces_fields_but_keeps_created_at,
    load_dataset_maps_ids_orders_by_time_and_keeps_the_whole_catalogue,
    load_columns_holds_what_load_dataset_holds_in_the_same_order,
    load_dataset_flags_explicit_ratings,
    delete_user_removes_events_and_profile,
    meta_is_a_small_key_value_table,
    invalid_records_are_refused_with_their_position,
    works_as_a_trait_object_across_threads,
    group_commits_fail_one_group_alone,
    batched_imports_are_all_or_nothing,
    experiments_round_trip,
    rename_users_renames_and_merges,
    deletions_are_logged_under_the_store_key,
    only_an_embedded_store_commits_in_process,
);

/// The service commits a small write on its async worker only where the commit stays in the
/// process: SQLite yes; PostgreSQL, with its network round trips and the server's locks, no.
fn only_an_embedded_store_commits_in_process(s: Box<dyn Store>) {
    let remote = s.location().starts_with("postgres");
    assert_eq!(s.commits_in_process(), !remote, "{}", s.location());
}

fn import_round_trips_items_and_events(mut s: Box<dyn Store>) {
    let mut shoe = item("sku-1", "跑鞋 Air", "鞋/跑鞋");
    shoe.brand = Some("Nike".into());
    shoe.price = Some(599.5);
    shoe.attributes = BTreeMap::from([("colour".into(), "红".into()), ("size".into(), "42".into())]);
    shoe.created_at = Some(1_600_000_000);
    shoe.stock = Some(7);
    let mut sold_out = item("sku-2", "袜子", "配件");
    sold_out.available = false;
    let events = vec![
        ev("u1", "sku-1", EventKind::View, 20),
        ev("u1", "sku-1", EventKind::Purchase, 10),
        Event { query: Some("红色 跑鞋".into()), ..ev("u1", "", EventKind::Search, 10) },
        ev("u2", "sku-3", EventKind::Click, 5),
    ];
    let r = s.import(&[shoe.clone(), sold_out.clone()], &events).unwrap();
    // sku-3 appears only in an event: a bare catalogue entry is created for it.
    assert_eq!(r, ImportReport { events_inserted: 4, events_duplicate: 0, items_inserted: 3, items_updated: 0 });

    assert_eq!(s.item("sku-1").unwrap(), Some(shoe.clone()));
    assert_eq!(s.item("sku-3").unwrap(), Some(Item::new("sku-3")));
    assert_eq!(s.item("nope").unwrap(), None);
    let ids: Vec<String> = s.items().unwrap().into_iter().map(|i| i.id).collect();
    assert_eq!(ids, ["sku-1", "sku-2", "sku-3"]);
    assert_eq!(s.items().unwrap()[1], sold_out);

    // Time order, ties in insertion order; the item-less search comes back with item "".
    let u1 = s.user_events("u1").unwrap();
    assert_eq!(u1, vec![events[1].clone(), events[2].clone(), events[0].clone()]);
    assert!(s.user_events("nobody").unwrap().is_empty());

    let st = s.stats().unwrap();
    assert_eq!((st.users, st.items, st.events), (2, 3, 4));
    assert_eq!(st.by_kind.get("view"), Some(&1));
    assert_eq!(st.by_kind.get("search"), Some(&1));
    assert_eq!(st.by_kind.get("rating"), None);
    assert_eq!((st.first_timestamp, st.last_timestamp), (Some(5), Some(20)));
}

fn empty_store_stats_and_dataset(s: Box<dyn Store>) {
    let st = s.stats().unwrap();
    assert_eq!((st.users, st.items, st.events, st.first_timestamp), (0, 0, 0, None));
    let d = s.load_dataset().unwrap();
    assert_eq!((d.n_users(), d.n_items(), d.interactions.len(), d.explicit), (0, 0, 0, false));
}

fn reimport_inserts_nothing_and_counts_duplicates(mut s: Box<dyn Store>) {
    let items = vec![item("a", "A", "x"), item("b", "B", "y")];
    let events = vec![
        ev("u1", "a", EventKind::Purchase, 1),
        Event { value: 3.0, ..ev("u1", "a", EventKind::Purchase, 1) }, // other quantity: distinct
        Event { query: Some("shoes".into()), ..ev("u1", "", EventKind::Search, 2) },
        Event { query: Some("boots".into()), ..ev("u1", "", EventKind::Search, 2) }, // other query
        ev("u2", "", EventKind::Search, 3), // NULL item and NULL query: still deduplicated
        ev("u2", "", EventKind::Search, 3),
        ev("u2", "b", EventKind::View, 3),
    ];
    let first = s.import(&items, &events).unwrap();
    assert_eq!(first, ImportReport { events_inserted: 6, events_duplicate: 1, items_inserted: 2, items_updated: 0 });
    let again = s.import(&items, &events).unwrap();
    assert_eq!(again, ImportReport { events_inserted: 0, events_duplicate: 7, items_inserted: 0, items_updated: 0 });
    assert_eq!(s.stats().unwrap().events, 6);
}

fn upsert_replaces_fields_but_keeps_created_at(mut s: Box<dyn Store>) {
    let mut v1 = item("a", "old title", "old/cat");
    v1.created_at = Some(100);
    v1.price = Some(9.5);
    assert_eq!(s.upsert_items(&[v1.clone()]).unwrap().items_inserted, 1);
    // Same record again: nothing changes, nothing counted.
    assert_eq!(s.upsert_items(&[v1.clone()]).unwrap(), ImportReport::default());

    let v2 = Item { title: "new title".into(), ..Item::new("a") }; // no category, price, created_at
    assert_eq!(s.upsert_items(&[v2.clone()]).unwrap().items_updated, 1);
    let got = s.item("a").unwrap().unwrap();
    assert_eq!(got, Item { created_at: Some(100), ..v2.clone() });

    // A new created_at wins.
    let v3 = Item { created_at: Some(200), ..v2 };
    s.upsert_items(&[v3.clone()]).unwrap();
    assert_eq!(s.item("a").unwrap().unwrap(), v3);

    // A bare entry created from an event is filled in by a later upsert.
    s.insert_events(&[ev("u", "b", EventKind::View, 1)]).unwrap();
    let full = item("b", "B", "cat");
    assert_eq!(s.upsert_items(&[full.clone()]).unwrap().items_updated, 1);
    assert_eq!(s.item("b").unwrap().unwrap(), full);
}

fn load_dataset_maps_ids_orders_by_time_and_keeps_the_whole_catalogue(mut s: Box<dyn Store>) {
    let items = vec![item("i0", "zero", "c0"), item("i1", "one", "c1"), item("lonely", "no events", "c2")];
    let events = vec![
        ev("bob", "i1", EventKind::Purchase, 30),
        ev("amy", "i0", EventKind::View, 10),
        ev("amy", "i1", EventKind::Click, 30), // same second as bob's purchase, inserted later
        Event { query: Some("q".into()), ..ev("cat", "", EventKind::Search, 5) }, // no item
        ev("amy", "i2", EventKind::AddToCart, 20), // i2 only in events
    ];
    s.import(&items, &events).unwrap();
    let d = s.load_dataset().unwrap();

    assert_eq!(d.users.ids(), ["bob", "amy", "cat"]);
    assert_eq!(d.items.ids(), ["i0", "i1", "lonely", "i2"]);
    assert_eq!(d.catalogue.len(), d.n_items());
    assert_eq!(d.catalogue[2], items[2]);
    assert_eq!(d.catalogue[3], Item::new("i2"));
    assert!(!d.explicit);

    let got: Vec<(String, String, EventKind, i64)> = d
        .interactions
        .iter()
        .map(|x| (d.users.id(x.user).to_owned(), d.items.id(x.item).to_owned(), x.kind, x.timestamp))
        .collect();
    let want = [
        ("amy", "i0", EventKind::View, 10),
        ("amy", "i2", EventKind::AddToCart, 20),
        ("bob", "i1", EventKind::Purchase, 30),
        ("amy", "i1", EventKind::Click, 30),
    ];
    let want: Vec<_> = want.iter().map(|&(u, i, k, t)| (u.to_owned(), i.to_owned(), k, t)).collect();
    assert_eq!(got, want);
    // Round trip back to events through the Dataset's own helper.
    assert_eq!(d.event(&d.interactions[2]), events[0]);
}

fn load_columns_holds_what_load_dataset_holds_in_the_same_order(mut s: Box<dyn Store>) {
    // out of time order, with ties, a search without item and a deleted user
    let mut events = common::synthetic_events(2_000, 40, 30);
    events.reverse();
    events.push(Event { query: Some("q".into()), ..ev("cat", "", EventKind::Search, 5) });
    s.import(&[item("lonely", "no events", "c2")], &events).unwrap();
    s.delete_user("12003", 99).unwrap();
    let d = s.load_dataset().unwrap();
    for keep_time in [true, false] {
        let (c, columns) = s.load_columns(keep_time).unwrap();
        assert_eq!((c.users.ids(), c.items.ids()), (d.users.ids(), d.items.ids()));
        assert_eq!(c.catalogue, d.catalogue);
        assert_eq!(c.explicit, d.explicit);
        assert!(c.interactions.is_empty());
        let want: Vec<_> = d
            .interactions
            .iter()
            .map(|x| Interaction { timestamp: if keep_time { x.timestamp } else { 0 }, ..*x })
            .collect();
        assert_eq!(columns.iter().collect::<Vec<_>>(), want);
        assert_eq!(columns.timestamps.len(), if keep_time { want.len() } else { 0 });
    }
}

fn load_dataset_flags_explicit_ratings(mut s: Box<dyn Store>) {
    let r = |u: &str, i: &str, v: f32| Event { value: v, ..ev(u, i, EventKind::Rating, 0) };
    s.insert_events(&[r("1", "10", 4.5), r("2", "10", 3.0)]).unwrap();
    let d = s.load_dataset().unwrap();
    assert!(d.explicit);
    assert_eq!(d.interactions.iter().map(|x| x.value).collect::<Vec<_>>(), [4.5, 3.0]);
}

fn delete_user_removes_events_and_profile(mut s: Box<dyn Store>) {
    s.insert_events(&[
        ev("gone", "a", EventKind::View, 1),
        ev("gone", "b", EventKind::View, 2),
        ev("gone", "", EventKind::Search, 3),
        ev("stays", "a", EventKind::View, 4),
    ])
    .unwrap();
    assert_eq!(s.delete_user("gone", 100).unwrap(), 3);
    assert_eq!(s.delete_user("gone", 101).unwrap(), 0);
    assert_eq!(s.delete_user("never-seen", 102).unwrap(), 0);
    assert!(s.user_events("gone").unwrap().is_empty());
    let st = s.stats().unwrap();
    assert_eq!((st.users, st.items, st.events), (1, 2, 1));
    let d = s.load_dataset().unwrap();
    assert_eq!(d.users.ids(), ["stays"]);
    // The user can come back; old events stay gone.
    s.insert_events(&[ev("gone", "a", EventKind::View, 9)]).unwrap();
    assert_eq!(s.user_events("gone").unwrap().len(), 1);
    // A deleted user's rowid gap does not confuse load_dataset.
    let d = s.load_dataset().unwrap();
    assert_eq!(d.users.ids(), ["stays", "gone"]);
    assert_eq!(d.interactions.len(), 2);
}

fn meta_is_a_small_key_value_table(mut s: Box<dyn Store>) {
    assert_eq!(s.meta("last_import").unwrap(), None);
    s.set_meta("last_import", "2026-11-29T10:00:00Z").unwrap();
    s.set_meta("model.als", "v3").unwrap();
    s.set_meta("last_import", "2026-11-30T10:00:00Z").unwrap();
    assert_eq!(s.meta("last_import").unwrap().as_deref(), Some("2026-11-30T10:00:00Z"));
    assert_eq!(s.meta("model.als").unwrap().as_deref(), Some("v3"));
}

fn invalid_records_are_refused_with_their_position(mut s: Box<dyn Store>) {
    let err = s.insert_events(&[ev("u", "a", EventKind::View, 1), ev("", "a", EventKind::View, 2)]).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)) && err.to_string().contains("event 1"), "{err}");
    let bad_price = Item { price: Some(f64::INFINITY), ..Item::new("p") };
    let err = s.upsert_items(&[bad_price]).unwrap_err();
    assert!(err.to_string().contains("item 0 (p)"), "{err}");
    assert!(s.upsert_items(&[Item::new("")]).is_err());
    assert_eq!(s.stats().unwrap().events, 0);
}

fn works_as_a_trait_object_across_threads(mut s: Box<dyn Store>) {
    s.insert_events(&[ev("u", "a", EventKind::View, 1)]).unwrap();
    let n = std::thread::spawn(move || s.stats().unwrap().events).join().unwrap();
    assert_eq!(n, 1);
}

/// A refit reads on a second connection in one read transaction: what it reads stays as it was
/// when the transaction began, while the service's connection goes on committing events.
#[test]
fn a_read_transaction_sees_one_state_while_the_writer_commits() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = SqliteStore::open(&dir.path().join("shop.db")).unwrap();
    writer.insert_events(&[ev("u1", "i1", EventKind::Purchase, 1_700_000_000)]).unwrap();
    let reader = writer.reader().unwrap().expect("a file store has a second connection");
    reader.begin_read().unwrap();
    // the writer is not blocked by the open read transaction
    writer.insert_events(&[ev("u2", "i2", EventKind::Purchase, 1_700_000_001)]).unwrap();
    let during = reader.load_dataset().unwrap();
    assert_eq!((during.interactions.len(), during.users.len()), (1, 1), "the snapshot holds only the first event");
    reader.end_read().unwrap();
    assert_eq!(reader.load_dataset().unwrap().interactions.len(), 2, "after the transaction the reader sees both");
    assert!(SqliteStore::open_in_memory().unwrap().reader().unwrap().is_none(), "no second connection in memory");
}

/// The same on PostgreSQL (a repeatable-read transaction on the reader's own connection).
#[cfg(feature = "postgres")]
#[test]
fn a_postgres_read_transaction_sees_one_state_while_the_writer_commits() {
    let Some(mut writer) = common::pg_store("read_transaction") else { return };
    writer.insert_events(&[ev("u1", "i1", EventKind::Purchase, 1_700_000_000)]).unwrap();
    let reader = writer.reader().unwrap().expect("a second connection");
    reader.begin_read().unwrap();
    writer.insert_events(&[ev("u2", "i2", EventKind::Purchase, 1_700_000_001)]).unwrap();
    assert_eq!(reader.load_dataset().unwrap().interactions.len(), 1, "the snapshot holds only the first event");
    reader.end_read().unwrap();
    assert_eq!(reader.load_dataset().unwrap().interactions.len(), 2);
}

fn group_commits_fail_one_group_alone(mut s: Box<dyn Store>) {
    let good = [ev("u1", "a", EventKind::View, 1)];
    let bad = [ev("u2", "b", EventKind::View, 2), ev("", "b", EventKind::View, 3)];
    let dup = [ev("u1", "a", EventKind::View, 1), ev("u3", "c", EventKind::Purchase, 4)];
    let out = s.insert_event_groups(&[&good, &bad, &dup]).unwrap();
    assert_eq!(out[0].as_ref().unwrap().events_inserted, 1);
    assert!(out[1].as_ref().unwrap_err().to_string().contains("event 1"), "{:?}", out[1]);
    let r = out[2].as_ref().unwrap();
    assert_eq!((r.events_inserted, r.events_duplicate), (1, 1));
    // the failed group left nothing behind, not even its user or item
    let d = s.load_dataset().unwrap();
    assert_eq!(d.users.ids(), ["u1", "u3"]);
    assert_eq!(d.items.ids(), ["a", "c"]);
}

fn batched_imports_are_all_or_nothing(mut s: Box<dyn Store>) {
    let events = common::synthetic_events(3_000, 50, 40);
    let report = s
        .import_batches(&mut |write| {
            for chunk in events.chunks(1_000) {
                write(&[item("i0", "zero", "c")], chunk)?;
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(report.events_inserted + report.events_duplicate, 3_000);
    let stored = s.stats().unwrap().events;
    assert_eq!(stored, report.events_inserted);
    // a feed that fails after two good batches stores nothing of them
    let more = common::synthetic_events(500, 7, 7);
    let more: Vec<Event> = more.into_iter().map(|e| Event { user: format!("new-{}", e.user), ..e }).collect();
    let err = s
        .import_batches(&mut |write| {
            write(&[], &more[..200])?;
            write(&[item("x", "X", "c")], &more[200..])?;
            Err("line 9: a bad row".into())
        })
        .unwrap_err();
    assert!(err.to_string().contains("line 9"), "{err}");
    assert_eq!(s.stats().unwrap().events, stored);
    assert!(s.item("x").unwrap().is_none());
    // a store error inside a batch comes back as that error, and nothing is stored either
    let err =
        s.import_batches(&mut |write| write(&[], &[ev("", "a", EventKind::View, 1)]).map_err(Into::into)).unwrap_err();
    assert!(err.downcast_ref::<StoreError>().is_some_and(|e| matches!(e, StoreError::Invalid(_))), "{err}");
}

fn experiments_round_trip(mut s: Box<dyn Store>) {
    use daogou_store::Outcome;
    let salt = s.experiment_salt().unwrap();
    assert_eq!(s.experiment_salt().unwrap(), salt);
    assert!(s.set_meta(daogou_store::EXPERIMENT_SALT_META, "00").is_err(), "the salt cannot be changed");
    assert!(s.create_experiment("e", r#"{"x":1}"#, 10).unwrap());
    assert!(!s.create_experiment("e", "{}", 11).unwrap(), "names are unique");
    assert!(s.set_experiment_status("e", "paused", 12).is_err());
    s.set_experiment_status("e", "running", 20).unwrap();
    let items = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let x1 = s.record_exposure("e", "a", "u1", 100, &items(&["i1", "i2"])).unwrap();
    let x2 = s.record_exposure("e", "a", "u1", 200, &items(&["i2", "i3"])).unwrap();
    let x3 = s.record_exposure("e", "b", "u2", 4_000, &items(&["i1"])).unwrap();
    assert_eq!(s.exposure(x2).unwrap().unwrap().items, items(&["i2", "i3"]));
    assert_eq!(s.last_exposure_with("e", "u1", "i2", 0, 300).unwrap(), Some(x2));
    assert_eq!(s.last_exposure_with("e", "u1", "i1", 0, 300).unwrap(), Some(x1));
    assert_eq!(s.last_exposure_with("e", "u1", "i2", 150, 150).unwrap(), None, "outside the window");
    assert_eq!(s.last_exposure_with("e", "u1", "i9", 0, 300).unwrap(), None, "not shown");
    let o =
        |x, item: &str, kind, rev, at| Outcome { exposure: x, item: item.into(), kind, value: 1.0, revenue: rev, at };
    let outs = [
        o(x2, "i2", "click", 0.0, 210),
        o(x2, "i2", "click", 0.0, 220),
        o(x2, "i2", "purchase", 30.0, 230),
        o(x3, "i1", "add_to_cart", 0.0, 4_010),
    ];
    assert_eq!(s.record_outcomes(&outs).unwrap(), 4);
    assert_eq!(s.record_outcomes(&outs[..1]).unwrap(), 0, "not doubled");
    let mut t = s.exposure_totals("e", 0, 3_600).unwrap();
    t.sort_by_key(|r| (r.variant.clone(), r.bucket));
    assert_eq!(t.len(), 2);
    assert_eq!((t[0].variant.as_str(), t[0].bucket, t[0].lists, t[0].impressions), ("a", 0, 2, 4));
    assert_eq!((t[0].clicks, t[0].carts, t[0].purchases, t[0].revenue), (1, 0, 1, 30.0));
    assert_eq!((t[1].variant.as_str(), t[1].bucket, t[1].carts), ("b", 1, 1));
    s.delete_user("u1", 5_000).unwrap();
    assert_eq!(s.exposures_of("u1").unwrap(), 0);
    assert_eq!(s.exposures_of("u2").unwrap(), 1);
    assert_eq!(s.exposure_totals("e", 0, 3_600).unwrap().len(), 1);
    assert_eq!(s.experiment("e").unwrap().unwrap().started_at, Some(20));
    s.set_experiment_status("e", "stopped", 30).unwrap();
    assert_eq!(s.experiments().unwrap()[0].status, "stopped");
}

fn rename_users_renames_and_merges(mut s: Box<dyn Store>) {
    s.insert_events(&[
        ev("old-a", "x", EventKind::View, 5),
        ev("old-b", "x", EventKind::View, 1),
        ev("old-b", "y", EventKind::Purchase, 2),
        ev("new-b", "y", EventKind::Purchase, 2), // the same event, already under the new id
        ev("new-b", "z", EventKind::View, 9),
    ])
    .unwrap();
    let pairs = |v: &[(&str, &str)]| v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
    let r = s.rename_users(&pairs(&[("old-a", "new-a"), ("old-b", "new-b"), ("nobody", "new-c")])).unwrap();
    assert_eq!((r.renamed, r.merged, r.missing), (1, 1, 1));
    assert_eq!(s.user_ids().unwrap(), ["new-a", "new-b"]);
    let items = |u: &str| s.user_events(u).unwrap().into_iter().map(|e| e.item).collect::<Vec<_>>();
    assert_eq!(items("new-a"), ["x"]);
    assert_eq!(items("new-b"), ["x", "y", "z"], "merged, the shared event once");
    assert!(items("old-b").is_empty());
    assert_eq!(s.stats().unwrap().events, 4);
    // one transaction: a bad pair anywhere changes nothing
    let err = s.rename_users(&pairs(&[("new-a", "newer-a"), ("new-b", "")])).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert_eq!(s.user_ids().unwrap(), ["new-a", "new-b"]);
}

fn deletions_are_logged_under_the_store_key(mut s: Box<dyn Store>) {
    s.insert_events(&[ev("gone", "a", EventKind::View, 1), ev("stays", "a", EventKind::View, 2)]).unwrap();
    assert!(s.deletions().unwrap().is_empty());
    s.delete_user("gone", 100).unwrap();
    s.delete_user("gone", 50).unwrap(); // an earlier time does not replace the later one
    s.delete_user("never-seen", 70).unwrap();
    let log = s.deletion_log().unwrap();
    assert_eq!(
        (log.deleted_at("gone"), log.deleted_at("never-seen"), log.deleted_at("stays")),
        (Some(100), Some(70), None)
    );
    assert_eq!(s.deletions().unwrap().len(), 2);
    assert_eq!(s.deletion_key().unwrap().hash("gone"), s.deletions().unwrap()[1].0);
    assert!(s.set_meta(daogou_store::DELETION_KEY_META, "00").is_err(), "the key cannot be changed");
}

/// Two servers writing at once, each in its own transactions, the same new shoppers and
/// products arriving at both: nothing fails and nothing is lost (a user created by the other
/// transaction a moment earlier is found, not taken for missing).
#[cfg(feature = "postgres")]
#[test]
fn postgres_concurrent_writers_creating_the_same_users_lose_nothing() {
    let Some(url) = common::pg_database("concurrent_writers") else { return };
    drop(daogou_store::PgStore::connect(&url).unwrap()); // the schema, once
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut s = daogou_store::PgStore::connect(&url).unwrap();
                let mut stored = 0;
                for k in 0..150 {
                    // the same new user and item on both writers, different events
                    let e = [
                        ev(&format!("new-user-{k}"), &format!("new-item-{k}"), EventKind::View, w),
                        ev(&format!("new-user-{}", k + 1), &format!("new-item-{k}"), EventKind::Click, w),
                    ];
                    for r in s.insert_event_groups(&[&e[..1], &e[1..]]).unwrap() {
                        stored += r.unwrap().events_inserted;
                    }
                }
                stored
            })
        })
        .collect();
    let stored: u64 = writers.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(stored, 600);
    let s = daogou_store::PgStore::connect(&url).unwrap();
    let st = s.stats().unwrap();
    assert_eq!((st.events, st.users, st.items), (600, 151, 150));
}
