use daogou_algo::baseline::*;
use daogou_algo::*;
use daogou_core::{Aggregate, Interaction, Interactions, Params, SeededRng};

#[test]
fn recovers_planted_biases() {
    let (nu, ni) = (300usize, 200usize);
    let mut rng = SeededRng::new(7);
    let bu: Vec<f64> = (0..nu).map(|_| rng.f64() * 1.6 - 0.8).collect();
    let bi: Vec<f64> = (0..ni).map(|_| rng.f64() * 2.0 - 1.0).collect();
    let mut data = Vec::new();
    for u in 0..nu {
        for i in 0..ni {
            if rng.f64() < 0.3 {
                let r = 3.0 + bu[u] + bi[i] + (rng.f64() - 0.5) * 0.2;
                data.push(Interaction::new(u as u32, i as u32, r as f32));
            }
        }
    }
    let m = Interactions::from_interactions(nu, ni, &data, Aggregate::Last);
    let p = Params::new().with("reg_i", 0.1).with("reg_u", 0.1).with("epochs", 30);
    let b = Baseline::fit(&TrainData::new(&m, true), &p).unwrap();
    // Biases are identified up to a constant shift between μ, b_u and b_i: compare centred.
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (fu, fi): (Vec<f64>, Vec<f64>) =
        ((0..nu).map(|u| b.user_bias(u as u32)).collect(), (0..ni).map(|i| b.item_bias(i as u32)).collect());
    let (mu_f, mu_t) = (mean(&fu), mean(&bu));
    let err_u = (0..nu).map(|u| ((fu[u] - mu_f) - (bu[u] - mu_t)).abs()).fold(0.0, f64::max);
    let (mi_f, mi_t) = (mean(&fi), mean(&bi));
    let err_i = (0..ni).map(|i| ((fi[i] - mi_f) - (bi[i] - mi_t)).abs()).fold(0.0, f64::max);
    assert!(err_u < 0.05 && err_i < 0.05, "max bias errors: users {err_u}, items {err_i}");
    let pred = b.predict(0, 0);
    assert!((f64::from(pred) - (3.0 + bu[0] + bi[0])).abs() < 0.1);
    assert!(b.as_rating_predictor().is_some());
    assert!(Baseline::fit(&TrainData::new(&m, true), &Params::new().with("epochs", 0)).is_err());
}
