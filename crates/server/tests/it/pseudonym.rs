//! Pseudonyms of user ids: keyed HMAC-SHA256, and the legacy scheme recognised.

use daogou_server::pseudonym::*;

#[test]
fn hmac_sha256_pseudonyms() {
    // RFC 4231 test case 2 (HMAC-SHA256, key "Jefe"), first 128 bits
    assert_eq!(pseudonym("Jefe", "what do ya want for nothing?"), "h_5bdcc146bf60754e6a042426089575c7");
    let p = pseudonym("a secret of 16+ chars", "17850");
    assert_eq!(p.len(), 34);
    assert_eq!(p, pseudonym("a secret of 16+ chars", "17850"));
    assert_ne!(p, pseudonym("another secret, long", "17850"));
    assert_ne!(p, pseudonym("a secret of 16+ chars", "17851"));
    assert!(!is_legacy(&p));
    // the old scheme, frozen: the value daogou 0.1 stored for this id and secret
    let old = legacy_pseudonym("a secret of 16+ chars", "17850");
    assert_eq!(old, "p_ba0236d3eb4d93b1076cf8610567f144");
    assert!(is_legacy(&old) && !is_legacy("p_ba02") && !is_legacy("17850"));
}
