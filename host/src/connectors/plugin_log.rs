//! A plugin's log lines into the host's tracing, tagged with plugin and connection: each
//! line cleaned and bounded (`plugin_text`), secrets redacted, and the volume capped per call
//! and per connection so a plugin cannot flood the host's logs. What is dropped is counted
//! and reported in one line when the call ends.

use super::plugin_text;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// Most lines one plugin call may log.
pub const LINES_PER_CALL: u32 = 1_000;
/// Lines per second one connection may log, all calls together, after a burst of
/// `LINES_BURST`.
pub const LINES_PER_SECOND: f64 = 100.0;
/// The burst a connection may log at once.
pub const LINES_BURST: f64 = 1_000.0;

/// Severity of a plugin's log line (the WIT `level` cases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// One connection's log allowance, shared by all its calls (a token bucket).
#[derive(Debug)]
pub(crate) struct LogBudget {
    state: Mutex<(f64, Instant)>,
}

impl Default for LogBudget {
    fn default() -> Self {
        LogBudget { state: Mutex::new((LINES_BURST, Instant::now())) }
    }
}

impl LogBudget {
    /// Takes one line's worth; false when the connection is over its rate.
    fn take(&self) -> bool {
        self.take_at(Instant::now())
    }

    fn take_at(&self, now: Instant) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (tokens, last) = *state;
        let tokens =
            (tokens + now.saturating_duration_since(last).as_secs_f64() * LINES_PER_SECOND).min(LINES_BURST);
        if tokens >= 1.0 {
            *state = (tokens - 1.0, now);
            true
        } else {
            *state = (tokens, now);
            false
        }
    }
}

/// One call's count of lines logged and dropped.
#[derive(Debug, Default)]
pub(crate) struct CallLog {
    pub logged: u32,
    pub dropped: u64,
}

/// Logs one plugin line (secret values, asked for only when it is kept, redacted), or counts
/// it as dropped.
pub(crate) fn log(
    plugin: &str,
    connection: &str,
    budget: &LogBudget,
    call: &mut CallLog,
    secrets: impl FnOnce() -> Vec<String>,
    level: Level,
    message: &str,
) {
    if call.logged >= LINES_PER_CALL || !budget.take() {
        call.dropped += 1;
        return;
    }
    call.logged += 1;
    let message = plugin_text::clean(&plugin_text::redact(message, &secrets()));
    match level {
        Level::Trace => tracing::trace!(plugin, connection, message),
        Level::Debug => tracing::debug!(plugin, connection, message),
        Level::Info => tracing::info!(plugin, connection, message),
        Level::Warn => tracing::warn!(plugin, connection, message),
        Level::Error => tracing::error!(plugin, connection, message),
    }
}

/// The one line that says a call's excess lines were dropped.
pub(crate) fn report_dropped(plugin: &str, connection: &str, operation: &str, call: &CallLog) {
    if call.dropped > 0 {
        tracing::warn!(
            plugin,
            connection,
            operation,
            dropped = call.dropped,
            logged = call.logged,
            "plugin log lines dropped: over {LINES_PER_CALL} per call or {LINES_PER_SECOND} per second per connection"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_cut_to_the_burst_and_counted() {
        let budget = LogBudget::default();
        let mut call = CallLog::default();
        for i in 0..240_000 {
            log("p", "c", &budget, &mut call, Vec::new, Level::Trace, &format!("line {i}"));
        }
        assert_eq!(u64::from(call.logged) + call.dropped, 240_000);
        assert!(call.logged <= LINES_PER_CALL, "{}", call.logged);
        assert!(call.dropped >= 239_000, "{}", call.dropped);
    }

    #[test]
    fn the_connection_refills_at_its_rate() {
        let budget = LogBudget::default();
        let start = budget.state.lock().expect("not poisoned").1;
        let taken = (0..5_000).filter(|_| budget.take_at(start)).count();
        assert_eq!(taken, LINES_BURST as usize);
        let later = start + std::time::Duration::from_secs(2);
        let taken = (0..5_000).filter(|_| budget.take_at(later)).count();
        assert_eq!(taken, 2 * LINES_PER_SECOND as usize);
    }
}
