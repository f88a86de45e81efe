//! Test fixtures: planted-cluster implicit data, the MovieLens-100k folds.

use std::path::PathBuf;

use daogou_core::{Aggregate, Interaction, Interactions, SeededRng};

/// Implicit data with `c` clusters: user u is in cluster u % c, item i in cluster i % c; each
/// user interacts with `per_user` items, 90 % from their own cluster. One in-cluster item per
/// user is held out. Returns (train matrix, held-out (user, item) pairs).
pub fn planted_clusters(
    n_users: usize,
    n_items: usize,
    c: usize,
    per_user: usize,
    seed: u64,
) -> (Interactions, Vec<(u32, u32)>) {
    let mut rng = SeededRng::new(seed);
    let mut train = Vec::new();
    let mut held = Vec::new();
    for u in 0..n_users {
        let cu = u % c;
        let mut items: Vec<usize> = Vec::new();
        while items.len() < per_user {
            let i = if rng.f64() < 0.9 { rng.below(n_items / c) * c + cu } else { rng.below(n_items) };
            if i < n_items && !items.contains(&i) {
                items.push(i);
            }
        }
        let hold = items.iter().position(|&i| i % c == cu).expect("an in-cluster item");
        for (k, &i) in items.iter().enumerate() {
            if k == hold {
                held.push((u as u32, i as u32));
            } else {
                train.push(Interaction::new(u as u32, i as u32, 1.0 + rng.below(3) as f32));
            }
        }
    }
    (Interactions::from_interactions(n_users, n_items, &train, Aggregate::Sum), held)
}

/// Hit rate@n of the held-out pairs, excluding training items from the ranking.
pub fn hit_rate(model: &dyn daogou_algo::Recommender, m: &Interactions, held: &[(u32, u32)], n: usize) -> f64 {
    let mut scores = vec![0f32; model.n_items()];
    let mut hits = 0usize;
    for &(u, i) in held {
        model.score_user(u, &mut scores);
        assert!(scores.iter().all(|s| !s.is_nan()), "NaN score");
        let seen = m.user_row(u).0;
        let top = daogou_algo::topk::top_k(&scores, n, |j| seen.binary_search(&j).is_ok());
        hits += usize::from(top.iter().any(|&(j, _)| j == i));
    }
    hits as f64 / held.len() as f64
}

/// The MovieLens-100k directory, if present (SKIPPED otherwise; a failure with `CI=true`).
pub fn ml100k_dir() -> Option<PathBuf> {
    daogou_core::datasets::shared("ml-100k/u1.base").and_then(|f| f.parent().map(|d| d.to_owned()))
}

/// One fold: train matrix and test triples with `None` ids for users/items unknown to train.
pub struct Fold {
    pub train: Interactions,
    pub test: Vec<(Option<u32>, Option<u32>, f32)>,
}

/// Read `u{k}.base` / `u{k}.test` (tab-separated user item rating timestamp).
pub fn ml100k_fold(dir: &std::path::Path, k: usize) -> Fold {
    let read = |name: String| -> Vec<(String, String, f32)> {
        let text = std::fs::read_to_string(dir.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f[0].to_owned(), f[1].to_owned(), f[2].trim().parse().expect("rating"))
            })
            .collect()
    };
    let base = read(format!("u{k}.base"));
    let mut users = daogou_core::IdMap::new();
    let mut items = daogou_core::IdMap::new();
    let data: Vec<Interaction> =
        base.iter().map(|(u, i, r)| Interaction::new(users.get_or_insert(u), items.get_or_insert(i), *r)).collect();
    let train = Interactions::from_interactions(users.len(), items.len(), &data, Aggregate::Last);
    let test = read(format!("u{k}.test")).into_iter().map(|(u, i, r)| (users.get(&u), items.get(&i), r)).collect();
    Fold { train, test }
}

/// (RMSE, MAE) of a rating predictor on a fold; unknown users/items get the global mean.
pub fn rmse_mae(p: &dyn daogou_algo::RatingPredictor, fold: &Fold) -> (f64, f64) {
    let d = fold.train.by_user.data();
    let mean = d.iter().map(|&x| f64::from(x)).sum::<f64>() / d.len() as f64;
    let pairs: Vec<(u32, u32)> = fold.test.iter().filter_map(|&(u, i, _)| Some((u?, i?))).collect();
    let mut preds = p.predict_many(&pairs).into_iter();
    let (mut se, mut ae) = (0.0, 0.0);
    for &(u, i, r) in &fold.test {
        let est = if u.is_some() && i.is_some() { f64::from(preds.next().unwrap()) } else { mean };
        se += (est - f64::from(r)).powi(2);
        ae += (est - f64::from(r)).abs();
    }
    let n = fold.test.len() as f64;
    ((se / n).sqrt(), ae / n)
}
