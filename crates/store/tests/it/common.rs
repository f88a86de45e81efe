//! Helpers shared by the test modules.

use daogou_core::{Event, EventKind, Item};

/// An event with `value` 1 and no query.
pub fn ev(user: &str, item: &str, kind: EventKind, timestamp: i64) -> Event {
    Event { user: user.into(), item: item.into(), kind, value: 1.0, timestamp, query: None }
}

/// An item with a title and a category.
pub fn item(id: &str, title: &str, category: &str) -> Item {
    Item { title: title.into(), category: Some(category.into()), ..Item::new(id) }
}

/// `n` deterministic synthetic events over `users` users and `items` items, with
/// non-decreasing timestamps (several events share a second, as in a real log).
pub fn synthetic_events(n: usize, users: usize, items: usize) -> Vec<Event> {
    let mut rng = daogou_core::SeededRng::new(0x9E37_79B9_7F4A_7C15);
    let mut next = || rng.next_u64();
    let kinds = [EventKind::View, EventKind::Click, EventKind::AddToCart, EventKind::Purchase];
    (0..n)
        .map(|i| {
            let r = next();
            Event {
                user: format!("{}", 12_000 + (r % users as u64)),
                item: format!("{}A", 80_000 + ((r >> 20) % items as u64)),
                kind: kinds[((r >> 40) % 4) as usize],
                value: 1.0 + ((r >> 50) % 12) as f32,
                timestamp: 1_290_000_000 + (i as i64) / 3,
                query: None,
            }
        })
        .collect()
}

/// Turn a store file back into what daogou wrote with schema version 1: no deletion log (nor
/// its key), no `deleted` column on items, no experiment tables (nor their salt).
pub fn downgrade_to_v1(path: &std::path::Path) {
    let raw = rusqlite::Connection::open(path).unwrap();
    raw.execute_batch(&format!(
        "DROP TABLE outcomes; DROP TABLE exposures; DROP TABLE experiments;
         DELETE FROM meta WHERE key = '{}';
         DROP TABLE deletions; DELETE FROM meta WHERE key = '{}';
         ALTER TABLE items DROP COLUMN deleted; PRAGMA user_version = 1;",
        daogou_store::EXPERIMENT_SALT_META,
        daogou_store::DELETION_KEY_META
    ))
    .unwrap();
}

/// A fresh, empty PostgreSQL database for one test, on the server of `DAOGOU_TEST_POSTGRES`
/// (scripts/dev-services.sh starts one). Without that variable the test is skipped with a
/// note, unless `CI=true`, where it fails: CI must run it.
#[cfg(feature = "postgres")]
pub fn pg_store(test: &str) -> Option<daogou_store::PgStore> {
    let url = pg_database(test)?;
    Some(daogou_store::PgStore::connect(&url).unwrap())
}

/// The URL of a fresh database for `test` (see [`pg_store`]).
#[cfg(feature = "postgres")]
pub fn pg_database(test: &str) -> Option<String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let Ok(admin) = std::env::var("DAOGOU_TEST_POSTGRES") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "DAOGOU_TEST_POSTGRES is not set: run the tests through scripts/dev-services.sh run …"
        );
        eprintln!("SKIPPED {test}: no PostgreSQL (DAOGOU_TEST_POSTGRES; scripts/dev-services.sh starts one)");
        return None;
    };
    let name: String = test.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(40).collect();
    let name = format!("t_{}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed), name.to_lowercase());
    Some(daogou_store::PgStore::create_database(&admin, &name).unwrap())
}
