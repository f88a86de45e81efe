//! Conversations: one per user, unknown ids start fresh, the oldest go first.

use std::time::Duration;

use daogou_guide::convo::*;
use daogou_guide::*;

fn turn(user: Option<&str>) -> Turn {
    Turn { user: user.map(str::to_owned), parse: Parse::default(), soft: vec![], shown: vec![1, 2] }
}

#[test]
fn bounded_and_owned_by_user() {
    let c = Conversations::new(2, 60);
    let (a, b, d) = (c.new_id(), c.new_id(), c.new_id());
    assert_ne!(a, b);
    c.put(a.clone(), turn(Some("u1"))).unwrap();
    std::thread::sleep(Duration::from_millis(2));
    c.put(b.clone(), turn(None)).unwrap();
    assert!(c.get(&a, Some("u1")).unwrap().is_some());
    assert!(c.get(&a, Some("u2")).unwrap().is_none(), "another user cannot continue it");
    std::thread::sleep(Duration::from_millis(2));
    c.put(d.clone(), turn(None)).unwrap();
    assert_eq!(c.len(), 2);
    assert!(c.get(&a, Some("u1")).unwrap().is_none(), "the least recently used one went");
    assert!(c.get(&d, None).unwrap().is_some());
}

#[test]
fn a_deleted_user_s_conversations_go_at_once() {
    let c = Conversations::new(10, 3600);
    let (a, b, d) = (c.new_id(), c.new_id(), c.new_id());
    c.put(a.clone(), turn(Some("u1"))).unwrap();
    c.put(b.clone(), turn(Some("u2"))).unwrap();
    c.put(d.clone(), turn(Some("u1"))).unwrap();
    assert_eq!(c.forget_user("u1").unwrap(), 2);
    assert!(c.get(&a, Some("u1")).unwrap().is_none() && c.get(&d, Some("u1")).unwrap().is_none());
    assert!(c.get(&b, Some("u2")).unwrap().is_some());
}
