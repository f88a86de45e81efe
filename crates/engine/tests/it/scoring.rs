//! The sparse scoring path of "for you" (neighbourhood models score only the items a history
//! reaches) answers exactly as the dense path over the whole catalogue: same items, order,
//! scores, reasons, with every filter and blending knob.

use daogou_algo::{ModelState, Reached, Recommender};
use daogou_core::{EventKind, SeededRng};
use daogou_data::synth::{generate_shop, ShopConfig};
use daogou_engine::lists::for_you;
use daogou_engine::{Blend, Engine, Filter, History, LiveLimits, ModelSource, ModelSpec, Snapshot};
use daogou_store::{SqliteStore, Store};

/// The real model with its sparse path hidden: the engine falls back to dense scoring.
struct DenseOnly(Box<dyn Recommender>);

impl Recommender for DenseOnly {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn n_items(&self) -> usize {
        self.0.n_items()
    }
    fn score_user(&self, user: u32, out: &mut [f32]) {
        self.0.score_user(user, out)
    }
    fn score_history(&self, history: &[(u32, f32)], out: &mut [f32]) {
        self.0.score_history(history, out)
    }
    fn state(&self) -> ModelState {
        self.0.state()
    }
    fn explain(&self, history: &[(u32, f32)], item: u32, n: usize) -> Vec<(u32, f32)> {
        self.0.explain(history, item, n)
    }
}

fn shop_store(shop: &daogou_data::synth::Shop) -> SqliteStore {
    let mut s = SqliteStore::open_in_memory().unwrap();
    s.upsert_items(&shop.items).unwrap();
    s.insert_events(&shop.events).unwrap();
    s
}

#[test]
fn sparse_for_you_equals_the_dense_answer() {
    let shop = generate_shop(&ShopConfig { users: 150, items: 120, days: 20, ..ShopConfig::default() });
    let engine =
        Engine::open(shop_store(&shop), &ModelSource::Fit(ModelSpec::named("item-knn")), LiveLimits::default())
            .unwrap();
    let sparse = engine.snapshot();
    let model = sparse.model.as_ref().expect("item-knn fitted");
    assert_eq!(model.name(), "item-knn");
    let mut probe: Vec<Reached> = Vec::new();
    assert!(model.score_reached(&[(0, 1.0)], &mut probe), "item-knn has the sparse path");

    let ds = shop_store(&shop).load_dataset().unwrap();
    let mut cat = engine.catalogue().clone();
    let mut dense = Snapshot::fit(&ds, &mut cat, &ModelSpec::named("item-knn"), sparse.version, sparse.seq).unwrap();
    dense.model = dense.model.map(|m| Box::new(DenseOnly(m)) as Box<dyn Recommender>);

    let category = shop.items.iter().find_map(|it| it.category.clone()).unwrap();
    let top_level = category.split('/').next().unwrap().to_owned();
    let filters: Vec<(Filter, Blend)> = vec![
        (Filter::default(), Blend::default()),
        (Filter { allow_repeat: true, in_stock: false, ..Filter::default() }, Blend::default()),
        (Filter { category: Some(top_level), ..Filter::default() }, Blend::default()),
        (Filter { max_price: Some(50.0), min_price: Some(5.0), ..Filter::default() }, Blend::default()),
        (Filter::default(), Blend { max_per_category: Some(2), ..Blend::default() }),
        (Filter::default(), Blend { explore: 0.3, ..Blend::default() }),
        (Filter::default(), Blend { popularity: 0.5, novelty: 0.2, ..Blend::default() }),
    ];
    let mut rng = SeededRng::new(7);
    let mut next = |n: u64| rng.below(n as usize) as u64;
    let (mut lists, mut because) = (0, 0);
    for u in 0..sparse.users.len() as u32 {
        let user = sparse.users.id(u).to_owned();
        // the user's own history, and a random session-like one
        let own = engine.history(&sparse, &user);
        let mut items: Vec<(u32, f32)> =
            (0..1 + next(12)).map(|_| (next(sparse.items.len() as u64) as u32, 1.0 + next(3) as f32)).collect();
        items.sort_unstable_by_key(|p| p.0);
        items.dedup_by_key(|p| p.0);
        let kinds = items.iter().map(|p| (p.0, EventKind::View)).collect();
        let session = History { user: None, items, kinds, fresh: true, recent: Vec::new() };
        for h in [&own, &session] {
            let (f, blend) = &filters[next(filters.len() as u64) as usize];
            let mut f = f.clone();
            if next(3) == 0 {
                f.exclude.insert(sparse.items.id(next(sparse.items.len() as u64) as u32).to_owned());
            }
            let n = 1 + next(15) as usize;
            let a = for_you(&sparse, &engine.catalogue(), h, &f, blend, n);
            let b = for_you(&dense, &engine.catalogue(), h, &f, blend, n);
            assert_eq!(a, b, "user {user}, history {:?}, filter {f:?}, n {n}", h.items);
            lists += 1;
            because += a.iter().filter(|p| p.because.is_some()).count();
        }
    }
    assert!(lists >= 250 && because > lists, "{lists} lists, {because} picks with a history reason");
}
