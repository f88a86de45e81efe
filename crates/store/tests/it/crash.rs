//! Crash safety: kill -9 a writer mid-way; every acknowledged event must survive.
//!
//! The test re-executes this test binary with `DAOGOU_STORE_CRASH_WRITER` set, which turns
//! `crash_writer_child` into a writer that commits small transactions and prints
//! `ACK <events committed>` after each commit (plain and group commits in turn), until it is
//! killed.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use daogou_core::{Event, EventKind};
use daogou_store::{SqliteStore, Store};
use rusqlite::Connection;

const ENV: &str = "DAOGOU_STORE_CRASH_WRITER";
const BATCH: usize = 5;

/// Event number `i`: its timestamp is `i`, so the set of timestamps tells which survived.
fn event(i: usize) -> Event {
    let kind = if i % 3 == 0 { EventKind::Purchase } else { EventKind::View };
    Event {
        user: format!("u{}", i % 7),
        item: format!("i{}", i % 13),
        kind,
        value: 1.0,
        timestamp: i as i64,
        query: None,
    }
}

/// The writer. A no-op in a normal test run.
#[test]
fn crash_writer_child() {
    let Ok(path) = std::env::var(ENV) else { return };
    let mut store = SqliteStore::open(path.as_ref()).unwrap();
    let mut out = std::io::stdout().lock();
    for b in 0..200_000 {
        let events: Vec<Event> = (b * BATCH..(b + 1) * BATCH).map(event).collect();
        // every other commit is a group commit: one event per group, one transaction
        let inserted = if b % 2 == 0 {
            store.insert_events(&events).unwrap().events_inserted
        } else {
            let groups: Vec<&[Event]> = events.chunks(1).collect();
            let reports = store.insert_event_groups(&groups).unwrap();
            reports.into_iter().map(|r| r.unwrap().events_inserted).sum()
        };
        assert_eq!(inserted as usize, BATCH);
        writeln!(out, "ACK {}", (b + 1) * BATCH).unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn killed_writer_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash::crash_writer_child", "--nocapture", "--test-threads=1"])
        .env(ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(n) = line.strip_prefix("ACK ") {
                if tx.send(n.trim().parse::<usize>().unwrap()).is_err() {
                    break;
                }
            }
        }
    });

    // Let it commit a few hundred transactions, then kill -9 while it is writing.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut acked = 0;
    while acked < 2_000 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(n) => acked = n,
            Err(e) => {
                let _ = child.kill();
                panic!("writer stopped acknowledging after {acked} events: {e}");
            }
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    assert!(!status.success(), "the writer must have been killed, not finished");
    // Acknowledgements already in the pipe were committed before they were printed.
    reader.join().unwrap();
    acked = rx.try_iter().last().unwrap_or(acked).max(acked);

    let store = SqliteStore::open(&path).unwrap();
    store.check_integrity().unwrap();
    let raw = Connection::open(&path).unwrap();
    let check: String = raw.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");

    let data = store.load_dataset().unwrap();
    let stored = data.interactions.len();
    eprintln!("crash test: {acked} events acknowledged, {stored} stored after kill -9");
    assert!(stored >= acked, "{stored} events stored, {acked} acknowledged");
    // Whole transactions only, and every acknowledged event, identical to what was sent.
    assert_eq!(stored % BATCH, 0);
    for (i, x) in data.interactions.iter().enumerate() {
        assert_eq!(data.event(x), event(i), "event {i}");
    }
}
