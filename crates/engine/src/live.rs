//! State that changes with every event: per-user live histories (events newer than the
//! model, for real-time answers) and the trending counters. Both are bounded: the oldest
//! entries go first when a cap is reached, and the drops are counted.

use std::collections::hash_map::Entry;
use std::collections::VecDeque;

use daogou_core::EventKind;
use rustc_hash::FxHashMap;

/// Caps of the live state (entries kept in memory until a refit folds them into the model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveLimits {
    /// Live events kept per user (the oldest are dropped first).
    pub per_user: usize,
    /// Live events kept in all (the oldest of all users are dropped first); also the cap of
    /// the trending counters' (item, shopper) entries.
    pub total: usize,
}

impl Default for LiveLimits {
    /// 200 per user, 100,000 in all: at most about 35 MiB of heap (measured with heaptrack in
    /// `bench/rss_soak.sh`, where nearly every event comes from a new shopper, the worst case:
    /// live histories 27 MiB, trending 7 MiB).
    fn default() -> Self {
        LiveLimits { per_user: 200, total: 100_000 }
    }
}

/// One event kept for real-time answers until a refit includes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveEvent {
    /// Order of arrival; a snapshot covers the events below its `seq`.
    pub seq: u64,
    /// Catalogue index.
    pub item: u32,
    /// What happened.
    pub kind: EventKind,
    /// Quantity or rating.
    pub value: f32,
    /// Unix seconds.
    pub timestamp: i64,
}

/// Per-user live events, bounded per user and in all.
#[derive(Debug, Default)]
pub struct LiveEvents {
    slots: Vec<VecDeque<LiveEvent>>,
    index: FxHashMap<Box<str>, u32>,
    names: Vec<Option<Box<str>>>,
    free: Vec<u32>,
    /// (seq, slot) in arrival order; entries whose event is gone are skipped lazily.
    #[doc(hidden)]
    pub order: VecDeque<(u64, u32)>,
    len: usize,
    /// Events dropped because a cap was reached.
    pub dropped: u64,
}

impl LiveEvents {
    /// Events held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Users with live events.
    pub fn users(&self) -> usize {
        self.index.len()
    }

    /// `user`'s live events, oldest first.
    pub fn of(&self, user: &str) -> impl Iterator<Item = &LiveEvent> {
        self.index.get(user).into_iter().flat_map(|&s| self.slots[s as usize].iter())
    }

    fn slot(&mut self, user: &str) -> u32 {
        if let Some(&s) = self.index.get(user) {
            return s;
        }
        let s = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(VecDeque::new());
                self.names.push(None);
                (self.slots.len() - 1) as u32
            }
        };
        self.names[s as usize] = Some(user.into());
        self.index.insert(user.into(), s);
        s
    }

    fn release_if_empty(&mut self, s: u32) {
        if self.slots[s as usize].is_empty() {
            if let Some(name) = self.names[s as usize].take() {
                self.index.remove(&name);
                self.free.push(s);
            }
        }
    }

    /// Add an event, then enforce the caps.
    pub fn push(&mut self, user: &str, e: LiveEvent, limits: LiveLimits) {
        let s = self.slot(user);
        let q = &mut self.slots[s as usize];
        q.push_back(e);
        self.len += 1;
        self.order.push_back((e.seq, s));
        if q.len() > limits.per_user.max(1) {
            q.pop_front();
            self.len -= 1;
            self.dropped += 1;
        }
        while self.len > limits.total.max(1) {
            let Some((seq, s)) = self.order.pop_front() else { break };
            let q = &mut self.slots[s as usize];
            if q.front().is_some_and(|f| f.seq == seq) {
                q.pop_front();
                self.len -= 1;
                self.dropped += 1;
                self.release_if_empty(s);
            }
        }
        if self.order.len() > 2 * self.len + 1024 {
            self.compact();
        }
    }

    /// Forget the events below `seq` (a new snapshot includes them).
    pub fn drain_before(&mut self, seq: u64) {
        while let Some(&(s_seq, s)) = self.order.front() {
            if s_seq >= seq {
                break;
            }
            self.order.pop_front();
            let q = &mut self.slots[s as usize];
            if q.front().is_some_and(|f| f.seq == s_seq) {
                q.pop_front();
                self.len -= 1;
                self.release_if_empty(s);
            }
        }
    }

    /// Forget a user's events.
    pub fn remove_user(&mut self, user: &str) {
        if let Some(&s) = self.index.get(user) {
            self.len -= self.slots[s as usize].len();
            self.slots[s as usize].clear();
            self.release_if_empty(s);
        }
    }

    /// Drop the order entries of events that are gone (per-user drops, removed users).
    fn compact(&mut self) {
        let slots = &self.slots;
        self.order.retain(|&(seq, s)| slots[s as usize].front().is_some_and(|f| seq >= f.seq));
    }
}

/// Recent (item, shopper) pairs with the time they last met: who "trending" counts. Held
/// under the lock that ingest takes, so every change here is O(1) (amortised): it records the
/// pairs and queues the count changes for [`TrendingCounts`], which answers on a lock of its own.
#[derive(Debug, Default)]
pub struct Trending {
    /// (catalogue item, shopper) → latest time they met (seconds).
    #[doc(hidden)]
    pub seen: FxHashMap<(u32, u32), i64>,
    shoppers: FxHashMap<Box<str>, u32>,
    /// The number the next new shopper gets (not `shoppers.len()`: a removed shopper leaves a
    /// gap, and a new one must not share a number with one still held).
    next_shopper: u32,
    /// Latest event time seen (seconds).
    #[doc(hidden)]
    pub latest: i64,
    /// Count changes not yet applied to the counters: (item, minute, +1 or -1).
    pending: Vec<(u32, i64, i32)>,
    /// Entries dropped because the cap was reached.
    pub dropped: u64,
}

/// Trending looks back at most a week.
pub const TRENDING_SPAN: i64 = 7 * 86_400;

/// The minute (since the epoch) of time `t` in seconds: trending counts per minute.
pub fn minute(t: i64) -> i64 {
    t.div_euclid(60)
}

impl Trending {
    /// Entries held.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// `user` met `item` at `at` (returns are not interest and are not counted).
    pub fn note(&mut self, item: u32, user: &str, kind: EventKind, at: i64, cap: usize) {
        if kind == EventKind::Return {
            return;
        }
        self.latest = self.latest.max(at);
        if at < self.latest - TRENDING_SPAN {
            return;
        }
        let shopper = match self.shoppers.get(user) {
            Some(&s) => s,
            None => {
                self.next_shopper += 1;
                self.shoppers.insert(user.into(), self.next_shopper - 1);
                self.next_shopper - 1
            }
        };
        match self.seen.entry((item, shopper)) {
            Entry::Vacant(v) => {
                v.insert(at);
                self.pending.push((item, minute(at), 1));
            }
            Entry::Occupied(mut o) => {
                let was = *o.get();
                if at > was {
                    o.insert(at);
                    if minute(at) > minute(was) {
                        self.pending.extend([(item, minute(was), -1), (item, minute(at), 1)]);
                    }
                }
            }
        }
        if self.seen.len() > cap.max(1) {
            self.prune(cap.max(1));
        }
    }

    /// Drop entries older than the span, then the oldest until a quarter below the cap.
    fn prune(&mut self, cap: usize) {
        let from = self.latest - TRENDING_SPAN;
        let pending = &mut self.pending;
        self.seen.retain(|&(item, _), &mut t| {
            let keep = t >= from;
            if !keep {
                pending.push((item, minute(t), -1));
            }
            keep
        });
        if self.seen.len() > cap {
            // keep exactly the newest `keep` (ties at the cut broken arbitrarily): keeping every
            // entry as new as the cut would keep them all when times are equal (an import
            // without times), and each further event would prune again
            let keep = cap * 3 / 4;
            let mut entries: Vec<((u32, u32), i64)> = self.seen.drain().collect();
            let nth = entries.len() - keep;
            entries.select_nth_unstable_by_key(nth, |e| e.1);
            self.dropped += nth as u64;
            self.pending.extend(entries[..nth].iter().map(|&((item, _), t)| (item, minute(t), -1)));
            self.seen = entries.drain(nth..).collect();
        }
        // shoppers that no entry names any more
        let mut used = vec![false; self.next_shopper as usize];
        for &(_, s) in self.seen.keys() {
            used[s as usize] = true;
        }
        if used.iter().any(|u| !u) {
            let mut renumber = vec![u32::MAX; used.len()];
            self.shoppers.retain(|_, s| used[*s as usize]);
            for (n, s) in self.shoppers.values_mut().enumerate() {
                renumber[*s as usize] = n as u32;
                *s = n as u32;
            }
            self.seen = self.seen.drain().map(|((i, s), t)| ((i, renumber[s as usize]), t)).collect();
            self.next_shopper = self.shoppers.len() as u32;
        }
    }

    /// Forget a user, also as the author of the latest event (the window is measured from it).
    pub fn remove_user(&mut self, user: &str) {
        if let Some(s) = self.shoppers.remove(user) {
            let pending = &mut self.pending;
            self.seen.retain(|&(item, x), &mut t| {
                if x == s {
                    pending.push((item, minute(t), -1));
                }
                x != s
            });
            self.latest = self.seen.values().copied().max().unwrap_or(0);
        }
    }

    /// The queued count changes and the latest event time, for [`TrendingCounts::update`].
    pub fn take_changes(&mut self) -> (Vec<(u32, i64, i32)>, i64) {
        (std::mem::take(&mut self.pending), self.latest)
    }

    /// Whether enough changes are queued that they should be applied now (when nobody asks
    /// for trending, the queue would otherwise grow with every event): a small fixed batch,
    /// 64 KiB and a fraction of a millisecond to apply, so the queue never becomes a large
    /// allocation of its own.
    pub fn should_flush(&self) -> bool {
        self.pending.len() > 4096
    }
}

/// Distinct shoppers per item and minute: each (item, shopper) pair of [`Trending`] counts
/// once, in the minute it last met the item. An answer sums each item's minutes in the window
/// (work in proportion to the items and minutes with shoppers, not to the events), on this
/// lock, not the one ingest takes.
#[derive(Debug, Default)]
pub struct TrendingCounts {
    /// item → (minute, shoppers) sorted by minute, no zero counts.
    per_item: FxHashMap<u32, Vec<(i64, u32)>>,
    latest: i64,
    /// The last answer, until a change: (hours, answer).
    cached: Option<(u32, Vec<(u32, u32)>)>,
}

impl TrendingCounts {
    fn apply(&mut self, (item, m, delta): (u32, i64, i32)) {
        let buckets = self.per_item.entry(item).or_default();
        match buckets.binary_search_by_key(&m, |b| b.0) {
            Ok(k) if delta < 0 => {
                buckets[k].1 -= 1;
                if buckets[k].1 == 0 {
                    buckets.remove(k);
                }
            }
            Ok(k) => buckets[k].1 += 1,
            Err(k) => {
                // a decrement always follows its increment (both are queued in order, and
                // changes are applied in queue order under this lock)
                debug_assert!(delta > 0, "trending: a decrement without its count");
                if delta > 0 {
                    buckets.insert(k, (m, 1));
                }
            }
        }
        if buckets.is_empty() {
            self.per_item.remove(&item);
        }
    }

    /// Apply `changes` taken from [`Trending`] while this lock was held (so that batches apply
    /// in the order they were queued).
    pub fn update(&mut self, (changes, latest): (Vec<(u32, i64, i32)>, i64)) {
        if !changes.is_empty() || latest != self.latest {
            self.cached = None;
        }
        for c in changes {
            self.apply(c);
        }
        self.latest = latest;
    }

    /// The distinct shoppers per item in the `hours` before the latest event (to the minute),
    /// most first (ties by catalogue index).
    pub fn counts(&mut self, hours: u32) -> Vec<(u32, u32)> {
        if let Some((h, v)) = &self.cached {
            if *h == hours {
                return v.clone();
            }
        }
        let from = minute(self.latest - i64::from(hours) * 3600);
        let mut v: Vec<(u32, u32)> = self
            .per_item
            .iter()
            .filter_map(|(&item, buckets)| {
                let n: u32 = buckets.iter().rev().take_while(|b| b.0 >= from).map(|b| b.1).sum();
                (n > 0).then_some((item, n))
            })
            .collect();
        v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        self.cached = Some((hours, v.clone()));
        v
    }

    /// Minute buckets held (for the memory figures).
    #[doc(hidden)]
    pub fn buckets(&self) -> usize {
        self.per_item.values().map(Vec::len).sum()
    }
}
