use daogou_eval::experiment::*;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

#[test]
fn a_mean_gets_the_textbook_standard_error() {
    let mut s = RatioSums::default();
    for x in [1.0, 2.0, 3.0, 4.0] {
        s.push(x, 1.0);
    }
    let e = s.estimate().unwrap();
    // mean 2.5, sample variance 5/3, se = sqrt(5/3 / 4)
    assert!(close(e.value, 2.5, 1e-12));
    assert!(close(e.std_error, (5.0f64 / 3.0 / 4.0).sqrt(), 1e-12));
    assert!(close(e.ci_high - e.value, Z95 * e.std_error, 1e-12));
}

#[test]
fn the_delta_method_matches_a_simulated_ratio_variance() {
    // units with correlated (x, y): the ratio's spread over many repetitions must match
    // the delta method's standard error within 10 %
    let mut rng = daogou_core::SeededRng::new(7);
    let (reps, n) = (400, 300);
    let mut ratios = Vec::new();
    let mut ses = Vec::new();
    for _ in 0..reps {
        let mut s = RatioSums::default();
        for _ in 0..n {
            let y = 1.0 + (rng.f64() * 20.0).floor();
            let p = 0.05 + 0.1 * rng.f64();
            let x = (0..y as usize).filter(|_| rng.f64() < p).count() as f64;
            s.push(x, y);
        }
        let (r, v) = s.ratio().unwrap();
        ratios.push(r);
        ses.push(v.sqrt());
    }
    let mean = ratios.iter().sum::<f64>() / reps as f64;
    let sd = (ratios.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (reps - 1) as f64).sqrt();
    let se = ses.iter().sum::<f64>() / reps as f64;
    assert!((se / sd - 1.0).abs() < 0.1, "delta se {se} vs simulated sd {sd}");
}

#[test]
fn chi_square_tail_matches_tables() {
    // χ²₁ 3.841 → 0.05; χ²₂ 13.816 → 0.001; χ²₃ 7.815 → 0.05; χ²₁ 10.828 → 0.001
    for (x, k, p) in
        [(3.841_459, 1.0, 0.05), (13.815_511, 2.0, 0.001), (7.814_728, 3.0, 0.05), (10.827_566, 1.0, 0.001)]
    {
        assert!(close(chi2_sf(x, k), p, 1e-5), "chi2_sf({x}, {k}) = {}", chi2_sf(x, k));
    }
    assert_eq!(chi2_sf(0.0, 1.0), 1.0);
    assert!(chi2_sf(1e4, 1.0) < 1e-100);
    assert!(close(chi2_sf(2.0, 2.0), (-1.0f64).exp(), 1e-12)); // k = 2: e^(−x/2)
}

#[test]
fn the_sample_ratio_alarm_fires_on_a_broken_split_only() {
    let fine = srm(&[5_030, 4_970], &[0.5, 0.5]);
    assert!(!fine.alarm && fine.p_value > 0.5, "{fine:?}");
    let broken = srm(&[5_000, 4_500], &[1.0, 1.0]);
    assert!(broken.alarm && broken.p_value < 1e-5, "{broken:?}");
    assert_eq!(broken.expected, vec![4_750.0, 4_750.0]);
    // unequal shares are respected
    assert!(!srm(&[2_000, 8_000], &[0.2, 0.8]).alarm);
    assert!(srm(&[5_000, 5_000], &[0.2, 0.8]).alarm);
    assert_eq!(srm(&[0, 0], &[0.5, 0.5]).p_value, 1.0);
}

#[test]
fn the_mixture_ratio_grows_with_evidence_and_is_one_without_data() {
    assert_eq!(msprt_lambda(0.1, 0.0, 1.0), 1.0);
    assert!(msprt_lambda(0.0, 1.0, 1.0) < 1.0, "no difference: evidence for the null");
    let weak = msprt_lambda(1.0, 1.0, 1.0);
    let strong = msprt_lambda(5.0, 1.0, 1.0);
    assert!(strong > weak && strong > 20.0, "{weak} {strong}");
    // closed form at diff = 0: sqrt(V / (V + τ²))
    assert!(close(msprt_lambda(0.0, 1.0, 3.0), 0.5, 1e-12));
}

fn unit(imp: f64, clicks: f64, buys: f64, rev: f64) -> UnitTotals {
    UnitTotals { lists: 1.0, impressions: imp, clicks, carts: clicks / 2.0, purchases: buys, revenue: rev }
}

#[test]
fn analysis_reports_every_variant_metric_comparison_and_timeline() {
    let design = Design { variants: vec!["a".into(), "b".into()], shares: vec![1.0, 1.0], primary: Metric::Ctr };
    let mut rows = Vec::new();
    let mut rng = daogou_core::SeededRng::new(3);
    for u in 0..2_000u64 {
        let v = (u % 2) as usize;
        let p = if v == 0 { 0.05 } else { 0.10 }; // b doubles the click rate
        let clicks = (0..10).filter(|_| rng.f64() < p).count() as f64;
        let buys = if rng.f64() < 0.1 { 1.0 } else { 0.0 };
        rows.push(Row { variant: v, unit: u, bucket: (u / 500) as u32, totals: unit(10.0, clicks, buys, buys * 20.0) });
    }
    let a = analyze(&design, &rows, 1_000, 3_600, 4, &SequentialConfig::default());
    assert_eq!(a.timeline.len(), 4);
    assert_eq!(a.timeline[3].at, 1_000 + 4 * 3_600);
    assert_eq!(a.variants[0].summary.users + a.variants[1].summary.users, 2_000);
    let ctr_a = a.variants[0].summary.metrics["ctr"];
    let ctr_b = a.variants[1].summary.metrics["ctr"];
    assert!(ctr_a.ci_low < 0.05 && 0.05 < ctr_a.ci_high, "{ctr_a:?}");
    assert!(ctr_b.ci_low < 0.10 && 0.10 < ctr_b.ci_high, "{ctr_b:?}");
    for key in ["ctr", "add_to_cart_rate", "conversion_rate", "revenue_per_user"] {
        assert!(a.variants[1].summary.metrics.contains_key(key), "{key}");
    }
    let c = &a.comparisons[0];
    assert!(c.significant && c.p_value < 1e-6, "{c:?}");
    assert!(close(c.relative.unwrap(), 1.0, 0.25));
    // the p-value never rises over the timeline
    let ps: Vec<f64> = a.timeline.iter().map(|p| p.variants[1].p_value).collect();
    assert!(ps.windows(2).all(|w| w[1] <= w[0]), "{ps:?}");
    assert!(!a.srm.alarm);
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["primary_metric"], "ctr");
    assert!(json["variants"][1]["metrics"]["ctr"]["ci_low"].is_number());
    assert_eq!(json["variants"][1]["users"], 1_000);
}

#[test]
fn a_unit_seen_in_several_buckets_counts_once() {
    let design = Design { variants: vec!["a".into(), "b".into()], shares: vec![1.0, 1.0], primary: Metric::Ctr };
    let rows = [
        Row { variant: 0, unit: 1, bucket: 0, totals: unit(10.0, 1.0, 0.0, 0.0) },
        Row { variant: 0, unit: 1, bucket: 1, totals: unit(10.0, 3.0, 1.0, 5.0) },
        Row { variant: 1, unit: 2, bucket: 1, totals: unit(10.0, 0.0, 0.0, 0.0) },
    ];
    let a = analyze(&design, &rows, 0, 60, 2, &SequentialConfig::default());
    assert_eq!(a.srm.observed, vec![1, 1]);
    assert_eq!(a.variants[0].summary.impressions, 20.0);
    assert_eq!(a.variants[0].summary.clicks, 4.0);
    assert_eq!(a.timeline[0].variants[0].users, 1);
    assert_eq!(a.timeline[0].variants[1].users, 0);
    assert_eq!(a.comparisons[0].p_value, 1.0, "too few units to reject");
}
