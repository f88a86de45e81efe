//! The web storefront (`/`) and dashboard (`/dashboard`): static pages built into the binary
//! (no CDN, no files at run time) that call the JSON API from the browser.
//!
//! The pages themselves hold no data, so they are served without a key; every call they make
//! goes through the API and its scopes. With API keys configured the pages ask for a key once
//! (kept in the browser's localStorage) and send it as `Authorization: Bearer KEY`.

use std::sync::Arc;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset { path: "/", content_type: "text/html; charset=utf-8", body: include_str!("../web/index.html") },
    Asset { path: "/dashboard", content_type: "text/html; charset=utf-8", body: include_str!("../web/dashboard.html") },
    Asset { path: "/assets/app.css", content_type: "text/css; charset=utf-8", body: include_str!("../web/app.css") },
    Asset {
        path: "/assets/common.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../web/common.js"),
    },
    Asset {
        path: "/assets/store.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../web/store.js"),
    },
    Asset {
        path: "/assets/dashboard.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../web/dashboard.js"),
    },
    Asset { path: "/favicon.ico", content_type: "image/svg+xml", body: include_str!("../web/favicon.svg") },
];

/// The pages only load their own scripts and styles and talk to this origin.
const CSP: &str =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// True for the paths of the static pages (served without an API key).
pub fn is_public(path: &str) -> bool {
    ASSETS.iter().any(|a| a.path == path)
}

fn serve(a: &'static Asset) -> Response {
    let mut r = a.body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(a.content_type));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // small files that change with the binary: revalidate rather than serve a stale page
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// The routes of the pages and their assets.
pub fn routes() -> Router<Arc<AppState>> {
    let mut r = Router::new();
    for a in ASSETS {
        r = r.route(a.path, get(move || async move { serve(a) }));
    }
    r
}
