//! Opening files: creation, settings, version checks, refusing foreign files.

use daogou_core::EventKind;
use daogou_store::{SqliteStore, Store, StoreError, SCHEMA_VERSION};
use rusqlite::Connection;

use crate::common::ev;

#[test]
fn creates_the_schema_once_and_persists() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("daogou.db");
    {
        let mut s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.path(), Some(path.as_path()));
        s.insert_events(&[ev("u", "a", EventKind::View, 1)]).unwrap();
        s.set_meta("k", "v").unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.stats().unwrap().events, 1);
    assert_eq!(s.meta("k").unwrap().as_deref(), Some("v"));
    s.check_integrity().unwrap();

    let raw = Connection::open(&path).unwrap();
    let pragma = |name: &str| -> String {
        raw.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, rusqlite::types::Value>(0))
            .map(|v| format!("{v:?}"))
            .unwrap()
    };
    assert_eq!(pragma("journal_mode"), "Text(\"wal\")");
    assert_eq!(pragma("user_version"), format!("Integer({SCHEMA_VERSION})"));
    assert_eq!(pragma("application_id"), format!("Integer({})", 0x6461_6f67));
    // The kinds table documents the codes for people using the sqlite3 shell.
    let purchase: i64 =
        raw.query_row("SELECT code FROM event_kinds WHERE name = 'purchase'", [], |r| r.get(0)).unwrap();
    assert_eq!(purchase, 4);
    assert!(SqliteStore::open_in_memory().unwrap().path().is_none());
}

/// The bundled SQLite is built without memory statistics (`.cargo/config.toml`): with them,
/// every allocation of every connection in the process waits on one mutex, and a refit's
/// reader held the service's writer up for milliseconds per commit.
#[test]
fn sqlite_is_built_without_its_global_memory_statistics() {
    let s = SqliteStore::open_in_memory().unwrap();
    let option = |name: &str| -> i64 {
        s.conn().query_row("SELECT sqlite_compileoption_used(?1)", [name], |r| r.get(0)).unwrap()
    };
    assert_eq!(option("DEFAULT_MEMSTATUS=0"), 1, "LIBSQLITE3_FLAGS from .cargo/config.toml reached the build");
    assert_eq!(option("THREADSAFE=1"), 1, "the check itself reads the build's options");
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.csv");
    std::fs::write(&path, "InvoiceNo,StockCode,Description,Quantity\n536365,85123A,WHITE HANGING HEART,6\n".repeat(50))
        .unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    assert!(msg.contains(&path.display().to_string()) && msg.contains("not a SQLite database"), "{msg}");
    // Untouched.
    assert!(std::fs::read_to_string(&path).unwrap().starts_with("InvoiceNo"));
}

#[test]
fn a_missing_directory_is_an_open_error_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/daogou.db");
    let msg = SqliteStore::open(&path).unwrap_err().to_string();
    assert!(msg.contains("no/such/dir/daogou.db"), "{msg}");
}

#[test]
fn a_newer_schema_version_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    drop(SqliteStore::open(&path).unwrap());
    Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    match &err {
        StoreError::SchemaTooNew { path: p, found: 99, supported } => {
            assert_eq!(p, &path);
            assert_eq!(*supported, SCHEMA_VERSION);
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert!(err.to_string().contains("future.db"), "{err}");
    let v: i64 = Connection::open(&path).unwrap().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(v, 99);
}

#[test]
fn another_programs_sqlite_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    Connection::open(&path).unwrap().execute_batch("CREATE TABLE notes (body TEXT)").unwrap();
    let msg = SqliteStore::open(&path).unwrap_err().to_string();
    assert!(msg.contains("other.db") && msg.contains("not a daogou store"), "{msg}");

    let path = dir.path().join("tagged.db");
    Connection::open(&path).unwrap().pragma_update(None, "application_id", 42).unwrap();
    let msg = SqliteStore::open(&path).unwrap_err().to_string();
    assert!(msg.contains("another program"), "{msg}");
}

#[test]
fn two_handles_on_one_file_see_each_others_commits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let mut writer = SqliteStore::open(&path).unwrap();
    let reader = SqliteStore::open(&path).unwrap();
    writer.insert_events(&[ev("u", "a", EventKind::View, 1)]).unwrap();
    assert_eq!(reader.stats().unwrap().events, 1);
}

/// A version-1 store (items deleted through the API marked by the attribute `daogou:deleted`)
/// is upgraded on open: the flag becomes the `deleted` column, the attribute goes, nothing else
/// changes.
#[test]
fn a_version_1_file_is_upgraded_with_its_deleted_items() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    {
        let mut s = SqliteStore::open(&path).unwrap();
        let mut gone = daogou_core::Item::new("gone");
        gone.attributes.insert("daogou:deleted".into(), "true".into());
        gone.attributes.insert("color".into(), "red".into());
        gone.available = false;
        s.upsert_items(&[gone, daogou_core::Item::new("kept")]).unwrap();
        s.insert_events(&[ev("u", "gone", EventKind::Purchase, 5)]).unwrap();
    }
    // back to version 1: no `deleted` column (nor deletion log)
    crate::common::downgrade_to_v1(&path);
    let s = SqliteStore::open(&path).unwrap();
    let gone = s.item("gone").unwrap().unwrap();
    assert!(gone.deleted && !gone.available);
    assert_eq!(gone.attributes.get("color").map(String::as_str), Some("red"));
    assert!(!gone.attributes.contains_key("daogou:deleted"));
    assert!(!s.item("kept").unwrap().unwrap().deleted);
    assert_eq!(s.stats().unwrap().events, 1, "events untouched");
    s.check_integrity().unwrap();
    let raw = Connection::open(&path).unwrap();
    let v: i64 = raw.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(v, SCHEMA_VERSION);
}
