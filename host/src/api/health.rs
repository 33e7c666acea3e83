//! `GET /healthz` (the process answers) and `GET /readyz` (the database answers, the
//! service's loops run, and the queue moves: no job stays leased past its lease for longer
//! than one more lease). `/readyz` answers 503 with the reasons when not ready.

use super::ApiState;
use crate::supervisor::TaskStates;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use std::time::Duration;

/// What the readiness check knows beyond the database: the supervised loops (empty when
/// the API runs without `serve`'s loops) and the lease the queue works with.
#[derive(Debug, Clone)]
pub struct Health {
    pub tasks: TaskStates,
    pub lease: Duration,
}

impl Default for Health {
    fn default() -> Self {
        Health { tasks: TaskStates::default(), lease: crate::dispatch::QueueSettings::default().lease }
    }
}

pub fn router() -> Router<ApiState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(State(state): State<ApiState>) -> (StatusCode, Json<serde_json::Value>) {
    let mut problems = Vec::new();
    let database = match state.app.db.ping().await {
        Ok(()) => "ok".to_string(),
        Err(e) => {
            problems.push(format!("the database does not answer: {e}"));
            format!("error: {e}")
        }
    };
    let stuck = match state.app.db.stuck_work(None).await {
        Ok(stuck) => {
            let grace = i64::try_from(state.health.lease.as_secs()).unwrap_or(i64::MAX);
            if stuck.expired_leases > 0 && stuck.oldest_expired_secs >= grace {
                problems.push(format!("the queue is not moving: {}", stuck.describe()));
            }
            Some(stuck)
        }
        Err(_) => None,
    };
    let tasks = state.health.tasks.snapshot();
    for (name, task) in &tasks {
        if !task.running {
            problems.push(format!(
                "service task {name} is not running (restarted {} time(s); last end: {}); it is \
                 being restarted",
                task.restarts,
                task.last_end.as_deref().unwrap_or("none")
            ));
        }
    }
    let status = if problems.is_empty() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = serde_json::json!({
        "ready": problems.is_empty(),
        "problems": problems,
        "database": database,
        "stuck": stuck.as_ref().map(|s| serde_json::json!({ "counts": s, "detail": s.describe() })),
        "tasks": tasks,
    });
    (status, Json(body))
}
