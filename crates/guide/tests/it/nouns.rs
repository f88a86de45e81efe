//! Product nouns learned from the catalogue's titles.

use std::collections::HashMap;

use daogou_guide::nouns::*;

fn counts(rows: &[(&str, u32)]) -> NounCounts {
    let mut c = NounCounts::default();
    for (title, cat) in rows {
        c.update(title, *cat, true);
    }
    c
}

const COOKWARE: u32 = 0;
const RUNNING: u32 = 1;
const HIKING: u32 = 2;
const SNACKS: u32 = 3;
// The top levels: Home holds cookware, Sports running and hiking, Food snacks.
const HOME: u32 = 4;
const SPORTS: u32 = 5;
const FOOD: u32 = 6;

fn parent(c: u32) -> Option<u32> {
    match c {
        COOKWARE => Some(HOME),
        RUNNING | HIKING => Some(SPORTS),
        SNACKS => Some(FOOD),
        _ => None,
    }
}

fn shop() -> NounCounts {
    counts(&[
        ("炉火 不粘炒锅 Non-stick Wok", COOKWARE),
        ("炉火 加厚汤锅 Stock Pot", COOKWARE),
        ("北舍 平底锅 Frying Pan", COOKWARE),
        ("匠心 少油烟炒锅 Wok", COOKWARE),
        ("Swiftstep 轻量跑鞋 Running Shoes", RUNNING),
        ("Aerofit 缓震跑鞋 Running Shoes", RUNNING),
        ("Peak 防水登山鞋 Hiking Boots", HIKING),
        ("Peak 徒步鞋 Hiking Shoes", HIKING),
        ("山野 自热火锅", SNACKS),
        // 礼盒 / gift box: one in each top level.
        ("山野 坚果礼盒 Nut Gift Box", SNACKS),
        ("匠心 锅具礼盒 Cookware Gift Box", COOKWARE),
        ("Aerofit 跑鞋礼盒 Running Gift Box", RUNNING),
    ])
}

fn learned(c: &NounCounts, p: NounParams) -> HashMap<String, Learned> {
    c.learn(p, |s| matches!(s, "炉火" | "北舍" | "匠心" | "swiftstep" | "aerofit" | "peak" | "山野"), parent)
        .into_iter()
        .collect()
}

#[test]
fn candidates_take_words_pairs_and_chinese_endings() {
    let c = candidates("炉火 不粘炒锅 Non-stick Wok");
    for t in ["non-stick", "wok", "non-stick wok", "锅", "炒锅", "粘炒锅", "不粘炒锅"] {
        assert!(c.contains(&t.to_string()), "{t}: {c:?}");
    }
    // No pair across punctuation, no stop words, no numbers.
    let c = candidates("HAND WARMER, UNION JACK 12 PC");
    assert!(c.contains(&"hand warmer".to_string()) && c.contains(&"union jack".to_string()), "{c:?}");
    assert!(!c.iter().any(|t| t == "warmer union" || t == "12" || t == "pc"), "{c:?}");
    assert!(!candidates("a set of the best").iter().any(|t| t == "the" || t == "best"));
    // A comma written without a space joins a pair, as a space does.
    let c = candidates("SET 3 RETROSPOT TEA,COFFEE,SUGAR");
    assert!(c.contains(&"tea coffee".to_string()) && c.contains(&"coffee sugar".to_string()), "{c:?}");
}

#[test]
fn a_pure_noun_implies_its_subcategory() {
    let l = learned(&shop(), NounParams { min_purity: 0.75, min_support: 2 });
    // 锅 ends four cookware titles and one snack (自热火锅): 0.8 pure.
    assert_eq!(l.get("锅"), Some(&Learned::Category(COOKWARE)));
    assert_eq!(l.get("炒锅"), Some(&Learned::Category(COOKWARE)));
    assert_eq!(l.get("wok"), Some(&Learned::Category(COOKWARE)));
    assert_eq!(l.get("跑鞋"), Some(&Learned::Category(RUNNING)));
    // Known names (brands) are left alone.
    assert_eq!(l.get("炉火"), None);
}

#[test]
fn a_noun_spread_over_several_subcategories_implies_none_of_them() {
    let l = learned(&shop(), NounParams { min_purity: 0.75, min_support: 2 });
    // 礼盒 / gift box: one title in each of three top levels: nothing at all.
    for t in ["礼盒", "gift box", "box", "gift"] {
        assert_eq!(l.get(t), None, "{t}: {l:?}");
    }
    // 鞋 and shoes: running and hiking shoes, no single subcategory; both are sports.
    assert_eq!(l.get("鞋"), Some(&Learned::Category(SPORTS)), "{l:?}");
    assert_eq!(l.get("shoes"), Some(&Learned::Category(SPORTS)), "{l:?}");
}

#[test]
fn thresholds_decide() {
    // Purity: 锅 is 4 of 5 cookware; at 0.9 it implies no subcategory (and no top level:
    // cookware and snacks are in different ones).
    let strict = learned(&shop(), NounParams { min_purity: 0.9, min_support: 2 });
    assert_eq!(strict.get("锅"), None);
    assert_eq!(strict.get("炒锅"), Some(&Learned::Category(COOKWARE)));
    // Support: 汤锅 is in one title.
    let one = learned(&shop(), NounParams { min_purity: 0.75, min_support: 1 });
    assert_eq!(one.get("汤锅"), Some(&Learned::Category(COOKWARE)));
    assert_eq!(learned(&shop(), NounParams { min_purity: 0.75, min_support: 2 }).get("汤锅"), None);
}

#[test]
fn counts_follow_replaced_items() {
    let mut c = shop();
    // The snack leaves: 锅 becomes pure cookware even at 0.9.
    c.update("山野 自热火锅", SNACKS, false);
    let l = learned(&c, NounParams { min_purity: 0.9, min_support: 2 });
    assert_eq!(l.get("锅"), Some(&Learned::Category(COOKWARE)));
}

#[test]
fn without_categories_frequent_terms_are_product_terms() {
    let c = counts(&[
        ("LUNCH BAG RED RETROSPOT", NO_CAT),
        ("LUNCH BAG  BLACK SKULL.", NO_CAT),
        ("JUMBO BAG PINK POLKADOT", NO_CAT),
        ("WHITE HANGING HEART T-LIGHT HOLDER", NO_CAT),
        ("RED HANGING HEART T-LIGHT HOLDER", NO_CAT),
        ("SCENTED CANDLES", NO_CAT),
        ("PINK CANDLE", NO_CAT),
    ]);
    assert!(!c.categorised());
    let colour = |s: &str| matches!(s, "red" | "black" | "pink" | "white");
    let l: HashMap<String, Learned> = c.learn(NounParams::default(), colour, |_| None).into_iter().collect();
    for t in ["lunch bag", "bag", "t-light holder", "hanging heart", "candle"] {
        assert_eq!(l.get(t), Some(&Learned::Product), "{t}: {l:?}");
    }
    // Plurals fold into the singular; colours and pairs with a colour are left alone.
    assert_eq!(l.get("candles"), None);
    assert_eq!(l.get("red"), None);
    assert_eq!(l.get("bag red"), None);
    // Seen once: not enough support.
    assert_eq!(l.get("jumbo bag"), None);
}
