use daogou_core::*;

#[test]
fn typed_access_and_unknown_keys() {
    let p = Params::parse(["k=40", "similarity = pearson"]).unwrap();
    assert_eq!(p.get("k", 10usize).unwrap(), 40);
    assert_eq!(p.get("shrinkage", 0.0f32).unwrap(), 0.0);
    assert_eq!(p.raw("similarity"), Some("pearson"));
    assert!(p.get::<usize>("similarity", 0).is_err());
    let err = p.check_known("user-knn", &["k"]).unwrap_err().to_string();
    assert!(err.contains("similarity") && err.contains("user-knn"), "{err}");
    assert!(Params::parse(["oops"]).is_err());
}
