//! The defences of an open (and a keyed) service: JSON bodies only, no writes or admin calls
//! from foreign origins, no foreign Host (DNS rebinding), rate limits per client address for
//! requests without a valid key. In process (with the connection's addresses injected the way
//! `axum::serve` would) and once over a real socket.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::Router;
use daogou_server::Peer;
use serde_json::Value;
use tower::ServiceExt;

use crate::support::*;

const EVENT: &str = r#"{"user":"guest","item":"s1","kind":"purchase"}"#;

/// One request from `peer` (None: no connection info, as in the other in-process tests).
async fn send(
    app: &Router,
    peer: Option<&str>,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut req = req.body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned()))).unwrap();
    if let Some(p) = peer {
        let remote: SocketAddr = p.parse().unwrap();
        let local = Some("127.0.0.1:8080".parse().unwrap());
        req.extensions_mut().insert(ConnectInfo(Peer { remote, local }));
    }
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn events_of(app: &Router, user: &str) -> usize {
    let (st, v) = send(app, None, "GET", &format!("/admin/users/{user}"), &[], None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["events"].as_u64().unwrap() as usize
}

#[tokio::test]
async fn a_body_that_is_not_json_gets_415_and_changes_nothing() {
    let app = app(false);
    let json = [("content-type", "application/json")];
    for ct in ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data"] {
        for (m, uri) in [("POST", "/events"), ("POST", "/admin/retrain"), ("PUT", "/items/x9"), ("POST", "/assistant")]
        {
            let (st, v) = send(&app, None, m, uri, &[("content-type", ct)], Some(EVENT)).await;
            assert_eq!((st, v["code"].as_str()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_media_type")));
            assert!(v["message"].as_str().unwrap().contains("application/json"), "{v}");
        }
    }
    // a body without any content type is refused too
    assert_eq!(send(&app, None, "POST", "/events", &[], Some(EVENT)).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(events_of(&app, "guest").await, 0, "a refused body must not be stored");
    // JSON (with a charset) is accepted; a request without a body needs no content type
    let (st, v) =
        send(&app, None, "POST", "/events", &[("content-type", "application/json; charset=utf-8")], Some(EVENT)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(events_of(&app, "guest").await, 1);
    assert_eq!(send(&app, None, "POST", "/admin/retrain?wait=true", &[], None).await.0, StatusCode::OK);
    assert_eq!(send(&app, None, "GET", "/popular", &json, None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn writes_and_admin_calls_from_a_foreign_origin_get_403() {
    let mut c = config(false);
    c.set("allowed_origins", "https://admin.shop.example").unwrap();
    let (app, _) = app_on(store(&[]), c);
    let json = ("content-type", "application/json");
    let host = ("host", "127.0.0.1:8080");
    for origin in ["http://evil.example", "http://127.0.0.1:9999", "null", "http://localhost:8080"] {
        let o = ("origin", origin);
        for (m, uri, body) in [
            ("POST", "/events", Some(EVENT)),
            ("DELETE", "/users/su1", None),
            ("POST", "/admin/retrain", None),
            ("POST", "/admin/model", Some(r#"{"path":"/etc/hostname"}"#)),
            ("PUT", "/items/s1", Some("{}")),
            ("DELETE", "/items/s1", None),
            ("GET", "/admin/users", None),
            ("GET", "/admin/users/su1", None),
            ("POST", "/assistant", Some(r#"{"text":"shoes"}"#)),
        ] {
            let (st, v) = send(&app, None, m, uri, &[json, host, o], body).await;
            assert_eq!(
                (st, v["code"].as_str()),
                (StatusCode::FORBIDDEN, Some("foreign_origin")),
                "{m} {uri} from {origin}: {v}"
            );
        }
    }
    assert_eq!(events_of(&app, "guest").await, 0);
    assert_eq!(events_of(&app, "su1").await, 4, "the user was not deleted");
    // a page without Origin that the browser marks cross-site (an old form post, a no-cors fetch)
    let (st, _) = send(&app, None, "GET", "/admin/users", &[host, ("sec-fetch-site", "cross-site")], None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // the service's own pages, an allowed origin, and clients that are not browsers write
    for headers in [
        vec![json, host, ("origin", "http://127.0.0.1:8080"), ("sec-fetch-site", "same-origin")],
        vec![json, ("host", "localhost:8080"), ("origin", "http://localhost:8080")],
        vec![json, host, ("origin", "https://admin.shop.example")],
        vec![json, host],
    ] {
        let (st, v) = send(&app, None, "POST", "/events", &headers, Some(EVENT)).await;
        assert_eq!(st, StatusCode::OK, "{headers:?}: {v}");
    }
    assert_eq!(events_of(&app, "guest").await, 1, "one event, posted four times (deduplicated)");
    // reads stay open to any origin (the browser shows their answers to no foreign page)
    let (st, _) = send(&app, None, "GET", "/popular", &[host, ("origin", "http://evil.example")], None).await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn a_foreign_host_is_refused() {
    let mut c = config(false);
    c.set("allowed_hosts", "recs.shop.internal").unwrap();
    let (app, _) = app_on(store(&[]), c);
    // DNS rebinding: the attacker's name resolves to this server; reads and writes refused
    for host in ["evil.example", "evil.example:8080", "localhost.evil.example:8080", "10.9.9.9:8080"] {
        for (m, uri) in [("GET", "/admin/users/su1"), ("GET", "/users/su1/recommendations"), ("DELETE", "/users/su1")] {
            let (st, v) = send(&app, Some("127.0.0.1:50000"), m, uri, &[("host", host)], None).await;
            assert_eq!(
                (st, v["code"].as_str()),
                (StatusCode::MISDIRECTED_REQUEST, Some("host_not_allowed")),
                "{host}: {v}"
            );
        }
    }
    assert_eq!(events_of(&app, "su1").await, 4);
    for host in ["127.0.0.1:8080", "localhost:8080", "[::1]:8080", "recs.shop.internal", "recs.shop.internal:80"] {
        let (st, v) = send(&app, Some("127.0.0.1:50000"), "GET", "/popular", &[("host", host)], None).await;
        assert_eq!(st, StatusCode::OK, "{host}: {v}");
    }
}

#[tokio::test]
async fn a_client_without_a_key_over_the_limit_gets_429_while_a_keyed_client_is_unaffected() {
    let mut c = config(true);
    c.client_rate_limit = 2.0; // bursts of 4 per address
    let (app, _) = app_on(store(&[]), c);
    let noisy = "192.0.2.7:40000";
    // the flood (no key, and a wrong key) and a keyed client interleaved, from the same
    // address and from another
    let mut flood = Vec::new();
    for round in 0..12 {
        let key = if round % 2 == 0 { None } else { Some("Bearer wrong-key-123") };
        let headers: Vec<(&str, &str)> = key.map(|k| ("authorization", k)).into_iter().collect();
        flood.push(send(&app, Some(noisy), "GET", "/popular", &headers, None).await.0.as_u16());
        for peer in [noisy, "198.51.100.1:1234"] {
            let (st, v) =
                send(&app, Some(peer), "GET", "/popular", &[("authorization", &format!("Bearer {READ}"))], None).await;
            assert_eq!(st, StatusCode::OK, "keyed client from {peer} in round {round}: {v}");
        }
    }
    assert_eq!(&flood[..4], [401, 401, 401, 401], "{flood:?}");
    assert!(flood[4..].iter().all(|&s| s == 429), "{flood:?}");
    let (st, v) = send(&app, Some(noisy), "GET", "/health", &[], None).await;
    assert_eq!((st, v["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")), "{v}");
    // another address without a key has its own budget; IPv6 counts per /64
    assert_eq!(send(&app, Some("198.51.100.2:1"), "GET", "/health", &[], None).await.0, StatusCode::OK);
    for i in 0..4 {
        let p = format!("[2001:db8:1:2::{i}]:1");
        assert_eq!(send(&app, Some(&p), "GET", "/health", &[], None).await.0, StatusCode::OK);
    }
    assert_eq!(
        send(&app, Some("[2001:db8:1:2::99]:1"), "GET", "/health", &[], None).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn an_open_service_limits_each_address() {
    let mut c = config(false);
    c.client_rate_limit = 1.0; // bursts of 2
    c.set("trusted_proxies", "10.0.0.1").unwrap();
    let (app, _) = app_on(store(&[]), c);
    let codes = |v: Vec<(StatusCode, Value)>| v.into_iter().map(|(s, _)| s.as_u16()).collect::<Vec<_>>();
    let mut a = Vec::new();
    for _ in 0..3 {
        a.push(send(&app, Some("192.0.2.1:1"), "GET", "/popular", &[], None).await);
    }
    assert_eq!(codes(a), [200, 200, 429]);
    // behind a trusted proxy the forwarded address counts; an untrusted peer cannot forge it
    let mut b = Vec::new();
    for client in ["203.0.113.5", "203.0.113.5", "203.0.113.5", "203.0.113.6"] {
        b.push(send(&app, Some("10.0.0.1:1"), "GET", "/popular", &[("x-forwarded-for", client)], None).await);
    }
    assert_eq!(codes(b), [200, 200, 429, 200]);
    let forged = send(&app, Some("192.0.2.1:1"), "GET", "/popular", &[("x-forwarded-for", "203.0.113.99")], None).await;
    assert_eq!(forged.0, StatusCode::TOO_MANY_REQUESTS);
}

/// Over a real socket: the connection's own addresses reach the checks.
#[tokio::test]
async fn over_a_real_socket() {
    let mut c = config(false);
    c.client_rate_limit = 50.0;
    let (app, _) = app_on(store(&[]), c);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<Peer>()).await.unwrap();
    });
    // a blocking client on the blocking pool (the server runs on this test's runtime)
    let status = |host: String, extra: &'static str, body: &'static str| async move {
        tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            let req = format!(
                "POST /events HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            s.write_all(req.as_bytes()).unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out.split(' ').nth(1).unwrap_or("").to_owned()
        })
        .await
        .unwrap()
    };
    assert_eq!(status(addr.to_string(), "Content-Type: application/json\r\n", EVENT).await, "200");
    assert_eq!(status(addr.to_string(), "Content-Type: text/plain\r\n", EVENT).await, "415");
    assert_eq!(
        status(format!("evil.example:{}", addr.port()), "Content-Type: application/json\r\n", EVENT).await,
        "421"
    );
    let o = "Content-Type: application/json\r\nOrigin: http://evil.example\r\n";
    assert_eq!(status(addr.to_string(), o, EVENT).await, "403");
    let mut codes = Vec::new();
    for _ in 0..150 {
        codes.push(status(addr.to_string(), "Content-Type: application/json\r\n", EVENT).await);
    }
    assert!(codes.iter().any(|c| c == "429"), "the loopback client must hit its limit: {codes:?}");
    server.abort();
}
