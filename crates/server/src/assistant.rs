//! Product search (`GET /search`) and the shopping assistant (`POST /assistant`) over a
//! [`daogou_guide::Guide`] kept in step with the catalogue.
//!
//! The guide has its own dense item indices (catalogue order, new items appended), so it does
//! not depend on which items the current model knows; personal scores and histories are mapped
//! from the model's indices into the guide's per request.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use daogou_core::Item;
use daogou_guide::{AskRequest, Guide, GuideConfig};
use daogou_store::Store;
use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde_json::json;

use crate::api::{blocking, body, check_id, json_value, typed};
use crate::engine::{AppState, Pick, Snapshot, DELETED_ATTR};
use crate::error::ApiError;

type S = State<Arc<AppState>>;
type ApiResult = Result<Response, ApiError>;

/// Most recent distinct history items handed to the guide for its reasons.
const HISTORY_ITEMS: usize = 50;

/// The guide and the id ↔ guide-index map.
struct Built {
    guide: Guide,
    ids: RwLock<Ids>,
    /// (snapshot version, model index → guide index) for the personal scores.
    model_map: Mutex<Option<(u64, Arc<Vec<u32>>)>>,
}

#[derive(Default)]
struct Ids {
    ids: Vec<String>,
    index: FxHashMap<String, u32>,
}

/// The guide of a running service: built from the store on first use, then kept in step with
/// every catalogue upsert and deletion.
#[derive(Default)]
pub struct GuideSlot {
    built: Mutex<Option<Arc<Built>>>,
}

fn guide_error(e: daogou_guide::Error) -> ApiError {
    match e {
        daogou_guide::Error::BadRequest(m) => ApiError::bad_request(m),
        other => ApiError::internal(format!("assistant: {other}")),
    }
}

impl GuideSlot {
    /// Build the guide now if not built yet (at start, so the first question does not wait).
    pub(crate) fn warm(&self, s: &AppState) {
        if let Err(e) = self.get(s) {
            eprintln!("assistant: cannot index the catalogue yet ({}); retrying on the first question", e.message);
        }
    }

    /// The guide, built now (from the stored catalogue) when this is the first use. Blocking.
    fn get(&self, s: &AppState) -> Result<Arc<Built>, ApiError> {
        let mut slot = self.built.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = slot.as_ref() {
            return Ok(b.clone());
        }
        // holding the slot while building: an upsert meanwhile waits and is applied after
        let items = s.store().items()?;
        let guide = Guide::new(&items, GuideConfig::default()).map_err(guide_error)?;
        let mut ids = Ids::default();
        for (i, it) in items.iter().enumerate() {
            ids.index.insert(it.id.clone(), i as u32);
            ids.ids.push(it.id.clone());
            if it.attributes.contains_key(DELETED_ATTR) {
                guide.remove(i as u32).map_err(guide_error)?;
            }
        }
        let b = Arc::new(Built { guide, ids: RwLock::new(ids), model_map: Mutex::new(None) });
        b.model_map(&s.snapshot()); // also hands the guide the snapshot's popularity
        *slot = Some(b.clone());
        Ok(b)
    }

    /// Keep the guide in step with a catalogue upsert (a deletion is an upsert that marks the
    /// item deleted). Called by the engine after the store committed; blocking. A guide that
    /// cannot take the change is dropped and rebuilt from the store on its next use.
    pub(crate) fn upsert(&self, item: &Item) {
        let mut slot = self.built.lock().unwrap_or_else(|e| e.into_inner());
        let Some(b) = slot.as_ref() else { return };
        let index = {
            let mut ids = b.ids.write().unwrap_or_else(|e| e.into_inner());
            match ids.index.get(&item.id) {
                Some(&i) => i,
                None => {
                    let i = ids.ids.len() as u32;
                    ids.ids.push(item.id.clone());
                    ids.index.insert(item.id.clone(), i);
                    i
                }
            }
        };
        let res = b.guide.upsert(index, item).and_then(|()| {
            if item.attributes.contains_key(DELETED_ATTR) {
                b.guide.remove(index)
            } else {
                Ok(())
            }
        });
        if let Err(e) = res {
            eprintln!("assistant: rebuilding the search index after a failed update of `{}`: {e}", item.id);
            *slot = None;
        }
    }
}

impl Built {
    fn id(&self, index: u32) -> Option<String> {
        self.ids.read().unwrap_or_else(|e| e.into_inner()).ids.get(index as usize).cloned()
    }

    /// Model item index → guide index for `snap` (cached per snapshot version); a new snapshot
    /// also brings its popularity ("best-selling", and a small prior in the guide's ranking).
    fn model_map(&self, snap: &Snapshot) -> Arc<Vec<u32>> {
        let mut m = self.model_map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((v, map)) = m.as_ref() {
            // every item of a snapshot was in the store when it was fitted, so in the guide
            if *v == snap.version {
                return map.clone();
            }
        }
        let ids = self.ids.read().unwrap_or_else(|e| e.into_inner());
        let map: Arc<Vec<u32>> = Arc::new(
            (0..snap.items.len() as u32)
                .map(|i| ids.index.get(snap.items.id(i)).copied().unwrap_or(u32::MAX))
                .collect(),
        );
        let mut pop = vec![0f32; ids.ids.len()];
        drop(ids);
        for (i, &g) in map.iter().enumerate() {
            if let (Some(p), Some(&x)) = (pop.get_mut(g as usize), snap.popularity.get(i)) {
                *p = x;
            }
        }
        if let Err(e) = self.guide.set_popularity(&pop) {
            eprintln!("assistant: popularity not updated: {e}");
        }
        *m = Some((snap.version, map.clone()));
        map
    }
}

/// The routes of this module (both read scope).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/search", get(search)).route("/assistant", post(assistant))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchQuery {
    q: Option<String>,
    n: Option<usize>,
}

async fn search(State(s): S, q: Result<Query<SearchQuery>, QueryRejection>) -> ApiResult {
    let Query(q) = q.map_err(|r| ApiError::bad_request(format!("query: {}", r.body_text())))?;
    let text = q.q.unwrap_or_default();
    if text.trim().is_empty() {
        return Err(ApiError::bad_request("q: the search text is required"));
    }
    if text.len() > 1000 {
        return Err(ApiError::bad_request("q: longer than 1000 bytes"));
    }
    let n = q.n.unwrap_or(10);
    if n == 0 || n > s.config.max_n {
        return Err(ApiError::bad_request(format!("n: must be between 1 and {}", s.config.max_n)));
    }
    let s2 = s.clone();
    let items = blocking(move || -> Result<Vec<Pick>, ApiError> {
        let b = s2.extras.guide.get(&s2)?;
        let hits = b.guide.search(&text, n).map_err(guide_error)?;
        Ok(hits
            .into_iter()
            .filter_map(|(i, score)| {
                let it = s2.live_item(&b.id(i)?)?;
                Some(Pick {
                    title: if it.title.is_empty() { it.id.clone() } else { it.title.clone() },
                    item: it.id,
                    score,
                    reason: format!("matches “{text}”"),
                    because: None,
                    category: it.category,
                    brand: it.brand,
                    price: it.price,
                })
            })
            .collect())
    })
    .await??;
    s.note_served(&items);
    Ok(Json(json!({"items": items})).into_response())
}

async fn assistant(State(s): S, b: Result<Bytes, BytesRejection>) -> ApiResult {
    let mut req: AskRequest = typed(json_value(&body(b)?)?, "ask")?;
    if req.n.is_some_and(|n| n == 0 || n > s.config.max_n) {
        return Err(ApiError::bad_request(format!("ask.n: must be between 1 and {}", s.config.max_n)));
    }
    if let Some(u) = &req.user {
        check_id(u, "ask.user")?;
        req.user = Some(s.user_id(u)); // the guide (and its conversations) see stored ids only
    }
    let s2 = s.clone();
    let answer = blocking(move || -> Result<daogou_guide::Answer, ApiError> {
        let b = s2.extras.guide.get(&s2)?;
        b.model_map(&s2.snapshot()); // popularity of the current model's data
        let (personal, history) = match &req.user {
            Some(u) => personal(&s2, &b, u)?,
            None => (None, Vec::new()),
        };
        b.guide.ask(&req, personal.as_deref(), &history).map_err(guide_error)
    })
    .await??;
    let ids: Vec<&str> = answer.items.iter().map(|p| p.id.as_str()).collect();
    s.metrics.note_served(ids.into_iter());
    Ok(Json(answer).into_response())
}

/// The recommender's scores for every guide item (`NEG_INFINITY` where the model has none) and
/// the user's most recent distinct items (oldest first), for a user with any history.
fn personal(s: &AppState, b: &Built, user: &str) -> Result<(Option<Vec<f32>>, Vec<u32>), ApiError> {
    let snap = s.snapshot();
    let h = s.history(&snap, user);
    let n_guide = b.ids.read().unwrap_or_else(|e| e.into_inner()).ids.len();
    let mut scores = None;
    if let (Some(model), false) = (&snap.model, h.items.is_empty()) {
        let mut buf = vec![0f32; model.n_items()];
        match (h.user, h.fresh) {
            (Some(u), false) => model.score_user(u, &mut buf),
            _ => model.score_history(&h.items, &mut buf),
        }
        let map = b.model_map(&snap);
        let mut out = vec![f32::NEG_INFINITY; n_guide];
        for (i, &g) in map.iter().enumerate() {
            if let (Some(slot), Some(&x)) = (out.get_mut(g as usize), buf.get(i)) {
                *slot = x;
            }
        }
        scores = Some(out);
    }
    // time order from the store (the model's history is sorted by item)
    let events = s.store().user_events(user)?;
    let ids = b.ids.read().unwrap_or_else(|e| e.into_inner());
    let mut seen = HashSet::new();
    let mut history: Vec<u32> = events
        .iter()
        .rev()
        .filter(|e| e.kind.strength() > 1) // not searches or returns
        .filter_map(|e| ids.index.get(&e.item).copied())
        .filter(|&i| seen.insert(i))
        .take(HISTORY_ITEMS)
        .collect();
    history.reverse();
    Ok((scores, history))
}
