use daogou_algo::popularity::*;
use daogou_algo::*;
use daogou_core::{Aggregate, Interaction, Interactions, Params};

#[test]
fn counts_users_and_breaks_ties_by_sum() {
    let data = [(0, 0, 1.0), (1, 0, 1.0), (0, 1, 5.0), (1, 1, 1.0), (2, 2, 9.0), (0, 3, 1.0)];
    let data: Vec<Interaction> = data.iter().map(|&(u, i, v)| Interaction::new(u, i, v)).collect();
    let m = Interactions::from_interactions(3, 5, &data, Aggregate::Sum);
    let p = Popularity::fit(&TrainData::new(&m, false), &Params::new()).unwrap();
    let mut s = vec![0.0; 5];
    p.score_user(0, &mut s);
    let order: Vec<u32> = daogou_algo::topk::top_k(&s, 5, |_| false).iter().map(|x| x.0).collect();
    assert_eq!(order, vec![1, 0, 2, 3, 4]);
    assert_eq!(s[1].floor(), 2.0);
    assert_eq!(s[4], 0.0);
    assert!(s.iter().all(|x| x.is_finite()));
    assert!(Popularity::fit(&TrainData::new(&m, false), &Params::new().with("k", 3)).is_err());
}
