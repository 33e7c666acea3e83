//! What every flow shares about work: a job's outcome (done, skipped by a rule with its
//! reason, retried with backoff, failed with a reason a merchant can act on), backoff, and
//! how a panic is told. The loop that claims and runs jobs is `dispatch::jobs`.

pub mod backoff;

use std::time::Duration;

pub use backoff::{Backoff, retry_inline};

/// A task that panicked, told as a failure a merchant can act on: what broke, the panic's
/// own message, and that retrying needs a fixed Crossdock (the panic is a bug).
pub fn panic_reason(what: &str, error: tokio::task::JoinError) -> String {
    if error.is_cancelled() {
        return format!("{what} was cancelled before it finished; retry it");
    }
    let payload = error.into_panic();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string());
    format!(
        "{what} stopped on an internal error (panic: {message}); this is a bug in Crossdock: \
         report it with this message, and retry once a fixed version runs"
    )
}

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

#[cfg(test)]
mod tests {
    use super::panic_reason;

    #[tokio::test]
    async fn a_panicking_task_becomes_a_failure_with_its_cause() {
        let joined = tokio::spawn(async { panic!("stock share overflowed") }).await;
        let reason = panic_reason("job 7 (push_listing)", joined.expect_err("it panicked"));
        assert!(reason.starts_with("job 7 (push_listing) stopped on an internal error"), "{reason}");
        assert!(reason.contains("stock share overflowed") && reason.contains("report it"), "{reason}");
    }
}
