use daogou_core::Item;
use daogou_engine::*;

fn shoe(id: &str) -> Item {
    Item {
        category: Some("鞋/跑鞋".into()),
        brand: Some("A".into()),
        price: Some(100.0),
        stock: Some(3),
        ..Item::new(id)
    }
}

#[test]
fn every_rule() {
    let f = Filter::default();
    assert!(f.passes(&shoe("s")));
    assert!(!f.passes(&Item { stock: Some(0), ..shoe("s") }), "out of stock");
    assert!(!f.passes(&Item { available: false, ..shoe("s") }), "unavailable");
    assert!(Filter { in_stock: false, ..f.clone() }.passes(&Item { available: false, ..shoe("s") }));
    assert!(!Filter { in_stock: false, ..f.clone() }.passes(&Item { deleted: true, ..shoe("s") }), "deleted never");
    let by = |c: &str| Filter { category: Some(c.into()), ..Filter::default() };
    assert!(by("鞋").passes(&shoe("s")) && by("鞋/跑鞋").passes(&shoe("s")) && !by("鞋/跑").passes(&shoe("s")));
    assert!(!Filter { brand: Some("B".into()), ..Filter::default() }.passes(&shoe("s")));
    assert!(!Filter { min_price: Some(101.0), ..Filter::default() }.passes(&shoe("s")));
    assert!(Filter { max_price: Some(100.0), ..Filter::default() }.passes(&shoe("s")));
    assert!(!Filter { max_price: Some(100.0), ..Filter::default() }.passes(&Item::new("no price")));
    let mut ex = Filter::default();
    ex.exclude.insert("s".into());
    assert!(!ex.passes(&shoe("s")));
    assert_eq!(novelty(Some(100), 100), 1.0);
    assert!((novelty(Some(0), 30 * 86_400) - 0.5).abs() < 1e-6);
    assert_eq!(novelty(None, 5), 0.0);
}
