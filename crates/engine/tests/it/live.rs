use daogou_core::EventKind;
use daogou_engine::live::*;
use rustc_hash::FxHashMap;

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
    assert_eq!(t.dropped as usize + t.len(), 10_000, "every distinct (item, shopper) pair is held or counted dropped");
}
