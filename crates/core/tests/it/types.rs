use daogou_core::*;

#[test]
fn kinds_roundtrip_through_names() {
    for k in EventKind::ALL {
        assert_eq!(k.as_str().parse::<EventKind>().unwrap(), k);
    }
    assert_eq!("Add-To-Cart".parse::<EventKind>().unwrap(), EventKind::AddToCart);
    let err = "wishlist".parse::<EventKind>().unwrap_err().to_string();
    assert!(err.contains("wishlist"), "{err}");
}

#[test]
fn catalogue_rules() {
    let mut it = Item { title: String::new(), category: Some("鞋/跑鞋".into()), ..Item::new("s1") };
    assert_eq!(it.display_title(), "s1");
    assert!(it.in_stock());
    assert!(it.in_category("鞋") && it.in_category("鞋/跑鞋") && !it.in_category("鞋/跑") && !it.in_category("包"));
    it.stock = Some(0);
    assert!(!it.in_stock());
    it.stock = None;
    it.deleted = true;
    assert!(!it.in_stock());
    assert!(category_matches("a/b/c", "a/b") && !category_matches("ab", "a"));
}
