use daogou_core::SeededRng;
use daogou_eval::significance::*;

fn mean(s: &[f64], n: usize) -> f64 {
    s[0] / n as f64
}

fn rows(x: &[f64]) -> Vec<Vec<f64>> {
    x.iter().map(|&v| vec![v]).collect()
}

fn sample(rng: &mut SeededRng, n: usize, shift: f64) -> Vec<f64> {
    (0..n).map(|_| rng.normal() + shift).collect()
}

#[test]
fn identical_models_differ_by_nothing() {
    let x = rows(&sample(&mut SeededRng::new(1), 200, 0.3));
    let d = paired_bootstrap(&x, &x, &[&mean], &Bootstrap::default())[0];
    assert_eq!((d.diff, d.ci_low, d.ci_high, d.p_value), (0.0, 0.0, 0.0, 1.0));
}

#[test]
fn better_for_every_user_is_significant() {
    let mut rng = SeededRng::new(2);
    let a = sample(&mut rng, 100, 0.0);
    let b: Vec<f64> = a.iter().map(|x| x + 0.05 + 0.01 * rng.f64()).collect();
    let d = paired_bootstrap(&rows(&a), &rows(&b), &[&mean], &Bootstrap::default())[0];
    assert!(d.diff > 0.05 && d.ci_low > 0.05 && d.ci_high < 0.06, "{d:?}");
    assert!(d.p_value < 0.05, "{d:?}");
    // and the other way round
    let d = paired_bootstrap(&rows(&b), &rows(&a), &[&mean], &Bootstrap::default())[0];
    assert!(d.ci_high < 0.0 && d.p_value < 0.05, "{d:?}");
}

#[test]
fn pairing_removes_the_spread_between_users() {
    // users differ a lot (sd 1), the models by a small constant: an unpaired test would
    // see nothing, the paired one must
    let mut rng = SeededRng::new(3);
    let a = sample(&mut rng, 300, 0.0);
    let b: Vec<f64> = a.iter().map(|x| x + 0.02 + 0.05 * rng.normal()).collect();
    let d = paired_bootstrap(&rows(&a), &rows(&b), &[&mean], &Bootstrap::default())[0];
    assert!(d.ci_low > 0.0 && d.p_value < 0.01, "{d:?}");
}

#[test]
fn no_true_difference_is_rarely_significant_and_the_interval_covers_the_truth() {
    // per-user differences ~ N(delta, 1): the 95 % interval should hold delta about 95 %
    // of the time, and with delta = 0 the test should reject about 5 % of the time
    let boot = Bootstrap { resamples: 400, seed: 9 };
    let mut rng = SeededRng::new(4);
    let runs = 200;
    let (mut covered, mut rejected) = (0, 0);
    for r in 0..runs {
        let delta = if r % 2 == 0 { 0.0 } else { 0.1 };
        let a = sample(&mut rng, 150, 0.0);
        let b: Vec<f64> = a.iter().map(|x| x + delta + rng.normal()).collect();
        let d = paired_bootstrap(&rows(&a), &rows(&b), &[&mean], &Bootstrap { seed: r, ..boot })[0];
        covered += usize::from(d.ci_low <= delta && delta <= d.ci_high);
        rejected += usize::from(delta == 0.0 && d.p_value < 0.05);
    }
    let coverage = covered as f64 / runs as f64;
    assert!((0.89..=0.99).contains(&coverage), "coverage {coverage}");
    assert!(rejected <= 12, "{rejected} of 100 null runs rejected");
}

#[test]
fn the_same_seed_gives_the_same_interval() {
    let mut rng = SeededRng::new(5);
    let (a, b) = (rows(&sample(&mut rng, 50, 0.0)), rows(&sample(&mut rng, 50, 0.1)));
    let boot = Bootstrap { resamples: 200, seed: 7 };
    let one = paired_bootstrap(&a, &b, &[&mean], &boot);
    assert_eq!(one, paired_bootstrap(&a, &b, &[&mean], &boot));
    assert_ne!(one, paired_bootstrap(&a, &b, &[&mean], &Bootstrap { seed: 8, ..boot }));
}

#[test]
fn ratio_statistics_are_recomputed_on_each_resample() {
    // RMSE of the pooled errors, not a mean of per-user RMSEs: a user with many ratings
    // weighs more
    let a = vec![vec![4.0, 4.0], vec![0.0, 1.0]]; // sums of squared errors, counts
    let b = vec![vec![1.0, 4.0], vec![0.0, 1.0]];
    let rmse = |s: &[f64], _: usize| (s[0] / s[1]).sqrt();
    let d = paired_bootstrap(&a, &b, &[&rmse], &Bootstrap::default())[0];
    let expected = (1.0f64 / 5.0).sqrt() - (4.0f64 / 5.0).sqrt();
    assert!((d.diff - expected).abs() < 1e-12, "{d:?}");
    assert!(d.ci_high <= 0.0, "{d:?}");
}

#[test]
fn no_users_no_interval() {
    let d = paired_bootstrap(&[], &[], &[&mean], &Bootstrap::default())[0];
    assert!(d.diff.is_nan() && d.ci_low.is_nan() && d.p_value.is_nan());
}
