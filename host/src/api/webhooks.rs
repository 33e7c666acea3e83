//! The public webhook receivers (the channels' one is beside the orders). The store's: the raw request goes to the store's connector to verify and
//! decode; 401 for a bad signature (the sender should stop), 503 when it cannot be acted on
//! now (the sender retries), 200 otherwise, duplicates included.

use super::{ApiError, ApiState};
use crate::connectors::ErrorKind;
use crate::dispatch::store_webhook::{WebhookError, WebhookOutcome, receive_store_webhook};
use crate::model::OrgId;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};

pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/webhooks/store/{org}", post(store_webhook))
        .route("/webhooks/channel/{channel}", post(super::orders::channel_webhook))
}

async fn store_webhook(
    State(state): State<ApiState>,
    Path(org): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookOutcome>, ApiError> {
    let engine = state.engine(OrgId(org)).await?;
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| {
            (name.as_str().to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned())
        })
        .collect();
    match receive_store_webhook(&engine, headers, body.to_vec()).await {
        Ok(outcome) => {
            if outcome.queued > 0 {
                state.work_queued.notify_one();
            }
            Ok(Json(outcome))
        }
        Err(WebhookError::Refused(e)) => Err(match e.kind {
            ErrorKind::Unauthorized(_) => ApiError::Unauthorized(e.to_string()),
            _ => ApiError::BadRequest(e.to_string()),
        }),
        Err(WebhookError::Unavailable(m)) => Err(ApiError::Unavailable(m)),
    }
}
