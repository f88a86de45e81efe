//! The guard's rules one by one: hosts, origins, client addresses, rate buckets, JSON content types.

use std::net::{IpAddr, SocketAddr};

use axum::http::{HeaderMap, HeaderValue};
use daogou_server::guard::*;
use daogou_server::origin::normalize_origin;

#[test]
fn hosts() {
    let local: Option<SocketAddr> = Some("10.1.2.3:8080".parse().unwrap());
    let allowed = vec!["shop.example".to_owned(), "api.shop.example:8443".to_owned()];
    for ok in [
        "localhost",
        "LOCALHOST:8080",
        "localhost.:1",
        "127.0.0.1:8080",
        "127.9.9.9",
        "[::1]:8080",
        "[::ffff:127.0.0.1]:80",
        "10.1.2.3:8080",
        "10.1.2.3",
        "shop.example",
        "Shop.Example:9000",
        "api.shop.example:8443",
    ] {
        assert!(host_allowed(ok, local, &allowed), "{ok}");
    }
    for bad in [
        "evil.example",
        "evil.example:8080",
        "localhost.evil.example",
        "10.1.2.4:8080",
        "api.shop.example:443",
        "api.shop.example",
        "",
        ":80",
        "[::1",
        "::1",
        "shop.example:99999",
    ] {
        assert!(!host_allowed(bad, local, &allowed), "{bad}");
    }
    assert!(host_allowed("anything.example", None, &["*".to_owned()]));
}

#[test]
fn origins() {
    assert_eq!(normalize_origin("HTTPS://Shop.Example:443/").as_deref(), Some("https://shop.example"));
    assert_eq!(normalize_origin("http://[::1]:8080").as_deref(), Some("http://[::1]:8080"));
    for bad in ["null", "file://", "shop.example", "ftp://x", "https://a/b", "https://u@x"] {
        assert_eq!(normalize_origin(bad), None, "{bad}");
    }
    let h = |pairs: &[(&'static str, &str)]| {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        m
    };
    let allowed = vec!["https://admin.shop.example".to_owned()];
    let local = Some("127.0.0.1:8080".parse().unwrap());
    let f = |hm: &HeaderMap, host: Option<&str>| foreign(hm, host, local, &allowed);
    assert_eq!(f(&h(&[("origin", "http://127.0.0.1:8080")]), Some("127.0.0.1:8080")), None);
    assert_eq!(f(&h(&[("origin", "https://shop.example")]), Some("shop.example")), None, "TLS at a proxy");
    assert_eq!(f(&h(&[("origin", "http://localhost:8080")]), Some("localhost:8080")), None);
    assert_eq!(f(&h(&[("origin", "https://admin.shop.example")]), Some("127.0.0.1:8080")), None);
    assert_eq!(f(&h(&[("origin", "http://127.0.0.1:8080")]), None), None, "no Host: the bound address");
    assert_eq!(f(&h(&[]), Some("127.0.0.1:8080")), None, "not a browser");
    assert_eq!(f(&h(&[("sec-fetch-site", "same-origin")]), None), None);
    for bad in [
        h(&[("origin", "http://evil.example")]),
        h(&[("origin", "http://127.0.0.1:9999")]),
        h(&[("origin", "null")]),
        h(&[("sec-fetch-site", "cross-site")]),
    ] {
        assert!(f(&bad, Some("127.0.0.1:8080")).is_some(), "{bad:?}");
    }
}

#[test]
fn client_addresses_and_buckets() {
    let trusted = ["10.0.0.1".parse().unwrap()];
    let h = |v: &str| {
        let mut m = HeaderMap::new();
        m.insert("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        m
    };
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    // an untrusted peer's header is ignored (anyone can write it)
    assert_eq!(client_address(ip("192.0.2.7"), &h("1.2.3.4"), &trusted), ip("192.0.2.7"));
    assert_eq!(client_address(ip("10.0.0.1"), &h("1.2.3.4, 5.6.7.8"), &trusted), ip("5.6.7.8"));
    assert_eq!(client_address(ip("10.0.0.1"), &h("1.2.3.4, 10.0.0.1"), &trusted), ip("1.2.3.4"));
    assert_eq!(client_address(ip("10.0.0.1"), &HeaderMap::new(), &trusted), ip("10.0.0.1"));
    assert_eq!(bucket_of(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
    assert_eq!(bucket_of(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
}

#[test]
fn buckets_limit_and_stay_bounded() {
    let b = Buckets::new(1.0, 4); // bursts of 2
    assert!(b.allow(&1) && b.allow(&1) && !b.allow(&1));
    assert!(b.allow(&2), "another key has its own bucket");
    for k in 3..100 {
        b.allow(&k);
        assert!(b.len() <= 4, "{}", b.len());
    }
    assert!(Buckets::new(0.0, 1).allow(&"x"), "0 = unlimited");
}

#[test]
fn json_content_types() {
    let v = |s: &str| HeaderValue::from_str(s).unwrap();
    assert!(is_json(Some(&v("application/json"))));
    assert!(is_json(Some(&v("Application/JSON; charset=utf-8"))));
    for bad in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "json"] {
        assert!(!is_json(Some(&v(bad))), "{bad}");
    }
    assert!(!is_json(None));
}
