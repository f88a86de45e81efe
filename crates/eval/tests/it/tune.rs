use daogou_eval::tune::*;

#[test]
fn grids_parse_and_expand() {
    assert_eq!(parse_grid("k=10,20").unwrap(), ("k".into(), Values::List(vec!["10".into(), "20".into()])));
    assert_eq!(parse_grid("k=1..5").unwrap().1, Values::Ints(1, 5));
    assert_eq!(parse_grid("reg=0.01..1").unwrap().1, Values::Floats(0.01, 1.0));
    for bad in ["k", "=1", "k=", "k=5..1", "k=a..b", "k=,"] {
        assert!(parse_grid(bad).is_err(), "{bad}");
    }
    let g: Grid = vec![parse_grid("a=1,2").unwrap(), parse_grid("b=x,y,z").unwrap()];
    assert_eq!(grid_settings(&g).unwrap().len(), 6);
    assert!(grid_settings(&vec![parse_grid("a=1..3").unwrap()]).is_err());
    let r = random_settings(&vec![parse_grid("a=1..1000").unwrap(), parse_grid("reg=0.001..10").unwrap()], 20, 7);
    assert_eq!(r.len(), 20);
    assert_eq!(
        r,
        random_settings(&vec![parse_grid("a=1..1000").unwrap(), parse_grid("reg=0.001..10").unwrap()], 20, 7)
    );
    for s in &r {
        let reg: f64 = s[1].1.parse().unwrap();
        assert!((0.001..=10.0).contains(&reg));
    }
}

#[test]
fn metric_lookup() {
    let j = serde_json::json!({"ndcg@10": 0.5, "cold": {"recall@10": 0.25}});
    assert_eq!(metric_value(&j, "ndcg@10"), Some(0.5));
    assert_eq!(metric_value(&j, "cold.recall@10"), Some(0.25));
    assert_eq!(metric_value(&j, "warm.recall@10"), None);
    assert!(lower_is_better("rmse") && !lower_is_better("ndcg@10"));
}
