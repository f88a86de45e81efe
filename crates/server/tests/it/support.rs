//! A small two-cluster shop and a client for the in-process router.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use daogou_core::{Event, EventKind, Item};
use daogou_data::synth::fixtures::{two_cluster_shop, two_cluster_shop_with};
use daogou_server::{parse_api_keys, AppState, Config};
use daogou_store::{SqliteStore, Store};
use serde_json::Value;
use tower::ServiceExt;

pub const READ: &str = "reader-key-1";
pub const WRITE: &str = "writer-key-1";
pub const ADMIN: &str = "admin-key-01";

/// The fixture shop's catalogue ([`two_cluster_shop`]): sports items s0..s5 (category
/// 运动/跑鞋, brand A or B, price 10·(i+1); s5 out of stock) and books b0..b5.
pub fn catalogue() -> Vec<Item> {
    two_cluster_shop().items
}

pub fn ev(user: &str, item: &str, kind: EventKind, ts: i64) -> Event {
    Event { user: user.into(), item: item.into(), kind, value: 1.0, timestamp: ts, query: None }
}

/// 12 sports shoppers (su0..) and 12 readers (ru0..), each buying three neighbouring items of
/// their cluster and viewing a fourth; `extra` events are added (in the middle of the users).
pub fn events(extra: &[Event]) -> Vec<Event> {
    two_cluster_shop_with(extra).events
}

pub fn store(extra: &[Event]) -> SqliteStore {
    let mut s = SqliteStore::open_in_memory().unwrap();
    s.upsert_items(&catalogue()).unwrap();
    s.insert_events(&events(extra)).unwrap();
    s
}

pub fn config(keys: bool) -> Config {
    let mut c = Config::default();
    if keys {
        c.api_keys = parse_api_keys(&format!("{READ}:read,{WRITE}:read+write,{ADMIN}:read+write+admin")).unwrap();
    }
    c.limits.body_limit = 64 * 1024;
    c
}

pub fn app_on(store: SqliteStore, c: Config) -> (Router, Arc<AppState>) {
    let state = AppState::new(store, c).unwrap();
    (daogou_server::router(state.clone()), state)
}

pub fn app(keys: bool) -> Router {
    app_on(store(&[]), config(keys)).0
}

/// One request; the body parsed as JSON when it is JSON (else a JSON string of the text).
pub async fn call(app: &Router, method: &str, uri: &str, key: Option<&str>, body: Option<&str>) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(k) = key {
        req = req.header("authorization", format!("Bearer {k}"));
    }
    let req = match body {
        Some(b) => req.header("content-type", "application/json").body(Body::from(b.to_owned())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    let v = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, v)
}

pub async fn get(app: &Router, uri: &str) -> Value {
    let (st, v) = call(app, "GET", uri, None, None).await;
    assert_eq!(st, StatusCode::OK, "GET {uri}: {v}");
    v
}

pub fn ids(v: &Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|p| p["item"].as_str().unwrap().to_owned()).collect()
}
