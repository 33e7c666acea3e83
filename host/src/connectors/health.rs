//! Plugin health per connection: a connection whose plugin keeps crashing (traps, CPU or
//! memory limit, timeouts; not the platform's answers such as not-found or invalid) is
//! paused, with the last failure as its reason, for a pause that doubles each time it trips
//! again. While paused its calls fail at once as retryable, without running the plugin; when
//! the pause is over the next call runs, and one success makes it healthy again. Other
//! connections, even of the same plugin, are untouched.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// The most characters of the last failure kept as the reason.
const REASON_CHARS: usize = 1_000;

/// When a connection counts as unhealthy (`[plugins.health]` in the serve config).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct HealthPolicy {
    /// Plugin failures in a row that pause the connection.
    pub failures: u32,
    /// The first pause, ms; each further pause in a row doubles it.
    pub pause_ms: u64,
    /// The longest pause, ms.
    pub max_pause_ms: u64,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy { failures: 5, pause_ms: 30_000, max_pause_ms: 600_000 }
    }
}

impl HealthPolicy {
    pub fn check(&self) -> Result<(), String> {
        if self.failures == 0 {
            return Err("plugins.health.failures must be at least 1".into());
        }
        if self.max_pause_ms < self.pause_ms {
            return Err(format!(
                "plugins.health.max-pause-ms ({}) is below pause-ms ({})",
                self.max_pause_ms, self.pause_ms
            ));
        }
        Ok(())
    }
}

/// A connection's health as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct HealthReport {
    /// `healthy`, `failing` (failures in a row, not yet paused) or `paused`.
    pub state: &'static str,
    /// Plugin failures in a row.
    pub failures: u32,
    /// The last plugin failure, while not healthy.
    pub reason: Option<String>,
    /// When the pause ends (Unix ms), while paused.
    pub paused_until_ms: Option<i64>,
    /// Pauses in a row so far (the next one is twice as long).
    pub pauses: u32,
}

impl HealthReport {
    fn healthy() -> Self {
        HealthReport { state: "healthy", failures: 0, reason: None, paused_until_ms: None, pauses: 0 }
    }
}

#[derive(Debug, Default, Clone)]
struct Entry {
    failures: u32,
    reason: Option<String>,
    paused_until: Option<Instant>,
    pauses: u32,
}

/// Why a call was not run: the connection is paused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paused {
    pub remaining: Duration,
    pub reason: String,
}

/// Every connection's health in this process, by connection label (`channel 3`).
#[derive(Debug, Default)]
pub struct HealthBoard {
    policy: HealthPolicy,
    entries: Mutex<HashMap<String, Entry>>,
}

impl HealthBoard {
    pub fn new(policy: HealthPolicy) -> Self {
        HealthBoard { policy, entries: Mutex::default() }
    }

    /// Whether a call of `connection` may run now.
    pub fn admit(&self, connection: &str, now: Instant) -> Result<(), Paused> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(connection) {
            Some(Entry { paused_until: Some(until), reason, .. }) if *until > now => {
                Err(Paused { remaining: *until - now, reason: reason.clone().unwrap_or_default() })
            }
            _ => Ok(()),
        }
    }

    /// A call of `connection` ended without the plugin failing: healthy again.
    pub fn succeeded(&self, connection: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.remove(connection).is_some_and(|e| e.pauses > 0 || e.failures > 0) {
            tracing::info!(connection, "plugin healthy again");
        }
    }

    /// The plugin failed a call of `connection` (`reason`); pauses the connection when that
    /// makes `failures` in a row.
    pub fn failed(&self, connection: &str, reason: &str, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.entry(connection.to_string()).or_default();
        entry.failures = entry.failures.saturating_add(1);
        // Kept, shown and repeated in every paused call's error: a bounded excerpt is enough.
        entry.reason = Some(reason.chars().take(REASON_CHARS).collect());
        let tripped =
            entry.failures >= self.policy.failures && entry.paused_until.is_none_or(|until| until <= now);
        if tripped {
            let doubling = 2u64.saturating_pow(entry.pauses.min(30));
            let pause = Duration::from_millis(
                self.policy.pause_ms.saturating_mul(doubling).min(self.policy.max_pause_ms),
            );
            entry.paused_until = Some(now + pause);
            entry.pauses = entry.pauses.saturating_add(1);
            tracing::warn!(
                connection,
                failures = entry.failures,
                pause_ms = pause.as_millis() as u64,
                reason,
                "plugin unhealthy: connection paused"
            );
        }
    }

    /// `connection`'s health now.
    pub fn report(&self, connection: &str) -> HealthReport {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let Some(entry) = entries.get(connection) else {
            return HealthReport::healthy();
        };
        let now = Instant::now();
        let paused_until_ms = entry.paused_until.filter(|until| *until > now).map(|until| {
            let at = SystemTime::now() + (until - now);
            at.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
        });
        HealthReport {
            state: if paused_until_ms.is_some() { "paused" } else { "failing" },
            failures: entry.failures,
            reason: entry.reason.clone(),
            paused_until_ms,
            pauses: entry.pauses,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_that_keeps_failing_is_paused_longer_each_time_and_a_success_resets_it() {
        let board = HealthBoard::new(HealthPolicy { failures: 3, pause_ms: 1_000, max_pause_ms: 3_000 });
        let t0 = Instant::now();
        for _ in 0..2 {
            board.failed("channel 1", "plugin crashed: boom", t0);
        }
        assert!(board.admit("channel 1", t0).is_ok(), "two failures are not yet a pattern");
        board.failed("channel 1", "plugin crashed: boom", t0);
        let paused = board.admit("channel 1", t0).expect_err("paused after three");
        assert_eq!(paused.remaining, Duration::from_secs(1));
        assert!(paused.reason.contains("boom"));
        assert!(board.admit("channel 2", t0).is_ok(), "other connections are untouched");
        assert_eq!(board.report("channel 1").state, "paused");

        let t1 = t0 + Duration::from_secs(1);
        assert!(board.admit("channel 1", t1).is_ok(), "tried again once the pause is over");
        board.failed("channel 1", "plugin crashed: again", t1);
        assert_eq!(board.admit("channel 1", t1).expect_err("paused again").remaining, Duration::from_secs(2));
        let t2 = t1 + Duration::from_secs(2);
        board.failed("channel 1", "plugin crashed: again", t2);
        assert_eq!(
            board.admit("channel 1", t2).expect_err("capped").remaining,
            Duration::from_secs(3),
            "the pause doubles up to its cap"
        );

        board.succeeded("channel 1");
        assert!(board.admit("channel 1", t2).is_ok());
        assert_eq!(board.report("channel 1"), HealthReport::healthy());
    }
}
