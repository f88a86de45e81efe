//! What one purchase occasion (a **basket**) is, so that "bought 3 times" means three
//! occasions everywhere: in the `buy-again` model, in the features of the learned ranker and in
//! the service's "buy it again" list.

use crate::{EventKind, Interaction};

/// What one basket (purchase occasion) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Baskets {
    /// The events of one user at one timestamp: an invoice (Online Retail's lines of one
    /// invoice share its time).
    Time,
    /// The events of one user on one calendar day (UTC): data without invoices, where each
    /// purchase has its own time.
    Day,
}

impl Baskets {
    /// The key of the basket that holds an event at `timestamp` (within one user).
    pub fn key(self, timestamp: i64) -> i64 {
        match self {
            Baskets::Time => timestamp,
            Baskets::Day => timestamp.div_euclid(86_400),
        }
    }

    /// [`Baskets::Time`] when purchases come in invoices — at least half of the bought events
    /// ([`is_bought`]) share their user and timestamp with one on another item — and
    /// [`Baskets::Day`] otherwise.
    pub fn detect(events: &[Interaction]) -> Baskets {
        let purchases = has_purchases(events);
        let mut keys: Vec<(u32, i64, u32)> =
            events.iter().filter(|e| is_bought(e.kind, purchases)).map(|e| (e.user, e.timestamp, e.item)).collect();
        if keys.is_empty() {
            return Baskets::Day;
        }
        keys.sort_unstable();
        keys.dedup();
        let (mut shared, mut start) = (0usize, 0usize);
        for end in 1..=keys.len() {
            if end == keys.len() || keys[end].0 != keys[start].0 || keys[end].1 != keys[start].1 {
                if end - start >= 2 {
                    shared += end - start;
                }
                start = end;
            }
        }
        if shared * 2 >= keys.len() {
            Baskets::Time
        } else {
            Baskets::Day
        }
    }

    /// The name used in parameters (`time`, `day`).
    pub fn as_str(self) -> &'static str {
        match self {
            Baskets::Time => "time",
            Baskets::Day => "day",
        }
    }
}

/// True when the events hold a purchase (retail data), so that "bought" means purchased.
pub fn has_purchases(events: &[Interaction]) -> bool {
    events.iter().any(|e| e.kind == EventKind::Purchase)
}

/// Whether an event of `kind` counts as having the item: a purchase in data with purchases
/// (`purchases`), otherwise every event but returns and searches (ratings, views).
pub fn is_bought(kind: EventKind, purchases: bool) -> bool {
    if purchases {
        kind == EventKind::Purchase
    } else {
        !matches!(kind, EventKind::Return | EventKind::Search)
    }
}
