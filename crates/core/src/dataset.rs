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

/// Events after id mapping, one column per field: 13 bytes an event (21 with times) where
/// [`Interaction`]s take 24, and no per-event struct. What large training runs read into
/// before building the matrix; times are kept only when asked for (a time decay needs them,
/// a plain fit does not), and read back as 0 otherwise.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventColumns {
    /// Dense user index per event.
    pub users: Vec<u32>,
    /// Dense item index per event.
    pub items: Vec<u32>,
    /// Value per event.
    pub values: Vec<f32>,
    /// Kind per event.
    pub kinds: Vec<EventKind>,
    /// Unix seconds per event, or empty when times are not kept.
    pub timestamps: Vec<i64>,
    keep_time: bool,
}

impl EventColumns {
    /// Empty columns; `keep_time`: store each event's time.
    pub fn new(keep_time: bool) -> Self {
        EventColumns { keep_time, ..Default::default() }
    }

    /// True when times are stored.
    pub fn keeps_time(&self) -> bool {
        self.keep_time
    }

    /// Append one event (its time is dropped unless times are kept).
    #[inline]
    pub fn push(&mut self, x: Interaction) {
        self.users.push(x.user);
        self.items.push(x.item);
        self.values.push(x.value);
        self.kinds.push(x.kind);
        if self.keep_time {
            self.timestamps.push(x.timestamp);
        }
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// True when there are no events.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Event `k` (time 0 when times are not kept).
    #[inline]
    pub fn get(&self, k: usize) -> Interaction {
        Interaction {
            user: self.users[k],
            item: self.items[k],
            value: self.values[k],
            timestamp: if self.keep_time { self.timestamps[k] } else { 0 },
            kind: self.kinds[k],
        }
    }

    /// The events in order.
    pub fn iter(&self) -> impl Iterator<Item = Interaction> + Clone + '_ {
        (0..self.len()).map(move |k| self.get(k))
    }

    /// True when there are events and every one is a rating (what makes a data set explicit,
    /// as [`Dataset::explicit`]).
    pub fn all_ratings(&self) -> bool {
        !self.is_empty() && self.kinds.iter().all(|&k| k == EventKind::Rating)
    }

    /// Release spare capacity (the columns grow by doubling while a file is read).
    pub fn shrink_to_fit(&mut self) {
        self.users.shrink_to_fit();
        self.items.shrink_to_fit();
        self.values.shrink_to_fit();
        self.kinds.shrink_to_fit();
        self.timestamps.shrink_to_fit();
    }

    /// Reorder the events by time, stably (ties keep their order); a no-op without times.
    pub fn sort_by_time(&mut self) {
        if !self.keep_time || self.timestamps.is_sorted() {
            return;
        }
        let mut order: Vec<u32> = (0..self.len() as u32).collect();
        order.sort_by_key(|&k| self.timestamps[k as usize]);
        fn permute<T: Copy>(v: &mut Vec<T>, order: &[u32]) {
            *v = order.iter().map(|&k| v[k as usize]).collect();
        }
        permute(&mut self.users, &order);
        permute(&mut self.items, &order);
        permute(&mut self.values, &order);
        permute(&mut self.kinds, &order);
        permute(&mut self.timestamps, &order);
    }

    /// Forget the times (after ordering by them, when nothing else needs them).
    pub fn drop_times(&mut self) {
        self.keep_time = false;
        self.timestamps = Vec::new();
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
