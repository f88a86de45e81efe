use daogou_core::*;

#[test]
fn duplicates_aggregate_and_rows_sort() {
    let t = vec![(0u32, 2u32, 1.0f32), (0, 0, 2.0), (1, 1, 3.0), (0, 2, 4.0)];
    let sum = Csr::from_triplets(2, 3, t.clone(), Aggregate::Sum);
    assert_eq!(sum.row(0), (&[0u32, 2][..], &[2.0f32, 5.0][..]));
    let last = Csr::from_triplets(2, 3, t.clone(), Aggregate::Last);
    assert_eq!(last.get(0, 2), Some(4.0));
    let max = Csr::from_triplets(2, 3, vec![(0, 1, 5.0), (0, 1, 2.0)], Aggregate::Max);
    assert_eq!(max.get(0, 1), Some(5.0));
    assert_eq!(sum.nnz(), 3);
    assert_eq!(sum.get(1, 0), None);
}

#[test]
fn rows_in_order_and_rows_out_of_order_build_the_same_matrix() {
    // a row already sorted is moved as it is; others are sorted and merged in place
    let sorted = vec![(0u32, 0u32, 1.0f32), (0, 3, 2.0), (1, 1, 1.0), (2, 0, 5.0), (2, 2, 1.0)];
    let mut shuffled = sorted.clone();
    shuffled.reverse();
    shuffled.push((2, 2, 1.5));
    let a = Csr::from_triplets(3, 4, sorted, Aggregate::Sum);
    let b = Csr::from_triplets(3, 4, shuffled, Aggregate::Sum);
    assert_eq!(a.row(0), b.row(0));
    assert_eq!(a.row(1), b.row(1));
    assert_eq!(b.row(2), (&[0u32, 2][..], &[5.0f32, 2.5][..]));
    assert_eq!(b.nnz(), 5);
}

#[test]
fn retain_keeps_rows_sorted_and_drops_the_rest() {
    let t = vec![(0u32, 0u32, 1.0f32), (0, 1, -1.0), (1, 0, -2.0), (2, 1, 3.0), (2, 2, 0.0)];
    let mut m = Csr::from_triplets(3, 3, t, Aggregate::Sum);
    m.retain(|_, _, v| v > 0.0);
    assert_eq!(m.nnz(), 2);
    assert_eq!(m.row(0), (&[0u32][..], &[1.0f32][..]));
    assert_eq!(m.row(1), (&[][..], &[][..]));
    assert_eq!(m.row(2), (&[1u32][..], &[3.0f32][..]));
    assert_eq!(m, Csr::from_parts(3, 3, m.indptr().to_vec(), m.indices().to_vec(), m.data().to_vec()).unwrap());
}

#[test]
fn transpose_twice_is_identity() {
    let t = vec![(0u32, 2u32, 1.0f32), (2, 0, 2.0), (1, 1, 3.0), (2, 2, 4.0)];
    let m = Csr::from_triplets(3, 3, t, Aggregate::Sum);
    let tt = m.transpose();
    assert_eq!(tt.row(2), (&[0u32, 2][..], &[1.0f32, 4.0][..]));
    assert_eq!(tt.transpose(), m);
}
