//! The shopping assistant's guide ([`daogou_guide::Guide`]) of a running service: built from
//! the engine's catalogue on first use, then kept in step with every catalogue change. The
//! guide indexes the catalogue in the engine's own order, so a guide index is a catalogue index.

use std::sync::{Arc, Mutex};

use daogou_engine::{Engine, Snapshot};
use daogou_guide::{Guide, GuideConfig};

use crate::error::ApiError;

/// The guide, and the snapshot version whose popularity it holds.
pub(crate) struct Built {
    pub guide: Guide,
    popularity_of: Mutex<u64>,
}

/// The guide slot of a running service.
#[derive(Default)]
pub struct GuideSlot {
    built: Mutex<Option<Arc<Built>>>,
    /// Where conversations live when several servers answer (Redis); unset: in this process.
    shared: std::sync::OnceLock<Arc<dyn daogou_guide::SharedTurns>>,
    /// The assistant's settings from the service configuration (currency and rates).
    config: GuideConfig,
}

pub(crate) fn guide_error(e: daogou_guide::Error) -> ApiError {
    match e {
        daogou_guide::Error::BadRequest(m) => ApiError::bad_request(m),
        other => ApiError::internal(format!("assistant: {other}")),
    }
}

impl GuideSlot {
    pub(crate) fn new(config: GuideConfig) -> GuideSlot {
        GuideSlot { built: Mutex::new(None), shared: Default::default(), config }
    }

    /// Build the guide now if not built yet (at start, so the first question does not wait).
    pub(crate) fn warm(&self, engine: &Engine) {
        if let Err(e) = self.get(engine) {
            eprintln!("assistant: cannot index the catalogue yet ({}); retrying on the first question", e.message);
        }
    }

    /// The guide, built now from the catalogue when this is the first use, with the current
    /// snapshot's popularity. Blocking.
    pub(crate) fn get(&self, engine: &Engine) -> Result<Arc<Built>, ApiError> {
        let b = {
            let mut slot = self.built.lock().unwrap_or_else(|e| e.into_inner());
            match slot.as_ref() {
                Some(b) => b.clone(),
                None => {
                    // built from a copy: holding the catalogue's read lock for the build (a
                    // fraction of a second at start) held every write up, which takes it for
                    // writing. Holding the slot while building: a catalogue change made after
                    // the copy waits in `changed` and is applied after.
                    let items = engine.catalogue().items().to_vec();
                    let guide = Guide::new(&items, self.config.clone()).map_err(guide_error)?;
                    if let Some(shared) = self.shared.get() {
                        guide.share_conversations(shared.clone());
                    }
                    for (i, it) in items.iter().enumerate() {
                        if it.deleted {
                            guide.remove(i as u32).map_err(guide_error)?;
                        }
                    }
                    drop(items);
                    let b = Arc::new(Built { guide, popularity_of: Mutex::new(0) });
                    *slot = Some(b.clone());
                    b
                }
            }
        };
        b.popularity(&engine.snapshot());
        Ok(b)
    }

    /// Keep the guide in step with the catalogue after the engine changed items `changed`
    /// (catalogue indices; a deletion is a change that marks the item deleted): those are read
    /// again, and items the catalogue gained are appended. Reading the catalogue's current
    /// records makes the order of concurrent calls irrelevant. Blocking. A guide that cannot take
    /// the change is dropped and rebuilt on its next use.
    pub(crate) fn changed(&self, engine: &Engine, changed: &[u32]) {
        let mut slot = self.built.lock().unwrap_or_else(|e| e.into_inner());
        let Some(b) = slot.as_ref() else { return };
        let cat = engine.catalogue();
        let known = b.guide.len() as u32;
        let again = changed.iter().copied().filter(|&i| i < known);
        // bare entries (an id first seen in an event, nothing to search) stay empty slots in
        // the guide: indexing each would cost a search-index commit per new id on the ingest path
        let res = again.chain(known..cat.len() as u32).filter(|&i| !is_bare(cat.get(i))).try_for_each(|i| {
            let item = cat.get(i);
            b.guide.upsert(i, item)?;
            if item.deleted {
                b.guide.remove(i)?;
            }
            Ok::<(), daogou_guide::Error>(())
        });
        if let Err(e) = res {
            eprintln!("assistant: rebuilding the search index after a failed update: {e}");
            *slot = None;
        }
    }
}

/// An item known by its id only.
fn is_bare(it: &daogou_core::Item) -> bool {
    it.title.is_empty() && it.category.is_none() && it.brand.is_none() && it.price.is_none() && it.attributes.is_empty()
}

impl GuideSlot {
    /// Keep the assistant's conversations in `store` (call before the guide is first built).
    pub(crate) fn share_conversations(&self, store: Arc<dyn daogou_guide::SharedTurns>) {
        let _ = self.shared.set(store);
    }

    /// Drop a deleted user's assistant conversations (what they asked for) at once.
    pub(crate) fn forget_user(&self, user: &str) {
        let slot = self.built.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = slot.as_ref() {
            if let Err(e) = b.guide.forget_user(user) {
                eprintln!("assistant: cannot drop a deleted user's conversations: {e}");
            }
        }
    }
}

impl Built {
    /// Hand the guide `snap`'s popularity by catalogue index ("best-selling", and a small prior
    /// in its ranking), once per snapshot version.
    fn popularity(&self, snap: &Snapshot) {
        let mut of = self.popularity_of.lock().unwrap_or_else(|e| e.into_inner());
        if *of == snap.version {
            return;
        }
        let mut pop = vec![0f32; self.guide.len()];
        for (m, &x) in snap.popularity.iter().enumerate() {
            if let Some(p) = pop.get_mut(snap.catalogue_item(m as u32) as usize) {
                *p = x;
            }
        }
        match self.guide.set_popularity(&pop) {
            Ok(()) => *of = snap.version,
            Err(e) => eprintln!("assistant: popularity not updated: {e}"),
        }
    }
}
