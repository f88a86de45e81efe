use daogou_core::Interaction;
use daogou_data::split::*;

fn data() -> Vec<Interaction> {
    // 5 users with 1..=5 interactions each, timestamps out of order, some ties.
    let mut v = Vec::new();
    for u in 0..5u32 {
        for j in 0..=u {
            let ts = ((j * 7 + u * 3) % 5) as i64 * 100;
            v.push(Interaction { timestamp: ts, ..Interaction::new(u, j + 10 * u, j as f32) });
        }
    }
    v
}

fn key(x: &Interaction) -> (u32, u32) {
    (x.user, x.item)
}

fn assert_partition(v: &[Interaction], train: &[Interaction], test: &[Interaction]) {
    assert_eq!(train.len() + test.len(), v.len());
    let mut all: Vec<_> = train.iter().chain(test).map(key).collect();
    all.sort_unstable();
    let mut orig: Vec<_> = v.iter().map(key).collect();
    orig.sort_unstable();
    assert_eq!(all, orig);
    // input order is kept inside each part
    let pos = |x: &Interaction| v.iter().position(|y| key(y) == key(x)).unwrap();
    assert!(train.windows(2).all(|w| pos(&w[0]) < pos(&w[1])));
    assert!(test.windows(2).all(|w| pos(&w[0]) < pos(&w[1])));
}

#[test]
fn parse_forms_and_errors() {
    assert_eq!("random:0.2".parse::<Split>().unwrap(), Split::Random { test_fraction: 0.2 });
    assert_eq!("user-time:0.25".parse::<Split>().unwrap(), Split::UserTime { test_fraction: 0.25 });
    assert_eq!("leave-last:2".parse::<Split>().unwrap(), Split::LeaveLastN { n: 2 });
    assert_eq!("leave-one-out".parse::<Split>().unwrap(), Split::LeaveLastN { n: 1 });
    assert_eq!("time:2011-11-09".parse::<Split>().unwrap(), Split::Time { cut: 1_320_796_800 });
    assert_eq!("time:1320796800".parse::<Split>().unwrap(), Split::Time { cut: 1_320_796_800 });
    for s in [Split::Random { test_fraction: 0.2 }, Split::Time { cut: 5 }, Split::LeaveLastN { n: 3 }] {
        assert_eq!(s.to_string().parse::<Split>().unwrap(), s);
    }
    for bad in ["random", "random:1.5", "random:0", "time:someday", "leave-last:0", "fold:3", ""] {
        let err = bad.parse::<Split>().unwrap_err().to_string();
        assert!(err.contains("random:FRACTION") && err.contains("leave-last:N"), "{bad}: {err}");
    }
    assert!("random:1.5".parse::<Split>().unwrap_err().to_string().contains("between 0 and 1"));
}

#[test]
fn random_is_a_deterministic_partition() {
    let v = data();
    let s = Split::Random { test_fraction: 0.2 };
    let (train, test) = split(&v, &s, 7);
    assert_partition(&v, &train, &test);
    assert_eq!(test.len(), 3); // round(15 × 0.2)
    assert_eq!(split(&v, &s, 7), (train.clone(), test.clone()));
    let others: Vec<_> = (0..20).map(|seed| split(&v, &s, seed).1).collect();
    assert!(others.iter().any(|t| *t != test), "seed has no effect");
    assert_eq!(split(&[], &s, 1), (vec![], vec![]));
}

#[test]
fn time_cut() {
    let v = data();
    let (train, test) = split(&v, &Split::Time { cut: 200 }, 0);
    assert_partition(&v, &train, &test);
    assert!(train.iter().all(|x| x.timestamp < 200) && test.iter().all(|x| x.timestamp >= 200));
    assert!(!train.is_empty() && !test.is_empty());
}

#[test]
fn per_user_time_splits() {
    let v = data();
    for s in [Split::UserTime { test_fraction: 0.3 }, Split::LeaveLastN { n: 1 }, Split::LeaveLastN { n: 3 }] {
        let (train, test) = split(&v, &s, 0);
        assert_partition(&v, &train, &test);
        for u in 0..5u32 {
            let tr: Vec<_> = train.iter().filter(|x| x.user == u).collect();
            let te: Vec<_> = test.iter().filter(|x| x.user == u).collect();
            let n = u as usize + 1;
            assert!(!tr.is_empty(), "{s}: user {u} lost all training data");
            let expect = match s {
                Split::LeaveLastN { n: k } => k.min(n - 1),
                _ => ((n as f64 * 0.3).round() as usize).max(1).min(n - 1),
            };
            assert_eq!(te.len(), expect, "{s} user {u}");
            // every test interaction is at least as late as every train one
            let max_tr = tr.iter().map(|x| x.timestamp).max().unwrap();
            assert!(te.iter().all(|x| x.timestamp >= max_tr), "{s} user {u}");
        }
    }
    // ties broken by input order: the later line goes to test
    let v = vec![Interaction::new(0, 1, 1.0), Interaction::new(0, 2, 1.0)];
    let (train, test) = split(&v, &Split::LeaveLastN { n: 1 }, 0);
    assert_eq!((train[0].item, test[0].item), (1, 2));
}

#[test]
fn cold_items_are_held_out_of_training_entirely() {
    // 40 items, 30 users, timestamps increasing with the line
    let v: Vec<Interaction> = (0..600u32)
        .map(|n| Interaction { timestamp: n as i64, ..Interaction::new(n % 30, (n * 7 + n / 30) % 40, 1.0) })
        .collect();
    let s: Split = "cold-items:0.1".parse().unwrap();
    assert_eq!(s, Split::ColdItems { item_fraction: 0.1, warm: Box::new(DEFAULT_WARM) });
    let cold = cold_items(&v, &s, 5);
    assert_eq!(cold.len(), 4, "10% of 40 items");
    let (train, test) = split(&v, &s, 5);
    assert_partition(&v, &train, &test);
    assert!(train.iter().all(|x| cold.binary_search(&x.item).is_err()), "a cold item was trained on");
    let cold_events = v.iter().filter(|x| cold.binary_search(&x.item).is_ok()).count();
    assert_eq!(test.iter().filter(|x| cold.binary_search(&x.item).is_ok()).count(), cold_events);
    // the warm events are split as user-time:0.2 would split them
    let warm: Vec<Interaction> = v.iter().filter(|x| cold.binary_search(&x.item).is_err()).copied().collect();
    let (wtrain, wtest) = split(&warm, &DEFAULT_WARM, 5);
    assert_eq!(train, wtrain);
    assert_eq!(test.len(), wtest.len() + cold_events);
    // seeded: the same seed gives the same items, another seed other items
    assert_eq!(cold_items(&v, &s, 5), cold);
    assert!((0..10).any(|seed| cold_items(&v, &s, seed) != cold));
    // another warm split, written after a slash
    let t: Split = "cold-items:0.25/time:300".parse().unwrap();
    assert_eq!(t.to_string(), "cold-items:0.25/time:300");
    assert_eq!(t.to_string().parse::<Split>().unwrap(), t);
    let cold = cold_items(&v, &t, 1);
    assert_eq!(cold.len(), 10);
    let (train, test) = split(&v, &t, 1);
    assert!(train.iter().all(|x| x.timestamp < 300 && cold.binary_search(&x.item).is_err()));
    assert!(test.iter().all(|x| x.timestamp >= 300 || cold.binary_search(&x.item).is_ok()));
    // other splits hold no item out; one item alone is never held out
    assert!(cold_items(&v, &Split::Random { test_fraction: 0.2 }, 1).is_empty());
    assert!(cold_items(&v[..1], &s, 1).is_empty());
    for bad in ["cold-items:1", "cold-items:0.1/cold-items:0.2", "cold-items:0.1/nope:3", "cold-items:x"] {
        let err = bad.parse::<Split>().unwrap_err().to_string();
        assert!(err.contains("cold-items:FRACTION"), "{bad}: {err}");
    }
}

#[test]
fn k_fold_covers_each_interaction_once() {
    let v = data();
    let folds = k_fold(&v, 4, 3);
    assert_eq!(folds.len(), 4);
    let mut seen = Vec::new();
    for (train, test) in &folds {
        assert_partition(&v, train, test);
        assert!(test.len() == 3 || test.len() == 4);
        seen.extend(test.iter().map(key));
    }
    seen.sort_unstable();
    let mut orig: Vec<_> = v.iter().map(key).collect();
    orig.sort_unstable();
    assert_eq!(seen, orig);
    assert_eq!(k_fold(&v, 4, 3), folds);
    assert!(k_fold(&v, 0, 1).is_empty());
    assert_eq!(k_fold(&v, 1, 1)[0].1.len(), v.len());
}
