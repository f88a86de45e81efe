//! The shared training parts: stable losses, the last-event holdout, weights in a state, the config.

use candle_core::{Device, Tensor};
use daogou_algo::{ModelState, TrainData};
use daogou_core::{Aggregate, EventKind, Interaction, Interactions, Params};
use daogou_nn::train::*;

#[test]
fn stable_losses_have_no_nan_for_huge_logits() {
    let x = Tensor::new(&[-200f32, -30.0, 0.0, 30.0, 200.0], &Device::Cpu).unwrap();
    let y = Tensor::new(&[0f32, 1.0, 1.0, 0.0, 1.0], &Device::Cpu).unwrap();
    let l = bce_with_logits(&x, &y).unwrap().to_scalar::<f32>().unwrap();
    // terms: 0, 30, ln 2, 30, 0 → mean (60 + ln 2)/5
    assert!((l - (60.0 + 2f32.ln()) / 5.0).abs() < 1e-4, "{l}");
    let sp = softplus(&x).unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(sp[0], 0.0);
    assert!((sp[2] - 2f32.ln()).abs() < 1e-6 && (sp[4] - 200.0).abs() < 1e-3, "{sp:?}");
}

#[test]
fn holdout_takes_each_users_latest_positive_and_removes_it() {
    let ev = |user, item, t| Interaction { user, item, value: 1.0, timestamp: t, kind: EventKind::Purchase };
    let events = vec![ev(0, 0, 5), ev(0, 1, 9), ev(0, 2, 1), ev(1, 3, 2), ev(1, 0, 1), ev(2, 1, 3)];
    let m = Interactions::from_interactions(3, 4, &events, Aggregate::Sum);
    let data = TrainData::new(&m, false).with_events(&events);
    let h = Holdout::last_event(&data, 10, 1);
    // user 2 has a single positive: not held out
    assert_eq!(h.held, vec![(0, 1), (1, 3)]);
    assert_eq!(h.train.user_row(0).0, &[0, 2]);
    assert_eq!(h.train.user_row(1).0, &[0]);
    assert_eq!(h.train.user_row(2).0, &[1]);
    assert!(Holdout::last_event(&data, 0, 1).is_empty());
    // a perfect scorer has NDCG 1, one that puts the held item last has 0
    let perfect = ndcg_at_k(&h.held, &h.train, 4, 10, |u, out| {
        out.fill(0.0);
        out[if u == 0 { 1 } else { 3 }] = 1.0;
    });
    assert_eq!(perfect, 1.0);
    let worst = ndcg_at_k(&h.held, &h.train, 4, 1, |u, out| {
        out.fill(1.0);
        out[if u == 0 { 1 } else { 3 }] = 0.0;
    });
    assert_eq!(worst, 0.0);
}

#[test]
fn weights_round_trip_through_a_state_and_refuse_wrong_shapes() {
    let mut init = Init::new(7);
    let v = init.normal(&[3, 2], 0.1, &Device::Cpu).unwrap();
    let w = Weights::from_vars(&[("emb", &v)]).unwrap();
    assert_eq!(Init::new(7).uniform_vec(6, 0.1 * 3f32.sqrt()), w.data("emb"));
    let mut s = ModelState::new("x", &Params::new());
    w.save(&mut s);
    assert_eq!(Weights::load(&s, &[("emb", vec![3, 2])]).unwrap(), w);
    let err = Weights::load(&s, &[("emb", vec![2, 2])]).unwrap_err().to_string();
    assert!(err.contains("w.emb") && err.contains("expected 4"), "{err}");
    let back = w.to_var("emb", &Device::Cpu).unwrap();
    assert_eq!(back.as_tensor().to_vec2::<f32>().unwrap(), v.as_tensor().to_vec2::<f32>().unwrap());
}

#[test]
fn config_reads_defaults_and_names_bad_keys() {
    let d =
        Defaults { learning_rate: 0.01, batch_size: 256, epochs: 10, patience: 2, weight_decay: 0.0, validation: 100 };
    let c = TrainConfig::from_params(&Params::new(), &d).unwrap();
    assert_eq!((c.batch_size, c.epochs, c.device), (256, 10, DeviceKind::Cpu));
    for (k, v) in [("learning_rate", "0"), ("batch_size", "0"), ("device", "tpu"), ("epochs", "x")] {
        let err = TrainConfig::from_params(&Params::new().with(k, v), &d).unwrap_err().to_string();
        assert!(err.contains(k), "{k}: {err}");
    }
    if !cfg!(feature = "cuda") {
        let c = TrainConfig::from_params(&Params::new().with("device", "cuda"), &d).unwrap();
        assert!(c.device("ncf").unwrap_err().to_string().contains("cuda"));
    }
}
