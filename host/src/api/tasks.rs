//! Bulk retries as background tasks, and reading their progress: retrying every failed order
//! of a channel (optionally of one failure kind) or every failed job of the organization
//! answers 202 with the task at once; `GET /api/orgs/{org}/tasks/{id}` follows it to the end.

use super::task_board::{TaskHandle, TaskKind, TaskView};
use super::{ApiError, ApiState};
use crate::auth::Caller;
use crate::model::ChannelId;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use schemars::JsonSchema;
use serde::Deserialize;

/// Records a task handles between two wake-ups of the workers (and two checks for cancel).
const BATCH: usize = 50;

pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/orgs/{org}/tasks", get(list))
        .route("/api/orgs/{org}/tasks/{task}", get(one).delete(cancel))
        .route("/api/orgs/{org}/failures/retry", post(retry_jobs))
        .route("/api/channels/{channel}/orders/retry", post(retry_orders))
}

async fn list(
    caller: Caller,
    State(state): State<ApiState>,
    Path(org): Path<i64>,
) -> Result<Json<Vec<TaskView>>, ApiError> {
    let org = state.org_of(&caller, org)?;
    Ok(Json(state.tasks.list(org)))
}

async fn one(
    caller: Caller,
    State(state): State<ApiState>,
    Path((org, task)): Path<(i64, u64)>,
) -> Result<Json<TaskView>, ApiError> {
    let org = state.org_of(&caller, org)?;
    Ok(Json(state.tasks.get(org, task)?))
}

/// Asks a running task to stop after its current batch; it ends `cancelled`.
async fn cancel(
    caller: Caller,
    State(state): State<ApiState>,
    Path((org, task)): Path<(i64, u64)>,
) -> Result<Json<TaskView>, ApiError> {
    let org = state.org_of(&caller, org)?;
    Ok(Json(state.tasks.cancel(org, task)?))
}

/// 202 with the task, and where to follow it.
fn accepted(handle: &TaskHandle) -> Response {
    let view = handle.view();
    let location = format!("/api/orgs/{}/tasks/{}", view.organization, view.id);
    (StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(view)).into_response()
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RetryQuery {
    /// Only orders failed with this kind (`unlinked_sku`…).
    kind: Option<String>,
}

/// Retries every failed order of the channel (of one failure kind with `?kind=`).
async fn retry_orders(
    caller: Caller,
    State(state): State<ApiState>,
    Path(channel): Path<i64>,
    Query(q): Query<RetryQuery>,
) -> Result<Response, ApiError> {
    let row = state.channel_of(&caller, channel).await?;
    let scope = match &q.kind {
        Some(kind) => format!("channel {}: orders failed with {kind}", row.id),
        None => format!("channel {}: every failed order", row.id),
    };
    let handle = state.tasks.start(row.org_id, TaskKind::RetryOrders, scope)?;
    let answer = accepted(&handle);
    state.tasks.spawn(retry_orders_task(state.clone(), handle, row.id, q.kind));
    Ok(answer)
}

async fn retry_orders_task(state: ApiState, handle: TaskHandle, channel: ChannelId, kind: Option<String>) {
    let db = &state.app.db;
    let ids = match db.failed_order_ids(channel, kind.as_deref()).await {
        Ok(ids) => ids,
        Err(e) => return handle.fail(format!("listing the failed orders of channel {channel}: {e}")),
    };
    handle.set_total(ids.len() as u64);
    for batch in ids.chunks(BATCH) {
        if handle.cancelled() {
            break;
        }
        for &order in batch {
            match db.retry_failed_order(order).await {
                Ok(retried) => handle.advance(retried),
                Err(e) => handle.error(format!("order {order}: {e}")),
            }
        }
        state.work_queued.notify_one();
    }
    handle.finish();
}

/// Retries every failed job of the organization (the failures page's "Retry all").
async fn retry_jobs(
    caller: Caller,
    State(state): State<ApiState>,
    Path(org): Path<i64>,
) -> Result<Response, ApiError> {
    let org = state.org_of(&caller, org)?;
    let handle =
        state.tasks.start(org, TaskKind::RetryJobs, format!("organization {org}: every failed job"))?;
    let answer = accepted(&handle);
    state.tasks.spawn(retry_jobs_task(state.clone(), handle, org));
    Ok(answer)
}

async fn retry_jobs_task(state: ApiState, handle: TaskHandle, org: crate::model::OrgId) {
    let db = &state.app.db;
    let jobs = match db.failed_jobs_of(Some(org)).await {
        Ok(jobs) => jobs,
        Err(e) => return handle.fail(format!("listing the failed jobs of organization {org}: {e}")),
    };
    handle.set_total(jobs.len() as u64);
    for batch in jobs.chunks(BATCH) {
        if handle.cancelled() {
            break;
        }
        for job in batch {
            match db.retry_now(job.id).await {
                Ok(retried) => handle.advance(retried),
                Err(e) => handle.error(format!(
                    "job {} ({} of product {} on channel {}): {e}",
                    job.id,
                    job.kind.as_str(),
                    job.product_id,
                    job.channel_id
                )),
            }
        }
        state.work_queued.notify_one();
    }
    handle.finish();
}
