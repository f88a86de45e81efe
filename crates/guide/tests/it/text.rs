//! Text normalisation and tokens.

use daogou_guide::text::*;

#[test]
fn normalize_full_width_and_case() {
    assert_eq!(normalize("ＡＢＣ　３００元，Red！"), "abc 300元,red!");
}

#[test]
fn word_containment_respects_boundaries() {
    assert!(contains_word("red running shoes", "red"));
    assert!(contains_word("running shoes", "shoe"));
    assert!(!contains_word("bluewhale press", "blue"));
    assert!(contains_word("正红色", "红"));
    assert!(!contains_word("redo", "red"));
}

#[test]
fn analyzers_cut_chinese_and_stem_english() {
    let a = query_analyzer(true);
    let t = tokens(&a, "轻量跑鞋 Running Shoes");
    assert!(t.contains(&"跑鞋".to_string()), "{t:?}");
    assert!(t.contains(&"run".to_string()) && t.contains(&"shoe".to_string()), "{t:?}");
    assert!(!t.iter().any(|x| x.trim().is_empty()), "{t:?}");
}
