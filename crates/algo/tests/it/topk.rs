use daogou_algo::topk::*;

#[test]
fn picks_best_and_skips_excluded() {
    let s = [0.1, 0.9, f32::NAN, 0.5, 0.9, f32::NEG_INFINITY, 0.7];
    let t = top_k(&s, 3, |i| i == 4);
    assert_eq!(t, vec![(1, 0.9), (6, 0.7), (3, 0.5)]);
    assert_eq!(top_k(&s, 0, |_| false), vec![]);
    assert_eq!(top_k(&s, 10, |_| false).len(), 5);
}

#[test]
fn pairs_in_any_order_give_the_dense_answer() {
    // ties on purpose (scores from a few levels), so index order decides
    let mut x = 12345u64;
    let scores: Vec<f32> = (0..500)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 7) as f32 * 0.5
        })
        .collect();
    let mut pairs: Vec<(u32, f32)> = scores.iter().enumerate().map(|(i, &s)| (i as u32, s)).collect();
    pairs.reverse();
    pairs.rotate_left(123);
    for k in [1, 10, 37, 499, 600] {
        let dense = top_k(&scores, k, |i| i % 3 == 0);
        let sparse = top_k_by(pairs.iter().map(|&(i, s)| (i, s, i * 2)), k, |i| i % 3 == 0);
        assert_eq!(sparse.iter().map(|&(i, s, _)| (i, s)).collect::<Vec<_>>(), dense, "k {k}");
        assert!(sparse.iter().all(|&(i, _, t)| t == i * 2), "payloads travel with their items");
        assert!(dense.windows(2).all(|w| w[0].1 > w[1].1 || (w[0].1 == w[1].1 && w[0].0 < w[1].0)));
    }
}
