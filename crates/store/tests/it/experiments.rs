//! Experiment buckets and salts.

use daogou_store::*;

#[test]
fn buckets_are_uniform_keyed_and_per_experiment() {
    let salt = ExperimentSalt::from_bytes([7; 32]);
    let n = 20_000;
    let below: usize = (0..n).filter(|u| salt.bucket("e", &format!("u{u}")) < 0.3).count();
    assert!((below as f64 / n as f64 - 0.3).abs() < 0.015, "{below}");
    assert_eq!(salt.bucket("e", "u1"), salt.bucket("e", "u1"));
    assert_ne!(salt.bucket("e", "u1"), salt.bucket("f", "u1"));
    assert_ne!(salt.bucket("e", "u1"), ExperimentSalt::from_bytes([8; 32]).bucket("e", "u1"));
    // the separator keeps ("ab", "c") and ("a", "bc") apart
    assert_ne!(salt.bucket("ab", "c"), salt.bucket("a", "bc"));
    assert!(!format!("{salt:?}").contains('7'));
    let a = ExperimentSalt::from_secret("a configured secret");
    assert_eq!(a, ExperimentSalt::from_secret("a configured secret"));
    assert_ne!(a, ExperimentSalt::from_secret("another secret!!"));
}
