//! The evaluation protocol end to end on small hand-made shops, where every number can be
//! worked out by hand, and each module's own tests. One integration-test binary for the crate
//! (the library is compiled once: no unit-test build of it).

mod auto;
mod cold;
mod compare;
mod experiment;
mod metrics;
mod repeats;
mod report;
mod significance;
mod simulator;
mod tune;

use daogou_core::{Dataset, Event, EventKind, Item};

/// A shop of `n_items` items `i0…` (category `c{i % 2}`) and the purchases `(user, item, day)`.
pub fn shop(n_items: usize, purchases: &[(&str, u32, i64)]) -> Dataset {
    let mut ds = Dataset::default();
    for i in 0..n_items {
        ds.upsert_item(Item { category: Some(format!("c{}", i % 2)), ..Item::new(format!("i{i}")) });
    }
    for &(user, item, day) in purchases {
        ds.push_event(&Event {
            user: user.into(),
            item: format!("i{item}"),
            kind: EventKind::Purchase,
            value: 1.0,
            timestamp: day * 86_400,
            query: None,
        });
    }
    ds
}
