use daogou_eval::metrics::*;

#[test]
fn rating_error() {
    let m = rating_metrics([(3.0, 4.0), (5.0, 5.0), (2.0, 4.0)]);
    assert!((m.mae - 1.0).abs() < 1e-12);
    assert!((m.rmse - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
}

#[test]
fn per_user_metrics_by_hand() {
    // list: 5, 1, 7 (k=3); relevant {1, 9}; scores rank 9 fourth.
    let mut scores = vec![0.0f32; 10];
    scores[5] = 0.9;
    scores[1] = 0.8;
    scores[7] = 0.7;
    scores[9] = 0.6;
    let info = vec![1.0; 10];
    let s = score_user(&[5, 1, 7], &[1, 9], &scores, 3, &info, None);
    assert!((s.precision - 1.0 / 3.0).abs() < 1e-12);
    assert!((s.recall - 0.5).abs() < 1e-12);
    let idcg = 1.0 + 1.0 / 3f64.log2();
    assert!((s.ndcg - (1.0 / 3f64.log2()) / idcg).abs() < 1e-12);
    assert!((s.ap - (0.5 / 2.0)).abs() < 1e-12);
    assert!((s.rr - 0.5).abs() < 1e-12);
    assert_eq!(s.hit, 1.0);
}

#[test]
fn diversity_counts_pairs_of_different_categories() {
    let cat = vec![Some(0), Some(0), Some(1), None];
    assert_eq!(intra_list_diversity(&[0, 1, 2], &cat), Some(2.0 / 3.0));
    assert_eq!(intra_list_diversity(&[0, 3], &cat), None);
}
