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

/// Sums of squared and absolute errors: of all test ratings, or of one user's (the paired
/// bootstrap adds up users' sums and asks [`RatingSums::metrics`] again).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RatingSums {
    /// Sum of squared errors.
    pub se: f64,
    /// Sum of absolute errors.
    pub ae: f64,
    /// Number of predictions.
    pub n: usize,
}

impl RatingSums {
    /// Count one `(predicted, actual)` pair.
    pub fn add(&mut self, predicted: f32, actual: f32) {
        let d = f64::from(predicted) - f64::from(actual);
        self.se += d * d;
        self.ae += d.abs();
        self.n += 1;
    }

    /// RMSE and MAE of the pairs counted (NaN when none).
    pub fn metrics(&self) -> RatingMetrics {
        if self.n == 0 {
            return RatingMetrics { rmse: f64::NAN, mae: f64::NAN, n: 0 };
        }
        let n = self.n as f64;
        RatingMetrics { rmse: (self.se / n).sqrt(), mae: self.ae / n, n: self.n }
    }
}

/// RMSE and MAE of `(predicted, actual)` pairs.
pub fn rating_metrics(pairs: impl IntoIterator<Item = (f32, f32)>) -> RatingMetrics {
    let mut sums = RatingSums::default();
    for (p, a) in pairs {
        sums.add(p, a);
    }
    sums.metrics()
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
    /// Each evaluated user's scores, by user index ascending (for paired comparisons; not
    /// part of the JSON).
    #[serde(skip)]
    pub per_user: Vec<UserMetrics>,
    /// Each evaluated user's top-k list, best first, in the order of `per_user` (for the
    /// popularity and long-tail figures of `daogou report`; not part of the JSON).
    #[serde(skip)]
    pub lists: Vec<Vec<u32>>,
}

/// One user's test case: the user and the relevant test items (sorted, unique).
#[derive(Debug, Clone)]
pub struct TestCase {
    /// Training user index.
    pub user: u32,
    /// Relevant items, sorted ascending.
    pub relevant: Vec<u32>,
}

/// One user's top-N scores: the terms that [`TopNMetrics`] averages.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UserMetrics {
    /// Training user index.
    pub user: u32,
    /// Hits in the top k / k.
    pub precision: f64,
    /// Hits in the top k / number of relevant items.
    pub recall: f64,
    /// NDCG at k.
    pub ndcg: f64,
    /// Average precision at k.
    pub ap: f64,
    /// Reciprocal rank of the first relevant item in the full ranking.
    pub rr: f64,
    /// 1 with a hit in the top k, else 0.
    pub hit: f64,
    /// Mean self-information of the list.
    pub novelty: f64,
    /// Intra-list diversity (None without categories).
    pub diversity: Option<f64>,
}

/// The accuracy metrics computed from per-user scores, in the order [`accuracy`] returns
/// them (key stems of the JSON contract: `precision@10`, …, `mrr`).
pub const ACCURACY: [&str; 7] = ["precision", "recall", "f1", "ndcg", "map", "mrr", "hit_rate"];

impl UserMetrics {
    /// The terms [`accuracy`] sums: precision, recall, NDCG, AP, RR, hit.
    pub fn terms(&self) -> [f64; 6] {
        [self.precision, self.recall, self.ndcg, self.ap, self.rr, self.hit]
    }
}

/// The [`ACCURACY`] metrics of `n` users from the sums of their [`UserMetrics::terms`]: the
/// means, and F1 of the mean precision and recall. One definition for the report and for the
/// paired bootstrap.
pub fn accuracy(sum: &[f64; 6], n: usize) -> [f64; 7] {
    let avg = |x: f64| if n == 0 { 0.0 } else { x / n as f64 };
    let [p, r, ndcg, ap, rr, hit] = sum.map(avg);
    let f1 = if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 };
    [p, r, f1, ndcg, ap, rr, hit]
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

    let per_user: Vec<Vec<(usize, UserMetrics, Vec<u32>)>> = users
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
                        let scored = score_user(&list, &case.relevant, s, k, &self_info, category);
                        (v, UserMetrics { user: *user, ..scored }, list)
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
    let mut per_view: Vec<Vec<(UserMetrics, Vec<u32>)>> = views.iter().map(|_| Vec::new()).collect();
    for (v, s, list) in per_user.into_iter().flatten() {
        per_view[v].push((s, list));
    }
    views
        .iter()
        .zip(per_view)
        .map(|(view, per_user)| {
            let n_candidates = view.candidates.map_or(n_items, |c| c.iter().filter(|&&ok| ok).count());
            average(per_user, k, n_items, n_candidates)
        })
        .collect()
}

/// The metrics of one view from its users' scores and lists.
fn average(per_user: Vec<(UserMetrics, Vec<u32>)>, k: usize, n_items: usize, n_candidates: usize) -> TopNMetrics {
    let n = per_user.len();
    let mut recommended = vec![false; n_items];
    let mut sum = [0f64; 6];
    let mut novelty = 0f64;
    let (mut div_sum, mut div_n) = (0f64, 0usize);
    let mut scores = Vec::with_capacity(n);
    let mut lists = Vec::with_capacity(n);
    for (s, list) in per_user {
        for (acc, x) in sum.iter_mut().zip(s.terms()) {
            *acc += x;
        }
        novelty += s.novelty;
        if let Some(d) = s.diversity {
            div_sum += d;
            div_n += 1;
        }
        for &i in &list {
            recommended[i as usize] = true;
        }
        scores.push(s);
        lists.push(list);
    }
    let [precision, recall, f1, ndcg, map, mrr, hit_rate] = accuracy(&sum, n);
    TopNMetrics {
        k,
        precision,
        recall,
        f1,
        ndcg,
        map,
        mrr,
        hit_rate,
        coverage: recommended.iter().filter(|&&b| b).count() as f64 / n_candidates.max(1) as f64,
        novelty: if n == 0 { 0.0 } else { novelty / n as f64 },
        diversity: (div_n > 0).then(|| div_sum / div_n as f64),
        users_evaluated: n,
        per_user: scores,
        lists,
    }
}

#[doc(hidden)]

pub fn score_user(
    list: &[u32],
    relevant: &[u32],
    scores: &[f32],
    k: usize,
    self_info: &[f64],
    category: Option<&[Option<u32>]>,
) -> UserMetrics {
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
    UserMetrics {
        user: 0,
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

#[doc(hidden)]

pub fn intra_list_diversity(list: &[u32], category: &[Option<u32>]) -> Option<f64> {
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
