//! Bulk work off the request path: a retry of every failed order or job runs as a background
//! task whose progress (done of total, errors, state) anyone of the organization can read.
//! The board is kept in memory: a restart forgets every task (none is left `running`), and
//! the work a task had done stays done. One running task per kind per organization.

use super::ApiError;
use crate::db::now_ms;
use crate::model::OrgId;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio_util::task::TaskTracker;

/// Finished tasks kept per organization, newest first, for `GET /api/orgs/{org}/tasks`.
pub const KEPT_PER_ORG: usize = 20;
/// Error messages kept per task (the count goes on).
pub const KEPT_ERRORS: usize = 20;

/// What a task does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Retry every failed order of a channel (optionally of one failure kind).
    RetryOrders,
    /// Retry every failed catalog job of the organization.
    RetryJobs,
}

impl TaskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::RetryOrders => "retry_orders",
            TaskKind::RetryJobs => "retry_jobs",
        }
    }
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Running,
    Done,
    /// Stopped by an error (in `errors`); what it did before stays done.
    Failed,
    /// Stopped by `DELETE /api/orgs/{org}/tasks/{id}`; what it did before stays done.
    Cancelled,
}

/// A task as its watchers see it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TaskView {
    pub id: u64,
    pub organization: OrgId,
    pub kind: TaskKind,
    /// What it works on, in words (`channel 2, orders failed with unlinked_sku`).
    pub scope: String,
    pub state: TaskState,
    /// Records handled so far (retried, or found no longer failed).
    pub done: u64,
    /// Records to handle (known once the task listed them).
    pub total: u64,
    /// Records queued again.
    pub retried: u64,
    /// The first errors, each naming its record.
    pub errors: Vec<String>,
    pub error_count: u64,
    /// Unix ms.
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

#[derive(Debug)]
struct Entry {
    view: TaskView,
    cancel: Arc<AtomicBool>,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    /// Newest last.
    tasks: VecDeque<Entry>,
}

/// Every organization's recent tasks. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct TaskBoard {
    inner: Arc<Mutex<Inner>>,
    tracker: TaskTracker,
}

/// The running task's side of the board: reports progress, learns of a cancel, and marks
/// the task failed if it ends without saying how.
#[derive(Debug)]
pub struct TaskHandle {
    board: TaskBoard,
    id: u64,
    cancel: Arc<AtomicBool>,
    finished: bool,
}

impl TaskBoard {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a running task, or refuses (409 naming the running one) when the
    /// organization already runs one of this kind.
    pub fn start(&self, org: OrgId, kind: TaskKind, scope: String) -> Result<TaskHandle, ApiError> {
        let mut inner = self.lock();
        if let Some(running) = inner
            .tasks
            .iter()
            .find(|e| e.view.organization == org && e.view.kind == kind && e.view.state == TaskState::Running)
        {
            let id = running.view.id;
            return Err(ApiError::Busy {
                message: format!(
                    "a {} task of organization {org} is running (task {id}): follow it with GET \
                     /api/orgs/{org}/tasks/{id}, or cancel it with DELETE, and try again when it ends",
                    kind.as_str()
                ),
                task: id,
            });
        }
        inner.next_id += 1;
        let id = inner.next_id;
        let cancel = Arc::new(AtomicBool::new(false));
        let view = TaskView {
            id,
            organization: org,
            kind,
            scope,
            state: TaskState::Running,
            done: 0,
            total: 0,
            retried: 0,
            errors: Vec::new(),
            error_count: 0,
            started_at: now_ms(),
            finished_at: None,
        };
        inner.tasks.push_back(Entry { view, cancel: cancel.clone() });
        // Forget the organization's oldest finished tasks past the bound.
        let finished =
            inner.tasks.iter().filter(|e| e.view.organization == org && e.view.finished_at.is_some());
        let excess = finished.count().saturating_sub(KEPT_PER_ORG);
        if excess > 0 {
            let mut dropped = 0;
            inner.tasks.retain(|e| {
                let drop = dropped < excess && e.view.organization == org && e.view.finished_at.is_some();
                dropped += usize::from(drop);
                !drop
            });
        }
        Ok(TaskHandle { board: self.clone(), id, cancel, finished: false })
    }

    /// Runs `work` in the background, owned by the board's tracker.
    pub fn spawn<F>(&self, work: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(work);
    }

    /// The organization's task, or 404 (another organization's answers the same).
    pub fn get(&self, org: OrgId, id: u64) -> Result<TaskView, ApiError> {
        self.lock()
            .tasks
            .iter()
            .find(|e| e.view.id == id && e.view.organization == org)
            .map(|e| e.view.clone())
            .ok_or_else(|| ApiError::NotFound(format!("task {id}")))
    }

    /// The organization's recent tasks, newest first.
    pub fn list(&self, org: OrgId) -> Vec<TaskView> {
        self.lock()
            .tasks
            .iter()
            .rev()
            .filter(|e| e.view.organization == org)
            .map(|e| e.view.clone())
            .collect()
    }

    /// Asks the organization's task to stop; its view as it stands (409 when it has ended).
    pub fn cancel(&self, org: OrgId, id: u64) -> Result<TaskView, ApiError> {
        let inner = self.lock();
        let entry = inner
            .tasks
            .iter()
            .find(|e| e.view.id == id && e.view.organization == org)
            .ok_or_else(|| ApiError::NotFound(format!("task {id}")))?;
        if entry.view.state != TaskState::Running {
            return Err(ApiError::Conflict(format!("task {id} has ended, so there is nothing to cancel")));
        }
        entry.cancel.store(true, Ordering::Relaxed);
        Ok(entry.view.clone())
    }

    fn update(&self, id: u64, change: impl FnOnce(&mut TaskView)) {
        if let Some(entry) = self.lock().tasks.iter_mut().find(|e| e.view.id == id) {
            change(&mut entry.view);
        }
    }

    /// Waits for every background task to end (tests and shutdown).
    pub async fn idle(&self) {
        self.tracker.close();
        self.tracker.wait().await;
        self.tracker.reopen();
    }
}

impl TaskHandle {
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The task as it stands.
    pub fn view(&self) -> TaskView {
        let inner = self.board.lock();
        inner
            .tasks
            .iter()
            .find(|e| e.view.id == self.id)
            .map(|e| e.view.clone())
            .expect("a running task stays on the board: only finished ones are forgotten")
    }

    pub fn set_total(&self, total: u64) {
        self.board.update(self.id, |v| v.total = total);
    }

    /// One record handled; `retried` when it was queued again.
    pub fn advance(&self, retried: bool) {
        self.board.update(self.id, |v| {
            v.done += 1;
            v.retried += u64::from(retried);
        });
    }

    /// One record that could not be handled, named in `message`.
    pub fn error(&self, message: String) {
        self.board.update(self.id, |v| {
            v.done += 1;
            v.error_count += 1;
            if v.errors.len() < KEPT_ERRORS {
                v.errors.push(message);
            }
        });
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Ends the task: done, or cancelled when it was asked to stop.
    pub fn finish(mut self) {
        let state = if self.cancelled() { TaskState::Cancelled } else { TaskState::Done };
        self.end(state, None);
    }

    /// Ends the task on an error that stops it.
    pub fn fail(mut self, message: String) {
        self.end(TaskState::Failed, Some(message));
    }

    fn end(&mut self, state: TaskState, message: Option<String>) {
        self.finished = true;
        self.board.update(self.id, |v| {
            v.state = state;
            v.finished_at = Some(now_ms());
            if let Some(message) = message {
                v.error_count += 1;
                v.errors.push(message);
            }
        });
    }
}

impl Drop for TaskHandle {
    fn drop(&mut self) {
        if !self.finished {
            self.end(TaskState::Failed, Some("the task stopped without finishing (it panicked)".into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_running_task_per_kind_and_organization_and_its_slot_frees_when_it_ends() {
        let board = TaskBoard::default();
        let first = board.start(OrgId(1), TaskKind::RetryJobs, "jobs".into()).expect("free");
        match board.start(OrgId(1), TaskKind::RetryJobs, "jobs".into()) {
            Err(ApiError::Busy { task, .. }) => assert_eq!(task, first.id()),
            other => panic!("a second one is refused with the first's id: {other:?}"),
        }
        board.start(OrgId(1), TaskKind::RetryOrders, "orders".into()).expect("another kind runs").finish();
        board
            .start(OrgId(2), TaskKind::RetryJobs, "jobs".into())
            .expect("another organization runs")
            .finish();
        first.set_total(2);
        first.advance(true);
        first.error("job 7: gone".into());
        let id = first.id();
        first.finish();
        let view = board.get(OrgId(1), id).expect("kept");
        assert_eq!(
            (view.state, view.done, view.total, view.retried, view.error_count),
            (TaskState::Done, 2, 2, 1, 1)
        );
        assert!(matches!(board.get(OrgId(2), id), Err(ApiError::NotFound(_))), "not another organization's");
        board.start(OrgId(1), TaskKind::RetryJobs, "jobs".into()).expect("free again").finish();
    }

    #[test]
    fn a_task_dropped_without_finishing_is_failed_not_left_running() {
        let board = TaskBoard::default();
        let id = {
            let handle = board.start(OrgId(1), TaskKind::RetryJobs, "jobs".into()).expect("free");
            handle.id()
        };
        assert_eq!(board.get(OrgId(1), id).expect("kept").state, TaskState::Failed);
    }

    #[test]
    fn finished_tasks_are_kept_up_to_the_bound() {
        let board = TaskBoard::default();
        for _ in 0..KEPT_PER_ORG + 5 {
            board.start(OrgId(1), TaskKind::RetryJobs, "jobs".into()).expect("free").finish();
        }
        assert!(board.list(OrgId(1)).len() <= KEPT_PER_ORG + 1);
    }
}
