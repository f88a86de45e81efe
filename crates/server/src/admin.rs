//! Administration: forgetting a user (`DELETE /users/{id}`), refits (`POST /admin/retrain`,
//! and on a schedule), loading a model file (`POST /admin/model`), and the background jobs.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Json, Router};
use daogou_core::Params;
use daogou_data::Signal;
use daogou_engine::ModelSpec;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::http::{blocking, body, json_value, path_id, query, typed};
use crate::state::{now, AppState};

type S = State<Arc<AppState>>;
type ApiResult = Result<Response, ApiError>;

/// The routes of this module (scope admin).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/users/{id}", delete(delete_user))
        .route("/admin/retrain", post(retrain))
        .route("/admin/model", post(load_model))
}

async fn delete_user(State(s): S, p: Result<Path<String>, PathRejection>) -> ApiResult {
    let user = path_id(p, "user")?;
    let stored = s.user_id(&user);
    let s2 = s.clone();
    let st = stored.clone();
    let done = blocking(move || s2.engine.delete_user(&st)).await??;
    s.note_model(&s.snapshot());
    if let Some(c) = s.cluster() {
        // the other servers hide the user at once; the trainer's next model forgets them
        c.publish_deletion(&stored).await;
        c.request_retrain()?;
    }
    // what else remembers the user: their assistant conversations, the statistics cache
    s.guide.forget_user(&stored);
    *s.stats.lock().unwrap_or_else(|e| e.into_inner()) = None;
    Ok(Json(json!({
        "user": user,
        "events_deleted": done.events_deleted,
        "model_version": done.model_version,
        "refit_error": done.refit_error,
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
struct WaitQuery {
    wait: Option<bool>,
}

async fn retrain(
    State(s): S,
    q: Result<Query<WaitQuery>, QueryRejection>,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let q = query(q)?;
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
        let signal = match r.weights {
            Some(w) => Signal::from_options(Some(&w), cur.signal.positive_threshold, cur.signal.half_life_days)
                .map_err(|e| ApiError::bad_request(format!("retrain.weights: {e}")))?,
            None => cur.signal,
        };
        Some(ModelSpec { name, params, signal })
    } else {
        None
    };
    if let Some(c) = s.cluster() {
        // several servers: the elected trainer refits (with its own model settings) and every
        // server loads its model when it is written
        if spec.is_some() {
            return Err(ApiError::bad_request(
                "retrain: this server is one of several on a shared store; the trainer's --model and --params \
                 choose the model (restart `daogou trainer` to change them)",
            ));
        }
        c.request_retrain()?;
        return Ok((
            StatusCode::ACCEPTED,
            Json(json!({"status": "requested", "model_version": s.snapshot().version,
                "message": "the trainer refits now; every server loads the new model when it is written"})),
        )
            .into_response());
    }
    // one refit requested at a time: while one runs another request is answered 409 instead
    // of queueing fits without bound
    if s.refitting.swap(true, Ordering::SeqCst) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "busy",
            "a refit is already running; see /health last_retrain",
        ));
    }
    let s2 = s.clone();
    let job = tokio::spawn(async move {
        let out = run_retrain(s2.clone(), spec).await;
        s2.refitting.store(false, Ordering::SeqCst);
        out
    });
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
    let s2 = s.clone();
    match blocking(move || s2.engine.load_model_file(&path)).await? {
        Ok(snap) => {
            s.note_model(&snap);
            for w in &snap.warnings {
                eprintln!("warning: {w}");
            }
            if snap.needs_refit() {
                // the file predates deletions: refit so that the model forgets them too
                tokio::spawn(run_retrain(s.clone(), None));
            }
            Ok(Json(json!({
                "status": "ok",
                "model": snap.model_name(),
                "model_version": snap.version,
                "data_matches": snap.data_matches,
                "warnings": snap.warnings,
            }))
            .into_response())
        }
        Err(e) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "model_refused",
            format!("{e}; still serving model version {}", s.snapshot().version),
        )),
    }
}

/// Refit (off the async threads), swap, and record the outcome for `/health`; (succeeded,
/// outcome).
async fn run_retrain(s: Arc<AppState>, spec: Option<ModelSpec>) -> (bool, Value) {
    let s3 = s.clone();
    let started = now();
    let res = match tokio::task::spawn_blocking(move || s3.engine.refit(spec)).await {
        Ok(Ok(snap)) => {
            s.note_model(&snap);
            Ok((snap.version, snap.model_name().to_owned()))
        }
        Ok(Err(e)) => Err(e.to_string()),
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
    tokio::task::spawn_blocking(move || s.guide.warm(&s.engine));
    if let Some(c) = state.cluster() {
        // models, refits and their schedule are the trainer's
        if state.snapshot().needs_refit() {
            if let Err(e) = c.request_retrain() {
                eprintln!("cluster: cannot ask the trainer for a refit: {e}");
            }
        }
        crate::follow::start(state.clone());
        return;
    }
    if state.snapshot().needs_refit() {
        // a model file that predates deletions: those users are hidden at once; refit now so
        // that what the model learned from them goes too
        tokio::spawn(run_retrain(state.clone(), None));
    }
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
