//! The storefront and dashboard: pages served from the binary (open, right content types), the
//! statistics, leaderboard, model-version and per-user endpoints behind them.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use daogou_store::{SqliteStore, Store};
use serde_json::Value;
use tower::ServiceExt;

use crate::support::*;

async fn raw(app: &axum::Router, uri: &str) -> (StatusCode, String, String, String) {
    let resp = app.clone().oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap()).await.unwrap();
    let header = |h: &str| resp.headers().get(h).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let (ct, csp) = (header("content-type"), header("content-security-policy"));
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, ct, csp, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn pages_are_served_from_the_binary_without_a_key() {
    // with keys configured the pages still load; the data behind them needs a key
    let app = app(true);
    for (uri, ct, needle) in [
        ("/", "text/html", "导购助手"),
        ("/dashboard", "text/html", "events-chart"),
        ("/assets/store.js", "text/javascript", "/assistant"),
        ("/assets/dashboard.js", "text/javascript", "/stats/overview"),
        ("/assets/common.js", "text/javascript", "Authorization"),
        ("/assets/app.css", "text/css", ".chat"),
        ("/favicon.ico", "image/svg+xml", "<svg"),
    ] {
        let (st, got, csp, body) = raw(&app, uri).await;
        assert_eq!(st, StatusCode::OK, "{uri}");
        assert!(got.starts_with(ct), "{uri}: content type {got}");
        assert!(csp.contains("default-src 'self'"), "{uri}: {csp}");
        assert!(body.contains(needle), "{uri} lacks {needle}");
    }
    // every script and stylesheet a page names is served
    for page in ["/", "/dashboard"] {
        let (_, _, _, html) = raw(&app, page).await;
        for src in html.split(['"', '\'']).filter(|s| s.starts_with("/assets/")) {
            assert_eq!(raw(&app, src).await.0, StatusCode::OK, "{page} refers to {src}");
        }
    }
    // the OpenAPI document lists the new endpoints (the schemathesis run covers what it lists)
    let (_, doc) = call(&app, "GET", "/openapi.json", Some(READ), None).await;
    for path in ["/", "/dashboard", "/search", "/assistant", "/stats/overview", "/stats/leaderboard", "/stats/model"] {
        assert!(doc["paths"][path].is_object(), "{path} missing from /openapi.json");
    }
    for path in ["/admin/evaluate", "/admin/users", "/admin/users/{id}"] {
        assert!(doc["paths"][path].is_object(), "{path} missing from /openapi.json");
    }
    assert_eq!(call(&app, "GET", "/stats/overview", None, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(call(&app, "GET", "/stats/overview", Some(READ), None).await.0, StatusCode::OK);
    assert_eq!(call(&app, "GET", "/admin/users", Some(READ), None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(call(&app, "GET", "/admin/users", Some(ADMIN), None).await.0, StatusCode::OK);
    assert_eq!(call(&app, "POST", "/admin/evaluate", Some(WRITE), None).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn statistics_count_the_stored_events() {
    let app = app(false);
    let v = get(&app, "/stats/overview").await;
    // 24 shoppers × (3 purchases + 1 view)
    assert_eq!(v["events"], 96, "{v}");
    assert_eq!(v["users"], 24);
    assert_eq!(v["events_by_kind"]["purchase"], 72);
    let daily = v["daily"].as_array().unwrap();
    let per_day: u64 =
        daily.iter().flat_map(|d| d["counts"].as_object().unwrap().values()).map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(per_day, 96, "every event is in one day: {daily:?}");
    let days: Vec<i64> = daily.iter().map(|d| d["day"].as_i64().unwrap()).collect();
    assert!(days.windows(2).all(|w| w[1] - w[0] == 86_400), "consecutive days: {days:?}");
    let tail: Vec<u64> =
        v["long_tail"]["users_per_item"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect();
    assert_eq!(tail.len(), 12, "one entry per catalogue item");
    assert!(tail.windows(2).all(|w| w[0] >= w[1]), "most popular first: {tail:?}");
    // each sports item is touched by the 8 shoppers whose window covers it (views included)
    assert_eq!(tail.iter().sum::<u64>(), 96);
    assert_eq!(v["items_by_category"]["运动"], 6, "{v}");
    assert_eq!(v["items_by_category"]["books"], 6);
}

#[tokio::test]
async fn users_and_their_history() {
    let app = app(false);
    let v = get(&app, "/admin/users?n=5").await;
    let users = v["users"].as_array().unwrap();
    assert_eq!(users.len(), 5, "{v}");
    assert!(users.windows(2).all(|w| w[0]["items"].as_u64() >= w[1]["items"].as_u64()), "{v}");
    let h = get(&app, "/admin/users/su0").await;
    assert_eq!(h["events"], 4, "{h}");
    assert_eq!(h["known_to_model"], true);
    let hist = h["history"].as_array().unwrap();
    assert_eq!(hist[0]["kind"], "view", "newest first: {h}");
    assert_eq!(hist[0]["title"], "跑鞋 4");
    assert_eq!(hist[3]["verb"], "bought");
    let nobody = get(&app, "/admin/users/nobody").await;
    assert_eq!(nobody["events"], 0);
    assert_eq!(nobody["known_to_model"], false);
    assert_eq!(call(&app, "GET", "/admin/users?n=0", None, None).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn model_versions_follow_retrains() {
    let app = app(false);
    let v = get(&app, "/stats/model").await;
    assert_eq!(v["versions"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["current"]["model"], "item-knn");
    assert!(v["models"].as_array().unwrap().iter().any(|m| m == "als"));
    let (st, r) = call(&app, "POST", "/admin/retrain?wait=true", None, Some(r#"{"model": "popularity"}"#)).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let v = get(&app, "/stats/model").await;
    let versions = v["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "{v}");
    assert_eq!(versions[0]["version"], 2, "newest first: {v}");
    assert_eq!(versions[0]["model"], "popularity");
    assert_eq!(versions[1]["model"], "item-knn");
    assert_eq!(v["current"]["version"], 2);
}

#[tokio::test]
async fn the_leaderboard_is_evaluated_stored_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    {
        let mut s = SqliteStore::open(&path).unwrap();
        s.upsert_items(&catalogue()).unwrap();
        s.insert_events(&events(&[])).unwrap();
    }
    let (app, _) = app_on(SqliteStore::open(&path).unwrap(), config(false));
    let v = get(&app, "/stats/leaderboard").await;
    assert_eq!(v["leaderboard"], Value::Null, "nothing evaluated yet: {v}");
    let (st, r) = call(&app, "POST", "/admin/evaluate?wait=true", None, None).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let rows = r["leaderboard"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), daogou_eval::leaderboard::DEFAULT_MODELS.len(), "{r}");
    let ndcg: Vec<f64> =
        rows.iter().filter(|r| r["error"].is_null()).map(|r| r["metrics"]["ndcg"].as_f64().unwrap()).collect();
    assert!(ndcg.len() >= 3 && ndcg.windows(2).all(|w| w[0] >= w[1]), "best first: {ndcg:?}");
    // a server started later on the same database reads it back (as after `daogou demo`)
    drop(app);
    let (app, _) = app_on(SqliteStore::open(&path).unwrap(), config(false));
    let v = get(&app, "/stats/leaderboard").await;
    assert_eq!(v["leaderboard"], r["leaderboard"], "{v}");
    assert_eq!(v["evaluating"], false);
}

/// Found by schemathesis: one event stamped near the ends of time made the daily series of
/// `/stats/overview` ask for hundreds of GB, and the server aborted.
#[tokio::test]
async fn events_at_the_ends_of_time_do_not_break_the_overview() {
    let app = app(false);
    for ts in [i64::MIN, -9_000_000_000_000, 9_000_000_000_000, i64::MAX] {
        let e = format!(r#"{{"user":"u-far","item":"s1","kind":"view","timestamp":{ts}}}"#);
        assert_eq!(call(&app, "POST", "/events", None, Some(&e)).await.0, StatusCode::OK);
        let v = get(&app, "/stats/overview").await;
        let days = v["daily"].as_array().unwrap();
        assert!(!days.is_empty() && days.len() <= 3_661, "{} days", days.len());
    }
}
