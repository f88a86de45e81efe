use daogou_core::*;

#[test]
fn invoices_or_days() {
    let at = |user: u32, item: u32, t: i64| Interaction {
        timestamp: t,
        kind: EventKind::Purchase,
        ..Interaction::new(user, item, 1.0)
    };
    let invoices = vec![at(0, 1, 100), at(0, 2, 100), at(1, 1, 200), at(1, 3, 200), at(1, 4, 900)];
    assert_eq!(Baskets::detect(&invoices), Baskets::Time);
    let stream: Vec<Interaction> = (0..6).map(|k| at(0, k % 3, 1000 + k as i64 * 7)).collect();
    assert_eq!(Baskets::detect(&stream), Baskets::Day);
    assert_eq!(Baskets::Day.key(86_400 * 3 + 5), 3);
    assert_eq!(Baskets::Day.key(-1), -1);
    assert!(is_bought(EventKind::View, false) && !is_bought(EventKind::View, true));
}
