//! Product search: bilingual matching, synonyms, typos, field boosts, keeping in step.

use daogou_core::Item;
use daogou_guide::{Guide, GuideConfig};

fn cat_of(items: &[Item], i: u32) -> &str {
    items[i as usize].category.as_deref().unwrap_or("")
}

#[test]
fn chinese_and_english_queries_find_the_same_products() {
    let (items, g) = crate::shop();
    for q in ["跑鞋", "running shoes", "跑步鞋", "runing shoes"] {
        let hits = g.search(q, 5).unwrap();
        assert_eq!(hits.len(), 5, "{q}");
        for &(i, _) in &hits {
            assert_eq!(cat_of(items, i), "Sports & Outdoors/Running Shoes", "{q}: {}", items[i as usize].title);
        }
        assert!(hits.windows(2).all(|w| w[0].1 >= w[1].1), "{q}: best first");
    }
    // Synonym across languages: an English word finds Chinese-named items and back.
    let hits = g.search("耳机", 20).unwrap();
    assert!(hits
        .iter()
        .all(|&(i, _)| cat_of(items, i).contains("Headphones") || cat_of(items, i).contains("Headsets")));
    let hits = g.search("earbuds", 3).unwrap();
    assert!(!hits.is_empty() && hits.iter().all(|&(i, _)| cat_of(items, i) == "Electronics/Headphones"));
}

#[test]
fn title_outranks_description_and_brand_finds_its_items() {
    let (items, g) = crate::shop();
    let hits = g.search("Swiftstep", 10).unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|&(i, _)| items[i as usize].brand.as_deref() == Some("Swiftstep")));
    let hits = g.search("迅步", 10).unwrap();
    assert!(hits.iter().all(|&(i, _)| items[i as usize].brand.as_deref() == Some("Swiftstep")));
}

#[test]
fn upsert_and_remove_keep_the_index_in_step() {
    let (items, _) = crate::shop();
    let g = Guide::new(&items[..50], GuideConfig::default()).unwrap();
    assert!(g.search("zorblax", 5).unwrap().is_empty());
    let mut it = Item::new("new-1");
    it.title = "Zorblax 登山杖 Trekking Pole".into();
    it.category = Some("Sports & Outdoors/Trekking Poles".into());
    it.price = Some(99.0);
    g.upsert(50, &it).unwrap();
    assert_eq!(g.search("zorblax", 5).unwrap(), vec![(50, g.search("zorblax", 5).unwrap()[0].1)]);
    assert_eq!(g.search("登山杖", 5).unwrap()[0].0, 50);
    // an item past the end leaves empty slots before it, never found
    let mut far = it.clone();
    far.title = "Plimbo 登山杖 Trekking Pole".into();
    g.upsert(60, &far).unwrap();
    assert_eq!(g.len(), 61);
    assert_eq!(g.search("plimbo", 5).unwrap()[0].0, 60);
    assert!(g.search("登山杖", 10).unwrap().iter().all(|&(i, _)| i == 50 || i == 60));
    // Replacing the item replaces its text.
    it.title = "Quuxly Trekking Pole".into();
    g.upsert(50, &it).unwrap();
    assert!(g.search("zorblax", 5).unwrap().is_empty());
    assert_eq!(g.search("quuxly", 5).unwrap()[0].0, 50);
    g.remove(50).unwrap();
    assert!(g.search("quuxly", 5).unwrap().is_empty());
    assert!(g.remove(500).is_err(), "removing past the end is an error");
}
