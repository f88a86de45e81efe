//! Product search and the assistant over HTTP: answers honour the request's constraints, the
//! search index follows catalogue upserts and deletions, bad input is a JSON 400.

use axum::http::StatusCode;
use serde_json::Value;

use crate::support::*;

fn prices(v: &Value) -> Vec<f64> {
    v["items"].as_array().unwrap().iter().map(|p| p["price"].as_f64().unwrap()).collect()
}

async fn ask(app: &axum::Router, body: &str) -> Value {
    let (st, v) = call(app, "POST", "/assistant", None, Some(body)).await;
    assert_eq!(st, StatusCode::OK, "{body}: {v}");
    v
}

#[tokio::test]
async fn answers_honour_the_price_limit() {
    let app = app(false);
    // running shoes cost 10..60 (s5 is out of stock), books 5..10
    let v = ask(&app, r#"{"text": "30元以下的跑鞋"}"#).await;
    assert_eq!(v["parse"]["max_price"], 30.0, "{v}");
    let p = prices(&v);
    assert!(!p.is_empty() && p.iter().all(|&x| x <= 30.0), "{v}");
    assert!(v["items"].as_array().unwrap().iter().all(|i| i["id"].as_str().unwrap().starts_with('s')), "{v}");
    assert!(v["conversation"].as_str().is_some_and(|c| !c.is_empty()));
    let v = ask(&app, r#"{"text": "books under 8 yuan", "user": "ru1", "n": 3}"#).await;
    assert_eq!(v["parse"]["max_price"], 8.0, "{v}");
    let p = prices(&v);
    assert!(!p.is_empty() && p.len() <= 3 && p.iter().all(|&x| x <= 8.0), "{v}");
    assert!(v["items"].as_array().unwrap().iter().all(|i| i["reason"].as_str().is_some_and(|r| !r.is_empty())), "{v}");
    // the next turn refines the previous answer
    let conv = v["conversation"].as_str().unwrap();
    let cheaper = ask(&app, &format!(r#"{{"text": "cheaper", "user": "ru1", "conversation": "{conv}"}}"#)).await;
    let max = p.iter().copied().fold(0.0, f64::max);
    assert!(prices(&cheaper).iter().all(|&x| x < max), "cheaper than {max}: {cheaper}");
}

#[tokio::test]
async fn a_known_user_gets_personal_reasons() {
    let app = app(false);
    let reasons = |v: &Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|p| p["reason"].as_str().unwrap().to_owned()).collect()
    };
    // su0 bought s0..s2 and viewed s4: the server hands the guide su0's scores and history
    let mine = reasons(&ask(&app, r#"{"text": "running shoes", "user": "su0"}"#).await);
    assert!(mine.iter().any(|r| r.contains("because you liked") || r.contains("picked for you")), "{mine:?}");
    let anon = reasons(&ask(&app, r#"{"text": "running shoes"}"#).await);
    assert!(anon.iter().all(|r| !r.contains("because you liked") && !r.contains("picked for you")), "{anon:?}");
}

#[tokio::test]
async fn search_finds_products_and_follows_the_catalogue() {
    let app = app(false);
    let v = get(&app, "/search?q=Book&n=20").await;
    let found = ids(&v);
    assert!(!found.is_empty() && found.iter().all(|i| i.starts_with('b')), "{v}");
    assert_eq!(get(&app, "/search?q=%E8%B7%91%E9%9E%8B").await["items"][0]["category"], "运动/跑鞋");
    // a new item is found at once, and no longer once deleted
    let (st, _) =
        call(&app, "PUT", "/items/k1", None, Some(r#"{"title": "Kayak Paddle 皮划艇桨", "price": 99}"#)).await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(ids(&get(&app, "/search?q=kayak").await), ["k1"]);
    let (st, _) = call(&app, "DELETE", "/items/k1", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(ids(&get(&app, "/search?q=kayak").await).is_empty());
}

#[tokio::test]
async fn bad_requests_are_json_400s_and_keys_apply() {
    let app = app(false);
    for body in [r#"{"text": ""}"#, r#"{"text": 5}"#, "not json", r#"{"text": "鞋", "n": 0}"#, r#"{"user": "x"}"#, ""]
    {
        let (st, v) = call(&app, "POST", "/assistant", None, Some(body)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert!(v["code"].is_string() && v["message"].is_string(), "{v}");
    }
    for uri in ["/search", "/search?q=", "/search?q=x&n=0", "/search?q=x&zz=1"] {
        assert_eq!(call(&app, "GET", uri, None, None).await.0, StatusCode::BAD_REQUEST, "{uri}");
    }
    let app = crate::support::app(true);
    assert_eq!(call(&app, "GET", "/search?q=book", None, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(call(&app, "GET", "/search?q=book", Some(READ), None).await.0, StatusCode::OK);
    let (st, _) = call(&app, "POST", "/assistant", Some(READ), Some(r#"{"text": "books"}"#)).await;
    assert_eq!(st, StatusCode::OK);
}
