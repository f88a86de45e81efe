use daogou_algo::registry::*;
use daogou_algo::*;
use daogou_core::{Aggregate, Interaction, Interactions, Params};

#[test]
fn a_model_that_does_not_read_events_fits_the_same_without_them() {
    // what lets `daogou train` drop the event log before fitting such a model
    let events: Vec<Interaction> = (0..80u32)
        .map(|x| Interaction {
            timestamp: 1_000 + (x as i64 * 7919) % 500,
            kind: [daogou_core::EventKind::Purchase, daogou_core::EventKind::View][x as usize % 2],
            ..Interaction::new(x % 9, (x * 5) % 13, 1.0 + (x % 3) as f32)
        })
        .collect();
    let m = Interactions::from_interactions(9, 13, &events, Aggregate::Sum);
    for info in MODELS.iter().filter(|m| !m.reads_events) {
        let Ok(with) = build_model(info.name, &Params::new(), &TrainData::new(&m, false).with_events(&events)) else {
            continue;
        };
        let without = build_model(info.name, &Params::new(), &TrainData::new(&m, false)).unwrap();
        let (mut a, mut b) = ([0f32; 13], [0f32; 13]);
        for u in 0..9 {
            with.score_user(u, &mut a);
            without.score_user(u, &mut b);
            assert_eq!(a.map(f32::to_bits), b.map(f32::to_bits), "{} user {u}", info.name);
        }
    }
    let buy_again = find_model("buy-again").unwrap();
    assert!(buy_again.reads_events, "buy-again orders by time and counts baskets");
}

#[test]
fn every_model_builds_scores_finitely_and_rejects_typos() {
    let data: Vec<Interaction> =
        (0..60u32).map(|x| Interaction::new(x % 7, (x * 3) % 11, 1.0 + (x % 5) as f32)).collect();
    let m = Interactions::from_interactions(8, 12, &data, Aggregate::Last);
    for explicit in [true, false] {
        let t = TrainData::new(&m, explicit);
        for info in MODELS {
            let model = match build_model(info.name, &Params::new(), &t) {
                // explicit-only models refuse implicit data, saying why
                Err(Error::BadData { reason, .. }) if !explicit && reason.contains("explicit ratings") => continue,
                built => built.unwrap(),
            };
            assert_eq!(model.name(), info.name);
            assert_eq!(model.n_items(), 12);
            let mut s = [0.0f32; 12];
            for u in 0..8 {
                model.score_user(u, &mut s);
                assert!(s.iter().all(|x| !x.is_nan()), "{} user {u}: {s:?}", info.name);
            }
            model.score_history(&[(1, 4.0), (20, 1.0)], &mut s);
            assert!(s.iter().all(|x| !x.is_nan()), "{}: {s:?}", info.name);
            if let Some(p) = model.as_rating_predictor() {
                let preds = p.predict_many(&[(0, 0), (7, 11), (3, 2)]);
                assert!(preds.iter().all(|x| (1.0..=5.0).contains(x)), "{}: {preds:?}", info.name);
            }
            // saved and loaded: the same answers, bit for bit
            let loaded = load_model(&model.state()).unwrap();
            assert_eq!(loaded.name(), info.name);
            let mut s2 = [0.0f32; 12];
            for u in 0..8 {
                model.score_user(u, &mut s);
                loaded.score_user(u, &mut s2);
                assert_eq!(s.map(f32::to_bits), s2.map(f32::to_bits), "{} user {u}", info.name);
            }
            model.score_history(&[(1, 4.0), (3, 2.0)], &mut s);
            loaded.score_history(&[(1, 4.0), (3, 2.0)], &mut s2);
            assert_eq!(s.map(f32::to_bits), s2.map(f32::to_bits), "{} history", info.name);
            if let (Some(a), Some(b)) = (model.as_rating_predictor(), loaded.as_rating_predictor()) {
                let pairs = [(0, 0), (7, 11), (3, 2), (5, 4)];
                assert_eq!(a.predict_many(&pairs), b.predict_many(&pairs), "{}", info.name);
            } else {
                assert!(model.as_rating_predictor().is_none() && loaded.as_rating_predictor().is_none());
            }
            assert_eq!(model.similar_items(2, 3), loaded.similar_items(2, 3), "{}", info.name);
            // a state with an array removed is refused with its name
            let mut broken = model.state();
            if let Some(name) = broken.tensors.keys().next().cloned() {
                broken.tensors.remove(&name);
                let err = load_model(&broken).err().expect("broken state must not load").to_string();
                assert!(err.contains(&name), "{}: {err}", info.name);
            }
            let err = build_model(info.name, &Params::new().with("nieghbours", 3), &t).err().unwrap().to_string();
            assert!(err.contains("nieghbours"), "{err}");
        }
    }
    assert!(build_model("svd++", &Params::new(), &TrainData::new(&m, true)).is_err());
}
