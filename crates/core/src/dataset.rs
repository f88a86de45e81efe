use serde::{Deserialize, Serialize};

use crate::{Event, EventKind, IdMap, Item};

/// One event after id mapping: dense indices and a numeric value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    /// Dense user index.
    pub user: u32,
    /// Dense item index.
    pub item: u32,
    /// Rating, quantity or (after preprocessing) a weight/confidence.
    pub value: f32,
    /// Unix seconds.
    pub timestamp: i64,
    /// What happened.
    pub kind: EventKind,
}

impl Interaction {
    /// A rating interaction at time 0 (handy in tests and examples).
    pub fn new(user: u32, item: u32, value: f32) -> Self {
        Interaction { user, item, value, timestamp: 0, kind: EventKind::Rating }
    }
}

/// Id maps, catalogue and interactions: what importers produce and the pipeline consumes.
///
/// `catalogue[i]` describes item index `i`; items seen only in events get a bare entry.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// User ids.
    pub users: IdMap,
    /// Item ids.
    pub items: IdMap,
    /// Catalogue by item index (same length as `items`).
    pub catalogue: Vec<Item>,
    /// Events in input order.
    pub interactions: Vec<Interaction>,
    /// True when values are explicit ratings (MovieLens); false for implicit behaviour.
    pub explicit: bool,
}

impl Dataset {
    /// Number of users.
    pub fn n_users(&self) -> usize {
        self.users.len()
    }

    /// Number of items.
    pub fn n_items(&self) -> usize {
        self.items.len()
    }

    /// Index of item `id`, adding a bare catalogue entry when new.
    pub fn item_index(&mut self, id: &str) -> u32 {
        let i = self.items.get_or_insert(id);
        if i as usize == self.catalogue.len() {
            self.catalogue.push(Item::new(id));
        }
        i
    }

    /// Insert or replace a catalogue entry; returns its index.
    pub fn upsert_item(&mut self, item: Item) -> u32 {
        let i = self.item_index(&item.id);
        self.catalogue[i as usize] = item;
        i
    }

    /// Map an event's ids and append it.
    pub fn push_event(&mut self, e: &Event) -> Interaction {
        let user = self.users.get_or_insert(&e.user);
        let item = self.item_index(&e.item);
        let it = Interaction { user, item, value: e.value, timestamp: e.timestamp, kind: e.kind };
        self.interactions.push(it);
        it
    }

    /// Back to external-id events (for storing or exporting).
    pub fn event(&self, it: &Interaction) -> Event {
        Event {
            user: self.users.id(it.user).to_owned(),
            item: self.items.id(it.item).to_owned(),
            kind: it.kind,
            value: it.value,
            timestamp: it.timestamp,
            query: None,
        }
    }

    /// Category of item `i`, if the catalogue has one.
    pub fn category(&self, i: u32) -> Option<&str> {
        self.catalogue.get(i as usize).and_then(|it| it.category.as_deref())
    }

    /// Title of item `i`, or its id when the catalogue has no title.
    pub fn title(&self, i: u32) -> &str {
        match self.catalogue.get(i as usize) {
            Some(it) if !it.title.is_empty() => &it.title,
            _ => self.items.id(i),
        }
    }
}
