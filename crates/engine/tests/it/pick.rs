use daogou_core::{EventKind, Item};
use daogou_engine::*;

#[test]
fn reasons_read_well() {
    let it = Item { title: "跑鞋".into(), ..Item::new("s1") };
    let bare = Item::new("sku-9");
    let r = |r: Reason<'_>| r.to_string();
    assert_eq!(r(Reason::Because { kind: Some(EventKind::Purchase), item: &it }), "because you bought “跑鞋”");
    assert_eq!(r(Reason::Because { kind: None, item: &bare }), "because you interacted with “sku-9”");
    assert_eq!(r(Reason::Bought { count: 1, last: 86_400 }), "bought on 1970-01-02");
    assert_eq!(r(Reason::Bought { count: 3, last: 0 }), "bought 3 times, last on 1970-01-01");
    assert_eq!(r(Reason::Trending { shoppers: 4, hours: 24 }), "trending: 4 shoppers in the last 24 h");
    let p = Pick::new(&bare, 1.5, &Reason::BoughtTogether(&it), Some(&it));
    assert_eq!((p.title.as_str(), p.because.as_deref()), ("sku-9", Some("s1")));
}
