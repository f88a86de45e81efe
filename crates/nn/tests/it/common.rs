//! Shared fixtures: a planted-taste data set and ranking helpers.

use daogou_algo::{Recommender, TrainData};
use daogou_core::{Aggregate, EventKind, Interaction, Interactions, Item, Params};

/// 4 taste groups of 50 users; 4 groups of 15 niche items (ids 0..60) and 20 popular items
/// (60..80). Each user has 6 items of their group and 5 popular ones, so popular items are
/// 2.5× as frequent as any niche item: popularity ranks them first, a personalised model must
/// find the user's group. Items 80..84 are cold (no interactions): item 80 + g has a
/// Chinese-only title sharing words with group g's titles and no category.
pub struct Planted {
    pub matrix: Interactions,
    pub events: Vec<Interaction>,
    pub items: Vec<Item>,
}

pub const USERS: u32 = 200;
pub const ITEMS: u32 = 84;

const ZH: [&str; 4] = ["跑鞋", "耳机", "咖啡", "面霜"];
const EN: [&str; 4] = ["running shoe", "headphones", "coffee", "face cream"];

pub fn group_of_user(u: u32) -> u32 {
    u % 4
}

pub fn group_of_item(i: u32) -> Option<u32> {
    (i < 60).then_some(i / 15)
}

pub fn planted(seed: u64) -> Planted {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = |n: u32| {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((x >> 33) % u64::from(n)) as u32
    };
    let mut events = Vec::new();
    for u in 0..USERS {
        let g = group_of_user(u);
        let mut mine: Vec<u32> = Vec::new();
        while mine.len() < 6 {
            let i = g * 15 + next(15);
            if !mine.contains(&i) {
                mine.push(i);
            }
        }
        while mine.len() < 11 {
            let i = 60 + next(20);
            if !mine.contains(&i) {
                mine.push(i);
            }
        }
        for &i in &mine {
            // random times: the validation holdout (each user's last event) is any of the items
            let t = i64::from(next(1000));
            events.push(Interaction { user: u, item: i, value: 1.0, timestamp: t, kind: EventKind::Purchase });
        }
    }
    let matrix = Interactions::from_interactions(USERS as usize, ITEMS as usize, &events, Aggregate::Sum);
    let items = (0..ITEMS)
        .map(|i| {
            let mut it = Item::new(format!("sku-{i}"));
            match group_of_item(i) {
                Some(g) => {
                    it.title = format!("{} {} {i}", ZH[g as usize], EN[g as usize]);
                    it.category = Some(format!("group-{g}"));
                }
                None if i < 80 => {
                    it.title = format!("热销 bestseller {i}");
                    it.category = Some("popular".into());
                }
                None => it.title = format!("新款{}", ZH[(i - 80) as usize]),
            }
            it
        })
        .collect();
    Planted { matrix, events, items }
}

impl Planted {
    pub fn data(&self) -> TrainData<'_> {
        TrainData::new(&self.matrix, false).with_items(&self.items).with_events(&self.events)
    }
}

/// Top `k` unseen items for user `u`.
pub fn top_unseen(model: &dyn Recommender, m: &Interactions, u: u32, k: usize) -> Vec<u32> {
    let mut s = vec![0f32; model.n_items()];
    model.score_user(u, &mut s);
    let seen = m.user_row(u).0;
    daogou_algo::topk::top_k(&s, k, |i| seen.contains(&i)).into_iter().map(|x| x.0).collect()
}

/// Share of the top-10 unseen items that belong to the user's taste group, over all users.
pub fn group_precision(model: &dyn Recommender, m: &Interactions) -> f64 {
    let mut hits = 0usize;
    for u in 0..USERS {
        hits += top_unseen(model, m, u, 9).iter().filter(|&&i| group_of_item(i) == Some(group_of_user(u))).count();
    }
    hits as f64 / (9 * USERS) as f64
}

/// Every score of every user, as bits.
pub fn all_score_bits(model: &dyn Recommender) -> Vec<u32> {
    let mut out = Vec::new();
    let mut s = vec![0f32; model.n_items()];
    for u in 0..USERS {
        model.score_user(u, &mut s);
        out.extend(s.iter().map(|x| x.to_bits()));
    }
    model.score_history(&[(0, 1.0), (1, 1.0), (60, 1.0)], &mut s);
    out.extend(s.iter().map(|x| x.to_bits()));
    out
}

pub fn popularity(data: &TrainData<'_>) -> Box<dyn Recommender> {
    daogou_algo::build_model("popularity", &Params::new(), data).unwrap()
}

/// Save through the model-file format and load back.
pub fn round_trip(model: &dyn Recommender, m: &Interactions) -> Box<dyn Recommender> {
    daogou_nn::register();
    let (mut users, mut items) = (daogou_core::IdMap::new(), daogou_core::IdMap::new());
    for u in 0..m.n_users() {
        users.get_or_insert(&format!("u{u}"));
    }
    for i in 0..m.n_items() {
        items.get_or_insert(&format!("i{i}"));
    }
    let params = Params::new();
    let signal = daogou_data::Signal::default();
    let ctx = daogou_modelfile::TrainingContext {
        users: &users,
        items: &items,
        train: m,
        explicit: false,
        params: &params,
        signal: &signal,
        source: "test",
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.daogou");
    daogou_modelfile::save(&path, model, &ctx).unwrap();
    daogou_modelfile::load(&path).unwrap().model
}
