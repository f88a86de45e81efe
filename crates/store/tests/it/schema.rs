//! Event kinds and their stored codes.

use daogou_core::EventKind;
use daogou_store::*;

#[test]
fn kind_codes_roundtrip_and_match_the_check_constraint() {
    for k in EventKind::ALL {
        let c = kind_code(k);
        assert!((0..=6).contains(&c));
        assert_eq!(kind_from_code(c).unwrap(), k);
    }
    assert!(matches!(kind_from_code(7), Err(StoreError::Corrupt(_))));
    assert!(matches!(kind_from_code(-1), Err(StoreError::Corrupt(_))));
}
