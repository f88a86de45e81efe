//! Top-k selection over a score vector, shared by evaluation and serving.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

#[derive(PartialEq)]
struct Entry(f32, u32);
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    // Reversed so the heap's top is the current worst; ties broken by lower index first
    // (deterministic results).
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(self.1.cmp(&other.1))
    }
}

/// The `k` best `(item, score)` pairs, best first, skipping items for which `exclude`
/// returns true and scores that are NaN or −∞. O(n log k).
pub fn top_k(scores: &[f32], k: usize, mut exclude: impl FnMut(u32) -> bool) -> Vec<(u32, f32)> {
    if k == 0 {
        return Vec::new();
    }
    let mut heap: BinaryHeap<Entry> = BinaryHeap::with_capacity(k + 1);
    for (i, &s) in scores.iter().enumerate() {
        if s.is_nan() || s == f32::NEG_INFINITY {
            continue;
        }
        if heap.len() == k {
            let worst = heap.peek().unwrap();
            if s <= worst.0 {
                continue;
            }
        }
        if exclude(i as u32) {
            continue;
        }
        heap.push(Entry(s, i as u32));
        if heap.len() > k {
            heap.pop();
        }
    }
    let mut v: Vec<(u32, f32)> = heap.into_iter().map(|e| (e.1, e.0)).collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_best_and_skips_excluded() {
        let s = [0.1, 0.9, f32::NAN, 0.5, 0.9, f32::NEG_INFINITY, 0.7];
        let t = top_k(&s, 3, |i| i == 4);
        assert_eq!(t, vec![(1, 0.9), (6, 0.7), (3, 0.5)]);
        assert_eq!(top_k(&s, 0, |_| false), vec![]);
        assert_eq!(top_k(&s, 10, |_| false).len(), 5);
    }
}
