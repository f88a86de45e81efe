//! Metric definitions. Every top-N metric is computed per user and averaged over the users
//! evaluated (users with at least one relevant test item), except coverage (a property of all
//! lists together) and F1 (the harmonic mean of the averaged precision and recall).

use daogou_algo::{topk::top_k, Recommender};
use daogou_core::Interactions;
use rayon::prelude::*;
use serde::Serialize;

/// Rating-prediction error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RatingMetrics {
    /// Root mean squared error.
    pub rmse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Number of predictions.
    pub n: usize,
}

/// RMSE and MAE of `(predicted, actual)` pairs.
pub fn rating_metrics(pairs: impl IntoIterator<Item = (f32, f32)>) -> RatingMetrics {
    let (mut se, mut ae, mut n) = (0f64, 0f64, 0usize);
    for (p, a) in pairs {
        let d = f64::from(p) - f64::from(a);
        se += d * d;
        ae += d.abs();
        n += 1;
    }
    if n == 0 {
        return RatingMetrics { rmse: f64::NAN, mae: f64::NAN, n };
    }
    RatingMetrics { rmse: (se / n as f64).sqrt(), mae: ae / n as f64, n }
}

/// Top-N quality at cut-off `k`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopNMetrics {
    /// The cut-off.
    pub k: usize,
    /// Hits in the top k / k.
    pub precision: f64,
    /// Hits in the top k / number of relevant items.
    pub recall: f64,
    /// 2PR/(P+R) of the averaged precision and recall.
    pub f1: f64,
    /// Normalised discounted cumulative gain with binary relevance.
    pub ndcg: f64,
    /// Mean average precision at k (AP normalised by min(|relevant|, k)).
    pub map: f64,
    /// Mean reciprocal rank of the first relevant item in the **full** ranking.
    pub mrr: f64,
    /// Share of users with at least one hit in the top k.
    pub hit_rate: f64,
    /// Distinct items in all top-k lists / catalogue size.
    pub coverage: f64,
    /// Mean self-information −log2(popularity share) of recommended items.
    pub novelty: f64,
    /// Intra-list diversity: share of item pairs in a list with different categories
    /// (None when the catalogue has no categories).
    pub diversity: Option<f64>,
    /// Users with at least one relevant test item that were ranked.
    pub users_evaluated: usize,
}

/// One user's test case: the user and the relevant test items (sorted, unique).
#[derive(Debug, Clone)]
pub struct TestCase {
    /// Training user index.
    pub user: u32,
    /// Relevant items, sorted ascending.
    pub relevant: Vec<u32>,
}

#[derive(Default)]
struct UserScore {
    precision: f64,
    recall: f64,
    ndcg: f64,
    ap: f64,
    rr: f64,
    hit: f64,
    novelty: f64,
    diversity: Option<f64>,
}

/// Rank the full catalogue for each test user and average the metrics.
///
/// * `exclude_train`: remove each user's training items from the candidates (and the
///   caller should then not count them as relevant).
/// * `category`: the category id of each item, for intra-list diversity.
pub fn evaluate_topn(
    model: &dyn Recommender,
    train: &Interactions,
    cases: &[TestCase],
    k: usize,
    exclude_train: bool,
    category: Option<&[Option<u32>]>,
) -> TopNMetrics {
    evaluate_topn_with(model, train, cases, k, exclude_train, category, &|_| {})
}

/// [`evaluate_topn`], calling `ranked(n)` now and then with the number of users ranked so far
/// (for progress bars on long runs).
pub fn evaluate_topn_with(
    model: &dyn Recommender,
    train: &Interactions,
    cases: &[TestCase],
    k: usize,
    exclude_train: bool,
    category: Option<&[Option<u32>]>,
    ranked: &(dyn Fn(u64) + Sync),
) -> TopNMetrics {
    let views = [View { cases, candidates: None }];
    evaluate_topn_views(model, train, &views, k, exclude_train, category, ranked).remove(0)
}

/// One way of judging the same rankings: its test cases and, optionally, the only items that
/// may be recommended (`candidates[i]`; e.g. the cold items of a cold-start split). Coverage is
/// then relative to the candidates.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// Test cases (a user may be missing from a view).
    pub cases: &'a [TestCase],
    /// Candidate items, by item index; `None`: the whole catalogue.
    pub candidates: Option<&'a [bool]>,
}

/// [`evaluate_topn_with`] for several views of one run at once: each user's catalogue is
/// scored once and ranked again within each view's candidates. One result per view.
pub fn evaluate_topn_views(
    model: &dyn Recommender,
    train: &Interactions,
    views: &[View<'_>],
    k: usize,
    exclude_train: bool,
    category: Option<&[Option<u32>]>,
    ranked: &(dyn Fn(u64) + Sync),
) -> Vec<TopNMetrics> {
    // user → its case in each view
    let mut by_user: std::collections::BTreeMap<u32, Vec<(usize, &TestCase)>> = std::collections::BTreeMap::new();
    for (v, view) in views.iter().enumerate() {
        for case in view.cases {
            by_user.entry(case.user).or_default().push((v, case));
        }
    }
    let users: Vec<(u32, Vec<(usize, &TestCase)>)> = by_user.into_iter().collect();
    let done = std::sync::atomic::AtomicU64::new(0);
    let n_items = model.n_items();
    let n_users = train.n_users().max(1) as f64;
    // popularity share for novelty; unseen items count as seen once
    let self_info: Vec<f64> = (0..n_items)
        .map(|i| {
            let pop = if i < train.n_items() { train.item_row(i as u32).0.len() } else { 0 };
            -((pop.max(1) as f64) / n_users).log2()
        })
        .collect();

    let per_user: Vec<Vec<(usize, UserScore, Vec<u32>)>> = users
        .par_iter()
        .map_init(
            || (vec![0f32; n_items], Vec::new()),
            |(scores, within), (user, cases)| {
                model.score_user(*user, scores);
                if exclude_train {
                    for &i in train.user_row(*user).0 {
                        scores[i as usize] = f32::NEG_INFINITY;
                    }
                }
                let out = cases
                    .iter()
                    .map(|&(v, case)| {
                        let s: &[f32] =
                            match views[v].candidates {
                                None => scores,
                                Some(allowed) => {
                                    within.clear();
                                    within.extend(scores.iter().zip(allowed).map(|(&x, &ok)| {
                                        if ok {
                                            x
                                        } else {
                                            f32::NEG_INFINITY
                                        }
                                    }));
                                    within
                                }
                            };
                        let list: Vec<u32> = top_k(s, k, |_| false).into_iter().map(|(i, _)| i).collect();
                        (v, score_user(&list, &case.relevant, s, k, &self_info, category), list)
                    })
                    .collect();
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if n.is_multiple_of(256) {
                    ranked(n);
                }
                out
            },
        )
        .collect();
    let mut per_view: Vec<Vec<(UserScore, Vec<u32>)>> = views.iter().map(|_| Vec::new()).collect();
    for (v, s, list) in per_user.into_iter().flatten() {
        per_view[v].push((s, list));
    }
    views
        .iter()
        .zip(per_view)
        .map(|(view, per_user)| {
            let n_candidates = view.candidates.map_or(n_items, |c| c.iter().filter(|&&ok| ok).count());
            average(&per_user, k, n_items, n_candidates)
        })
        .collect()
}

/// The metrics of one view from its users' scores and lists.
fn average(per_user: &[(UserScore, Vec<u32>)], k: usize, n_items: usize, n_candidates: usize) -> TopNMetrics {
    let n = per_user.len();
    let mut recommended = vec![false; n_items];
    let mut sum = UserScore::default();
    let (mut div_sum, mut div_n) = (0f64, 0usize);
    for (s, list) in per_user {
        sum.precision += s.precision;
        sum.recall += s.recall;
        sum.ndcg += s.ndcg;
        sum.ap += s.ap;
        sum.rr += s.rr;
        sum.hit += s.hit;
        sum.novelty += s.novelty;
        if let Some(d) = s.diversity {
            div_sum += d;
            div_n += 1;
        }
        for &i in list {
            recommended[i as usize] = true;
        }
    }
    let avg = |x: f64| if n == 0 { 0.0 } else { x / n as f64 };
    let (p, r) = (avg(sum.precision), avg(sum.recall));
    TopNMetrics {
        k,
        precision: p,
        recall: r,
        f1: if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 },
        ndcg: avg(sum.ndcg),
        map: avg(sum.ap),
        mrr: avg(sum.rr),
        hit_rate: avg(sum.hit),
        coverage: recommended.iter().filter(|&&b| b).count() as f64 / n_candidates.max(1) as f64,
        novelty: avg(sum.novelty),
        diversity: (div_n > 0).then(|| div_sum / div_n as f64),
        users_evaluated: n,
    }
}

fn score_user(
    list: &[u32],
    relevant: &[u32],
    scores: &[f32],
    k: usize,
    self_info: &[f64],
    category: Option<&[Option<u32>]>,
) -> UserScore {
    let is_rel = |i: u32| relevant.binary_search(&i).is_ok();
    let (mut hits, mut dcg, mut ap) = (0usize, 0f64, 0f64);
    for (rank, &i) in list.iter().enumerate() {
        if is_rel(i) {
            hits += 1;
            dcg += 1.0 / ((rank + 2) as f64).log2();
            ap += hits as f64 / (rank + 1) as f64;
        }
    }
    let ideal = relevant.len().min(k);
    let idcg: f64 = (0..ideal).map(|r| 1.0 / ((r + 2) as f64).log2()).sum();
    let novelty = if list.is_empty() {
        0.0
    } else {
        list.iter().map(|&i| self_info[i as usize]).sum::<f64>() / list.len() as f64
    };
    UserScore {
        precision: hits as f64 / k as f64,
        recall: if relevant.is_empty() { 0.0 } else { hits as f64 / relevant.len() as f64 },
        ndcg: if idcg > 0.0 { dcg / idcg } else { 0.0 },
        ap: if ideal > 0 { ap / ideal as f64 } else { 0.0 },
        rr: reciprocal_rank(relevant, scores),
        hit: if hits > 0 { 1.0 } else { 0.0 },
        novelty,
        diversity: category.and_then(|c| intra_list_diversity(list, c)),
    }
}

/// 1 / rank of the best-scored relevant item in the full ranking (ties broken by item index,
/// as in [`top_k`]); 0 when no relevant item can be ranked.
fn reciprocal_rank(relevant: &[u32], scores: &[f32]) -> f64 {
    let valid = |s: f32| !(s.is_nan() || s == f32::NEG_INFINITY);
    let best = relevant
        .iter()
        .map(|&i| (i, scores[i as usize]))
        .filter(|&(_, s)| valid(s))
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
    let Some((bi, bs)) = best else { return 0.0 };
    let ahead =
        scores.iter().enumerate().filter(|&(i, &s)| valid(s) && (s > bs || (s == bs && (i as u32) < bi))).count();
    1.0 / (ahead + 1) as f64
}

fn intra_list_diversity(list: &[u32], category: &[Option<u32>]) -> Option<f64> {
    let cats: Vec<u32> = list.iter().filter_map(|&i| category.get(i as usize).copied().flatten()).collect();
    if cats.len() < 2 {
        return None;
    }
    let (mut diff, mut pairs) = (0usize, 0usize);
    for a in 0..cats.len() {
        for b in a + 1..cats.len() {
            pairs += 1;
            diff += usize::from(cats[a] != cats[b]);
        }
    }
    Some(diff as f64 / pairs as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rating_error() {
        let m = rating_metrics([(3.0, 4.0), (5.0, 5.0), (2.0, 4.0)]);
        assert!((m.mae - 1.0).abs() < 1e-12);
        assert!((m.rmse - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn per_user_metrics_by_hand() {
        // list: 5, 1, 7 (k=3); relevant {1, 9}; scores rank 9 fourth.
        let mut scores = vec![0.0f32; 10];
        scores[5] = 0.9;
        scores[1] = 0.8;
        scores[7] = 0.7;
        scores[9] = 0.6;
        let info = vec![1.0; 10];
        let s = score_user(&[5, 1, 7], &[1, 9], &scores, 3, &info, None);
        assert!((s.precision - 1.0 / 3.0).abs() < 1e-12);
        assert!((s.recall - 0.5).abs() < 1e-12);
        let idcg = 1.0 + 1.0 / 3f64.log2();
        assert!((s.ndcg - (1.0 / 3f64.log2()) / idcg).abs() < 1e-12);
        assert!((s.ap - (0.5 / 2.0)).abs() < 1e-12);
        assert!((s.rr - 0.5).abs() < 1e-12);
        assert_eq!(s.hit, 1.0);
    }

    #[test]
    fn diversity_counts_pairs_of_different_categories() {
        let cat = vec![Some(0), Some(0), Some(1), None];
        assert_eq!(intra_list_diversity(&[0, 1, 2], &cat), Some(2.0 / 3.0));
        assert_eq!(intra_list_diversity(&[0, 3], &cat), None);
    }
}
