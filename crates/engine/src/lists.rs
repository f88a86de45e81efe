//! Every list the shop shows, as plain functions of a snapshot, the catalogue and the request:
//! for you (and sessions), similar items, bought together, popular, trending, new arrivals,
//! buy it again, and the top N of every user (batch jobs).

use daogou_algo::topk::{top_k, top_k_by};
use daogou_algo::{past_item_score, Reached, Recommender, DEFAULT_HALF_LIFE_DAYS, DEFAULT_RECENCY};
use daogou_core::{EventKind, Item};
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::catalogue::Catalogue;
use crate::filter::{novelty, Blend, Filter};
use crate::history::History;
use crate::live::LiveEvent;
use crate::pick::{Pick, Reason};
use crate::snapshot::Snapshot;

thread_local! {
    static SCORES: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
    /// The sparse scores of the last request on this thread (kept for their capacity).
    static REACHED: std::cell::RefCell<Vec<Reached>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The thread's score buffer, zeroed to `n`; given back to the thread when dropped (a
/// catalogue-sized allocation per request costs page faults).
struct ScoreBuf(Vec<f32>);

impl ScoreBuf {
    fn take(n: usize) -> ScoreBuf {
        let mut v = SCORES.with(|b| std::mem::take(&mut *b.borrow_mut()));
        v.clear();
        v.resize(n, 0.0);
        ScoreBuf(v)
    }
}

impl Drop for ScoreBuf {
    fn drop(&mut self) {
        let v = std::mem::take(&mut self.0);
        SCORES.with(|b| *b.borrow_mut() = v);
    }
}

/// The model's scores for every item for `h` into `out` (the training row of a known user
/// without fresh events, the ad-hoc history otherwise).
pub(crate) fn score(model: &dyn Recommender, h: &History, out: &mut [f32]) {
    match (h.user, h.fresh) {
        (Some(u), false) => model.score_user(u, out),
        _ => model.score_history(&h.items, out),
    }
}

/// A model item as an answer line.
fn pick(snap: &Snapshot, cat: &Catalogue, i: u32, score: f32, reason: &Reason<'_>, because: Option<u32>) -> Pick {
    let because = because.map(|b| cat.get(snap.catalogue_item(b)));
    Pick::new(cat.get(snap.catalogue_item(i)), score, reason, because)
}

/// The newest catalogue items passing `f` (also items no model knows yet), newest first
/// (ties by id); `skip` leaves items out.
fn newest<'c>(cat: &'c Catalogue, f: &Filter, n: usize, skip: impl Fn(u32) -> bool) -> Vec<&'c Item> {
    let mut v: Vec<(u32, &Item)> = cat
        .items()
        .iter()
        .enumerate()
        .filter(|(i, it)| it.created_at.is_some() && f.passes(it) && !skip(*i as u32))
        .map(|(i, it)| (i as u32, it))
        .collect();
    v.sort_unstable_by(|a, b| b.1.created_at.cmp(&a.1.created_at).then_with(|| a.1.id.cmp(&b.1.id)));
    v.into_iter().take(n).map(|(_, it)| it).collect()
}

/// "For you": the top `n` for a history (a known user, a user with fresh events, a session),
/// filtered, each with a reason; popular items fill in when the history says nothing. `blend`
/// mixes in popularity and novelty, caps items per category and keeps slots for new arrivals.
pub fn for_you(snap: &Snapshot, cat: &Catalogue, h: &History, f: &Filter, blend: &Blend, n: usize) -> Vec<Pick> {
    let ok = |i: u32| f.passes(cat.get(snap.catalogue_item(i))) && (f.allow_repeat || !h.has(i));
    let explore = ((blend.explore * n as f32).round() as usize).min(n);
    let main = n - explore;
    let mut per_cat: FxHashMap<Option<String>, usize> = FxHashMap::default();
    let mut capped = |p: &Pick| -> bool {
        let Some(cap) = blend.max_per_category else { return false };
        let c = per_cat.entry(p.category.clone()).or_insert(0);
        *c += 1;
        *c > cap
    };
    // with a cap, look further down the ranking
    let depth = |k: usize| if blend.max_per_category.is_some() { k * 8 + 50 } else { k };
    let mut out = Vec::with_capacity(n);
    if let (Some(model), false, true) = (&snap.model, h.items.is_empty(), main > 0) {
        // the current session, scored on its own and blended in: what the shopper is after now
        // moves the list even when years of history point elsewhere
        let session = if blend.session_weight > 0.0 {
            h.session_items(snap, blend.at(), blend.session_hours)
        } else {
            Vec::new()
        };
        let plain = blend.is_plain() && session.is_empty();
        // (item, model score, the history item that explains it when already known, whether the
        // session rather than the whole history put it there)
        let mut reached = REACHED.with(|b| std::mem::take(&mut *b.borrow_mut()));
        let ranked: Vec<(u32, f32, Option<Option<u32>>, bool)> = if plain && model.score_reached(&h.items, &mut reached)
        {
            // neighbourhood models: only the items the history reaches (all others score below
            // them and would only end the loop below), no pass over the catalogue
            top_k_by(reached.iter().map(|r| (r.item, r.score, Some(r.because))), depth(main), |i| !ok(i))
                .into_iter()
                .map(|(i, s, b)| (i, s, b, false))
                .collect()
        } else {
            let mut buf = ScoreBuf::take(model.n_items());
            score(model.as_ref(), h, &mut buf.0);
            let scores: &[f32] = &buf.0;
            let now: Option<Vec<f32>> = (!session.is_empty()).then(|| {
                let mut v = vec![0.0; model.n_items()];
                model.score_history(&session, &mut v);
                v
            });
            let b = (!plain).then(|| blended(snap, cat, scores, now.as_deref(), blend));
            let ranked = b.as_ref().map_or(scores, |b| &b.total[..]);
            top_k(ranked, depth(main), |i| !ok(i))
                .into_iter()
                .map(|(i, _)| (i, scores[i as usize], None, b.as_ref().is_some_and(|b| b.from_session(i))))
                .collect()
        };
        for (i, score, known, from_session) in ranked {
            if out.len() == main {
                break;
            }
            let because = match known {
                Some(k) => k,
                // the session's own item explains a pick the session brought
                None if from_session => model.explain(&session, i, 1).first().map(|e| e.0),
                None => model.explain(&h.items, i, 1).first().map(|e| e.0),
            };
            if because.is_none() && score <= 0.0 && plain {
                break; // nothing the history says: popular items fill in below
            }
            let reason = match because {
                Some(b) => Reason::Because { kind: h.kind(b), item: cat.get(snap.catalogue_item(b)) },
                None if model.name() == "popularity" => Reason::Bestseller,
                None => Reason::LikeYou,
            };
            let p = pick(snap, cat, i, score, &reason, because);
            if !capped(&p) {
                out.push(p);
            }
        }
        REACHED.with(|b| *b.borrow_mut() = reached);
    }
    if out.len() < main {
        let have: FxHashSet<u32> = out.iter().filter_map(|p| snap.items.get(&p.item)).collect();
        for (i, s) in top_k(&snap.popularity, depth(main - out.len()), |i| !ok(i) || have.contains(&i)) {
            if s <= 0.0 || out.len() == main {
                break;
            }
            let p = pick(snap, cat, i, s, &Reason::Popular, None);
            if !capped(&p) {
                out.push(p);
            }
        }
    }
    if explore > 0 {
        let have: FxHashSet<&str> = out.iter().map(|p| p.item.as_str()).collect();
        let fresh = newest(cat, f, n + have.len() + h.items.len(), |c| {
            have.contains(cat.get(c).id.as_str()) || (!f.allow_repeat && snap.model_item(c).is_some_and(|m| h.has(m)))
        });
        let fresh: Vec<Pick> =
            fresh.into_iter().take(explore).map(|it| Pick::new(it, 0.0, &Reason::New, None)).collect();
        out.extend(fresh);
    }
    out
}

/// Blended scores, and what the session contributed to each.
struct Blended {
    total: Vec<f32>,
    /// Per item: the session's term exceeds the whole history's (empty without a session).
    session_led: Vec<bool>,
}

impl Blended {
    fn from_session(&self, i: u32) -> bool {
        self.session_led.get(i as usize).copied().unwrap_or(false)
    }
}

/// Max-normalise `scores`: divide by the largest finite absolute value.
fn max_normalised(scores: &[f32]) -> impl Fn(f32) -> f32 {
    let top = scores.iter().filter(|x| x.is_finite()).fold(0f32, |m, x| m.max(x.abs())).max(f32::MIN_POSITIVE);
    move |x| x / top
}

/// The model scores max-normalised, mixed with the session's scores (likewise normalised) by
/// the session weight, plus the blend's popularity and novelty terms.
fn blended(snap: &Snapshot, cat: &Catalogue, scores: &[f32], session: Option<&[f32]>, blend: &Blend) -> Blended {
    let max_pop = snap.popularity.iter().fold(0f32, |m, &x| m.max(x));
    let newest = cat.newest().unwrap_or(0);
    let whole = max_normalised(scores);
    let w = if session.is_some() { blend.session_weight.clamp(0.0, 1.0) } else { 0.0 };
    let now = session.map(max_normalised);
    let mut total = scores.to_vec();
    let mut session_led = vec![false; if session.is_some() { scores.len() } else { 0 }];
    for (i, x) in total.iter_mut().enumerate() {
        if !x.is_finite() {
            continue;
        }
        *x = (1.0 - w) * whole(*x);
        if let (Some(s), Some(now)) = (session, &now) {
            let term = if s[i].is_finite() { w * now(s[i]) } else { 0.0 };
            session_led[i] = term > *x;
            *x += term;
        }
        if blend.popularity > 0.0 && max_pop > 0.0 {
            *x += blend.popularity * (1.0 + snap.popularity[i]).ln() / (1.0 + max_pop).ln();
        }
        if blend.novelty > 0.0 {
            *x += blend.novelty * novelty(cat.get(snap.catalogue_item(i as u32)).created_at, newest);
        }
    }
    Blended { total, session_led }
}

/// The newest catalogue items passing `f` (also items no model knows yet).
pub fn new_arrivals(cat: &Catalogue, f: &Filter, n: usize) -> Vec<Pick> {
    newest(cat, f, n, |_| false)
        .into_iter()
        .map(|it| Pick::new(it, it.created_at.unwrap_or(0) as f32, &Reason::New, None))
        .collect()
}

/// Items with the most distinct shoppers in the window (`counts`: catalogue item and
/// shoppers, most first), filtered.
pub fn trending(cat: &Catalogue, counts: &[(u32, u32)], f: &Filter, hours: u32, n: usize) -> Vec<Pick> {
    counts
        .iter()
        .filter(|&&(i, c)| c > 0 && f.passes(cat.get(i)))
        .take(n)
        .map(|&(i, c)| Pick::new(cat.get(i), c as f32, &Reason::Trending { shoppers: c, hours }, None))
        .collect()
}

/// The most popular items (distinct users in the training data) passing `f`.
pub fn popular(snap: &Snapshot, cat: &Catalogue, f: &Filter, n: usize) -> Vec<Pick> {
    popular_because(snap, cat, f, n, &Reason::Popular)
}

fn popular_because(snap: &Snapshot, cat: &Catalogue, f: &Filter, n: usize, reason: &Reason<'_>) -> Vec<Pick> {
    top_k(&snap.popularity, n, |i| !f.passes(cat.get(snap.catalogue_item(i))))
        .into_iter()
        .filter(|&(_, s)| s > 0.0)
        .map(|(i, s)| pick(snap, cat, i, s, reason, None))
        .collect()
}

/// Items most often bought by the buyers of model item `item`.
pub fn bought_together(snap: &Snapshot, cat: &Catalogue, item: u32, f: &Filter, n: usize) -> Vec<Pick> {
    let mut counts = vec![0f32; snap.items.len()];
    for &u in snap.purchases.item_row(item).0 {
        for &j in snap.purchases.user_row(u).0 {
            counts[j as usize] += 1.0;
        }
    }
    counts[item as usize] = 0.0;
    let this = cat.get(snap.catalogue_item(item));
    top_k(&counts, n, |i| !f.passes(cat.get(snap.catalogue_item(i))))
        .into_iter()
        .filter(|&(_, c)| c > 0.0)
        .map(|(i, c)| pick(snap, cat, i, c, &Reason::BoughtTogether(this), Some(item)))
        .collect()
}

/// Items similar to model item `item`; `None` when the model has no item similarity.
pub fn similar(snap: &Snapshot, cat: &Catalogue, item: u32, f: &Filter, n: usize) -> Option<Vec<Pick>> {
    let model = snap.model.as_ref()?;
    let sims = model.similar_items(item, (n * 4).max(n + 50))?;
    let this = cat.get(snap.catalogue_item(item));
    Some(
        sims.into_iter()
            .filter(|&(i, _)| i != item && f.passes(cat.get(snap.catalogue_item(i))))
            .take(n)
            .map(|(i, s)| pick(snap, cat, i, s, &Reason::AlsoViewed(this), Some(item)))
            .collect(),
    )
}

/// "Similar items" for catalogue item `it`: the model's neighbours, or for an item the model
/// cannot relate (new, or without neighbours) the most popular items of its category
/// ([`cold_similar`]); [`crate::Error::NoSimilarity`] when the model has no notion of similarity.
/// What the service, the command line and the Python package answer.
pub fn similar_to(snap: &Snapshot, cat: &Catalogue, it: &Item, f: &Filter, n: usize) -> crate::Result<Vec<Pick>> {
    match snap.items.get(&it.id).map(|m| similar(snap, cat, m, f, n)) {
        Some(Some(p)) if !p.is_empty() => Ok(p),
        Some(None) => Err(crate::Error::NoSimilarity(snap.model_name().to_owned())),
        _ => Ok(cold_similar(snap, cat, it, f, n)),
    }
}

/// For an item the model cannot relate (new, or without neighbours): the most popular items
/// of its category (of the whole shop when it has none, or when the request names one).
pub fn cold_similar(snap: &Snapshot, cat: &Catalogue, it: &Item, f: &Filter, n: usize) -> Vec<Pick> {
    let mut f = f.clone();
    f.exclude.insert(it.id.clone());
    match (&f.category, &it.category) {
        (None, Some(c)) => {
            f.category = Some(c.clone());
            popular_because(snap, cat, &f, n, &Reason::PopularIn { category: c, item: it })
        }
        _ => popular(snap, cat, &f, n),
    }
}

/// "Buy it again": the items the user bought (purchases less returns above zero, live events
/// included) passing `f`, by the buy-again score of `daogou_algo`'s `buy-again` model with its
/// defaults: (1 − r)·count / max count + r·2^(−age / half-life), the age of an item's latest
/// purchase counted from the user's latest event. `user` is the model user (none: unknown or
/// deleted), `live` the user's live events.
pub fn buy_again<'a>(
    snap: &Snapshot,
    cat: &Catalogue,
    user: Option<u32>,
    live: impl Iterator<Item = &'a LiveEvent>,
    f: &Filter,
    n: usize,
) -> Vec<Pick> {
    // catalogue item → (purchases less returns, latest purchase)
    let mut bought: FxHashMap<u32, (i32, i64)> = FxHashMap::default();
    let mut latest = i64::MIN;
    if let Some(u) = user {
        let start = snap.purchases.by_user.indptr()[u as usize];
        for (k, &i) in snap.purchases.user_row(u).0.iter().enumerate() {
            bought.insert(snap.catalogue_item(i), (snap.bought.net[start + k], snap.bought.last[start + k]));
        }
        latest = snap.bought.latest[u as usize];
    }
    // an event posted twice is stored once (the store deduplicates): count it once
    let mut seen: FxHashSet<(u32, EventKind, i64, u32)> = FxHashSet::default();
    for e in live.filter(|e| e.seq >= snap.seq) {
        let key = (e.item, e.kind, e.timestamp, e.value.to_bits());
        if matches!(e.kind, EventKind::Purchase | EventKind::Return) && !seen.insert(key) {
            continue;
        }
        match e.kind {
            EventKind::Purchase => {
                let b = bought.entry(e.item).or_insert((0, i64::MIN));
                b.0 += 1;
                b.1 = b.1.max(e.timestamp);
            }
            EventKind::Return => bought.entry(e.item).or_insert((0, i64::MIN)).0 -= 1,
            _ => {}
        }
        if e.kind != EventKind::Return {
            latest = latest.max(e.timestamp);
        }
    }
    bought.retain(|_, b| b.0 > 0);
    // the score is the history's: filters choose among the items, they do not rescale them
    let max_n = bought.values().map(|b| b.0).max().unwrap_or(1) as f64;
    let mut ranked: Vec<(f32, &Item, i32, i64)> = bought
        .into_iter()
        .map(|(i, (count, last))| (cat.get(i), count, last))
        .filter(|(it, _, _)| f.passes(it))
        .map(|(it, count, last)| {
            let age = latest.saturating_sub(last).max(0) as f64;
            let score = past_item_score(f64::from(count) / max_n, age, DEFAULT_HALF_LIFE_DAYS, DEFAULT_RECENCY);
            (score as f32, it, count, last)
        })
        .collect();
    ranked.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(b.3.cmp(&a.3)).then_with(|| a.1.id.cmp(&b.1.id)));
    ranked.truncate(n);
    ranked
        .into_iter()
        .map(|(score, it, count, last)| Pick::new(it, score, &Reason::Bought { count, last }, None))
        .collect()
}

/// Users scored per matrix product in [`all_users`]: a batch's scores (BATCH × items) stay
/// small enough for the cache-friendly top-k pass that follows.
const BATCH: usize = 128;

/// The top `n` of every model user (but those deleted since a model file was written) under
/// `f` (items the user has are left out unless `f.allow_repeat`), without reasons: users are scored in parallel batches (one matrix
/// product per batch for factor models). `emit` receives each batch's (user, [(catalogue
/// item, score)]) in user order and may fail (a full disk); the first error stops the run.
pub fn all_users<E: Send>(
    snap: &Snapshot,
    cat: &Catalogue,
    f: &Filter,
    n: usize,
    mut emit: impl FnMut(&[(u32, Vec<(u32, f32)>)]) -> Result<(), E>,
) -> Result<(), E> {
    let Some(model) = snap.model.as_ref() else { return Ok(()) };
    let n_items = model.n_items();
    // the filter does not depend on the user: decide it once per item
    let allowed: Vec<bool> = (0..n_items as u32).map(|i| f.passes(cat.get(snap.catalogue_item(i)))).collect();
    // users deleted since a model file was written are not listed
    let users: Vec<u32> = (0..snap.users.len() as u32).filter(|&u| !snap.is_hidden(u)).collect();
    for block in users.chunks(BATCH * 16 * rayon::current_num_threads()) {
        let parts: Vec<Vec<(u32, Vec<(u32, f32)>)>> = block
            .par_chunks(BATCH)
            .map_init(
                || vec![0f32; BATCH * n_items],
                |buf, batch| {
                    let buf = &mut buf[..batch.len() * n_items];
                    model.score_users(batch, buf);
                    batch
                        .iter()
                        .zip(buf.chunks_exact(n_items))
                        .map(|(&u, scores)| {
                            let seen = if f.allow_repeat { &[][..] } else { snap.train.user_row(u).0 };
                            let top = top_k(scores, n, |i| !allowed[i as usize] || seen.binary_search(&i).is_ok());
                            (u, top.into_iter().map(|(i, s)| (snap.catalogue_item(i), s)).collect())
                        })
                        .collect()
                },
            )
            .collect();
        for part in &parts {
            emit(part)?;
        }
    }
    Ok(())
}
