use daogou_core::*;

#[test]
fn columns_order_by_time_stably_and_forget_times_when_asked() {
    let mut c = EventColumns::new(true);
    for (u, t) in [(0u32, 30i64), (1, 10), (2, 30), (3, 20)] {
        c.push(Interaction { user: u, item: u + 10, value: u as f32, timestamp: t, kind: EventKind::Purchase });
    }
    c.sort_by_time();
    assert_eq!(c.users, [1, 3, 0, 2], "ties keep their order");
    assert_eq!(c.get(1), Interaction { user: 3, item: 13, value: 3.0, timestamp: 20, kind: EventKind::Purchase });
    c.drop_times();
    assert!(!c.keeps_time() && c.timestamps.is_empty());
    assert_eq!(c.get(1).timestamp, 0);
    let mut plain = EventColumns::new(false);
    plain.push(Interaction::new(1, 2, 3.0));
    assert_eq!((plain.len(), plain.timestamps.len()), (1, 0));
    assert_eq!(plain.iter().collect::<Vec<_>>(), vec![Interaction::new(1, 2, 3.0)]);
}
