//! `GET /healthz` (the process answers) and `GET /readyz` (the database answers, the
//! service's loops run, and the queue moves: no job stays leased past its lease for longer
//! than one more lease). `/readyz` answers 503 with the reasons when not ready.

use super::ApiState;
use crate::db::health::StuckWork;
use crate::supervisor::{TaskState, TaskStates};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;
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

/// The process answers.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Liveness {
    /// Always `ok`.
    pub status: &'static str,
}

/// Whether the service can do its work, and if not, why.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Readiness {
    pub ready: bool,
    /// What is wrong and what is being done about it (empty when ready).
    pub problems: Vec<String>,
    /// `ok`, or `error: …`.
    pub database: String,
    /// Work that is not moving (null when the database did not answer).
    pub stuck: Option<Stuck>,
    /// Each service loop of `serve` (empty when the API runs without them).
    pub tasks: BTreeMap<&'static str, TaskState>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Stuck {
    pub counts: StuckWork,
    pub detail: String,
}

async fn healthz() -> Json<Liveness> {
    Json(Liveness { status: "ok" })
}

async fn readyz(State(state): State<ApiState>) -> (StatusCode, Json<Readiness>) {
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
    let body = Readiness {
        ready: problems.is_empty(),
        problems,
        database,
        stuck: stuck.map(|counts| Stuck { detail: counts.describe(), counts }),
        tasks,
    };
    (status, Json(body))
}
