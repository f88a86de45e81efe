//! A user's history as the model sees it now: the training row plus the live events that
//! arrived after the snapshot, weighed by the snapshot's signal.

use std::collections::BTreeMap;

use daogou_core::EventKind;
use rustc_hash::FxHashMap;

use crate::live::LiveEvent;
use crate::snapshot::{stronger, Recent, RecentEvent, Snapshot, RECENT_PER_USER};

/// A history in the snapshot's model item space.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// The user's index in the snapshot's training data (when known and not deleted).
    pub user: Option<u32>,
    /// (model item, value) pairs, sorted by item; implicit values summed, non-positive dropped.
    pub items: Vec<(u32, f32)>,
    /// Strongest kind of event per history item, sorted by item.
    pub kinds: Vec<(u32, EventKind)>,
    /// True when events newer than the model are part of it (or it is an ad-hoc session).
    pub fresh: bool,
    /// The user's latest events (training and live, at most [`RECENT_PER_USER`], oldest
    /// first): what they are after now, when these are recent.
    pub recent: Vec<RecentEvent>,
}

impl History {
    /// The strongest kind of event with history item `i`.
    pub fn kind(&self, i: u32) -> Option<EventKind> {
        self.kinds.binary_search_by_key(&i, |p| p.0).ok().map(|p| self.kinds[p].1)
    }

    /// True when model item `i` is in the history.
    pub fn has(&self, i: u32) -> bool {
        self.items.binary_search_by_key(&i, |p| p.0).is_ok()
    }

    /// The history of model user `user` (unknown or deleted: `None`) with `live`, the user's
    /// live events; those the snapshot already covers are ignored.
    pub fn build<'a>(snap: &Snapshot, user: Option<u32>, live: impl Iterator<Item = &'a LiveEvent>) -> History {
        let mut items: Vec<(u32, f32)> = Vec::new();
        let mut kinds: Vec<(u32, EventKind)> = Vec::new();
        let mut recent: Vec<RecentEvent> = Vec::new();
        if let Some(u) = user {
            let (is, vs) = snap.train.user_row(u);
            items = is.iter().copied().zip(vs.iter().copied()).collect();
            kinds = snap.kinds.get(u as usize).cloned().unwrap_or_default();
            recent = snap.recent.of(u).to_vec();
        }
        let fresh: Vec<(u32, &LiveEvent)> =
            live.filter(|e| e.seq >= snap.seq).filter_map(|e| Some((snap.model_item(e.item)?, e))).collect();
        if fresh.is_empty() {
            return History { user, items, kinds, fresh: false, recent };
        }
        // live events arrive in order of arrival, which is not always the order of their times
        recent.extend(fresh.iter().filter(|(_, e)| Recent::counts(e.kind)).map(|&(item, e)| RecentEvent {
            item,
            kind: e.kind,
            timestamp: e.timestamp,
        }));
        recent.sort_by_key(|e| e.timestamp); // stable: arrival order within a second
        recent.drain(..recent.len().saturating_sub(RECENT_PER_USER));
        let mut values: BTreeMap<u32, f32> = items.into_iter().collect();
        let mut strongest: FxHashMap<u32, EventKind> = kinds.into_iter().collect();
        for (i, e) in fresh {
            stronger(&mut strongest, i, e.kind);
            if let Some(v) = snap.spec.signal.live_value(snap.explicit, e.kind, e.value) {
                if snap.explicit {
                    values.insert(i, v);
                } else {
                    *values.entry(i).or_insert(0.0) += v;
                }
            }
        }
        let items = values.into_iter().filter(|&(_, v)| v > 0.0 || snap.explicit).collect();
        let mut kinds: Vec<(u32, EventKind)> = strongest.into_iter().collect();
        kinds.sort_unstable_by_key(|p| p.0);
        History { user, items, kinds, fresh: true, recent }
    }

    /// The current session as a history to score: the recent events in the `hours` before
    /// `at` (none after it), each weighing its kind's event weight (at least a little, so
    /// that a view always counts), summed per item and sorted by item. Empty when the user
    /// has not been active in that window.
    pub fn session_items(&self, snap: &Snapshot, at: i64, hours: f32) -> Vec<(u32, f32)> {
        let from = at - (f64::from(hours) * 3600.0) as i64;
        let mut values: BTreeMap<u32, f32> = BTreeMap::new();
        for e in self.recent.iter().filter(|e| e.timestamp > from && e.timestamp <= at) {
            let w = snap.spec.signal.live_value(false, e.kind, 1.0).unwrap_or(0.0).max(f32::MIN_POSITIVE);
            *values.entry(e.item).or_insert(0.0) += w;
        }
        values.into_iter().collect()
    }

    /// An anonymous session of viewed items (ids); returns it with the number of ids the
    /// model does not know. Each view weighs the signal's view weight (at least a little, so
    /// that a view always counts).
    pub fn session(snap: &Snapshot, ids: &[String]) -> (History, usize) {
        let mut values: BTreeMap<u32, f32> = BTreeMap::new();
        let mut unknown = 0usize;
        for id in ids {
            match snap.items.get(id) {
                Some(i) => *values.entry(i).or_insert(0.0) += snap.spec.signal.weights.view.max(f32::MIN_POSITIVE),
                None => unknown += 1,
            }
        }
        let kinds = values.keys().map(|&i| (i, EventKind::View)).collect(); // sorted: BTreeMap keys
        let history =
            History { user: None, items: values.into_iter().collect(), kinds, fresh: true, recent: Vec::new() };
        (history, unknown)
    }
}
