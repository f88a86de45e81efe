//! The fused candle ops against the same maths in composed ops, forward and backward.

use candle_core::{Device, Tensor, Var};
use daogou_nn::fused::*;

fn close(a: &Tensor, b: &Tensor) -> f32 {
    (a - b).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap()
}

#[test]
fn fused_bag_matches_the_composed_ops_forward_and_backward() {
    let dev = Device::Cpu;
    let (n, d, rows, len) = (7, 5, 6, 3);
    let data: Vec<f32> = (0..n * d).map(|k| ((k * 37 % 23) as f32 - 11.0) / 7.0).collect();
    let table = Var::from_vec(data, (n, d), &dev).unwrap();
    // repeated ids within and across rows, padding (zero weight) and a dropped id
    let ids: Vec<u32> = vec![0, 3, 3, 6, 1, 0, 2, 2, 2, 5, 0, 0, 4, 1, 6, 3, 3, 0];
    let w: Vec<f32> = vec![0.5, 0.25, 0.25, 1.0, 0.0, 0.0, 0.3, 0.3, 0.4, 1.0, 0.0, 0.0, 0.2, 0.7, 0.1, 0.0, 0.9, 0.0];
    let probe =
        Tensor::from_vec((0..rows * d).map(|k| k as f32 / 10.0 - 1.0).collect::<Vec<_>>(), (rows, d), &dev).unwrap();
    let mut grads = Vec::new();
    let mut outs = Vec::new();
    for fused in [true, false] {
        let out =
            if fused { embedding_bag(&table, &ids, &w, len) } else { embedding_bag_composed(&table, &ids, &w, len) }
                .unwrap();
        let loss = (&out * &probe).unwrap().sum_all().unwrap();
        grads.push(loss.backward().unwrap().get(&table).unwrap().clone());
        outs.push(out);
    }
    assert!(close(&outs[0], &outs[1]) < 1e-6);
    assert!(close(&grads[0], &grads[1]) < 1e-6);
    assert!(embedding_bag(&table, &[9], &[1.0], 1).is_err(), "an index past the table is refused");
}

#[test]
fn fused_in_batch_softmax_matches_the_composed_ops_forward_and_backward() {
    let dev = Device::Cpu;
    let b = 6;
    let data: Vec<f32> = (0..b * b).map(|k| ((k * 29 % 17) as f32 - 8.0) / 4.0).collect();
    let logits = Var::from_vec(data, (b, b), &dev).unwrap();
    let bias: Vec<f32> = (0..b).map(|c| -(c as f32 + 1.0).ln()).collect();
    let items: Vec<u32> = vec![4, 1, 4, 2, 1, 9]; // duplicates in columns 0/2 and 1/4
    let mut res = Vec::new();
    for fused in [true, false] {
        let l = if fused {
            in_batch_softmax_loss(&logits, 2.5, &bias, &items)
        } else {
            in_batch_softmax_loss_composed(&logits, 2.5, &bias, &items)
        }
        .unwrap();
        let g = (&l * 3.0).unwrap().backward().unwrap().get(&logits).unwrap().clone();
        res.push((l.to_scalar::<f32>().unwrap(), g));
    }
    assert!((res[0].0 - res[1].0).abs() < 1e-5, "{} vs {}", res[0].0, res[1].0);
    assert!(close(&res[0].1, &res[1].1) < 1e-6);
    // huge logits stay finite
    let big = Var::from_vec(vec![1e30f32; b * b], (b, b), &dev).unwrap();
    let l = in_batch_softmax_loss(&big, 1.0, &bias, &items).unwrap().to_scalar::<f32>().unwrap();
    assert!(l.is_finite());
}
