//! `daogou serve` as a real process: kill -9 during ingestion loses no acknowledged event.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use daogou_store::{SqliteStore, Store};

/// Start `daogou serve` on a free loopback port; returns the child and `host:port`.
fn start(db: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_daogou"))
        .args(["serve", "--db", db.to_str().unwrap(), "--bind", "127.0.0.1:0"])
        .env("RAYON_NUM_THREADS", "1")
        .env_remove("DAOGOU_API_KEYS")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start daogou serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr =
        line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("first line: {line:?}")).to_owned();
    (child, addr)
}

/// One HTTP/1.1 request (Connection: close); (status, body).
fn http(addr: &str, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let status = out.get(9..12).and_then(|c| c.parse().ok()).ok_or(std::io::ErrorKind::InvalidData)?;
    let body = out.split_once("\r\n\r\n").map_or("", |p| p.1).to_owned();
    Ok((status, body))
}

#[test]
fn kill_9_during_ingestion_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("serve.db");
    let (mut child, addr) = start(&db);
    assert_eq!(http(&addr, "GET", "/health", "").unwrap().0, 200);

    let acked: Arc<Mutex<Vec<(String, String, i64)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let posters: Vec<_> = (0..2)
        .map(|t| {
            let (acked, stop, addr) = (acked.clone(), stop.clone(), addr.clone());
            std::thread::spawn(move || {
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let batch: Vec<(String, String, i64)> = (0..5)
                        .map(|k| (format!("t{t}u{}", n % 37), format!("i{}", (n * 5 + k) % 101), n * 10 + k))
                        .collect();
                    let body = serde_json::Value::Array(
                        batch
                            .iter()
                            .map(
                                |(u, i, ts)| serde_json::json!({"user": u, "item": i, "kind": "view", "timestamp": ts}),
                            )
                            .collect(),
                    );
                    match http(&addr, "POST", "/events", &body.to_string()) {
                        Ok((200, _)) => acked.lock().unwrap().extend(batch),
                        Ok((st, b)) => panic!("unexpected {st}: {b}"),
                        Err(_) => break, // the server is gone
                    }
                }
            })
        })
        .collect();
    let t0 = Instant::now();
    while acked.lock().unwrap().len() < 1000 && t0.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL, while the posters are still writing
    child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for p in posters {
        p.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 1000, "only {} events acknowledged", acked.len());

    // every acknowledged event is in the store
    let store = SqliteStore::open(&db).unwrap();
    let mut missing = 0;
    let mut by_user: std::collections::HashMap<&str, Vec<(&str, i64)>> = Default::default();
    for (u, i, ts) in &acked {
        by_user.entry(u).or_default().push((i, *ts));
    }
    for (u, evs) in &by_user {
        let stored: std::collections::HashSet<(String, i64)> =
            store.user_events(u).unwrap().into_iter().map(|e| (e.item, e.timestamp)).collect();
        missing += evs.iter().filter(|(i, ts)| !stored.contains(&(i.to_string(), *ts))).count();
    }
    assert_eq!(missing, 0, "{missing} of {} acknowledged events lost", acked.len());
    drop(store);

    // the restarted server serves on the same data and knows the users
    let (mut child, addr) = start(&db);
    let (st, body) = http(&addr, "GET", "/users/t0u1/recommendations?n=3", "").unwrap();
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("\"known_user\":true"), "{body}");
    child.kill().unwrap();
    child.wait().unwrap();
}
