//! `sequential`'s plain-f32 scoring (what serving runs) against candle's batched `forward`
//! (what training runs), through the model's hidden reference methods.

use daogou_algo::{ModelState, Recommender, Tensor as StateTensor};
use daogou_core::Params;
use daogou_nn::sequential::Sequential;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// The plain-f32 scoring path against candle's batched `forward`, on random weights (every
/// gain and bias too), two blocks, several heads, a short and a full history, and an
/// anonymous session.
#[test]
fn plain_f32_inference_matches_the_candle_forward() {
    let n_items = 30;
    let params = Params::new().with("dims", 8).with("heads", 2).with("layers", 2).with("max_len", 6).with("history", 5);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let mut state = ModelState::new("sequential", &params);
    state.set_scalar("n_items", n_items as f64);
    state.set_scalar("n_users", 2.0);
    for (name, shape) in Sequential::weight_shapes(&params, n_items).unwrap() {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| rng.random_range(-0.8f32..0.8)).collect();
        state.set(&format!("w.{name}"), StateTensor::F32(v));
    }
    // user 0: 3 items (padded), user 1: 6 items (full); repeat slots with features
    let users: [(Vec<u32>, Vec<u32>); 2] = [(vec![4, 9, 4], vec![4, 9]), (vec![1, 2, 3, 5, 8, 13], vec![13, 8, 5])];
    let (mut seq_ptr, mut seq, mut slot_ptr, mut slots, mut feats) = (vec![0u64], vec![], vec![0u64], vec![], vec![]);
    for (s, sl) in &users {
        seq.extend_from_slice(s);
        seq_ptr.push(seq.len() as u64);
        for &i in sl {
            slots.push(i);
            feats.extend((0..Sequential::REPEAT_FEATURES).map(|f| (i as f32 + f as f32) / 10.0));
        }
        slot_ptr.push(slots.len() as u64);
    }
    state.set("seq_ptr", StateTensor::U64(seq_ptr));
    state.set("seq", StateTensor::U32(seq));
    state.set("slot_ptr", StateTensor::U64(slot_ptr));
    state.set("slots", StateTensor::U32(slots));
    state.set("feats", StateTensor::F32(feats));
    let model = Sequential::from_state(&state).unwrap();
    let mut ours = vec![0f32; n_items];
    for u in 0..2u32 {
        model.score_user(u, &mut ours);
        let theirs = model.candle_scores_user(u);
        let diff = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(diff < 1e-4, "user {u}: max difference {diff}");
    }
    let session = [(7u32, 1f32), (3, 1.0), (7, 1.0)];
    model.score_history(&session, &mut ours);
    let theirs = model.candle_scores_history(&session);
    let diff = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(diff < 1e-4, "session: max difference {diff}");
    // no history: the item biases
    model.score_history(&[], &mut ours);
    assert_eq!(ours, state.f32s("w.item_bias", Some(n_items)).unwrap());
}
