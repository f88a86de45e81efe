//! A small deterministic fuzzer over every endpoint: random paths, query strings and bodies
//! (valid-looking JSON with wrong types, garbage bytes, huge numbers). No answer may be a
//! 5xx, and every error must be a JSON `{code, message}`.

use axum::body::Body;
use axum::http::Request;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::support::*;

type Rng = daogou_core::SeededRng;

const WORDS: &[&str] = &[
    "",
    "s1",
    "b0",
    "su1",
    "zzz",
    "%FF",
    "%00",
    "%20",
    "..",
    "%2F",
    "鞋",
    "a%25b",
    "-1",
    "0",
    "1e400",
    "NaN",
    "true",
    "null",
    "[]",
    "{}",
    "x,y,,",
    "inf",
    "999999999999999999999",
];
const KEYS: &[&str] = &[
    "n",
    "category",
    "brand",
    "min_price",
    "max_price",
    "in_stock",
    "exclude",
    "allow_repeat",
    "wait",
    "zz",
    "n[]",
    "hours",
    "explore",
    "popularity_weight",
    "novelty_weight",
    "max_per_category",
];
const FIELDS: &[&str] = &[
    "user",
    "item",
    "kind",
    "value",
    "timestamp",
    "query",
    "items",
    "title",
    "price",
    "stock",
    "available",
    "attributes",
    "category",
    "brand",
    "created_at",
    "id",
    "model",
    "params",
    "weights",
];

fn scalar(r: &mut Rng) -> Value {
    match r.below(10) {
        0 => Value::Null,
        1 => json!(r.below(2) == 0),
        2 => json!(r.next_u64() as i64),
        3 => json!(f64::from_bits(r.next_u64()).clamp(-1e300, 1e300)),
        4 => json!(r.pick(&["view", "click", "search", "add_to_cart", "purchase", "return", "rating", "wish"])),
        5 => json!("x".repeat(r.below(600))),
        6 => json!(-1),
        7 => json!(1e39),
        _ => json!(r.pick(WORDS)),
    }
}

fn value(r: &mut Rng, depth: usize) -> Value {
    if depth > 2 {
        return scalar(r);
    }
    match r.below(5) {
        0 => Value::Array((0..r.below(4)).map(|_| value(r, depth + 1)).collect()),
        1 | 2 => {
            let mut o = serde_json::Map::new();
            for _ in 0..r.below(7) {
                o.insert((*r.pick(FIELDS)).to_owned(), value(r, depth + 1));
            }
            Value::Object(o)
        }
        _ => scalar(r),
    }
}

fn body(r: &mut Rng) -> Vec<u8> {
    match r.below(8) {
        0 => Vec::new(),
        1 => (0..r.below(64)).map(|_| r.next_u64() as u8).collect(),
        2 => b"{\"user\": \"u\", \"item\": \"s1\", \"kind\": \"view\"".to_vec(),
        3 => {
            // a well-formed event with one field broken
            let mut e = json!({"user": "fz", "item": "s1", "kind": "view", "value": 1, "timestamp": 1});
            e[r.pick(&["user", "item", "kind", "value", "timestamp", "query"])] = scalar(r);
            e.to_string().into_bytes()
        }
        _ => value(r, 0).to_string().into_bytes(),
    }
}

#[tokio::test]
async fn no_input_makes_a_5xx() {
    let app = app(false);
    let mut r = Rng::new(0x5EED_F00D_1234_5678);
    let templates = [
        ("GET", "/health"),
        ("GET", "/users/{}/recommendations"),
        ("GET", "/users/{}/buy-again"),
        ("GET", "/items/{}/similar"),
        ("GET", "/items/{}"),
        ("PUT", "/items/{}"),
        ("DELETE", "/items/{}"),
        ("POST", "/events"),
        ("POST", "/sessions/recommendations"),
        ("GET", "/popular"),
        ("GET", "/trending"),
        ("GET", "/new"),
        ("GET", "/items/{}/bought-together"),
        ("DELETE", "/users/{}"),
        ("POST", "/admin/retrain"),
        ("POST", "/admin/model"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
        ("GET", "/stats/overview"),
        ("GET", "/stats/leaderboard"),
        ("GET", "/stats/model"),
        ("GET", "/admin/users"),
        ("GET", "/admin/users/{}"),
        ("GET", "/"),
        ("GET", "/dashboard"),
        ("GET", "/search"),
        ("POST", "/assistant"),
        ("POST", "/users/{}/recommendations"),
        ("GET", "/{}"),
        ("POST", "/admin/experiments"),
        ("POST", "/admin/experiments/{}/start"),
        ("POST", "/admin/experiments/{}/stop"),
        ("GET", "/experiments"),
        ("GET", "/experiments/{}"),
    ];
    let mut by_class = [0usize; 6];
    for round in 0..1500 {
        let (method, t) = templates[r.below(templates.len())];
        let id = match r.below(4) {
            0 => "y".repeat(300),
            _ => (*r.pick(WORDS)).to_owned(),
        };
        let mut uri = t.replace("{}", if id.is_empty() { "%20" } else { &id });
        if r.below(2) == 0 {
            let q: Vec<String> = (0..1 + r.below(3))
                .map(|_| format!("{}={}", r.pick(KEYS), r.pick(WORDS).replace(' ', "%20")))
                .collect();
            uri = format!("{uri}?{}", q.join("&"));
        }
        // fits with random hyperparameters are out of scope (an admin may ask for a huge k)
        let b = if t == "/admin/retrain" { b"{\"params\": 3}".to_vec() } else { body(&mut r) };
        // mostly JSON, as clients send it; sometimes another type or none (a 415 when there is
        // a body)
        let ct = match r.below(10) {
            0 => None,
            1 => Some(*r.pick(&["text/plain", "application/x-www-form-urlencoded", "application/json; charset=x", ""])),
            _ => Some("application/json"),
        };
        let mut req = Request::builder().method(method).uri(&uri);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        let Ok(req) = req.body(Body::from(b.clone())) else { continue };
        let resp = app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        by_class[(status.as_u16() / 100) as usize] += 1;
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        assert!(
            status.as_u16() < 500,
            "round {round}: {method} {uri} {} → {status}: {}",
            String::from_utf8_lossy(&b),
            String::from_utf8_lossy(&bytes)
        );
        if status.as_u16() >= 400 {
            let v: Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "round {round}: {method} {uri} → {status} without a JSON body: {}",
                    String::from_utf8_lossy(&bytes)
                )
            });
            assert!(v["code"].is_string() && v["message"].is_string(), "{v}");
        }
    }
    eprintln!("answers by class (1xx..5xx): {by_class:?}");
    assert!(by_class[2] > 100 && by_class[4] > 700, "the fuzzer must reach both success and errors: {by_class:?}");
}
