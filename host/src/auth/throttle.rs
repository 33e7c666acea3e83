//! Login throttling: a few failed attempts per minute per account (email) and per client
//! address; beyond that the login answers 429 without checking the password.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Failed attempts allowed per key within `WINDOW`.
pub const MAX_FAILURES: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(60);
/// Keys remembered at most; the oldest are forgotten past it (memory stays bounded).
const MAX_KEYS: usize = 10_000;

/// Failed logins per key (`email:…`, `ip:…`), in memory: one process's view, which is the
/// point (slowing guessing), not an account lock-out.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginThrottle {
    /// Whether any of `keys` has used up its attempts.
    pub fn blocked(&self, keys: &[String]) -> bool {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter().any(|key| match failures.get_mut(key) {
            Some(times) => {
                times.retain(|t| now.duration_since(*t) < WINDOW);
                times.len() >= MAX_FAILURES
            }
            None => false,
        })
    }

    /// Counts a failed attempt against each of `keys`.
    pub fn failed(&self, keys: &[String]) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= MAX_KEYS {
            failures.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        }
        for key in keys {
            let times = failures.entry(key.clone()).or_default();
            times.push_back(now);
            while times.len() > MAX_FAILURES {
                times.pop_front();
            }
        }
    }

    /// Forgets the account's failures after a successful login (the address's stay).
    pub fn succeeded(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn attempts_beyond_the_limit_wait_for_the_window_to_pass() {
        let throttle = LoginThrottle::default();
        let keys = vec!["email:ann@example.com".to_string()];
        for _ in 0..MAX_FAILURES {
            assert!(!throttle.blocked(&keys));
            throttle.failed(&keys);
        }
        assert!(throttle.blocked(&keys));
        assert!(!throttle.blocked(&["email:bob@example.com".to_string()]), "per key");
        tokio::time::advance(WINDOW).await;
        assert!(!throttle.blocked(&keys), "a minute later the account may try again");
    }
}
