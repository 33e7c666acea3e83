//! Bulk query operations (`bulkOperationRunQuery`): the shop's operations, their statuses over
//! time, and their result files. An operation runs its query at once against the shop as it
//! was when it was submitted (so the file is fixed from the start), then reports `RUNNING` for
//! [`BulkSettings::run_time`] before it reaches `COMPLETED` (or `FAILED`, when the control API
//! asked the next one to fail), so clients have to poll. The file is served from the sandbox
//! itself at a signed URL (see `bulk/download.rs`).
//!
//! API 2026-01 lets an app run up to five bulk query operations at a time per shop (earlier
//! versions one); a sixth is refused with `LIMIT_REACHED`. Bulk operations do not spend the
//! cost bucket: only the mutation (10 points) and the polls do.
//!
//! Choices of ours where Shopify does not publish its behaviour: a status read after
//! submission is `RUNNING` at once (`CREATED` shows only in the mutation's answer);
//! `objectCount` grows evenly while it runs; a cancelled operation is `CANCELING` for
//! [`CANCEL_TIME`], then `CANCELED`; a failed operation (`INTERNAL_SERVER_ERROR` or `TIMEOUT`)
//! offers the first half of its lines as `partialDataUrl`, `ACCESS_DENIED` nothing; an
//! operation whose query found nothing completes with `url` and `fileSize` null. `EXPIRED`
//! (seven days on) and `bulkOperationRunMutation` are not simulated.

pub mod download;
pub mod jsonl;

use super::user_error::Refusal;
use jsonl::BulkFile;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;
use tokio::time::Instant;

/// How long a cancelled operation stays `CANCELING`.
pub const CANCEL_TIME: Duration = Duration::from_millis(50);
/// Bulk query operations per shop at once from API 2026-01.
pub const MAX_CONCURRENT: usize = 5;
/// Bulk operation ids count up from here.
const OPERATION_ID_BASE: u64 = 5_100_000_000;

/// `BulkOperationStatus`.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[graphql(name = "BulkOperationStatus")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BulkStatus {
    Canceled,
    Canceling,
    Completed,
    Created,
    Expired,
    Failed,
    Running,
}

/// `BulkOperationErrorCode`: why an operation failed.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[graphql(name = "BulkOperationErrorCode")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BulkErrorCode {
    AccessDenied,
    InternalServerError,
    Timeout,
}

/// `BulkOperationUserErrorCode` (2026-01).
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "BulkOperationUserErrorCode")]
pub enum BulkUserErrorCode {
    Invalid,
    LimitReached,
    OperationInProgress,
}

/// How the sandbox runs bulk operations; `PUT /_sandbox/bulk` takes this shape (durations in
/// whole milliseconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BulkSettings {
    /// How long an operation reports `RUNNING` before it completes.
    #[serde(rename = "run_ms", with = "crate::chaos::millis")]
    pub run_time: Duration,
    /// Bulk query operations that may run at once (Shopify 2026-01: 5).
    pub max_concurrent: usize,
    /// The next operation fails with this `errorCode` instead of completing.
    pub fail_next: Option<BulkErrorCode>,
}

impl Default for BulkSettings {
    fn default() -> Self {
        BulkSettings { run_time: Duration::from_millis(500), max_concurrent: MAX_CONCURRENT, fail_next: None }
    }
}

impl BulkSettings {
    /// Why these settings cannot be used, if they cannot.
    pub fn problem(&self) -> Option<String> {
        (self.max_concurrent == 0).then(|| "max_concurrent must be at least 1".to_string())
    }
}

/// A bulk operation as a client reads it at one moment (`BulkOperation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulkOperationState {
    pub id: String,
    pub status: BulkStatus,
    pub error_code: Option<BulkErrorCode>,
    /// Unix seconds.
    pub created_at: i64,
    pub completed_at: Option<i64>,
    pub object_count: u64,
    pub root_object_count: u64,
    pub file_size: Option<u64>,
    pub url: Option<String>,
    pub partial_data_url: Option<String>,
    pub query: String,
}

/// One submitted operation.
struct Operation {
    number: u64,
    query: String,
    created_at: i64,
    started: Instant,
    run_time: Duration,
    file: Arc<BulkFile>,
    partial: Arc<BulkFile>,
    failure: Option<BulkErrorCode>,
    canceled: Option<Instant>,
    /// The random part of the file's object name.
    object: String,
}

/// The shop's bulk operations.
pub struct BulkOperations {
    inner: Mutex<Inner>,
    /// `http://127.0.0.1:PORT`, known once the server listens.
    base_url: OnceLock<String>,
    /// Signs download URLs.
    secret: [u8; 32],
    /// Result file downloads, refused ones included.
    downloads: AtomicU64,
}

struct Inner {
    settings: BulkSettings,
    operations: Vec<Operation>,
}

impl Default for BulkOperations {
    fn default() -> Self {
        BulkOperations {
            inner: Mutex::new(Inner { settings: BulkSettings::default(), operations: Vec::new() }),
            base_url: OnceLock::new(),
            secret: rand::random(),
            downloads: AtomicU64::new(0),
        }
    }
}

impl BulkOperations {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().expect("bulk operations lock is never poisoned: no code panics while holding it")
    }

    /// Where the result files are served from; set once, when the server listens.
    pub fn set_base_url(&self, base_url: String) {
        let _ = self.base_url.set(base_url);
    }

    pub fn settings(&self) -> BulkSettings {
        self.lock().settings.clone()
    }

    pub fn set_settings(&self, settings: BulkSettings) {
        self.lock().settings = settings;
    }

    /// A refusal when as many operations run as may; checked before the query runs, and
    /// again when it is registered.
    pub fn check_room(&self) -> Result<(), Refusal<BulkUserErrorCode>> {
        let inner = self.lock();
        let now = Instant::now();
        let running = inner.operations.iter().filter(|op| op.is_active(now)).count();
        if running >= inner.settings.max_concurrent {
            let max = inner.settings.max_concurrent;
            return Err(Refusal::new(
                BulkUserErrorCode::LimitReached,
                &[],
                format!(
                    "Bulk operations limit reached: {max} bulk query operations are already running for this app and shop. Please try again later."
                ),
            ));
        }
        Ok(())
    }

    /// Registers an operation whose query produced `file`; answers it as `CREATED`.
    pub fn start(
        &self,
        query: String,
        file: BulkFile,
        created_at: i64,
    ) -> Result<BulkOperationState, Refusal<BulkUserErrorCode>> {
        self.check_room()?;
        let mut inner = self.lock();
        let number = OPERATION_ID_BASE + inner.operations.len() as u64 + 1;
        let failure = inner.settings.fail_next.take();
        let partial = Arc::new(file.partial());
        let operation = Operation {
            number,
            query,
            created_at,
            started: Instant::now(),
            run_time: inner.settings.run_time,
            file: Arc::new(file),
            partial,
            failure,
            canceled: None,
            object: hex::encode(rand::random::<[u8; 16]>()),
        };
        let mut state = self.state(&operation, operation.started);
        state.status = BulkStatus::Created;
        inner.operations.push(operation);
        Ok(state)
    }

    /// The operation with this numeric id, as it is now.
    pub fn find(&self, number: u64) -> Option<BulkOperationState> {
        let inner = self.lock();
        let now = Instant::now();
        inner.operations.iter().find(|op| op.number == number).map(|op| self.state(op, now))
    }

    /// The most recent operation (`currentBulkOperation`).
    pub fn latest(&self) -> Option<BulkOperationState> {
        let inner = self.lock();
        inner.operations.last().map(|op| self.state(op, Instant::now()))
    }

    /// Every operation, oldest first.
    pub fn all(&self) -> Vec<BulkOperationState> {
        let inner = self.lock();
        let now = Instant::now();
        inner.operations.iter().map(|op| self.state(op, now)).collect()
    }

    /// Cancels a running operation (`bulkOperationCancel`); the message says why not.
    pub fn cancel(&self, number: u64) -> Result<BulkOperationState, String> {
        let mut inner = self.lock();
        let now = Instant::now();
        let Some(operation) = inner.operations.iter_mut().find(|op| op.number == number) else {
            return Err("Bulk operation does not exist".into());
        };
        match operation.status(now) {
            BulkStatus::Created | BulkStatus::Running => {}
            done => {
                let done = format!("{done:?}").to_lowercase();
                return Err(format!("A bulk operation cannot be canceled when it is {done}"));
            }
        }
        operation.canceled = Some(now);
        Ok(self.state(operation, now))
    }

    /// The bytes behind a download object name (`…-final` or `…-partial`), once the
    /// operation's URL has been handed out.
    pub fn file(&self, object: &str) -> Option<Arc<BulkFile>> {
        let inner = self.lock();
        let now = Instant::now();
        inner.operations.iter().find_map(|op| {
            let status = op.status(now);
            if object.strip_suffix("-final") == Some(op.object.as_str()) && status == BulkStatus::Completed {
                Some(Arc::clone(&op.file))
            } else if object.strip_suffix("-partial") == Some(op.object.as_str())
                && status == BulkStatus::Failed
            {
                Some(Arc::clone(&op.partial))
            } else {
                None
            }
        })
    }

    /// Counts one download request.
    pub fn count_download(&self) {
        self.downloads.fetch_add(1, Ordering::Relaxed);
    }

    /// Download requests so far, refused ones included.
    pub fn downloads(&self) -> u64 {
        self.downloads.load(Ordering::Relaxed)
    }

    pub(super) fn secret(&self) -> &[u8] {
        &self.secret
    }

    fn signed_url(&self, object: &str, signed_at: i64) -> String {
        let base = self.base_url.get().map_or("http://127.0.0.1", String::as_str);
        download::signed_url(base, object, &self.secret, signed_at)
    }

    fn state(&self, op: &Operation, now: Instant) -> BulkOperationState {
        let status = op.status(now);
        let elapsed = now.saturating_duration_since(op.started);
        let share = |n: u64| -> u64 {
            if op.run_time.is_zero() || elapsed >= op.run_time {
                return n;
            }
            (n as f64 * elapsed.as_secs_f64() / op.run_time.as_secs_f64()) as u64
        };
        let finished_at = op.created_at + op.run_time.as_secs_f64().ceil() as i64;
        let mut state = BulkOperationState {
            id: format!("gid://shopify/BulkOperation/{}", op.number),
            status,
            error_code: None,
            created_at: op.created_at,
            completed_at: None,
            object_count: share(op.file.objects),
            root_object_count: share(op.file.roots),
            file_size: None,
            url: None,
            partial_data_url: None,
            query: op.query.clone(),
        };
        match status {
            BulkStatus::Completed => {
                state.completed_at = Some(finished_at);
                if !op.file.bytes.is_empty() {
                    state.file_size = Some(op.file.bytes.len() as u64);
                    state.url = Some(self.signed_url(&format!("{}-final", op.object), finished_at));
                }
            }
            BulkStatus::Failed => {
                state.error_code = op.failure;
                state.object_count = op.partial.objects;
                state.root_object_count = op.partial.roots;
                let partial = op.failure != Some(BulkErrorCode::AccessDenied) && !op.partial.bytes.is_empty();
                if partial {
                    state.partial_data_url =
                        Some(self.signed_url(&format!("{}-partial", op.object), finished_at));
                }
            }
            _ => {}
        }
        state
    }
}

impl Operation {
    fn status(&self, now: Instant) -> BulkStatus {
        if let Some(canceled) = self.canceled {
            return if now < canceled + CANCEL_TIME { BulkStatus::Canceling } else { BulkStatus::Canceled };
        }
        if now < self.started + self.run_time {
            return BulkStatus::Running;
        }
        if self.failure.is_some() { BulkStatus::Failed } else { BulkStatus::Completed }
    }

    fn is_active(&self, now: Instant) -> bool {
        matches!(self.status(now), BulkStatus::Created | BulkStatus::Running | BulkStatus::Canceling)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(lines: usize) -> BulkFile {
        let mut bytes = Vec::new();
        for i in 0..lines {
            bytes.extend_from_slice(format!("{{\"id\":\"gid://shopify/Product/{i}\"}}\n").as_bytes());
        }
        BulkFile { bytes, objects: lines as u64, roots: lines as u64 }
    }

    #[tokio::test(start_paused = true)]
    async fn an_operation_runs_for_the_set_time_then_completes_with_a_url() {
        let bulk = BulkOperations::default();
        bulk.set_base_url("http://127.0.0.1:9".into());
        bulk.set_settings(BulkSettings { run_time: Duration::from_secs(2), ..BulkSettings::default() });
        let started =
            bulk.start("{ products { nodes { id } } }".into(), file(10), 1_768_471_200).expect("room");
        assert_eq!(started.status, BulkStatus::Created);
        assert_eq!(started.id, "gid://shopify/BulkOperation/5100000001");
        tokio::time::advance(Duration::from_secs(1)).await;
        let running = bulk.find(5_100_000_001).expect("found");
        assert_eq!((running.status, running.object_count, running.url), (BulkStatus::Running, 5, None));
        tokio::time::advance(Duration::from_secs(1)).await;
        let done = bulk.latest().expect("found");
        assert_eq!(done.status, BulkStatus::Completed);
        assert_eq!(done.completed_at, Some(1_768_471_202));
        assert_eq!(done.object_count, 10);
        assert_eq!(done.file_size, Some(file(10).bytes.len() as u64));
        let url = done.url.expect("a url");
        assert!(url.starts_with("http://127.0.0.1:9/bulk-operation-outputs/"), "{url}");
        assert!(url.contains("X-Goog-Signature="), "{url}");
        let object = url.split('/').nth(4).and_then(|s| s.split('?').next()).expect("object");
        assert_eq!(bulk.file(object).map(|f| f.objects), Some(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_sixth_running_operation_is_refused_and_a_finished_one_frees_its_place() {
        let bulk = BulkOperations::default();
        for _ in 0..MAX_CONCURRENT {
            bulk.start("{}".into(), file(1), 0).expect("room");
        }
        let refused = bulk.start("{}".into(), file(1), 0).expect_err("full");
        assert_eq!(refused.code, Some(BulkUserErrorCode::LimitReached));
        assert!(bulk.cancel(5_100_000_001).is_ok());
        assert_eq!(bulk.find(5_100_000_001).map(|s| s.status), Some(BulkStatus::Canceling));
        tokio::time::advance(CANCEL_TIME).await;
        assert_eq!(bulk.find(5_100_000_001).map(|s| s.status), Some(BulkStatus::Canceled));
        assert!(bulk.start("{}".into(), file(1), 0).is_ok());
        let again = bulk.cancel(5_100_000_001).expect_err("already canceled");
        assert_eq!(again, "A bulk operation cannot be canceled when it is canceled");
        assert_eq!(bulk.cancel(1).expect_err("unknown"), "Bulk operation does not exist");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_operation_offers_its_partial_data() {
        let bulk = BulkOperations::default();
        bulk.set_settings(BulkSettings {
            fail_next: Some(BulkErrorCode::InternalServerError),
            ..BulkSettings::default()
        });
        bulk.start("{}".into(), file(10), 0).expect("room");
        bulk.start("{}".into(), file(0), 0).expect("room");
        tokio::time::advance(BulkSettings::default().run_time).await;
        let [failed, empty] = bulk.all().try_into().expect("two operations");
        assert_eq!(
            (failed.status, failed.error_code),
            (BulkStatus::Failed, Some(BulkErrorCode::InternalServerError))
        );
        assert_eq!((failed.object_count, failed.url), (5, None));
        assert!(failed.partial_data_url.is_some());
        assert_eq!(bulk.settings().fail_next, None, "only the next operation fails");
        assert_eq!((empty.status, empty.url, empty.file_size), (BulkStatus::Completed, None, None));
    }
}
