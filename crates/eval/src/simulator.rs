//! The shopper simulator: synthetic shoppers from the demo shop's generator
//! ([`daogou_data::synth`]) are split between two variants, shown lists, and click, add to
//! cart and buy depending on what each list shows; the experiment's statistics
//! ([`crate::experiment`]) watch the results as they come in. It measures what the statistics
//! promise:
//!
//! * **A/A** (both variants show the same kind of list): the share of experiments in which the
//!   sequential test ever rejects, looked at after every batch of shoppers, must stay at or
//!   below α;
//! * **A/B** (the treatment shows more of what the shopper likes): the share in which it
//!   rejects (in the right direction) is the power at that effect;
//! * **a broken assignment** (a share of the treatment's shoppers is lost before they are
//!   counted, as a failing redirect would): the sample-ratio alarm must fire.
//!
//! **Shoppers.** Each simulated shopper takes the tastes of a random user of the generated
//! shop: the categories of the user's planted segments ([`daogou_data::synth::ShopTruth`]).
//! The shopper visits 1 + Geometric times (mean `visits`); each visit shows a list of
//! `list_len` items: a [`Policy::personal`] share of the slots holds random items among the
//! 50 most popular of the shopper's liked categories, the rest random items among the 100
//! most popular of the shop. A shown item is clicked with probability `click_liked` (liked
//! category) or `click_other`, times 1 / (1 + 0.1 · position); a click leads to the cart
//! with probability `cart`, a cart to a purchase with probability `buy` (quantity 1, or 2
//! one time in five), revenue = price × quantity. Every random draw is seeded per run and per
//! shopper, so a run is reproducible.

use daogou_core::SeededRng;
use daogou_data::synth::Shop;
use serde::Serialize;

use crate::experiment::{look, srm, Metric, RatioSums, SequentialConfig, Srm, UnitTotals};

/// The shoppers' tastes and the catalogue, from a generated shop.
#[derive(Debug, Clone)]
pub struct Shoppers {
    /// Per user of the shop: the items of their liked categories, most popular first.
    #[doc(hidden)]
    pub liked: Vec<Vec<u32>>,
    /// The same, sorted by item (membership tests).
    liked_sorted: Vec<Vec<u32>>,
    /// Item prices (0 without one).
    prices: Vec<f64>,
    /// The shop's items, most popular (distinct users) first.
    popular: Vec<u32>,
}

impl Shoppers {
    /// The tastes of `shop`'s users and its catalogue.
    pub fn from_shop(shop: &Shop) -> Shoppers {
        let index: std::collections::HashMap<&str, u32> =
            shop.items.iter().enumerate().map(|(i, it)| (it.id.as_str(), i as u32)).collect();
        let mut buyers: Vec<std::collections::HashSet<&str>> = vec![Default::default(); shop.items.len()];
        for e in &shop.events {
            if let Some(&i) = index.get(e.item.as_str()) {
                buyers[i as usize].insert(e.user.as_str());
            }
        }
        let mut popular: Vec<u32> = (0..shop.items.len() as u32).collect();
        popular.sort_by_key(|&i| (std::cmp::Reverse(buyers[i as usize].len()), i));
        let rank: Vec<usize> = {
            let mut r = vec![0; popular.len()];
            for (pos, &i) in popular.iter().enumerate() {
                r[i as usize] = pos;
            }
            r
        };
        let mut users: Vec<&str> = shop.truth.user_segment.iter().map(|(u, _)| u.as_str()).collect();
        users.dedup();
        let liked = users
            .iter()
            .map(|u| {
                let cats: Vec<&String> =
                    shop.truth.segments_of(u).iter().flat_map(|s| shop.truth.categories_of(s)).collect();
                let mut items: Vec<u32> = (0..shop.items.len() as u32)
                    .filter(|&i| shop.items[i as usize].category.as_ref().is_some_and(|c| cats.contains(&c)))
                    .collect();
                items.sort_by_key(|&i| rank[i as usize]);
                items
            })
            .collect::<Vec<Vec<u32>>>();
        let liked_sorted = liked
            .iter()
            .map(|l: &Vec<u32>| {
                let mut s = l.clone();
                s.sort_unstable();
                s
            })
            .collect();
        Shoppers { liked, liked_sorted, prices: shop.items.iter().map(|it| it.price.unwrap_or(0.0)).collect(), popular }
    }

    /// Number of shopper profiles (users of the shop).
    pub fn profiles(&self) -> usize {
        self.liked.len()
    }
}

/// How shoppers respond to what they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Behaviour {
    /// Click probability of a shown item of a liked category (at the top of the list).
    pub click_liked: f64,
    /// Click probability of any other shown item.
    pub click_other: f64,
    /// Probability that a click leads to the cart.
    pub cart: f64,
    /// Probability that a cart leads to a purchase.
    pub buy: f64,
    /// Mean number of visits (lists shown) per shopper.
    pub visits: f64,
}

impl Default for Behaviour {
    /// 8 % / 2 % clicks, 30 % to cart, 50 % bought, 3 visits.
    fn default() -> Self {
        Behaviour { click_liked: 0.08, click_other: 0.02, cart: 0.3, buy: 0.5, visits: 3.0 }
    }
}

/// What a variant shows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Policy {
    /// Share of the list's slots given to items of the shopper's liked categories.
    pub personal: f64,
}

/// A fault planted in the experiment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Fault {
    /// The assignment works.
    None,
    /// This share of the treatment's shoppers is lost before being counted.
    LoseTreatment(f64),
}

/// One simulated experiment's settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimExperiment {
    /// Shoppers arriving.
    pub shoppers: usize,
    /// Items per list.
    pub list_len: usize,
    /// How many times the results are looked at (after every shoppers / looks arrivals).
    pub looks: usize,
    /// Traffic shares of control and treatment.
    pub shares: [f64; 2],
    /// What control and treatment show.
    pub policies: [Policy; 2],
    /// The metric tested.
    pub primary: Metric,
    /// The sequential test.
    pub sequential: SequentialConfig,
    /// A planted fault.
    pub fault: Fault,
    /// Shopper behaviour.
    pub behaviour: Behaviour,
}

impl SimExperiment {
    /// An A/A experiment: both variants show half personal lists; 50/50; CTR; 8,000 shoppers
    /// looked at 40 times.
    pub fn a_a() -> SimExperiment {
        SimExperiment {
            shoppers: 8_000,
            list_len: 10,
            looks: 40,
            shares: [0.5, 0.5],
            policies: [Policy { personal: 0.5 }, Policy { personal: 0.5 }],
            primary: Metric::Ctr,
            sequential: SequentialConfig::default(),
            fault: Fault::None,
            behaviour: Behaviour::default(),
        }
    }

    /// The A/B experiment: the treatment gives 6 of 10 slots to liked items instead of 5.
    pub fn a_b() -> SimExperiment {
        SimExperiment { policies: [Policy { personal: 0.5 }, Policy { personal: 0.6 }], ..SimExperiment::a_a() }
    }

    /// The A/A experiment with 10 % of the treatment's shoppers lost.
    pub fn broken() -> SimExperiment {
        SimExperiment { fault: Fault::LoseTreatment(0.1), ..SimExperiment::a_a() }
    }
}

/// What one simulated experiment ended with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimOutcome {
    /// The always-valid p-value at the end (the minimum over the looks).
    pub p_value: f64,
    /// The test rejected at some look (p < α).
    pub rejected: bool,
    /// A fixed-horizon z-test (|z| > 1.96) applied at every look would have rejected at some
    /// look: what peeking at ordinary intervals does.
    pub naive_rejected: bool,
    /// The treatment's estimate minus the control's, at the end.
    pub diff: f64,
    /// The primary metric of control and treatment at the end.
    pub values: [f64; 2],
    /// The sample-ratio check at the end.
    pub srm: Srm,
}

/// One shopper's visits under `policy`.
#[doc(hidden)]
pub fn shop_visits(
    sh: &Shoppers,
    e: &SimExperiment,
    policy: Policy,
    profile: usize,
    rng: &mut SeededRng,
) -> UnitTotals {
    let b = &e.behaviour;
    let liked = &sh.liked[profile];
    let top_liked = &liked[..liked.len().min(50)];
    let top = &sh.popular[..sh.popular.len().min(100)];
    let mut t = UnitTotals::default();
    let mut visits = 1;
    while visits < 20 && rng.f64() < 1.0 - 1.0 / b.visits.max(1.0) {
        visits += 1;
    }
    let personal = ((policy.personal * e.list_len as f64).round() as usize).min(top_liked.len());
    let mut list: Vec<u32> = Vec::with_capacity(e.list_len);
    for _ in 0..visits {
        list.clear();
        while list.len() < personal {
            let i = top_liked[rng.below(top_liked.len())];
            if !list.contains(&i) {
                list.push(i);
            }
        }
        let mut tries = 0;
        while list.len() < e.list_len && tries < 1_000 {
            tries += 1;
            let i = top[rng.below(top.len())];
            if !list.contains(&i) {
                list.push(i);
            }
        }
        // shuffle, so that position does not favour either kind of slot
        for k in (1..list.len()).rev() {
            list.swap(k, rng.below(k + 1));
        }
        t.lists += 1.0;
        t.impressions += list.len() as f64;
        for (pos, &i) in list.iter().enumerate() {
            let base = if sh.liked_sorted[profile].binary_search(&i).is_ok() { b.click_liked } else { b.click_other };
            if rng.f64() >= base / (1.0 + 0.1 * pos as f64) {
                continue;
            }
            t.clicks += 1.0;
            if rng.f64() >= b.cart {
                continue;
            }
            t.carts += 1.0;
            if rng.f64() >= b.buy {
                continue;
            }
            let q = if rng.f64() < 0.2 { 2.0 } else { 1.0 };
            t.purchases += 1.0;
            t.revenue += sh.prices[i as usize] * q;
        }
    }
    t
}

/// Run one experiment with `seed` (assignment, shoppers and their behaviour all follow it).
pub fn run(sh: &Shoppers, e: &SimExperiment, seed: u64) -> SimOutcome {
    let mut arms = [RatioSums::default(), RatioSums::default()];
    let mut p = 1.0f64;
    let every = (e.shoppers / e.looks.max(1)).max(1);
    let share0 = e.shares[0] / (e.shares[0] + e.shares[1]);
    let mut diff = 0.0;
    let mut naive = false;
    for s in 0..e.shoppers {
        // assignment: a hash of the shopper under the run's salt
        let v = usize::from(SeededRng::derive(seed, 1, s as u64).f64() >= share0);
        let lost = match e.fault {
            Fault::LoseTreatment(q) => v == 1 && SeededRng::derive(seed, 2, s as u64).f64() < q,
            Fault::None => false,
        };
        if !lost {
            let mut rng = SeededRng::derive(seed, 3, s as u64);
            let profile = rng.below(sh.profiles());
            let t = shop_visits(sh, e, e.policies[v], profile, &mut rng);
            let (x, y) = match e.primary {
                Metric::Ctr => (t.clicks, t.impressions),
                Metric::AddToCartRate => (t.carts, t.impressions),
                Metric::ConversionRate => (f64::from(u8::from(t.purchases > 0.0)), 1.0),
                Metric::RevenuePerUser => (t.revenue, 1.0),
            };
            arms[v].push(x, y);
        }
        if (s + 1) % every == 0 || s + 1 == e.shoppers {
            if let Some((est, inv)) = look(&arms[0], &arms[1], &e.sequential) {
                p = p.min(inv);
                diff = est.value;
                let enough = arms.iter().all(|a| a.units() >= e.sequential.min_units);
                naive |= enough && est.std_error > 0.0 && (est.value / est.std_error).abs() > crate::experiment::Z95;
            }
        }
    }
    let values = [arms[0].ratio().map_or(0.0, |r| r.0), arms[1].ratio().map_or(0.0, |r| r.0)];
    SimOutcome {
        p_value: p,
        rejected: p < e.sequential.alpha,
        naive_rejected: naive,
        diff,
        values,
        srm: srm(&[arms[0].units(), arms[1].units()], &e.shares),
    }
}

/// Figures over many runs of one experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// Experiments run.
    pub runs: usize,
    /// Runs in which the sequential test rejected.
    pub rejected: usize,
    /// Runs in which it rejected with the treatment ahead.
    pub rejected_treatment_better: usize,
    /// Runs in which the sample-ratio alarm fired.
    pub srm_alarms: usize,
    /// Runs in which a fixed-horizon z-test at every look would have rejected.
    pub naive_rejected: usize,
    /// Mean primary metric of control and treatment over the runs.
    pub mean_values: [f64; 2],
}

impl Figures {
    /// Share of runs that rejected.
    pub fn rejection_rate(&self) -> f64 {
        self.rejected as f64 / self.runs.max(1) as f64
    }
    /// Share of runs that rejected with the treatment ahead.
    pub fn power(&self) -> f64 {
        self.rejected_treatment_better as f64 / self.runs.max(1) as f64
    }
    /// Share of runs whose sample-ratio alarm fired.
    pub fn srm_rate(&self) -> f64 {
        self.srm_alarms as f64 / self.runs.max(1) as f64
    }
}

/// Run `runs` experiments, seeds `seed`, `seed + 1`, … (in parallel with rayon).
pub fn run_many(sh: &Shoppers, e: &SimExperiment, runs: usize, seed: u64) -> Figures {
    use rayon::prelude::*;
    let outs: Vec<SimOutcome> = (0..runs).into_par_iter().map(|r| run(sh, e, seed.wrapping_add(r as u64))).collect();
    let mut mean = [0.0, 0.0];
    for o in &outs {
        mean[0] += o.values[0] / runs as f64;
        mean[1] += o.values[1] / runs as f64;
    }
    Figures {
        runs,
        rejected: outs.iter().filter(|o| o.rejected).count(),
        rejected_treatment_better: outs.iter().filter(|o| o.rejected && o.diff > 0.0).count(),
        srm_alarms: outs.iter().filter(|o| o.srm.alarm).count(),
        naive_rejected: outs.iter().filter(|o| o.naive_rejected).count(),
        mean_values: mean,
    }
}
