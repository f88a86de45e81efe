use crate::testutil::{hit_rate, planted_clusters};
use daogou_algo::als::*;
use daogou_algo::early_stop::EarlyStopping;
use daogou_algo::*;
use daogou_core::{Csr, Interactions, Params, SeededRng};

fn fit_with(m: &Interactions, p: Params) -> Als {
    Als::fit(&TrainData::new(m, false), &p).unwrap()
}

#[test]
fn ranks_planted_clusters_with_both_solvers() {
    let (m, held) = planted_clusters(400, 200, 5, 12, 3);
    for solver in ["cg", "cholesky"] {
        let model = fit_with(&m, Params::new().with("solver", solver).with("factors", 16).with("regularization", 1));
        let hr = hit_rate(&model, &m, &held, 10);
        assert!(hr > 0.3, "{solver}: hit rate@10 {hr} (random ≈ 0.05)");
        let sim = model.similar_items(7, 10).unwrap();
        assert_eq!(sim.len(), 10);
        assert!(sim.windows(2).all(|x| x[0].1 >= x[1].1));
        let same = sim.iter().filter(|(j, _)| j % 5 == 7 % 5).count();
        assert!(same >= 8, "{solver}: similar items of 7: {sim:?}");
    }
}

#[test]
fn fold_in_matches_the_training_user_and_explanations_add_up() {
    let (m, _) = planted_clusters(300, 100, 4, 10, 9);
    let model = fit_with(&m, Params::new().with("solver", "cholesky").with("factors", 8).with("iterations", 30));
    let (idx, val) = m.user_row(5);
    let history: Vec<(u32, f32)> = idx.iter().copied().zip(val.iter().copied()).collect();
    // the fold-in solves the same problem as the last user sweep (against nearly the
    // same item factors): the same factors up to the last item sweep's change
    let x = model.fold_in(&history).unwrap();
    let p = model.user_factor(5);
    let err: f32 = x.iter().zip(p).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    let norm: f32 = p.iter().map(|a| a.abs()).fold(0.0, f32::max);
    assert!(err < 0.05 * norm, "fold-in {x:?} vs trained {p:?}");
    let mut s = vec![0f32; 100];
    model.score_history(&history, &mut s);
    let top = daogou_algo::topk::top_k(&s, 1, |j| idx.contains(&j))[0].0;
    let parts = model.contributions(&history, top);
    let total: f64 = parts.iter().map(|x| x.1).sum();
    assert!((total - f64::from(s[top as usize])).abs() < 1e-4, "{total} vs {}", s[top as usize]);
    let why = model.explain(&history, top, 3);
    assert!(!why.is_empty() && why.len() <= 3 && why.windows(2).all(|x| x[0].1 >= x[1].1), "{why:?}");
    // an empty history (or one without positives) falls back to popularity, finitely
    model.score_history(&[(3, 0.0), (500, 1.0)], &mut s);
    assert!(s.iter().all(|x| x.is_finite()));
    assert!(model.explain(&[], 3, 3).is_empty());
}

#[test]
fn the_same_bits_for_any_number_of_threads() {
    let (m, _) = planted_clusters(200, 300, 4, 15, 5);
    let run = |threads: usize, solver: &str| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| fit_with(&m, Params::new().with("solver", solver).with("iterations", 4).with("seed", 3)))
    };
    for solver in ["cg", "cholesky"] {
        let (a, b) = (run(1, solver), run(3, solver));
        assert_eq!(a.user_factors, b.user_factors, "{solver}");
        assert_eq!(a.item_factors, b.item_factors, "{solver}");
    }
    let other = fit_with(&m, Params::new().with("iterations", 4).with("seed", 4));
    assert_ne!(run(1, "cg").item_factors, other.item_factors, "the seed matters");
}

#[test]
fn weights_and_params() {
    let (m, _) = planted_clusters(50, 20, 2, 5, 1);
    let binary = fit_with(&m, Params::new().with("iterations", 2));
    let weighted = fit_with(&m, Params::new().with("iterations", 2).with("binary", false));
    assert_ne!(binary.item_factors, weighted.item_factors, "binary=false uses the values");
    // the confidence is relative to the data's weight scale: weights × 8 (a purchase's
    // weight; a power of two, so the division is exact) give the same model
    let scaled = Interactions::from_csr({
        let b = &m.by_user;
        let data: Vec<f32> = b.data().iter().map(|v| v * 8.0).collect();
        Csr::from_parts(b.n_rows(), b.n_cols(), b.indptr().to_vec(), b.indices().to_vec(), data).unwrap()
    });
    let p = Params::new().with("iterations", 2).with("binary", false);
    let a = Als::fit(&TrainData::new(&m, false), &p).unwrap();
    let b = Als::fit(&TrainData::new(&scaled, false), &p).unwrap();
    assert_eq!(a.item_factors, b.item_factors);
    let t = TrainData::new(&m, false);
    for (k, v) in [("solver", "lu"), ("factors", "0"), ("alpha", "-1"), ("cg_steps", "0"), ("regularisation", "1")] {
        let e = Als::fit(&t, &Params::new().with(k, v)).unwrap_err().to_string();
        assert!(e.contains(k), "{k}={v}: {e}");
    }
    // no iterations: the random start, still finite
    let z = fit_with(&m, Params::new().with("iterations", 0));
    let mut s = vec![0f32; 20];
    z.score_user(0, &mut s);
    assert!(s.iter().all(|x| x.is_finite()));
}

#[test]
fn early_stopping_stops_and_refits_with_the_best_sweep_count() {
    let (m, _) = planted_clusters(300, 120, 4, 12, 21);
    let p = Params::new().with("factors", 8).with("regularization", 0.5).with("iterations", 200);
    let h = AlsParams::from_params(&p).unwrap();
    let es = EarlyStopping { patience: 2, share: 0.2, seed: 42 };
    let curve = Als::validation_curve(&m, &h, &es).unwrap();
    let n = curve.scores.len();
    assert!(n < 200 && n == curve.best + 2, "ran {n} sweeps, best {}: {:?}", curve.best, curve.scores);
    let top = curve.scores.iter().copied().fold(f64::MIN, f64::max);
    assert_eq!(curve.scores[curve.best - 1], top, "the best sweep is the first maximum");
    assert!(curve.scores[..curve.best - 1].iter().all(|&x| x < top));
    let model = fit_with(&m, p.clone().with("early_stopping", true).with("patience", 2).with("validation", 0.2));
    assert_eq!(model.best_epoch, Some(curve.best));
    let plain = fit_with(&m, p.with("iterations", curve.best));
    assert_eq!(model.user_factors, plain.user_factors, "refitted on all data with the best count");
    assert_eq!(model.item_factors, plain.item_factors);
    let back = daogou_algo::als::load(&model.state()).unwrap();
    assert_eq!(back.state(), model.state(), "the best epoch is saved");
    assert_eq!(model.state().count(early_stop::BEST_EPOCH).unwrap(), curve.best);
}

#[test]
fn batch_scores_equal_single_scores_up_to_rounding() {
    let (m, _) = planted_clusters(60, 70, 3, 8, 4);
    let model = fit_with(&m, Params::new().with("factors", 24).with("iterations", 3));
    // 59 is a user without training data (popularity fallback); 1000 is unknown
    let users = [3u32, 0, 59, 17, 1000];
    let m2 = {
        let mut t = Vec::new();
        for u in 0..59u32 {
            let (i, v) = m.user_row(u);
            t.extend(i.iter().zip(v).map(|(&i, &v)| daogou_core::Interaction::new(u, i, v)));
        }
        Interactions::from_interactions(60, 70, &t, daogou_core::Aggregate::Sum)
    };
    let model2 = fit_with(&m2, Params::new().with("factors", 24).with("iterations", 3));
    for model in [&model, &model2] {
        let mut batch = vec![0f32; users.len() * 70];
        model.score_users(&users, &mut batch);
        let mut one = vec![0f32; 70];
        for (&u, row) in users.iter().zip(batch.chunks_exact(70)) {
            model.score_user(u, &mut one);
            for (a, b) in row.iter().zip(&one) {
                assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "user {u}: {a} vs {b}");
            }
        }
    }
}

#[test]
fn dense_kernels() {
    let mut rng = SeededRng::new(11);
    for k in [1usize, 5, 16, 17, 40] {
        let a: Vec<f32> = (0..k).map(|_| rng.f64() as f32 - 0.5).collect();
        let b: Vec<f32> = (0..k).map(|_| rng.f64() as f32 - 0.5).collect();
        let exact: f64 = a.iter().zip(&b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
        assert!((f64::from(dot(&a, &b)) - exact).abs() < 1e-5);
        // SPD system: M = BᵀB + I
        let bm: Vec<f32> = (0..2 * k * k).map(|_| rng.f64() as f32 - 0.5).collect();
        let g = gram(&bm, k);
        let mut a64 = g.clone();
        for i in 0..k {
            a64[i * k + i] += 1.0;
        }
        let full = a64.clone();
        let x: Vec<f64> = (0..k).map(|i| i as f64 - 1.5).collect();
        let mut rhs: Vec<f64> = (0..k).map(|i| (0..k).map(|j| full[i * k + j] * x[j]).sum()).collect();
        assert!(cholesky(&mut a64, k));
        cholesky_solve(&a64, &mut rhs, k);
        for (got, want) in rhs.iter().zip(&x) {
            assert!((got - want).abs() < 1e-6, "k={k}: {got} vs {want}");
        }
    }
    let mut not_pd = vec![1.0, 2.0, 2.0, 1.0];
    assert!(!cholesky(&mut not_pd, 2));
}
