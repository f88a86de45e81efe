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
pub(crate) struct LiveEvents {
    slots: Vec<VecDeque<LiveEvent>>,
    index: FxHashMap<Box<str>, u32>,
    names: Vec<Option<Box<str>>>,
    free: Vec<u32>,
    /// (seq, slot) in arrival order; entries whose event is gone are skipped lazily.
    order: VecDeque<(u64, u32)>,
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
pub(crate) struct Trending {
    /// (catalogue item, shopper) → latest time they met (seconds).
    seen: FxHashMap<(u32, u32), i64>,
    shoppers: FxHashMap<Box<str>, u32>,
    /// The number the next new shopper gets (not `shoppers.len()`: a removed shopper leaves a
    /// gap, and a new one must not share a number with one still held).
    next_shopper: u32,
    /// Latest event time seen (seconds).
    latest: i64,
    /// Count changes not yet applied to the counters: (item, minute, +1 or -1).
    pending: Vec<(u32, i64, i32)>,
    /// Entries dropped because the cap was reached.
    pub dropped: u64,
}

/// Trending looks back at most a week.
pub(crate) const TRENDING_SPAN: i64 = 7 * 86_400;

fn minute(t: i64) -> i64 {
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
pub(crate) struct TrendingCounts {
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
    #[cfg(test)]
    fn buckets(&self) -> usize {
        self.per_item.values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: u64) -> LiveEvent {
        LiveEvent { seq, item: seq as u32, kind: EventKind::View, value: 1.0, timestamp: seq as i64 }
    }

    #[test]
    fn live_events_are_capped_per_user_and_in_all_oldest_first() {
        let limits = LiveLimits { per_user: 3, total: 5 };
        let mut live = LiveEvents::default();
        for seq in 0..5 {
            live.push("a", ev(seq), limits);
        }
        let a: Vec<u64> = live.of("a").map(|e| e.seq).collect();
        assert_eq!(a, [2, 3, 4], "per-user cap keeps the newest");
        for seq in 5..9 {
            live.push("b", ev(seq), limits);
        }
        // b's 7th event is the 6th in all: a's oldest goes; b's 4th drops b's oldest
        assert_eq!(live.len(), 5);
        assert_eq!(live.of("a").map(|e| e.seq).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(live.of("b").map(|e| e.seq).collect::<Vec<_>>(), [6, 7, 8]);
        assert_eq!(live.dropped, 4);
        live.drain_before(6);
        assert_eq!(live.of("a").count(), 0);
        assert_eq!(live.users(), 1, "an empty user is released");
        assert_eq!(live.of("b").map(|e| e.seq).collect::<Vec<_>>(), [6, 7, 8]);
        live.remove_user("b");
        assert_eq!((live.len(), live.users()), (0, 0));
        // the order queue does not grow without bound under per-user drops
        for seq in 100..10_000 {
            live.push("c", ev(seq), limits);
        }
        assert!(live.order.len() <= 2 * live.len() + 1024 + 1, "{}", live.order.len());
    }

    /// The answer as the engine gets it: the queued changes applied under the counters' lock.
    fn counts(t: &mut Trending, c: &mut TrendingCounts, hours: u32) -> Vec<(u32, u32)> {
        c.update(t.take_changes());
        c.counts(hours)
    }

    /// The answer recounted from the (item, shopper) pairs themselves.
    fn recount(t: &Trending, hours: u32) -> Vec<(u32, u32)> {
        let from = minute(t.latest - i64::from(hours) * 3600);
        let mut per: FxHashMap<u32, u32> = FxHashMap::default();
        for (&(item, _), &at) in &t.seen {
            if minute(at) >= from {
                *per.entry(item).or_default() += 1;
            }
        }
        let mut v: Vec<(u32, u32)> = per.into_iter().collect();
        v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }

    #[test]
    fn trending_counts_distinct_shoppers_in_the_window() {
        let (mut t, mut c) = (Trending::default(), TrendingCounts::default());
        let h = 3600;
        t.note(1, "a", EventKind::View, 10 * h, 100);
        t.note(1, "a", EventKind::Purchase, 11 * h, 100); // same shopper: once
        t.note(1, "b", EventKind::View, 11 * h, 100);
        t.note(2, "a", EventKind::Return, 11 * h, 100); // returns are not interest
        t.note(3, "c", EventKind::View, 2 * h, 100); // outside a 2-hour window
        assert_eq!(counts(&mut t, &mut c, 2), [(1, 2)]);
        assert_eq!(counts(&mut t, &mut c, 24), [(1, 2), (3, 1)]);
        t.remove_user("b");
        assert_eq!(counts(&mut t, &mut c, 2), [(1, 1)]);
        // a deleted shopper's later event no longer anchors the window
        t.note(4, "late", EventKind::View, 20 * h, 100);
        assert_eq!(counts(&mut t, &mut c, 2), [(4, 1)]);
        t.remove_user("late");
        assert_eq!(counts(&mut t, &mut c, 2), [(1, 1)]);
        for i in 0..1000 {
            t.note(100 + i, &format!("u{i}"), EventKind::View, 12 * h + i64::from(i), 100);
        }
        assert!(t.len() <= 100);
        assert!(t.dropped > 0);
        assert_eq!(counts(&mut t, &mut c, 1).first().map(|x| x.1), Some(1));
        assert_eq!(counts(&mut t, &mut c, 1), recount(&t, 1));
    }

    #[test]
    fn trending_counters_equal_a_recount_of_the_pairs() {
        // random streams: repeats, returns, late events, deletions, cap prunes and answers
        // taken at random points (each applying a batch of queued changes)
        let mut rng = daogou_core::rng::SeededRng::new(7);
        for round in 0..40 {
            let cap = [50, 400, 10_000][round % 3];
            let (mut t, mut c) = (Trending::default(), TrendingCounts::default());
            let mut now = 1_700_000_000i64;
            // without prunes (the largest cap), also the answer from the raw events: distinct
            // (item, user name) pairs, so that shoppers sharing a number would show
            let mut raw: FxHashMap<(u32, String), i64> = FxHashMap::default();
            let mut raw_latest = 0i64;
            for step in 0..3_000 {
                now += rng.range(0, 400);
                let late = if rng.f64() < 0.1 { rng.range(0, TRENDING_SPAN + 86_400) } else { 0 };
                let kind = if rng.f64() < 0.05 { EventKind::Return } else { EventKind::View };
                let user = format!("u{}", rng.below(60));
                let (item, at) = (rng.below(40) as u32, now - late);
                t.note(item, &user, kind, at, cap);
                if kind != EventKind::Return {
                    raw_latest = raw_latest.max(at);
                    if at >= raw_latest - TRENDING_SPAN {
                        let e = raw.entry((item, user)).or_insert(at);
                        *e = (*e).max(at);
                    }
                }
                if rng.f64() < 0.01 {
                    let gone = format!("u{}", rng.below(60));
                    t.remove_user(&gone);
                    raw.retain(|(_, u), _| *u != gone);
                    raw_latest = raw.values().copied().max().unwrap_or(0);
                }
                if rng.f64() < 0.05 || step == 2_999 {
                    let hours = [1, 2, 24, 168][rng.below(4)];
                    assert_eq!(counts(&mut t, &mut c, hours), recount(&t, hours), "round {round} step {step}");
                    assert!(c.buckets() <= t.len(), "a bucket per counted pair at most");
                    if cap == 10_000 {
                        let from = minute(raw_latest - i64::from(hours) * 3600);
                        let mut per: FxHashMap<u32, u32> = FxHashMap::default();
                        for ((item, _), _) in raw.iter().filter(|(_, &at)| minute(at) >= from) {
                            *per.entry(*item).or_default() += 1;
                        }
                        let mut want: Vec<(u32, u32)> = per.into_iter().collect();
                        want.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                        assert_eq!(c.counts(hours), want, "round {round} step {step}: from the raw events");
                    }
                }
            }
        }
    }

    #[test]
    fn trending_stays_under_its_cap_when_every_event_has_the_same_time() {
        // a store imported from a file without times: one prune must make room for a quarter
        // of the cap, not leave every tied entry in place (and prune again on every event)
        let mut t = Trending::default();
        for i in 0..10_000u32 {
            t.note(i % 700, &format!("u{}", i / 7), EventKind::Purchase, 1_000, 400);
            assert!(t.len() <= 400, "{} entries after {i} events", t.len());
        }
        assert!(t.len() >= 300, "a prune keeps three quarters of the cap: {}", t.len());
        assert_eq!(
            t.dropped as usize + t.len(),
            10_000,
            "every distinct (item, shopper) pair is held or counted dropped"
        );
    }
}
