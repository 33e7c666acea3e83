//! Everything a connector call can end in besides success: what the platform said (typed by
//! the plugin) or what the sandbox stopped. Retry decisions come from `is_retryable` and
//! `retry_after`, never from message text.

use super::plugin_text;
use std::fmt;
use std::time::Duration;

/// Why a connector call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The platform refused the credentials; the merchant must reconnect.
    Unauthorized(String),
    /// The platform throttled the call.
    RateLimited { retry_after: Duration, message: String },
    /// The record does not exist on the platform.
    NotFound(String),
    /// The platform refused a field; the merchant must change something.
    Invalid { field: String, message: String },
    /// Worth retrying: network, 5xx, platform timeouts.
    Transient(String),
    /// Retrying will not help.
    Fatal(String),
    /// The plugin trapped (panic, abort, bad result); `stderr` holds what it printed.
    Trap { message: String, stderr: String },
    /// The plugin used up its CPU budget.
    CpuBudget { budget: Duration },
    /// The plugin asked for more memory than its cap.
    MemoryLimit { limit_bytes: u64 },
    /// The call did not finish within its wall-clock limit.
    Timeout { after: Duration },
    /// The component could not be loaded or does not fit this host.
    Load(String),
    /// No instance slot was free (the instance pool, or this plugin's share of it, is in
    /// use): nothing is wrong, the call is tried again shortly.
    Busy { which: String },
    /// The connection is paused because its plugin kept failing (`reason`, the last
    /// failure); calls run again after `remaining`.
    Paused { remaining: Duration, reason: String },
    /// The plugin was built for a contract version without this operation (a 0.1.0 channel
    /// plugin asked to activate or read back a listing); only a newer build of it helps.
    Unsupported(String),
}

/// A failed connector call, naming the plugin and the operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConnectorError {
    pub plugin: String,
    pub operation: String,
    pub kind: ErrorKind,
}

impl ConnectorError {
    /// The error, its text made safe to show and keep (`plugin_text::clean`: bounded, one
    /// line, no escape sequences): much of it comes from the plugin.
    pub fn new(plugin: &str, operation: &str, kind: ErrorKind) -> Self {
        ConnectorError {
            plugin: plugin_text::clean_to(plugin, 256),
            operation: operation.to_string(),
            kind: kind.map_text(plugin_text::clean),
        }
    }

    /// Whether the same call may succeed later without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::RateLimited { .. }
                | ErrorKind::Transient(_)
                | ErrorKind::Timeout { .. }
                | ErrorKind::Busy { .. }
                | ErrorKind::Paused { .. }
        )
    }

    /// The delay the platform asked for, when it asked.
    pub fn retry_after(&self) -> Option<Duration> {
        match &self.kind {
            ErrorKind::RateLimited { retry_after, .. } => Some(*retry_after),
            ErrorKind::Paused { remaining, .. } => Some(*remaining),
            _ => None,
        }
    }

    /// Whether the plugin itself misbehaved (as opposed to the platform refusing).
    pub fn is_plugin_fault(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Trap { .. }
                | ErrorKind::CpuBudget { .. }
                | ErrorKind::MemoryLimit { .. }
                | ErrorKind::Load(_)
        )
    }
}

impl ErrorKind {
    /// The same error with `f` applied to every text it carries.
    pub fn map_text(self, f: impl Fn(&str) -> String) -> Self {
        match self {
            ErrorKind::Unauthorized(m) => ErrorKind::Unauthorized(f(&m)),
            ErrorKind::RateLimited { retry_after, message } => {
                ErrorKind::RateLimited { retry_after, message: f(&message) }
            }
            ErrorKind::NotFound(m) => ErrorKind::NotFound(f(&m)),
            ErrorKind::Invalid { field, message } => {
                ErrorKind::Invalid { field: f(&field), message: f(&message) }
            }
            ErrorKind::Transient(m) => ErrorKind::Transient(f(&m)),
            ErrorKind::Fatal(m) => ErrorKind::Fatal(f(&m)),
            ErrorKind::Trap { message, stderr } => {
                ErrorKind::Trap { message: f(&message), stderr: f(&stderr) }
            }
            ErrorKind::Load(m) => ErrorKind::Load(f(&m)),
            ErrorKind::Unsupported(m) => ErrorKind::Unsupported(f(&m)),
            ErrorKind::Busy { which } => ErrorKind::Busy { which: f(&which) },
            ErrorKind::Paused { remaining, reason } => ErrorKind::Paused { remaining, reason: f(&reason) },
            kind @ (ErrorKind::CpuBudget { .. }
            | ErrorKind::MemoryLimit { .. }
            | ErrorKind::Timeout { .. }) => kind,
        }
    }
}

impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "plugin `{}` {}: ", self.plugin, self.operation)?;
        match &self.kind {
            ErrorKind::Unauthorized(m) => write!(f, "unauthorized: {m} (reconnect the account)"),
            ErrorKind::RateLimited { retry_after, message } => {
                write!(f, "rate limited, retry after {} ms: {message}", retry_after.as_millis())
            }
            ErrorKind::NotFound(m) => write!(f, "not found: {m}"),
            ErrorKind::Invalid { field, message } => write!(f, "invalid `{field}`: {message}"),
            ErrorKind::Transient(m) => write!(f, "temporary failure: {m}"),
            ErrorKind::Fatal(m) => write!(f, "{m}"),
            ErrorKind::Trap { message, stderr } => {
                write!(f, "plugin crashed: {message}")?;
                let stderr = stderr.trim();
                if !stderr.is_empty() {
                    write!(f, "; plugin output: {stderr}")?;
                }
                Ok(())
            }
            ErrorKind::CpuBudget { budget } => {
                write!(f, "stopped after using its CPU budget of {} ms (endless loop?)", budget.as_millis())
            }
            ErrorKind::MemoryLimit { limit_bytes } => {
                write!(f, "stopped at its memory limit of {} MiB", limit_bytes / (1024 * 1024))
            }
            ErrorKind::Timeout { after } => {
                write!(f, "did not finish within {} ms", after.as_millis())
            }
            ErrorKind::Load(m) => write!(f, "cannot be loaded: {m}"),
            ErrorKind::Unsupported(m) => write!(f, "not supported: {m}"),
            ErrorKind::Busy { which } => {
                write!(f, "busy: no instance slot free ({which}); tried again shortly")
            }
            ErrorKind::Paused { remaining, reason } => write!(
                f,
                "paused as unhealthy for {} s more after repeated plugin failures; last: {reason}",
                remaining.as_secs().max(1)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_text_in_an_error_is_bounded_and_on_one_line() {
        let huge = format!("line one\n\u{1b}[32mfake line{}", "x".repeat(15 * 1024 * 1024));
        let error = ConnectorError::new("evil", "create-listing", ErrorKind::Fatal(huge));
        let shown = error.to_string();
        assert!(shown.len() < 2 * 1024 + 128, "{} bytes", shown.len());
        assert!(shown.starts_with("plugin `evil` create-listing: line one fake line"), "{}", &shown[..80]);
        assert!(!shown.contains(['\n', '\u{1b}']));
    }

    #[test]
    fn an_unsupported_operation_is_not_retried_and_not_the_plugins_fault() {
        let error = ConnectorError::new(
            "old",
            "activate-listing",
            ErrorKind::Unsupported("built for contract 0.1.0".into()),
        );
        assert!(!error.is_retryable());
        assert!(!error.is_plugin_fault());
        assert_eq!(
            error.to_string(),
            "plugin `old` activate-listing: not supported: built for contract 0.1.0"
        );
    }
}
