//! The demo shop's behaviour log: shoppers with latent tastes browsing, searching, carting,
//! buying and returning over the period.

use super::catalogue::Meta;
use super::taxonomy::*;
use super::*;

// ---------------------------------------------------------------------------------------
// Behaviour
// ---------------------------------------------------------------------------------------

/// Relative traffic per day: weekends, shopping festivals, slow growth.
pub(super) fn day_weights(cfg: &ShopConfig) -> Vec<f64> {
    (0..cfg.days)
        .map(|d| {
            let ts = cfg.start + i64::from(d) * DAY + 12 * 3600 + TZ;
            let mut w = 1.0 + 0.2 * f64::from(d) / f64::from(cfg.days.max(1));
            if let Some(dt) = chrono::DateTime::from_timestamp(ts, 0) {
                if matches!(dt.weekday(), Weekday::Sat | Weekday::Sun) {
                    w *= 1.25;
                }
                w *= match (dt.month(), dt.day()) {
                    (11, 11) => 3.0,
                    (11, 10) | (11, 9) => 1.6,
                    (6, 18) => 2.5,
                    (6, 17) => 1.5,
                    (12, 12) => 1.8,
                    _ => 1.0,
                };
            }
            w
        })
        .collect()
}

pub(super) struct User {
    pub(super) id: String,
    pub(super) segs: Vec<usize>,
    pub(super) seg_w: Vec<f64>,
    pub(super) price_pref: f64,
    /// Favourite brand per top category, for brand-loyal users.
    pub(super) fav: Option<Vec<usize>>,
}

pub(super) struct World<'a> {
    pub(super) cfg: &'a ShopConfig,
    pub(super) subs: &'a [SubInfo],
    pub(super) items: &'a [Item],
    pub(super) metas: &'a [Meta],
    pub(super) by_sub: Vec<Vec<usize>>,
    pub(super) seg_subs: Vec<Vec<(usize, f64)>>,
    pub(super) sub_cdf: Vec<f64>,
    pub(super) day_cdf: Vec<f64>,
    pub(super) hour_cdf: Vec<f64>,
    pub(super) promo: Vec<bool>,
    pub(super) end: i64,
}

pub(super) struct Log<'a> {
    pub(super) events: Vec<Event>,
    pub(super) user: &'a str,
}

impl Log<'_> {
    pub(super) fn push(&mut self, item: &str, kind: EventKind, value: f32, t: i64, query: Option<String>) {
        self.events.push(Event { user: self.user.to_owned(), item: item.to_owned(), kind, value, timestamp: t, query });
    }
}

impl World<'_> {
    pub(super) fn item_weights(&self, user: &User, sub: usize, t: i64, out: &mut Vec<f64>) {
        out.clear();
        let info = &self.subs[sub];
        let target = info.sub.price.0 * user.price_pref;
        for &i in &self.by_sub[sub] {
            let m = &self.metas[i];
            if m.created > t {
                out.push(0.0);
                continue;
            }
            let lr = (m.price / target).ln();
            let mut w = m.pop * (-lr * lr / (2.0 * 0.6 * 0.6)).exp();
            if t - m.created < 14 * DAY {
                w *= 2.5; // new arrivals are promoted
            }
            if let Some(fav) = &user.fav {
                if fav[info.top] == m.brand {
                    w *= 4.0;
                }
            }
            out.push(w);
        }
    }

    pub(super) fn query(&self, rng: &mut Rng, user: &User, sub: usize) -> String {
        let info = &self.subs[sub];
        let s = info.sub;
        let noun = *rng.pick(s.nouns);
        let r = rng.f64();
        if r < 0.30 {
            if rng.chance(0.5) {
                s.zh.to_owned()
            } else {
                noun.0.to_owned()
            }
        } else if r < 0.52 {
            if rng.chance(0.5) {
                s.en.to_lowercase()
            } else {
                noun.1.to_lowercase()
            }
        } else if r < 0.66 && !s.queries.is_empty() {
            (*rng.pick(s.queries)).to_owned()
        } else if r < 0.80 {
            let cap = nice_cap(s.price.0 * user.price_pref * 1.3);
            match rng.below(3) {
                0 => format!("{} under {cap}", noun.1.to_lowercase()),
                1 => format!("{cap}元以内{}", s.zh),
                _ => format!("{} {cap}以下", noun.0),
            }
        } else if r < 0.90 {
            let a = *rng.pick(s.adjs);
            if rng.chance(0.6) {
                format!("{}{}", a.0, s.zh)
            } else {
                format!("{} {}", a.1, noun.1).to_lowercase()
            }
        } else {
            let brands = TOPS[info.top].brands;
            let b = match &user.fav {
                Some(f) => brands[f[info.top]],
                None => *rng.pick(brands),
            };
            if rng.chance(0.5) {
                format!("{}{}", b.0, s.zh)
            } else {
                format!("{} {}", b.1, noun.1.to_lowercase())
            }
        }
    }

    /// Pick the subcategory of one stretch of browsing; `true` when it is a taste of the user.
    pub(super) fn pick_sub(&self, rng: &mut Rng, user: &User) -> (usize, bool) {
        if rng.chance(0.15) {
            return (sample_cdf(rng, &self.sub_cdf), false);
        }
        let seg = user.segs[rng.weighted(&user.seg_w).unwrap_or(0)];
        let likes = &self.seg_subs[seg];
        let w: Vec<f64> = likes.iter().map(|&(_, w)| w).collect();
        (likes[rng.weighted(&w).unwrap_or(0)].0, true)
    }

    pub(super) fn session(
        &self,
        rng: &mut Rng,
        user: &User,
        day: usize,
        log: &mut Log,
        refills: &mut Vec<(i64, usize)>,
    ) {
        let hour = sample_cdf(rng, &self.hour_cdf) as i64;
        let mut t = self.cfg.start + day as i64 * DAY + hour * 3600 + rng.range(0, 3599);
        let promo = self.promo[day];
        let mut cart: Vec<usize> = Vec::new();
        let stretches = 1 + usize::from(rng.chance(0.3)) + usize::from(rng.chance(0.1));
        let mut w = Vec::new();
        for _ in 0..stretches {
            let (sub, liked) = self.pick_sub(rng, user);
            self.item_weights(user, sub, t, &mut w);
            if w.iter().all(|&x| x <= 0.0) {
                continue;
            }
            if rng.chance(0.45) {
                log.push("", EventKind::Search, 1.0, t, Some(self.query(rng, user, sub)));
                t += rng.range(3, 25);
            }
            let views = 1 + rng.geometric(0.28, 14);
            let target = self.subs[sub].sub.price.0 * user.price_pref;
            let mut prev = usize::MAX;
            for _ in 0..views {
                let Some(mut k) = rng.weighted(&w) else { break };
                for _ in 0..3 {
                    if k != prev {
                        break;
                    }
                    k = rng.weighted(&w).unwrap_or(k);
                }
                prev = k;
                let i = self.by_sub[sub][k];
                let id = &self.items[i].id;
                log.push(id, EventKind::View, 1.0, t, None);
                t += rng.range(4, 40);
                if rng.chance(if liked { 0.40 } else { 0.28 }) {
                    log.push(id, EventKind::Click, 1.0, t, None);
                    t += rng.range(10, 120);
                    let price = self.metas[i].price;
                    let afford = if price > target { (target / price).sqrt() } else { 1.0 };
                    let p_cart = (if liked { 0.22 } else { 0.12 }) * afford * if promo { 1.3 } else { 1.0 };
                    if !cart.contains(&i) && rng.chance(p_cart) {
                        log.push(id, EventKind::AddToCart, 1.0, t, None);
                        cart.push(i);
                        t += rng.range(5, 40);
                    }
                }
                t += rng.range(5, 60);
            }
        }
        if !cart.is_empty() {
            t += rng.range(30, 300);
            let p_buy = if promo { 0.75 } else { 0.55 };
            for i in cart {
                if rng.chance(p_buy) {
                    let qty = self.quantity(rng, i);
                    self.purchase(rng, log, refills, i, qty, t);
                    t += rng.range(1, 8);
                }
            }
        }
    }

    pub(super) fn quantity(&self, rng: &mut Rng, i: usize) -> i64 {
        let m = &self.metas[i];
        if m.qty_max > 1 {
            [1, 1, 1, 1, 2, 2, 3][rng.below(7)].min(m.qty_max)
        } else if rng.chance(0.03) {
            2
        } else {
            1
        }
    }

    pub(super) fn purchase(
        &self,
        rng: &mut Rng,
        log: &mut Log,
        refills: &mut Vec<(i64, usize)>,
        i: usize,
        qty: i64,
        t: i64,
    ) {
        let id = &self.items[i].id;
        let s = self.subs[self.metas[i].sub].sub;
        log.push(id, EventKind::Purchase, qty as f32, t, None);
        if rng.chance(s.returns) {
            let back = t + rng.range(2 * DAY, 10 * DAY);
            let q = if qty > 1 && rng.chance(0.5) { 1 } else { qty };
            log.push(id, EventKind::Return, q as f32, back, None);
        } else if let Some((lo, hi)) = s.refill {
            if rng.chance(0.6) {
                refills.push((t + rng.range(lo * DAY, hi * DAY), i));
            }
        }
    }

    /// A replenishment visit: straight to the product, usually bought again.
    pub(super) fn refill(&self, rng: &mut Rng, log: &mut Log, refills: &mut Vec<(i64, usize)>, i: usize, mut t: i64) {
        let id = &self.items[i].id;
        log.push(id, EventKind::View, 1.0, t, None);
        t += rng.range(5, 60);
        if rng.chance(0.88) {
            log.push(id, EventKind::AddToCart, 1.0, t, None);
            t += rng.range(20, 200);
            if rng.chance(0.9) {
                let qty = self.quantity(rng, i);
                self.purchase(rng, log, refills, i, qty, t);
            }
        }
    }

    pub(super) fn user_events(&self, u: usize, user: &User) -> Vec<Event> {
        let mut rng = Rng::derive(self.cfg.seed, 3, u as u64);
        let mut log = Log { events: Vec::new(), user: &user.id };
        let mut refills = Vec::new();
        let activity = (0.8 * rng.normal()).exp() * 0.73; // mean ≈ 1
        let n = rng.poisson(f64::from(self.cfg.days) / 9.0 * activity).max(1);
        for _ in 0..n {
            let day = sample_cdf(&mut rng, &self.day_cdf);
            self.session(&mut rng, user, day, &mut log, &mut refills);
        }
        while let Some((t, i)) = refills.pop() {
            if t < self.end {
                self.refill(&mut rng, &mut log, &mut refills, i, t);
            }
        }
        log.events.retain(|e| e.timestamp < self.end);
        log.events
    }
}

pub(super) fn make_user(cfg: &ShopConfig, u: usize) -> User {
    let mut rng = Rng::derive(cfg.seed, 2, u as u64);
    let shares: Vec<f64> = SEGMENTS.iter().map(|s| s.share).collect();
    let first = rng.weighted(&shares).unwrap_or(0);
    let mut segs = vec![first];
    let mut seg_w = vec![1.0];
    if rng.chance(0.4) {
        let mut second = rng.weighted(&shares).unwrap_or(0);
        while second == first {
            second = rng.weighted(&shares).unwrap_or(0);
        }
        segs.push(second);
        seg_w = vec![0.65, 0.35];
    }
    let pp: f64 = segs.iter().map(|&s| SEGMENTS[s].price_pref).sum::<f64>() / segs.len() as f64;
    let price_pref = pp * (0.25 * rng.normal()).exp();
    let fav = rng.chance(0.35).then(|| TOPS.iter().map(|t| rng.below(t.brands.len())).collect());
    User { id: format!("u{u:04}"), segs, seg_w, price_pref, fav }
}
