use crate::svd::{ml_fold, planted, rmse};
use daogou_algo::sim::row_means;
use daogou_algo::slope_one::*;
use daogou_algo::*;
use daogou_core::{Aggregate, Interaction, Interactions, Params};

#[test]
fn matches_the_plain_formula() {
    let (m, _) = planted(50, 30, 0.3, 6);
    let model = SlopeOne::fit(&TrainData::new(&m, true), &Params::new()).unwrap();
    let r = |u: usize, i: usize| m.by_user.get(u, i as u32).map(f64::from);
    let mut scores = vec![0.0; 30];
    for u in 0..50usize {
        model.score_user(u as u32, &mut scores);
        let rated: Vec<usize> = (0..30).filter(|&j| r(u, j).is_some()).collect();
        let mean = rated.iter().map(|&j| r(u, j).unwrap()).sum::<f64>() / rated.len() as f64;
        for (i, &score) in scores.iter().enumerate() {
            let mut devs = Vec::new();
            for &j in &rated {
                let common: Vec<usize> = (0..50).filter(|&v| r(v, i).is_some() && r(v, j).is_some()).collect();
                if !common.is_empty() {
                    let d = common.iter().map(|&v| r(v, i).unwrap() - r(v, j).unwrap()).sum::<f64>();
                    devs.push(d / common.len() as f64);
                }
            }
            let known = (0..50).any(|v| r(v, i).is_some());
            let want = if !known {
                model.global_mean
            } else if devs.is_empty() {
                mean
            } else {
                mean + devs.iter().sum::<f64>() / devs.len() as f64
            };
            let got = model.predict(u as u32, i as u32);
            assert!((f64::from(got) - want.clamp(1.0, 5.0)).abs() < 1e-5, "({u},{i}): {got} vs {want}");
            assert_eq!(score, model.raw(u as u32, i as u32) as f32, "({u},{i})");
        }
    }
}

#[test]
fn small_example_and_new_users() {
    // the example of Lemire & Maclachlan: A rated i0=1 i1=1.5; B rated i0=2; predict B on i1
    // dev(1,0) = 0.5 → B: mean 2 + 0.5 = 2.5 (Surprise: same)
    let d: Vec<Interaction> =
        [(0, 0, 1.0), (0, 1, 1.5), (1, 0, 2.0)].iter().map(|&(u, i, r)| Interaction::new(u, i, r)).collect();
    let m = Interactions::from_interactions(3, 3, &d, Aggregate::Last);
    let model = SlopeOne::fit(&TrainData::new(&m, true), &Params::new()).unwrap();
    assert_eq!(model.dev.get(1, 0), Some(0.5));
    assert_eq!(model.dev.get(0, 1), Some(-0.5));
    assert_eq!(model.dev.get(2, 0), None);
    assert_eq!(model.predict(1, 1), 2.0, "2.5 clipped to the training maximum 2");
    let global = 4.5 / 3.0;
    assert_eq!(model.predict(2, 0), global as f32, "user without ratings → global mean");
    assert_eq!(model.predict(0, 2), global as f32, "item without ratings → global mean");
    // a history equal to user 1's scores as user 1
    let (mut a, mut b) = (vec![0.0; 3], vec![0.0; 3]);
    model.score_history(&[(0, 2.0)], &mut a);
    model.score_user(1, &mut b);
    assert_eq!(a, b);
    assert_eq!(a[1], 2.5);
    model.score_history(&[], &mut a);
    assert!(a.iter().all(|&x| x == global as f32));
}

#[test]
fn beats_user_means_on_planted_data_and_validates() {
    let (m, test) = planted(300, 200, 0.3, 12);
    let t = TrainData::new(&m, true);
    let model = SlopeOne::fit(&t, &Params::new()).unwrap();
    let means = row_means(&m.by_user);
    let se: f64 = test.iter().map(|&(u, _, r)| (means[u as usize].unwrap_or(3.0) - f64::from(r)).powi(2)).sum::<f64>();
    let (rs, rm) = (rmse(&model, &test), (se / test.len() as f64).sqrt());
    assert!(rs < rm - 0.05, "slope one RMSE {rs} vs user mean {rm}");
    assert!(SlopeOne::fit(&t, &Params::new().with("k", 3)).unwrap_err().to_string().contains('k'));
    let e = SlopeOne::fit(&TrainData::new(&m, false), &Params::new()).unwrap_err();
    assert!(e.to_string().contains("explicit"), "{e}");
}

#[test]
fn movielens_u1_rmse() {
    let Some((rmse, mae, secs)) = ml_fold("slope-one", 1) else {
        println!("SKIPPED: MovieLens-100k not found (set DAOGOU_DATASETS)");
        return;
    };
    println!("slope-one u1: RMSE {rmse:.4} MAE {mae:.4}, fit+predict {secs:.3}s");
    // Surprise SlopeOne: 0.95672 on u1, the same predictions
    assert!(rmse <= 0.9568, "RMSE {rmse}");
}
