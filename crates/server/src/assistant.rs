//! Product search (`GET /search`) and the shopping assistant (`POST /assistant`) over the
//! guide, with the engine's personal scores for a known shopper.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use daogou_engine::{Pick, Reason};
use daogou_guide::AskRequest;
use serde::Deserialize;
use serde_json::json;

use crate::config::Limits;
use crate::error::ApiError;
use crate::guide::guide_error;
use crate::http::{blocking, body, check_id, check_n, json_value, query, typed};
use crate::state::AppState;

type S = State<Arc<AppState>>;
type ApiResult = Result<Response, ApiError>;

/// Most recent distinct history items handed to the guide for its reasons.
const HISTORY_ITEMS: usize = 50;

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
    let q = query(q)?;
    let text = q.q.unwrap_or_default();
    if text.trim().is_empty() {
        return Err(ApiError::bad_request("q: the search text is required"));
    }
    if text.len() > Limits::MAX_TEXT_BYTES {
        return Err(ApiError::bad_request(format!("q: longer than {} bytes", Limits::MAX_TEXT_BYTES)));
    }
    let n = check_n(q.n, 10, s.config.limits.max_n, "n")?;
    let s2 = s.clone();
    let items = blocking(move || -> Result<Vec<Pick>, ApiError> {
        let b = s2.guide.get(&s2.engine)?;
        let hits = b.guide.search(&text, n).map_err(guide_error)?;
        let cat = s2.engine.catalogue();
        let reason = Reason::Matches(&text);
        Ok(hits
            .into_iter()
            .filter(|&(i, _)| (i as usize) < cat.len() && !cat.get(i).deleted)
            .map(|(i, score)| Pick::new(cat.get(i), score, &reason, None))
            .collect())
    })
    .await??;
    s.metrics.note_served(items.iter().map(|p| p.item.as_str()));
    Ok(Json(json!({"items": items})).into_response())
}

async fn assistant(State(s): S, b: Result<Bytes, BytesRejection>) -> ApiResult {
    let mut req: AskRequest = typed(json_value(&body(b)?)?, "ask")?;
    if let Some(n) = req.n {
        check_n(Some(n), 10, s.config.limits.max_n, "ask.n")?;
    }
    if let Some(u) = &req.user {
        check_id(u, "ask.user")?;
        req.user = Some(s.user_id(u)); // the guide (and its conversations) see stored ids only
    }
    let s2 = s.clone();
    let answer = blocking(move || -> Result<daogou_guide::Answer, ApiError> {
        let b = s2.guide.get(&s2.engine)?;
        let (personal, history) = match &req.user {
            Some(u) => s2.engine.personal(&s2.snapshot(), u, HISTORY_ITEMS)?,
            None => (None, Vec::new()),
        };
        b.guide.ask(&req, personal.as_deref(), &history).map_err(guide_error)
    })
    .await??;
    s.metrics.note_served(answer.items.iter().map(|p| p.id.as_str()));
    Ok(Json(answer).into_response())
}
