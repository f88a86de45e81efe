//! The OpenAPI document covers every operation the router serves (read from the route
//! declarations in the source, so a new route without documentation fails here), every
//! documented operation is served, and its links point at operations that exist.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::Value;

use crate::support::*;

/// (method, path) of every `.route("PATH", get(…).post(…))` in the server's sources; routes
/// whose path is not a literal (the static assets, from a table) are left out.
fn declared_routes() -> BTreeSet<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap();
        let mut rest = src.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            // the arguments, up to the matching parenthesis
            let (mut depth, mut end) = (1, 0);
            for (i, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            let args = &rest[..end];
            let Some(lit) = args.trim_start().strip_prefix('"') else { continue };
            let route = &lit[..lit.find('"').unwrap()];
            for m in ["get", "post", "put", "delete", "patch"] {
                let called = args.match_indices(&format!("{m}(")).any(|(i, _)| {
                    !args[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') || args[..i].ends_with("routing::")
                });
                if called {
                    out.insert((m.to_owned(), route.to_owned()));
                }
            }
        }
    }
    out
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in ["get", "post", "put", "delete", "patch"] {
            if item[m].is_object() {
                out.insert((m.to_owned(), path.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn every_operation_is_documented_and_every_documented_one_is_served() {
    let app = app(false);
    let doc = get(&app, "/openapi.json").await;
    let (routes, docs) = (declared_routes(), documented(&doc));
    assert!(routes.len() >= 26, "the source scan found only {} routes: {routes:?}", routes.len());
    let missing: Vec<_> = routes.difference(&docs).collect();
    assert!(missing.is_empty(), "served but not in /openapi.json: {missing:?}");
    // documented beyond the scan: the two HTML pages (routed from the asset table)
    let extra: Vec<_> = docs.difference(&routes).collect();
    assert_eq!(extra.len(), 2, "{extra:?}");
    eprintln!("{} operations, all documented", docs.len());

    // served: no documented operation falls through to the 404/405 fallbacks
    for (m, path) in &docs {
        let uri = path.replace("{id}", "s1");
        let body = (m == "post" || m == "put").then_some("{}");
        let (st, v) = call(&app, &m.to_uppercase(), &uri, None, body).await;
        assert!(
            st != StatusCode::METHOD_NOT_ALLOWED && v["message"] != "no such endpoint; see /openapi.json",
            "{m} {uri}: {st} {v}"
        );
    }

    // operation ids are unique and every link names one
    let mut ids = BTreeSet::new();
    let mut links = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values().filter(|o| o.is_object()) {
            if let Some(id) = op["operationId"].as_str() {
                assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            }
            for r in op["responses"].as_object().into_iter().flat_map(|r| r.values()) {
                for l in r["links"].as_object().into_iter().flat_map(|l| l.values()) {
                    links.push(l["operationId"].as_str().unwrap().to_owned());
                }
            }
        }
    }
    assert_eq!(ids.len(), docs.len(), "every operation has an operationId");
    assert!(links.len() >= 10, "{links:?}");
    for l in links {
        assert!(ids.contains(&l), "a link names operation {l}, which does not exist");
    }
    // the defences' answers are documented
    assert!(doc["paths"]["/events"]["post"]["responses"]["415"].is_object());
    assert!(doc["paths"]["/popular"]["get"]["responses"]["421"].is_object());
    assert!(doc["paths"]["/users/{id}"]["delete"]["responses"]["429"].is_object());
}

/// The document states the limits the service was configured with, and the body limit it
/// states is the one the router enforces: a body of exactly that size is read, one byte more is
/// answered 413.
#[tokio::test]
async fn the_document_states_the_configured_limits() {
    let mut c = config(false);
    for (key, value) in [("body_limit", "5000"), ("max_batch", "7"), ("max_n", "33")] {
        c.set(key, value).unwrap();
    }
    let app = app_on(store(&[]), c).0;
    let doc = get(&app, "/openapi.json").await;
    assert_eq!(doc["x-limits"], serde_json::json!({"body_limit": 5000, "max_batch": 7, "max_n": 33}));
    let mut bodies = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(body) = op.get("requestBody") else { continue };
            bodies += 1;
            let about = body["description"].as_str().unwrap_or_default();
            assert!(about.contains("at most 5000 bytes"), "{method} {path}: requestBody says {about:?}");
            let too_large = op["responses"]["413"]["description"].as_str().unwrap_or_default();
            assert!(too_large.contains("5000 bytes"), "{method} {path}: 413 says {too_large:?}");
        }
    }
    assert!(bodies >= 7, "only {bodies} operations with a request body");

    // one event padded with spaces (still JSON) to exactly the limit, then one byte over
    let event = r#"{"user":"u","item":"s1","kind":"view"}"#;
    let exact = format!("{event}{}", " ".repeat(5000 - event.len()));
    let (st, v) = call(&app, "POST", "/events", None, Some(&exact)).await;
    assert!(st.is_success(), "{st} {v}");
    let (st, v) = call(&app, "POST", "/events", None, Some(&format!("{exact} "))).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
}
