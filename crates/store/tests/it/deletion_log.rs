//! The deletion log's hashes and entries.

use daogou_store::*;

#[test]
fn hashes_are_keyed_hmac_sha256_and_round_trip_as_hex() {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?" (the key is
    // padded to 32 bytes with zeros, which HMAC does itself for short keys)
    let mut key = [0u8; 32];
    key[..4].copy_from_slice(b"Jefe");
    let h = DeletionKey::from_bytes(key).hash("what do ya want for nothing?");
    assert_eq!(h.to_string(), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    assert_eq!(h.to_string().parse::<UserHash>().unwrap(), h);
    assert!("xyz".parse::<UserHash>().is_err());
    let other = DeletionKey::random().unwrap();
    assert_ne!(other.hash("what do ya want for nothing?"), h);
    assert_eq!(DeletionKey::from_hex(&other.to_hex()).unwrap(), other);
    assert!(!format!("{other:?}").contains(&other.to_hex()[..8]));
}

#[test]
fn the_log_answers_by_id_and_keeps_the_latest_time() {
    let key = DeletionKey::random().unwrap();
    let log = DeletionLog::new(key.clone(), [(key.hash("a"), 10), (key.hash("b"), 5), (key.hash("a"), 7)]);
    assert_eq!((log.deleted_at("a"), log.deleted_at("b"), log.deleted_at("c")), (Some(10), Some(5), None));
    assert!(log.deleted_since("a", 10) && !log.deleted_since("a", 11));
    assert_eq!(log.len(), 2);
}
