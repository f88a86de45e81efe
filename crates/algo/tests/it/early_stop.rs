use daogou_algo::early_stop::{Curve, EarlyStopping};
use daogou_core::{Aggregate, Interaction, Interactions, Params};

#[test]
fn the_curve_stops_after_patience_epochs_without_improvement_and_keeps_the_best() {
    let mut c = Curve::new(2);
    let go: Vec<bool> = [0.1, 0.3, 0.2, 0.3, 0.25].iter().map(|&s| c.push(s)).collect();
    assert_eq!(go, [true, true, true, false, false]);
    assert_eq!(c.best_epochs(), 2, "a tie does not beat the best");
    let mut nan = Curve::new(1);
    assert!(!nan.push(f64::NAN));
    assert_eq!(nan.best_epochs(), 1);
}

#[test]
fn the_split_is_seeded_disjoint_and_keeps_an_entry_per_user() {
    let (m, _) = crate::testutil::planted_clusters(50, 40, 2, 10, 3);
    let es = EarlyStopping { patience: 3, share: 0.2, seed: 7 };
    let h = es.split("x", &m, false).unwrap();
    let held: usize = h.valid.iter().map(|x| x.1.len()).sum();
    assert_eq!(h.train.nnz() + held, m.nnz());
    assert!((held as f64 / m.nnz() as f64 - 0.2).abs() < 0.05, "{held} of {}", m.nnz());
    for (u, rows) in &h.valid {
        let kept = h.train.user_row(*u).0;
        assert!(!kept.is_empty());
        assert!(rows.iter().all(|(i, _)| kept.binary_search(i).is_err() && m.user_row(*u).0.contains(i)));
    }
    let again = es.split("x", &m, false).unwrap();
    assert_eq!(again.valid, h.valid);
    let other = EarlyStopping { seed: 8, ..es }.split("x", &m, false).unwrap();
    assert_ne!(other.valid, h.valid);
    // one entry per user: nothing to hold out, said clearly
    let tiny = Interactions::from_interactions(2, 2, &[Interaction::new(0, 0, 1.0)], Aggregate::Sum);
    let e = es.split("als", &tiny, false).err().unwrap().to_string();
    assert!(e.contains("als") && e.contains("validation split is empty"), "{e}");
}

#[test]
fn settings_are_checked() {
    assert_eq!(EarlyStopping::parse(&Params::new(), 1, 3).unwrap(), None);
    let p = Params::new().with("early_stopping", true).with("patience", 5).with("validation", 0.25);
    assert_eq!(EarlyStopping::parse(&p, 1, 3).unwrap(), Some(EarlyStopping { patience: 5, share: 0.25, seed: 1 }));
    for (k, v) in [("patience", "0"), ("validation", "1"), ("validation", "0")] {
        let p = Params::new().with("early_stopping", true).with(k, v);
        let e = EarlyStopping::parse(&p, 1, 3).unwrap_err().to_string();
        assert!(e.contains(k), "{k}={v}: {e}");
    }
    let e = EarlyStopping::parse(&Params::new().with("patience", 4), 1, 3).unwrap_err().to_string();
    assert!(e.contains("early_stopping=true"), "{e}");
}
