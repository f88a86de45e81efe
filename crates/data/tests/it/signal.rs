use daogou_core::{Dataset, EventColumns, EventKind};
use daogou_data::signal::*;

#[test]
fn record_round_trips_and_live_values_follow_the_training_rule() {
    let s = Signal::from_options(Some("view=0,purchase=1"), Some(4.0), Some(30.0)).unwrap();
    let back = Signal::from_record(&s.record()).unwrap();
    assert_eq!(back, s);
    assert_eq!(s.live_value(false, EventKind::View, 1.0), None, "view weighted 0");
    assert_eq!(s.live_value(false, EventKind::Purchase, 1.0), Some(1.0));
    assert_eq!(s.live_value(false, EventKind::Rating, 3.0), None, "below the threshold");
    assert_eq!(s.live_value(true, EventKind::Rating, 3.0), Some(3.0));
    assert_eq!(s.live_value(true, EventKind::View, 1.0), None);
    assert!(Signal::from_options(None, None, Some(-1.0)).is_err());
    assert!(Signal::from_options(Some("stare=3"), None, None).is_err());
}

#[test]
fn the_matrix_sums_weights_and_drops_cancelled_pairs() {
    let mut ds = Dataset::default();
    for (u, i, k, v) in [
        ("a", "x", EventKind::View, 1.0),
        ("a", "x", EventKind::Purchase, 1.0),
        ("a", "y", EventKind::Purchase, 1.0),
        ("a", "y", EventKind::Return, 1.0),
    ] {
        ds.push_event(&daogou_core::Event {
            user: u.into(),
            item: i.into(),
            kind: k,
            value: v,
            timestamp: 0,
            query: None,
        });
    }
    let m = Signal::default().train_matrix(&ds, &ds.interactions);
    assert_eq!(m.user_row(0).0, &[0]);
    assert_eq!(m.user_row(0).1, &[9.0]);
}

/// A CSV of random events: users, items, every kind, values, times, re-ratings and
/// returns; or only ratings.
fn random_file(dir: &std::path::Path, seed: u64, ratings_only: bool) -> std::path::PathBuf {
    use std::fmt::Write;
    let mut rng = daogou_core::SeededRng::new(seed);
    let kinds = ["view", "click", "add_to_cart", "purchase", "return", "rating"];
    let mut csv = String::from("user,item,kind,value,timestamp\n");
    for _ in 0..3_000 {
        let kind = if ratings_only { "rating" } else { kinds[rng.below(kinds.len())] };
        let value = if kind == "rating" { 1 + rng.below(5) } else { 1 + rng.below(3) };
        let (u, i, t) = (rng.below(60), rng.below(40), 1_600_000_000 + rng.range(0, 90 * 86_400));
        writeln!(csv, "u{u},i{i},{kind},{value},{t}").unwrap();
    }
    let path = dir.join(format!("events-{seed}-{ratings_only}.csv"));
    std::fs::write(&path, csv).unwrap();
    path
}

#[test]
fn columns_and_the_event_log_give_the_same_matrix_as_summing_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let opts = daogou_data::LoadOptions::new(daogou_data::Format::Csv);
    let signals = [
        Signal::default(),
        Signal::from_options(Some("view=0,click=1,purchase=5,return=-5"), None, None).unwrap(),
        Signal::from_options(None, Some(4.0), None).unwrap(),
        Signal::from_options(None, None, Some(14.0)).unwrap(),
        Signal::from_options(Some("rating=2"), Some(3.0), Some(30.0)).unwrap(),
    ];
    for (seed, ratings_only) in [(1, false), (2, false), (3, true)] {
        let path = random_file(dir.path(), seed, ratings_only);
        let (ds, _) = daogou_data::load_dataset(&path, &opts).unwrap();
        assert_eq!(ds.explicit, ratings_only);
        for signal in &signals {
            let from_log = signal.train_matrix(&ds, &ds.interactions);
            let keep_time = signal.half_life_days.is_some();
            let (mut cds, mut columns) = (Dataset::default(), EventColumns::new(keep_time));
            daogou_data::load_columns_into(&mut cds, &mut columns, &path, &opts).unwrap();
            assert_eq!(columns.len(), ds.interactions.len());
            assert_eq!(
                columns.timestamps.len(),
                if keep_time { columns.len() } else { 0 },
                "times only when a decay needs them"
            );
            assert_eq!((cds.users.ids(), cds.items.ids()), (ds.users.ids(), ds.items.ids()));
            let from_columns = signal.columns_matrix(cds.n_users(), cds.n_items(), columns);
            assert_eq!(from_columns.by_user, from_log.by_user, "{signal:?} seed {seed}");
            assert_eq!(from_columns.by_item, from_log.by_item);

            // the rule written out: weights (or the last rating), decay, sums in input
            // order, non-positive totals dropped
            let explicit = signal.explicit(&ds);
            let now = ds.interactions.iter().map(|x| x.timestamp).max().unwrap();
            let mut by_hand: std::collections::BTreeMap<(u32, u32), f32> = Default::default();
            for x in &ds.interactions {
                if explicit {
                    by_hand.insert((x.user, x.item), x.value);
                    continue;
                }
                if x.kind == EventKind::Rating && signal.positive_threshold.is_some_and(|t| x.value < t) {
                    continue;
                }
                let mut w = signal.weights.weight(x);
                if w == 0.0 {
                    continue;
                }
                if let Some(days) = signal.half_life_days {
                    w = (w as f64 * 0.5f64.powf((now - x.timestamp) as f64 / (days * 86_400.0))) as f32;
                }
                *by_hand.entry((x.user, x.item)).or_insert(0.0) += w;
            }
            let expected: Vec<(u32, u32, f32)> =
                by_hand.into_iter().filter(|&(_, v)| explicit || v > 0.0).map(|((u, i), v)| (u, i, v)).collect();
            let got: Vec<(u32, u32, f32)> = (0..from_log.n_users() as u32)
                .flat_map(|u| {
                    let (items, values) = from_log.user_row(u);
                    items.iter().zip(values).map(move |(&i, &v)| (u, i, v))
                })
                .collect();
            assert_eq!(got, expected, "{signal:?} seed {seed}");
        }
    }
}
