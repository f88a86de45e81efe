//! Request input shared by the handlers: bodies, JSON with field paths in errors, ids, the
//! list query parameters (→ the engine's [`Filter`] and [`Blend`]), and running blocking work.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use daogou_engine::{Blend, Filter};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::config::{Config, Limits};
use crate::error::ApiError;

/// The body, or 413 / 400.
pub(crate) fn body(b: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    b.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "request body is larger than the limit")
        } else {
            ApiError::bad_request(format!("body: {}", r.body_text()))
        }
    })
}

/// The body as JSON (it must not be empty).
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

/// The query parameters, or 400 naming what is wrong.
pub(crate) fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(q)| q).map_err(|r| ApiError::bad_request(format!("query: {}", r.body_text())))
}

/// A path id, checked.
pub(crate) fn path_id(p: Result<Path<String>, PathRejection>, what: &str) -> Result<String, ApiError> {
    let Path(id) = p.map_err(|r| ApiError::bad_request(format!("{what}: {}", r.body_text())))?;
    check_id(&id, what)?;
    Ok(id)
}

/// An id: not blank, at most [`Limits::MAX_ID_BYTES`], no control characters.
pub(crate) fn check_id(id: &str, what: &str) -> Result<(), ApiError> {
    if id.trim().is_empty() {
        return Err(ApiError::bad_request(format!("{what}: must not be empty")));
    }
    if id.len() > Limits::MAX_ID_BYTES {
        return Err(ApiError::bad_request(format!("{what}: longer than {} bytes", Limits::MAX_ID_BYTES)));
    }
    if id.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!("{what}: control characters are not allowed")));
    }
    Ok(())
}

/// `n` between 1 and `max`, default `default`.
pub(crate) fn check_n(n: Option<usize>, default: usize, max: usize, what: &str) -> Result<usize, ApiError> {
    let n = n.unwrap_or(default);
    if n == 0 || n > max {
        return Err(ApiError::bad_request(format!("{what}: must be between 1 and {max}")));
    }
    Ok(n)
}

/// Query parameters of the list endpoints.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
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
    session_weight: Option<f32>,
    session_hours: Option<f32>,
    hours: Option<u32>,
}

/// A list request, validated.
#[derive(Debug)]
pub(crate) struct ListRequest {
    pub n: usize,
    pub filter: Filter,
    pub blend: Blend,
    pub hours: u32,
}

/// Validate the list query parameters against the configured limits; the configured session
/// knobs apply where the request gives none.
pub(crate) fn list_request(
    config: &Config,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<ListRequest, ApiError> {
    let limits = &config.limits;
    let q = query(q)?;
    let n = check_n(q.n, 10, limits.max_n, "n")?;
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
    if exclude.len() > Limits::MAX_IDS {
        return Err(ApiError::bad_request(format!("exclude: at most {} ids", Limits::MAX_IDS)));
    }
    for (name, v, hi) in [
        ("popularity_weight", q.popularity_weight, Limits::MAX_WEIGHT),
        ("novelty_weight", q.novelty_weight, Limits::MAX_WEIGHT),
        ("explore", q.explore, 1.0),
        ("session_weight", q.session_weight, 1.0),
        ("session_hours", q.session_hours, Limits::MAX_SESSION_HOURS),
    ] {
        if v.is_some_and(|x| !(0.0..=hi).contains(&x)) {
            return Err(ApiError::bad_request(format!("{name}: must be between 0 and {hi}")));
        }
    }
    if q.max_per_category.is_some_and(|m| !(1..=Limits::MAX_PER_CATEGORY).contains(&m)) {
        return Err(ApiError::bad_request(format!(
            "max_per_category: must be between 1 and {}",
            Limits::MAX_PER_CATEGORY
        )));
    }
    let hours = q.hours.unwrap_or(24);
    if !(1..=Limits::MAX_HOURS).contains(&hours) {
        return Err(ApiError::bad_request(format!("hours: must be between 1 and {}", Limits::MAX_HOURS)));
    }
    let nonempty = |v: Option<String>| v.filter(|x| !x.is_empty());
    Ok(ListRequest {
        n,
        filter: Filter {
            category: nonempty(q.category),
            brand: nonempty(q.brand),
            min_price: q.min_price,
            max_price: q.max_price,
            in_stock: q.in_stock.unwrap_or(true),
            exclude,
            allow_repeat: q.allow_repeat.unwrap_or(false),
        },
        blend: Blend {
            popularity: q.popularity_weight.unwrap_or(0.0),
            novelty: q.novelty_weight.unwrap_or(0.0),
            max_per_category: q.max_per_category,
            explore: q.explore.unwrap_or(0.0),
            session_weight: q.session_weight.unwrap_or(config.session_weight),
            session_hours: q.session_hours.unwrap_or(config.session_hours),
            at: None,
        },
        hours,
    })
}

/// Run blocking work (fits, the store, long scorings) off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    Ok(tokio::task::spawn_blocking(f).await?)
}
