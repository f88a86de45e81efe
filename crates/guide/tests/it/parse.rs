//! The request parser, rule by rule.

use daogou_guide::catalog::{Catalog, PRODUCT};
use daogou_guide::parse::*;
use daogou_guide::*;

use daogou_core::Item;

fn item(id: &str, title: &str, cat: &str, brand: &str, attrs: &[(&str, &str)], price: f64) -> Item {
    let mut it = Item::new(id);
    it.title = title.to_owned();
    it.category = Some(cat.to_owned());
    it.brand = Some(brand.to_owned());
    it.price = Some(price);
    for (k, v) in attrs {
        it.attributes.insert((*k).to_owned(), (*v).to_owned());
    }
    it
}

/// A small bilingual catalogue with categories, brands, colours, materials and specs.
fn catalog(currency: &str) -> Catalog {
    let items = vec![
        item(
            "h1",
            "Sonora 头戴耳机 Headphones 樱花粉",
            "Electronics/Headphones",
            "Sonora",
            &[("category_zh", "数码/耳机"), ("brand_zh", "声若"), ("color", "sakura pink"), ("color_zh", "樱花粉")],
            299.0,
        ),
        item(
            "h2",
            "Sonora Headphones Sky Blue",
            "Electronics/Headphones",
            "Sonora",
            &[("category_zh", "数码/耳机"), ("color", "sky blue"), ("color_zh", "天蓝色"), ("spec", "ANC")],
            399.0,
        ),
        item(
            "p1",
            "Ironhearth 铸铁汤锅 Stock Pot",
            "Home/Cookware",
            "Ironhearth",
            &[("category_zh", "家居/锅具"), ("material", "cast iron"), ("material_zh", "铸铁")],
            459.0,
        ),
        item(
            "k1",
            "Blade 大马士革钢 Chef Knife",
            "Home/Kitchen Knives",
            "Blade",
            &[("category_zh", "家居/刀具"), ("material", "damascus steel"), ("material_zh", "大马士革钢")],
            699.0,
        ),
        item(
            "y1",
            "Zen 软木瑜伽砖 Yoga Block",
            "Sports/Yoga",
            "Zen",
            &[("category_zh", "运动/瑜伽"), ("material", "cork"), ("material_zh", "软木")],
            59.0,
        ),
    ];
    Catalog::new(&items, Vec::new(), Some(currency), daogou_guide::nouns::NounParams::default())
}

fn parse_in(cat: &Catalog, cfg: &GuideConfig, text: &str) -> Parse {
    Parser { cat, cfg }.parse(text).parse
}

fn parse(text: &str) -> Parse {
    parse_in(&catalog("CNY"), &GuideConfig::default(), text)
}

fn bounds(text: &str) -> (Option<f64>, Option<f64>) {
    let p = parse(text);
    (p.min_price, p.max_price)
}

#[test]
fn upper_bounds_in_both_languages() {
    for t in [
        "600以内的耳机",
        "600以下的耳机",
        "不超过600的耳机",
        "别超过600",
        "最多600",
        "至多600元",
        "不高于600",
        "低于600",
        "headphones under 600",
        "below 600 yuan",
        "less than 600",
        "at most 600",
        "no more than 600",
        "up to 600",
        "cheaper than 600",
    ] {
        assert_eq!(bounds(t), (None, Some(600.0)), "{t}");
    }
}

#[test]
fn lower_bounds_in_both_languages() {
    for t in [
        "600以上的耳机",
        "至少600",
        "不低于600",
        "超过600",
        "高于600",
        "over 600",
        "above 600",
        "more than 600",
        "at least 600",
    ] {
        assert_eq!(bounds(t), (Some(600.0), None), "{t}");
    }
}

#[test]
fn near_misses_keep_their_direction() {
    // 不超过 / 别超过 hold 超过 but are upper bounds; 不低于 holds 低于 but is a lower bound.
    assert_eq!(bounds("不超过600"), (None, Some(600.0)));
    assert_eq!(bounds("别超过六百块"), (None, Some(600.0)));
    assert_eq!(bounds("超过600"), (Some(600.0), None));
    assert_eq!(bounds("不低于600"), (Some(600.0), None));
    assert_eq!(bounds("低于600"), (None, Some(600.0)));
    assert_eq!(bounds("no less than 600"), (Some(600.0), None));
    assert_eq!(bounds("less than 600"), (None, Some(600.0)));
    assert_eq!(bounds("not more than 600"), (None, Some(600.0)));
    assert_eq!(bounds("more than 600"), (Some(600.0), None));
}

#[test]
fn ranges_and_approximations() {
    for t in ["100到300", "100到300元之间", "between 100 and 300", "100-300", "100 to 300", "100~300"] {
        assert_eq!(bounds(t), (Some(100.0), Some(300.0)), "{t}");
    }
    // A model number or sizes are not a price range.
    assert_eq!(bounds("wh-1000xm4"), (None, None));
    assert_eq!(bounds("38-40码"), (None, None));
    for t in ["around 200", "大概200元", "200左右", "两百块左右", "about 200"] {
        assert_eq!(bounds(t), (Some(160.0), Some(240.0)), "{t}");
    }
}

#[test]
fn bounds_combine_with_attributes_and_brands() {
    let p = parse("不超过350的声若耳机，不要粉色");
    assert_eq!(p.max_price, Some(350.0));
    assert_eq!(p.brands, vec!["Sonora".to_string()]);
    assert_eq!(p.categories, vec!["Electronics/Headphones".to_string()]);
    assert_eq!(p.exclude_attributes.get("color").map(String::as_str), Some("pink"));
    assert!(!p.attributes.contains_key("color"), "{p:?}");
}

#[test]
fn each_negation_word_excludes() {
    for t in [
        "不要粉色",
        "不是粉色的",
        "别粉色的",
        "非粉色",
        "除了粉色",
        "没有粉色的",
        "不含粉色",
        "no pink",
        "not pink",
        "isn't pink",
        "aren't pink",
        "without pink",
        "except pink",
        "other than pink",
        "anything but pink",
    ] {
        let p = parse(&format!("耳机 {t}"));
        assert_eq!(p.exclude_attributes.get("color").map(String::as_str), Some("pink"), "{t}: {p:?}");
        assert!(!p.attributes.contains_key("color"), "{t}: {p:?}");
    }
    for t in ["不要声若的耳机", "headphones, not Sonora", "headphones that aren't Sonora"] {
        let p = parse(t);
        assert_eq!(p.exclude_brands, vec!["Sonora".to_string()], "{t}: {p:?}");
        assert!(p.brands.is_empty(), "{t}: {p:?}");
    }
    let p = parse("不是铸铁的锅具");
    assert_eq!(p.exclude_attributes.get("material").map(String::as_str), Some("cast iron"), "{p:?}");
    let p = parse("家居 but not cookware");
    assert_eq!(p.exclude_categories, vec!["Home/Cookware".to_string()], "{p:?}");
}

#[test]
fn words_that_only_contain_a_negation_do_not_negate() {
    let p = parse("有没有粉色的耳机");
    assert_eq!(p.attributes.get("color").map(String::as_str), Some("pink"), "{p:?}");
    let p = parse("是不是粉色的耳机");
    assert_eq!(p.attributes.get("color").map(String::as_str), Some("pink"), "{p:?}");
    let p = parse("非常好看的粉色耳机");
    assert_eq!(p.attributes.get("color").map(String::as_str), Some("pink"), "{p:?}");
}

#[test]
fn catalogue_attribute_values_are_vocabulary() {
    let p = parse("铸铁锅");
    assert_eq!(p.attributes.get("material").map(String::as_str), Some("cast iron"), "{p:?}");
    let p = parse("a cast-iron pot");
    assert_eq!(p.attributes.get("material").map(String::as_str), Some("cast iron"), "{p:?}");
    let p = parse("大马士革钢的刀");
    assert_eq!(p.attributes.get("material").map(String::as_str), Some("damascus steel"), "{p:?}");
    let p = parse("cork yoga block");
    assert_eq!(p.attributes.get("material").map(String::as_str), Some("cork"), "{p:?}");
    let p = parse("软木");
    assert_eq!(p.attributes.get("material").map(String::as_str), Some("cork"), "{p:?}");
    let p = parse("headphones with anc");
    assert_eq!(p.attributes.get("spec").map(String::as_str), Some("anc"), "{p:?}");
}

#[test]
fn colour_families_and_exact_shades() {
    assert_eq!(parse("粉色耳机").attributes.get("color").map(String::as_str), Some("pink"));
    assert_eq!(parse("pink headphones").attributes.get("color").map(String::as_str), Some("pink"));
    assert_eq!(parse("浅蓝色耳机").attributes.get("color").map(String::as_str), Some("light blue"));
    assert_eq!(parse("light blue headphones").attributes.get("color").map(String::as_str), Some("light blue"));
    assert_eq!(parse("樱花粉耳机").attributes.get("color").map(String::as_str), Some("sakura pink"));
    assert_eq!(parse("深蓝色").attributes.get("color").map(String::as_str), Some("navy"));
}

#[test]
fn currencies_and_rates() {
    let cny = catalog("CNY");
    let cfg = GuideConfig::default();
    let p = parse_in(&cny, &cfg, "under $50");
    assert_eq!(p.max_price, Some(360.0));
    assert!(p.price_note.as_deref().is_some_and(|n| n.contains("1 USD = 7.2 CNY")), "{p:?}");
    let gbp = catalog("GBP");
    for t in ["under £5", "5英镑以内", "less than 5 pounds", "under 5 gbp"] {
        let p = parse_in(&gbp, &cfg, t);
        assert_eq!(p.max_price, Some(5.0), "{t}: {p:?}");
        assert_eq!(p.currency.as_deref(), Some("GBP"));
        assert!(p.price_note.is_none(), "{t}: {p:?}");
    }
    let p = parse_in(&gbp, &cfg, "under €10");
    // 10 EUR = 10 / 0.92 * 0.79 GBP
    assert_eq!(p.max_price, Some(8.59), "{p:?}");
    assert!(p.price_note.as_deref().is_some_and(|n| n.contains("€10") && n.contains("£8.59")), "{p:?}");
    let p = parse_in(&gbp, &cfg, "100元以内");
    assert_eq!(p.max_price, Some(10.97), "{p:?}");
    let mut own = GuideConfig::default();
    own.rates.insert("GBP".into(), 0.5);
    own.rates.insert("CNY".into(), 5.0);
    let p = parse_in(&gbp, &own, "100 RMB or less");
    assert_eq!(p.max_price, Some(10.0), "{p:?}");
    assert!(p.price_note.as_deref().is_some_and(|n| n.contains("1 CNY = 0.1 GBP")), "{p:?}");
}

#[test]
fn learned_nouns_imply_their_subcategory() {
    let items = vec![
        item("c1", "炉火 不粘炒锅 Non-stick Wok", "Home/Cookware", "Hearth", &[], 199.0),
        item("c2", "炉火 加厚汤锅 Stock Pot", "Home/Cookware", "Hearth", &[], 299.0),
        item("c3", "北舍 少油烟炒锅 Wok", "Home/Cookware", "Nordhaus", &[], 159.0),
        item("k1", "匠心 锻打菜刀 Chef Knife", "Home/Knives", "Jiangxin", &[], 129.0),
        item("k2", "匠心 切片刀 Slicing Knife", "Home/Knives", "Jiangxin", &[], 99.0),
        item("s1", "山野 自热火锅 Hotpot", "Food/Snacks", "Shanye", &[], 39.0),
    ];
    let cat = Catalog::new(&items, Vec::new(), Some("CNY"), daogou_guide::nouns::NounParams::default());
    let cfg = GuideConfig::default();
    // 锅 ends three cookware titles and one snack: 0.75, over the default purity (0.7).
    assert_eq!(parse_in(&cat, &cfg, "我想买个锅").categories, vec!["Home/Cookware".to_string()]);
    assert_eq!(parse_in(&cat, &cfg, "我想买个少油烟炒锅").categories, vec!["Home/Cookware".to_string()]);
    assert_eq!(parse_in(&cat, &cfg, "a wok under 300").categories, vec!["Home/Cookware".to_string()]);
    assert_eq!(parse_in(&cat, &cfg, "a knife under 200").categories, vec!["Home/Knives".to_string()]);
    assert_eq!(parse_in(&cat, &cfg, "knives, not a wok").exclude_categories, vec!["Home/Cookware".to_string()]);
    let strict = Catalog::new(
        &items,
        Vec::new(),
        Some("CNY"),
        daogou_guide::nouns::NounParams { min_purity: 0.8, min_support: 2 },
    );
    assert!(parse_in(&strict, &cfg, "我想买个锅").categories.is_empty());
}

#[test]
fn a_narrower_category_before_a_wider_one_is_meant() {
    let items = vec![
        item("b1", "Business Strategy", "Books/Business", "Press", &[], 59.0),
        item("b2", "Space Opera", "Books/Fiction", "Press", &[], 39.0),
        item("l1", "Ultrabook 14", "Electronics/Laptops", "Nova", &[], 5999.0),
    ];
    let cat = Catalog::new(&items, Vec::new(), Some("CNY"), daogou_guide::nouns::NounParams::default());
    let cfg = GuideConfig::default();
    let p = parse_in(&cat, &cfg, "business books");
    assert_eq!(p.categories, vec!["Books/Business".to_string()], "{p:?}");
    // Unrelated categories side by side: the first only modifies the second.
    let p = parse_in(&cat, &cfg, "business laptops");
    assert_eq!(p.categories, vec!["Electronics/Laptops".to_string()], "{p:?}");
    assert!(p.keywords.contains(&"business".to_string()), "{p:?}");
}

#[test]
fn product_terms_of_a_catalogue_without_categories() {
    let items: Vec<Item> = [
        "LUNCH BAG RED RETROSPOT",
        "LUNCH BAG  BLACK SKULL.",
        "JUMBO BAG PINK POLKADOT",
        "JUMBO BAG RED RETROSPOT",
        "WHITE HANGING HEART T-LIGHT HOLDER",
        "RED HANGING HEART T-LIGHT HOLDER",
    ]
    .iter()
    .enumerate()
    .map(|(k, t)| {
        let mut it = Item::new(format!("r{k}"));
        it.title = (*t).to_owned();
        it.price = Some(1.65 + k as f64);
        it
    })
    .collect();
    let cat = Catalog::new(&items, Vec::new(), Some("GBP"), daogou_guide::nouns::NounParams::default());
    let cfg = GuideConfig::default();
    let p = parse_in(&cat, &cfg, "red lunch bag under £3");
    assert_eq!(p.attributes.get(PRODUCT).map(String::as_str), Some("lunch bag"), "{p:?}");
    assert_eq!(p.attributes.get("color").map(String::as_str), Some("red"), "{p:?}");
    assert_eq!(p.max_price, Some(3.0));
    let p = parse_in(&cat, &cfg, "t-light holders, not white");
    assert_eq!(p.attributes.get(PRODUCT).map(String::as_str), Some("t-light holder"), "{p:?}");
    assert_eq!(p.exclude_attributes.get("color").map(String::as_str), Some("white"), "{p:?}");
    // The last term named is the product; the ones before it only rank.
    let p = parse_in(&cat, &cfg, "retrospot jumbo bag");
    assert_eq!(p.attributes.get(PRODUCT).map(String::as_str), Some("jumbo bag"), "{p:?}");
    assert!(p.keywords.contains(&"retrospot".to_string()), "{p:?}");
    let p = parse_in(&cat, &cfg, "a bag but not a lunch bag");
    assert_eq!(p.attributes.get(PRODUCT).map(String::as_str), Some("bag"), "{p:?}");
    assert_eq!(p.exclude_attributes.get(PRODUCT).map(String::as_str), Some("lunch bag"), "{p:?}");
}

#[test]
fn chinese_numerals() {
    assert_eq!(zh_number("三百"), Some(300.0));
    assert_eq!(zh_number("两千五百"), Some(2500.0));
    assert_eq!(zh_number("十五"), Some(15.0));
    assert_eq!(zh_number("一万"), Some(10000.0));
    assert_eq!(convert_zh_numbers("三百块以内的跑鞋"), "300块以内的跑鞋");
    assert_eq!(convert_zh_numbers("像第二个那样的"), "像第二个那样的");
    assert_eq!(convert_zh_numbers("七夕礼物"), "七夕礼物");
}

#[test]
fn keywords_drop_stop_words() {
    let k = keywords("i want some lightweight 轻量的 shoes");
    assert!(k.contains(&"lightweight".to_string()) && k.contains(&"shoes".to_string()), "{k:?}");
    assert!(k.contains(&"轻量".to_string()), "{k:?}");
    assert!(!k.contains(&"want".to_string()) && !k.contains(&"的".to_string()), "{k:?}");
}

#[test]
fn filler_gaps() {
    assert!(is_filler(" ", false));
    assert!(is_filler(" the ", false));
    assert!(!is_filler(" running ", false));
    assert!(is_filler(" or ", true));
    assert!(!is_filler(" ordinary ", true));
}

fn plain(id: &str, title: &str, brand: &str, attrs: &[(&str, &str)]) -> Item {
    let mut it = Item::new(id);
    it.title = title.to_owned();
    it.price = Some(100.0);
    if !brand.is_empty() {
        it.brand = Some(brand.to_owned());
    }
    for (k, v) in attrs {
        it.attributes.insert((*k).to_owned(), (*v).to_owned());
    }
    it
}

#[test]
fn every_chinese_name_of_a_brand_is_understood() {
    // One brand (names compare without case) with two Chinese names on different items.
    let items = vec![
        plain("a", "格男仕 男士衬衫", "GENanX", &[("brand_zh", "格男仕")]),
        plain("b", "闪电潮牌 男士T恤", "GENANX", &[("brand_zh", "闪电潮牌")]),
        plain("c", "其他 男士衬衫", "Other", &[("brand_zh", "其他牌")]),
    ];
    let cat = Catalog::new(&items, Vec::new(), Some("CNY"), daogou_guide::nouns::NounParams::default());
    for t in ["男士衬衫 不要格男仕", "男士衬衫 不要闪电潮牌", "男士衬衫 不要GENANX"] {
        let p = parse_in(&cat, &GuideConfig::default(), t);
        assert_eq!(p.exclude_brands, vec!["GENanX".to_string()], "{t}: {p:?}");
    }
    let p = parse_in(&cat, &GuideConfig::default(), "闪电潮牌的T恤");
    assert_eq!(p.brands, vec!["GENanX".to_string()], "{p:?}");
}

#[test]
fn a_word_both_brand_and_material_is_read_as_the_catalogue_bears_out() {
    // A brand 亚麻 with one item, and six items of linen (亚麻).
    let mut items = vec![plain("o", "亚麻籽油", "亚麻", &[])];
    for i in 0..6 {
        items.push(plain(&format!("l{i}"), "休闲五分裤", "Linenco", &[("material", "亚麻")]));
    }
    let cat = Catalog::new(&items, Vec::new(), Some("CNY"), daogou_guide::nouns::NounParams::default());
    let p = parse_in(&cat, &GuideConfig::default(), "亚麻的五分裤");
    assert!(p.brands.is_empty(), "{p:?}");
    assert_eq!(p.attributes.get("material").map(String::as_str), Some("linen"), "{p:?}");
    let p = parse_in(&cat, &GuideConfig::default(), "不要亚麻的五分裤");
    assert!(p.exclude_brands.is_empty() && p.exclude_attributes.contains_key("material"), "{p:?}");
    // A brand word next to it asks for the brand.
    let p = parse_in(&cat, &GuideConfig::default(), "亚麻牌的油");
    assert_eq!(p.brands, vec!["亚麻".to_string()], "{p:?}");
    assert!(!p.attributes.contains_key("material"), "{p:?}");
    // When the brand has more items than the material, the brand.
    let mut items = vec![plain("x", "休闲五分裤", "Linenco", &[("material", "亚麻")])];
    for i in 0..3 {
        items.push(plain(&format!("o{i}"), "亚麻籽油", "亚麻", &[]));
    }
    let cat = Catalog::new(&items, Vec::new(), Some("CNY"), daogou_guide::nouns::NounParams::default());
    let p = parse_in(&cat, &GuideConfig::default(), "亚麻的油");
    assert_eq!(p.brands, vec!["亚麻".to_string()], "{p:?}");
}

#[test]
fn a_category_then_a_noun_its_titles_hold_keeps_the_category() {
    let mut items = Vec::new();
    for i in 0..3 {
        items.push(item(&format!("s{i}"), "Snack Box", "Food/Snacks", "Crunch", &[], 30.0));
    }
    items.push(item("b1", "Large Storage Box", "Home/Storage", "Nest", &[("color", "white")], 60.0));
    items.push(item("b2", "Storage Rack", "Home/Storage", "Nest", &[("color", "grey")], 90.0));
    items.push(item("c1", "Hydrating Face Cream", "Beauty/Skincare", "Petal", &[], 200.0));
    items.push(item("c2", "Brightening Serum", "Beauty/Skincare", "Petal", &[], 300.0));
    let cat = Catalog::new(&items, Vec::new(), Some("CNY"), daogou_guide::nouns::NounParams::default());
    let p = parse_in(&cat, &GuideConfig::default(), "storage box");
    assert_eq!(p.categories, vec!["Home/Storage".to_string()], "{p:?}");
    assert!(p.keywords.contains(&"box".to_string()), "{p:?}");
    // "business laptop" stays as it was: the first category's titles do not hold the
    // second, so the second is the head.
    let p = parse_in(&cat, &GuideConfig::default(), "snacks storage");
    assert_eq!(p.categories, vec!["Home/Storage".to_string()], "{p:?}");
    // A colour word asked of a category whose items have no colour is a product word.
    let p = parse_in(&cat, &GuideConfig::default(), "face cream from skincare");
    assert!(!p.attributes.contains_key("color"), "{p:?}");
    assert!(p.keywords.contains(&"cream".to_string()), "{p:?}");
    let p = parse_in(&cat, &GuideConfig::default(), "storage in cream");
    assert_eq!(p.attributes.get("color").map(String::as_str), Some("cream"), "{p:?}");
}

#[test]
fn a_budget_said_to_be_approximate_is_around() {
    assert_eq!(bounds("预算400左右的耳机"), (Some(320.0), Some(480.0)));
    assert_eq!(bounds("预算400的耳机"), (None, Some(400.0)));
}

#[test]
fn a_modifier_only_one_narrower_category_holds_narrows_the_head() {
    let items = vec![
        item("s1", "高景观婴儿推车", "Baby/Strollers", "A", &[], 900.0),
        item("s2", "可躺婴儿推车", "Baby/Strollers", "A", &[], 800.0),
        item("s3", "轻便伞车", "Baby/Strollers", "B", &[], 400.0),
        item("t1", "益智遥控车", "Baby/Toys", "C", &[], 200.0),
        item("t2", "无毒遥控车", "Baby/Toys", "C", &[], 150.0),
    ];
    let cat = Catalog::new(&items, Vec::new(), Some("CNY"), daogou_guide::nouns::NounParams::default());
    // 车 alone is in strollers and toys: the parent.
    assert_eq!(parse_in(&cat, &GuideConfig::default(), "买个车").categories, vec!["Baby".to_string()]);
    let p = parse_in(&cat, &GuideConfig::default(), "伞车 最便宜的");
    assert_eq!(p.categories, vec!["Baby/Strollers".to_string()], "{p:?}");
}

#[test]
fn a_negation_chains_only_to_things_of_the_same_kind() {
    let p = parse("no Sonora or Zen");
    assert_eq!(p.exclude_brands, vec!["Sonora".to_string(), "Zen".to_string()], "{p:?}");
    let p = parse("not from Sonora, cork");
    assert_eq!(p.exclude_brands, vec!["Sonora".to_string()], "{p:?}");
    assert_eq!(p.attributes.get("material").map(String::as_str), Some("cork"), "{p:?}");
    assert!(!p.exclude_attributes.contains_key("material"), "{p:?}");
    let p = parse("不要樱花粉、天蓝色的耳机");
    assert!(
        p.exclude_attributes.get("color").is_some_and(|c| c.contains("sakura pink") && c.contains("sky blue")),
        "{p:?}"
    );
}
