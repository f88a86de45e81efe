//! The plain-f32 layers that serving runs on.

use daogou_nn::infer::*;

#[test]
fn dense_forward_backward_and_column_blocks() {
    let d = Dense { inp: 3, out: 2, w: vec![1., 2., 3., 4., 5., 6.], b: vec![0.5, -1.] };
    let mut y = [0f32; 2];
    d.forward(&[1., 0., -1.], &mut y);
    assert_eq!(y, [-1.5, -3.0]);
    let mut dx = [0f32; 3];
    d.backward_input(&[1., 1.], &mut dx);
    assert_eq!(dx, [5., 7., 9.]);
    let c = d.columns(1, 3);
    c.forward(&[1., 1.], &mut y);
    assert_eq!(y, [5., 11.]);
    let a: Vec<f32> = (0..19).map(|x| x as f32).collect();
    assert_eq!(dot(&a, &a), (0..19).map(|x| (x * x) as f32).sum::<f32>());
}
