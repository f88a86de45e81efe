//! What only SQL shows in the SQLite store.

use daogou_store::*;

/// The round trip of every experiment table is a `Store` contract test
/// (`tests/it/api.rs`, both stores); this checks what only SQL shows: a deleted unit's
/// outcomes go with its exposures (the cascade).
#[test]
fn a_deleted_unit_takes_its_outcomes_along() {
    let mut s = SqliteStore::open_in_memory().unwrap();
    assert!(s.create_experiment("e", r#"{"x":1}"#, 10).unwrap());
    let items = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let x2 = s.record_exposure("e", "a", "u1", 200, &items(&["i2", "i3"])).unwrap();
    let x3 = s.record_exposure("e", "b", "u2", 4_000, &items(&["i1"])).unwrap();
    let o = |x, item: &str, kind, at| Outcome { exposure: x, item: item.into(), kind, value: 1.0, revenue: 0.0, at };
    let outs = [o(x2, "i2", "click", 210), o(x2, "i2", "add_to_cart", 230), o(x3, "i1", "add_to_cart", 4_010)];
    assert_eq!(s.record_outcomes(&outs).unwrap(), 3);
    s.delete_user("u1", 5_000).unwrap();
    let n: i64 = s.conn().query_row("SELECT count(*) FROM outcomes", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
}
