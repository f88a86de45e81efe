use crate::common::synthetic_events;
use daogou_store::{SqliteStore, Store};
use rusqlite::Connection;
use std::time::Instant;

#[test]
fn scratch_variants() {
    let events = synthetic_events(400_000, 4300, 4000);
    let mut s = SqliteStore::open_in_memory().unwrap();
    let t = Instant::now();
    s.import(&[], &events).unwrap();
    eprintln!("in-memory import: {:.3}", t.elapsed().as_secs_f64());

    for variant in ["full", "no_fk", "no_dedup_index", "no_checkpoint"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        drop(SqliteStore::open(&path).unwrap());
        let raw = Connection::open(&path).unwrap();
        if variant == "no_dedup_index" {
            raw.execute_batch("DROP INDEX events_dedup; CREATE INDEX events_user ON events(user_id);").unwrap();
        }
        if variant == "no_checkpoint" {
            raw.execute_batch("PRAGMA wal_autocheckpoint=0;").unwrap();
        }
        drop(raw);
        let mut s = SqliteStore::open(&path).unwrap();
        let t = Instant::now();
        s.import(&[], &events).unwrap();
        eprintln!("{variant}: {:.3}", t.elapsed().as_secs_f64());
    }
}
