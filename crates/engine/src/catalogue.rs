//! The live catalogue: every item in one dense index space (the store's order, new items
//! appended), kept in step with upserts and deletions as they happen. The guide (search and the
//! assistant) indexes the same list, so a catalogue index means the same item everywhere;
//! a model's own item indices map onto it through the snapshot.

use std::sync::RwLock;

use daogou_core::Item;
use rustc_hash::FxHashMap;

/// Items by catalogue index, with an id lookup.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    items: Vec<Item>,
    index: FxHashMap<String, u32>,
    /// Latest `created_at` of any item (novelty is measured from it).
    newest: Option<i64>,
}

impl Catalogue {
    /// A catalogue of `items` in this order (a duplicate id keeps its last record).
    pub fn new(items: Vec<Item>) -> Self {
        let mut c = Catalogue::default();
        for it in items {
            c.upsert(it);
        }
        c
    }

    /// Number of items (deleted ones included: their slots stay).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there are no items.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Item `i` (a valid catalogue index).
    pub fn get(&self, i: u32) -> &Item {
        &self.items[i as usize]
    }

    /// The index of item `id`.
    pub fn index_of(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// Item `id`.
    pub fn by_id(&self, id: &str) -> Option<&Item> {
        self.index_of(id).map(|i| self.get(i))
    }

    /// Every item, by catalogue index.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Latest `created_at` in the catalogue.
    pub fn newest(&self) -> Option<i64> {
        self.newest
    }

    /// Insert or replace `item`; returns its index and whether it was new.
    pub fn upsert(&mut self, item: Item) -> (u32, bool) {
        match self.index.get(&item.id) {
            Some(&i) => {
                let old = std::mem::replace(&mut self.items[i as usize], item);
                if old.created_at.is_some() && old.created_at == self.newest {
                    // the newest item changed its date: look again
                    self.newest = self.items.iter().filter_map(|x| x.created_at).max();
                } else {
                    self.note_created(self.items[i as usize].created_at);
                }
                (i, false)
            }
            None => {
                let i = self.items.len() as u32;
                self.note_created(item.created_at);
                self.index.insert(item.id.clone(), i);
                self.items.push(item);
                (i, true)
            }
        }
    }

    /// The index of `id`, adding a bare entry (id only) when the catalogue does not hold it yet,
    /// as the store does for an item first seen in an event; `true` when added.
    pub fn ensure(&mut self, id: &str) -> (u32, bool) {
        match self.index_of(id) {
            Some(i) => (i, false),
            None => self.upsert(Item::new(id)),
        }
    }

    fn note_created(&mut self, at: Option<i64>) {
        if let Some(t) = at {
            self.newest = Some(self.newest.map_or(t, |n| n.max(t)));
        }
    }
}

/// Where a snapshot finds the catalogue index of each of its model's items, adding a bare
/// entry (id only) for an id the catalogue does not hold.
pub trait IndexItems {
    /// The catalogue index of each of `ids`, in order.
    fn index_items(&mut self, ids: &[String]) -> Vec<u32>;
}

impl IndexItems for Catalogue {
    fn index_items(&mut self, ids: &[String]) -> Vec<u32> {
        ids.iter().map(|id| self.ensure(id).0).collect()
    }
}

/// The live catalogue behind the lock that ingestion takes for every event. A refit indexes its
/// model's items through it without copying the catalogue: lookups a slice at a time under the
/// read lock (an index never moves, the catalogue only grows), then one write lock for the ids
/// still missing. Copying it under the read lock held up ingestion for milliseconds at every
/// refit (bench/refit_ingest.sh).
pub struct SharedCatalogue<'a>(pub &'a RwLock<Catalogue>);

impl IndexItems for SharedCatalogue<'_> {
    fn index_items(&mut self, ids: &[String]) -> Vec<u32> {
        const SLICE: usize = 4096;
        let mut out = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for chunk in ids.chunks(SLICE) {
            let cat = self.0.read().unwrap_or_else(|e| e.into_inner());
            for id in chunk {
                let i = cat.index_of(id);
                if i.is_none() {
                    missing.push(out.len());
                }
                out.push(i.unwrap_or(u32::MAX));
            }
        }
        if !missing.is_empty() {
            let mut cat = self.0.write().unwrap_or_else(|e| e.into_inner());
            for m in missing {
                out[m] = cat.ensure(&ids[m]).0;
            }
        }
        out
    }
}
