use crate::svd::{ml_fold, planted, rmse};
use daogou_algo::early_stop::EarlyStopping;
use daogou_algo::sim::value_stats;
use daogou_algo::svd::{normal, rng, Sgd};
use daogou_algo::svdpp::*;
use daogou_algo::*;
use daogou_core::{Aggregate, Interaction, Interactions, Params};
use rand::seq::SliceRandom;

/// Surprise's loop, written plainly: every y_j updated at every rating, z recomputed
/// from the y_j at every rating; the same visiting order as the model (replayed RNG).
#[allow(clippy::type_complexity)]
fn reference(m: &Interactions, h: &Sgd) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
    let (nu, ni, f) = (m.n_users(), m.n_items(), h.factors);
    let mean = value_stats(&m.by_user).0 as f32;
    let mut rng = rng(h.seed);
    let mut pu = normal(&mut rng, nu * f, h.init_std);
    let mut qi = normal(&mut rng, ni * f, h.init_std);
    let mut yj = normal(&mut rng, ni * f, h.init_std);
    let (mut bu, mut bi) = (vec![0f32; nu], vec![0f32; ni]);
    let mut rows: Vec<(u32, f32)> = m.by_user.indices().iter().copied().zip(m.by_user.data().iter().copied()).collect();
    let ptr = m.by_user.indptr();
    let mut users: Vec<u32> = (0..nu as u32).filter(|&u| m.by_user.row_len(u as usize) > 0).collect();
    for _ in 0..h.epochs {
        users.shuffle(&mut rng);
        for &u in &users {
            let u = u as usize;
            let mine = &mut rows[ptr[u]..ptr[u + 1]];
            mine.shuffle(&mut rng);
            let items: Vec<usize> = mine.iter().map(|x| x.0 as usize).collect();
            let sq = (items.len() as f64).sqrt();
            for &(i, r) in mine.iter() {
                let i = i as usize;
                let mut z = vec![0f64; f];
                for &j in &items {
                    for k in 0..f {
                        z[k] += f64::from(yj[j * f + k]) / sq;
                    }
                }
                let d: f64 = (0..f).map(|k| f64::from(qi[i * f + k]) * (f64::from(pu[u * f + k]) + z[k])).sum();
                let err = (f64::from(r) - (f64::from(mean) + f64::from(bu[u]) + f64::from(bi[i]) + d)) as f32;
                bu[u] += h.lr_bu * (err - h.reg_bu * bu[u]);
                bi[i] += h.lr_bi * (err - h.reg_bi * bi[i]);
                for k in 0..f {
                    let (a, b) = (pu[u * f + k], qi[i * f + k]);
                    pu[u * f + k] += h.lr_pu * (err * b - h.reg_pu * a);
                    qi[i * f + k] += h.lr_qi * (err * (a + z[k] as f32) - h.reg_qi * b);
                    for &j in &items {
                        yj[j * f + k] += h.lr_yj * (err * b / sq as f32 - h.reg_yj * yj[j * f + k]);
                    }
                }
            }
        }
    }
    (bu, bi, pu, qi, yj)
}

#[test]
fn closed_form_implicit_step_equals_the_plain_loop() {
    let (m, _) = planted(40, 30, 0.4, 2);
    let p = Params::new().with("factors", 4).with("epochs", 5).with("lr", 0.02).with("reg", 0.05);
    let h = hyperparameters(&p).unwrap();
    let model = SvdPp::fit(&TrainData::new(&m, true), &p).unwrap();
    let (bu, bi, pu, qi, yj) = reference(&m, &h);
    let close = |a: &[f32], b: &[f32], what: &str| {
        let worst = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert!(worst < 2e-4, "{what}: max difference {worst}");
    };
    close(&model.fac.bu, &bu, "b_u");
    close(&model.fac.bi, &bi, "b_i");
    close(&model.fac.items_row_major(), &qi, "q_i");
    close(&model.yj, &yj, "y_j");
    // user vectors are p_u + z_u
    let mut x = Vec::new();
    for u in 0..40u32 {
        let z = implicit_sum(&yj, 4, m.user_row(u).0.iter().copied());
        x.extend((0..4).map(|k| pu[u as usize * 4 + k] + z[k]));
    }
    close(&model.fac.users, &x, "p_u + z_u");
}

#[test]
fn learns_planted_ratings_and_folds_in() {
    let (m, test) = planted(300, 200, 0.3, 4);
    let t = TrainData::new(&m, true);
    let base = daogou_algo::baseline::Baseline::fit(&t, &Params::new()).unwrap();
    let model = SvdPp::fit(&t, &Params::new().with("factors", 10).with("epochs", 40).with("lr", 0.01)).unwrap();
    let (rb, rs) = (rmse(&base, &test), rmse(&model, &test));
    assert!(rs < rb - 0.1, "svdpp RMSE {rs} vs baseline {rb}");
    // a training user folded in from their own ratings lands close to their fitted vector
    let (mut a, mut b) = (vec![0.0; 200], vec![0.0; 200]);
    let (is, rs) = m.user_row(7);
    let hist: Vec<(u32, f32)> = is.iter().copied().zip(rs.iter().copied()).collect();
    model.score_history(&hist, &mut a);
    model.score_user(7, &mut b);
    let dev = (a.iter().zip(&b).map(|(x, y)| f64::from(x - y).powi(2)).sum::<f64>() / 200.0).sqrt();
    assert!(dev < 0.35, "fold-in vs fitted: {dev}");
    for i in 0..200u32 {
        assert_eq!(model.predict(7, i), b[i as usize].clamp(1.0, 5.0));
    }
    // deterministic, seeded
    let again = SvdPp::fit(&t, &Params::new().with("factors", 10).with("epochs", 40).with("lr", 0.01)).unwrap();
    assert_eq!(again.yj, model.yj);
}

#[test]
fn early_stopping_stops_at_the_validation_minimum_and_refits_with_it() {
    let (m, test) = planted(200, 150, 0.3, 8);
    let t = TrainData::new(&m, true);
    let p = Params::new().with("factors", 12).with("reg", 0).with("lr", 0.02).with("epochs", 200);
    let h = hyperparameters(&p).unwrap();
    let es = EarlyStopping { patience: 2, share: 0.1, seed: 42 };
    let curve = SvdPp::validation_curve(&m, &h, &es).unwrap();
    let n = curve.scores.len();
    assert!(n < 100 && n == curve.best + 2, "ran {n} epochs, best {}: {:?}", curve.best, curve.scores);
    let top = curve.scores.iter().copied().fold(f64::MIN, f64::max);
    assert_eq!(curve.scores[curve.best - 1], top);
    let early = SvdPp::fit(&t, &p.clone().with("early_stopping", true).with("patience", 2)).unwrap();
    assert_eq!(early.best_epoch, Some(curve.best));
    let plain = SvdPp::fit(&t, &p.clone().with("epochs", curve.best)).unwrap();
    assert_eq!(early.yj, plain.yj, "refitted on all the ratings with the best epoch count");
    let over = SvdPp::fit(&t, &p.with("epochs", curve.best + 30)).unwrap();
    let (re, ro) = (rmse(&early, &test), rmse(&over, &test));
    assert!(re < ro, "early-stopped test RMSE {re} vs 30 epochs more {ro}");
    assert_eq!(daogou_algo::svdpp::load(&early.state()).unwrap().state(), early.state());
}

#[test]
fn validates_params_and_refuses_implicit_data() {
    let (m, _) = planted(10, 10, 0.5, 1);
    let t = TrainData::new(&m, true);
    for bad in [("factors", "0"), ("lr_yj", "-1"), ("biased", "false"), ("epochs", "x")] {
        let e = SvdPp::fit(&t, &Params::new().with(bad.0, bad.1)).unwrap_err().to_string();
        assert!(e.contains(bad.0), "{bad:?}: {e}");
    }
    assert!(SvdPp::fit(&t, &Params::new().with("lr", 1e6)).unwrap_err().to_string().contains("diverged"));
    let e = SvdPp::fit(&TrainData::new(&m, false), &Params::new()).unwrap_err();
    assert!(e.to_string().contains("explicit"), "{e}");
    // an item nobody rated has no factors
    let d: Vec<Interaction> =
        [(0, 0, 5.0), (0, 1, 3.0), (1, 0, 4.0)].iter().map(|&(u, i, r)| Interaction::new(u, i, r)).collect();
    let m = Interactions::from_interactions(2, 3, &d, Aggregate::Last);
    let s = SvdPp::fit(&TrainData::new(&m, true), &Params::new()).unwrap();
    assert!(s.fac.item_row(2).iter().chain(&s.yj[2 * 20..]).all(|&x| x == 0.0));
}

#[test]
fn movielens_u1_rmse() {
    let Some((rmse, mae, secs)) = ml_fold("svdpp", 1) else {
        println!("SKIPPED: MovieLens-100k not found (set DAOGOU_DATASETS)");
        return;
    };
    println!("svdpp u1: RMSE {rmse:.4} MAE {mae:.4}, fit+predict {secs:.3}s");
    // Surprise SVDpp: 0.933 on u1 (bench/compare_mf_ml100k.py)
    assert!(rmse <= 0.925, "RMSE {rmse}");
}
