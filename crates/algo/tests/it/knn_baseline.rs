use crate::svd::{ml_fold, planted, rmse};
use daogou_algo::knn_baseline::*;
use daogou_algo::*;
use daogou_core::{Aggregate, Interaction, Interactions, Params, SeededRng};

/// Surprise's KNNBaseline (item based, pearson_baseline), written plainly over a dense
/// matrix: O(n_items² · n_users) similarities.
fn reference(r: &[Vec<Option<f32>>], base: &Baseline, k: usize, shrink: f64, u: usize, i: usize) -> f64 {
    let (nu, ni) = (r.len(), r[0].len());
    let b = |u: usize, i: usize| base.global_mean() + base.user_bias(u as u32) + base.item_bias(i as u32);
    let sim = |x: usize, y: usize| -> f64 {
        let common: Vec<usize> = (0..nu).filter(|&v| r[v][x].is_some() && r[v][y].is_some()).collect();
        if common.is_empty() {
            return 0.0;
        }
        let (mut p, mut sx, mut sy) = (0.0, 0.0, 0.0);
        for &v in &common {
            let dx = f64::from(r[v][x].unwrap()) - b(v, x);
            let dy = f64::from(r[v][y].unwrap()) - b(v, y);
            p += dx * dy;
            sx += dx * dx;
            sy += dy * dy;
        }
        let n = common.len() as f64;
        if sx * sy <= 0.0 || n - 1.0 + shrink <= 0.0 {
            return 0.0;
        }
        f64::from((p / (sx * sy).sqrt() * (n - 1.0) / (n - 1.0 + shrink)) as f32)
    };
    let mut nb: Vec<(f64, usize)> = (0..ni).filter(|&j| j != i && r[u][j].is_some()).map(|j| (sim(i, j), j)).collect();
    nb.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap().then(a.1.cmp(&b.1)));
    nb.truncate(k);
    let (mut num, mut den) = (0.0, 0.0);
    for &(s, j) in nb.iter().filter(|x| x.0 > 0.0) {
        num += s * (f64::from(r[u][j].unwrap()) - b(u, j));
        den += s;
    }
    b(u, i) + if den > 0.0 { num / den } else { 0.0 }
}

fn random_ratings(nu: usize, ni: usize, density: f64, seed: u64) -> Vec<Vec<Option<f32>>> {
    let mut rng = SeededRng::new(seed);
    (0..nu).map(|_| (0..ni).map(|_| (rng.f64() < density).then(|| 1.0 + rng.below(5) as f32)).collect()).collect()
}

fn to_matrix(r: &[Vec<Option<f32>>]) -> Interactions {
    let mut data = Vec::new();
    for (u, row) in r.iter().enumerate() {
        for (i, x) in row.iter().enumerate() {
            if let Some(x) = x {
                data.push(Interaction::new(u as u32, i as u32, *x));
            }
        }
    }
    Interactions::from_interactions(r.len(), r[0].len(), &data, Aggregate::Last)
}

#[test]
fn matches_the_plain_formula() {
    let r = random_ratings(40, 30, 0.35, 3);
    let m = to_matrix(&r);
    let t = TrainData::new(&m, true);
    for (k, shrink) in [(40usize, 100.0f64), (3, 0.0), (7, 5.0)] {
        let p = Params::new().with("k", k).with("shrinkage", shrink);
        let model = KnnBaseline::fit(&t, &p).unwrap();
        let mut scores = vec![0.0; 30];
        for u in 0..40u32 {
            model.score_user(u, &mut scores);
            for i in 0..30u32 {
                let want = reference(&r, &model.base, k, shrink, u as usize, i as usize);
                let got = model.predict(u, i);
                assert!((f64::from(got) - want.clamp(1.0, 5.0)).abs() < 1e-5, "k={k} ({u},{i}): {got} vs {want}");
                // top-N scores are the same numbers, unclipped
                assert_eq!(scores[i as usize], model.raw(u, i) as f32, "({u},{i})");
            }
        }
    }
    // capped neighbour lists (not symmetric) still score as they predict
    let model = KnnBaseline::fit(&t, &Params::new().with("max_neighbors", 4).with("shrinkage", 0)).unwrap();
    assert!(model.inv.is_some());
    let mut scores = vec![0.0; 30];
    model.score_user(5, &mut scores);
    for i in 0..30u32 {
        assert_eq!(scores[i as usize], model.raw(5, i) as f32);
    }
}

#[test]
fn beats_the_baseline_on_planted_data_and_folds_in() {
    let (m, test) = planted(300, 200, 0.3, 8);
    let t = TrainData::new(&m, true);
    let base = Baseline::fit(&t, &Params::new()).unwrap();
    let model = KnnBaseline::fit(&t, &Params::new()).unwrap();
    let (rb, rk) = (rmse(&base, &test), rmse(&model, &test));
    assert!(rk < rb - 0.05, "knn-baseline RMSE {rk} vs baseline {rb}");
    // a training user's own history scores as the user does (same b_u formula: the last
    // ALS step is the user step)
    let (is, rs) = m.user_row(11);
    let hist: Vec<(u32, f32)> = is.iter().copied().zip(rs.iter().copied()).collect();
    let (mut a, mut b) = (vec![0.0; 200], vec![0.0; 200]);
    model.score_history(&hist, &mut a);
    model.score_user(11, &mut b);
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-4, "{x} vs {y}");
    }
    // similar items are positive and sorted; explanations come from the history
    let sim = model.similar_items(3, 5).unwrap();
    assert!(sim.len() == 5 && sim.windows(2).all(|w| w[0].1 >= w[1].1) && sim[4].1 > 0.0, "{sim:?}");
    let why = model.explain(&hist, 3, 3);
    assert!(!why.is_empty() && why.iter().all(|&(j, s)| is.contains(&j) && s > 0.0), "{why:?}");
}

#[test]
fn validates_params_and_refuses_implicit_data() {
    let (m, _) = planted(10, 10, 0.5, 1);
    let t = TrainData::new(&m, true);
    for bad in [("k", "0"), ("shrinkage", "-1"), ("similarity", "cosine"), ("reg_u", "x")] {
        let e = KnnBaseline::fit(&t, &Params::new().with(bad.0, bad.1)).unwrap_err().to_string();
        assert!(e.contains(bad.0), "{bad:?}: {e}");
    }
    let e = KnnBaseline::fit(&TrainData::new(&m, false), &Params::new()).unwrap_err();
    assert!(e.to_string().contains("explicit"), "{e}");
}

#[test]
fn movielens_u1_rmse() {
    let Some((rmse, mae, secs)) = ml_fold("knn-baseline", 1) else {
        println!("SKIPPED: MovieLens-100k not found (set DAOGOU_DATASETS)");
        return;
    };
    println!("knn-baseline u1: RMSE {rmse:.4} MAE {mae:.4}, fit+predict {secs:.3}s");
    // Surprise KNNBaseline: 0.9359 on u1, where it predicts μ + b_u for the 32 test items
    // without training ratings (daogou's protocol: the global mean)
    assert!(rmse <= 0.936, "RMSE {rmse}");
}
