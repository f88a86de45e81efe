use daogou_core::{EventKind, Interaction};
use daogou_data::preprocess::*;

fn it(user: u32, item: u32, kind: EventKind, value: f32, ts: i64) -> Interaction {
    Interaction { user, item, value, timestamp: ts, kind }
}

#[test]
fn weights_parse_and_apply() {
    let w = EventWeights::default();
    assert_eq!(w.weight(&it(0, 0, EventKind::Purchase, 1.0, 0)), 8.0);
    assert_eq!(w.weight(&it(0, 0, EventKind::View, 1.0, 0)), 1.0);
    assert_eq!(w.weight(&it(0, 0, EventKind::Rating, 4.0, 0)), 1.0);
    let p = w.weight(&it(0, 0, EventKind::Purchase, 12.0, 0));
    let r = w.weight(&it(0, 0, EventKind::Return, 12.0, 0));
    assert!((p - 8.0 * (1.0 + 12f32.ln())).abs() < 1e-5 && p + r == 0.0);
    let w2 = EventWeights::parse("view=0.5, purchase=10,Add-To-Cart=3").unwrap();
    assert_eq!((w2.view, w2.purchase, w2.add_to_cart, w2.click), (0.5, 10.0, 3.0, 2.0));
    let err = EventWeights::parse("wishlist=3").unwrap_err().to_string();
    assert!(err.contains("wishlist"), "{err}");
    assert!(EventWeights::parse("view=abc").unwrap_err().to_string().contains("abc"));
    assert!(EventWeights::parse("view").is_err());
}

#[test]
fn dedupe_keeps_first_and_order() {
    let mut v = vec![
        it(0, 1, EventKind::View, 1.0, 5),
        it(0, 2, EventKind::View, 1.0, 5),
        it(0, 1, EventKind::View, 1.0, 5),
        it(0, 1, EventKind::Click, 1.0, 5),
        it(0, 1, EventKind::View, 1.0, 6),
        it(0, 2, EventKind::View, 1.0, 5),
    ];
    assert_eq!(dedupe(&mut v), 2);
    assert_eq!(v.iter().map(|x| (x.item, x.timestamp)).collect::<Vec<_>>(), vec![(1, 5), (2, 5), (1, 5), (1, 6)]);
    assert_eq!(v[2].kind, EventKind::Click);
}

#[test]
fn implicit_threshold_and_zero_weights() {
    let v = vec![
        it(0, 0, EventKind::Rating, 5.0, 0),
        it(0, 1, EventKind::Rating, 2.0, 0),
        it(1, 0, EventKind::View, 1.0, 0),
        it(1, 1, EventKind::Return, 1.0, 0),
    ];
    let out = to_implicit(&v, &EventWeights::default(), Some(4.0));
    assert_eq!(out.iter().map(|x| x.value).collect::<Vec<_>>(), vec![1.0, 1.0, -8.0]);
    let out = to_implicit(&v, &EventWeights::parse("view=0").unwrap(), None);
    assert_eq!(out.len(), 3);
    assert!(out.iter().all(|x| x.kind != EventKind::View));
}

#[test]
fn decay_and_normalisation() {
    let mut v = vec![
        it(0, 0, EventKind::View, 2.0, 0),
        it(0, 1, EventKind::View, 2.0, 100),
        it(0, 2, EventKind::View, 2.0, 200),
    ];
    time_decay(&mut v, 100.0, 100);
    assert!((v[0].value - 1.0).abs() < 1e-6 && v[1].value == 2.0 && v[2].value == 2.0);

    let mut v = vec![Interaction::new(0, 0, 1.0), Interaction::new(0, 1, 3.0), Interaction::new(2, 0, 4.0)];
    let means = mean_center(&mut v);
    assert_eq!(means, vec![2.0, 0.0, 4.0]);
    assert_eq!(v.iter().map(|x| x.value).collect::<Vec<_>>(), vec![-1.0, 1.0, 0.0]);
    let mut v = vec![Interaction::new(0, 0, 1.0), Interaction::new(0, 1, 3.0), Interaction::new(1, 0, 4.0)];
    z_score(&mut v);
    assert_eq!(v.iter().map(|x| x.value).collect::<Vec<_>>(), vec![-1.0, 1.0, 0.0]);
}

#[test]
fn k_core_iterates_to_a_fixed_point() {
    // user 0: items 0,1,2; user 1: items 0,1; user 2: item 2 only (twice).
    // 2-core: user 2 goes (1 distinct item) → item 2 has only user 0 → goes → user 0 keeps 0,1.
    let v = vec![
        Interaction::new(0, 0, 1.0),
        Interaction::new(0, 1, 1.0),
        Interaction::new(0, 2, 1.0),
        Interaction::new(1, 0, 1.0),
        Interaction::new(1, 1, 1.0),
        Interaction::new(2, 2, 1.0),
        Interaction::new(2, 2, 1.0),
    ];
    let out = k_core(&v, 2, 2);
    assert_eq!(out.iter().map(|x| (x.user, x.item)).collect::<Vec<_>>(), vec![(0, 0), (0, 1), (1, 0), (1, 1)]);
    let per_user = distinct_items_per_user(&out);
    assert!(per_user.values().all(|&c| c >= 2));
    assert_eq!(k_core(&v, 1, 1).len(), v.len());
    assert!(k_core(&v, 3, 3).is_empty());
    assert!(k_core(&[], 2, 2).is_empty());
}
