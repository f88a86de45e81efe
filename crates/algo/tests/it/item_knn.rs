use crate::testutil::{hit_rate, ml100k_dir, ml100k_fold, planted_clusters, rmse_mae};
use daogou_algo::item_knn::*;
use daogou_algo::*;
use daogou_core::{Interactions, Params};

#[test]
fn ranks_planted_clusters_with_every_weighting() {
    let (m, held) = planted_clusters(400, 200, 5, 12, 3);
    let t = TrainData::new(&m, false);
    for (w, sim, extra) in [
        ("none", "cosine", ""),
        ("bm25", "dot", ""),
        ("tfidf", "cosine", ""),
        ("none", "cosine", "binary"),
        ("bm25", "cosine", "norm"),
    ] {
        let mut p = Params::new().with("weighting", w).with("similarity", sim);
        if extra == "binary" {
            p = p.with("binary", true);
        }
        if extra == "norm" {
            p = p.with("normalize_rows", true).with("shrinkage", 10);
        }
        let model = ItemKnn::fit(&t, &p).unwrap();
        let hr = hit_rate(&model, &m, &held, 10);
        assert!(hr > 0.2, "{w}/{sim}/{extra}: hit rate@10 {hr} (random ≈ 0.05)");
        let sim_items = model.similar_items(7, 10).unwrap();
        assert_eq!(sim_items.len(), 10);
        assert!(sim_items.windows(2).all(|x| x[0].1 >= x[1].1));
        let same = sim_items.iter().filter(|x| x.0 % 5 == 7 % 5).count();
        assert!(same >= 8, "{w}/{sim}/{extra}: similar items of 7: {sim_items:?}");
    }
}

#[test]
fn explains_and_scores_histories_deterministically() {
    let (m, _) = planted_clusters(300, 100, 4, 10, 9);
    let model = ItemKnn::fit(&TrainData::new(&m, false), &Params::new()).unwrap();
    let h = [(1u32, 1.0f32), (5, 2.0), (9, 1.0), (2, 1.0)];
    let mut s = vec![0.0; 100];
    model.score_history(&h, &mut s);
    assert!(s.iter().all(|x| x.is_finite()));
    let top = daogou_algo::topk::top_k(&s, 1, |i| h.iter().any(|x| x.0 == i))[0].0;
    let why = model.explain(&h, top, 3);
    assert!(!why.is_empty() && why.windows(2).all(|x| x[0].1 >= x[1].1));
    let total: f32 = model.explain(&h, top, 10).iter().map(|x| x.1).sum();
    assert!((total - s[top as usize]).abs() < 1e-4, "contributions add up to the score");
    let again = ItemKnn::fit(&TrainData::new(&m, false), &Params::new()).unwrap();
    let mut s2 = vec![0.0; 100];
    again.score_history(&h, &mut s2);
    assert_eq!(s, s2);
}

#[test]
fn sparse_scoring_matches_the_dense_scores_and_explanations() {
    let (m, _) = planted_clusters(300, 120, 4, 10, 5);
    let implicit = ItemKnn::fit(&TrainData::new(&m, false), &Params::new()).unwrap();
    // ratings 1–5 on the same pairs: the explicit vote weights
    let ratings = m.by_user.map_values(|u, i, _| 1.0 + ((u * 7 + i as usize) % 5) as f32);
    let explicit = ItemKnn::fit(&TrainData::new(&Interactions::from_csr(ratings), true), &Params::new()).unwrap();
    let mut x = 99u64;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let mut reached = Vec::new();
    for model in [&implicit, &explicit] {
        for t in 0..40 {
            // random histories with repeats, an unknown item and a training row
            let len = next(30) as usize;
            let mut h: Vec<(u32, f32)> = (0..len).map(|_| (next(125) as u32, 1.0 + next(5) as f32)).collect();
            if t == 0 {
                let (is, vs) = m.user_row(3);
                h = is.iter().copied().zip(vs.iter().copied()).collect();
            }
            let mut dense = [0.0; 120];
            model.score_history(&h, &mut dense);
            assert!(model.score_reached(&h, &mut reached));
            let floor = reached.iter().map(|r| r.score).fold(f32::INFINITY, f32::min);
            let mut seen = [false; 120];
            for r in &reached {
                assert!(!seen[r.item as usize], "each item once");
                seen[r.item as usize] = true;
                assert_eq!(r.score.to_bits(), dense[r.item as usize].to_bits(), "item {}", r.item);
                assert_eq!(r.because, model.explain(&h, r.item, 1).first().map(|e| e.0), "item {}", r.item);
            }
            for (i, &d) in dense.iter().enumerate().filter(|&(i, _)| !seen[i]) {
                assert!(d < floor, "unreached item {i} ({d}) must rank below every reached one ({floor})");
            }
            // the same top-k
            let owned = |i: u32| h.iter().any(|e| e.0 == i);
            let top = daogou_algo::topk::top_k(&dense, 10, owned);
            let sparse = daogou_algo::topk::top_k_by(reached.iter().map(|r| (r.item, r.score, ())), 10, owned);
            let n = sparse.len();
            assert_eq!(&top[..n], &sparse.iter().map(|&(i, s, ())| (i, s)).collect::<Vec<_>>()[..]);
            assert!(n == 10 || top[n..].iter().all(|e| !seen[e.0 as usize]));
        }
    }
    assert!(!implicit.score_reached(&[], &mut reached) || reached.is_empty());
}

#[test]
fn validates_params() {
    let (m, _) = planted_clusters(50, 20, 2, 5, 1);
    let t = TrainData::new(&m, false);
    for bad in [
        ("k", "0"),
        ("weighting", "bm26"),
        ("similarity", "pearson"),
        ("bm25_b", "2"),
        ("binary", "maybe"),
        ("kk", "1"),
    ] {
        let e = ItemKnn::fit(&t, &Params::new().with(bad.0, bad.1)).unwrap_err().to_string();
        assert!(e.contains(bad.0), "{bad:?}: {e}");
    }
    let e = TrainData::new(&m, true);
    assert!(ItemKnn::fit(&e, &Params::new().with("weighting", "bm25")).is_err());
    assert!(ItemKnn::fit(&e, &Params::new()).unwrap().as_rating_predictor().is_some());
}

#[test]
fn explicit_prediction_on_movielens_u1() {
    let Some(dir) = ml100k_dir() else {
        println!("SKIPPED: MovieLens-100k not found (set DAOGOU_DATASETS)");
        return;
    };
    let fold = ml100k_fold(&dir, 1);
    for sim in ["pearson", "adjusted_cosine"] {
        let t = std::time::Instant::now();
        let model = ItemKnn::fit(&TrainData::new(&fold.train, true), &Params::new().with("similarity", sim)).unwrap();
        let (rmse, mae) = rmse_mae(&model, &fold);
        println!("item-knn {sim} k=40 u1: RMSE {rmse:.4} MAE {mae:.4} in {:.3}s", t.elapsed().as_secs_f64());
        assert!(rmse < 0.99, "{sim}: RMSE {rmse}");
    }
}
