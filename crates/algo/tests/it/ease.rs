use daogou_algo::ease::*;
use daogou_algo::*;
use daogou_core::{Interactions, Params};
/// B from a plain Gauss–Jordan inverse of XᵀX + λI (binary X), the reference for EASE's fit.
fn dense_reference(m: &daogou_core::Csr, lambda: f64) -> Vec<f64> {
    let n = m.n_cols();
    let mut a = vec![0f64; n * n];
    for r in 0..m.n_rows() {
        let (c, _) = m.row(r);
        for &i in c {
            for &j in c {
                a[i as usize * n + j as usize] += 1.0;
            }
        }
    }
    for i in 0..n {
        a[i * n + i] += lambda;
    }
    let mut inv = vec![0f64; n * n];
    for i in 0..n {
        inv[i * n + i] = 1.0;
    }
    for col in 0..n {
        let piv = a[col * n + col];
        for j in 0..n {
            a[col * n + j] /= piv;
            inv[col * n + j] /= piv;
        }
        for r in 0..n {
            if r != col {
                let f = a[r * n + col];
                for j in 0..n {
                    a[r * n + j] -= f * a[col * n + j];
                    inv[r * n + j] -= f * inv[col * n + j];
                }
            }
        }
    }
    let mut b = vec![0f64; n * n];
    for i in 0..n {
        for j in 0..n {
            b[i * n + j] = if i == j { 0.0 } else { -inv[i * n + j] / inv[j * n + j] };
        }
    }
    b
}

use crate::testutil::{hit_rate, planted_clusters};

fn fit_with(m: &Interactions, p: Params) -> Ease {
    Ease::fit(&TrainData::new(m, false), &p).unwrap()
}

#[test]
fn matches_the_closed_form() {
    let (m, _) = planted_clusters(120, 70, 3, 9, 4);
    for lambda in [5.0, 300.0] {
        let model = fit_with(&m, Params::new().with("lambda", lambda));
        let want = dense_reference(&m.by_user, lambda);
        let err = model.b.iter().zip(&want).map(|(a, b)| (f64::from(*a) - b).abs()).fold(0.0, f64::max);
        assert!(err < 1e-5, "λ={lambda}: max |B − B_ref| = {err}");
        assert!((0..70).all(|i| model.row(i)[i as usize] == 0.0), "zero diagonal");
    }
}

#[test]
fn ranks_planted_clusters_and_explains_exactly() {
    let (m, held) = planted_clusters(400, 200, 5, 12, 3);
    let model = fit_with(&m, Params::new().with("lambda", 50));
    let hr = hit_rate(&model, &m, &held, 10);
    assert!(hr > 0.3, "hit rate@10 {hr} (random ≈ 0.05)");
    let sim = model.similar_items(7, 10).unwrap();
    assert_eq!(sim.len(), 10);
    assert!(sim.windows(2).all(|x| x[0].1 >= x[1].1));
    assert!(sim.iter().filter(|(j, _)| j % 5 == 2).count() >= 8, "{sim:?}");
    // contributions add up to the score; binary: the values do not matter
    let history = [(2u32, 3.0f32), (7, 1.0), (12, 2.0), (3, 1.0)];
    let mut s = vec![0f32; 200];
    model.score_history(&history, &mut s);
    let parts: f32 = history.iter().map(|&(j, _)| model.row(j)[17]).sum();
    assert!((parts - s[17]).abs() < 1e-5);
    let why = model.explain(&history, 17, 2);
    assert!(why.len() <= 2 && why.windows(2).all(|x| x[0].1 >= x[1].1) && !why.is_empty(), "{why:?}");
    // a history without positives, or an unknown user: popularity, finite
    model.score_history(&[(5, -1.0)], &mut s);
    assert!(s.iter().all(|x| x.is_finite()));
    model.score_user(10_000, &mut s);
    assert!(s.iter().all(|x| x.is_finite()));
    let weighted = fit_with(&m, Params::new().with("lambda", 50).with("binary", false));
    assert_ne!(weighted.b, model.b);
}

#[test]
fn refuses_catalogues_that_do_not_fit_saying_how_many_do() {
    let (m, _) = planted_clusters(30, 40, 2, 5, 1);
    let t = TrainData::new(&m, false);
    let e = Ease::fit(&t, &Params::new().with("max_items", 39)).unwrap_err().to_string();
    assert!(e.contains("40 items exceed max_items = 39") && e.contains("at most"), "{e}");
    // 1 GiB available: sqrt(2^30 / 16) = 8192 items fit
    let e = check_size(10_000, 30_000, Some((1u64 << 30) as f64)).unwrap_err().to_string();
    assert!(e.contains("at most 8192 items"), "{e}");
    assert!(check_size(8_192, 30_000, Some((1u64 << 30) as f64)).is_ok());
    assert!(check_size(8_192, 30_000, None).is_ok());
    for (k, v) in [("lambda", "0"), ("lambda", "-3"), ("max_items", "0"), ("lamda", "3")] {
        let e = Ease::fit(&t, &Params::new().with(k, v)).unwrap_err().to_string();
        assert!(e.contains(k), "{k}={v}: {e}");
    }
}
