//! Multi-turn conversations, personal re-ranking, diversity and request errors.

use std::collections::HashSet;

use daogou_core::Item;
use daogou_guide::{Answer, AskRequest, Error, Guide, GuideConfig};

fn ask(g: &Guide, text: &str, conversation: Option<&str>) -> Answer {
    let req = AskRequest { text: text.into(), conversation: conversation.map(str::to_owned), ..Default::default() };
    g.ask(&req, None, &[]).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn items_of<'a>(items: &'a [Item], a: &Answer) -> Vec<&'a Item> {
    a.items.iter().map(|p| &items[p.index as usize]).collect()
}

#[test]
fn cheaper_gives_cheaper_items_cheapest_first() {
    let (items, g) = crate::shop();
    for (first, again) in [("headphones under 1500 yuan", "cheaper"), ("1500元以内的耳机", "便宜点")] {
        let a = ask(g, first, None);
        assert!(a.items.len() >= 3, "{first}");
        let mut prices: Vec<f64> = a.items.iter().filter_map(|p| p.price).collect();
        prices.sort_by(f64::total_cmp);
        let middle = prices[(prices.len() - 1) / 2];
        let b = ask(g, again, Some(&a.conversation));
        assert_eq!(b.conversation, a.conversation);
        assert_eq!(b.parse.refinement.as_deref(), Some("cheaper"));
        assert_eq!(b.parse.max_price, Some(middle), "cheaper than the middle of what was shown");
        assert_eq!(b.parse.sort.as_deref(), Some("price_asc"));
        assert_eq!(b.parse.categories, ["Electronics/Headphones"], "the category carries over");
        assert!(b.items.len() >= 3, "{again}: {}", b.reply);
        let got = items_of(items, &b);
        for it in &got {
            assert!(it.price.unwrap() <= middle, "{} not cheaper than {middle}", it.title);
            assert_eq!(it.category.as_deref(), Some("Electronics/Headphones"));
        }
        assert!(got.windows(2).all(|w| w[0].price <= w[1].price), "cheapest first");
        assert!(got[0].price.unwrap() <= prices[0], "the cheapest there is comes first");
    }
}

#[test]
fn another_colour_and_another_brand_change_exactly_that() {
    let (items, g) = crate::shop();
    let a = ask(g, "T恤", None);
    let top = &items_of(items, &a)[..3];
    let colours: HashSet<&str> = top.iter().filter_map(|it| it.attributes.get("color").map(String::as_str)).collect();
    let b = ask(g, "换个颜色", Some(&a.conversation));
    assert_eq!(b.parse.refinement.as_deref(), Some("other_color"));
    assert!(b.items.len() >= 3, "{}", b.reply);
    for it in items_of(items, &b) {
        assert_eq!(it.category.as_deref(), Some("Fashion/T-Shirts"));
        let c = it.attributes.get("color").map(String::as_str).unwrap_or("");
        assert!(!colours.contains(c), "{} has the colour of a top pick ({colours:?})", it.title);
    }
    // With a colour asked for, "another colour" moves away from that one.
    let a = ask(g, "red t-shirts", None);
    let b = ask(g, "another colour", Some(&a.conversation));
    assert_eq!(b.parse.attributes.get("color"), None);
    assert_eq!(b.parse.exclude_attributes.get("color").map(String::as_str), Some("red"));
    assert!(items_of(items, &b).iter().all(|it| !it.attributes["color"].contains("red")));

    let a = ask(g, "wireless headphones", None);
    let brands: HashSet<&str> = items_of(items, &a)[..3].iter().filter_map(|it| it.brand.as_deref()).collect();
    let b = ask(g, "show me another brand", Some(&a.conversation));
    assert_eq!(b.parse.refinement.as_deref(), Some("other_brand"));
    for br in &brands {
        assert!(b.parse.exclude_brands.iter().any(|x| x == br), "{br} not excluded: {:?}", b.parse);
    }
    assert!(!b.items.is_empty(), "{}", b.reply);
    for it in items_of(items, &b) {
        assert!(!brands.contains(it.brand.as_deref().unwrap_or("")), "{} repeats a brand", it.title);
    }
    assert!(b.reply.starts_with("From other brands"), "{}", b.reply);
    let c = ask(g, "换个牌子", Some(&a.conversation));
    assert!(c.parse.exclude_brands.len() > b.parse.exclude_brands.len(), "each turn moves further away");
}

#[test]
fn more_like_the_second_one_in_both_languages() {
    let (items, g) = crate::shop();
    for (first, more) in
        [("gift ideas under 300 yuan", "more like the second one"), ("300元以内的礼物", "第二个那样的")]
    {
        let a = ask(g, first, None);
        assert!(a.items.len() >= 2, "{first}");
        let second = &items[a.items[1].index as usize];
        let b = ask(g, more, Some(&a.conversation));
        assert_eq!(b.parse.refinement, Some(format!("more_like:{}", second.id)), "{more}");
        assert_eq!(b.parse.max_price, Some(300.0), "{more}: the budget carries over");
        assert!(!b.items.is_empty(), "{more}: {}", b.reply);
        for it in items_of(items, &b) {
            assert_eq!(it.category, second.category, "{more}: {} is not like {}", it.title, second.title);
            assert_ne!(it.id, second.id, "{more}: the item itself is not 'more like' it");
            assert!(it.price.unwrap() <= 300.0);
        }
        assert!(
            b.items[0].reason.contains(if more.is_ascii() { "similar to" } else { "相似" }),
            "{}",
            b.items[0].reason
        );
    }
}

#[test]
fn follow_up_constraints_narrow_and_a_new_topic_starts_over() {
    let (items, g) = crate::shop();
    let a = ask(g, "跑鞋", None);
    let b = ask(g, "500元以内", Some(&a.conversation));
    assert_eq!(b.parse.categories, ["Sports & Outdoors/Running Shoes"]);
    assert_eq!(b.parse.max_price, Some(500.0));
    let c = ask(g, "不要红色的", Some(&a.conversation));
    assert_eq!(c.parse.max_price, Some(500.0), "earlier constraints stay");
    assert_eq!(c.parse.exclude_attributes.get("color").map(String::as_str), Some("red"));
    assert!(!c.items.is_empty());
    for it in items_of(items, &c) {
        assert!(it.price.unwrap() <= 500.0 && it.category.as_deref() == Some("Sports & Outdoors/Running Shoes"));
        assert!(!it.attributes.get("color").is_some_and(|x| x.contains("red")), "{}", it.title);
    }
    // A refinement word next to a new product is a new request, not a refinement.
    let e = ask(g, "有没有便宜点的咖啡", Some(&c.conversation));
    assert_eq!(e.parse.categories, ["Food & Beverage/Coffee"]);
    assert_eq!((e.parse.max_price, e.parse.refinement.as_deref()), (None, None));
    assert_eq!(e.parse.sort.as_deref(), Some("price_asc"));
    assert!(e.parse.exclude_attributes.is_empty());
    // So is a new recipient.
    let f = ask(g, "送男朋友的礼物", Some(&c.conversation));
    assert_eq!((f.parse.recipient.as_deref(), f.parse.categories.len()), (Some("boyfriend"), 0));
    assert_eq!(f.parse.max_price, None);
    let d = ask(g, "耳机", Some(&a.conversation));
    assert_eq!(d.parse.categories, ["Electronics/Headphones"]);
    assert_eq!(d.parse.max_price, None, "a new topic does not inherit the budget");
    assert!(d.parse.exclude_attributes.is_empty());
}

#[test]
fn a_conversation_belongs_to_its_user_and_unknown_ids_start_fresh() {
    let (_, g) = crate::shop();
    let req = |text: &str, conv: Option<String>, user: &str| AskRequest {
        text: text.into(),
        conversation: conv,
        user: Some(user.into()),
        n: Some(5),
    };
    let a = g.ask(&req("running shoes under 500 yuan", None, "u1"), None, &[]).unwrap();
    let b = g.ask(&req("cheaper", Some(a.conversation.clone()), "u2"), None, &[]).unwrap();
    assert_eq!(b.parse.refinement, None, "another user cannot continue u1's conversation");
    assert_eq!(b.parse.max_price, None);
    assert_eq!(b.parse.sort.as_deref(), Some("price_asc"), "'cheaper' alone means cheapest first");
    let c = g.ask(&req("cheaper", Some("my-own-id".into()), "u1"), None, &[]).unwrap();
    assert_eq!(c.conversation, "my-own-id");
    let d = g.ask(&req("耳机", None, "u1"), None, &[]).unwrap();
    assert_ne!(d.conversation, a.conversation, "new conversations get new ids");
}

#[test]
fn personal_scores_rerank_and_history_gives_reasons() {
    let (items, g) = crate::shop();
    let text = "running shoes under 700 yuan";
    let plain = ask(g, text, None);
    assert!(plain.items.len() >= 3);
    // The shopper's model loves the last of the plain answer.
    let fav = plain.items.last().unwrap().index;
    let mut personal = vec![f32::NEG_INFINITY; items.len()];
    for p in &plain.items {
        personal[p.index as usize] = 0.0;
    }
    personal[fav as usize] = 5.0;
    // History: an earlier pair of running shoes that is not in the answer.
    let shown: HashSet<u32> = plain.items.iter().map(|p| p.index).collect();
    let hist = (0..items.len() as u32)
        .find(|&i| {
            items[i as usize].category.as_deref() == Some("Sports & Outdoors/Running Shoes") && !shown.contains(&i)
        })
        .unwrap();
    let req = AskRequest { text: text.into(), user: Some("u7".into()), ..Default::default() };
    let a = g.ask(&req, Some(&personal), &[hist]).unwrap();
    assert_eq!(a.items[0].index, fav, "the personal favourite comes first");
    assert!(a.items[0].reason.contains("picked for you"), "{}", a.items[0].reason);
    assert!(a.items.iter().all(|p| p.reason.contains("because you liked")), "{:?}", a.items[0].reason);
    assert!(a.items.iter().all(|p| p.price.unwrap() <= 700.0), "personal scores never break constraints");
}

#[test]
fn diversity_caps_one_brand_in_an_open_request() {
    let (items, g) = crate::shop();
    let a = g.ask(&AskRequest { text: "gift".into(), n: Some(9), ..Default::default() }, None, &[]).unwrap();
    assert_eq!(a.items.len(), 9);
    let mut per_brand = std::collections::HashMap::new();
    for it in items_of(items, &a) {
        *per_brand.entry(it.brand.clone()).or_insert(0) += 1;
    }
    assert!(per_brand.values().all(|&n| n <= 3), "{per_brand:?}");
    // Asking for one brand lifts the cap.
    let b = g.ask(&AskRequest { text: "Novaphone".into(), n: Some(6), ..Default::default() }, None, &[]).unwrap();
    assert!(b.items.len() >= 4 && b.items.iter().all(|p| p.brand.as_deref() == Some("Novaphone")));
}

#[test]
fn bad_requests_are_refused_with_the_field() {
    let (_, g) = crate::shop();
    let err = |r: AskRequest| match g.ask(&r, None, &[]) {
        Err(Error::BadRequest(m)) => m,
        other => panic!("expected a bad request, got {other:?}"),
    };
    assert!(err(AskRequest { text: "  ".into(), ..Default::default() }).starts_with("text"));
    assert!(err(AskRequest { text: "跑鞋".into(), n: Some(0), ..Default::default() }).starts_with("n:"));
    assert!(err(AskRequest { text: "跑鞋".into(), n: Some(1000), ..Default::default() }).starts_with("n:"));
    let long = "x".repeat(300);
    assert!(err(AskRequest { text: "跑鞋".into(), conversation: Some(long), ..Default::default() })
        .starts_with("conversation"));
}

#[test]
fn upserted_items_join_the_vocabulary() {
    let (items, _) = crate::shop();
    let g = Guide::new(&items[..100], GuideConfig::default()).unwrap();
    let mut it = Item::new("kb-1");
    it.title = "Clackmaster 静音机械键盘 Silent Mechanical Keyboard".into();
    it.category = Some("Gaming/Gaming Keyboards".into());
    it.brand = Some("Clackmaster".into());
    it.price = Some(299.0);
    g.upsert(100, &it).unwrap();
    let p = g.parse("no Clackmaster keyboards");
    assert_eq!(p.exclude_brands, ["Clackmaster"]);
    let a = g.ask(&AskRequest { text: "Clackmaster 键盘".into(), ..Default::default() }, None, &[]).unwrap();
    assert_eq!(a.items.first().map(|p| p.id.as_str()), Some("kb-1"));
    g.remove(100).unwrap();
    let a = g.ask(&AskRequest { text: "Clackmaster 键盘".into(), ..Default::default() }, None, &[]).unwrap();
    assert!(a.items.iter().all(|p| p.id != "kb-1"), "removed items are never recommended");
}
