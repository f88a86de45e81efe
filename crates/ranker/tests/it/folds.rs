//! The label split the ranker trains on: random folds of each user's events.

use std::collections::HashMap;

use daogou_algo::TrainData;
use daogou_core::{Aggregate, EventKind, Interaction, Interactions};
use daogou_ranker::user_split;

/// 12 users with 5…16 events each on distinct items, one a day.
fn events() -> Vec<Interaction> {
    let mut ev = Vec::new();
    for u in 0..12u32 {
        for k in 0..(5 + u) {
            let ts = 1_700_000_000 + i64::from(k) * 86_400;
            ev.push(Interaction { user: u, item: k, value: 1.0, timestamp: ts, kind: EventKind::Purchase });
        }
    }
    ev
}

#[test]
fn random_label_folds_are_disjoint_fifths_that_cover_every_event() {
    let ev = events();
    let m = Interactions::from_interactions(12, 16, &ev, Aggregate::Sum);
    let train = TrainData::new(&m, false).with_events(&ev);
    let end = ev.iter().map(|e| e.timestamp).max().unwrap() + 1;
    let mut seen: HashMap<(u32, u32), usize> = HashMap::new();
    for fold in 0..5 {
        let split = user_split(&train, true, end, false, 42, fold);
        for g in &split.groups {
            let n = ev.iter().filter(|e| e.user == g.user).count();
            // a fifth of the user's events: ⌊n/5⌋ or ⌈n/5⌉
            assert!(g.labels.len() == n / 5 || g.labels.len() == n.div_ceil(5), "user {} fold {fold}", g.user);
            for &i in &g.labels {
                *seen.entry((g.user, i)).or_default() += 1;
                // a label is never also in the history the features see
                assert!(!split.prefix.iter().any(|e| e.user == g.user && e.item == i));
            }
        }
    }
    assert_eq!(seen.len(), ev.len(), "the five folds cover every event");
    assert!(seen.values().all(|&c| c == 1), "the folds overlap: {seen:?}");
    // the same seed draws the same fold
    let a = user_split(&train, true, end, false, 42, 2);
    let b = user_split(&train, true, end, false, 42, 2);
    assert_eq!(
        a.groups.iter().map(|g| &g.labels).collect::<Vec<_>>(),
        b.groups.iter().map(|g| &g.labels).collect::<Vec<_>>()
    );
}
