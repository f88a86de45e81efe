//! The constraint grammar, catalogue vocabulary, colour families, currencies and honest
//! answers on the demo shop, each checked against the raw item rows.

use daogou_core::Item;
use daogou_guide::{AskRequest, Guide, GuideConfig};

fn ask(g: &Guide, text: &str) -> daogou_guide::Answer {
    g.ask(&AskRequest { text: text.into(), n: Some(50), ..Default::default() }, None, &[]).unwrap()
}

fn item<'a>(items: &'a [Item], id: &str) -> &'a Item {
    items.iter().find(|i| i.id == id).expect("returned item is in the catalogue")
}

fn attr<'a>(it: &'a Item, k: &str) -> &'a str {
    it.attributes.get(k).map(String::as_str).unwrap_or("")
}

#[test]
fn dont_exceed_is_an_upper_bound() {
    let (items, g) = crate::shop();
    for t in ["别超过600的耳机", "耳机不超过600", "headphones no more than 600 yuan", "headphones at most 600"]
    {
        let a = ask(g, t);
        assert_eq!(a.parse.max_price, Some(600.0), "{t}: {:?}", a.parse);
        assert_eq!(a.parse.min_price, None, "{t}");
        assert!(!a.items.is_empty(), "{t}");
        for p in &a.items {
            assert!(item(items, &p.id).price.unwrap() <= 600.0, "{t}: {}", p.title);
        }
    }
    let a = ask(g, "耳机超过600");
    assert_eq!((a.parse.min_price, a.parse.max_price), (Some(600.0), None));
    assert!(a.items.iter().all(|p| item(items, &p.id).price.unwrap() >= 600.0));
}

#[test]
fn a_negated_colour_is_excluded_in_every_phrasing() {
    let (items, g) = crate::shop();
    for t in [
        "不是粉色的耳机",
        "耳机，不要粉色",
        "headphones that are not pink",
        "headphones that aren't pink",
        "耳机 除了粉色",
    ] {
        let a = ask(g, t);
        assert!(!a.items.is_empty(), "{t}");
        for p in &a.items {
            let it = item(items, &p.id);
            let c = format!("{} {}", attr(it, "color"), attr(it, "color_zh"));
            assert!(!c.contains("pink") && !c.contains('粉'), "{t}: {} ({c})", p.title);
        }
    }
}

#[test]
fn catalogue_materials_are_hard_constraints() {
    let (items, g) = crate::shop();
    let want: Vec<&str> = items
        .iter()
        .filter(|i| attr(i, "material") == "cast iron" && i.in_stock() && !i.deleted)
        .map(|i| i.id.as_str())
        .collect();
    assert!(!want.is_empty(), "the demo shop has cast-iron items");
    for t in ["铸铁锅", "a cast-iron pot", "cast iron cookware"] {
        let a = ask(g, t);
        assert_eq!(a.parse.attributes.get("material").map(String::as_str), Some("cast iron"), "{t}");
        assert!(!a.items.is_empty(), "{t}");
        for p in &a.items {
            assert_eq!(attr(item(items, &p.id), "material"), "cast iron", "{t}: {}", p.title);
        }
        let got: Vec<&str> = a.items.iter().map(|p| p.id.as_str()).collect();
        let pots: Vec<&&str> = want
            .iter()
            .filter(|id| item(items, id).category.as_deref().is_some_and(|c| c.ends_with("Cookware")))
            .collect();
        assert!(pots.iter().take(5).all(|id| got.contains(id)), "{t}: {got:?} misses some of {pots:?}");
    }
    for (t, m) in [("大马士革钢的刀", "damascus steel"), ("cork yoga mat", "cork")] {
        let a = ask(g, t);
        assert!(!a.items.is_empty(), "{t}");
        for p in &a.items {
            assert_eq!(attr(item(items, &p.id), "material"), m, "{t}: {}", p.title);
        }
    }
}

#[test]
fn a_family_covers_its_shades_and_a_shade_stays_exact() {
    let (items, g) = crate::shop();
    let a = ask(g, "粉色的耳机");
    assert!(!a.items.is_empty());
    assert!(a.items.iter().any(|p| attr(item(items, &p.id), "color_zh") == "樱花粉"), "pink covers 樱花粉");
    for t in ["天蓝色的", "sky blue"] {
        let a = ask(g, t);
        assert!(!a.items.is_empty(), "{t}");
        for p in &a.items {
            assert_eq!(attr(item(items, &p.id), "color"), "sky blue", "{t}: {}", p.title);
        }
    }
    // No item is light blue: navy (dark blue) and sky blue are not offered as matches.
    let a = ask(g, "浅蓝色的衣服");
    for p in &a.items {
        let c = attr(item(items, &p.id), "color");
        assert!(c != "navy" && c != "sky blue", "light blue is exact: {} ({c})", p.title);
    }
}

#[test]
fn nothing_fits_says_why_and_keeps_the_closest_apart() {
    let (items, g) = crate::shop();
    let cheapest = items
        .iter()
        .filter(|i| i.category.as_deref() == Some("Sports & Outdoors/Running Shoes") && i.in_stock() && !i.deleted)
        .filter_map(|i| i.price)
        .fold(f64::INFINITY, f64::min);
    let budget = (cheapest / 2.0).floor();
    let a = ask(g, &format!("running shoes under {budget} yuan"));
    assert!(a.items.is_empty(), "{:?}", a.items);
    assert!(!a.closest.is_empty());
    let c = format!("¥{cheapest}");
    assert!(
        a.reply.contains(&format!("the cheapest Running Shoes is {c}, above your ¥{budget} budget")),
        "{}",
        a.reply
    );
    assert_eq!(a.closest[0].price, Some(cheapest));
    for p in &a.closest {
        assert!(p.reason.contains(&format!("above your ¥{budget} budget")), "{}", p.reason);
    }
    // A colour no running shoe comes in: the reply names the colour, the closest differ in it.
    let a = ask(g, "紫色的跑鞋");
    assert!(a.items.is_empty());
    assert!(a.reply.contains("没有紫色的跑鞋"), "{}", a.reply);
    assert!(!a.closest.is_empty() && a.closest.iter().all(|p| p.reason.contains("不是purple")), "{:?}", a.closest);
}

#[test]
fn a_shop_in_pounds_understands_pounds_and_converts_the_rest() {
    let (items, _) = crate::shop();
    let mut cfg = GuideConfig { currency: Some("GBP".into()), ..GuideConfig::default() };
    let g = Guide::new(items, cfg.clone()).unwrap();
    let a = ask(&g, "running shoes under £300");
    assert_eq!(a.parse.max_price, Some(300.0));
    assert_eq!(a.parse.currency.as_deref(), Some("GBP"));
    assert!(a.parse.price_note.is_none());
    assert!(a.reply.contains("£300"), "{}", a.reply);
    let a = ask(&g, "running shoes under $100");
    assert_eq!(a.parse.max_price, Some(79.0));
    assert!(
        a.parse.price_note.as_deref().is_some_and(|n| n.contains("$100 ≈ £79 (1 USD = 0.79 GBP)")),
        "{:?}",
        a.parse
    );
    cfg.rates.insert("USD".into(), 1.0);
    cfg.rates.insert("GBP".into(), 0.5);
    let g = Guide::new(items, cfg).unwrap();
    assert_eq!(g.parse("under 100 dollars").max_price, Some(50.0));
}

/// "Something for my cat to eat" names the pet, not the product: the food subcategory of the
/// category the pet implies is meant, so cat litter and toys stay out, and every cat food in
/// stock is offered.
#[test]
fn food_for_a_pet_is_its_food_not_its_litter() {
    let (items, g) = crate::shop();
    let in_stock = |path: &str| -> Vec<&str> {
        items
            .iter()
            .filter(|i| i.category.as_deref() == Some(path) && i.in_stock() && !i.deleted)
            .map(|i| i.id.as_str())
            .collect()
    };
    for (path, texts) in [
        (
            "Pet Supplies/Cat Food",
            &["something for my cat to eat", "给猫买点吃的", "food for my cat", "猫吃的，100元以上"][..],
        ),
        ("Pet Supplies/Dog Food", &["something for my dog to eat", "给狗买点吃的"][..]),
    ] {
        let want = in_stock(path);
        assert!(want.len() >= 5, "the demo shop has {path} in stock");
        for t in texts {
            let a = ask(g, t);
            assert_eq!(a.parse.categories, vec![path.to_owned()], "{t}: {:?}", a.parse);
            assert!(a.items.len() >= 5.min(want.len()), "{t}: {} items", a.items.len());
            for p in &a.items {
                let it = item(items, &p.id);
                assert_eq!(it.category.as_deref(), Some(path), "{t}: {}", p.title);
                if let Some(min) = a.parse.min_price {
                    assert!(it.price.unwrap() >= min, "{t}: {}", p.title);
                }
            }
        }
    }
    // Food words change nothing where no category is about food: good-tasting nuts stay Nuts.
    assert_eq!(ask(g, "好吃的坚果").parse.categories, vec!["Food & Beverage/Nuts".to_owned()]);
}
