//! Top-k selection over a score vector, shared by evaluation and serving.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A heap entry: (score, item, payload); the payload takes no part in the order.
struct Entry<T>(f32, u32, T);
impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    // Reversed so the heap's top is the current worst; ties broken by lower index first
    // (deterministic results).
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(self.1.cmp(&other.1))
    }
}

/// The `k` best `(item, score)` pairs, best first, skipping items for which `exclude`
/// returns true and scores that are NaN or −∞. O(n log k).
pub fn top_k(scores: &[f32], k: usize, exclude: impl FnMut(u32) -> bool) -> Vec<(u32, f32)> {
    let all = scores.iter().enumerate().map(|(i, &s)| (i as u32, s, ()));
    top_k_by(all, k, exclude).into_iter().map(|(i, s, ())| (i, s)).collect()
}

/// [`top_k`] over `(item, score, payload)` triples in any order (a sparse score vector: the
/// items a history reached, each with what explains it). The result, best first (score
/// descending, then item ascending), does not depend on the order of the triples.
pub fn top_k_by<T>(
    triples: impl IntoIterator<Item = (u32, f32, T)>,
    k: usize,
    mut exclude: impl FnMut(u32) -> bool,
) -> Vec<(u32, f32, T)> {
    if k == 0 {
        return Vec::new();
    }
    let mut heap: BinaryHeap<Entry<T>> = BinaryHeap::with_capacity(k + 1);
    for (i, s, t) in triples {
        if s.is_nan() || s == f32::NEG_INFINITY {
            continue;
        }
        let e = Entry(s, i, t);
        // not better than the current worst: skip before the (possibly costly) exclusion test
        if heap.len() == k && e >= *heap.peek().unwrap() {
            continue;
        }
        if exclude(i) {
            continue;
        }
        heap.push(e);
        if heap.len() > k {
            heap.pop();
        }
    }
    // ascending in the reversed order = best first
    heap.into_sorted_vec().into_iter().map(|e| (e.1, e.0, e.2)).collect()
}
