//! Online experiments: create, start and stop (`/admin/experiments…`, scope admin), list and
//! results (`GET /experiments`, `GET /experiments/{name}`, scope read). The definition is
//! validated here field by field; assignment, exposures and attribution live in the engine
//! (`daogou_engine::experiment`), the statistics in `daogou_eval::experiment`.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use daogou_engine::{ExperimentDef, ExperimentInfo};
use daogou_eval::experiment::{analyze, Design, Metric, Row, SequentialConfig, UnitTotals};
use serde_json::{json, Value};

use crate::config::Limits;
use crate::error::ApiError;
use crate::http::{blocking, body, json_value, typed};
use crate::state::{now, AppState};

type S = State<Arc<AppState>>;
type ApiResult = Result<Response, ApiError>;

/// Most variants in an experiment.
pub const MAX_VARIANTS: usize = 8;
/// Longest attribution window (hours): 30 days.
pub const MAX_WINDOW_HOURS: u32 = 720;
/// Longest experiment or variant name.
pub const MAX_NAME: usize = 64;
/// Most points of a results timeline.
const TIMELINE_POINTS: i64 = 48;

/// The routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/admin/experiments", post(create))
        .route("/admin/experiments/{name}/start", post(start))
        .route("/admin/experiments/{name}/stop", post(stop))
        .route("/experiments", get(list))
        .route("/experiments/{name}", get(results))
}

/// Names: 1–64 of letters, digits, `-`, `_`, `.`.
fn check_name(name: &str, what: &str) -> Result<(), ApiError> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(ApiError::bad_request(format!("{what}: 1 to {MAX_NAME} characters")));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
        return Err(ApiError::bad_request(format!("{what}: only letters, digits, `-`, `_` and `.`")));
    }
    Ok(())
}

fn path_name(p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let Path(name) = p.map_err(|r| ApiError::bad_request(format!("name: {}", r.body_text())))?;
    check_name(&name, "name")?;
    Ok(name)
}

/// Every field of a definition, or 400 naming the first bad one.
fn validate(d: &ExperimentDef) -> Result<(), ApiError> {
    let bad = |m: String| Err(ApiError::bad_request(m));
    check_name(&d.name, "experiment.name")?;
    if !(2..=MAX_VARIANTS).contains(&d.variants.len()) {
        return bad(format!("experiment.variants: 2 to {MAX_VARIANTS} variants (the first is the control)"));
    }
    if Metric::parse(&d.primary_metric).is_none() {
        let keys: Vec<&str> = Metric::ALL.iter().map(|m| m.key()).collect();
        return bad(format!(
            "experiment.primary_metric: unknown metric `{}`; one of {}",
            d.primary_metric,
            keys.join(", ")
        ));
    }
    if !(1..=MAX_WINDOW_HOURS).contains(&d.attribution_window_hours) {
        return bad(format!("experiment.attribution_window_hours: must be between 1 and {MAX_WINDOW_HOURS}"));
    }
    let mut names = HashSet::new();
    for (i, v) in d.variants.iter().enumerate() {
        let at = format!("experiment.variants[{i}]");
        check_name(&v.name, &format!("{at}.name"))?;
        if !names.insert(v.name.as_str()) {
            return bad(format!("{at}.name: `{}` is used twice", v.name));
        }
        if !v.share.is_finite() || v.share <= 0.0 || v.share > 1e6 {
            return bad(format!("{at}.share: must be a number above 0 (shares are relative weights)"));
        }
        match &v.model {
            Some(m) if std::path::Path::new(m).is_file() && !v.params.is_empty() => {
                return bad(format!("{at}.params: apply to a named model, not to the model file {m}"));
            }
            Some(m) if std::path::Path::new(m).is_file() => {}
            Some(m) if !daogou_algo::model_names().contains(&m.as_str()) => {
                return bad(format!(
                    "{at}.model: `{m}` is neither a model file on the server nor a model; models: {}",
                    daogou_algo::model_names().join(", ")
                ));
            }
            Some(_) => {}
            None if !v.params.is_empty() => return bad(format!("{at}.params: need a `model`")),
            None => {}
        }
        for (k, val) in &v.params {
            if k.is_empty() || k.len() > MAX_NAME || !(val.is_string() || val.is_number() || val.is_boolean()) {
                return bad(format!("{at}.params.{k}: a parameter is a name with a string, number or boolean"));
            }
        }
        for (name, x, hi) in [
            ("popularity_weight", v.popularity_weight, Limits::MAX_WEIGHT),
            ("novelty_weight", v.novelty_weight, Limits::MAX_WEIGHT),
            ("explore", v.explore, 1.0),
            ("session_weight", v.session_weight, 1.0),
        ] {
            if x.is_some_and(|x| !(0.0..=hi).contains(&x)) {
                return bad(format!("{at}.{name}: must be between 0 and {hi}"));
            }
        }
        if v.max_per_category.is_some_and(|m| !(1..=Limits::MAX_PER_CATEGORY).contains(&m)) {
            return bad(format!("{at}.max_per_category: must be between 1 and {}", Limits::MAX_PER_CATEGORY));
        }
    }
    Ok(())
}

fn info_json(i: &ExperimentInfo) -> Value {
    json!({
        "name": i.def.name,
        "status": i.status,
        "created_at": i.created_at,
        "started_at": i.started_at,
        "stopped_at": i.stopped_at,
        "primary_metric": i.def.primary_metric,
        "attribution_window_hours": i.def.attribution_window_hours,
        "variants": i.def.variants,
    })
}

/// `POST /admin/experiments`: a definition creates a draft; `{"name", "action": "start" |
/// "stop"}` starts or stops one (as `POST /admin/experiments/{name}/start|stop`).
async fn create(State(s): S, b: Result<Bytes, BytesRejection>) -> ApiResult {
    let value = json_value(&body(b)?)?;
    if let Some(action) = value.get("action") {
        let fields: Vec<&String> = value.as_object().map(|o| o.keys().collect()).unwrap_or_default();
        if let Some(extra) = fields.iter().find(|k| !matches!(k.as_str(), "name" | "action")) {
            return Err(ApiError::bad_request(format!(
                "experiment.{extra}: an action takes only `name` and `action` (a definition has no `action`)"
            )));
        }
        let name = value.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
        check_name(&name, "experiment.name")?;
        return match action.as_str() {
            Some("start") => start_named(s, name).await,
            Some("stop") => stop_named(s, name).await,
            _ => Err(ApiError::bad_request("experiment.action: `start` or `stop`")),
        };
    }
    let def: ExperimentDef = typed(value, "experiment")?;
    validate(&def)?;
    let s2 = s.clone();
    let info = blocking(move || s2.engine.create_experiment(&def, now())).await??;
    Ok((StatusCode::CREATED, Json(info_json(&info))).into_response())
}

async fn start(State(s): S, p: Result<Path<String>, PathRejection>) -> ApiResult {
    start_named(s, path_name(p)?).await
}

async fn start_named(s: Arc<AppState>, name: String) -> ApiResult {
    let s2 = s.clone();
    let n2 = name.clone();
    let job = tokio::spawn(async move {
        let n3 = n2.clone();
        let out = tokio::task::spawn_blocking(move || s2.engine.start_experiment(&n3, now())).await;
        if let Ok(Err(e)) = &out {
            // heard by someone also when the request has been answered 202
            eprintln!("experiment `{n2}` did not start: {e}");
        }
        out
    });
    // a variant with its own model is fitted first: answer before the request timeout, the
    // experiment starts when the fit is done
    match tokio::time::timeout(s.config.timeout.mul_f64(0.9), job).await {
        Ok(done) => {
            let info = done???;
            tell_the_cluster(&s, &name);
            Ok(Json(info_json(&info)).into_response())
        }
        Err(_) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({"name": name, "status": "starting",
                "message": "fitting the variants' models; the experiment runs when they are ready (see GET /experiments/{name})"})),
        )
            .into_response()),
    }
}

async fn stop(State(s): S, p: Result<Path<String>, PathRejection>) -> ApiResult {
    stop_named(s, path_name(p)?).await
}

async fn stop_named(s: Arc<AppState>, name: String) -> ApiResult {
    let s2 = s.clone();
    let n2 = name.clone();
    let info = blocking(move || s2.engine.stop_experiment(&n2, now())).await??;
    tell_the_cluster(&s, &name);
    Ok(Json(info_json(&info)).into_response())
}

/// Servers sharing a PostgreSQL store follow an experiment started or stopped here
/// (`NOTIFY daogou_experiments`; each reads the store's status, so a lost note is made up by the
/// next one or by a restart).
fn tell_the_cluster(s: &AppState, name: &str) {
    if let Some(c) = s.cluster() {
        if let Err(e) = c.pg().notify(crate::follow::EXPERIMENTS, name) {
            eprintln!("cluster: the other servers were not told about experiment `{name}`: {e}");
        }
    }
}

async fn list(State(s): S) -> ApiResult {
    let s2 = s.clone();
    let all = blocking(move || s2.engine.experiments()).await??;
    Ok(Json(json!({"experiments": all.iter().map(info_json).collect::<Vec<_>>()})).into_response())
}

/// The results of `info` from the store's exposures and outcomes.
fn analysis(s: &AppState, info: &ExperimentInfo, now: i64) -> Result<Value, ApiError> {
    let start = info.started_at.unwrap_or(info.created_at);
    let end = info.stopped_at.unwrap_or(now).max(start + 1);
    // at most TIMELINE_POINTS buckets, whole minutes
    let per_point = ((end - start + TIMELINE_POINTS - 1) / TIMELINE_POINTS).max(60);
    let bucket_secs = (per_point + 59) / 60 * 60;
    let buckets = ((end - start + bucket_secs - 1) / bucket_secs).max(1) as u32;
    let names: Vec<String> = info.def.variants.iter().map(|v| v.name.clone()).collect();
    let rows: Vec<Row> = s
        .engine
        .exposure_totals(&info.def.name, start, bucket_secs)?
        .into_iter()
        .filter_map(|r| {
            Some(Row {
                variant: names.iter().position(|n| *n == r.variant)?,
                unit: r.unit,
                bucket: r.bucket.min(buckets.saturating_sub(1)),
                totals: UnitTotals {
                    lists: r.lists as f64,
                    impressions: r.impressions as f64,
                    clicks: r.clicks as f64,
                    carts: r.carts as f64,
                    purchases: r.purchases as f64,
                    revenue: r.revenue,
                },
            })
        })
        .collect();
    let design = Design {
        variants: names,
        shares: info.def.variants.iter().map(|v| v.share).collect(),
        primary: Metric::parse(&info.def.primary_metric).unwrap_or(Metric::Ctr),
    };
    let a = analyze(&design, &rows, start, bucket_secs, buckets, &SequentialConfig::default());
    let mut out = info_json(info);
    let mut results = serde_json::to_value(&a).map_err(|e| ApiError::internal(format!("results: {e}")))?;
    // the definition's variants are under `definition`; `variants` holds the results
    if let (Value::Object(o), Value::Object(r)) = (&mut out, &mut results) {
        let def = o.remove("variants").unwrap_or(Value::Null);
        o.insert("definition".into(), json!({"variants": def}));
        o.append(r);
        o.insert("bucket_secs".into(), json!(bucket_secs));
    }
    Ok(out)
}

async fn results(State(s): S, p: Result<Path<String>, PathRejection>) -> ApiResult {
    let name = path_name(p)?;
    let s2 = s.clone();
    blocking(move || {
        let info =
            s2.engine.experiment(&name)?.ok_or_else(|| ApiError::not_found(format!("no experiment named `{name}`")))?;
        Ok(Json(analysis(&s2, &info, now())?).into_response())
    })
    .await?
}
