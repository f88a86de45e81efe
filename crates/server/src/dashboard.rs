//! JSON behind the dashboard: data statistics (`/stats/overview`), the model leaderboard
//! (`/stats/leaderboard`, refreshed by `POST /admin/evaluate`), the model and its versions
//! (`/stats/model`), and per-user pages (`/admin/users`, `/admin/users/{id}`).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use daogou_core::EventKind;
use daogou_eval::leaderboard::{self, Leaderboard};
use daogou_store::{Store, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::http::{blocking, check_n, path_id, query};
use crate::state::{now, AppState};

type S = State<Arc<AppState>>;
type ApiResult = Result<Response, ApiError>;

/// Statistics are recomputed at most this often while data keeps arriving.
const STATS_TTL: Duration = Duration::from_secs(30);

/// The routes of this module (scopes: `/stats/*` read, `/admin/*` admin; see `scope_for`).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/stats/overview", get(overview))
        .route("/stats/leaderboard", get(get_leaderboard))
        .route("/stats/model", get(model))
        .route("/admin/evaluate", post(evaluate))
        .route("/admin/users", get(users))
        .route("/admin/users/{id}", get(user))
}

// ---------------------------------------------------------------- statistics

/// Read the store without holding the service's connection (which ingestion waits for): a
/// second connection on the same file (WAL: readers do not block the writer), or the service's
/// own for an in-memory store.
fn read_store<T>(s: &AppState, f: impl FnOnce(&dyn Store) -> Result<T, StoreError>) -> Result<T, StoreError> {
    let reader = s.engine.store().reader()?;
    match reader {
        Some(r) => f(r.as_ref()),
        None => f(s.engine.store().as_ref()),
    }
}

fn compute_overview(s: &AppState) -> Result<Value, ApiError> {
    let (ds, stats) = read_store(s, |st| Ok((st.load_dataset()?, st.stats()?)))?;
    const DAY: i64 = 86_400;
    // interactions per day and kind (searches without an item are in `events_by_kind` only)
    let mut daily: BTreeMap<i64, BTreeMap<&'static str, u64>> = BTreeMap::new();
    let mut per_item = vec![0u64; ds.n_items()];
    let mut users_per_item: Vec<rustc_hash::FxHashSet<u32>> = vec![Default::default(); ds.n_items()];
    for x in &ds.interactions {
        *daily
            .entry(x.timestamp.div_euclid(DAY).saturating_mul(DAY))
            .or_default()
            .entry(x.kind.as_str())
            .or_default() += 1;
        per_item[x.item as usize] += 1;
        users_per_item[x.item as usize].insert(x.user);
    }
    // fill empty days so the chart's time axis is even, over at most MAX_FILLED_DAYS: an event
    // stamped far in the past or future must not make the answer (or its memory) huge
    const MAX_FILLED_DAYS: i64 = 3_660;
    let span = match (daily.keys().next(), daily.keys().last()) {
        (Some(lo), Some(hi)) => {
            hi.checked_sub(*lo).map(|d| d / DAY).filter(|&d| d <= MAX_FILLED_DAYS).map(|d| (*lo, d))
        }
        _ => None,
    };
    let days: Vec<Value> = match span {
        Some((lo, span)) => (0..=span)
            .map(|d| {
                let t = lo + d * DAY;
                json!({"day": t, "counts": daily.get(&t).cloned().unwrap_or_default()})
            })
            .collect(),
        None => daily.iter().map(|(t, c)| json!({"day": t, "counts": c})).collect(),
    };
    // popularity long tail: distinct users per item, most popular first
    let mut pop: Vec<u64> = users_per_item.iter().map(|u| u.len() as u64).collect();
    pop.sort_unstable_by(|a, b| b.cmp(a));
    let total: u64 = pop.iter().sum();
    let share_of_top = |frac: f64| {
        let n = ((pop.len() as f64) * frac).ceil() as usize;
        if total == 0 {
            0.0
        } else {
            pop.iter().take(n).sum::<u64>() as f64 / total as f64
        }
    };
    let mut categories: BTreeMap<String, u64> = BTreeMap::new();
    for it in &ds.catalogue {
        let top = it.category.as_deref().map_or("(none)", |c| c.split('/').next().unwrap_or(c));
        *categories.entry(top.to_owned()).or_default() += 1;
    }
    let without_interactions = pop.iter().filter(|&&p| p == 0).count();
    Ok(json!({
        "users": stats.users,
        "items": stats.items,
        "events": stats.events,
        "events_by_kind": stats.by_kind,
        "first_timestamp": stats.first_timestamp,
        "last_timestamp": stats.last_timestamp,
        "daily": days,
        "kinds": EventKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "long_tail": {
            "users_per_item": pop,
            "top_10pct_share": share_of_top(0.1),
            "top_20pct_share": share_of_top(0.2),
            "items_without_interactions": without_interactions,
        },
        "items_by_category": categories,
    }))
}

async fn overview(State(s): S) -> ApiResult {
    let key = (s.snapshot().version, s.metrics.events_ingested.load(Ordering::Relaxed));
    if let Some((k, at, v)) = s.stats.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        if *k == key || at.elapsed() < STATS_TTL {
            return Ok(Json(v.as_ref().clone()).into_response());
        }
    }
    let s2 = s.clone();
    let v = Arc::new(blocking(move || compute_overview(&s2)).await??);
    *s.stats.lock().unwrap_or_else(|e| e.into_inner()) = Some((key, Instant::now(), v.clone()));
    Ok(Json(v.as_ref().clone()).into_response())
}

// ---------------------------------------------------------------- leaderboard

fn stored_leaderboard(s: &AppState) -> Result<Option<Leaderboard>, ApiError> {
    match s.engine.store().meta(leaderboard::META_KEY)? {
        None => Ok(None),
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ApiError::internal(format!("stored leaderboard is not readable: {e}"))),
    }
}

async fn get_leaderboard(State(s): S) -> ApiResult {
    let s2 = s.clone();
    let board = blocking(move || stored_leaderboard(&s2)).await??;
    let error = s.last_evaluation_error.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok(Json(json!({
        "leaderboard": board,
        "evaluating": s.evaluating.load(Ordering::SeqCst),
        "last_error": error,
    }))
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EvaluateQuery {
    wait: Option<bool>,
}

/// Run the leaderboard evaluation on the stored data and store the result; blocking.
fn run_evaluation(s: &AppState) -> Result<Leaderboard, String> {
    let ds = read_store(s, |st| st.load_dataset()).map_err(|e| e.to_string())?;
    let cut = leaderboard::default_cut(&ds);
    let board = leaderboard::evaluate(&ds, leaderboard::DEFAULT_MODELS, cut, "POST /admin/evaluate", now(), |_| {})?;
    let text = serde_json::to_string(&board).map_err(|e| e.to_string())?;
    s.engine.store().set_meta(leaderboard::META_KEY, &text).map_err(|e| e.to_string())?;
    Ok(board)
}

async fn evaluate(State(s): S, q: Result<Query<EvaluateQuery>, QueryRejection>) -> ApiResult {
    let q = query(q)?;
    if s.evaluating.swap(true, Ordering::SeqCst) {
        return Err(ApiError::new(StatusCode::CONFLICT, "busy", "an evaluation is already running"));
    }
    let s2 = s.clone();
    let job = async move {
        let s3 = s2.clone();
        let res = match tokio::task::spawn_blocking(move || run_evaluation(&s3)).await {
            Ok(r) => r,
            Err(e) => Err(format!("evaluation failed: {e}")),
        };
        *s2.last_evaluation_error.lock().unwrap_or_else(|e| e.into_inner()) = res.as_ref().err().cloned();
        s2.evaluating.store(false, Ordering::SeqCst);
        res
    };
    let job = tokio::spawn(job);
    if q.wait.unwrap_or(false) {
        // answer before the request timeout: a longer evaluation goes on and stores its result
        match tokio::time::timeout(s.config.timeout.mul_f64(0.9), job).await {
            Ok(Ok(Ok(board))) => Ok(Json(json!({"status": "ok", "leaderboard": board})).into_response()),
            Ok(Ok(Err(e))) => Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "evaluation_failed", e)),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Ok((StatusCode::ACCEPTED, Json(json!({"status": "running"}))).into_response()),
        }
    } else {
        Ok((StatusCode::ACCEPTED, Json(json!({"status": "started"}))).into_response())
    }
}

// ---------------------------------------------------------------- model

async fn model(State(s): S) -> Json<Value> {
    let snap = s.snapshot();
    let last = s.last_retrain.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let versions = s.versions();
    // what a learned model (the ranker) learned from each input feature; [] for the others
    let importance = snap.model.as_ref().map(|m| m.feature_importance()).unwrap_or_default();
    Json(json!({
        "current": versions.iter().find(|e| e["version"] == snap.version),
        "feature_importance": daogou_eval::protocol::importance_json(&importance),
        "versions": versions,
        "models": daogou_algo::model_names(),
        "last_retrain": last,
        "retrain_secs": s.config.retrain_secs,
    }))
}

// ---------------------------------------------------------------- users

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersQuery {
    n: Option<usize>,
}

/// The most active users known to the model (training interactions), for the user switcher.
async fn users(State(s): S, q: Result<Query<UsersQuery>, QueryRejection>) -> ApiResult {
    let q = query(q)?;
    let n = check_n(q.n, 20, s.config.limits.max_n, "n")?;
    let snap = s.snapshot();
    let mut rows: Vec<(usize, u32)> =
        (0..snap.train.n_users() as u32).map(|u| (snap.train.user_row(u).0.len(), u)).collect();
    // most active first; ties by id so the list is stable
    rows.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| snap.users.id(a.1).cmp(snap.users.id(b.1))));
    let users: Vec<Value> = rows
        .into_iter()
        .filter(|&(k, u)| k > 0 && s.engine.snapshot_user(&snap, snap.users.id(u)).is_some())
        .take(n)
        .map(|(k, u)| json!({"user": snap.users.id(u), "items": k}))
        .collect();
    Ok(Json(json!({"model_version": snap.version, "users": users})).into_response())
}

/// A user's stored history (newest first, with titles) and whether the model knows them.
async fn user(State(s): S, p: Result<Path<String>, PathRejection>) -> ApiResult {
    let raw = path_id(p, "user")?;
    let stored = s.user_id(&raw);
    let s2 = s.clone();
    let st = stored.clone();
    let events = blocking(move || s2.engine.store().user_events(&st)).await??;
    let snap = s.snapshot();
    let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
    for e in &events {
        *by_kind.entry(e.kind.as_str()).or_default() += 1;
    }
    let total = events.len();
    let history: Vec<Value> = events
        .iter()
        .rev()
        .take(100)
        .map(|e| {
            let it = if e.item.is_empty() { None } else { s.engine.item(&e.item) };
            json!({
                "timestamp": e.timestamp,
                "kind": e.kind.as_str(),
                "verb": e.kind.verb(),
                "item": if e.item.is_empty() { Value::Null } else { json!(e.item) },
                "title": it.as_ref().map(|x| x.display_title().to_owned()),
                "price": it.as_ref().and_then(|x| x.price),
                "category": it.as_ref().and_then(|x| x.category.clone()),
                "query": e.query,
                "value": e.value,
            })
        })
        .collect();
    Ok(Json(json!({
        "user": raw,
        "known_to_model": s.engine.snapshot_user(&snap, &stored).is_some(),
        "events": total,
        "events_by_kind": by_kind,
        "history": history,
    }))
    .into_response())
}
