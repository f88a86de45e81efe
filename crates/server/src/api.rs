//! The HTTP API: routes, extractors that turn every bad input into a JSON 4xx, the metrics
//! middleware, and the handlers (the checks before them: [`crate::guard`]).

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Query, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use daogou_core::{Event, EventKind, Item, Params};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::config::Scope;
use crate::engine::{AppState, Blend, Filter, History, ModelSpec, DELETED_ATTR};
use crate::error::ApiError;

type S = State<Arc<AppState>>;
type ApiResult = Result<Response, ApiError>;

/// The service's router over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.body_limit;
    let timeout = state.config.timeout;
    Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
        .route("/items/{id}", put(put_item).get(get_item).delete(delete_item))
        .route("/items/{id}/similar", get(similar))
        .route("/events", post(post_events))
        .route("/users/{id}/recommendations", get(user_recommendations))
        .route("/users/{id}/buy-again", get(buy_again))
        .route("/users/{id}", axum::routing::delete(delete_user))
        .route("/sessions/recommendations", post(session_recommendations))
        .route("/popular", get(popular))
        .route("/trending", get(trending))
        .route("/new", get(new_arrivals))
        .route("/items/{id}/bought-together", get(bought_together))
        .route("/admin/retrain", post(retrain))
        .route("/admin/model", post(load_model))
        .merge(crate::web::routes())
        .merge(crate::dashboard::routes())
        .merge(crate::assistant::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(crate::guard::Guard::new(state.clone()), crate::guard::check))
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, timeout))
        .layer(middleware::map_response(timeout_as_json))
        .with_state(state)
}

// ---------------------------------------------------------------- middleware

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

async fn track(State(s): S, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = match *req.method() {
        Method::GET | Method::POST | Method::PUT | Method::DELETE | Method::HEAD | Method::PATCH | Method::OPTIONS => {
            req.method().as_str().to_owned()
        }
        _ => "OTHER".to_owned(), // bounded label values
    };
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |m| m.as_str()).to_owned();
    let resp = next.run(req).await;
    s.metrics.observe(&method, &route, resp.status().as_u16(), start.elapsed());
    resp
}

/// The timeout layer answers an empty 503; say it in JSON like every other error.
async fn timeout_as_json(resp: Response) -> Response {
    if resp.status() == StatusCode::SERVICE_UNAVAILABLE && !resp.headers().contains_key(header::CONTENT_TYPE) {
        return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "timeout", "the request took longer than the timeout")
            .into_response();
    }
    resp
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; see /openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed on this endpoint")
}

// ---------------------------------------------------------------- input

pub(crate) fn body(b: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    b.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "request body is larger than the limit")
        } else {
            ApiError::bad_request(format!("body: {}", r.body_text()))
        }
    })
}

pub(crate) fn json_value(b: &[u8]) -> Result<Value, ApiError> {
    if b.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("body: a JSON body is required"));
    }
    serde_json::from_slice(b).map_err(|e| ApiError::bad_request(format!("body: invalid JSON: {e}")))
}

/// Deserialize `v` naming the path of the failing field under `what`.
pub(crate) fn typed<T: DeserializeOwned>(v: Value, what: &str) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." { what.to_owned() } else { format!("{what}.{path}") };
        ApiError::bad_request(format!("{at}: {}", e.inner()))
    })
}

pub(crate) fn path_id(p: Result<Path<String>, PathRejection>, what: &str) -> Result<String, ApiError> {
    let Path(id) = p.map_err(|r| ApiError::bad_request(format!("{what}: {}", r.body_text())))?;
    check_id(&id, what)?;
    Ok(id)
}

pub(crate) fn check_id(id: &str, what: &str) -> Result<(), ApiError> {
    if id.trim().is_empty() {
        return Err(ApiError::bad_request(format!("{what}: must not be empty")));
    }
    if id.len() > 256 {
        return Err(ApiError::bad_request(format!("{what}: longer than 256 bytes")));
    }
    if id.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!("{what}: control characters are not allowed")));
    }
    Ok(())
}

/// Query parameters of the recommendation endpoints.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecQuery {
    n: Option<usize>,
    category: Option<String>,
    brand: Option<String>,
    min_price: Option<f64>,
    max_price: Option<f64>,
    in_stock: Option<bool>,
    exclude: Option<String>,
    allow_repeat: Option<bool>,
    popularity_weight: Option<f32>,
    novelty_weight: Option<f32>,
    max_per_category: Option<usize>,
    explore: Option<f32>,
    hours: Option<u32>,
}

struct RecParams {
    n: usize,
    filter: Filter,
    allow_repeat: bool,
    blend: Blend,
    hours: u32,
}

fn rec_params(s: &AppState, q: Result<Query<RecQuery>, QueryRejection>) -> Result<RecParams, ApiError> {
    let Query(q) = q.map_err(|r| ApiError::bad_request(format!("query: {}", r.body_text())))?;
    let n = q.n.unwrap_or(10);
    if n == 0 || n > s.config.max_n {
        return Err(ApiError::bad_request(format!("n: must be between 1 and {}", s.config.max_n)));
    }
    for (name, v) in [("min_price", q.min_price), ("max_price", q.max_price)] {
        if v.is_some_and(|p| !p.is_finite() || p < 0.0) {
            return Err(ApiError::bad_request(format!("{name}: must be a finite number ≥ 0")));
        }
    }
    if let (Some(lo), Some(hi)) = (q.min_price, q.max_price) {
        if lo > hi {
            return Err(ApiError::bad_request("min_price: must not exceed max_price"));
        }
    }
    let exclude: rustc_hash::FxHashSet<String> = q
        .exclude
        .iter()
        .flat_map(|e| e.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect();
    if exclude.len() > 1000 {
        return Err(ApiError::bad_request("exclude: at most 1000 ids"));
    }
    for (name, v, hi) in [
        ("popularity_weight", q.popularity_weight, 100.0),
        ("novelty_weight", q.novelty_weight, 100.0),
        ("explore", q.explore, 1.0),
    ] {
        if v.is_some_and(|x| !(0.0..=hi).contains(&x)) {
            return Err(ApiError::bad_request(format!("{name}: must be between 0 and {hi}")));
        }
    }
    if q.max_per_category.is_some_and(|m| !(1..=10_000).contains(&m)) {
        return Err(ApiError::bad_request("max_per_category: must be between 1 and 10000"));
    }
    let hours = q.hours.unwrap_or(24);
    if !(1..=168).contains(&hours) {
        return Err(ApiError::bad_request("hours: must be between 1 and 168"));
    }
    let nonempty = |v: Option<String>| v.filter(|x| !x.is_empty());
    Ok(RecParams {
        n,
        filter: Filter {
            category: nonempty(q.category),
            brand: nonempty(q.brand),
            min_price: q.min_price,
            max_price: q.max_price,
            in_stock: q.in_stock.unwrap_or(true),
            exclude,
        },
        allow_repeat: q.allow_repeat.unwrap_or(false),
        blend: Blend {
            popularity: q.popularity_weight.unwrap_or(0.0),
            novelty: q.novelty_weight.unwrap_or(0.0),
            max_per_category: q.max_per_category,
            explore: q.explore.unwrap_or(0.0),
        },
        hours,
    })
}

pub(crate) fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    Ok(tokio::task::spawn_blocking(f).await?)
}

// ---------------------------------------------------------------- handlers

async fn health(State(s): S) -> Json<Value> {
    let snap = s.snapshot();
    let last = s.last_retrain.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Json(json!({
        "status": "ok",
        "model": snap.model_name(),
        "model_version": snap.version,
        "users": snap.users.len(),
        "items": snap.items.len(),
        "last_retrain": last,
    }))
}

async fn openapi() -> Json<Value> {
    Json(crate::openapi::document())
}

async fn metrics(State(s): S) -> Response {
    let n = s.snapshot().items.len();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], s.metrics.render(n)).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemIn {
    id: Option<String>,
    title: Option<String>,
    category: Option<String>,
    brand: Option<String>,
    price: Option<f64>,
    available: Option<bool>,
    stock: Option<i64>,
    attributes: Option<BTreeMap<String, String>>,
    created_at: Option<i64>,
}

async fn put_item(State(s): S, p: Result<Path<String>, PathRejection>, b: Result<Bytes, BytesRejection>) -> ApiResult {
    let id = path_id(p, "id")?;
    let v: ItemIn = typed(json_value(&body(b)?)?, "item")?;
    if v.id.as_ref().is_some_and(|b| *b != id) {
        return Err(ApiError::bad_request("item.id: differs from the id in the path"));
    }
    if v.price.is_some_and(|p| !p.is_finite() || p < 0.0) {
        return Err(ApiError::bad_request("item.price: must be a finite number ≥ 0"));
    }
    let attributes = v.attributes.unwrap_or_default();
    if attributes.contains_key(DELETED_ATTR) {
        return Err(ApiError::bad_request(format!("item.attributes: `{DELETED_ATTR}` is reserved")));
    }
    let item = Item {
        id: id.clone(),
        title: v.title.unwrap_or_default(),
        category: v.category.filter(|c| !c.is_empty()),
        brand: v.brand.filter(|c| !c.is_empty()),
        price: v.price,
        attributes,
        created_at: v.created_at,
        available: v.available.unwrap_or(true),
        stock: v.stock,
    };
    let s2 = s.clone();
    let created = blocking(move || s2.upsert_item(item)).await??;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(json!({"id": id, "created": created}))).into_response())
}

async fn get_item(State(s): S, p: Result<Path<String>, PathRejection>) -> ApiResult {
    let id = path_id(p, "id")?;
    match s.live_item(&id) {
        Some(it) => Ok(Json(it).into_response()),
        None => Err(ApiError::not_found(format!("item `{id}` is not in the catalogue"))),
    }
}

async fn delete_item(State(s): S, p: Result<Path<String>, PathRejection>) -> ApiResult {
    let id = path_id(p, "id")?;
    let Some(mut it) = s.live_item(&id) else {
        return Err(ApiError::not_found(format!("item `{id}` is not in the catalogue")));
    };
    it.available = false;
    it.attributes.insert(DELETED_ATTR.to_owned(), "true".to_owned());
    let s2 = s.clone();
    blocking(move || s2.upsert_item(it)).await??;
    Ok(Json(json!({"id": id, "deleted": true})).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventIn {
    user: String,
    item: Option<String>,
    kind: String,
    value: Option<f64>,
    timestamp: Option<i64>,
    query: Option<String>,
}

fn event(v: Value, at: &str, now: i64) -> Result<Event, ApiError> {
    let e: EventIn = typed(v, at)?;
    let bad = |field: &str, msg: &str| ApiError::bad_request(format!("{at}.{field}: {msg}"));
    check_id(&e.user, &format!("{at}.user"))?;
    let kind = EventKind::from_str(&e.kind).map_err(|_| {
        bad(
            "kind",
            &format!("unknown event kind `{}` (view, click, search, add_to_cart, purchase, return, rating)", e.kind),
        )
    })?;
    let item = e.item.unwrap_or_default();
    if kind == EventKind::Search {
        if e.query.as_deref().is_none_or(|q| q.trim().is_empty()) {
            return Err(bad("query", "required for a search"));
        }
        if !item.is_empty() {
            check_id(&item, &format!("{at}.item"))?;
        }
    } else {
        check_id(&item, &format!("{at}.item"))?;
    }
    if kind == EventKind::Rating && e.value.is_none() {
        return Err(bad("value", "required for a rating"));
    }
    let value = e.value.unwrap_or(1.0);
    if !value.is_finite() || value.abs() > 1e9 {
        return Err(bad("value", "must be a finite number"));
    }
    if e.query.as_ref().is_some_and(|q| q.len() > 1000) {
        return Err(bad("query", "longer than 1000 bytes"));
    }
    Ok(Event { user: e.user, item, kind, value: value as f32, timestamp: e.timestamp.unwrap_or(now), query: e.query })
}

async fn post_events(State(s): S, b: Result<Bytes, BytesRejection>) -> ApiResult {
    let v = json_value(&body(b)?)?;
    let now = now();
    let events = match v {
        Value::Array(list) => {
            if list.len() > s.config.max_batch {
                return Err(ApiError::bad_request(format!(
                    "events: a batch holds at most {} events, got {}",
                    s.config.max_batch,
                    list.len()
                )));
            }
            list.into_iter()
                .enumerate()
                .map(|(n, v)| event(v, &format!("events[{n}]"), now))
                .collect::<Result<Vec<_>, _>>()?
        }
        v @ Value::Object(_) => vec![event(v, "event", now)?],
        _ => return Err(ApiError::bad_request("body: expected an event object or an array of events")),
    };
    let mut events = events;
    if s.config.pseudonymize_key.is_some() {
        for e in &mut events {
            e.user = s.user_id(&e.user);
        }
    }
    let s2 = s.clone();
    let n = events.len();
    let (inserted, duplicates) = blocking(move || s2.ingest(&events)).await??;
    Ok(Json(json!({"accepted": n, "inserted": inserted, "duplicates": duplicates})).into_response())
}

fn picks_json(s: &AppState, picks: &[crate::engine::Pick]) -> Value {
    s.note_served(picks);
    serde_json::to_value(picks).unwrap_or(Value::Null)
}

/// The answer of "for you" (serialised without an intermediate `Value`).
#[derive(serde::Serialize)]
struct ForYou<'a> {
    user: &'a str,
    model: &'a str,
    model_version: u64,
    known_user: bool,
    realtime: bool,
    items: &'a [crate::engine::Pick],
}

/// Histories up to this long are scored on the async worker …
const INLINE_HISTORY: usize = 300;
/// … when the model has at most this many items.
const INLINE_ITEMS: usize = 200_000;

async fn user_recommendations(
    State(s): S,
    p: Result<Path<String>, PathRejection>,
    q: Result<Query<RecQuery>, QueryRejection>,
) -> ApiResult {
    let user = path_id(p, "user")?;
    let rp = rec_params(&s, q)?;
    let snap = s.snapshot();
    let h = s.history(&snap, &s.user_id(&user));
    // a short history over a catalogue of this size scores in well under a millisecond: answer
    // on the async worker (no hand-off to the blocking pool); long ones go off it
    let inline = h.items.len() <= INLINE_HISTORY && snap.items.len() <= INLINE_ITEMS;
    let s2 = s.clone();
    let work = move || {
        let picks = s2.recommend(&snap, &h, &rp.filter, rp.n, rp.allow_repeat, &rp.blend);
        s2.note_served(&picks);
        serde_json::to_vec(&ForYou {
            user: &user,
            model: snap.model_name(),
            model_version: snap.version,
            known_user: h.user.is_some(),
            realtime: h.fresh,
            items: &picks,
        })
    };
    let out = if inline { work() } else { blocking(work).await? };
    let body = out.map_err(|e| ApiError::internal(format!("serialising the answer: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionIn {
    items: Vec<String>,
}

async fn session_recommendations(
    State(s): S,
    q: Result<Query<RecQuery>, QueryRejection>,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let rp = rec_params(&s, q)?;
    let sess: SessionIn = typed(json_value(&body(b)?)?, "session")?;
    if sess.items.len() > 1000 {
        return Err(ApiError::bad_request("session.items: at most 1000 items"));
    }
    let s2 = s.clone();
    let out = blocking(move || {
        let snap = s2.snapshot();
        let mut values: BTreeMap<u32, f32> = BTreeMap::new();
        let mut unknown = 0usize;
        for id in &sess.items {
            match snap.items.get(id) {
                Some(i) => *values.entry(i).or_insert(0.0) += snap.spec.weights.view.max(f32::MIN_POSITIVE),
                None => unknown += 1,
            }
        }
        let kinds = values.keys().map(|&i| (i, EventKind::View)).collect(); // sorted: BTreeMap keys
        let h = History { user: None, items: values.into_iter().collect(), kinds, fresh: true };
        let picks = s2.recommend(&snap, &h, &rp.filter, rp.n, rp.allow_repeat, &rp.blend);
        json!({
            "model": snap.model_name(),
            "model_version": snap.version,
            "unknown_items": unknown,
            "items": picks_json(&s2, &picks),
        })
    })
    .await?;
    Ok(Json(out).into_response())
}

/// 404 for an item deleted from the catalogue (the model may still hold it until the next refit).
fn not_deleted(s: &AppState, id: &str) -> Result<(), ApiError> {
    if s.is_deleted(id) {
        return Err(ApiError::not_found(format!("item `{id}` was deleted")));
    }
    Ok(())
}

async fn similar(
    State(s): S,
    p: Result<Path<String>, PathRejection>,
    q: Result<Query<RecQuery>, QueryRejection>,
) -> ApiResult {
    let id = path_id(p, "id")?;
    let rp = rec_params(&s, q)?;
    let s2 = s.clone();
    blocking(move || {
        let snap = s2.snapshot();
        not_deleted(&s2, &id)?;
        let known = snap.items.get(&id);
        let picks = match known.map(|item| s2.similar(&snap, item, &rp.filter, rp.n)) {
            Some(Some(p)) if !p.is_empty() => p,
            Some(None) => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "unsupported",
                    format!("model {} has no notion of item similarity (use item-knn)", snap.model_name()),
                ))
            }
            // a cold item (new to the model, or without neighbours): popular in its category
            _ => {
                let it = s2
                    .live_item(&id)
                    .ok_or_else(|| ApiError::not_found(format!("item `{id}` is not in the catalogue")))?;
                s2.cold_similar(&snap, &it, &rp.filter, rp.n)
            }
        };
        Ok(Json(json!({
            "item": id,
            "model": snap.model_name(),
            "model_version": snap.version,
            "items": picks_json(&s2, &picks),
        }))
        .into_response())
    })
    .await?
}

async fn popular(State(s): S, q: Result<Query<RecQuery>, QueryRejection>) -> ApiResult {
    let rp = rec_params(&s, q)?;
    let s2 = s.clone();
    let out = blocking(move || {
        let snap = s2.snapshot();
        let picks = s2.popular(&snap, &rp.filter, rp.n);
        json!({"model_version": snap.version, "items": picks_json(&s2, &picks)})
    })
    .await?;
    Ok(Json(out).into_response())
}

async fn buy_again(
    State(s): S,
    p: Result<Path<String>, PathRejection>,
    q: Result<Query<RecQuery>, QueryRejection>,
) -> ApiResult {
    let user = path_id(p, "user")?;
    let rp = rec_params(&s, q)?;
    let s2 = s.clone();
    let out = blocking(move || {
        let snap = s2.snapshot();
        let picks = s2.buy_again(&snap, &s2.user_id(&user), &rp.filter, rp.n);
        json!({"user": user, "model_version": snap.version, "items": picks_json(&s2, &picks)})
    })
    .await?;
    Ok(Json(out).into_response())
}

async fn delete_user(State(s): S, p: Result<Path<String>, PathRejection>) -> ApiResult {
    let user = path_id(p, "user")?;
    let _fit = s.fit_lock.lock().await;
    let stored = s.user_id(&user);
    let known = s.snapshot().users.get(&stored).is_some();
    let (s2, u2) = (s.clone(), stored);
    let removed = blocking(move || s2.delete_user_data(&u2)).await??;
    let mut refit = Value::Null;
    if removed > 0 || known {
        let s2 = s.clone();
        match blocking(move || s2.refit(None)).await? {
            Ok(_) => s.clear_tombstones(),
            // the tombstone keeps the user's own answers empty until a refit succeeds
            Err(e) => refit = json!(e),
        }
    }
    Ok(Json(json!({
        "user": user,
        "events_deleted": removed,
        "model_version": s.snapshot().version,
        "refit_error": refit,
    }))
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetrainIn {
    model: Option<String>,
    params: Option<BTreeMap<String, Value>>,
    weights: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetrainQuery {
    wait: Option<bool>,
}

async fn retrain(
    State(s): S,
    q: Result<Query<RetrainQuery>, QueryRejection>,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let Query(q) = q.map_err(|r| ApiError::bad_request(format!("query: {}", r.body_text())))?;
    let b = body(b)?;
    let r: RetrainIn =
        if b.iter().all(u8::is_ascii_whitespace) { RetrainIn::default() } else { typed(json_value(&b)?, "retrain")? };
    let cur = s.snapshot().spec.clone();
    let spec = if r.model.is_some() || r.params.is_some() || r.weights.is_some() {
        let name = r.model.unwrap_or(cur.name.clone());
        if !daogou_algo::model_names().contains(&name.as_str()) {
            return Err(ApiError::bad_request(format!(
                "retrain.model: unknown model `{name}`; available: {}",
                daogou_algo::model_names().join(", ")
            )));
        }
        let mut params = Params::new();
        for (k, v) in r.params.unwrap_or_default() {
            params.set(&k, v.as_str().map_or_else(|| v.to_string(), str::to_owned));
        }
        let weights = match r.weights {
            Some(w) => daogou_data::EventWeights::parse(&w)
                .map_err(|e| ApiError::bad_request(format!("retrain.weights: {e}")))?,
            None => cur.weights,
        };
        Some(ModelSpec { name, params, weights })
    } else {
        None
    };
    // one refit at a time: while one runs (a retrain, a deletion's refit) another request is
    // answered 409 instead of queueing fits without bound
    if s.fit_lock.try_lock().is_err() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "busy",
            "a refit is already running; see /health last_retrain",
        ));
    }
    let job = tokio::spawn(run_retrain(s.clone(), spec));
    if q.wait.unwrap_or(false) {
        // answer before the request timeout: a longer fit goes on and swaps in when done
        match tokio::time::timeout(s.config.timeout.mul_f64(0.9), job).await {
            Ok(Ok((true, outcome))) => Ok(Json(outcome).into_response()),
            Ok(Ok((false, outcome))) => {
                let msg = outcome["error"].as_str().unwrap_or("fitting failed").to_owned();
                Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "fit_failed",
                    format!("{msg}; still serving model version {}", s.snapshot().version),
                ))
            }
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Ok((
                StatusCode::ACCEPTED,
                Json(json!({"status": "running", "model_version": s.snapshot().version,
                    "message": "still fitting at the request timeout; the new model swaps in when done (see /health last_retrain)"})),
            )
                .into_response()),
        }
    } else {
        Ok((StatusCode::ACCEPTED, Json(json!({"status": "started", "model_version": s.snapshot().version})))
            .into_response())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoadIn {
    path: String,
}

async fn load_model(State(s): S, b: Result<Bytes, BytesRejection>) -> ApiResult {
    let r: LoadIn = typed(json_value(&body(b)?)?, "model")?;
    let path = std::path::PathBuf::from(&r.path);
    if !path.is_file() {
        return Err(ApiError::bad_request(format!("model.path: {} is not a file on the server", r.path)));
    }
    let _fit = s.fit_lock.lock().await;
    let s2 = s.clone();
    match blocking(move || s2.load_model_file(&path)).await? {
        Ok(snap) => {
            Ok(Json(json!({"status": "ok", "model": snap.model_name(), "model_version": snap.version})).into_response())
        }
        Err(e) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "model_refused",
            format!("{e}; still serving model version {}", s.snapshot().version),
        )),
    }
}

async fn trending(State(s): S, q: Result<Query<RecQuery>, QueryRejection>) -> ApiResult {
    let rp = rec_params(&s, q)?;
    let s2 = s.clone();
    let out = blocking(move || {
        let snap = s2.snapshot();
        let picks = s2.trending(&snap, &rp.filter, rp.n, rp.hours);
        json!({"model_version": snap.version, "hours": rp.hours, "items": picks_json(&s2, &picks)})
    })
    .await?;
    Ok(Json(out).into_response())
}

async fn new_arrivals(State(s): S, q: Result<Query<RecQuery>, QueryRejection>) -> ApiResult {
    let rp = rec_params(&s, q)?;
    let s2 = s.clone();
    let out = blocking(move || {
        let picks = s2.new_arrivals(&rp.filter, rp.n);
        json!({"items": picks_json(&s2, &picks)})
    })
    .await?;
    Ok(Json(out).into_response())
}

async fn bought_together(
    State(s): S,
    p: Result<Path<String>, PathRejection>,
    q: Result<Query<RecQuery>, QueryRejection>,
) -> ApiResult {
    let id = path_id(p, "id")?;
    let rp = rec_params(&s, q)?;
    let s2 = s.clone();
    blocking(move || {
        let snap = s2.snapshot();
        not_deleted(&s2, &id)?;
        let item =
            snap.items.get(&id).ok_or_else(|| ApiError::not_found(format!("item `{id}` is unknown to the model")))?;
        let picks = s2.bought_together(&snap, item, &rp.filter, rp.n);
        Ok(Json(json!({"item": id, "model_version": snap.version, "items": picks_json(&s2, &picks)})).into_response())
    })
    .await?
}

/// Refit (under the fit lock, off the async threads), swap, and record the outcome for
/// `/health`; (succeeded, outcome).
async fn run_retrain(s: Arc<AppState>, spec: Option<ModelSpec>) -> (bool, Value) {
    let _fit = s.fit_lock.lock().await;
    let s3 = s.clone();
    let started = now();
    let res = match tokio::task::spawn_blocking(move || s3.refit(spec)).await {
        Ok(r) => r.map(|snap| (snap.version, snap.model_name().to_owned())),
        Err(e) => Err(format!("fitting failed: {e}")),
    };
    let outcome = match &res {
        Ok((v, m)) => json!({"status": "ok", "model": m, "model_version": v, "started": started, "finished": now()}),
        Err(e) => json!({"status": "failed", "error": e, "started": started, "finished": now()}),
    };
    *s.last_retrain.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome.clone());
    (res.is_ok(), outcome)
}

/// Start the background jobs of the service: index the catalogue for search and the assistant,
/// and a retrain every `retrain_secs` when configured.
/// Call once, inside the runtime, after building the state.
pub fn start_background(state: Arc<AppState>) {
    let s = state.clone();
    tokio::task::spawn_blocking(move || s.extras.guide.warm(&s));
    let secs = state.config.retrain_secs;
    if secs == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await; // the first tick is immediate: the model was just fitted
        loop {
            tick.tick().await;
            run_retrain(state.clone(), None).await;
        }
    });
}
