//! Deleting a user really forgets them: after `DELETE /users/{id}` every endpoint answers as a
//! service on a store that never had the user, for a neighbourhood model, two factor models and
//! a deep model; and a restart from a model file written before the deletion serves the user as
//! unknown at once, then refits without them.

use std::path::Path;

use daogou_core::EventKind;
use daogou_data::synth::{generate_shop, ShopConfig};
use daogou_store::{SqliteStore, Store};
use serde_json::{json, Value};

use crate::serve::{http, start_with, stop};

/// The answer of `GET`/`POST path` as JSON, with what differs between two servers by design
/// (model versions, conversation ids) taken out.
fn answer(addr: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
    let (status, text) = http(addr, method, path, body).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if let Value::Object(m) = &mut v {
        for volatile in ["model_version", "conversation", "last_retrain"] {
            m.remove(volatile);
        }
    }
    (status, v)
}

/// Wait until the service at `addr` serves model version `v` or later.
fn wait_for_version(addr: &str, v: u64) {
    for _ in 0..1200 {
        let (_, raw) = http(addr, "GET", "/health", "").unwrap();
        let health: Value = serde_json::from_str(&raw).unwrap();
        if health["model_version"].as_u64().unwrap_or(0) >= v {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("{addr} never reached model version {v}");
}

/// Every endpoint's answer on `a` equals `b`'s (the store that never had `victim`).
fn assert_alike(a: &str, b: &str, victim: &str, others: &[String], items: &[String], model: &str) {
    let mut paths: Vec<(&str, String, String)> = Vec::new();
    for u in others {
        paths.push(("GET", format!("/users/{u}/recommendations?n=10"), String::new()));
        paths.push(("GET", format!("/users/{u}/buy-again?n=10"), String::new()));
    }
    paths.push(("GET", format!("/users/{victim}/recommendations?n=10"), String::new()));
    paths.push(("GET", format!("/users/{victim}/buy-again"), String::new()));
    paths.push(("POST", "/sessions/recommendations?n=10".into(), json!({"items": items}).to_string()));
    for i in items {
        paths.push(("GET", format!("/items/{i}/similar?n=10"), String::new()));
        paths.push(("GET", format!("/items/{i}/bought-together?n=10"), String::new()));
    }
    for p in ["/popular?n=20", "/trending?hours=168&n=20", "/new?n=10", "/search?q=Swiftstep&n=10"] {
        paths.push(("GET", p.into(), String::new()));
    }
    paths.push(("GET", "/stats/overview".into(), String::new()));
    paths.push(("GET", "/admin/users?n=200".into(), String::new()));
    paths.push(("POST", "/assistant".into(), json!({"text": "300元以下的跑鞋", "user": others[0]}).to_string()));
    for (method, path, body) in &paths {
        let (sa, va) = answer(a, method, path, body);
        let (sb, vb) = answer(b, method, path, body);
        assert_eq!((sa, &va), (sb, &vb), "{model}: {method} {path}");
    }
    // metrics: the live state's gauges equal the other store's, and no line names the user
    let gauges = |addr: &str| -> Vec<String> {
        let (_, text) = http(addr, "GET", "/metrics", "").unwrap();
        assert!(!text.contains(victim), "{model}: /metrics names {victim}");
        text.lines()
            .filter(|l| {
                ["daogou_live_events ", "daogou_live_users ", "daogou_trending_entries "]
                    .iter()
                    .any(|g| l.starts_with(g))
            })
            .map(str::to_owned)
            .collect()
    };
    let (ga, gb) = (gauges(a), gauges(b));
    assert_eq!(ga.len(), 3, "{model}: {ga:?}");
    assert_eq!(ga, gb, "{model}: /metrics");
    let (_, v) = answer(a, "GET", &format!("/users/{victim}/recommendations?n=10"), "");
    assert_eq!(v["known_user"], false, "{model}: {v}");
    let (_, v) = answer(a, "GET", "/admin/users?n=200", "");
    assert!(v["users"].as_array().unwrap().iter().all(|u| u["user"] != victim), "{model}: {v}");
    let (_, v) = answer(a, "GET", &format!("/admin/users/{victim}"), "");
    assert_eq!((v["events"].as_u64(), &v["known_to_model"]), (Some(0), &json!(false)), "{model}: {v}");
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn store(db: &Path, shop: &daogou_data::synth::Shop, without: Option<&str>) {
    let mut s = SqliteStore::open(db).unwrap();
    let events: Vec<_> = shop.events.iter().filter(|e| Some(e.user.as_str()) != without).cloned().collect();
    s.import(&shop.items, &events).unwrap();
}

#[test]
fn a_deleted_user_is_forgotten_by_every_endpoint_and_after_a_restart_from_an_old_model_file() {
    let shop = generate_shop(&ShopConfig { users: 150, items: 120, days: 45, seed: 11, ..ShopConfig::default() });
    // the victim: the most active buyer among the first users; the others: a few shoppers
    let buys = |u: &str| shop.events.iter().filter(|e| e.user == u && e.kind == EventKind::Purchase).count();
    let victim = (0..40).map(|u| format!("u{u:04}")).max_by_key(|u| (buys(u), u.clone())).unwrap();
    let others: Vec<String> = (0..6).map(|u| format!("u{u:04}")).filter(|u| *u != victim).collect();
    let mut items: Vec<String> = shop
        .events
        .iter()
        .filter(|e| e.user == victim && e.kind == EventKind::Purchase)
        .map(|e| e.item.clone())
        .collect();
    items.dedup();
    items.truncate(3);
    assert!(buys(&victim) >= 3, "{victim} buys {}", buys(&victim));

    let dir = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    for (model, set) in [("item-knn", ""), ("als", ""), ("ease", ""), ("two-tower", "epochs=2")] {
        let (with, never) = (dir.path().join(format!("{model}-with.db")), dir.path().join(format!("{model}-never.db")));
        store(&with, &shop, None);
        store(&never, &shop, Some(&victim));
        let args = |db: &Path| {
            let mut a = vec!["--db".to_owned(), s(db), "--model".to_owned(), model.to_owned()];
            if !set.is_empty() {
                a.extend(["--set".to_owned(), set.to_owned()]);
            }
            a
        };
        let (a_args, b_args) = (args(&with), args(&never));
        // a model file written before the deletion
        let file = dir.path().join(format!("{model}.daogou"));
        let mut train = vec!["train"];
        train.extend(refs(&a_args));
        train.extend(["--out", file.to_str().unwrap()]);
        crate::fixtures::ok(&train);

        let (a, a_addr) = start_with(&refs(&a_args));
        let (b, b_addr) = start_with(&refs(&b_args));
        let (st, v) = answer(&a_addr, "GET", &format!("/users/{victim}/recommendations?n=10"), "");
        assert_eq!((st, &v["known_user"]), (200, &json!(true)), "{model}: {v}");
        // a live event of the victim's, the newest of all (trending counts it, and measures its
        // window from it), and a conversation, which must go with them
        let latest = shop.events.iter().map(|e| e.timestamp).max().unwrap();
        let ev = json!({"user": victim, "item": items[0], "kind": "purchase", "timestamp": latest + 60}).to_string();
        assert_eq!(http(&a_addr, "POST", "/events", &ev).unwrap().0, 200);
        let (_, conv) =
            http(&a_addr, "POST", "/assistant", &json!({"text": "跑鞋", "user": victim}).to_string()).unwrap();
        let conv: Value = serde_json::from_str(&conv).unwrap();
        let (st, v) = answer(&a_addr, "DELETE", &format!("/users/{victim}"), "");
        assert_eq!(st, 200, "{model}: {v}");
        assert!(v["events_deleted"].as_u64().unwrap() > 0 && v["refit_error"].is_null(), "{model}: {v}");
        assert_alike(&a_addr, &b_addr, &victim, &others, &items, model);
        // continuing it answers as a service that never had the conversation
        let follow_up = json!({"text": "便宜点", "user": victim, "conversation": conv["conversation"]}).to_string();
        let fresh = json!({"text": "便宜点", "user": victim}).to_string();
        assert_eq!(
            answer(&a_addr, "POST", "/assistant", &follow_up),
            answer(&b_addr, "POST", "/assistant", &fresh),
            "{model}"
        );
        stop(a);

        // restart from the file written before the deletion: the victim is unknown at once …
        let (a2, a2_addr) = start_with(&["--db", with.to_str().unwrap(), "--model", file.to_str().unwrap()]);
        assert_unknown(&a2_addr, &victim, &format!("{model} from an old file"));
        let (_, v) = answer(&a2_addr, "GET", &format!("/users/{victim}/buy-again"), "");
        assert!(v["items"].as_array().unwrap().is_empty(), "{model}: {v}");
        // … and a refit scheduled at start removes what the model learned from them
        wait_for_version(&a2_addr, 2);
        assert_alike(&a2_addr, &b_addr, &victim, &others, &items, model);
        // loading the old file again by `POST /admin/model`: unknown at once once more
        let body = json!({"path": file.to_str().unwrap()}).to_string();
        let (st, v) = answer(&a2_addr, "POST", "/admin/model", &body);
        assert_eq!(st, 200, "{model}: {v}");
        assert_unknown(&a2_addr, &victim, &format!("{model} loaded again by POST /admin/model"));
        stop(a2);
        stop(b);
    }
}

/// `victim` is unknown to the server at `addr`: for you says so, no reason cites their history,
/// and the admin list leaves them out.
fn assert_unknown(addr: &str, victim: &str, when: &str) {
    let (_, v) = answer(addr, "GET", &format!("/users/{victim}/recommendations?n=10"), "");
    assert_eq!(v["known_user"], false, "{when}: {v}");
    assert!(v["items"].as_array().unwrap().iter().all(|p| !p["reason"].as_str().unwrap().starts_with("because you")));
    let (_, v) = answer(addr, "GET", "/admin/users?n=200", "");
    assert!(v["users"].as_array().unwrap().iter().all(|u| u["user"] != victim), "{when}: {v}");
}
