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
