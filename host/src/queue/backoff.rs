//! Exponential backoff with full jitter, honouring a platform's retry-after.

use crate::connectors::ConnectorError;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { base: Duration::from_millis(500), max: Duration::from_secs(300) }
    }
}

impl Backoff {
    /// Delay before attempt `attempts + 1`; at least `retry_after` when the platform asked.
    pub fn delay(&self, attempts: i64, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let exp = 2u32.saturating_pow(u32::try_from(attempts.clamp(0, 30)).unwrap_or(30));
        let ceiling = self.base.saturating_mul(exp).min(self.max);
        let jittered = ceiling.mul_f64(jitter.clamp(0.0, 1.0)).max(self.base);
        retry_after.map_or(jittered, |r| r.max(jittered.min(r + self.base)))
    }
}

/// Attempts at one inline call (a store page, a SKU search) before the step gives up.
pub const INLINE_ATTEMPTS: i64 = 8;

/// Runs a connector call that a step cannot do without, waiting out throttling and
/// transient failures (at least the platform's retry-after, backing off exponentially) for up
/// to [`INLINE_ATTEMPTS`]; any other error, or the last one, is returned.
pub async fn retry_inline<T, F, Fut>(what: &str, mut call: F) -> Result<T, ConnectorError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ConnectorError>>,
{
    let backoff = Backoff { base: Duration::from_millis(200), max: Duration::from_secs(30) };
    let mut attempt = 0;
    loop {
        attempt += 1;
        match call().await {
            Err(e) if e.is_retryable() && attempt < INLINE_ATTEMPTS => {
                let delay = backoff.delay(attempt, e.retry_after(), 0.5);
                tracing::info!(error = %e, delay_ms = delay.as_millis() as u64, "{what} will be tried again");
                tokio::time::sleep(delay).await;
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_grows_exponentially_up_to_the_cap() {
        let b = Backoff { base: Duration::from_millis(100), max: Duration::from_secs(1) };
        assert_eq!(b.delay(1, None, 1.0), Duration::from_millis(200));
        assert_eq!(b.delay(3, None, 1.0), Duration::from_millis(800));
        assert_eq!(b.delay(10, None, 1.0), Duration::from_secs(1));
        assert_eq!(b.delay(3, None, 0.0), Duration::from_millis(100));
    }

    #[test]
    fn retry_after_is_never_undercut() {
        let b = Backoff::default();
        assert!(b.delay(1, Some(Duration::from_secs(7)), 0.1) >= Duration::from_secs(7));
    }
}
