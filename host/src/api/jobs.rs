//! Failures: every failed job with the reason a merchant can act on, and its retry button;
//! and stuck jobs (leased past their lease) with what is being done about them.

use super::{ApiError, ApiState};
use crate::auth::Caller;
use crate::db::jobs::FailedJob;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

#[derive(Debug, Serialize, schemars::JsonSchema)]
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

/// The caller's organization's failed jobs, then its stuck ones (state `stuck`): jobs leased past their lease, whose worker
/// stopped, with what is being done about them.
async fn failures(caller: Caller, State(state): State<ApiState>) -> Result<Json<Vec<FailureView>>, ApiError> {
    let mut views: Vec<FailureView> =
        state.app.db.failed_jobs_of(Some(caller.org)).await?.into_iter().map(FailureView::from).collect();
    let channels: Vec<_> = state.app.db.channels(caller.org).await?.into_iter().map(|c| c.id).collect();
    for stuck in state.app.db.expired_jobs().await?.into_iter().filter(|j| channels.contains(&j.channel_id)) {
        views.push(FailureView {
            job: stuck.id,
            kind: crate::db::jobs::JobKind::parse(&stuck.kind).map_or("unknown", |k| k.as_str()),
            channel: stuck.channel_id.0,
            product: stuck.product_id.0,
            state: "stuck",
            attempts: stuck.attempts,
            reason: format!(
                "leased past its lease by {} s: its worker stopped (a crash or a stopped `serve`); \
                 the queue takes it back and runs it again on its next round — if this stays, \
                 check that `serve` runs and what /readyz says",
                stuck.expired_secs
            ),
        });
    }
    Ok(Json(views))
}

async fn retry(
    caller: Caller,
    State(state): State<ApiState>,
    Path(job): Path<i64>,
) -> Result<Json<JobRetried>, ApiError> {
    state.job_of(&caller, job).await?;
    if !state.app.db.retry_now(job).await? {
        return Err(ApiError::Conflict(format!("job {job} is not failed, so there is nothing to retry")));
    }
    state.work_queued.notify_one();
    Ok(Json(JobRetried { job, queued: true }))
}

/// A failed job queued again.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct JobRetried {
    pub job: i64,
    pub queued: bool,
}
