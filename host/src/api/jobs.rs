//! Failures: every failed job with the reason a merchant can act on, and its retry button.

use super::{ApiError, ApiState};
use crate::auth::Caller;
use crate::db::jobs::FailedJob;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct FailureView {
    pub job: i64,
    pub kind: &'static str,
    pub channel: i64,
    pub product: i64,
    pub state: &'static str,
    pub attempts: i64,
    pub reason: String,
}

impl From<FailedJob> for FailureView {
    fn from(f: FailedJob) -> Self {
        FailureView {
            job: f.id,
            kind: f.kind.as_str(),
            channel: f.channel_id.0,
            product: f.product_id.0,
            state: f.state.as_str(),
            attempts: f.attempts,
            reason: f.error,
        }
    }
}

pub fn router() -> Router<ApiState> {
    Router::new().route("/api/failures", get(failures)).route("/api/jobs/{job}/retry", post(retry))
}

/// The caller's organization's failed jobs.
async fn failures(caller: Caller, State(state): State<ApiState>) -> Result<Json<Vec<FailureView>>, ApiError> {
    let failed = state.app.db.failed_jobs_of(Some(caller.org)).await?;
    Ok(Json(failed.into_iter().map(FailureView::from).collect()))
}

async fn retry(
    caller: Caller,
    State(state): State<ApiState>,
    Path(job): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    state.job_of(&caller, job).await?;
    if !state.app.db.retry_now(job).await? {
        return Err(ApiError::Conflict(format!("job {job} is not failed, so there is nothing to retry")));
    }
    state.work_queued.notify_one();
    Ok(Json(serde_json::json!({ "job": job, "queued": true })))
}
