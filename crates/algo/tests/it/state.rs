use daogou_algo::state::*;
use daogou_core::{Aggregate, Csr, Params};

#[test]
fn csr_round_trip_and_typed_errors() {
    let m = Csr::from_triplets(3, 4, [(0, 1, 1.0), (2, 3, 2.0), (2, 0, 0.5)].into_iter(), Aggregate::Sum);
    let mut s = ModelState::new("x", &Params::new());
    s.set_csr("m", &m);
    s.set_scalar("n", 3.0);
    assert_eq!(s.csr("m").unwrap(), m);
    assert_eq!(s.count("n").unwrap(), 3);
    assert!(s.f32s("m.indices", None).unwrap_err().to_string().contains("expected F32"));
    assert!(s.f32s("m.data", Some(4)).unwrap_err().to_string().contains("expected 4"));
    assert!(s.scalar("nope").unwrap_err().to_string().contains("`nope` missing"));
    // a corrupted index is caught by the CSR check, not by a later panic
    if let Some(Tensor::U32(v)) = s.tensors.get_mut("m.indices") {
        v[0] = 99;
    }
    assert!(s.csr("m").unwrap_err().to_string().contains("out of range"));
}
