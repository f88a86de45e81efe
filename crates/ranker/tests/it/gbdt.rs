//! The gradient-boosted trees: they learn to rank and round-trip bit for bit.

use daogou_ranker::gbdt::{Gbdt, TreeParams};

#[test]
fn learns_to_rank_and_round_trips() {
    // 60 queries × 8 documents; relevance follows feature 0, feature 1 is noise
    let (groups, per) = (60usize, 8usize);
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    let mut x = 7u64;
    let mut noise = || {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (x >> 40) as f32 / (1u64 << 24) as f32
    };
    for _ in 0..groups {
        for d in 0..per {
            rows.push(d as f32 + noise());
            rows.push(noise());
            labels.push(if d >= per - 2 { 1.0 } else { 0.0 });
        }
    }
    let p =
        TreeParams { trees: 20, depth: 3, eta: 0.3, min_child_weight: 0.1, subsample: 1.0, colsample: 1.0, seed: 1 };
    let g = Gbdt::train(rows, 2, &labels, &vec![per; groups], &p).unwrap();
    assert!(g.predict(&[7.5, 0.5]) > g.predict(&[1.5, 0.5]));
    assert!(g.predict(&[f32::NAN, 0.5]).is_finite());
    let back = Gbdt::from_bytes(&g.to_bytes().unwrap(), 2).unwrap();
    for r in [[7.5f32, 0.1], [0.2, 0.9], [f32::NAN, 0.3]] {
        assert_eq!(g.predict(&r).to_bits(), back.predict(&r).to_bits());
    }
    let imp = g.importance();
    let gain = |f: usize| imp.iter().find(|x| x.0 == f).map_or(0.0, |x| x.1);
    assert!(gain(0) > gain(1), "{imp:?}");
}
