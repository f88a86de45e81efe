//! The checks every request passes before a handler runs, in this order:
//!
//! 1. **Host** (421 `host_not_allowed`): the `Host` header names the address the connection
//!    came in on, a loopback name (`localhost`, `127.0.0.1`, `[::1]`), or an entry of
//!    `allowed_hosts`. A web page that points its own domain at this server (DNS rebinding)
//!    sends its domain as `Host` and is refused. A request without `Host` (HTTP/1.0, in-process
//!    calls) passes: browsers always send it.
//! 2. **Origin** (403 `foreign_origin`): writes (any method but GET, HEAD and OPTIONS) and
//!    admin calls from a browser must come from the service's own origin or one of
//!    `allowed_origins`; without an `Origin` header, `Sec-Fetch-Site: cross-site` or
//!    `same-site` is refused the same way. Clients that are not browsers send neither.
//! 3. **API key and rate limits** (401, 403, 429 `rate_limited`): with keys configured the
//!    request needs a key with the endpoint's scope; a valid key draws from its own bucket
//!    (`rate_limit`), every request without one (all requests of an open service,
//!    unauthenticated and failed-auth requests) from its client address's (`client_rate_limit`),
//!    so a client without a key that floods the service never slows a keyed one.
//! 4. **Content type** (415 `unsupported_media_type`): a request with a body must say
//!    `Content-Type: application/json`. HTML forms can only send form and text types, so no
//!    page can post to the service without the browser asking first (CORS preflight), and the
//!    service answers no preflight.

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::HttpBody;
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::serve::IncomingStream;
use rustc_hash::FxHashMap;

use crate::config::{ApiKey, Scope};
use crate::error::ApiError;
use crate::origin::{normalize_origin, split_host};
use crate::state::AppState;

/// The scope a request needs (`None`: open).
pub fn scope_for(method: &Method, path: &str) -> Option<Scope> {
    if path == "/health" || crate::web::is_public(path) {
        return None;
    }
    Some(if path.starts_with("/admin/") || (method == Method::DELETE && path.starts_with("/users/")) {
        Scope::Admin
    } else if path == "/events" || (path.starts_with("/items/") && (method == Method::PUT || method == Method::DELETE))
    {
        Scope::Write
    } else {
        Scope::Read
    })
}

/// Client addresses remembered by the per-address limit. A full table first forgets clients
/// whose bucket has refilled (they are as good as new), then the least recently seen half:
/// about 6 MiB at most.
pub const MAX_CLIENTS: usize = 65_536;

/// Both ends of a connection, for the Host check and the per-address limit. Serve the router
/// with `router.into_make_service_with_connect_info::<Peer>()`; without it (in-process calls)
/// the Host check knows only the configured bind address and no per-address limit applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// The client (or the last proxy).
    pub remote: SocketAddr,
    /// The address the connection came in on (the bound address; for a wildcard bind, the
    /// interface the client reached).
    pub local: Option<SocketAddr>,
}

impl Connected<IncomingStream<'_, tokio::net::TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        Peer { remote: *stream.remote_addr(), local: stream.io().local_addr().ok() }
    }
}

/// Token buckets (`rate` per second, bursts of `2 × rate`) per key, at most `cap` keys.
#[doc(hidden)]
pub struct Buckets<K> {
    rate: f64,
    cap: usize,
    map: Mutex<FxHashMap<K, (f64, Instant)>>,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    #[doc(hidden)]
    pub fn new(rate: f64, cap: usize) -> Self {
        Buckets { rate, cap, map: Mutex::new(FxHashMap::default()) }
    }

    /// Take one request from `k`'s bucket; false when it is empty.
    #[doc(hidden)]
    pub fn allow(&self, k: &K) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        let (rate, burst) = (self.rate, 2.0 * self.rate);
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.cap && !map.contains_key(k) {
            // a refilled bucket is the same as none
            map.retain(|_, (tokens, last)| *tokens + now.duration_since(*last).as_secs_f64() * rate < burst);
            if map.len() >= self.cap {
                let mut seen: Vec<Instant> = map.values().map(|&(_, last)| last).collect();
                let mid = seen.len() / 2;
                let (_, &mut median, _) = seen.select_nth_unstable(mid);
                map.retain(|_, (_, last)| *last > median);
            }
        }
        let (tokens, last) = map.entry(k.clone()).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    #[doc(hidden)]
    pub fn len(&self) -> usize {
        self.map.lock().unwrap().len()
    }
}

/// The state of the checks: the service state, the parsed allow-lists and the buckets.
pub struct Guard {
    state: Arc<AppState>,
    /// Per API key (its index in `config.api_keys`).
    keys: Buckets<usize>,
    /// Per client address (IPv6 per /64).
    clients: Buckets<IpAddr>,
}

impl Guard {
    /// The checks for `state`'s configuration.
    pub fn new(state: Arc<AppState>) -> Arc<Guard> {
        let c = &state.config;
        let keys = Buckets::new(c.rate_limit, c.api_keys.len().max(1));
        let clients = Buckets::new(c.client_rate_limit, MAX_CLIENTS);
        Arc::new(Guard { state, keys, clients })
    }
}

impl Guard {
    /// One request of API key `i`: counted across servers in Redis when the service is one
    /// of several, else (or while Redis does not answer) in this server's buckets.
    async fn allow_key(&self, i: usize) -> bool {
        let rate = self.state.config.rate_limit;
        if rate <= 0.0 {
            return true;
        }
        if let Some(c) = self.state.cluster() {
            // the key's position is not shared between configurations; its hash is
            let key = &self.state.config.api_keys[i].key;
            let tag = crate::config::pseudonym("daogou rate limit", key);
            if let Some(allowed) = c.allow(&format!("key:{tag}"), rate).await {
                return allowed;
            }
        }
        self.keys.allow(&i)
    }

    /// One request without a valid key from `client` (see [`Guard::allow_key`]).
    async fn allow_client(&self, client: IpAddr) -> bool {
        let rate = self.state.config.client_rate_limit;
        if rate <= 0.0 {
            return true;
        }
        if let Some(c) = self.state.cluster() {
            if let Some(allowed) = c.allow(&format!("ip:{client}"), rate).await {
                return allowed;
            }
        }
        self.clients.allow(&client)
    }
}

fn reject(status: StatusCode, code: &'static str, message: String) -> Response {
    ApiError::new(status, code, message).into_response()
}

fn rate_limited(what: String) -> Response {
    let mut r = reject(StatusCode::TOO_MANY_REQUESTS, "rate_limited", what);
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// The middleware (see the module documentation).
pub async fn check(State(g): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    let config = &g.state.config;
    let peer = req.extensions().get::<ConnectInfo<Peer>>().map(|c| c.0);
    let local = peer.and_then(|p| p.local).or_else(|| config.bind.parse().ok());
    let h = req.headers();

    // 1. Host
    let host = match h.get(header::HOST).map(HeaderValue::to_str) {
        Some(Ok(v)) => Some(v.to_owned()),
        Some(Err(_)) => return reject(StatusCode::BAD_REQUEST, "bad_request", "Host: not a valid header value".into()),
        None => req.uri().authority().map(|a| a.as_str().to_owned()),
    };
    if let Some(host) = &host {
        if !host_allowed(host, local, &config.allowed_hosts) {
            return reject(
                StatusCode::MISDIRECTED_REQUEST,
                "host_not_allowed",
                format!(
                    "Host `{host}` is not this service's address; add it to allowed_hosts (--allowed-hosts) if this \
                     name is meant to reach it"
                ),
            );
        }
    }

    // 2. Origin, for writes and admin calls
    let need = scope_for(req.method(), req.uri().path());
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe || need == Some(Scope::Admin) {
        if let Some(why) = foreign(h, host.as_deref(), local, &config.allowed_origins) {
            return reject(StatusCode::FORBIDDEN, "foreign_origin", why);
        }
    }

    // 3. API key and rate limits
    let key = if config.api_keys.is_empty() { None } else { presented_key(h, &config.api_keys) };
    match key {
        Some((i, k)) => {
            if let Some(need) = need {
                if !k.scopes.has(need) {
                    return reject(
                        StatusCode::FORBIDDEN,
                        "forbidden",
                        format!("this API key lacks the `{}` scope", need.as_str()),
                    );
                }
                if !g.allow_key(i).await {
                    return rate_limited(format!(
                        "more than {} requests per second for this API key",
                        config.rate_limit
                    ));
                }
            }
        }
        None => {
            if let Some(p) = peer {
                let client = client_address(p.remote.ip(), h, &config.trusted_proxies);
                if !g.allow_client(bucket_of(client)).await {
                    return rate_limited(format!(
                        "more than {} requests per second from this address without an API key",
                        config.client_rate_limit
                    ));
                }
            }
            if need.is_some() && !config.api_keys.is_empty() {
                let mut r = reject(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "a valid API key is required (Authorization: Bearer KEY or X-API-Key: KEY)".into(),
                );
                r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                return r;
            }
        }
    }

    // 4. Content type of a body
    let maybe_body = req.body().size_hint().upper() != Some(0);
    if maybe_body && !is_json(h.get(header::CONTENT_TYPE)) {
        return reject(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "request bodies must be JSON with `Content-Type: application/json`".into(),
        );
    }
    next.run(req).await
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The configured key presented by the request (`Authorization: Bearer KEY`, or `X-API-Key`
/// when there is no Authorization header: a bad Authorization is never overridden).
fn presented_key<'k>(h: &HeaderMap, keys: &'k [ApiKey]) -> Option<(usize, &'k ApiKey)> {
    let presented = match h.get(header::AUTHORIZATION) {
        Some(a) => a.to_str().ok().and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer "))),
        None => h.get("x-api-key").and_then(|v| v.to_str().ok()),
    }?
    .trim();
    // compare against every key, so the time taken does not say which prefix matched
    let mut found = None;
    for (i, k) in keys.iter().enumerate() {
        if ct_eq(k.key.as_bytes(), presented.as_bytes()) {
            found = Some((i, k));
        }
    }
    found
}

/// `application/json`, with or without parameters (`; charset=utf-8`).
#[doc(hidden)]
pub fn is_json(ct: Option<&HeaderValue>) -> bool {
    ct.and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The Host rule (module documentation, 1).
#[doc(hidden)]
pub fn host_allowed(host: &str, local: Option<SocketAddr>, allowed: &[String]) -> bool {
    let Some((name, port)) = split_host(host) else { return false };
    if name == "localhost" {
        return true;
    }
    if let Ok(ip) = name.parse::<IpAddr>() {
        let ip = canonical(ip);
        if ip.is_loopback() || local.is_some_and(|l| canonical(l.ip()) == ip) {
            return true;
        }
    }
    allowed.iter().any(|a| {
        a == "*"
            || match split_host(a) {
                Some((n, None)) => n == name,
                Some((n, Some(p))) => n == name && port == Some(p),
                None => false,
            }
    })
}

/// Why a browser request comes from a foreign origin (module documentation, 2), or `None`.
#[doc(hidden)]
pub fn foreign(h: &HeaderMap, host: Option<&str>, local: Option<SocketAddr>, allowed: &[String]) -> Option<String> {
    let Some(origin) = h.get(header::ORIGIN) else {
        let site = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()).unwrap_or("");
        return matches!(site, "cross-site" | "same-site")
            .then(|| format!("a {site} request from a web page may not write or call admin endpoints"));
    };
    let origin = origin.to_str().unwrap_or("null");
    let Some(normal) = normalize_origin(origin) else {
        return Some(format!("Origin `{origin}` may not write or call admin endpoints"));
    };
    if allowed.contains(&normal) {
        return None;
    }
    // own origin: the host and port the request was sent to. The scheme is not compared: a
    // TLS proxy in front turns https://shop.example into a plain request to this service.
    let (scheme, authority) = normal.split_once("://").expect("normalized");
    let own = host.map(str::to_owned).or_else(|| local.map(|l| l.to_string()));
    let same = own
        .as_deref()
        .and_then(|o| normalize_origin(&format!("{scheme}://{o}")))
        .is_some_and(|o| o.split_once("://").is_some_and(|(_, a)| a == authority));
    (!same).then(|| {
        format!(
            "Origin `{origin}` is not this service's origin; add it to allowed_origins (--allowed-origins) to let \
             its pages write or call admin endpoints"
        )
    })
}

/// The client's address: the peer, or for a peer in `trusted` the last address of
/// `X-Forwarded-For` that is not itself a trusted proxy.
#[doc(hidden)]
pub fn client_address(peer: IpAddr, h: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let peer = canonical(peer);
    let trusted_ip = |ip: &IpAddr| trusted.iter().any(|t| canonical(*t) == *ip);
    if !trusted_ip(&peer) {
        return peer;
    }
    let mut client = peer;
    for v in h.get_all("x-forwarded-for").iter().rev() {
        let Ok(v) = v.to_str() else { return client };
        for part in v.split(',').rev() {
            match part.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = canonical(ip);
                    if !trusted_ip(&client) {
                        return client;
                    }
                }
                Err(_) => return client,
            }
        }
    }
    client
}

/// The bucket of an address: itself for IPv4, its /64 for IPv6 (one host usually owns a
/// whole /64, so per-address buckets would let it take 2⁶⁴ of them).
#[doc(hidden)]
pub fn bucket_of(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}
