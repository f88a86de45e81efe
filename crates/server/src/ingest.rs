//! What comes in: catalogue items (`PUT`/`GET`/`DELETE /items/{id}`) and behaviour events
//! (`POST /events`), validated field by field and applied through the engine (store first,
//! then the live state), with the guide kept in step.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::{Json, Router};
use daogou_core::{Event, EventKind, Item};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::config::Limits;
use crate::error::ApiError;
use crate::http::{blocking, body, check_id, json_value, path_id, typed};
use crate::state::{now, AppState};

type S = State<Arc<AppState>>;
type ApiResult = Result<Response, ApiError>;

/// The routes of this module (items: read and write; events: write).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/items/{id}", put(put_item).get(get_item).delete(delete_item))
        .route("/events", post(post_events))
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
    let item = Item {
        id: id.clone(),
        title: v.title.unwrap_or_default(),
        category: v.category.filter(|c| !c.is_empty()),
        brand: v.brand.filter(|c| !c.is_empty()),
        price: v.price,
        attributes: v.attributes.unwrap_or_default(),
        created_at: v.created_at,
        available: v.available.unwrap_or(true),
        stock: v.stock,
        deleted: false,
    };
    let s2 = s.clone();
    let created = blocking(move || -> Result<bool, ApiError> {
        let (index, created) = s2.engine.upsert_item(item)?;
        s2.guide.changed(&s2.engine, &[index]);
        Ok(created)
    })
    .await??;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(json!({"id": id, "created": created}))).into_response())
}

async fn get_item(State(s): S, p: Result<Path<String>, PathRejection>) -> ApiResult {
    let id = path_id(p, "id")?;
    match s.engine.item(&id) {
        Some(it) => Ok(Json(it).into_response()),
        None => Err(ApiError::not_found(format!("item `{id}` is not in the catalogue"))),
    }
}

async fn delete_item(State(s): S, p: Result<Path<String>, PathRejection>) -> ApiResult {
    let id = path_id(p, "id")?;
    let s2 = s.clone();
    let id2 = id.clone();
    blocking(move || -> Result<(), ApiError> {
        let (index, _) = s2.engine.delete_item(&id2)?;
        s2.guide.changed(&s2.engine, &[index]);
        Ok(())
    })
    .await??;
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
    /// The list it came from (`recommendation_id` of an answer in an experiment).
    recommendation_id: Option<String>,
}

/// An event and the `recommendation_id` it carried.
fn event(v: Value, at: &str, now: i64) -> Result<(Event, Option<String>), ApiError> {
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
    if !value.is_finite() || value.abs() > Limits::MAX_VALUE {
        return Err(bad("value", "must be a finite number"));
    }
    if e.query.as_ref().is_some_and(|q| q.len() > Limits::MAX_TEXT_BYTES) {
        return Err(bad("query", &format!("longer than {} bytes", Limits::MAX_TEXT_BYTES)));
    }
    if let Some(r) = &e.recommendation_id {
        if daogou_engine::experiment::parse_recommendation_id(r).is_none() {
            return Err(bad("recommendation_id", "not a recommendation id (`r` and digits, from an answer)"));
        }
    }
    let ev =
        Event { user: e.user, item, kind, value: value as f32, timestamp: e.timestamp.unwrap_or(now), query: e.query };
    Ok((ev, e.recommendation_id))
}

/// The most events a request may commit on the async worker itself (see `post_events`): at
/// the store's import rate (about 60,000 rows/s) this many take about half a millisecond.
const INLINE_COMMIT_EVENTS: usize = 32;

async fn post_events(State(s): S, b: Result<Bytes, BytesRejection>) -> ApiResult {
    let v = json_value(&body(b)?)?;
    let now = now();
    let tagged: Vec<(Event, Option<String>)> = match v {
        Value::Array(list) => {
            let max = s.config.limits.max_batch;
            if list.len() > max {
                return Err(ApiError::bad_request(format!(
                    "events: a batch holds at most {max} events, got {}",
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
    let (mut events, rec_ids): (Vec<Event>, Vec<Option<String>>) = tagged.into_iter().unzip();
    if s.config.pseudonymize_key.is_some() {
        for e in &mut events {
            e.user = s.user_id(&e.user);
        }
    }
    let n = events.len();
    let shared = s.cluster().filter(|c| c.has_redis()).map(|_| events.clone());
    // most writes commit at once, here on the async worker (Engine::try_ingest: only when the
    // commit waits for nothing, and only small ones: a batch of thousands takes milliseconds);
    // the rest, and whatever follows a commit, on a blocking thread
    let committed = if events.len() <= INLINE_COMMIT_EVENTS { s.engine.try_ingest(&events).transpose()? } else { None };
    let nothing_follows =
        |d: &daogou_engine::Ingested| d.new_items.is_empty() && s.engine.running_experiment().is_none();
    let (done, attributed) = match committed {
        Some(done) if nothing_follows(&done) => (done, 0),
        committed => finish_ingest(s.clone(), events, rec_ids, committed).await?,
    };
    if let (Some(c), Some(events)) = (s.cluster(), shared) {
        c.publish_events(&events).await; // the other servers' live histories
    }
    s.metrics.events_ingested.fetch_add(done.inserted, Ordering::Relaxed);
    Ok(Json(json!({"accepted": n, "inserted": done.inserted, "duplicates": done.duplicates, "attributed": attributed}))
        .into_response())
}

/// On a blocking thread: the commit if it has not happened yet (`committed` is `None`), the
/// assistant's index for new items, then the attribution of the events to the running
/// experiment's lists; the commit's result and the count attributed.
async fn finish_ingest(
    s: Arc<AppState>,
    events: Vec<Event>,
    rec_ids: Vec<Option<String>>,
    committed: Option<daogou_engine::Ingested>,
) -> Result<(daogou_engine::Ingested, u64), ApiError> {
    blocking(move || -> Result<_, ApiError> {
        let done = match committed {
            Some(done) => done,
            None => s.engine.ingest(&events)?,
        };
        if !done.new_items.is_empty() {
            let new: Vec<u32> = done.new_items.iter().map(|(i, _)| *i).collect();
            s.guide.changed(&s.engine, &new);
        }
        // stored first: an outcome always has its event
        let attributed = s.engine.attribute(&events, &rec_ids)?;
        Ok((done, attributed))
    })
    .await?
}
