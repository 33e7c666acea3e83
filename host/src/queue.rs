//! The job machinery: workers claim jobs, run them through the sync engine and settle each
//! as done, skipped by a rule (with its reason), retried with backoff, or failed with a
//! reason a merchant can act on.

pub mod backoff;
pub mod worker;

use std::time::Duration;

pub use backoff::{Backoff, retry_inline};
pub use worker::{QueueSettings, run_due, run_until_idle};

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Done,
    /// A rule decided the record does not cross.
    Skipped(String),
    /// Poll again later (e.g. a review still in progress); not a failure.
    Again(Duration),
    Failed {
        reason: String,
        retry: Retry,
    },
}

/// Whether a failed job is worth another try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Someone must change something first.
    Never,
    /// Retry with backoff, or after the delay the platform asked for.
    After(Option<Duration>),
}

impl JobOutcome {
    pub fn failed(reason: impl Into<String>) -> Self {
        JobOutcome::Failed { reason: reason.into(), retry: Retry::Never }
    }
}

impl From<crate::connectors::ConnectorError> for JobOutcome {
    fn from(e: crate::connectors::ConnectorError) -> Self {
        let retry = if e.is_retryable() { Retry::After(e.retry_after()) } else { Retry::Never };
        JobOutcome::Failed { reason: e.to_string(), retry }
    }
}
