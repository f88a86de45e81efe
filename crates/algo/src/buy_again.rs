//! `buy-again`: the user's own past items, ranked by how often and how recently they were
//! bought; every other item below them in popularity order.
//!
//! For a training user u and an item i that u bought:
//!
//! * `freq(u,i)` = the number of distinct **baskets** of u that hold a purchase of i. A basket
//!   is one invoice — the purchases of one user at one timestamp, as in Online Retail, where
//!   every line of an invoice carries the invoice's time — or, when the data has no invoices
//!   (each purchase has its own time, as in an event stream), one calendar day (UTC). The
//!   `baskets` parameter says which; `auto` (the default) takes invoices when at least half of
//!   the purchase events share their user and time with a purchase of another item
//!   ([`Baskets::detect`]). Buying 24 units of a mug on one invoice is one basket, not 24
//!   and not one event per line.
//! * `rec(u,i)` = 2^(−(t_u − t_ui) / half_life), with t_ui the time of u's latest purchase of
//!   i and t_u the time of u's latest event on any item (so each user's latest item has
//!   recency 1).
//! * score = (1 − recency)·freq(u,i) / max_j freq(u,j) + recency·rec(u,i) ([`past_item_score`]).
//!
//! Past items are ordered by that score, **ties by global popularity** (distinct users, then
//! the item index), and come first; every other item follows in
//! popularity order (distinct users; ties by item index). With `recency=0` the ranking is
//! exactly the "RepeatPop" baseline: the user's own items by number of distinct baskets, ties
//! and all other items by popularity (a test checks it against a plain implementation).
//!
//! Which events count: purchases when the training data holds any; otherwise every event but
//! returns and searches (ratings, views). An item whose purchases were all returned (as many
//! return events as purchase events) is no past item. Items of the user's training row that
//! have no counted event (only viewed, in data with purchases) follow the bought ones, by
//! popularity. Without an event log (a bare matrix) `freq` is the matrix value and every item
//! is equally recent.
//!
//! An ad-hoc history `(item, value)` is read in order, oldest first: `freq` is the summed
//! positive value of an item and `rec` is (1 + position of its last occurrence) / history
//! length (no timestamps are given).
//!
//! The same ranking serves the service's "buy it again" list: [`rank_past_purchases`] ranks a
//! user's past purchases from their events, by the same score and tie-breaks.
//!
//! The defaults (`recency` 0, i.e. frequency only, and `half_life` 365 days for when recency is
//! set) were chosen on Online Retail by NDCG@10 with repeats on two validation months that
//! precede both reported test periods, 2011-08-09..09-09 and 2011-09-09..10-09 (each fitted on
//! what precedes it): recency 0 was best on both (0.3938 and 0.3436; recency 0.25: 0.3931 and
//! 0.3387; 0.5: 0.3927 and 0.3389), so by default `buy-again` *is* RepeatPop.

use std::collections::BTreeMap;

use daogou_core::{has_purchases, is_bought, Baskets, Csr, EventKind, Interaction, Params};

use crate::als::popularity_fraction;
use crate::sim::{check_finite, get_choice, get_nonneg};
use crate::{check_params, ModelState, Recommender, Result, Tensor, TrainData};

/// Parameters of `buy-again` with their meaning and default.
pub const PARAMS: &[(&str, &str)] = &[
    ("half_life", "recency half-life in days: an item bought this long before the user's latest event counts half as recent (default 365)"),
    ("recency", "weight of recency against frequency, 0 = frequency only (RepeatPop), 1 = recency only (default 0)"),
    ("baskets", "what one purchase occasion is: auto (invoices when purchases share timestamps, else days), time (one timestamp = one invoice), day (default auto)"),
];

const MODEL: &str = "buy-again";

/// Default recency half-life in days (chosen on Online Retail, see the module docs).
pub const DEFAULT_HALF_LIFE_DAYS: f64 = 365.0;
/// Default weight of recency against frequency (chosen on Online Retail, see the module docs).
pub const DEFAULT_RECENCY: f64 = 0.0;

/// The settings of the buy-again ranking.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuyAgainParams {
    /// Recency half-life in days.
    pub half_life_days: f64,
    /// Weight of recency against frequency, in [0, 1].
    pub recency: f64,
    /// What one basket is.
    pub baskets: Baskets,
}

impl BuyAgainParams {
    /// The model's defaults, with baskets detected from `events` ([`Baskets::detect`]).
    pub fn defaults_for(events: &[Interaction]) -> Self {
        BuyAgainParams {
            half_life_days: DEFAULT_HALF_LIFE_DAYS,
            recency: DEFAULT_RECENCY,
            baskets: Baskets::detect(events),
        }
    }

    fn from_params(params: &Params, events: &[Interaction]) -> Result<Self> {
        let half_life = get_nonneg(params, "half_life", DEFAULT_HALF_LIFE_DAYS)?;
        if half_life <= 0.0 {
            return Err(Params::invalid("half_life", half_life, "must be more than 0 days").into());
        }
        let recency = get_nonneg(params, "recency", DEFAULT_RECENCY)?;
        if recency > 1.0 {
            return Err(Params::invalid("recency", recency, "must be between 0 and 1").into());
        }
        let baskets = match get_choice(params, "baskets", "auto", &["auto", "time", "day"])? {
            "time" => Baskets::Time,
            "day" => Baskets::Day,
            _ => Baskets::detect(events),
        };
        Ok(BuyAgainParams { half_life_days: half_life, recency, baskets })
    }
}

/// The score of a past item: `(1 − recency)·freq_share + recency·2^(−age / half-life)`, with
/// `freq_share` the item's number of baskets over the user's largest number and `age_seconds`
/// the time from the item's latest purchase to the user's latest event.
pub fn past_item_score(freq_share: f64, age_seconds: f64, half_life_days: f64, recency: f64) -> f64 {
    (1.0 - recency) * freq_share + recency * recency_decay(age_seconds, half_life_days)
}

fn recency_decay(age_seconds: f64, half_life_days: f64) -> f64 {
    0.5f64.powf(age_seconds / (half_life_days * 86_400.0))
}

/// One past item of a user, as ranked by [`rank_past_purchases`].
#[derive(Debug, Clone, PartialEq)]
pub struct PastItem<I> {
    /// The item.
    pub item: I,
    /// Its buy-again score ([`past_item_score`]), in [0, 1].
    pub score: f64,
    /// Distinct baskets that hold a purchase of it.
    pub baskets: u32,
    /// Time of its latest purchase.
    pub last: i64,
}

/// Rank what one user bought, best first: the "buy it again" list, by the same score and
/// tie-breaks as the `buy-again` model (see the [module docs](self)). `events` are the user's
/// events in any order as `(item, kind, timestamp)`: purchases form the baskets, a return
/// cancels a purchase (an item with as many returns as purchases leaves the list), and every
/// event but a return moves the user's "now" that ages are counted from. `popularity` breaks
/// ties (more popular first, then the smaller item).
pub fn rank_past_purchases<I: Ord + Clone>(
    events: impl IntoIterator<Item = (I, EventKind, i64)>,
    popularity: impl Fn(&I) -> f64,
    params: &BuyAgainParams,
) -> Vec<PastItem<I>> {
    rank_past(events, true, popularity, params)
}

/// [`rank_past_purchases`] counting purchases (`purchases`), or every event but returns and
/// searches (data without purchases: ratings, views).
fn rank_past<I: Ord + Clone>(
    events: impl IntoIterator<Item = (I, EventKind, i64)>,
    purchases: bool,
    popularity: impl Fn(&I) -> f64,
    p: &BuyAgainParams,
) -> Vec<PastItem<I>> {
    // item → (basket keys, counted events, returns, latest counted event)
    let mut by_item: BTreeMap<I, (Vec<i64>, u32, u32, i64)> = BTreeMap::new();
    let mut now = i64::MIN;
    for (item, kind, t) in events {
        if kind != EventKind::Return {
            now = now.max(t);
        }
        if kind == EventKind::Return {
            by_item.entry(item).or_insert_with(|| (Vec::new(), 0, 0, i64::MIN)).2 += 1;
        } else if is_bought(kind, purchases) {
            let e = by_item.entry(item).or_insert_with(|| (Vec::new(), 0, 0, i64::MIN));
            e.0.push(p.baskets.key(t));
            e.1 += 1;
            e.3 = e.3.max(t);
        }
    }
    let mut out: Vec<(PastItem<I>, f64)> = by_item
        .into_iter()
        .filter(|(_, (_, n, returns, _))| *n > *returns)
        .map(|(item, (mut keys, _, _, last))| {
            keys.sort_unstable();
            keys.dedup();
            let pop = popularity(&item);
            (PastItem { item, score: 0.0, baskets: keys.len() as u32, last }, pop)
        })
        .collect();
    let max_f = out.iter().map(|x| x.0.baskets).max().unwrap_or(1).max(1) as f64;
    for (x, _) in &mut out {
        let age = now.saturating_sub(x.last).max(0) as f64;
        x.score = past_item_score(f64::from(x.baskets) / max_f, age, p.half_life_days, p.recency);
    }
    out.sort_by(|(a, pa), (b, pb)| {
        b.score.total_cmp(&a.score).then(pb.total_cmp(pa)).then_with(|| a.item.cmp(&b.item))
    });
    out.into_iter().map(|x| x.0).collect()
}

/// Past items get scores in (PAST, PAST + 1], above every popularity-tail score (< 1).
pub const PAST: f32 = 2.0;

/// Scores of a ranked list of `n` past items: PAST + (n − rank)/n, so the order is kept
/// exactly in f32 (ties were already broken by popularity).
fn rank_score(rank: usize, n: usize) -> f32 {
    PAST + ((n - rank) as f64 / n as f64) as f32
}

/// Buy-again; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct BuyAgain {
    /// users × items: each past item's score, PAST + (n − rank)/n.
    past: Csr,
    /// Popularity share of every item, in [0, 1).
    tail: Vec<f32>,
    recency: f64,
}

impl BuyAgain {
    /// Fit on `train`.
    pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Self> {
        check_params(params, MODEL, &["half_life", "recency", "baskets"])?;
        let p = BuyAgainParams::from_params(params, train.events)?;
        let m = &train.matrix.by_user;
        check_finite(MODEL, m)?;
        let counts: Vec<u32> = (0..m.n_cols()).map(|i| train.matrix.item_row(i as u32).0.len() as u32).collect();
        let tail = popularity_fraction(&counts);
        let pop = |i: &u32| f64::from(counts.get(*i as usize).copied().unwrap_or(0));

        let mut triplets: Vec<(u32, u32, f32)> = Vec::with_capacity(m.nnz());
        let mut push_user = |u: u32, ranked: Vec<u32>| {
            // then the rest of the user's training row, by popularity
            let mut rest: Vec<u32> = m.row(u as usize).0.iter().copied().filter(|i| !ranked.contains(i)).collect();
            rest.sort_by(|a, b| pop(b).total_cmp(&pop(a)).then(a.cmp(b)));
            let n = ranked.len() + rest.len();
            for (k, i) in ranked.into_iter().chain(rest).enumerate() {
                triplets.push((u, i, rank_score(k, n)));
            }
        };
        if train.events.is_empty() {
            for u in 0..m.n_rows() {
                let (items, vals) = m.row(u);
                let entries = items.iter().zip(vals).map(|(&i, &v)| (i, f64::from(v)));
                let ranked = rank_values(entries, p.recency, &pop);
                push_user(u as u32, ranked);
            }
        } else {
            let purchases = has_purchases(train.events);
            let mut by_user: Vec<Vec<(u32, EventKind, i64)>> = vec![Vec::new(); m.n_rows()];
            for e in train.events {
                if let Some(v) = by_user.get_mut(e.user as usize) {
                    if (e.item as usize) < m.n_cols() {
                        v.push((e.item, e.kind, e.timestamp));
                    }
                }
            }
            for (u, events) in by_user.into_iter().enumerate() {
                let ranked: Vec<u32> = rank_past(events, purchases, pop, &p).into_iter().map(|x| x.item).collect();
                push_user(u as u32, ranked);
            }
        }
        let past = Csr::from_triplets(m.n_rows(), m.n_cols(), triplets.into_iter(), daogou_core::Aggregate::Last);
        Ok(BuyAgain { past, tail, recency: p.recency })
    }
}

/// Items with a frequency and no times (a bare matrix, an ad-hoc history): every item equally
/// recent unless `recent` says otherwise; best first, ties by popularity, then item.
fn rank_values(entries: impl Iterator<Item = (u32, f64)>, recency: f64, pop: &impl Fn(&u32) -> f64) -> Vec<u32> {
    rank_with_recency(entries.map(|(i, f)| (i, f, 1.0)), recency, pop)
}

fn rank_with_recency(
    entries: impl Iterator<Item = (u32, f64, f64)>,
    recency: f64,
    pop: &impl Fn(&u32) -> f64,
) -> Vec<u32> {
    let entries: Vec<(u32, f64, f64)> = entries.filter(|x| x.1 > 0.0).collect();
    let max_f = entries.iter().map(|x| x.1).fold(0.0, f64::max);
    let mut scored: Vec<(u32, f64)> =
        entries.iter().map(|&(i, f, rec)| (i, (1.0 - recency) * f / max_f + recency * rec)).collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(pop(&b.0).total_cmp(&pop(&a.0))).then(a.0.cmp(&b.0)));
    scored.into_iter().map(|x| x.0).collect()
}

pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(BuyAgain::fit(train, params)?))
}

pub fn load(s: &ModelState) -> Result<Box<dyn Recommender>> {
    let past = s.csr("past")?;
    let tail = s.f32s("tail", Some(past.n_cols()))?.to_vec();
    let recency = s.scalar("recency")?;
    if !(0.0..=1.0).contains(&recency) {
        return Err(crate::Error::BadState {
            model: MODEL.into(),
            reason: format!("recency {recency} is not in [0, 1]"),
        });
    }
    Ok(Box::new(BuyAgain { past, tail, recency }))
}

/// An ad-hoc history as `(item, summed positive value, position of last occurrence)`.
fn history_stats(history: &[(u32, f32)], n_items: usize) -> Vec<(u32, f64, usize)> {
    let mut by_item: BTreeMap<u32, (f64, usize)> = BTreeMap::new();
    for (pos, &(i, v)) in history.iter().enumerate() {
        if (i as usize) < n_items && v.is_finite() {
            let e = by_item.entry(i).or_insert((0.0, 0));
            e.0 += f64::from(v);
            e.1 = pos;
        }
    }
    by_item.into_iter().filter(|(_, (f, _))| *f > 0.0).map(|(i, (f, p))| (i, f, p)).collect()
}

impl Recommender for BuyAgain {
    fn name(&self) -> &str {
        MODEL
    }

    fn n_items(&self) -> usize {
        self.tail.len()
    }

    fn score_user(&self, user: u32, out: &mut [f32]) {
        out.copy_from_slice(&self.tail);
        if (user as usize) < self.past.n_rows() {
            let (items, s) = self.past.row(user as usize);
            for (&i, &s) in items.iter().zip(s) {
                out[i as usize] = s;
            }
        }
    }

    fn score_history(&self, history: &[(u32, f32)], out: &mut [f32]) {
        out.copy_from_slice(&self.tail);
        let len = history.len().max(1) as f64;
        let h = history_stats(history, self.tail.len());
        let pop = |i: &u32| f64::from(self.tail[*i as usize]);
        let ranked =
            rank_with_recency(h.into_iter().map(|(i, f, pos)| (i, f, (pos + 1) as f64 / len)), self.recency, &pop);
        let n = ranked.len();
        for (k, i) in ranked.into_iter().enumerate() {
            out[i as usize] = rank_score(k, n);
        }
    }

    fn explain(&self, history: &[(u32, f32)], item: u32, _n: usize) -> Vec<(u32, f32)> {
        // the reason for buying again is the item itself
        history_stats(history, self.tail.len()).into_iter().filter(|x| x.0 == item).map(|x| (x.0, x.1 as f32)).collect()
    }

    fn state(&self) -> ModelState {
        let mut s = ModelState::new(MODEL, &Params::new());
        s.set_csr("past", &self.past);
        s.set("tail", Tensor::F32(self.tail.clone()));
        s.set_scalar("recency", self.recency);
        s
    }
}
