//! Import and load speed at the size of UCI Online Retail (~400k events, ~4k items).
//! Prints timings; asserts only correctness (timings depend on the machine and profile).
//! `cargo test -p daogou-store --release --test it perf -- --nocapture` for release figures.

use std::time::Instant;

use daogou_core::Item;
use daogou_store::{SqliteStore, Store};

use crate::common::synthetic_events;

#[test]
fn import_and_load_400k_events() {
    const EVENTS: usize = 400_000;
    const ITEMS: usize = 4_000;
    const USERS: usize = 4_300;
    let events = synthetic_events(EVENTS, USERS, ITEMS);
    let items: Vec<Item> = (0..ITEMS)
        .map(|i| Item {
            title: format!("WHITE HANGING HEART T-LIGHT HOLDER {i}"),
            price: Some(2.55),
            ..Item::new(format!("{}A", 80_000 + i))
        })
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(&dir.path().join("perf.db")).unwrap();
    let t = Instant::now();
    let r = s.import(&items, &events).unwrap();
    let import_s = t.elapsed().as_secs_f64();
    assert_eq!(r.items_inserted as usize, ITEMS);
    assert_eq!((r.events_inserted + r.events_duplicate) as usize, EVENTS);

    let t = Instant::now();
    let again = s.import(&items, &events).unwrap();
    let reimport_s = t.elapsed().as_secs_f64();
    assert_eq!(again.events_inserted, 0);

    let t = Instant::now();
    let d = s.load_dataset().unwrap();
    let load_s = t.elapsed().as_secs_f64();
    assert_eq!(d.interactions.len() as u64, r.events_inserted);
    assert_eq!(d.n_items(), ITEMS);

    let t = Instant::now();
    let st = s.stats().unwrap();
    let stats_s = t.elapsed().as_secs_f64();
    assert_eq!(st.events, r.events_inserted);

    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    eprintln!(
        "perf ({profile}): import {EVENTS} events + {ITEMS} items: {import_s:.3} s ({} inserted, {} duplicate); \
         re-import: {reimport_s:.3} s; load_dataset: {load_s:.3} s; stats: {stats_s:.3} s",
        r.events_inserted, r.events_duplicate
    );
}
