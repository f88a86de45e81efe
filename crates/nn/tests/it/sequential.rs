//! `sequential`: learns order and repeat behaviour from the event log, is reproducible with a
//! seed, round-trips through its saved state, refuses bad parameters with the key's name.

use daogou_algo::{load_model, topk::top_k, Recommender, TrainData};
use daogou_core::{Aggregate, EventKind, Interaction, Interactions, Params};
use daogou_nn::sequential::Sequential;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

const DAY: i64 = 86_400;

fn purchase(user: u32, item: u32, timestamp: i64) -> Interaction {
    Interaction { user, item, value: 1.0, timestamp, kind: EventKind::Purchase }
}

fn matrix(n_users: usize, n_items: usize, events: &[Interaction]) -> Interactions {
    Interactions::from_interactions(n_users, n_items, events, Aggregate::Sum)
}

/// 12 chains A→B→C over items 3c, 3c+1, 3c+2; each user walks 3 random chains in order, one
/// item a day. Chain 0 is walked far more often, so popularity favours its items.
fn chains(n_users: u32, seed: u64) -> Vec<Interaction> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut ev = Vec::new();
    for u in 0..n_users {
        let mut t = 0;
        for _ in 0..3 {
            let c: u32 = if rng.random::<f32>() < 0.3 { 0 } else { rng.random_range(1..12) };
            for step in 0..3 {
                ev.push(purchase(u, 3 * c + step, t));
                t += DAY;
            }
        }
    }
    ev
}

fn small() -> Params {
    Params::new()
        .with("dims", 16)
        .with("heads", 2)
        .with("max_len", 8)
        .with("epochs", 25)
        .with("batch_size", 64)
        .with("lr", 0.01)
        .with("dropout", 0.0)
        .with("patience", 0)
}

fn top1(m: &dyn Recommender, history: &[u32]) -> u32 {
    let mut s = vec![0f32; m.n_items()];
    let h: Vec<(u32, f32)> = history.iter().map(|&i| (i, 1.0)).collect();
    m.score_history(&h, &mut s);
    top_k(&s, 1, |_| false)[0].0
}

#[test]
fn learns_a_planted_sequence_far_above_popularity() {
    let ev = chains(150, 1);
    let m = matrix(150, 36, &ev);
    let model = Sequential::fit(&TrainData::new(&m, false).with_events(&ev), &small()).unwrap();
    // after A comes B, after A→B comes C: 24 questions, one right answer each
    let mut right = 0;
    for c in 0..12 {
        right += u32::from(top1(&model, &[3 * c]) == 3 * c + 1);
        right += u32::from(top1(&model, &[3 * c, 3 * c + 1]) == 3 * c + 2);
    }
    // popularity answers item 0/1/2 everywhere: right at most 2 times out of 24
    assert!(right >= 20, "next item right {right}/24");
    // score_user continues the user's own sequence the same way
    let mut s = vec![0f32; 36];
    let mut hits = 0;
    let mut asked = 0;
    for u in 0..150u32 {
        let last = ev.iter().filter(|e| e.user == u).max_by_key(|e| e.timestamp).unwrap();
        if last.item % 3 == 2 {
            continue; // a chain just ended: what comes next is a random chain
        }
        model.score_user(u, &mut s);
        hits += u32::from(top_k(&s, 1, |_| false)[0].0 == last.item + 1);
        asked += 1;
    }
    assert!(asked == 0 || hits * 10 >= asked * 9, "{hits}/{asked}");
}

#[test]
fn learns_whether_people_come_back() {
    // retail-like: each user has 2 favourite items bought again and again, and tries a new
    // item now and then; the next basket mostly holds a favourite
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let mut ev = Vec::new();
    let n_items = 40u32;
    for u in 0..100u32 {
        let fav = [rng.random_range(0..n_items), rng.random_range(0..n_items)];
        for step in 0..8i64 {
            let item =
                if rng.random::<f32>() < 0.8 { fav[rng.random_range(0..2usize)] } else { rng.random_range(0..n_items) };
            ev.push(purchase(u, item, step * 7 * DAY));
        }
    }
    let m = matrix(100, n_items as usize, &ev);
    let model = Sequential::fit(&TrainData::new(&m, false).with_events(&ev), &small()).unwrap();
    let mut s = vec![0f32; n_items as usize];
    let mut own = 0;
    for u in 0..100u32 {
        model.score_user(u, &mut s);
        let best = top_k(&s, 1, |_| false)[0].0;
        own += u32::from(m.user_row(u).0.contains(&best));
    }
    assert!(own >= 95, "top pick is a past purchase for {own}/100 users");

    // on the chain data nobody buys the same item twice: the history is ranked last
    let ev = chains(150, 2);
    let m = matrix(150, 36, &ev);
    let model = Sequential::fit(&TrainData::new(&m, false).with_events(&ev), &small()).unwrap();
    let mut s = vec![0f32; 36];
    model.score_history(&[(4, 1.0), (5, 1.0), (9, 1.0)], &mut s);
    let top: Vec<u32> = top_k(&s, 10, |_| false).into_iter().map(|x| x.0).collect();
    assert_eq!(top[0], 10, "{top:?}");
    assert!(!top.iter().any(|i| [4, 5, 9].contains(i)), "a past item in the top 10: {top:?}");
}

#[test]
fn same_seed_same_model_and_state_round_trip() {
    daogou_nn::register();
    let ev = chains(60, 3);
    let m = matrix(60, 36, &ev);
    let t = TrainData::new(&m, false).with_events(&ev);
    // per_user 3 of the 7 training steps: the per-epoch sample must be seeded too
    let p = small().with("epochs", 3).with("dropout", 0.3).with("patience", 2).with("per_user", 3);
    let a = Sequential::fit(&t, &p).unwrap();
    let b = Sequential::fit(&t, &p).unwrap();
    assert_eq!(a.state(), b.state());
    let c = Sequential::fit(&t, &p.clone().with("seed", 7)).unwrap();
    assert_ne!(a.state(), c.state());

    let loaded = load_model(&a.state()).unwrap();
    assert_eq!(loaded.name(), "sequential");
    let (mut s1, mut s2) = (vec![0f32; 36], vec![0f32; 36]);
    for u in 0..60 {
        a.score_user(u, &mut s1);
        loaded.score_user(u, &mut s2);
        assert!(s1.iter().all(|x| x.is_finite()));
        assert_eq!(
            s1.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            s2.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
    }
    a.score_history(&[(3, 1.0), (4, 1.0)], &mut s1);
    loaded.score_history(&[(3, 1.0), (4, 1.0)], &mut s2);
    assert_eq!(s1, s2);
    // an unknown user and an empty session still get finite scores (the learned item prior)
    a.score_user(10_000, &mut s1);
    assert!(s1.iter().all(|x| x.is_finite()));
    a.score_history(&[], &mut s1);
    assert!(s1.iter().all(|x| x.is_finite()));

    // a damaged state is refused, naming what is wrong
    let mut broken = a.state();
    broken.tensors.remove("w.l0.wq");
    assert!(load_model(&broken).err().unwrap().to_string().contains("w.l0.wq"));
    let mut broken = a.state();
    broken.tensors.insert("seq".into(), daogou_algo::Tensor::U32(vec![99; broken.tensors["seq"].len()]));
    assert!(load_model(&broken).err().unwrap().to_string().contains("out of range"));
}

#[test]
fn bad_parameters_and_data_are_refused_clearly() {
    let ev = chains(20, 4);
    let m = matrix(20, 36, &ev);
    let t = TrainData::new(&m, false).with_events(&ev);
    for (key, value) in
        [("heads", "3"), ("dropout", "1.5"), ("lr", "0"), ("max_len", "0"), ("epochs", "x"), ("horizon", "-1")]
    {
        let err = Sequential::fit(&t, &small().with(key, value)).err().unwrap().to_string();
        assert!(err.contains(key), "{key}={value}: {err}");
    }
    let err = Sequential::fit(&t, &small().with("nhead", 2)).err().unwrap().to_string();
    assert!(err.contains("nhead"), "{err}");
    let err = Sequential::fit(&TrainData::new(&m, false), &small()).err().unwrap().to_string();
    assert!(err.contains("event log"), "{err}");
    // one step per user: no sequence at all
    let flat: Vec<Interaction> = (0..20).map(|u| purchase(u, u % 36, 0)).collect();
    let err = Sequential::fit(&TrainData::new(&matrix(20, 36, &flat), false).with_events(&flat), &small())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("two different times"), "{err}");
}
