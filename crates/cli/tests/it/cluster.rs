//! Several servers and trainers on one PostgreSQL store and one Redis, as real processes on
//! loopback (issue 16). The services come from `scripts/dev-services.sh run …`
//! (`DAOGOU_TEST_POSTGRES`, `DAOGOU_TEST_REDIS`); without them each test says SKIPPED, and with
//! `CI=true` it fails. Every test has a database of its own. These tests run one at a time
//! (`.config/nextest.toml`, group `postgres`): one of them restarts PostgreSQL.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use daogou_data::synth::{generate_shop, ShopConfig};
use daogou_store::{PgStore, Store};
use serde_json::{json, Value};

const ADMIN_KEY: &str = "k-admin-cluster-test";

struct Services {
    postgres: String,
    redis: String,
}

fn services(test: &str) -> Option<Services> {
    match (std::env::var("DAOGOU_TEST_POSTGRES"), std::env::var("DAOGOU_TEST_REDIS")) {
        (Ok(postgres), Ok(redis)) => Some(Services { postgres, redis }),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "DAOGOU_TEST_POSTGRES / DAOGOU_TEST_REDIS are not set: run the tests through scripts/dev-services.sh run …"
            );
            eprintln!("SKIPPED {test}: no PostgreSQL and Redis (scripts/dev-services.sh starts them)");
            None
        }
    }
}

/// A fresh database holding a generated shop (catalogue and behaviour).
fn shop_database(sv: &Services, name: &str) -> (String, daogou_data::synth::Shop) {
    let url = PgStore::create_database(&sv.postgres, &format!("c_{}_{name}", std::process::id())).unwrap();
    let shop = generate_shop(&ShopConfig { users: 200, items: 150, days: 20, ..ShopConfig::default() });
    let mut pg = PgStore::connect(&url).unwrap();
    pg.import(&shop.items, &shop.events).unwrap();
    (url, shop)
}

/// One HTTP/1.1 request with the admin key (or none); (status, body as JSON or a string).
fn call(addr: &str, method: &str, path: &str, body: &str, key: Option<&str>) -> std::io::Result<(u16, Value)> {
    let auth = key.map(|k| format!("Authorization: Bearer {k}\r\n")).unwrap_or_default();
    let (status, body) = crate::serve::http_with(addr, method, path, body, &auth)?;
    Ok((status, serde_json::from_str(&body).unwrap_or(Value::String(body))))
}

fn admin(addr: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
    call(addr, method, path, body, Some(ADMIN_KEY)).unwrap_or_else(|e| panic!("{method} {path} on {addr}: {e}"))
}

fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if f() {
            return Some(t0.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// `daogou serve` on the shared store; (child, address).
fn server(url: &str, redis: &str, config: &Path) -> (Child, String) {
    let args = ["--store", url, "--redis", redis, "--config", config.to_str().unwrap(), "--bind", "127.0.0.1:0"];
    crate::serve::try_serve(&args, &[]).unwrap_or_else(|e| panic!("serve: {e}"))
}

/// `daogou trainer` with its stderr collected (to see who leads).
fn trainer(url: &str, redis: &str) -> (Child, Arc<Mutex<String>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_daogou"))
        .args(["trainer", "--store", url, "--redis", redis, "--every", "0", "--model", "item-knn"])
        .env("RAYON_NUM_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let (err, l) = (child.stderr.take().unwrap(), log.clone());
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let mut l = l.lock().unwrap();
            l.push_str(&line);
            l.push('\n');
        }
    });
    (child, log)
}

fn latest_artifact(url: &str) -> i64 {
    PgStore::connect(url).unwrap().latest_artifact().unwrap().map_or(0, |a| a.version)
}

fn for_you(addr: &str, user: &str) -> Value {
    let (st, v) = admin(addr, "GET", &format!("/users/{user}/recommendations?n=5"), "");
    assert_eq!(st, 200, "{v}");
    v
}

fn kill(mut c: Child) {
    let _ = c.kill(); // SIGKILL
    let _ = c.wait();
}

#[test]
fn cluster_three_servers_two_trainers_share_one_shop() {
    let Some(sv) = services("cluster_three_servers_two_trainers_share_one_shop") else { return };
    let (url, shop) = shop_database(&sv, "three");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("serve.conf");
    // requests without a key are limited to 4 per second per address, across all servers
    std::fs::write(&config, format!("api_keys = {ADMIN_KEY}:read+write+admin\nclient_rate_limit = 4\n")).unwrap();

    let mut trainers = vec![trainer(&url, &sv.redis), trainer(&url, &sv.redis)];
    assert!(wait_until(Duration::from_secs(120), || latest_artifact(&url) >= 1).is_some(), "no trainer wrote a model");
    let servers: Vec<(Child, String)> = (0..3).map(|_| server(&url, &sv.redis, &config)).collect();
    let addr: Vec<String> = servers.iter().map(|(_, a)| a.clone()).collect();
    let (a, b, c) = (&addr[0], &addr[1], &addr[2]);
    for s in &addr {
        let (st, h) = admin(s, "GET", "/health", "");
        assert_eq!((st, h["model"].as_str()), (200, Some("item-knn")), "{h}");
    }

    // serving never stops, whatever happens below: every read of every server answers 200
    let stop = Arc::new(AtomicBool::new(false));
    let (reads, failures) = (Arc::new(AtomicUsize::new(0)), Arc::new(Mutex::new(Vec::<String>::new())));
    let watcher = {
        let (stop, reads, failures, addr) = (stop.clone(), reads.clone(), failures.clone(), addr.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for s in &addr {
                    match call(s, "GET", "/popular?n=3", "", Some(ADMIN_KEY)) {
                        Ok((200, _)) => {
                            reads.fetch_add(1, Ordering::Relaxed);
                        }
                        other => failures.lock().unwrap().push(format!("{s}: {other:?}")),
                    }
                }
                std::thread::sleep(Duration::from_millis(30));
            }
        })
    };

    // 1. an event posted to A changes B's for-you within 1 s
    let item = shop.events.iter().rev().find(|e| e.kind == daogou_core::EventKind::Purchase).unwrap().item.clone();
    let before = for_you(b, "fresh-shopper");
    assert_eq!(before["realtime"], false);
    let ev = json!({"user": "fresh-shopper", "item": item, "kind": "purchase"});
    assert_eq!(admin(a, "POST", "/events", &ev.to_string()).0, 200);
    let seen = wait_until(Duration::from_secs(1), || {
        let now = for_you(b, "fresh-shopper");
        now["realtime"] == true && now["items"] != before["items"]
    });
    assert!(seen.is_some(), "B's answer did not change within 1 s of the event on A");
    eprintln!("event on A visible on B after {:?}", seen.unwrap());

    // 2. a conversation started on A continues on B
    let category = shop.items.iter().filter_map(|it| it.category.clone()).next().unwrap();
    let leaf = category.rsplit('/').next().unwrap().to_owned();
    let (st, first) = admin(a, "POST", "/assistant", &json!({"text": leaf}).to_string());
    assert_eq!(st, 200, "{first}");
    assert!(!first["items"].as_array().unwrap().is_empty(), "{first}");
    let conversation = first["conversation"].as_str().unwrap().to_owned();
    let (st, next) =
        admin(b, "POST", "/assistant", &json!({"text": "cheaper", "conversation": conversation}).to_string());
    assert_eq!(st, 200, "{next}");
    assert_eq!(next["conversation"], conversation.as_str());
    assert_eq!(next["parse"]["refinement"], "cheaper", "{next}");
    assert_eq!(next["parse"]["categories"], first["parse"]["categories"], "B knows what was asked on A: {next}");
    assert!(next["parse"]["max_price"].is_number(), "cheaper than what A showed: {next}");

    // 2b. an experiment started on A routes on every server; stopped on B, it stops on all
    let shopper = shop.events[5].user.clone();
    let def = json!({"name": "xp", "primary_metric": "ctr", "variants": [
        {"name": "control", "share": 1}, {"name": "popular", "share": 1, "popularity_weight": 50}]});
    assert_eq!(admin(a, "POST", "/admin/experiments", &def.to_string()).0, 201);
    let (st, v) = admin(a, "POST", "/admin/experiments", &json!({"name": "xp", "action": "start"}).to_string());
    assert_eq!((st, v["status"].as_str()), (200, Some("running")), "{v}");
    for s in [b, c] {
        let routed = wait_until(Duration::from_secs(5), || for_you(s, &shopper)["experiment"] == "xp");
        assert!(routed.is_some(), "{s} does not route the experiment started on A");
        eprintln!("experiment started on A routed on {s} after {:?}", routed.unwrap());
    }
    let (st, v) = admin(b, "POST", "/admin/experiments", &json!({"name": "xp", "action": "stop"}).to_string());
    assert_eq!((st, v["status"].as_str()), (200, Some("stopped")), "{v}");
    for s in [a, c] {
        let plain = wait_until(Duration::from_secs(5), || for_you(s, &shopper).get("experiment").is_none());
        assert!(plain.is_some(), "{s} still routes the experiment stopped on B");
    }

    // 3. the rate limit holds across servers: 30 keyless requests within a second, spread over
    //    the three, get about 4 through (at most 8 across a second boundary), not 3 × 8
    std::thread::sleep(Duration::from_millis(1100));
    let mut passed = 0;
    let t0 = Instant::now();
    for k in 0..30 {
        let (st, _) = call(&addr[k % 3], "GET", "/health", "", None).unwrap();
        assert!(st == 200 || st == 429, "{st}");
        passed += usize::from(st == 200);
    }
    assert!(t0.elapsed() < Duration::from_secs(2));
    assert!((1..=8).contains(&passed), "{passed} of 30 keyless requests passed a shared limit of 4/s");

    // 4. a user deleted on A is forgotten by every server at once, and by the next model
    let gone = shop.events[0].user.clone();
    assert_eq!(for_you(c, &gone)["known_user"], true);
    let version = latest_artifact(&url);
    let (st, d) = admin(a, "DELETE", &format!("/users/{gone}"), "");
    assert_eq!(st, 200, "{d}");
    for s in [b, c] {
        let hidden = wait_until(Duration::from_secs(1), || for_you(s, &gone)["known_user"] == false);
        assert!(hidden.is_some(), "{s} still knows the deleted user after 1 s");
    }
    assert!(
        wait_until(Duration::from_secs(60), || latest_artifact(&url) > version).is_some(),
        "the deletion did not make the trainer refit"
    );
    assert!(!PgStore::connect(&url).unwrap().user_ids().unwrap().contains(&gone));
    for s in &addr {
        assert!(
            wait_until(Duration::from_secs(10), || admin(s, "GET", "/health", "").1["model_version"]
                .as_u64()
                .is_some_and(|v| v >= 2))
            .is_some(),
            "{s} did not load the new model"
        );
        assert_eq!(for_you(s, &gone)["known_user"], false);
    }

    // 5. kill -9 of the leading trainer: the other takes over and refits on request
    let leader =
        wait_until(Duration::from_secs(5), || trainers.iter().any(|(_, log)| log.lock().unwrap().contains("leading")));
    assert!(leader.is_some());
    let k = trainers.iter().position(|(_, log)| log.lock().unwrap().contains("leading")).unwrap();
    let (leader, _) = trainers.remove(k);
    kill(leader);
    let version = latest_artifact(&url);
    let took_over = wait_until(Duration::from_secs(30), || {
        let _ = admin(b, "POST", "/admin/retrain", "");
        std::thread::sleep(Duration::from_millis(300));
        latest_artifact(&url) > version
    });
    assert!(took_over.is_some(), "no model from the second trainer after the leader was killed");
    assert!(trainers[0].1.lock().unwrap().contains("leading"));
    eprintln!("the second trainer wrote a model {:?} after the leader was killed", took_over.unwrap());

    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    let failures = failures.lock().unwrap();
    assert!(failures.is_empty(), "reads failed while trainers came and went: {failures:?}");
    assert!(reads.load(Ordering::Relaxed) > 30);
    for (child, _) in servers {
        kill(child);
    }
    for (child, _) in trainers {
        kill(child);
    }
}

#[test]
fn cluster_kill_9_of_a_server_mid_ingest_loses_no_acknowledged_event() {
    let Some(sv) = services("cluster_kill_9_of_a_server_mid_ingest_loses_no_acknowledged_event") else { return };
    let (url, _) = shop_database(&sv, "kill");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("serve.conf");
    std::fs::write(&config, format!("api_keys = {ADMIN_KEY}:read+write+admin\n")).unwrap();
    let (child, addr) = server(&url, &sv.redis, &config);
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let posters: Vec<_> = (0..2)
        .map(|t| {
            let (acked, stop, addr) = (acked.clone(), stop.clone(), addr.clone());
            std::thread::spawn(move || {
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let batch: Vec<(String, String)> =
                        (0..5).map(|k| (format!("k{t}-{}", n % 23), format!("new-{t}-{n}-{k}"))).collect();
                    let body: Vec<Value> =
                        batch.iter().map(|(u, i)| json!({"user": u, "item": i, "kind": "view"})).collect();
                    match call(&addr, "POST", "/events", &Value::Array(body).to_string(), Some(ADMIN_KEY)) {
                        Ok((200, _)) => acked.lock().unwrap().extend(batch),
                        Ok((st, b)) => panic!("unexpected {st}: {b}"),
                        Err(_) => break,
                    }
                }
            })
        })
        .collect();
    wait_until(Duration::from_secs(20), || acked.lock().unwrap().len() >= 300);
    kill(child); // SIGKILL while both posters write
    stop.store(true, Ordering::Relaxed);
    for p in posters {
        p.join().unwrap();
    }
    let acked = acked.lock().unwrap();
    assert!(acked.len() >= 300, "{} events acknowledged", acked.len());
    let pg = PgStore::connect(&url).unwrap();
    let mut missing = 0;
    let mut by_user: std::collections::HashMap<&str, Vec<&str>> = Default::default();
    for (u, i) in acked.iter() {
        by_user.entry(u).or_default().push(i);
    }
    for (u, items) in by_user {
        let stored: std::collections::HashSet<String> =
            pg.user_events(u).unwrap().into_iter().map(|e| e.item).collect();
        missing += items.iter().filter(|i| !stored.contains(**i)).count();
    }
    assert_eq!(missing, 0, "acknowledged events missing from PostgreSQL");
}

#[test]
fn cluster_postgres_restart_reads_go_on_writes_wait_then_recover() {
    let Some(sv) = services("cluster_postgres_restart_reads_go_on_writes_wait_then_recover") else { return };
    let (Ok(pgctl), Ok(pgdata)) = (std::env::var("DAOGOU_TEST_PGCTL"), std::env::var("DAOGOU_TEST_PGDATA")) else {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "DAOGOU_TEST_PGCTL / DAOGOU_TEST_PGDATA not set");
        eprintln!("SKIPPED: no DAOGOU_TEST_PGCTL (scripts/dev-services.sh sets it)");
        return;
    };
    let (url, shop) = shop_database(&sv, "restart");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("serve.conf");
    std::fs::write(&config, format!("api_keys = {ADMIN_KEY}:read+write+admin\n")).unwrap();
    let (child, addr) = server(&url, &sv.redis, &config);
    let user = shop.events[0].user.clone();
    let ev = |n: usize| json!({"user": "restart-shopper", "item": format!("r{n}"), "kind": "view"}).to_string();
    assert_eq!(admin(&addr, "POST", "/events", &ev(0)).0, 200);

    let pg_ctl = |args: &[String]| {
        let mut cmd: Vec<String> = pgctl.split_whitespace().map(str::to_owned).collect();
        cmd.extend(["-D".into(), pgdata.clone(), "-w".into(), "-t".into(), "60".into()]);
        cmd.extend(args.iter().cloned());
        let st = Command::new(&cmd[0]).args(&cmd[1..]).stdout(Stdio::null()).status().unwrap();
        assert!(st.success(), "{cmd:?}");
    };
    let opts = std::fs::read_to_string(Path::new(&pgdata).join("postmaster.opts")).unwrap();
    pg_ctl(&["-m".into(), "fast".into(), "stop".into()]);
    // reads answer from the snapshot; writes are refused with 503 and not acknowledged
    assert_eq!(for_you(&addr, &user)["known_user"], true);
    let (st, body) = admin(&addr, "POST", "/events", &ev(1));
    assert_eq!(st, 503, "{body}");
    assert_eq!(body["code"], "store_unavailable");
    // start again with the options it had (port, socket directory: postmaster.opts)
    let o = opts.split_once(' ').map_or("", |p| p.1).trim().replace('"', "");
    pg_ctl(&["-l".into(), "/dev/null".into(), "-o".into(), o, "start".into()]);
    // writes recover without a restart of the server
    let back = wait_until(Duration::from_secs(30), || admin(&addr, "POST", "/events", &ev(2)).0 == 200);
    assert!(back.is_some(), "writes did not recover after PostgreSQL came back");
    let stored: Vec<String> =
        PgStore::connect(&url).unwrap().user_events("restart-shopper").unwrap().into_iter().map(|e| e.item).collect();
    assert!(stored.contains(&"r0".to_owned()) && stored.contains(&"r2".to_owned()), "{stored:?}");
    assert!(!stored.contains(&"r1".to_owned()), "the refused event must not be stored");
    kill(child);
}

#[test]
fn cluster_import_into_postgres_is_idempotent_and_strict_changes_nothing() {
    let Some(sv) = services("cluster_import_into_postgres_is_idempotent_and_strict_changes_nothing") else { return };
    let url = PgStore::create_database(&sv.postgres, &format!("c_{}_import", std::process::id())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.csv");
    let mut text = String::from("user,item,kind,value,timestamp\n");
    for n in 0..500 {
        text.push_str(&format!("u{},i{},purchase,1,{}\n", n % 37, n % 53, 1_700_000_000 + n));
    }
    std::fs::write(&file, &text).unwrap();
    let f = file.to_str().unwrap();
    let first = crate::fixtures::json(&["import", f, "--store", &url, "--json"]);
    assert_eq!(first["events_inserted"], 500);
    let again = crate::fixtures::json(&["import", f, "--store", &url, "--json"]);
    assert_eq!((again["events_inserted"].as_u64(), again["events_duplicate"].as_u64()), (Some(0), Some(500)));
    let stats = crate::fixtures::json(&["stats", "--store", &url, "--json"]);
    assert_eq!(stats["events"], 500);
    // a bad row at line 4 of a strict import: the error names it, nothing is stored
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "user,item,kind,value,timestamp\nz1,j1,view,1,5\nz2,j2,view,1,6\nz3,j3,view,oops,7\n")
        .unwrap();
    let out = crate::fixtures::daogou(&["import", bad.to_str().unwrap(), "--store", &url, "--strict"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("bad.csv:4"), "{err}");
    assert_eq!(crate::fixtures::json(&["stats", "--store", &url, "--json"])["events"], 500);
    // migrate reports the schema; a store URL that is not PostgreSQL or SQLite is refused
    let m = crate::fixtures::ok(&["migrate", "--store", &url]);
    assert!(m.contains("schema version 1 (up to date)"), "{m}");
    let out = crate::fixtures::daogou(&["stats", "--store", "mysql://h/db"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("postgres://"));
    // a schema newer than this build: refused with a clear message, and left as it is
    let psql = Command::new("psql").args([&url, "-qc", "UPDATE daogou_schema SET version = 99"]).status().unwrap();
    assert!(psql.success());
    for cmd in [&["stats", "--store", &url][..], &["migrate", "--store", &url][..]] {
        let out = crate::fixtures::daogou(cmd);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("schema version 99, newer than version 1"), "{cmd:?}: {err}");
    }
    let err = crate::serve::try_serve(&["--store", &url, "--bind", "127.0.0.1:0"], &[])
        .map(|(c, _)| c)
        .expect_err("a server must refuse a newer schema");
    assert!(err.contains("newer than version 1"), "{err}");
}
