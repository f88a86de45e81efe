use std::sync::RwLock;

use daogou_core::Item;
use daogou_engine::catalogue::*;

#[test]
fn upserts_keep_indices_and_the_newest_date() {
    let mut c = Catalogue::new(vec![
        Item { created_at: Some(10), ..Item::new("a") },
        Item { created_at: Some(30), ..Item::new("b") },
    ]);
    assert_eq!(c.newest(), Some(30));
    assert_eq!(c.upsert(Item { created_at: Some(5), ..Item::new("b") }), (1, false));
    assert_eq!(c.newest(), Some(10), "the newest item's date moved back");
    assert_eq!(c.ensure("c"), (2, true));
    assert_eq!(c.ensure("c"), (2, false));
    assert_eq!(c.by_id("c").unwrap().title, "");
    assert_eq!(c.len(), 3);
}

#[test]
fn the_shared_catalogue_indexes_like_the_owned_one() {
    let items = || Catalogue::new((0..10_000).map(|i| Item::new(&format!("i{i}"))).collect());
    // known ids across several lookup slices, and ids the catalogue lacks
    let ids: Vec<String> = (0..12_000).rev().step_by(3).map(|i| format!("i{i}")).collect();
    let mut owned = items();
    let shared = RwLock::new(items());
    assert_eq!(SharedCatalogue(&shared).index_items(&ids), owned.index_items(&ids));
    let shared = shared.into_inner().unwrap();
    assert_eq!(shared.len(), owned.len());
    assert_eq!(shared.len(), 10_000 + 667, "one bare entry per missing id");
    assert_eq!(shared.index_of("i11999"), owned.index_of("i11999"));
}
