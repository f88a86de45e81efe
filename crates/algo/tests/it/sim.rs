use daogou_algo::sim::*;
use daogou_core::Params;

#[test]
fn keep_top_is_ordered_and_deterministic() {
    let mut c = vec![(0.5f32, 3u32, ()), (0.9, 7, ()), (0.5, 1, ()), (0.1, 0, ())];
    keep_top(&mut c, 3);
    let ids: Vec<u32> = c.iter().map(|x| x.1).collect();
    assert_eq!(ids, vec![7, 1, 3]);
}

#[test]
fn history_is_sorted_deduplicated_and_bounded() {
    let (i, v) = clean_history(&[(3, 1.0), (1, 2.0), (3, 5.0), (99, 1.0)], 10);
    assert_eq!(i, vec![1, 3]);
    assert_eq!(v, vec![2.0, 5.0]);
}

#[test]
fn choice_and_bool_params_validate() {
    let p = Params::parse(["similarity=Pearson", "binary=yes", "bad=maybe"]).unwrap();
    assert_eq!(get_choice(&p, "similarity", "cosine", &["cosine", "pearson"]).unwrap(), "pearson");
    assert!(get_bool(&p, "binary", false).unwrap());
    assert!(get_bool(&p, "bad", false).is_err());
    let p = Params::parse(["similarity=jaccard"]).unwrap();
    let e = get_choice(&p, "similarity", "cosine", &["cosine", "pearson"]).unwrap_err().to_string();
    assert!(e.contains("jaccard") && e.contains("pearson"), "{e}");
}
