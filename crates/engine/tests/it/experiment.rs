use std::collections::BTreeMap;

use daogou_engine::experiment::*;
use daogou_engine::{Blend, DEFAULT_SESSION_HOURS};

#[test]
fn variants_follow_the_shares() {
    assert_eq!(pick_variant(&[1.0, 1.0], 0.49), 0);
    assert_eq!(pick_variant(&[1.0, 1.0], 0.5), 1);
    assert_eq!(pick_variant(&[0.2, 0.3, 0.5], 0.45), 1);
    assert_eq!(pick_variant(&[0.2, 0.3, 0.5], 0.999_999), 2);
}

#[test]
fn recommendation_ids_round_trip_and_reject_garbage() {
    assert_eq!(parse_recommendation_id(&recommendation_id(42)), Some(42));
    for bad in ["", "r", "42", "rx", "r-1", "r1 ", "r99999999999999999999"] {
        assert_eq!(parse_recommendation_id(bad), None, "{bad}");
    }
}

#[test]
fn a_variant_knob_replaces_the_request_knob() {
    let v = VariantDef {
        name: "b".into(),
        share: 1.0,
        model: None,
        params: BTreeMap::new(),
        popularity_weight: Some(2.0),
        novelty_weight: None,
        max_per_category: Some(3),
        explore: None,
        session_weight: Some(0.0),
    };
    let b = v.blend(&Blend { popularity: 0.5, novelty: 1.0, explore: 0.2, ..Blend::default() });
    assert_eq!((b.session_weight, b.session_hours), (0.0, DEFAULT_SESSION_HOURS));
    assert_eq!((b.popularity, b.novelty, b.max_per_category, b.explore), (2.0, 1.0, Some(3), 0.2));
}
