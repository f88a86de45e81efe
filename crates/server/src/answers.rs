//! The recommendation endpoints: for you, sessions, similar, bought together, popular,
//! trending, new arrivals, buy again. Each validates the request and asks the engine.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use daogou_engine::{Arm, ForYou, Pick};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::config::Limits;
use crate::error::ApiError;
use crate::http::{blocking, body, check_id, json_value, list_request, path_id, typed, ListQuery, ListRequest};
use crate::state::{now, AppState};

type S = State<Arc<AppState>>;
type ApiResult = Result<Response, ApiError>;
type Q = Result<Query<ListQuery>, QueryRejection>;

/// The routes of this module (scope read).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/users/{id}/recommendations", get(for_you))
        .route("/users/{id}/buy-again", get(buy_again))
        .route("/sessions/recommendations", post(session))
        .route("/items/{id}/similar", get(similar))
        .route("/items/{id}/bought-together", get(bought_together))
        .route("/popular", get(popular))
        .route("/trending", get(trending))
        .route("/new", get(new_arrivals))
}

/// The picks as JSON, counted for the coverage gauge.
fn served(s: &AppState, picks: &[Pick]) -> Value {
    s.metrics.note_served(picks.iter().map(|p| p.item.as_str()));
    serde_json::to_value(picks).unwrap_or(Value::Null)
}

/// Histories up to this long are scored on the async worker …
const INLINE_HISTORY: usize = 300;
/// … when the model has at most this many items.
const INLINE_ITEMS: usize = 200_000;

async fn for_you(State(s): S, p: Result<Path<String>, PathRejection>, q: Q) -> ApiResult {
    let user = path_id(p, "user")?;
    let r = list_request(&s.config, q)?;
    let stored = s.user_id(&user);
    if let Some(arm) = s.engine.arm(&stored) {
        // in an experiment: the variant's model and knobs, and the list is recorded (a store
        // write), off the async worker
        let s2 = s.clone();
        return blocking(move || for_you_in(&s2, &arm, &user, &stored, r)).await?;
    }
    let snap = s.snapshot();
    let h = s.engine.history(&snap, &stored);
    // a short history over a catalogue of this size scores in well under a millisecond: answer
    // on the async worker (no hand-off to the blocking pool); long ones go off it
    let inline = h.items.len() <= INLINE_HISTORY && snap.items.len() <= INLINE_ITEMS;
    let s2 = s.clone();
    let work = move || {
        let picks = s2.engine.for_you(&snap, &h, &r.filter, &r.blend, r.n);
        s2.metrics.note_served(picks.iter().map(|p| p.item.as_str()));
        // serialised without an intermediate `Value`
        serde_json::to_vec(&ForYou {
            user: &user,
            model: snap.model_name(),
            model_version: snap.version,
            known_user: h.user.is_some(),
            realtime: h.fresh,
            items: &picks,
            experiment: None,
        })
    };
    let out = if inline { work() } else { blocking(work).await? };
    let body = out.map_err(|e| ApiError::internal(format!("serialising the answer: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// "For you" of a unit in a running experiment: the answer carries `experiment`, `variant`
/// and `recommendation_id`.
fn for_you_in(s: &AppState, arm: &Arm, user: &str, stored: &str, r: ListRequest) -> Result<Response, ApiError> {
    let snap = arm.snapshot(s.snapshot());
    let h = s.engine.history(&snap, stored);
    let picks = s.engine.for_you(&snap, &h, &r.filter, &arm.blend(&r.blend), r.n);
    s.metrics.note_served(picks.iter().map(|p| p.item.as_str()));
    let items: Vec<String> = picks.iter().map(|p| p.item.clone()).collect();
    let exposed = s.engine.expose(arm, stored, &items, now())?;
    let body = serde_json::to_vec(&ForYou {
        user,
        model: snap.model_name(),
        model_version: snap.version,
        known_user: h.user.is_some(),
        realtime: h.fresh,
        items: &picks,
        experiment: Some(&exposed),
    })
    .map_err(|e| ApiError::internal(format!("serialising the answer: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionIn {
    items: Vec<String>,
    /// The anonymous session's id: assigns it to a running experiment's variant.
    session: Option<String>,
}

async fn session(State(s): S, q: Q, b: Result<Bytes, BytesRejection>) -> ApiResult {
    let r = list_request(&s.config, q)?;
    let sess: SessionIn = typed(json_value(&body(b)?)?, "session")?;
    if sess.items.len() > Limits::MAX_IDS {
        return Err(ApiError::bad_request(format!("session.items: at most {} items", Limits::MAX_IDS)));
    }
    // the session id is a unit like a user id (pseudonymised alike), so a shop that posts the
    // session's events under it gets them attributed, and DELETE /users/{id} forgets it
    let unit = match &sess.session {
        Some(id) => {
            check_id(id, "session.session")?;
            Some(s.user_id(id))
        }
        None => None,
    };
    let s2 = s.clone();
    blocking(move || -> Result<Response, ApiError> {
        let arm = unit.as_deref().and_then(|u| s2.engine.arm(u));
        let snap = match &arm {
            Some(a) => a.snapshot(s2.snapshot()),
            None => s2.snapshot(),
        };
        let blend = arm.as_ref().map_or_else(|| r.blend.clone(), |a| a.blend(&r.blend));
        let (picks, unknown) = s2.engine.session(&snap, &sess.items, &r.filter, &blend, r.n);
        let mut out = json!({
            "model": snap.model_name(),
            "model_version": snap.version,
            "unknown_items": unknown,
            "items": served(&s2, &picks),
        });
        if let (Some(arm), Some(unit)) = (&arm, &unit) {
            let items: Vec<String> = picks.iter().map(|p| p.item.clone()).collect();
            let exposed = s2.engine.expose(arm, unit, &items, now())?;
            out["experiment"] = json!(exposed.experiment);
            out["variant"] = json!(exposed.variant);
            out["recommendation_id"] = json!(exposed.recommendation_id);
        }
        Ok(Json(out).into_response())
    })
    .await?
}

async fn similar(State(s): S, p: Result<Path<String>, PathRejection>, q: Q) -> ApiResult {
    let id = path_id(p, "id")?;
    let r = list_request(&s.config, q)?;
    let s2 = s.clone();
    blocking(move || {
        let snap = s2.snapshot();
        let picks = s2.engine.similar(&snap, &id, &r.filter, r.n)?;
        Ok(Json(json!({
            "item": id,
            "model": snap.model_name(),
            "model_version": snap.version,
            "items": served(&s2, &picks),
        }))
        .into_response())
    })
    .await?
}

async fn bought_together(State(s): S, p: Result<Path<String>, PathRejection>, q: Q) -> ApiResult {
    let id = path_id(p, "id")?;
    let r = list_request(&s.config, q)?;
    let s2 = s.clone();
    blocking(move || {
        let snap = s2.snapshot();
        let picks = s2.engine.bought_together(&snap, &id, &r.filter, r.n)?;
        Ok(Json(json!({"item": id, "model_version": snap.version, "items": served(&s2, &picks)})).into_response())
    })
    .await?
}

async fn popular(State(s): S, q: Q) -> ApiResult {
    let r = list_request(&s.config, q)?;
    let s2 = s.clone();
    let out = blocking(move || {
        let snap = s2.snapshot();
        let picks = s2.engine.popular(&snap, &r.filter, r.n);
        json!({"model_version": snap.version, "items": served(&s2, &picks)})
    })
    .await?;
    Ok(Json(out).into_response())
}

async fn buy_again(State(s): S, p: Result<Path<String>, PathRejection>, q: Q) -> ApiResult {
    let user = path_id(p, "user")?;
    let r = list_request(&s.config, q)?;
    let s2 = s.clone();
    let out = blocking(move || {
        let snap = s2.snapshot();
        let picks = s2.engine.buy_again(&snap, &s2.user_id(&user), &r.filter, r.n);
        json!({"user": user, "model_version": snap.version, "items": served(&s2, &picks)})
    })
    .await?;
    Ok(Json(out).into_response())
}

async fn trending(State(s): S, q: Q) -> ApiResult {
    let r = list_request(&s.config, q)?;
    let s2 = s.clone();
    let out = blocking(move || {
        let picks = s2.engine.trending(&r.filter, r.hours, r.n);
        json!({"model_version": s2.snapshot().version, "hours": r.hours, "items": served(&s2, &picks)})
    })
    .await?;
    Ok(Json(out).into_response())
}

async fn new_arrivals(State(s): S, q: Q) -> ApiResult {
    let r = list_request(&s.config, q)?;
    let s2 = s.clone();
    let out = blocking(move || {
        let picks = s2.engine.new_arrivals(&r.filter, r.n);
        json!({"items": served(&s2, &picks)})
    })
    .await?;
    Ok(Json(out).into_response())
}
