use daogou_core::*;

#[test]
fn indices_follow_first_appearance() {
    let mut m = IdMap::new();
    assert_eq!(m.get_or_insert("b"), 0);
    assert_eq!(m.get_or_insert("a"), 1);
    assert_eq!(m.get_or_insert("b"), 0);
    assert_eq!(m.get("a"), Some(1));
    assert_eq!(m.get("zz"), None);
    assert_eq!(m.id(1), "a");
    assert_eq!(m.len(), 2);
}
