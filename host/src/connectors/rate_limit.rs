//! Per-connection token buckets: every HTTP request a plugin makes for one connection takes
//! a token first, so Crossdock stays under the platform's limit instead of collecting 429s.
//! Throttling the platform still answers with comes back as a typed error and is retried.

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// A token bucket refilled continuously at `rate` tokens per second, holding at most
/// `rate` tokens (one second's burst).
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    pub fn new(per_second: u32) -> Self {
        let rate = f64::from(per_second.max(1));
        TokenBucket { rate, state: Mutex::new((rate, Instant::now())) }
    }

    /// Waits until a token is free and takes it.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                let (tokens, last) = *state;
                let refilled = (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.rate);
                if refilled >= 1.0 {
                    *state = (refilled - 1.0, now);
                    return;
                }
                *state = (refilled, now);
                Duration::from_secs_f64((1.0 - refilled) / self.rate)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_bucket_lets_a_burst_through_then_paces_to_its_rate() {
        let bucket = TokenBucket::new(10);
        let start = Instant::now();
        for _ in 0..10 {
            bucket.acquire().await;
        }
        assert!(start.elapsed() < Duration::from_millis(1), "a second's burst passes at once");
        for _ in 0..20 {
            bucket.acquire().await;
        }
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(1990) && elapsed <= Duration::from_millis(2100),
            "{elapsed:?}"
        );
    }
}
