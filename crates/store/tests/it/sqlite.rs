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

/// The service's writer leaves checkpoints to a thread of its own: its commits never run one
/// (`wal_autocheckpoint = 0`), and the thread copies the WAL into the database file within a
/// few periods, also while another connection reads.
#[test]
fn a_background_checkpoint_moves_the_wal_into_the_file_and_commits_never_checkpoint() {
    use daogou_core::EventKind;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let mut s = SqliteStore::open(&path).unwrap();
    let autocheckpoint = |s: &SqliteStore| s.conn().query_row("PRAGMA wal_autocheckpoint", [], |r| r.get::<_, i64>(0));
    assert_eq!(autocheckpoint(&s).unwrap(), 1000, "SQLite's default before");
    s.checkpoint_in_background().unwrap();
    s.checkpoint_in_background().unwrap(); // once is enough; a second call changes nothing
    assert_eq!(autocheckpoint(&s).unwrap(), 0);
    let db_len = || std::fs::metadata(&path).unwrap().len();
    let before = db_len();
    // a reader in the middle, as a refit: the checkpoint copies what it does not need
    let reader = SqliteStore::open(&path).unwrap();
    for batch in 0..4 {
        let events: Vec<_> = (0..2_000)
            .map(|k| {
                crate::common::ev(
                    &format!("u{}", k % 300),
                    &format!("i{}", k % 700),
                    EventKind::View,
                    batch * 2_000 + k,
                )
            })
            .collect();
        s.insert_events(&events).unwrap();
        if batch == 1 {
            reader.begin_read().unwrap();
        }
    }
    reader.end_read().unwrap();
    // the writer's own commits left the file as it was; the thread fills it in
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while db_len() <= before && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(db_len() > before, "the database file grew from {before} bytes: the WAL was checkpointed");
    // a checkpoint of our own finds nothing left to copy; busy (1, -1, -1) while the thread's
    // own checkpoint runs at that moment, so it asks again
    let checkpoint = || -> (i64, i64, i64) {
        reader
            .conn()
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
    };
    let mut result = checkpoint();
    while result.0 == 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
        result = checkpoint();
    }
    let (busy, log, done) = result;
    assert_eq!((busy, log), (0, done), "everything in the WAL is in the file");
    assert_eq!(s.stats().unwrap().events, 8_000);
    drop(s); // stops and joins the thread
    drop(reader);
    assert_eq!(SqliteStore::open(&path).unwrap().stats().unwrap().events, 8_000);
}
