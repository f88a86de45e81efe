//! two-tower's item features: title tokens, activity bands, price bands, numeric attributes.

use daogou_core::{numeric_attribute_keys as numeric_attributes, Item, Params};
use daogou_nn::two_tower::*;

#[test]
fn chinese_titles_give_characters_and_bigrams_latin_gives_words() {
    let t = text_tokens("新款跑鞋 Running-Shoe 42");
    let expect = [
        fnv(b'c', "新"),
        fnv(b'c', "款"),
        fnv(b'b', "新款"),
        fnv(b'b', "款跑"),
        fnv(b'b', "跑鞋"),
        fnv(b'w', "running"),
        fnv(b'w', "shoe"),
        fnv(b'w', "42"),
    ];
    for e in expect {
        assert!(t.contains(&e), "{t:?}");
    }
    assert_eq!(t.len(), 10); // 4 characters, 3 pairs, 3 words
    assert_eq!(text_tokens("跑鞋"), text_tokens("跑鞋 跑鞋"));
    assert_eq!(activity(0), 0);
    assert_eq!(activity(1), 1);
    assert_eq!(activity(3), 2);
    assert_eq!(activity(1 << 30), ACTIVITY_BANDS - 1);
}

#[test]
fn price_bands_within_the_category_and_numeric_attributes_are_read() {
    let item = |id: &str, cat: &str, price: f64, reviews: &str| {
        let mut it = Item::new(id);
        it.category = Some(cat.into());
        it.price = Some(price);
        it.attributes.insert("reviews".into(), reviews.into());
        it.attributes.insert("currency".into(), "CNY".into()); // not a number
        it.attributes.insert("pack".into(), "1".into()); // a number, but the same everywhere
        it
    };
    let items = vec![
        item("a", "socks", 5.0, "10"),
        item("b", "socks", 9.0, "200"),
        item("c", "phones", 900.0, "3000"),
        item("d", "phones", 3000.0, "n/a"),
    ];
    let (h, _) = Hyper::from_params(&Params::new().with("price_bands", 2)).unwrap();
    let f = Features::build(&items, 4, &h, vec![1; 4]);
    // over the catalogue the socks are cheap and the phones dear; within their own
    // category, b and d are the dearer of each pair
    assert_eq!(f.band, [1, 1, 2, 2]);
    assert_eq!(f.rel, [1, 2, 1, 2]);
    assert_eq!(numeric_attributes(&items), ["reviews"]);
    assert_eq!(f.n_attrs, 1);
    assert_eq!(f.attrs, [1, 2, 2, 0], "bands 1…2 of `reviews`; d has none");
    let off = Hyper::from_params(&Params::new().with("numeric_attributes", false)).unwrap().0;
    assert_eq!(Features::build(&items, 4, &off, vec![1; 4]).n_attrs, 0);
}
