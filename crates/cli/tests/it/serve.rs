//! `daogou serve` as a real process: kill -9 during ingestion loses no acknowledged event.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use daogou_store::{SqliteStore, Store};

/// Start `daogou serve --db DB` on a free loopback port; returns the child and `host:port`.
fn start(db: &Path) -> (Child, String) {
    start_with(&["--db", db.to_str().unwrap()])
}

/// One HTTP/1.1 request (Connection: close); (status, body).
pub(crate) fn http(addr: &str, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    http_with(addr, method, path, body, "")
}

/// [`http`] with extra header lines (each ending in `\r\n`).
pub(crate) fn http_with(
    addr: &str,
    method: &str,
    path: &str,
    body: &str,
    headers: &str,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    // generous: the first assistant question waits for the search index of a debug build on a busy machine
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
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

/// Start `daogou serve ARGS…` on a free loopback port.
pub(crate) fn start_with(args: &[&str]) -> (Child, String) {
    try_serve(&[args, &["--bind", "127.0.0.1:0"]].concat(), &[]).unwrap_or_else(|e| panic!("serve {args:?}: {e}"))
}

/// One answer pipeline: for 50 demo shoppers, `daogou recommend --model FILE --json` and the
/// service's for-you on the same model file give the same items in the same order with the same
/// scores and reasons — out-of-stock and deleted items left out by both.
#[test]
fn the_command_line_and_the_service_answer_alike() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    let model = dir.path().join("m.daogou");
    let (db_s, model_s) = (db.to_str().unwrap(), model.to_str().unwrap());
    crate::fixtures::ok(&["demo", "--db", db_s, "--show", "0"]);
    crate::fixtures::ok(&["train", "--db", db_s, "--model", "als", "--out", model_s]);
    let (mut child, addr) = start_with(&["--db", db_s, "--model", model_s]);
    // an item taken out of the catalogue through the service is gone from both
    let popular: serde_json::Value = serde_json::from_str(&http(&addr, "GET", "/popular?n=1", "").unwrap().1).unwrap();
    let top = popular["items"][0]["item"].as_str().unwrap().to_owned();
    assert_eq!(http(&addr, "DELETE", &format!("/items/{top}"), "").unwrap().0, 200);

    let mut compared = 0;
    for u in 0..50 {
        let user = format!("u{u:04}");
        let (status, body) = http(&addr, "GET", &format!("/users/{user}/recommendations?n=10"), "").unwrap();
        assert_eq!(status, 200, "{body}");
        let served: serde_json::Value = serde_json::from_str(&body).unwrap();
        let cli = crate::fixtures::json(&["recommend", "--db", db_s, "--model", model_s, "--user", &user, "--json"]);
        assert_eq!(cli["items"], served["items"], "{user}");
        assert_eq!(
            (&cli["model"], &cli["model_version"], &cli["known_user"]),
            (&served["model"], &served["model_version"], &served["known_user"])
        );
        let items = served["items"].as_array().unwrap();
        assert!(items.iter().all(|p| p["item"] != top.as_str()), "{user}: the deleted item");
        compared += items.len();
    }
    assert!(compared >= 400, "{compared} picks compared");
    // out of stock: in the catalogue but never recommended by either
    let store = SqliteStore::open(&db).unwrap();
    let sold_out: Vec<String> =
        store.items().unwrap().into_iter().filter(|it| !it.in_stock()).map(|it| it.id).collect();
    assert!(sold_out.len() > 5, "the demo shop has items out of stock");
    let all = crate::fixtures::ok(&[
        "recommend",
        "--db",
        db_s,
        "--model",
        model_s,
        "--all-users",
        "--out",
        dir.path().join("all.csv").to_str().unwrap(),
    ]);
    assert!(all.contains("written to"));
    let csv = std::fs::read_to_string(dir.path().join("all.csv")).unwrap();
    for id in sold_out.iter().chain([&top]) {
        assert!(!csv.lines().any(|l| l.split(',').nth(2) == Some(id)), "--all-users recommends {id}");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
/// A few users and items, enough to fit a model.
fn seed(db: &Path, user: impl Fn(&str) -> String) {
    let mut s = SqliteStore::open(db).unwrap();
    let mut events = Vec::new();
    for (u, items) in [("alice", ["a", "b", "c"]), ("bob", ["b", "c", "d"]), ("carol", ["a", "c", "d"])] {
        for (k, i) in items.iter().enumerate() {
            events.push(daogou_core::Event {
                user: user(u),
                item: i.to_string(),
                kind: daogou_core::EventKind::Purchase,
                value: 1.0,
                timestamp: 1_700_000_000 + k as i64,
                query: None,
            });
        }
    }
    s.insert_events(&events).unwrap();
}

/// Run `daogou serve ARGS`: Ok(child, address) once it listens (its stderr is drained in the
/// background), Err(stderr) when it exits.
pub(crate) fn try_serve(args: &[&str], env: &[(&str, &str)]) -> Result<(Child, String), String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_daogou"));
    cmd.arg("serve").args(args).env("RAYON_NUM_THREADS", "1");
    for var in
        ["DAOGOU_API_KEYS", "DAOGOU_INSECURE_OPEN", "DAOGOU_BIND", "DAOGOU_PSEUDONYMIZE_KEY", "DAOGOU_EXPERIMENT_SALT"]
    {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start daogou serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    match line.trim().strip_prefix("listening on http://") {
        Some(addr) => {
            let mut err = child.stderr.take().unwrap();
            std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
            Ok((child, addr.to_owned()))
        }
        None => {
            let mut err = String::new();
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            assert!(!child.wait().unwrap().success(), "{err}");
            Err(err)
        }
    }
}

pub(crate) fn stop(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn an_open_service_is_refused_on_an_address_other_machines_reach() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("open.db");
    seed(&db, str::to_owned);
    let db = db.to_str().unwrap();
    for bind in ["0.0.0.0:0", "[::]:0"] {
        let err = try_serve(&["--db", db, "--bind", bind], &[]).map(|(c, _)| stop(c)).unwrap_err();
        assert!(err.contains("refusing to serve without API keys") && err.contains("--insecure-open"), "{err}");
    }
    let cfg = dir.path().join("daogou.toml");
    // allowed: with keys, with --insecure-open (flag or config key), and on loopback
    std::fs::write(&cfg, "insecure_open = true\n").unwrap();
    let cfg = cfg.to_str().unwrap();
    for args in [
        vec!["--bind", "0.0.0.0:0", "--api-keys", "serve-test-key:read"],
        vec!["--bind", "0.0.0.0:0", "--insecure-open"],
        vec!["--bind", "0.0.0.0:0", "--config", cfg],
        vec!["--bind", "127.0.0.1:0"],
    ] {
        let (child, addr) =
            try_serve(&[&["--db", db][..], &args].concat(), &[]).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        // reached over loopback: the Host is the address the connection came in on
        let port = addr.rsplit_once(':').unwrap().1;
        let local = format!("127.0.0.1:{port}");
        assert_eq!(http(&local, "GET", "/health", "").unwrap().0, 200, "{args:?}");
        stop(child);
    }
}

#[test]
fn legacy_pseudonyms_are_migrated_before_the_service_starts() {
    let secret = "a shop secret of 16+ characters";
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    seed(&db, |u| daogou_server::pseudonym::legacy_pseudonym(secret, u));
    let db = db.to_str().unwrap();
    let key = [("DAOGOU_PSEUDONYMIZE_KEY", secret)];
    let err = try_serve(&["--db", db, "--bind", "127.0.0.1:0"], &key).map(|(c, _)| stop(c)).unwrap_err();
    assert!(err.contains("3 users") && err.contains("daogou pseudonyms migrate"), "{err}");

    let ids = dir.path().join("customers.txt");
    std::fs::write(&ids, "alice\r\nbob\nnever-shopped\n").unwrap();
    let migrate = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_daogou"))
            .args(["pseudonyms", "migrate", "--db", db, "--ids", ids.to_str().unwrap()])
            .args(extra)
            .env("DAOGOU_PSEUDONYMIZE_KEY", secret)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let out = migrate(&["--dry-run"]);
    assert!(out.contains("would rename 2 users") && out.contains("1 users still have legacy"), "{out}");
    let out = migrate(&[]);
    assert!(out.contains("renamed 2 users") && out.contains("1 ids had no legacy"), "{out}");
    // carol's customer id was not listed: still refused
    assert!(try_serve(&["--db", db, "--bind", "127.0.0.1:0"], &key).map(|(c, _)| stop(c)).is_err());
    let out = migrate(&["--drop-unmatched"]);
    assert!(out.contains("deleted 1 users"), "{out}");

    let store = SqliteStore::open(Path::new(db)).unwrap();
    let mut stored = store.user_ids().unwrap();
    stored.sort();
    let mut want: Vec<String> =
        ["alice", "bob"].iter().map(|u| daogou_server::pseudonym::pseudonym(secret, u)).collect();
    want.sort();
    assert_eq!(stored, want);
    let carol = daogou_server::pseudonym::legacy_pseudonym(secret, "carol");
    assert!(store.deletion_log().unwrap().deleted_at(&carol).is_some(), "the dropped user is in the deletion log");
    drop(store);

    let (child, addr) = try_serve(&["--db", db, "--bind", "127.0.0.1:0"], &key).unwrap();
    let (st, body) = http(&addr, "GET", "/users/alice/recommendations?n=3", "").unwrap();
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("\"known_user\":true"), "alice keeps her history: {body}");
    stop(child);
}

/// An online experiment survives restarts of the real binary: still running, its variant with
/// its own model rebuilt, and every shopper in the same variant (issue 17: three restarts).
#[test]
fn experiment_assignment_is_identical_across_three_restarts_of_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("exp.db");
    seed(&db, str::to_owned);
    let db = db.to_str().unwrap();
    let shoppers: Vec<String> =
        ["alice", "bob", "carol"].iter().map(|s| s.to_string()).chain((0..57).map(|i| format!("guest{i}"))).collect();
    let variants = |addr: &str| -> Vec<(String, String)> {
        shoppers
            .iter()
            .map(|u| {
                let (st, body) = http(addr, "GET", &format!("/users/{u}/recommendations?n=2"), "").unwrap();
                assert_eq!(st, 200, "{body}");
                let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert_eq!(v["experiment"], "ab", "{v}");
                assert!(v["recommendation_id"].as_str().unwrap().starts_with('r'));
                let variant = v["variant"].as_str().unwrap().to_owned();
                let model = if variant == "pop" { "popularity" } else { "item-knn" };
                assert_eq!(v["model"], model, "{u} in {variant}");
                (u.clone(), variant)
            })
            .collect()
    };
    let (child, addr) = start_with(&["--db", db]);
    let def = r#"{"name": "ab", "primary_metric": "conversion_rate",
        "variants": [{"name": "knn", "share": 1}, {"name": "pop", "share": 1, "model": "popularity"}]}"#;
    assert_eq!(http(&addr, "POST", "/admin/experiments", def).unwrap().0, 201);
    assert_eq!(http(&addr, "POST", "/admin/experiments/ab/start", "").unwrap().0, 200);
    let first = variants(&addr);
    assert!(first.iter().any(|v| v.1 == "knn") && first.iter().any(|v| v.1 == "pop"), "{first:?}");
    stop(child);
    for restart in 1..=3 {
        let (child, addr) = start_with(&["--db", db]);
        let (st, body) = http(&addr, "GET", "/experiments/ab", "").unwrap();
        assert_eq!(st, 200);
        let r: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(r["status"], "running", "restart {restart}");
        let lists: f64 = r["variants"].as_array().unwrap().iter().map(|v| v["lists"].as_f64().unwrap()).sum();
        assert_eq!(lists, 60.0 * restart as f64, "restart {restart}: every earlier list is stored");
        assert_eq!(variants(&addr), first, "restart {restart}");
        stop(child);
    }
}
