//! `DELETE /users/{id}`: after deletion every answer equals that of a server started on a
//! store that never had the user.

use axum::http::StatusCode;
use daogou_core::EventKind;
use serde_json::Value;

use crate::support::*;

fn strip(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("model_version");
    }
    v
}

#[tokio::test]
async fn deletion_equals_never_having_had_the_user() {
    // the victim links the two clusters: bought running shoes and books together
    let mut victim = Vec::new();
    for (n, item) in ["s0", "b0", "s1", "b1", "b2"].iter().enumerate() {
        victim.push(ev("victim", item, EventKind::Purchase, 1_600_000_000 + n as i64));
    }
    let (with, _) = app_on(store(&victim), config(false));
    let (without, _) = app_on(store(&[]), config(false));

    let probes: Vec<String> = ["su0", "su3", "ru1", "ru4", "victim", "nobody"]
        .iter()
        .flat_map(|u| {
            [
                format!("/users/{u}/recommendations?n=8&in_stock=false"),
                format!("/users/{u}/buy-again?n=8&in_stock=false"),
            ]
        })
        .chain(["/popular?n=12".into(), "/items/s0/similar?n=8".into(), "/items/b0/similar?n=8".into()])
        .collect();
    // the victim's data shows before deletion
    let mut differs = false;
    for p in &probes {
        differs |= strip(get(&with, p).await) != strip(get(&without, p).await);
    }
    assert!(differs, "the fixture must make the victim visible");
    // live events of the victim too
    call(&with, "POST", "/events", None, Some(r#"{"user":"victim","item":"b3","kind":"view"}"#)).await;

    let (st, v) = call(&with, "DELETE", "/users/victim", None, None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["events_deleted"], 6, "{v}");
    for p in &probes {
        assert_eq!(strip(get(&with, p).await), strip(get(&without, p).await), "{p}");
    }
    let s = strip(call(&with, "POST", "/sessions/recommendations", None, Some(r#"{"items":["s0"]}"#)).await.1);
    let t = strip(call(&without, "POST", "/sessions/recommendations", None, Some(r#"{"items":["s0"]}"#)).await.1);
    assert_eq!(s, t);
    let h = get(&with, "/health").await;
    assert_eq!(h["users"], get(&without, "/health").await["users"]);
    // deleting again is harmless
    let (st, v) = call(&with, "DELETE", "/users/victim", None, None).await;
    assert_eq!((st, v["events_deleted"].as_u64()), (StatusCode::OK, Some(0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deletions_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let mut st = daogou_store::SqliteStore::open(&db).unwrap();
    daogou_store::Store::upsert_items(&mut st, &catalogue()).unwrap();
    daogou_store::Store::insert_events(&mut st, &events(&[])).unwrap();
    let (app, _) = app_on(st, config(false));
    let mut tasks = Vec::new();
    // readers and writers on the survivors
    for t in 0..4 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            for k in 0..25 {
                let u = format!("ru{}", (t + k) % 6);
                let (st, v) = call(&app, "GET", &format!("/users/{u}/recommendations"), None, None).await;
                assert_eq!(st, StatusCode::OK, "{v}");
                let body = format!(
                    r#"{{"user":"su{}","item":"s{}","kind":"view","timestamp":{}}}"#,
                    t,
                    k % 6,
                    2_000_000_000 + k
                );
                let (st, v) = call(&app, "POST", "/events", None, Some(&body)).await;
                assert_eq!(st, StatusCode::OK, "{v}");
            }
        }));
    }
    // deleters: users 6..12 of both clusters, twice each, at the same time
    for u in 6..12 {
        for prefix in ["su", "ru", "su"] {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let (st, v) = call(&app, "DELETE", &format!("/users/{prefix}{u}"), None, None).await;
                assert_eq!(st, StatusCode::OK, "{v}");
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let other = daogou_store::SqliteStore::open(&db).unwrap();
    for u in 6..12 {
        for prefix in ["su", "ru"] {
            let user = format!("{prefix}{u}");
            assert!(daogou_store::Store::user_events(&other, &user).unwrap().is_empty(), "{user}");
            let v = get(&app, &format!("/users/{user}/recommendations")).await;
            assert_eq!(v["known_user"], false, "{v}");
            assert_eq!(v["items"][0]["reason"], "popular in this shop", "{v}");
        }
    }
    assert_eq!(get(&app, "/health").await["users"], 12);
    // every write of the survivors is stored
    for t in 0..4 {
        let n = daogou_store::Store::user_events(&other, &format!("su{t}")).unwrap().len();
        assert_eq!(n, 4 + 25, "su{t}");
    }
}
